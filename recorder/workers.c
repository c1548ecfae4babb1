/* The recorder's workers: decoding, mixing, Opus encoding and committing,
 * off the capture thread.
 *
 * Each call is sharded to one worker for its whole life, so a call's state
 * is never shared: the capture thread sends it messages through the worker's
 * queue, a bounded single-producer single-consumer ring of variable-sized
 * records (CODEC: a side's decoder changes; AUDIO: one RTP payload; FINISH:
 * the call is over and now belongs to the worker; STOP). The capture thread
 * never blocks on the worker. When the ring has no room, the messages spill
 * to a spool file (spool.c) of the worker's: the capture puts a SPILL marker
 * in the ring (in a reserve nothing else may take) and from then on writes
 * every message to the file, until the worker has read all of the file that
 * reached the disk; then it ends the file with a RING marker and goes back to
 * the ring. The worker follows the markers: ring up to SPILL, the file up to
 * RING, the ring again. So it sees every message in the order it was sent,
 * neither side ever waits for the other, and each overload is one file,
 * removed once read.
 *
 * Below the spool's free-space floor (or with --overload drop) audio is
 * dropped and counted; a call's end (FINISH) and STOP never are: the floor
 * leaves room for them, and without a spill they may use the ring's reserve.
 * For capture files the recorder waits instead, since nothing is lost by
 * reading a file more slowly.
 *
 * The capture clock is published after the packets it covers were queued, so
 * a worker that reads the clock and then empties its ring and spool has seen
 * every packet up to that time, and may hand out mixed audio older than the
 * latency without calling anything late that was merely still queued. While
 * a worker reads a spill, the time comes from the CLOCK records the capture
 * writes into it.
 *
 * With workers < 0 in the options everything runs inline on the caller's
 * thread (fuzzing, tests): the same handlers, called directly. */
#include "recorder/record_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SWEEP_US      200000        /* how often a worker hands out mixed audio */
#define RESERVE_BYTES (256u * 1024) /* room for the SPILL marker (or FINISH and STOP) */
#define DEFAULT_QUEUE (16u * 1024 * 1024)
#define MAX_WORKERS   64
#define MAX_PAYLOAD   4096 /* larger RTP payloads are not audio any codec here makes */
#define DEFAULT_FLOOR ((uint64_t)1 << 30)
#define CHECKPOINT_US 500000 /* how often a worker's writers put their audio in their files */
#define SYNC_SECONDS  1      /* how often the file system is made durable (syncfs) */
#define WORKER_NICE   5      /* workers yield the CPU to the capture thread */

/* The spill's file the capture writes and how much of it the worker may read,
 * in one word: the file's number and its bytes that reached the kernel. */
#define POS_SHIFT    40
#define POS_OFF(p)   ((p) & (((uint64_t)1 << POS_SHIFT) - 1))
#define POS_SEG(p)   ((uint32_t)((p) >> POS_SHIFT))
#define POS(seg, of) ((uint64_t)(seg) << POS_SHIFT | (of))

/* MSG_SPILL (ring): read spill file `seg` now. MSG_RING (file): back to the
 * ring. MSG_CLOCK (file): the capture time, which a worker reading a spill
 * cannot take from the pool's clock (it is ahead of what the file holds). */
enum msg_type {
    MSG_PAD = 1,
    MSG_CODEC,
    MSG_AUDIO,
    MSG_FINISH,
    MSG_COUNTS,
    MSG_STOP,
    MSG_CLOCK,
    MSG_SPILL,
    MSG_RING
};

