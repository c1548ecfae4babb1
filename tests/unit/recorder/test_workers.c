/* The recorder's workers: a call made of raw IPv4 packets (SIP INVITE, 200,
 * ACK, a minute of G.711 both ways, BYE) goes through the whole pipeline.
 * With a queue too small for the burst, live capture spills to disk and
 * loses nothing (the audio equals the inline run's, sample for sample, even
 * with a worker slowed down); with --overload drop it drops audio and counts
 * every packet it dropped, in the totals and on the call; below the spool's
 * floor it drops and counts too; file mode waits; threads and inline give
 * the same call. */
#include "recorder/record_int.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define PACKETS 3000 /* per side: 60 s of 20 ms frames */

static char dir[64];
static struct ingest_session *sess;
static struct catalog *cat;

static void open_dir(void)
{
    struct ingest_opts o = ingest_opts_default(dir, "recorder");
    struct es_err e;
    cr_assert_eq(ingest_session_open(&o, &sess, &e), 0, "%s", e.msg);
    cr_assert_eq(catalog_open(dir, &cat, &e), 0, "%s", e.msg);
}

static void close_dir(void)
{
    catalog_close(cat);
    ingest_session_close(sess);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static void setup(void)
{
    cr_assert_geq(sodium_init(), 0);
    es_log_set_level(ES_LOG_QUIET);
    snprintf(dir, sizeof dir, "/tmp/earshot-workers-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    open_dir();
}

/* A second, empty archive in place of the first. */
static void fresh_dir(void)
{
    close_dir();
    cr_assert_eq(mkdir(dir, 0700), 0);
    open_dir();
}

static void teardown(void)
{
    close_dir();
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

/* Feeds the first `upto` payload pairs of the call (all: and the BYE). */
static struct recorder *feed(const struct recorder_opts *ro, int upto, int burst, int pause_ms);

/* Feeds the call as fast as the recorder takes it, or in bursts of `burst`
 * packets `pause_ms` apart; returns its counters. */
static void run_paced(const struct recorder_opts *ro, struct recorder_counters *c, int burst,
                      int pause_ms)
{
    struct recorder *r = feed(ro, PACKETS, burst, pause_ms);
    recorder_finish(r, 1700000000000000 + 2000 + (int64_t)PACKETS * 20000 + 1000000);
    recorder_counters(r, c);
    recorder_free(r);
}

static struct recorder *feed(const struct recorder_opts *ro, int upto, int burst, int pause_ms)
{
    struct recorder *r;
    struct es_err e;
    cr_assert_eq(recorder_new(ro, sess, cat, &r, &e), 0, "%s", e.msg);
    int64_t t = 1700000000000000;
    sip(r, t, true, "INVITE sip:600@pbx SIP/2.0", "1 INVITE", false, 4000);
    sip(r, t += 1000, false, "SIP/2.0 200 OK", "1 INVITE", true, 5000);
    sip(r, t += 1000, true, "ACK sip:600@pbx SIP/2.0", "1 ACK", true, 0);
    uint8_t rtp[172], pk[256];
    for (int i = 0; i < upto; i++) {
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
        if (burst && i % burst == burst - 1) {
            struct timespec ts = {0, pause_ms * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    if (upto == PACKETS)
        sip(r, t + (int64_t)PACKETS * 20000, true, "BYE sip:600@pbx SIP/2.0", "2 BYE", true, 0);
    return r;
}

static void run(const struct recorder_opts *ro, struct recorder_counters *c)
{
    run_paced(ro, c, 0, 0);
}

struct got {
    int n;
    struct archive_call call;
    bool has_rec;
    char path[600];
};

static int one(void *ud, const struct archive_call *k, const struct archive_recording *rec)
{
    struct got *g = ud;
    g->n++;
    g->call = *k;
    g->has_rec = rec != NULL && rec->path[0];
    if (g->has_rec)
        snprintf(g->path, sizeof g->path, "%s/%s", dir, rec->path);
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
    struct recorder_opts ro = {
        .source_ref = "test", .workers = 1, .queue_bytes = 65536, .overload = REC_OVERLOAD_DROP};
    struct recorder_counters c;
    run(&ro, &c);
    cr_assert_eq(c.rtp_packets, 2 * PACKETS);
    cr_assert_eq(c.spooled_bytes, 0, "drop means no spill");
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
        .source_ref = "test", .workers = 1, .queue_bytes = 65536, .overload = REC_OVERLOAD_WAIT};
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
    struct recorder_opts thr = {.source_ref = "test", .workers = 3, .overload = REC_OVERLOAD_WAIT};
    run(&thr, &c);
    cr_assert_eq(c.calls_skipped, 1, "same call, same identity");
    cr_assert_eq(c.calls_archived, 0);
    struct got b = catalogued();
    cr_assert_eq(b.n, 1);
    cr_assert_str_eq(a.call.id, b.call.id);
}

/* The call's recording, decoded: interleaved float frames. */
static float *decoded(const struct got *g, size_t *frames)
{
    struct audio_src *a;
    struct es_err e;
    cr_assert(g->has_rec);
    cr_assert_eq(audio_open(g->path, &a, &e), 0, "%s", e.msg);
    int ch = audio_info(a)->channels;
    cr_assert_eq(ch, 2);
    size_t cap = 1 << 20, n = 0;
    float *pcm = malloc(cap * 2 * sizeof *pcm);
    long k;
    while ((k = audio_read(a, pcm + n * 2, 4096 < cap - n ? 4096 : cap - n, &e)) > 0) {
        n += (size_t)k;
        if (cap - n < 4096) {
            cap *= 2;
            pcm = realloc(pcm, cap * 2 * sizeof *pcm);
            cr_assert_not_null(pcm);
        }
    }
    cr_assert_eq(k, 0, "%s", e.msg);
    audio_close(a);
    *frames = n;
    return pcm;
}

/* Files left in DIR/spool/ (the spill directories and what is in them). */
static int spool_files(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/spool", dir);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

Test(workers, live_overload_spills_and_loses_nothing_even_with_a_slow_worker)
{
    /* the reference: every message handled at once, no queue at all */
    struct recorder_opts inl = {.source_ref = "test", .workers = -1};
    struct recorder_counters c;
    run(&inl, &c);
    struct got a = catalogued();
    size_t na;
    float *ref = decoded(&a, &na);
    fresh_dir();
    /* a 64 KiB queue and a worker that takes 100 us more per payload: the
     * minute of audio sent at once cannot fit, and the worker falls behind */
    struct recorder_opts ro = {
        .source_ref = "test", .workers = 1, .queue_bytes = 65536, .worker_delay_us = 50};
    /* in bursts of 10 s of audio (1,000 payloads, about 0.2 s of the slowed
     * worker's time) with time to catch up between them: the queue spills,
     * is read back, the ring takes over again, and spills again */
    run_paced(&ro, &c, 500, 500);
    cr_assert_eq(c.audio_dropped, 0, "nothing dropped: the queue spilled");
    cr_assert_gt(c.spooled_bytes, 100000, "most of the minute went through the spool: %llu",
                 (unsigned long long)c.spooled_bytes);
    cr_assert_geq(c.spills, 4, "a spill per burst: %llu", (unsigned long long)c.spills);
    cr_assert_eq(c.spool_errors, 0);
    cr_assert_eq(c.spool_backlog_bytes, 0, "read to its end");
    cr_assert_neq(c.caught_up_us, 0, "the worker caught up");
    cr_assert_eq(c.calls_archived, 1);
    struct got b = catalogued();
    cr_assert_eq(overload_of(&b.call), 0);
    size_t nb;
    float *got = decoded(&b, &nb);
    cr_assert_eq(nb, na, "same length: %zu and %zu frames", nb, na);
    size_t differ = 0;
    for (size_t i = 0; i < 2 * na; i++)
        differ += ref[i] != got[i];
    cr_assert_eq(differ, 0, "%zu of %zu samples differ from the unslowed run", differ, 2 * na);
    free(ref);
    free(got);
    cr_assert_eq(spool_files(), 0, "the spill is removed once read");
}

Test(workers, the_spool_floor_drops_audio_counts_it_and_keeps_the_call)
{
    /* a floor no disk has above it: every spilled payload is refused */
    struct recorder_opts ro = {.source_ref = "test",
                               .workers = 1,
                               .queue_bytes = 65536,
                               .worker_delay_us = 20,
                               .spool_floor = (uint64_t)1 << 62};
    struct recorder_counters c;
    run(&ro, &c);
    cr_assert_gt(c.spool_floor_drops, 0);
    cr_assert_eq(c.audio_dropped, c.spool_floor_drops, "the floor is the only loss");
    cr_assert_eq(c.calls_archived, 1, "the call's end went through the spool all the same");
    struct got g = catalogued();
    cr_assert_eq(overload_of(&g.call), (json_int_t)c.audio_dropped);
    cr_assert_geq(g.call.duration_ms, PACKETS * 20 - 40, "%lld", (long long)g.call.duration_ms);
    cr_assert_eq(spool_files(), 0);
}

Test(workers, a_dead_recorders_spill_is_removed_and_a_running_ones_kept)
{
    char stale[128], live[128], path[200];
    snprintf(stale, sizeof stale, "%s/spool", dir);
    cr_assert_eq(mkdir(stale, 0700), 0);
    snprintf(stale, sizeof stale, "%s/spool/spill-dead00", dir);
    snprintf(live, sizeof live, "%s/spool/spill-live00", dir);
    cr_assert_eq(mkdir(stale, 0700), 0);
    cr_assert_eq(mkdir(live, 0700), 0);
    snprintf(path, sizeof path, "%s/worker-0.1.spool", stale);
    FILE *f = fopen(path, "w");
    fputs("left by a recorder that was killed", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/lock", live);
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0, "held as a running recorder holds it");
    struct recorder_opts ro = {.source_ref = "test", .workers = 1};
    struct recorder *r;
    struct es_err e;
    cr_assert_eq(recorder_new(&ro, sess, cat, &r, &e), 0, "%s", e.msg);
    struct stat st;
    cr_assert_neq(stat(stale, &st), 0, "the dead recorder's spill is gone");
    cr_assert_eq(stat(live, &st), 0, "the running recorder's spill is kept");
    cr_assert_eq(spool_files(), 2, "the live one and this recorder's own");
    recorder_finish(r, 1000000);
    recorder_free(r);
    cr_assert_eq(spool_files(), 1, "this recorder's own is removed when it stops");
    close(fd);
}

/* A recorder killed mid-call leaves the call's journal entry and its temp
 * file; the next recorder archives what reached the disk, marked interrupted,
 * and no more than about a second short. */
static void killed_mid_call(int seconds)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct recorder_opts ro = {.source_ref = "test", .workers = 1};
        struct recorder *r = feed(&ro, seconds * 50, 0, 0);
        struct recorder_counters c;
        struct timespec ts = {0, 20000000};
        do { /* the worker handles what it was sent */
            nanosleep(&ts, NULL);
            recorder_counters(r, &c);
        } while (c.queued_bytes);
        nanosleep(&ts, NULL);
        raise(SIGKILL);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    cr_assert_eq(catalogued().n, 0, "nothing was committed before the kill");
    cr_assert_eq(spool_files(), 1, "the killed recorder's directory is left behind");
}

Test(workers, a_call_in_progress_when_the_recorder_is_killed_is_archived_as_interrupted)
{
    killed_mid_call(30);
    struct recorder_opts ro = {.source_ref = "test", .workers = 1};
    struct recorder *r;
    struct es_err e;
    cr_assert_eq(recorder_new(&ro, sess, cat, &r, &e), 0, "%s", e.msg);
    struct recorder_counters c;
    recorder_counters(r, &c);
    cr_assert_eq(c.interrupted_calls_recovered, 1);
    recorder_finish(r, 1000000);
    recorder_free(r);
    struct got g = catalogued();
    cr_assert_eq(g.n, 1, "the call, once");
    cr_assert(g.has_rec);
    cr_assert(strstr(g.call.details, "\"interrupted\":true"), "%s", g.call.details);
    cr_assert_str_eq(g.call.sip_call_id, "workers-test");
    /* 30 s were sent; what was lost is the mixer's latency and the last
     * half second since a checkpoint */
    cr_assert_geq(g.call.duration_ms, 30000 - 1000, "%lld ms", (long long)g.call.duration_ms);
    cr_assert_leq(g.call.duration_ms, 30000, "%lld ms", (long long)g.call.duration_ms);
    size_t n;
    float *pcm = decoded(&g, &n);
    double energy[2] = {0, 0};
    for (size_t i = 0; i < n; i++)
        for (int ch = 0; ch < 2; ch++)
            energy[ch] += (double)pcm[2 * i + ch] * pcm[2 * i + ch];
    free(pcm);
    cr_assert_gt(energy[0] / (double)n, 0.01, "the customer's square wave is there");
    cr_assert_gt(energy[1] / (double)n, 0.01, "the operator's too");
    cr_assert_eq(spool_files(), 0, "taken over and removed");
    /* the same capture again: the call is the same dialog, not a second one */
    struct recorder_counters again;
    run(&ro, &again);
    cr_assert_eq(again.calls_skipped, 1, "%llu", (unsigned long long)again.calls_skipped);
    cr_assert_eq(catalogued().n, 1);
}

Test(workers, a_sealed_call_in_progress_is_recovered_too)
{
    /* encryption at rest: the temp file is sealed chunk by chunk; what was
     * whole on disk comes back, decrypted in memory and sealed again */
    char keys[128];
    snprintf(keys, sizeof keys, "%s/keys", dir);
    struct archive_keyring *kr;
    struct es_err e;
    cr_assert_eq(archive_keys_init(keys, &e), 0, "%s", e.msg);
    cr_assert_eq(archive_keyring_load(keys, &kr, &e), 0, "%s", e.msg);
    archive_keyring_set(kr);
    killed_mid_call(30);
    struct recorder_opts ro = {.source_ref = "test", .workers = 1};
    struct recorder *r;
    cr_assert_eq(recorder_new(&ro, sess, cat, &r, &e), 0, "%s", e.msg);
    recorder_finish(r, 1000000);
    recorder_free(r);
    struct got g = catalogued();
    cr_assert_eq(g.n, 1);
    cr_assert(strstr(g.call.details, "\"interrupted\":true"), "%s", g.call.details);
    cr_assert(strstr(g.path, ".opus.enc"), "sealed again: %s", g.path);
    /* a sealed file keeps its last, partial chunk (8 KiB, about 2.7 s at
     * 24 kbit/s) in memory: that is what a kill can take */
    cr_assert_geq(g.call.duration_ms, 30000 - 3500, "%lld ms", (long long)g.call.duration_ms);
    cr_assert_leq(g.call.duration_ms, 30000, "%lld ms", (long long)g.call.duration_ms);
    struct archive_audio *a;
    cr_assert_eq(archive_audio_open(cat, g.call.id, &a, &e), 0, "%s", e.msg);
    cr_assert_eq(archive_audio_check(a, &e), 0, "the sealed file reads back whole: %s", e.msg);
    archive_audio_close(a);
    cr_assert_eq(spool_files(), 0);
    archive_keyring_set(NULL);
    archive_keyring_free(kr);
}
