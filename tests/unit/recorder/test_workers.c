/* The recorder's workers: a call made of raw IPv4 packets (SIP INVITE, 200,
 * ACK, a minute of G.711 both ways, BYE) goes through the whole pipeline.
 * With a queue too small for the burst, live-capture mode drops audio and
 * counts every packet it dropped, in the totals and on the call; file mode
 * waits instead and loses nothing; threads and inline give the same call. */
#include "recorder/record_int.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PACKETS 3000 /* per side: 60 s of 20 ms frames */

static char dir[64];
static struct ingest_session *sess;
static struct catalog *cat;

static void setup(void)
{
    cr_assert_geq(sodium_init(), 0);
    es_log_set_level(ES_LOG_QUIET);
    snprintf(dir, sizeof dir, "/tmp/earshot-workers-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    struct ingest_opts o = {.data_dir = dir,
                            .bitrate_mono = 16000,
                            .bitrate_stereo = 24000,
                            .complexity = -1,
                            .leg_suffix = {"-in", "-out"},
                            .source = "recorder"};
    struct es_err e;
    cr_assert_eq(ingest_session_open(&o, &sess, &e), 0, "%s", e.msg);
    cr_assert_eq(catalog_open(dir, &cat, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
    catalog_close(cat);
    ingest_session_close(sess);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(workers, .init = setup, .fini = teardown);

static uint16_t csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* One raw IPv4/UDP packet from 10.0.0.<a>:sport to 10.0.0.<b>:dport. */
static size_t udp(uint8_t *out, int a, uint16_t sport, int b, uint16_t dport, const void *payload,
                  size_t len)
{
    size_t total = 28 + len;
    memset(out, 0, 28);
    out[0] = 0x45;
    out[2] = (uint8_t)(total >> 8), out[3] = (uint8_t)total;
    out[8] = 64, out[9] = 17;
    out[12] = 10, out[15] = (uint8_t)a;
    out[16] = 10, out[19] = (uint8_t)b;
    uint16_t c = csum(out, 20);
    out[10] = (uint8_t)(c >> 8), out[11] = (uint8_t)c;
    out[20] = (uint8_t)(sport >> 8), out[21] = (uint8_t)sport;
    out[22] = (uint8_t)(dport >> 8), out[23] = (uint8_t)dport;
    out[24] = (uint8_t)((8 + len) >> 8), out[25] = (uint8_t)(8 + len);
    memcpy(out + 28, payload, len);
    return total;
}

static void sip(struct recorder *r, int64_t t, bool from_caller, const char *first,
                const char *cseq, bool to_tag, int sdp_port)
{
    char sdp[256] = "", msg[1500];
    if (sdp_port)
        snprintf(sdp, sizeof sdp,
                 "v=0\r\no=- 1 1 IN IP4 10.0.0.%d\r\ns=-\r\nc=IN IP4 10.0.0.%d\r\nt=0 0\r\n"
                 "m=audio %d RTP/AVP 0\r\n",
                 from_caller ? 1 : 2, from_caller ? 1 : 2, sdp_port);
    int n = snprintf(msg, sizeof msg,
                     "%s\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKw\r\n"
                     "From: <sip:+4930111@pbx>;tag=caller\r\nTo: <sip:600@pbx>%s\r\n"
                     "Call-ID: workers-test\r\nCSeq: %s\r\nContent-Length: %zu\r\n\r\n%s",
                     first, to_tag ? ";tag=callee" : "", cseq, strlen(sdp), sdp);
    uint8_t pk[1600];
    size_t len = from_caller ? udp(pk, 1, 5060, 2, 5060, msg, (size_t)n)
                             : udp(pk, 2, 5060, 1, 5060, msg, (size_t)n);
    recorder_packet(r, LINK_RAW, pk, len, t);
}

/* Feeds the call as fast as the recorder takes it; returns its counters. */
static void run(const struct recorder_opts *ro, struct recorder_counters *c)
{
    struct recorder *r;
    struct es_err e;
    cr_assert_eq(recorder_new(ro, sess, cat, &r, &e), 0, "%s", e.msg);
    int64_t t = 1700000000000000;
    sip(r, t, true, "INVITE sip:600@pbx SIP/2.0", "1 INVITE", false, 4000);
    sip(r, t += 1000, false, "SIP/2.0 200 OK", "1 INVITE", true, 5000);
    sip(r, t += 1000, true, "ACK sip:600@pbx SIP/2.0", "1 ACK", true, 0);
    uint8_t rtp[172], pk[256];
    for (int i = 0; i < PACKETS; i++) {
        for (int side = 0; side < 2; side++) {
            memset(rtp, 0, sizeof rtp);
            rtp[0] = 0x80;
            rtp[2] = (uint8_t)(i >> 8), rtp[3] = (uint8_t)i;
            uint32_t ts = (uint32_t)i * 160;
            rtp[4] = (uint8_t)(ts >> 24), rtp[5] = (uint8_t)(ts >> 16);
            rtp[6] = (uint8_t)(ts >> 8), rtp[7] = (uint8_t)ts;
            rtp[11] = (uint8_t)(side + 1); /* SSRC */
            for (int k = 0; k < 160; k++)  /* a loud square wave, different per side */
                rtp[12 + k] = (uint8_t)(((k / (side ? 4 : 10)) & 1) ? 0x80 : 0x00);
            size_t len = side ? udp(pk, 2, 5000, 1, 4000, rtp, sizeof rtp)
                              : udp(pk, 1, 4000, 2, 5000, rtp, sizeof rtp);
            recorder_packet(r, LINK_RAW, pk, len, t + (int64_t)i * 20000);
        }
    }
    t += (int64_t)PACKETS * 20000;
    sip(r, t, true, "BYE sip:600@pbx SIP/2.0", "2 BYE", true, 0);
    recorder_finish(r, t + 1000000);
    recorder_counters(r, c);
    recorder_free(r);
}

struct got {
    int n;
    struct archive_call call;
    bool has_rec;
};

static int one(void *ud, const struct archive_call *k, const struct archive_recording *rec)
{
    struct got *g = ud;
    g->n++;
    g->call = *k;
    g->has_rec = rec != NULL && rec->path[0];
    return 0;
}

static struct got catalogued(void)
{
    struct got g = {0};
    struct catalog_filter f = {0};
    cr_assert_eq(catalog_list(cat, &f, one, &g), 0);
    return g;
}

static json_int_t overload_of(const struct archive_call *k)
{
    json_t *d = json_loads(k->details, 0, NULL);
    cr_assert_not_null(d, "details: %s", k->details);
    json_t *v = json_object_get(d, "overload_dropped");
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
    json_decref(d);
    return n;
}

Test(workers, live_overload_is_counted_on_the_call_and_in_total)
{
    struct recorder_opts ro = {.source_ref = "test", .workers = 1, .queue_bytes = 65536};
    struct recorder_counters c;
    run(&ro, &c);
    cr_assert_eq(c.rtp_packets, 2 * PACKETS);
    cr_assert_gt(c.audio_dropped, 0, "a 64 KiB queue cannot hold a minute of audio sent at once");
    cr_assert_lt(c.audio_dropped, 2 * PACKETS, "the queue took some");
    cr_assert_eq(c.calls_archived, 1, "the call is archived with its gaps");
    struct got g = catalogued();
    cr_assert_eq(g.n, 1);
    cr_assert(g.has_rec);
    cr_assert_eq(overload_of(&g.call), (json_int_t)c.audio_dropped,
                 "the call says how much of it was dropped");
    /* the call still spans its minute: the drops became silence, not a shorter file */
    cr_assert_geq(g.call.duration_ms, PACKETS * 20 - 40, "%lld", (long long)g.call.duration_ms);
    cr_assert_leq(g.call.duration_ms, PACKETS * 20 + 400, "%lld", (long long)g.call.duration_ms);
}

Test(workers, file_mode_waits_and_loses_nothing)
{
    struct recorder_opts ro = {
        .source_ref = "test", .workers = 1, .queue_bytes = 65536, .wait_when_full = true};
    struct recorder_counters c;
    run(&ro, &c);
    cr_assert_eq(c.audio_dropped, 0);
    cr_assert_gt(c.queue_waits, 0, "the burst had to wait for the worker");
    cr_assert_eq(c.calls_archived, 1);
    struct got g = catalogued();
    cr_assert_eq(overload_of(&g.call), 0);
    cr_assert_geq(g.call.duration_ms, PACKETS * 20 - 40, "%lld", (long long)g.call.duration_ms);
}

Test(workers, threads_and_inline_make_the_same_call)
{
    struct recorder_opts inl = {.source_ref = "test", .workers = -1};
    struct recorder_counters c;
    run(&inl, &c);
    struct got a = catalogued();
    cr_assert_eq(c.calls_archived, 1);
    /* the same dialog again is recognised as archived, whichever way it runs */
    struct recorder_opts thr = {.source_ref = "test", .workers = 3, .wait_when_full = true};
    run(&thr, &c);
    cr_assert_eq(c.calls_skipped, 1, "same call, same identity");
    cr_assert_eq(c.calls_archived, 0);
    struct got b = catalogued();
    cr_assert_eq(b.n, 1);
    cr_assert_str_eq(a.call.id, b.call.id);
}
