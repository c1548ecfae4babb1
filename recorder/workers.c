/* The recorder's workers: decoding, mixing, Opus encoding and committing,
 * off the capture thread.
 *
 * Each call is sharded to one worker for its whole life, so a call's state
 * is never shared: the capture thread sends it messages through the worker's
 * queue, a bounded single-producer single-consumer ring of variable-sized
 * records (CODEC: a side's decoder changes; AUDIO: one RTP payload; FINISH:
 * the call is over and now belongs to the worker; STOP). The capture thread
 * never blocks on the worker: when the ring has no room, audio is dropped and
 * counted (per call and in total). FINISH and STOP use a reserve that audio
 * may not take, so a call's end is never lost; only if a worker stalls for
 * long (a dead disk) does the capture wait for it, and that is counted too.
 * For capture files the recorder asks to wait instead of dropping, since
 * nothing is lost by reading a file more slowly.
 *
 * The capture clock is published after the packets it covers were queued, so
 * a worker that reads the clock and then empties its ring has seen every
 * packet up to that time, and may hand out mixed audio older than the
 * latency without calling anything late that was merely still queued.
 *
 * With workers < 0 in the options everything runs inline on the caller's
 * thread (fuzzing, tests): the same handlers, called directly. */
#include "recorder/record_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define SWEEP_US      200000        /* how often a worker hands out mixed audio */
#define RESERVE_BYTES (256u * 1024) /* room only FINISH and STOP may use */
#define DEFAULT_QUEUE (16u * 1024 * 1024)
#define MAX_WORKERS   64
#define MAX_PAYLOAD   4096 /* larger RTP payloads are not audio any codec here makes */

enum msg_type { MSG_PAD = 1, MSG_CODEC, MSG_AUDIO, MSG_FINISH, MSG_COUNTS, MSG_STOP };

struct msg_hdr {
    uint32_t type, size; /* size: the whole record, a multiple of 8 */
    struct rec_call *rc;
};
struct msg_codec {
    struct msg_hdr h;
    int32_t channel;
    struct sdp_rtpmap map;
};
struct msg_counts {
    struct msg_hdr h;
    struct catalog_source_count *v; /* the worker frees it */
    size_t n;
};
struct msg_audio {
    struct msg_hdr h;
    int64_t ts_us;
    uint32_t rtp_ts, ssrc;
    uint16_t seq, len;
    uint8_t channel;
    uint8_t silent; /* a PCI pause: decoded (the codec keeps its state), placed as silence */
    uint8_t payload[];
};

struct rec_worker {
    struct rec_pool *pool;
    /* the ring: the producer writes head, the consumer tail */
    uint8_t *buf;
    size_t size;    /* a power of two */
    size_t reserve; /* bytes audio may not take */
    _Alignas(64) _Atomic size_t head;
    size_t tail_seen; /* producer's last look at tail */
    _Alignas(64) _Atomic size_t tail;
    _Atomic int sleeping;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    bool started;
    /* consumer side */
    struct catalog *cat;
    bool own_cat;
    struct rec_call *mixing; /* calls with a mixer */
    int64_t last_sweep_us;
    _Alignas(64) _Atomic uint64_t archived, missed, rejected, failed, skipped;
};

struct rec_pool {
    struct recorder *r;
    int n; /* 0: inline */
    unsigned next;
    int64_t clock_sent;                    /* capture side: the last clock published */
    _Alignas(64) _Atomic int64_t clock_us; /* a line of its own: workers poll it */
    char clock_pad[56];
    struct rec_worker w[MAX_WORKERS];
    struct rec_worker inline_w;
};

/* ---- the handlers (the worker's side) ------------------------------------ */

static int emit_to_writer(void *ud, const float *pcm, size_t frames)
{
    struct rec_call *rc = ud;
    struct es_err err = {{0}};
    int rc2 = archive_writer_write(rc->aw, pcm, frames, &err);
    if (rc2 && !rc->error[0])
        snprintf(rc->error, sizeof rc->error, "%.250s", err.msg);
    return rc2;
}

static void on_codec(struct rec_call *rc, int channel, const struct sdp_rtpmap *map)
{
    if (channel < 0 || channel > 1)
        return;
    /* the same codec under another payload type or SDP: keep the decoder's state */
    bool same = rc->dec[channel] && !strcasecmp(rc->dec_map[channel].name, map->name) &&
                rc->dec_map[channel].clock == map->clock;
    rc->dec_map[channel] = *map;
    if (same)
        return;
    rtp_decoder_free(rc->dec[channel]);
    rc->dec[channel] = NULL;
    struct es_err err = {{0}};
    if (rtp_decoder_new(map, &rc->dec[channel], &err))
        snprintf(rc->decode_error, sizeof rc->decode_error, "%.150s", err.msg);
}

