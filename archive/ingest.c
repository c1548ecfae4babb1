/* Archiving one job: hash, skip duplicates, gather metadata, decode, analyse
 * and encode in one pass, then make it durable in this order — temp file
 * fsynced, final path marked pending, rename, directory fsync, catalog commit —
 * and only then move or delete the input. A failure at any step leaves the
 * input in place and a copy with its reason in <data>/failed/. */
#include "archive/ingest_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 4096 /* frames per read */
/* Loudest sample of a recording that holds nothing: digital silence or
 * dither. Any real line has noise well above it. */
#define SILENT_PEAK 3.2e-4f

/* A source read at the output rate, optionally folded to mono (for legs). */
struct stage {
    struct audio_src *src;
    struct resampler *rs;
    int in_ch, out_ch;
    float raw[BLOCK * 2];
    const float *cur;
    size_t avail, off;
    int eof, drained;
};

static int stage_open(struct stage *st, const char *path, int out_rate, int mono,
                      struct es_err *err)
{
    int rc = audio_open(path, &st->src, err);
    if (rc)
        return rc;
    const struct audio_info *in = audio_info(st->src);
    st->in_ch = in->channels;
    st->out_ch = mono ? 1 : in->channels;
    if (in->rate != out_rate && (rc = resampler_new(in->rate, out_rate, st->out_ch, &st->rs)))
        return es_seterr(err, rc, "cannot resample %d Hz to %d Hz", in->rate, out_rate);
    return 0;
}

static void stage_close(struct stage *st)
{
    audio_close(st->src);
    resampler_free(st->rs);
}

/* Fills up to want frames; fewer only at the end of the source. */
static long stage_pull(struct stage *st, float *out, size_t want, struct es_err *err)
{
    size_t got = 0, ch = (size_t)st->out_ch;
    while (got < want) {
        if (st->off < st->avail) {
            size_t k = ES_MIN(want - got, st->avail - st->off);
            memcpy(out + got * ch, st->cur + st->off * ch, k * ch * sizeof(float));
            st->off += k;
            got += k;
            continue;
        }
        if (st->drained)
            break;
        long n = 0;
        if (!st->eof) {
            n = audio_read(st->src, st->raw, BLOCK, err);
            if (n < 0)
                return n;
            if (n == 0)
                st->eof = 1;
        }
        if (st->eof && !st->rs) {
            st->drained = 1;
            break;
        }
        if (n > 0 && st->in_ch == 2 && st->out_ch == 1)
            for (long i = 0; i < n; i++)
                st->raw[i] = 0.5f * (st->raw[2 * i] + st->raw[2 * i + 1]);
        st->cur = st->raw;
        if (st->rs) {
            n = resampler_run(st->rs, st->eof ? NULL : st->raw, st->eof ? 0 : (size_t)n, &st->cur);
            if (n < 0)
                return es_seterr(err, (int)n, "resampling failed");
            if (st->eof)
                st->drained = 1;
        }
        st->avail = (size_t)n;
        st->off = 0;
    }
    return (long)got;
}

struct work {
    struct ingest_session *s;
    struct catalog *c;
    const struct ingest_job *job;
    struct ingest_result *res;
    struct call_meta meta;
    struct archive_call call;
    struct archive_writer *aw;
    int64_t duration_ms;
    char path[512];
    struct stage st[2];
    int nst;
    int swap_legs; /* first leg is the operator's (outbound calls) */
    int rate, channels, source_rate;
    int64_t frames_hint;
};

static int fail(struct work *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct work *w, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->res->msg, sizeof w->res->msg, fmt, ap);
    va_end(ap);
    w->res->status = INGEST_FAILED;
    return code ? code : ES_EFORMAT;
}

/* "x-in.wav: " before a message about one leg of a pair, "" otherwise. */
static const char *leg(struct work *w, int i)
{
    static __thread char buf[600];
    if (w->job->nlegs < 2)
        return "";
    snprintf(buf, sizeof buf, "%s: ", es_basename(w->job->path[i]));
    return buf;
}

static int hash_inputs(struct work *w)
{
    uint8_t h[2][32];
    for (int i = 0; i < w->job->nlegs; i++) {
        int rc = es_sha256_file(w->job->path[i], h[i], NULL);
        if (rc)
            return fail(w, rc, "%scannot read: %s", leg(w, i), es_strerror(rc));
    }
    if (w->job->nlegs == 2) /* a pair is identified by both halves, in order */
        crypto_hash_sha256(h[0], (const unsigned char *)h, sizeof h);
    es_hex(h[0], 32, w->call.source_sha256);
    return 0;
}

