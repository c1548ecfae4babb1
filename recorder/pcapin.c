/* Packet input through libpcap: pcap and pcapng files now, live interfaces
 * through the same calls, so both take one code path. */
#include "recorder/recorder.h"

#include <pcap/pcap.h>
#include <stdlib.h>

struct pcapin {
    pcap_t *p;
    int linktype;
};

int pcapin_open_file(const char *path, struct pcapin **out, struct es_err *err)
{
    *out = NULL;
    char eb[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, eb);
    if (!p)
        return es_seterr(err, ES_EFORMAT, "%s: %s", path, eb);
    struct pcapin *in = calloc(1, sizeof *in);
    if (!in) {
        pcap_close(p);
        return ES_ENOMEM;
    }
    in->p = p;
    in->linktype = pcap_datalink(p);
    *out = in;
    return 0;
}

int pcapin_next(struct pcapin *in, struct pcapin_packet *pkt, struct es_err *err)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    int r = pcap_next_ex(in->p, &h, &data);
    if (r == PCAP_ERROR_BREAK)
        return 0;
    if (r < 0)
        return es_seterr(err, ES_EFORMAT, "capture: %s", pcap_geterr(in->p));
    if (r == 0) { /* live timeout: nothing this time */
        pkt->len = 0;
        pkt->data = NULL;
        return 1;
    }
    pkt->ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
    pkt->data = data;
    pkt->len = h->caplen;
    pkt->wire_len = h->len;
    pkt->linktype = in->linktype;
    return 1;
}

void pcapin_close(struct pcapin *in)
{
    if (!in)
        return;
    pcap_close(in->p);
    free(in);
}