/* Decodes one payload onto the call's timeline, opening the mixer and the
 * writer with the first one. */
static void on_audio(struct rec_worker *w, struct rec_call *rc, const struct msg_audio *a)
{
    int ch = a->channel;
    if (rc->error[0] || ch > 1 || !rc->dec[ch])
        return;
    struct recorder *r = rc->r;
    struct es_err err = {{0}};
    if (!rc->mix) {
        int rate = ES_MIN(rtp_decoder_rate(rc->dec[ch]), 16000);
        if (mixer_new(rate, r->o.latency_ms, &rc->mix)) {
            snprintf(rc->error, sizeof rc->error, "out of memory for the mixer");
            return;
        }
        rc->first_audio_us = a->ts_us;
        rc->rate = rate;
        rc->next_w = w->mixing;
        if (w->mixing)
            w->mixing->prev_w = rc;
        w->mixing = rc;
    }
    if (!rc->aw) {
        struct archive_format f = {
            .rate = rc->rate, .channels = 2, .source_rate = rc->rate, .frames_hint = -1};
        if (archive_writer_open(r->sess, rc->call, &f, &rc->aw, &err)) {
            snprintf(rc->error, sizeof rc->error, "%.250s", err.msg);
            return;
        }
    }
    static __thread int16_t pcm[16384];
    long n = rtp_decoder_run(rc->dec[ch], a->payload, a->len, pcm, ES_ARRAY_LEN(pcm));
    if (n <= 0)
        return;
    if (a->silent)
        memset(pcm, 0, (size_t)n * sizeof pcm[0]);
    mixer_put(rc->mix, ch, a->ts_us, a->ssrc, a->seq, a->rtp_ts, rc->dec_map[ch].clock, pcm,
              (size_t)n, rtp_decoder_rate(rc->dec[ch]), emit_to_writer, rc);
}

static void unlink_mixing(struct rec_worker *w, struct rec_call *rc)
{
    if (!rc->mix)
        return;
    if (rc->prev_w)
        rc->prev_w->next_w = rc->next_w;
    else if (w->mixing == rc)
        w->mixing = rc->next_w;
    if (rc->next_w)
        rc->next_w->prev_w = rc->prev_w;
    rc->prev_w = rc->next_w = NULL;
}

static void on_finish(struct rec_worker *w, struct rec_call *rc)
{
    if (rc->discard) { /* stray RTP, or taken over by a SIP call: no call at all */
        unlink_mixing(w, rc);
        rec_call_destroy(rc);
        return;
    }
    if (rc->mix && rc->aw && !rc->error[0]) {
        mixer_drain(rc->mix, 0, true, emit_to_writer, rc);
        /* the queue dropped audio at the end: the call still lasted until its
         * last packet (plus that packet's frame) */
        if (rc->overload_dropped && !rc->error[0])
            mixer_pad_until(rc->mix, rc->last_rtp_us + 20000, emit_to_writer, rc);
    }
    unlink_mixing(w, rc);
    switch (recorder_commit_call(rc, w->cat)) {
    case OUT_ARCHIVED:
        atomic_fetch_add_explicit(&w->archived, 1, memory_order_relaxed);
        recorder_audit_pauses(rc, w->cat);
        break;
    case OUT_MISSED:
        atomic_fetch_add_explicit(&w->missed, 1, memory_order_relaxed);
        break;
    case OUT_REJECTED:
        atomic_fetch_add_explicit(&w->rejected, 1, memory_order_relaxed);
        break;
    case OUT_FAILED:
        atomic_fetch_add_explicit(&w->failed, 1, memory_order_relaxed);
        break;
    case OUT_SKIPPED:
        atomic_fetch_add_explicit(&w->skipped, 1, memory_order_relaxed);
        break;
    }
    rec_call_destroy(rc);
}

static void on_counts(struct rec_worker *w, struct catalog_source_count *v, size_t n)
{
    int rc = catalog_add_source_counts(w->cat, v, n);
    if (rc)
        ES_ERROR("record", "%zu sources' rejected counts not catalogued: %s", n,
                 catalog_strerror(w->cat, rc));
    free(v);
}

