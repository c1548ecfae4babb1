/* The sender of bench/capture's live part: plays a capture file onto an
 * interface (the loopback) at the pace it was recorded, with pcap_inject.
 * It reports how far behind the recorded pace it ever fell, so a run where
 * the sender itself could not keep up is known as such.
 * usage: replay IFACE FILE   ->  "packets=N seconds=S max_late_ms=L retried=R failed=F" */
#include <pcap/pcap.h>
#include <stdio.h>
#include <time.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char eb[PCAP_ERRBUF_SIZE];
    if (argc != 3) {
        fprintf(stderr, "usage: replay IFACE FILE\n");
        return 2;
    }
    pcap_t *in = pcap_open_offline(argv[2], eb);
    if (!in) {
        fprintf(stderr, "replay: %s\n", eb);
        return 1;
    }
    pcap_t *out = pcap_open_live(argv[1], 65535, 0, 100, eb);
    if (!out) {
        fprintf(stderr, "replay: %s\n", eb);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned long n = 0, failed = 0, retried = 0;
    double t0 = 0, start = now_s(), max_late = 0;
    while (pcap_next_ex(in, &h, &d) == 1) {
        double at = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
        if (!n)
            t0 = at;
        double due = start + (at - t0), t = now_s();
        while (t < due) { /* sub-millisecond pacing: sleeping is too coarse */
            if (due - t > 0.002) {
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
            }
            t = now_s();
        }
        if (t - due > max_late)
            max_late = t - due;
        /* the socket's send buffer can be full for a moment: retry, counted */
        int tries = 0;
        while (pcap_inject(out, d, h->caplen) < 0 && ++tries < 1000) {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
        retried += tries > 0;
        failed += tries == 1000;
        n++;
    }
    printf("packets=%lu seconds=%.3f max_late_ms=%.1f retried=%lu failed=%lu\n", n,
           now_s() - start, max_late * 1000, retried, failed);
    pcap_close(in);
    pcap_close(out);
    return failed ? 1 : 0;
}