static int sidecar_for(const char *path, const char *extra, struct call_meta *m, struct es_err *err,
                       char *used, size_t usedlen)
{
    char cand[3][4200];
    int n = 0;
    if (extra && !es_fmt(cand[n], sizeof cand[n], "%s", extra))
        n++;
    if (!es_fmt(cand[n], sizeof cand[n], "%s.json", path))
        n++;
    const char *dot = strrchr(es_basename(path), '.');
    if (dot && !es_fmt(cand[n], sizeof cand[n], "%.*s.json", (int)(dot - path), path))
        n++;
    for (int i = 0; i < n; i++) {
        struct es_buf b;
        int rc = es_read_file(cand[i], 1 << 20, &b);
        if (rc == -ENOENT)
            continue;
        if (rc)
            return es_seterr(err, rc, "sidecar %s: %s", cand[i], es_strerror(rc));
        rc = meta_parse_sidecar((const uint8_t *)b.data, b.len, m, err);
        es_buf_free(&b);
        if (rc) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            return es_seterr(err, rc, "sidecar %s: %s", cand[i], msg);
        }
        return es_fmt(used, usedlen, "%s", cand[i]);
    }
    return ES_ENOTFOUND;
}

/* Base name without the leg suffix, so "x-in.wav" parses as "x.wav". */
static void strip_leg(const struct ingest_opts *o, const char *path, char *out, size_t outlen)
{
    const char *base = es_basename(path);
    const char *dot = strrchr(base, '.');
    size_t stem = dot ? (size_t)(dot - base) : strlen(base);
    for (int i = 0; i < 2; i++) {
        size_t sl = strlen(o->leg_suffix[i]);
        if (sl && stem > sl && !strncmp(base + stem - sl, o->leg_suffix[i], sl)) {
            snprintf(out, outlen, "%.*s%s", (int)(stem - sl), base, dot ? dot : "");
            return;
        }
    }
    snprintf(out, outlen, "%s", base);
}

static int gather_meta(struct work *w, char sidecars[2][4200])
{
    const struct ingest_opts *o = &w->s->o;
    struct es_err err = {{0}};
    memset(&w->meta, 0, sizeof w->meta);
    for (int i = 0; i < w->job->nlegs; i++) {
        struct call_meta sc;
        int rc = sidecar_for(w->job->path[i], o->meta_file, &sc, &err, sidecars[i], 4200);
        if (rc == 0)
            meta_merge(&w->meta, &sc);
        else if (rc != ES_ENOTFOUND)
            return fail(w, rc, "%s%s", leg(w, i), err.msg);
    }
    char base[1024];
    strip_leg(o, w->job->path[0], base, sizeof base);
    struct call_meta fm;
    if (meta_parse_freepbx_name(base, &fm) == 0)
        meta_merge(&w->meta, &fm);
    if (o->pattern && meta_pattern_match(o->pattern, base, &fm) == 0)
        meta_merge(&w->meta, &fm);
    return 0;
}

static int open_sources(struct work *w)
{
    struct es_err err = {{0}};
    int max_rate = 0;
    w->nst = w->job->nlegs;
    /* probe the rates first so every leg lands on one output rate */
    for (int i = 0; i < w->nst; i++) {
        struct audio_src *probe;
        int rc = audio_open(w->job->path[i], &probe, &err);
        if (rc)
            return fail(w, rc, "%s%s", leg(w, i), err.msg);
        const struct audio_info *in = audio_info(probe);
        max_rate = ES_MAX(max_rate, in->rate);
        w->frames_hint =
            ES_MAX(w->frames_hint, in->frames < 0 ? -1 : in->frames * 48000 / in->rate);
        if (i == 0)
            w->channels = w->nst == 2 ? 2 : in->channels;
        audio_close(probe);
    }
    w->source_rate = max_rate;
    int cap = w->s->o.max_rate > 0 ? w->s->o.max_rate : INGEST_MAX_RATE;
    w->rate = opus_rate_for(ES_MIN(max_rate, cap));
    for (int i = 0; i < w->nst; i++) {
        int rc = stage_open(&w->st[i], w->job->path[i], w->rate, w->nst == 2, &err);
        if (rc)
            return fail(w, rc, "%s%s", leg(w, i), err.msg);
    }
    return 0;
}