/* Hands out every mixer's audio older than the latency at now_us. */
static void sweep(struct rec_worker *w, int64_t now_us)
{
    if (now_us - w->last_sweep_us < SWEEP_US)
        return;
    w->last_sweep_us = now_us;
    for (struct rec_call *rc = w->mixing; rc; rc = rc->next_w)
        if (rc->aw && !rc->error[0])
            mixer_drain(rc->mix, now_us, false, emit_to_writer, rc);
}

/* Returns false on STOP. */
static bool handle(struct rec_worker *w, const struct msg_hdr *h)
{
    switch (h->type) {
    case MSG_CODEC: {
        const struct msg_codec *m = (const struct msg_codec *)h;
        on_codec(h->rc, m->channel, &m->map);
        break;
    }
    case MSG_AUDIO:
        on_audio(w, h->rc, (const struct msg_audio *)h);
        break;
    case MSG_FINISH:
        on_finish(w, h->rc);
        break;
    case MSG_COUNTS: {
        const struct msg_counts *m = (const struct msg_counts *)h;
        on_counts(w, m->v, m->n);
        break;
    }
    case MSG_STOP:
        return false;
    default:
        break;
    }
    return true;
}

/* ---- the ring ------------------------------------------------------------- */

/* Room for a record of `size` bytes at the head, padding to the start of the
 * ring if it would not fit before the end; NULL if there is not `size` +
 * `reserve` free. */
static struct msg_hdr *ring_reserve(struct rec_worker *w, size_t size, size_t reserve,
                                    size_t *advance)
{
    size_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
    size_t pos = head & (w->size - 1), pad = 0;
    if (w->size - pos < size)
        pad = w->size - pos;
    size_t need = pad + size + reserve;
    if (w->size - (head - w->tail_seen) < need) {
        w->tail_seen = atomic_load_explicit(&w->tail, memory_order_acquire);
        if (w->size - (head - w->tail_seen) < need)
            return NULL;
    }
    if (pad) {
        struct msg_hdr *p = (struct msg_hdr *)(w->buf + pos);
        p->type = MSG_PAD;
        p->size = (uint32_t)pad;
        pos = 0;
    }
    *advance = pad + size;
    return (struct msg_hdr *)(w->buf + pos);
}

static void ring_publish(struct rec_worker *w, size_t advance)
{
    size_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
    atomic_store_explicit(&w->head, head + advance, memory_order_seq_cst);
    if (atomic_load_explicit(&w->sleeping, memory_order_seq_cst)) {
        pthread_mutex_lock(&w->mu);
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
}

/* Empties the ring; false once STOP was handled. */
static bool ring_drain(struct rec_worker *w, bool *got)
{
    size_t tail = atomic_load_explicit(&w->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&w->head, memory_order_acquire);
    bool go = true;
    *got = false;
    while (go && tail != head) {
        unsigned batch = 0;
        while (go && tail != head && batch++ < 256) {
            const struct msg_hdr *h = (const struct msg_hdr *)(w->buf + (tail & (w->size - 1)));
            if (h->type != MSG_PAD)
                go = handle(w, h);
            tail += h->size;
        }
        atomic_store_explicit(&w->tail, tail, memory_order_release);
        head = atomic_load_explicit(&w->head, memory_order_acquire);
        *got = true;
    }
    return go;
}

static void *worker_main(void *arg)
{
    struct rec_worker *w = arg;
    struct rec_pool *p = w->pool;
    pthread_setname_np(pthread_self(), "earshot-worker"); /* for top -H and perf */
    for (;;) {
        int64_t clock = atomic_load_explicit(&p->clock_us, memory_order_acquire);
        bool got;
        if (!ring_drain(w, &got))
            break;
        sweep(w, clock);
        if (got)
            continue;
        pthread_mutex_lock(&w->mu);
        atomic_store_explicit(&w->sleeping, 1, memory_order_seq_cst);
        if (atomic_load_explicit(&w->head, memory_order_seq_cst) ==
                atomic_load_explicit(&w->tail, memory_order_relaxed) &&
            atomic_load_explicit(&p->clock_us, memory_order_relaxed) == clock) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_nsec += 100 * 1000000L; /* the clock moves without a signal */
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&w->cv, &w->mu, &until);
        }
        atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
        pthread_mutex_unlock(&w->mu);
    }
    return NULL;
}