struct msg_hdr {
    uint32_t type, size; /* size: the whole record, a multiple of 8 */
    struct rec_call *rc;
};
struct msg_codec {
    struct msg_hdr h;
    int32_t channel;
    struct sdp_rtpmap map;
};
struct msg_clock {
    struct msg_hdr h;
    int64_t now_us;
};
struct msg_spill {
    struct msg_hdr h;
    uint64_t seg;
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

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* The largest message, aligned: what a spilled one is built in and read into. */
union msg_any {
    struct msg_codec c;
    struct msg_counts n;
    struct msg_audio a;
    uint8_t b[sizeof(struct msg_audio) + MAX_PAYLOAD + 8];
};

struct rec_worker {
    struct rec_pool *pool;
    int index;
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
    int64_t last_sweep_us, last_checkpoint_us;
    struct rec_journal *journal; /* calls in progress (NULL: none kept) */
    _Alignas(64) _Atomic uint64_t archived, missed, rejected, failed, skipped;
    /* the spill, capture side: the file messages go to while spilling */
    struct spool_writer *sw;
    uint32_t seg;    /* the current (or last) spill's number */
    bool floor_said; /* this spill has logged the floor */
    bool error_said; /* this spill has logged a write error */
    int64_t spill_since_us;
    uint64_t spill_base;                     /* spill_written when this file began */
    _Alignas(64) _Atomic uint64_t spill_pos; /* POS(seg, bytes the worker may read) */
    _Atomic uint64_t spill_written;          /* bytes of every spill the worker may read */
    /* the spill, worker side: sr is open while the worker reads file rseg */
    struct spool_reader *sr;
    uint32_t rseg;
    uint64_t read_base;                       /* spill_read when rseg began */
    _Alignas(64) _Atomic uint64_t spill_read; /* bytes of every spill handled */
    _Atomic int64_t handled_us;               /* capture time of the last audio handled */
    _Atomic uint64_t read_errors;
};

struct rec_pool {
    struct recorder *r;
    int n; /* 0: inline */
    unsigned next;
    int64_t clock_sent;   /* capture side: the last clock published */
    char spill_dir[4096]; /* this process's spill files ("": no spill) */
    int spill_lock;       /* held while the process runs */
    int spilling;         /* workers spilling now */
    /* the syncer: syncfs once a second while calls are journaled */
    pthread_t syncer;
    bool syncer_started;
    bool stopping;
    pthread_mutex_t sync_mu;
    pthread_cond_t sync_cv;
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
        /* with a journal, the temp file goes beside it: the next recorder
         * finds both if this one dies mid-call */
        struct archive_format f = {.rate = rc->rate,
                                   .channels = 2,
                                   .source_rate = rc->rate,
                                   .frames_hint = -1,
                                   .tmp_dir = w->journal ? w->pool->spill_dir : NULL};
        if (archive_writer_open(r->sess, rc->call, &f, &rc->aw, &err)) {
            snprintf(rc->error, sizeof rc->error, "%.250s", err.msg);
            return;
        }
        if (w->journal) {
            rec_journal_begin(w->journal, rc->call, rc->aw);
            rc->journaled = true;
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

/* A journal past this is rewritten with only the calls still in progress. */
#define JOURNAL_REWRITE_BYTES (4u << 20)

static void journal_rewrite(struct rec_worker *w)
{
    struct es_err err = {{0}};
    if (rec_journal_rewrite_begin(w->journal, &err) == 0) {
        for (struct rec_call *rc = w->mixing; rc; rc = rc->next_w)
            if (rc->journaled)
                rec_journal_begin(w->journal, rc->call, rc->aw);
        if (rec_journal_rewrite_end(w->journal, &err) == 0)
            return;
    }
    ES_WARN("record", "worker %d: %s", w->index, err.msg);
}

/* The call is done with (committed, or dropped): its journal entry too. */
static void forget(struct rec_worker *w, struct rec_call *rc)
{
    if (rc->journaled) {
        rec_journal_end(w->journal, rc->call->id);
        if (rec_journal_bytes(w->journal) > JOURNAL_REWRITE_BYTES)
            journal_rewrite(w);
    }
    rec_call_destroy(rc);
}

static void on_finish(struct rec_worker *w, struct rec_call *rc)
{
    if (rc->discard) { /* stray RTP, or taken over by a SIP call: no call at all */
        unlink_mixing(w, rc);
        forget(w, rc);
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
    forget(w, rc);
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
    /* with a journal, what was encoded goes to the files every half second,
     * so a process killed now loses no more than that of any call */
    bool checkpoint = w->journal && now_us - w->last_checkpoint_us >= CHECKPOINT_US;
    if (checkpoint)
        w->last_checkpoint_us = now_us;
    for (struct rec_call *rc = w->mixing; rc; rc = rc->next_w) {
        if (!rc->aw || rc->error[0])
            continue;
        mixer_drain(rc->mix, now_us, false, emit_to_writer, rc);
        struct es_err err = {{0}};
        if (checkpoint && archive_writer_checkpoint(rc->aw, &err))
            snprintf(rc->error, sizeof rc->error, "%.250s", err.msg);
    }
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
    case MSG_AUDIO: {
        const struct msg_audio *a = (const struct msg_audio *)h;
        on_audio(w, h->rc, a);
        atomic_store_explicit(&w->handled_us, a->ts_us, memory_order_relaxed);
        int delay = w->pool->r->o.worker_delay_us;
        if (delay > 0) {
            struct timespec ts = {delay / 1000000, (long)(delay % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
        break;
    }
    case MSG_CLOCK:
        sweep(w, ((const struct msg_clock *)h)->now_us);
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

static void wake(struct rec_worker *w)
{
    if (atomic_load_explicit(&w->sleeping, memory_order_seq_cst)) {
        pthread_mutex_lock(&w->mu);
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
}

static void ring_publish(struct rec_worker *w, size_t advance)
{
    size_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
    atomic_store_explicit(&w->head, head + advance, memory_order_seq_cst);
    wake(w);
}

/* ---- the spill, the worker's side -------------------------------------------- */

static void spill_path(const struct rec_worker *w, uint32_t seg, char *out, size_t n)
{
    es_fmt(out, n, "%s/worker-%d.%u.spool", w->pool->spill_dir, w->index, seg);
}

/* A SPILL marker: the file is read from here on. */
static void spill_enter(struct rec_worker *w, uint32_t seg)
{
    char path[4200];
    struct es_err err = {{0}};
    spill_path(w, seg, path, sizeof path);
    w->rseg = seg;
    w->read_base = atomic_load_explicit(&w->spill_read, memory_order_relaxed);
    if (spool_reader_open(path, 0, &w->sr, &err)) {
        ES_ERROR("record", "worker %d cannot read its spill: %s", w->index, err.msg);
        atomic_fetch_add_explicit(&w->read_errors, 1, memory_order_relaxed);
        return;
    }
}

/* The RING marker (or a file that cannot be read further): back to the ring,
 * the file removed. */
static void spill_leave(struct rec_worker *w)
{
    char path[4200];
    spool_reader_close(w->sr);
    w->sr = NULL;
    spill_path(w, w->rseg, path, sizeof path);
    unlink(path);
}

/* Handles what the worker may read of the file; false once STOP was handled.
 * *got: something was handled. */
static bool spill_drain(struct rec_worker *w, bool *got)
{
    static __thread union msg_any m;
    uint64_t pos = atomic_load_explicit(&w->spill_pos, memory_order_acquire);
    /* a file the capture has left is complete */
    uint64_t end = POS_SEG(pos) == w->rseg ? POS_OFF(pos) : UINT64_MAX;
    uint64_t off = spool_reader_offset(w->sr);
    bool go = true;
    unsigned n = 0;
    while (go && w->sr && off < end) {
        uint16_t type;
        const void *p;
        size_t len;
        int rc = spool_next(w->sr, &type, &p, &len);
        if (rc == ES_EAGAIN && end == UINT64_MAX)
            rc = ES_ECORRUPT; /* a complete file ends in RING */
        if (rc == ES_EAGAIN)
            break;
        if (rc || len < sizeof(struct msg_hdr) || len > sizeof m) {
            ES_ERROR("record",
                     "worker %d: its spill is unreadable at byte %llu (%s): the rest of "
                     "it is lost",
                     w->index, (unsigned long long)off,
                     rc ? es_strerror(rc) : "a record of the wrong size");
            atomic_fetch_add_explicit(&w->read_errors, 1, memory_order_relaxed);
            spill_leave(w);
            break;
        }
        memcpy(&m, p, len);
        off = spool_reader_offset(w->sr);
        n++;
        if (m.c.h.type == MSG_RING)
            spill_leave(w);
        else
            go = handle(w, &m.c.h);
        if (!w->sr || n % 256 == 0)
            atomic_store_explicit(&w->spill_read, w->read_base + off, memory_order_release);
    }
    if (w->sr)
        atomic_store_explicit(&w->spill_read, w->read_base + off, memory_order_release);
    *got = *got || n > 0;
    return go;
}

/* Handles the ring's messages up to its head, or up to a SPILL marker; false
 * once STOP was handled. */
static bool ring_drain(struct rec_worker *w, bool *got)
{
    size_t tail = atomic_load_explicit(&w->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&w->head, memory_order_acquire);
    bool go = true;
    while (go && !w->sr && tail != head) {
        unsigned batch = 0;
        while (go && !w->sr && tail != head && batch++ < 256) {
            const struct msg_hdr *h = (const struct msg_hdr *)(w->buf + (tail & (w->size - 1)));
            if (h->type == MSG_SPILL)
                spill_enter(w, (uint32_t)((const struct msg_spill *)h)->seg);
            else if (h->type != MSG_PAD)
                go = handle(w, h);
            tail += h->size;
        }
        atomic_store_explicit(&w->tail, tail, memory_order_release);
        head = atomic_load_explicit(&w->head, memory_order_acquire);
        *got = true;
    }
    return go;
}

/* Anything to do? */
static bool pending(struct rec_worker *w)
{
    if (!w->sr)
        return atomic_load_explicit(&w->head, memory_order_seq_cst) !=
               atomic_load_explicit(&w->tail, memory_order_relaxed);
    uint64_t pos = atomic_load_explicit(&w->spill_pos, memory_order_seq_cst);
    return POS_SEG(pos) != w->rseg || POS_OFF(pos) > spool_reader_offset(w->sr);
}

static void *worker_main(void *arg)
{
    struct rec_worker *w = arg;
    struct rec_pool *p = w->pool;
    pthread_setname_np(pthread_self(), "earshot-worker"); /* for top -H and perf */
    /* the capture thread comes first: a worker behind spills, a capture
     * thread behind loses packets in the kernel */
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    if (errno == 0)
        setpriority(PRIO_PROCESS, (id_t)gettid(), nice + WORKER_NICE);
    for (;;) {
        int64_t clock = atomic_load_explicit(&p->clock_us, memory_order_acquire);
        bool got = false, in_ring = !w->sr;
        if (in_ring ? !ring_drain(w, &got) : !spill_drain(w, &got))
            break;
        /* the ring emptied without a SPILL marker: every message sent before
         * the clock was handled (in a spill, its clock records say the time) */
        if (in_ring && !w->sr)
            sweep(w, clock);
        if (got)
            continue;
        pthread_mutex_lock(&w->mu);
        atomic_store_explicit(&w->sleeping, 1, memory_order_seq_cst);
        if (!pending(w) && atomic_load_explicit(&p->clock_us, memory_order_relaxed) == clock) {
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

/* Lets the worker read what reached the file. */
static void spill_publish(struct rec_worker *w)
{
    uint64_t flushed = spool_flushed(w->sw), pos = POS(w->seg, flushed);
    if (atomic_load_explicit(&w->spill_pos, memory_order_relaxed) != pos) {
        atomic_store_explicit(&w->spill_written, w->spill_base + flushed, memory_order_release);
        atomic_store_explicit(&w->spill_pos, pos, memory_order_seq_cst);
        wake(w);
    }
}

static void spill_error(struct rec_worker *w, const char *why, const char *what)
{
    struct recorder *r = w->pool->r;
    r->counters.spool_errors++;
    if (!w->error_said)
        ES_ERROR("record", "worker %d's spill cannot be written (%s): %s", w->index, what, why);
    w->error_said = true;
}

/* Has the worker read all of the file that reached the kernel? (Something of
 * it, too: before that it is still in the ring, and the ring is full.) */
static bool caught_up(struct rec_worker *w)
{
    uint64_t flushed = spool_flushed(w->sw);
    return flushed &&
           atomic_load_explicit(&w->spill_read, memory_order_acquire) == w->spill_base + flushed;
}

/* The worker is close behind: the file ends with a RING marker after what
 * the buffer holds, and the ring takes messages again. */
static void spill_end(struct rec_worker *w)
{
    struct rec_pool *p = w->pool;
    struct msg_hdr m = {MSG_RING, sizeof m, NULL};
    int rc = spool_append_reserved(w->sw, MSG_RING, &m, sizeof m);
    if (!rc)
        rc = spool_flush(w->sw);
    if (rc) { /* the worker reads on; this is tried again with the next message */
        spill_error(w, es_strerror(rc), "its end");
        return;
    }
    spill_publish(w);
    spool_close(w->sw); /* flushed: nothing to lose */
    w->sw = NULL;
    if (--p->spilling == 0)
        p->r->counters.caught_up_us = es_now_ms() * 1000;
    ES_INFO("record", "worker %d caught up with its spill (%.1f s of capture time)", w->index,
            (double)(p->r->clock_us - w->spill_since_us) / 1e6);
}

/* Begins a spill: a new file for the messages from now on, and the marker
 * that sends the worker to it in the ring's reserve. */
static bool spill_begin(struct rec_worker *w)
{
    struct rec_pool *p = w->pool;
    if (!p->spill_dir[0])
        return false;
    char path[4200];
    struct es_err err = {{0}};
    spill_path(w, w->seg + 1, path, sizeof path);
    size_t adv;
    struct msg_spill *m = (struct msg_spill *)ring_reserve(w, align8(sizeof *m), 0, &adv);
    if (!m) /* the reserve taken by calls' ends: they wait (counted) */
        return false;
    if (spool_open(path, p->r->o.spool_floor, &w->sw, &err)) {
        spill_error(w, err.msg, "no spill");
        return false;
    }
    w->seg++;
    w->floor_said = w->error_said = false;
    w->spill_since_us = p->r->clock_us;
    w->spill_base = atomic_load_explicit(&w->spill_written, memory_order_relaxed);
    if (p->spilling++ == 0)
        p->r->counters.caught_up_us = 0;
    p->r->counters.spills++;
    /* the file's number before the marker that names it */
    atomic_store_explicit(&w->spill_pos, POS(w->seg, 0), memory_order_seq_cst);
    m->h.type = MSG_SPILL;
    m->h.size = (uint32_t)align8(sizeof *m);
    m->h.rc = NULL;
    m->seg = w->seg;
    ring_publish(w, adv);
    uint64_t n = p->r->counters.spills;
    if (!(n & (n - 1))) /* the 1st, 2nd, 4th, 8th... */
        ES_WARN("record", "worker %d is behind: its queue spills to %s (spill %llu)", w->index,
                path, (unsigned long long)n);
    return true;
}

/* Where the next message is built: in the ring when it has room and nothing
 * is spilled, else in a buffer of its own that slot_put writes to the spool.
 * NULL: no room and no spill (audio is then dropped). */
struct slot {
    size_t size, adv;
    bool spill;
};

static struct msg_hdr *slot_get(struct rec_worker *w, size_t size, bool control, struct slot *s)
{
    static __thread union msg_any m;
    s->size = size = align8(size);
    s->spill = false;
    if (w->sw && caught_up(w))
        spill_end(w);
    if (!w->sw) {
        enum rec_overload mode = w->pool->r->o.overload;
        struct msg_hdr *h = ring_reserve(w, size, w->reserve, &s->adv);
        if (h)
            return h;
        if (mode == REC_OVERLOAD_WAIT)
            return reserve_waiting(w, size, control ? 0 : w->reserve, &s->adv);
        if (mode == REC_OVERLOAD_DROP || !spill_begin(w))
            return control ? reserve_waiting(w, size, 0, &s->adv) : NULL;
    }
    s->spill = true;
    return &m.c.h;
}

/* Writes a message built by slot_get; false if it was dropped (audio below
 * the spool's floor, or a spool that cannot be written). */
static bool slot_put(struct rec_worker *w, struct slot *s, struct msg_hdr *h, bool control)
{
    if (!s->spill) {
        ring_publish(w, s->adv);
        return true;
    }
    struct recorder *r = w->pool->r;
    int rc = control ? spool_append_reserved(w->sw, (uint16_t)h->type, h, s->size)
                     : spool_append(w->sw, (uint16_t)h->type, h, s->size);
    if (rc == -ENOSPC && !control) {
        r->counters.spool_floor_drops++;
        if (!w->floor_said)
            ES_ERROR("record",
                     "the spool's disk is down to its floor (%llu MiB kept free): worker %d drops "
                     "audio until it catches up",
                     (unsigned long long)(r->o.spool_floor >> 20), w->index);
        w->floor_said = true;
        return false;
    }
    if (rc && !control) {
        spill_error(w, es_strerror(rc), "audio dropped");
        return false;
    }
    if (rc) {
        /* a call's end is not lost: it waits for the disk (as the ring
         * would for a worker that stopped), counted */
        spill_error(w, es_strerror(rc), "the capture waits for it");
        r->counters.queue_waits++;
        do {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        } while (spool_append_reserved(w->sw, (uint16_t)h->type, h, s->size));
    }
    r->counters.spooled_bytes += s->size;
    if (control)
        spool_flush(w->sw); /* a call's end (or STOP) reaches the worker without delay */
    spill_publish(w);
    return true;
}

bool rec_send_codec(struct rec_call *rc, int channel, const struct sdp_rtpmap *map)
{
    struct rec_worker *w = rc->w;
    if (!w->pool->n) {
        on_codec(rc, channel, map);
        return true;
    }
    struct slot s;
    struct msg_codec *m = (struct msg_codec *)slot_get(w, sizeof *m, false, &s);
    if (!m)
        return false;
    m->h.type = MSG_CODEC;
    m->h.size = (uint32_t)s.size;
    m->h.rc = rc;
    m->channel = channel;
    m->map = *map;
    return slot_put(w, &s, &m->h, false);
}

bool rec_send_audio(struct rec_call *rc, int channel, const struct rtp_hdr *h, int64_t ts_us,
                    bool silent)
{
    struct rec_worker *w = rc->w;
    if (h->payload_len > MAX_PAYLOAD)
        return true; /* nothing a voice codec here sends; not an overload */
    size_t size = sizeof(struct msg_audio) + h->payload_len;
    struct msg_audio *m;
    struct slot s;
    if (w->pool->n) {
        m = (struct msg_audio *)slot_get(w, size, false, &s);
        if (!m)
            return false;
    } else {
        static __thread union msg_any one;
        m = &one.a;
        s.size = align8(size);
    }
    m->h.type = MSG_AUDIO;
    m->h.size = (uint32_t)s.size;
    m->h.rc = rc;
    m->ts_us = ts_us;
    m->rtp_ts = h->ts;
    m->ssrc = h->ssrc;
    m->seq = h->seq;
    m->len = (uint16_t)h->payload_len;
    m->channel = (uint8_t)channel;
    m->silent = silent;
    memcpy(m->payload, h->payload, h->payload_len);
    if (!w->pool->n) {
        on_audio(w, rc, m);
        return true;
    }
    return slot_put(w, &s, &m->h, false);
}

/* FINISH and STOP: never dropped. */
static void send_control(struct rec_worker *w, enum msg_type type, struct rec_call *rc)
{
    struct slot s;
    struct msg_hdr *m = slot_get(w, sizeof *m, true, &s);
    m->type = type;
    m->size = (uint32_t)s.size;
    m->rc = rc;
    slot_put(w, &s, m, true);
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
    struct slot s;
    struct msg_counts *m = (struct msg_counts *)slot_get(w, sizeof *m, true, &s);
    m->h.type = MSG_COUNTS;
    m->h.size = (uint32_t)s.size;
    m->h.rc = NULL;
    m->v = v;
    m->n = n;
    slot_put(w, &s, &m->h, true);
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
    /* a spilling worker takes the time from its spill, after the messages
     * it covers; what the buffer holds goes to the file now, so a worker
     * that has caught up does not wait for a full buffer */
    for (int i = 0; p->spilling && i < p->n; i++) {
        struct rec_worker *w = &p->w[i];
        if (!w->sw)
            continue;
        if (caught_up(w)) {
            spill_end(w);
            continue;
        }
        struct msg_clock c = {{MSG_CLOCK, sizeof c, NULL}, now_us};
        int rc = spool_append_reserved(w->sw, MSG_CLOCK, &c, sizeof c);
        if (!rc)
            rc = spool_flush(w->sw);
        if (rc)
            spill_error(w, es_strerror(rc), "clock");
        spill_publish(w);
    }
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
    /* the workers have read their spills to the STOP at their ends */
    if (p->spilling) {
        p->spilling = 0;
        p->r->counters.caught_up_us = es_now_ms() * 1000;
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
        c->spool_errors += atomic_load_explicit(&w->read_errors, memory_order_relaxed);
        uint64_t rd = atomic_load_explicit(&w->spill_read, memory_order_acquire);
        uint64_t wr = atomic_load_explicit(&w->spill_written, memory_order_acquire);
        if (wr <= rd)
            continue; /* no spill, or read to what reached the file */
        c->spool_backlog_bytes += wr > rd ? wr - rd : 0;
        int64_t at = atomic_load_explicit(&w->handled_us, memory_order_relaxed);
        int64_t now = atomic_load_explicit(&p->clock_us, memory_order_relaxed);
        if (at && now > at && (double)(now - at) / 1e6 > c->spool_backlog_seconds)
            c->spool_backlog_seconds = (double)(now - at) / 1e6;
    }
}

/* Removes a spill directory and what is in it. */
static void remove_spill_dir(const char *dir, uint64_t *bytes)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[4400];
            struct stat st;
            if (es_fmt(path, sizeof path, "%s/%s", dir, e->d_name))
                continue;
            size_t len = strlen(e->d_name);
            if (bytes && len > 6 && !strcmp(e->d_name + len - 6, ".spool") && stat(path, &st) == 0)
                *bytes += (uint64_t)st.st_size;
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* A directory a recorder that stopped left (locked by lock_fd now): the
 * calls its journals had in progress are archived, then it is removed (kept
 * if a call could not be recovered, to be tried again). */
static void take_over(struct rec_pool *p, const char *dir)
{
    struct rec_recovery rr = {0};
    int rc = rec_journal_recover(dir, p->r->sess, p->r->cat, &rr);
    p->r->counters.interrupted_calls_recovered += rr.recovered;
    if (rr.recovered + rr.already + rr.empty + rr.failed)
        ES_WARN("record",
                "%s: a recorder stopped with calls in progress: %llu archived as interrupted, "
                "%llu archived before it stopped, %llu without audio, %llu not recoverable",
                dir, (unsigned long long)rr.recovered, (unsigned long long)rr.already,
                (unsigned long long)rr.empty, (unsigned long long)rr.failed);
    if (rc && rc != -ENOENT)
        return;
    uint64_t bytes = 0;
    remove_spill_dir(dir, &bytes);
    if (bytes)
        ES_WARN("record",
                "removed %s: %llu bytes of audio the stopped recorder had spilled and not yet "
                "encoded are lost",
                dir, (unsigned long long)bytes);
}

/* This process's spill directory, DIR/spill-XXXXXX, locked while it runs
 * (own: else only the others are looked at); directories of processes that
 * no longer run are taken over first. */
static int spill_setup(struct rec_pool *p, bool own, struct es_err *err)
{
    const struct recorder_opts *o = &p->r->o;
    char root[4000];
    if (o->spool_dir ? es_fmt(root, sizeof root, "%s", o->spool_dir)
                     : es_fmt(root, sizeof root, "%s/spool", ingest_session_data_dir(p->r->sess)))
        return es_seterr(err, ES_ETOOBIG, "spool directory: path too long");
    if (mkdir(root, 0750) != 0 && errno != EEXIST)
        return es_seterr(err, -errno, "spool directory %s: %s", root, strerror(errno));
    DIR *d = opendir(root);
    if (!d)
        return es_seterr(err, -errno, "spool directory %s: %s", root, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "spill-", 6))
            continue;
        char dir[4100], lock[4200];
        if (es_fmt(dir, sizeof dir, "%s/%s", root, e->d_name) ||
            es_fmt(lock, sizeof lock, "%s/lock", dir))
            continue;
        /* locked while taken over, so two recorders starting at once do
         * not both take it */
        int fd = open(lock, O_RDONLY | O_CLOEXEC);
        bool gone = fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0;
        if (gone)
            take_over(p, dir);
        if (fd >= 0)
            close(fd);
    }
    closedir(d);
    if (!own)
        return 0;
    char lock[4200];
    if (es_fmt(p->spill_dir, sizeof p->spill_dir, "%s/spill-XXXXXX", root) ||
        !mkdtemp(p->spill_dir) || es_fmt(lock, sizeof lock, "%s/lock", p->spill_dir)) {
        int rc = es_seterr(err, -errno, "spool directory %s: %s", root, strerror(errno));
        p->spill_dir[0] = 0;
        return rc;
    }
    p->spill_lock = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (p->spill_lock < 0 || flock(p->spill_lock, LOCK_EX | LOCK_NB) != 0) {
        int rc = es_seterr(err, -errno, "%s: %s", lock, strerror(errno));
        remove_spill_dir(p->spill_dir, NULL);
        p->spill_dir[0] = 0;
        return rc;
    }
    return 0;
}

static void *syncer_main(void *arg)
{
    struct rec_pool *p = arg;
    pthread_setname_np(pthread_self(), "earshot-sync");
    pthread_mutex_lock(&p->sync_mu);
    while (!p->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += SYNC_SECONDS;
        pthread_cond_timedwait(&p->sync_cv, &p->sync_mu, &until);
        if (p->stopping)
            break;
        pthread_mutex_unlock(&p->sync_mu);
        if (syncfs(p->spill_lock) != 0)
            ES_WARN("record", "syncfs: %s", strerror(errno));
        pthread_mutex_lock(&p->sync_mu);
    }
    pthread_mutex_unlock(&p->sync_mu);
    return NULL;
}

/* Each worker's journal of calls in progress, and the syncer; none if the
 * spool is not on the archive's file system (a temp file is renamed into
 * the archive). */
static void journal_setup(struct rec_pool *p)
{
    struct stat a, b;
    char archive[4200];
    es_fmt(archive, sizeof archive, "%s/archive", ingest_session_data_dir(p->r->sess));
    if (stat(p->spill_dir, &a) != 0 || stat(archive, &b) != 0 || a.st_dev != b.st_dev) {
        ES_WARN("record",
                "the spool (%s) is not on the archive's file system: calls in progress "
                "are not journaled, and a crash loses them",
                p->spill_dir);
        return;
    }
    for (int i = 0; i < p->n; i++) {
        struct es_err e = {{0}};
        if (rec_journal_open(p->spill_dir, i, &p->w[i].journal, &e)) {
            ES_ERROR("record", "no journal of calls in progress: %s", e.msg);
            for (int k = 0; k < i; k++) {
                rec_journal_close(p->w[k].journal);
                p->w[k].journal = NULL;
            }
            return;
        }
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->sync_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&p->sync_mu, NULL);
    p->syncer_started = pthread_create(&p->syncer, NULL, syncer_main, p) == 0;
}

int rec_pool_new(struct recorder *r, int nworkers, size_t queue_bytes, struct rec_pool **out,
                 struct es_err *err)
{
    *out = NULL;
    struct rec_pool *p = calloc(1, sizeof *p);
    if (!p)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    p->r = r;
    p->spill_lock = -1;
    if (!r->o.spool_floor)
        r->o.spool_floor = DEFAULT_FLOOR;
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
        w->index = i;
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
    if (p->n) {
        /* live capture: a spill and a journal of calls in progress; files
         * are read again instead (only the others' directories are looked at) */
        struct es_err e = {{0}};
        if (spill_setup(p, r->o.overload != REC_OVERLOAD_WAIT, &e))
            ES_ERROR("record",
                     "no spool for the workers (queues that fill drop audio, calls in "
                     "progress are not journaled): %s",
                     e.msg);
        if (p->spill_dir[0])
            journal_setup(p);
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
    if (p->syncer_started) {
        pthread_mutex_lock(&p->sync_mu);
        p->stopping = true;
        pthread_cond_signal(&p->sync_cv);
        pthread_mutex_unlock(&p->sync_mu);
        pthread_join(p->syncer, NULL);
        pthread_mutex_destroy(&p->sync_mu);
        pthread_cond_destroy(&p->sync_cv);
    }
    for (int i = 0; i < p->n; i++) {
        struct rec_worker *w = &p->w[i];
        rec_journal_close(w->journal);
        if (w->own_cat)
            catalog_close(w->cat);
        spool_close(w->sw);
        spool_reader_close(w->sr);
        free(w->buf);
        if (w->pool) {
            pthread_mutex_destroy(&w->mu);
            pthread_cond_destroy(&w->cv);
        }
    }
    if (p->spill_dir[0])
        remove_spill_dir(p->spill_dir, NULL);
    if (p->spill_lock >= 0)
        close(p->spill_lock);
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
