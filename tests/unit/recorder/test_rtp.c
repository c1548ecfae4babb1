/* RTP statistics on the real captures in tests/data/pcap, compared stream
 * by stream with the tshark figures in its REFERENCE.md. */
#include "recorder/recorder.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STREAMS 32

struct stream {
    struct pkt_addr src, dst;
    uint16_t sport, dport;
    uint32_t ssrc;
    struct rtp_stats st;
};

struct ref {
    char src[64], dst[64];
    unsigned sport, dport, ssrc;
    char payload[32];
    long pkts, lost;
    double min_delta, mean_delta, max_delta, min_jitter, mean_jitter, max_jitter;
};

/* Streams as tshark's heuristic sees them: version-2 RTP on ports above 1023. */
static int collect(const char *path, struct stream *v)
{
    struct pcapin *in;
    struct es_err e;
    cr_assert_eq(pcapin_open_file(path, &in, &e), 0, "%s", e.msg);
    struct pcapin_packet pk;
    int n = 0;
    while (pcapin_next(in, &pk, &e) == 1) {
        struct pkt p;
        struct rtp_hdr h;
        if (pkt_decode(pk.linktype, pk.data, pk.len, &p) || p.proto != PKT_UDP || p.fragment ||
            p.sport < 1024 || p.dport < 1024 || p.sport == 5060 || p.dport == 5060 ||
            rtp_parse(p.payload, p.payload_len, &h))
            continue;
        int k = 0;
        while (k < n && !(v[k].ssrc == h.ssrc && v[k].sport == p.sport && v[k].dport == p.dport &&
                          !memcmp(&v[k].src, &p.src, sizeof p.src)))
            k++;
        if (k == n) {
            cr_assert_lt(n, MAX_STREAMS);
            v[k].src = p.src;
            v[k].dst = p.dst;
            v[k].sport = p.sport;
            v[k].dport = p.dport;
            v[k].ssrc = h.ssrc;
            rtp_stats_init(&v[k].st, rtp_static_clock(h.pt));
            n++;
        }
        rtp_stats_add(&v[k].st, &h, rtp_static_clock(h.pt), (double)pk.ts_us / 1000.0);
    }
    pcapin_close(in);
    return n;
}

/* The stream lines of one "## file" section of REFERENCE.md. */
static int reference(const char *file, struct ref *r)
{
    FILE *f = fopen(EARSHOT_TEST_DATA "/pcap/REFERENCE.md", "r");
    cr_assert_not_null(f, "tests/data/pcap/REFERENCE.md is missing");
    char line[512], want[128];
    snprintf(want, sizeof want, "## %s", file);
    int in = 0, n = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "## ", 3))
            in = !strncmp(line, want, strlen(want));
        double t0, t1, pct;
        struct ref x;
        if (in &&
            sscanf(line,
                   " %lf %lf %63s %u %63s %u 0x%X %31s %ld %ld (%lf%%) %lf %lf %lf %lf %lf %lf",
                   &t0, &t1, x.src, &x.sport, x.dst, &x.dport, &x.ssrc, x.payload, &x.pkts, &x.lost,
                   &pct, &x.min_delta, &x.mean_delta, &x.max_delta, &x.min_jitter, &x.mean_jitter,
                   &x.max_jitter) == 17)
            r[n++] = x;
    }
    fclose(f);
    return n;
}

static void compare(const char *file)
{
    char path[512];
    snprintf(path, sizeof path, EARSHOT_TEST_DATA "/pcap/%s", file);
    struct stream *v = calloc(MAX_STREAMS, sizeof *v);
    struct ref r[MAX_STREAMS];
    int n = collect(path, v), nr = reference(file, r);
    cr_assert_gt(nr, 0, "no reference streams for %s", file);
    cr_assert_eq(n, nr, "%s: %d streams, tshark saw %d", file, n, nr);
    for (int i = 0; i < nr; i++) {
        int k = 0;
        while (k < n && v[k].ssrc != r[i].ssrc)
            k++;
        cr_assert_lt(k, n, "%s: stream 0x%08X not found", file, r[i].ssrc);
        struct rtp_stats *s = &v[k].st;
        rtp_stats_end(s);
        char src[64];
        pkt_addr_str(&v[k].src, src, sizeof src);
        cr_assert_str_eq(src, r[i].src);
        cr_assert_eq(v[k].sport, r[i].sport);
        cr_assert_eq((long)s->packets, r[i].pkts, "%s packets", file);
        cr_assert_eq((long)s->lost, r[i].lost, "%s lost %ld vs %ld", file, (long)s->lost,
                     r[i].lost);
        cr_assert_float_eq(s->min_delta_ms, r[i].min_delta, 0.0015, "%s min delta %f", file,
                           s->min_delta_ms);
        cr_assert_float_eq(s->mean_delta_ms, r[i].mean_delta, 0.0015, "%s mean delta %f", file,
                           s->mean_delta_ms);
        cr_assert_float_eq(s->max_delta_ms, r[i].max_delta, 0.0015, "%s max delta %f", file,
                           s->max_delta_ms);
        if (r[i].min_jitter < 0) { /* tshark: clock unknown */
            cr_assert_eq(s->clock, 0, "%s: clock should be unknown", file);
            continue;
        }
        cr_assert_float_eq(s->max_jitter_ms, r[i].max_jitter, 0.0015, "%s max jitter %f vs %f",
                           file, s->max_jitter_ms, r[i].max_jitter);
        cr_assert_float_eq(s->mean_jitter_ms, r[i].mean_jitter, 0.0015, "%s mean jitter %f vs %f",
                           file, s->mean_jitter_ms, r[i].mean_jitter);
    }
    free(v);
}

Test(rtp_tshark, g711a_rtp_only)
{
    compare("g711a-rtp-only.pcap");
}
Test(rtp_tshark, sip_rtp_g722)
{
    compare("sip-rtp-g722.pcap");
}
Test(rtp_tshark, aaa)
{
    compare("aaa.pcap");
}
Test(rtp_tshark, dtmf_rtp_only)
{
    compare("dtmf-2833-digit1-rtp-only.pcap");
}
