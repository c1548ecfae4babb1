/* The anchor of bench/capture: a bare libpcap pcap_next_ex loop over a file,
 * touching every packet's bytes once. Parsing and tracking calls cannot be
 * faster than reading the packets.  usage: pcap_loop FILE  ->  "packets=N seconds=S" */
#include <pcap/pcap.h>
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv)
{
    char eb[PCAP_ERRBUF_SIZE];
    if (argc != 2) {
        fprintf(stderr, "usage: pcap_loop FILE\n");
        return 2;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pcap_t *p = pcap_open_offline(argv[1], eb);
    if (!p) {
        fprintf(stderr, "pcap_loop: %s\n", eb);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned long n = 0, sum = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        n++;
        for (bpf_u_int32 i = 0; i < h->caplen; i += 64)
            sum += d[i];
    }
    pcap_close(p);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("packets=%lu seconds=%.3f check=%lu\n", n,
           (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, sum & 1);
    return 0;
}