/* Waits for room (FINISH/STOP past the reserve, or files): counted. */
static struct msg_hdr *reserve_waiting(struct rec_worker *w, size_t size, size_t reserve,
                                       size_t *advance)
{
    struct msg_hdr *h = ring_reserve(w, size, reserve, advance);
    if (h)
        return h;
    w->pool->r->counters.queue_waits++;
    while (!(h = ring_reserve(w, size, reserve, advance))) {
        pthread_mutex_lock(&w->mu);
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
    return h;
}

/* ---- the capture thread's side --------------------------------------------- */

static struct msg_hdr *reserve_for(struct rec_worker *w, size_t size, bool control, size_t *advance)
{
    size = (size + 7) & ~(size_t)7;
    if (control)
        return reserve_waiting(w, size, 0, advance);
    if (w->pool->r->o.wait_when_full)
        return reserve_waiting(w, size, w->reserve, advance);
    return ring_reserve(w, size, w->reserve, advance);
}

bool rec_send_codec(struct rec_call *rc, int channel, const struct sdp_rtpmap *map)
{
    struct rec_worker *w = rc->w;
    if (!w->pool->n) {
        on_codec(rc, channel, map);
        return true;
    }
    size_t adv;
    struct msg_codec *m = (struct msg_codec *)reserve_for(w, sizeof *m, false, &adv);
    if (!m)
        return false;
    m->h.type = MSG_CODEC;
    m->h.size = (uint32_t)((sizeof *m + 7) & ~(size_t)7);
    m->h.rc = rc;
    m->channel = channel;
    m->map = *map;
    ring_publish(w, adv);
    return true;
}

bool rec_send_audio(struct rec_call *rc, int channel, const struct rtp_hdr *h, int64_t ts_us,
                    bool silent)
{
    struct rec_worker *w = rc->w;
    if (h->payload_len > MAX_PAYLOAD)
        return true; /* nothing a voice codec here sends; not an overload */
    size_t size = sizeof(struct msg_audio) + h->payload_len, adv;
    struct msg_audio stack, *m = &stack;
    if (w->pool->n) {
        m = (struct msg_audio *)reserve_for(w, size, false, &adv);
        if (!m)
            return false;
    } else {
        static __thread union {
            struct msg_audio a;
            uint8_t b[sizeof(struct msg_audio) + MAX_PAYLOAD];
        } one;
        m = &one.a;
    }
    m->h.type = MSG_AUDIO;
    m->h.size = (uint32_t)((size + 7) & ~(size_t)7);
    m->h.rc = rc;
    m->ts_us = ts_us;
    m->rtp_ts = h->ts;
    m->ssrc = h->ssrc;
    m->seq = h->seq;
    m->len = (uint16_t)h->payload_len;
    m->channel = (uint8_t)channel;
    m->silent = silent;
    memcpy(m->payload, h->payload, h->payload_len);
    if (w->pool->n)
        ring_publish(w, adv);
    else
        on_audio(w, rc, m);
    return true;
}

/* FINISH and STOP: never dropped. */
static void send_control(struct rec_worker *w, enum msg_type type, struct rec_call *rc)
{
    size_t adv;
    struct msg_hdr *m = reserve_for(w, sizeof *m, true, &adv);
    m->type = type;
    m->size = sizeof *m;
    m->rc = rc;
    ring_publish(w, adv);
}

void rec_send_finish(struct rec_call *rc)
{
    struct rec_worker *w = rc->w;
    if (!w->pool->n)
        on_finish(w, rc);
    else
        send_control(w, MSG_FINISH, rc);
}

void rec_send_counts(struct rec_pool *p, struct catalog_source_count *v, size_t n)
{
    if (!p->n) {
        on_counts(&p->inline_w, v, n);
        return;
    }
    struct rec_worker *w = &p->w[0];
    size_t adv;
    struct msg_counts *m = (struct msg_counts *)reserve_for(w, sizeof *m, true, &adv);
    m->h.type = MSG_COUNTS;
    m->h.size = (uint32_t)((sizeof *m + 7) & ~(size_t)7);
    m->h.rc = NULL;
    m->v = v;
    m->n = n;
    ring_publish(w, adv);
}

void rec_pool_clock(struct rec_pool *p, int64_t now_us)
{
    if (!p->n) {
        sweep(&p->inline_w, now_us);
        return;
    }
    /* every few milliseconds is enough (the latency is hundreds) and spares
     * the workers a cache line that changes with every packet */
    if (now_us - p->clock_sent < 5000 && now_us >= p->clock_sent)
        return;
    p->clock_sent = now_us;
    atomic_store_explicit(&p->clock_us, now_us, memory_order_release);
}

struct rec_worker *rec_pool_pick(struct rec_pool *p)
{
    if (!p->n)
        return &p->inline_w;
    return &p->w[p->next++ % (unsigned)p->n];
}

void rec_pool_stop(struct rec_pool *p)
{
    for (int i = 0; i < p->n; i++) {
        struct rec_worker *w = &p->w[i];
        if (w->started)
            send_control(w, MSG_STOP, NULL);
    }
    for (int i = 0; i < p->n; i++) {
        struct rec_worker *w = &p->w[i];
        if (!w->started)
            continue;
        pthread_mutex_lock(&w->mu);
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->th, NULL);
        w->started = false;
    }
}