/* started_at by trust: sidecar, file name, pattern, else mtime minus length. */
static void settle_time(struct work *w)
{
    if (w->meta.has[META_STARTED_AT])
        return;
    struct stat st;
    int64_t mtime = stat(w->job->path[0], &st) == 0
                        ? (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000
                        : es_now_ms();
    int64_t len_ms = w->frames_hint > 0 ? w->frames_hint / 48 : 0;
    w->meta.started_at = mtime - len_ms;
    w->meta.has[META_STARTED_AT] = true;
    w->meta.from[META_STARTED_AT] = "mtime";
}

static void fill_call(struct work *w)
{
    struct archive_call *k = &w->call;
    const struct call_meta *m = &w->meta;
    k->started_at = m->started_at;
    es_uuid7(k->started_at, k->id);
    snprintf(k->direction, sizeof k->direction, "%s",
             m->has[META_DIRECTION] ? m->direction : "unknown");
    memcpy(k->caller, m->caller, sizeof k->caller);
    memcpy(k->callee, m->callee, sizeof k->callee);
    memcpy(k->operator_, m->operator_, sizeof k->operator_);
    memcpy(k->customer, m->customer, sizeof k->customer);
    memcpy(k->queue, m->queue, sizeof k->queue);
    memcpy(k->external_id, m->external_id, sizeof k->external_id);
    snprintf(k->tags, sizeof k->tags, "%s", m->has[META_TAGS] ? m->tags : "[]");
    snprintf(k->source, sizeof k->source, "%s", w->s->o.source ? w->s->o.source : "ingest");
    snprintf(k->disposition, sizeof k->disposition, "answered");
    k->ring_ms = k->talk_ms = -1; /* a PBX file does not say */
    if (w->job->nlegs == 2)
        snprintf(k->source_ref, sizeof k->source_ref, "%s + %s", w->job->path[0], w->job->path[1]);
    else
        snprintf(k->source_ref, sizeof k->source_ref, "%s", w->job->path[0]);
    w->swap_legs = w->job->nlegs == 2 && !strcmp(k->direction, "outbound");
}

/* Pulls, analyses and encodes every sample. Legs are padded, never stretched. */
static int encode_all(struct work *w, struct archive_writer *aw)
{
    struct es_err err = {{0}};
    static __thread float a[BLOCK], b[BLOCK], inter[BLOCK * 2];
    for (;;) {
        long n;
        const float *pcm = inter;
        if (w->nst == 1) {
            n = stage_pull(&w->st[0], inter, BLOCK, &err);
            if (n < 0)
                return fail(w, (int)n, "%s", err.msg);
        } else {
            long n0 = stage_pull(&w->st[0], a, BLOCK, &err);
            long n1 = n0 < 0 ? 0 : stage_pull(&w->st[1], b, BLOCK, &err);
            if (n0 < 0 || n1 < 0)
                return fail(w, n0 < 0 ? (int)n0 : (int)n1, "%s%s", leg(w, n0 < 0 ? 0 : 1), err.msg);
            n = ES_MAX(n0, n1);
            const float *cust = w->swap_legs ? b : a, *oper = w->swap_legs ? a : b;
            long nc = w->swap_legs ? n1 : n0, no = w->swap_legs ? n0 : n1;
            for (long i = 0; i < n; i++) {
                inter[2 * i] = i < nc ? cust[i] : 0.0f;
                inter[2 * i + 1] = i < no ? oper[i] : 0.0f;
            }
        }
        if (n == 0)
            return 0;
        int rc = archive_writer_write(aw, pcm, (size_t)n, &err);
        if (rc)
            return fail(w, rc, "%s", err.msg);
    }
}

/* Decodes, analyses and encodes into a finished (not yet committed) file. */
static int write_audio(struct work *w)
{
    struct archive_format f = {.rate = w->rate,
                               .channels = w->channels,
                               .source_rate = w->source_rate,
                               .frames_hint = w->frames_hint};
    struct es_err err = {{0}};
    const struct archive_recording *rec;
    const struct archive_analysis *an;
    int rc = archive_writer_open(w->s, &w->call, &f, &w->aw, &err);
    if (rc)
        return fail(w, rc, "%s", err.msg);
    rc = encode_all(w, w->aw);
    if (rc)
        return rc;
    rc = archive_writer_finish(w->aw, &rec, &an, &err);
    if (rc)
        return fail(w, rc, "%s", err.msg);
    if (an->nbuckets == 0) /* not a single sample */
        return fail(w, ES_EEMPTY, "no audio (0 samples)");
    if (an->peak < SILENT_PEAK)
        return fail(w, ES_EEMPTY, "silent: the loudest sample is below -70 dBFS");
    w->duration_ms = rec->duration_ms;
    return 0;
}

/* Moves the file to its dated place and commits the rows. */
static int commit(struct work *w)
{
    struct es_err err = {{0}};
    meta_sources_json(&w->meta, w->call.meta_sources, sizeof w->call.meta_sources);
    int rc = archive_writer_commit(w->aw, w->c, &w->call, w->path, sizeof w->path, &err);
    if (rc == ES_EEXIST) {
        char id[ES_ID_LEN] = "";
        catalog_find_source(w->c, w->call.source_sha256, id);
        w->res->status = INGEST_SKIPPED;
        snprintf(w->res->msg, sizeof w->res->msg, "already archived as %s", id);
        return rc;
    }
    return rc ? fail(w, rc, "%s", err.msg) : 0;
}

static int move_or_delete(const struct ingest_opts *o, const char *path)
{
    if (o->disposition == INGEST_KEEP || !path[0])
        return 0;
    if (o->disposition == INGEST_DELETE)
        return unlink(path) == 0 ? 0 : -errno;
    char dst[4400];
    if (es_fmt(dst, sizeof dst, "%s/%s", o->move_to, es_basename(path)))
        return -ENAMETOOLONG;
    if (rename(path, dst) == 0)
        return es_fsync_dir(o->move_to);
    if (errno != EXDEV)
        return -errno;
    int rc = es_copy_file_durable(path, dst);
    return rc ? rc : (unlink(path) == 0 ? 0 : -errno);
}

/* After the commit (or when already archived): the input may go. */
static void release_inputs(struct work *w, char sidecars[2][4200])
{
    const struct ingest_opts *o = &w->s->o;
    for (int i = 0; i < w->job->nlegs; i++) {
        int rc = move_or_delete(o, w->job->path[i]);
        if (rc)
            ES_WARN("ingest", "%s: archived, but could not %s the input: %s", w->job->path[i],
                    o->disposition == INGEST_DELETE ? "delete" : "move", es_strerror(rc));
        if (sidecars[i][0] && (!o->meta_file || strcmp(sidecars[i], o->meta_file)))
            move_or_delete(o, sidecars[i]);
    }
}

/* Copies each input into <data>/failed/ with a .reason file and a row. */
static void quarantine(struct work *w)
{
    const struct ingest_opts *o = &w->s->o;
    for (int i = 0; i < w->job->nlegs; i++) {
        const char *in = w->job->path[i];
        char dst[4400], reason[4500];
        int rc = es_fmt(dst, sizeof dst, "%s/failed/%s", o->data_dir, es_basename(in));
        rc = rc ? rc : es_fmt(reason, sizeof reason, "%s.reason", dst);
        struct stat st;
        if (!rc && stat(in, &st) == 0 && S_ISREG(st.st_mode))
            rc = es_copy_file_durable(in, dst);
        if (!rc) {
            char line[1100];
            int n = snprintf(line, sizeof line, "%s: %s\n", in, w->res->msg);
            rc = es_write_file_durable(reason, line, (size_t)ES_MIN(n, (int)sizeof line - 1));
        }
        catalog_record_failure(w->c, in, w->call.source_sha256, w->res->msg, rc ? "" : dst);
        if (rc) {
            size_t l = strlen(w->res->msg);
            snprintf(w->res->msg + l, sizeof w->res->msg - l,
                     " (input left in place; copy to failed/ not possible: %s)", es_strerror(rc));
        } else if (o->disposition != INGEST_KEEP) {
            unlink(in); /* a copy is safe in failed/ */
        }
    }
}

void ingest_run(struct ingest_session *s, struct catalog *c, const struct ingest_job *job,
                struct ingest_result *res)
{
    struct work *w = calloc(1, sizeof *w);
    memset(res, 0, sizeof *res);
    if (!w) {
        res->status = INGEST_FAILED;
        snprintf(res->msg, sizeof res->msg, "out of memory");
        return;
    }
    w->s = s;
    w->c = c;
    w->job = job;
    w->res = res;
    char sidecars[2][4200] = {"", ""};
    char existing[ES_ID_LEN];
    if (hash_inputs(w))
        goto failed;
    if (catalog_find_source(c, w->call.source_sha256, existing) == 0) {
        res->status = INGEST_SKIPPED;
        snprintf(res->id, sizeof res->id, "%s", existing);
        snprintf(res->msg, sizeof res->msg, "already archived as %s", existing);
        gather_meta(w, sidecars);
        release_inputs(w, sidecars);
        goto out;
    }
    if (gather_meta(w, sidecars) || open_sources(w))
        goto failed;
    settle_time(w);
    fill_call(w);
    if (write_audio(w))
        goto failed;
    if (commit(w)) {
        if (res->status == INGEST_SKIPPED)
            goto out;
        goto failed;
    }
    res->status = INGEST_ARCHIVED;
    snprintf(res->id, sizeof res->id, "%s", w->call.id);
    snprintf(res->path, sizeof res->path, "%s", w->path);
    res->duration_ms = w->duration_ms;
    release_inputs(w, sidecars);
    goto out;
failed:
    quarantine(w);
out:
    archive_writer_free(w->aw);
    for (int i = 0; i < 2; i++)
        stage_close(&w->st[i]);
    free(w);
}
