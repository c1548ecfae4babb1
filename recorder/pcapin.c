/* Packet input through libpcap: pcap and pcapng files now, live interfaces
 * through the same calls, so both take one code path. */
#include "recorder/recorder.h"

#include <pcap/pcap.h>
#include <poll.h>
#include <stdlib.h>

struct pcapin {
    pcap_t *p;
    int linktype;
    bool live;
    int fd; /* live: what poll waits on, so a quiet line still lets time pass */
};

/* Takes ownership of p. */
static int wrap(pcap_t *p, bool live, struct pcapin **out)
{
    struct pcapin *in = calloc(1, sizeof *in);
    if (!in) {
        pcap_close(p);
        return ES_ENOMEM;
    }
    in->p = p;
    in->linktype = pcap_datalink(p);
    in->live = live;
    in->fd = live ? pcap_get_selectable_fd(p) : -1;
    /* with TPACKET_V3 a line with no packets at all never retires a block,
     * and a blocking read would wait forever: calls could not end on their
     * RTP timeout. Non-blocking reads and our own poll keep time moving. */
    char eb[PCAP_ERRBUF_SIZE];
    if (live && in->fd >= 0 && pcap_setnonblock(p, 1, eb) < 0)
        in->fd = -1; /* stays blocking: the kernel's block timeout is all we have */
    *out = in;
    return 0;
}

int pcapin_open_file(const char *path, struct pcapin **out, struct es_err *err)
{
    *out = NULL;
    char eb[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, eb);
    if (!p)
        return es_seterr(err, ES_EFORMAT, "%s: %s", path, eb);
    return wrap(p, false, out);
}

int pcapin_open_live(const char *iface, const char *filter, int buffer_mb, struct pcapin **out,
                     struct es_err *err)
{
    *out = NULL;
    char eb[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(iface, eb);
    if (!p)
        return es_seterr(err, ES_EINVAL, "%s: %s", iface, eb);
    /* a large kernel ring (TPACKET_V3 on Linux) absorbs bursts while calls are
     * written; a short timeout lets idle calls end on time */
    pcap_set_snaplen(p, 65535);
    pcap_set_promisc(p, 1);
    pcap_set_buffer_size(p, (buffer_mb > 0 ? buffer_mb : 64) << 20);
    pcap_set_timeout(p, 100);
    int r = pcap_activate(p);
    if (r < 0) {
        es_seterr(err, ES_EINVAL, "%s: %s", iface, pcap_geterr(p));
        pcap_close(p);
        return ES_EINVAL;
    }
    if (filter && *filter) {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
            pcap_setfilter(p, &prog) < 0) {
            es_seterr(err, ES_EINVAL, "filter \"%s\": %s", filter, pcap_geterr(p));
            pcap_close(p);
            return ES_EINVAL;
        }
        pcap_freecode(&prog);
    }
    return wrap(p, true, out);
}

int pcapin_drops(struct pcapin *in, uint64_t *received, uint64_t *dropped, uint64_t *if_dropped)
{
    struct pcap_stat st;
    if (!in->live || pcap_stats(in->p, &st) < 0)
        return ES_EUNSUPP;
    *received = st.ps_recv;
    *dropped = st.ps_drop;
    *if_dropped = st.ps_ifdrop;
    return 0;
}

void pcapin_break(struct pcapin *in)
{
    pcap_breakloop(in->p);
}

int pcapin_next(struct pcapin *in, struct pcapin_packet *pkt, struct es_err *err)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    int r = pcap_next_ex(in->p, &h, &data);
    if (r == 0 && in->live && in->fd >= 0) {
        struct pollfd pfd = {.fd = in->fd, .events = POLLIN};
        poll(&pfd, 1, 100); /* a signal or 100 ms of quiet: back to the caller */
    }
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