static void add_counters(const struct rec_worker *w, struct recorder_counters *c)
{
    c->calls_archived += atomic_load_explicit(&w->archived, memory_order_relaxed);
    c->calls_missed += atomic_load_explicit(&w->missed, memory_order_relaxed);
    c->rejected_rows += atomic_load_explicit(&w->rejected, memory_order_relaxed);
    c->calls_failed += atomic_load_explicit(&w->failed, memory_order_relaxed);
    c->calls_skipped += atomic_load_explicit(&w->skipped, memory_order_relaxed);
}

void rec_pool_counters(const struct rec_pool *p, struct recorder_counters *c)
{
    add_counters(&p->inline_w, c);
    for (int i = 0; i < p->n; i++) {
        struct rec_worker *w = (struct rec_worker *)&p->w[i];
        add_counters(w, c);
        size_t head = atomic_load_explicit(&w->head, memory_order_acquire);
        size_t tail = atomic_load_explicit(&w->tail, memory_order_acquire);
        c->queued_bytes += head - tail;
        c->queue_capacity += w->size;
    }
}

int rec_pool_new(struct recorder *r, int nworkers, size_t queue_bytes, struct rec_pool **out,
                 struct es_err *err)
{
    *out = NULL;
    struct rec_pool *p = calloc(1, sizeof *p);
    if (!p)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    p->r = r;
    p->inline_w.pool = p;
    p->inline_w.cat = r->cat;
    if (nworkers == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        nworkers = cpus > 0 ? (int)cpus : 1;
    }
    p->n = nworkers < 0 ? 0 : ES_MIN(nworkers, MAX_WORKERS);
    size_t size = 1u << 16;
    while (size < (queue_bytes ? queue_bytes : DEFAULT_QUEUE) && size < ((size_t)1 << 31))
        size <<= 1;
    for (int i = 0; i < p->n; i++) {
        struct rec_worker *w = &p->w[i];
        w->pool = p;
        w->size = size;
        w->reserve = ES_MIN(RESERVE_BYTES, size / 4);
        w->buf = malloc(size);
        pthread_mutex_init(&w->mu, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&w->cv, &ca);
        pthread_condattr_destroy(&ca);
        if (!w->buf) {
            rec_pool_free(p);
            return es_seterr(err, ES_ENOMEM, "out of memory for the worker queues");
        }
        /* each worker commits through its own catalog connection */
        int rc = catalog_open(ingest_session_data_dir(r->sess), &w->cat, err);
        if (rc) {
            rec_pool_free(p);
            return rc;
        }
        w->own_cat = true;
    }
    for (int i = 0; i < p->n; i++) {
        int e = pthread_create(&p->w[i].th, NULL, worker_main, &p->w[i]);
        if (e) {
            rec_pool_free(p);
            return es_seterr(err, -e, "cannot start a recorder worker: %s", strerror(e));
        }
        p->w[i].started = true;
    }
    *out = p;
    return 0;
}

void rec_pool_free(struct rec_pool *p)
{
    if (!p)
        return;
    rec_pool_stop(p);
    for (int i = 0; i < p->n; i++) {
        struct rec_worker *w = &p->w[i];
        if (w->own_cat)
            catalog_close(w->cat);
        free(w->buf);
        if (w->pool) {
            pthread_mutex_destroy(&w->mu);
            pthread_cond_destroy(&w->cv);
        }
    }
    free(p);
}

void rec_call_destroy(struct rec_call *rc)
{
    if (!rc)
        return;
    mixer_free(rc->mix);
    archive_writer_free(rc->aw);
    for (int i = 0; i < 2; i++)
        rtp_decoder_free(rc->dec[i]);
    free(rc->sip);
    free(rc->call);
    free(rc);
}
