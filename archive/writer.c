/* The archive writer: the one durable path from samples to a catalogued
 * recording, shared by file ingest and the network recorder.
 *
 *   open    temp file <data>/archive/.tmp/<owner>-N.tmp, Opus writer, analyzer
 *   write   samples are analysed and encoded in the same pass
 *   finish  last frames, trimming, fsync; the caller may still refuse the audio
 *   commit  pending mark, rename into archive/YYYY/MM/DD/<id>.opus, directory
 *           fsyncs, then call + recording + analysis rows in one transaction
 *
 * archive_writer_free() on anything not committed removes the temp file. */
#include "archive/ingest_int.h"
#include "archive/sealed.h"

#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct archive_writer {
    struct ingest_session *s;
    int fd;
    char tmp[4400];
    struct opus_writer *ow;
    struct analyzer *an;
    struct archive_recording rec;
    struct archive_analysis result;
    int rate, channels;
    bool finished, committed;
};

static void tags_for(const struct archive_call *call, int channels, int rate,
                     char buf[7][ARCHIVE_FIELD_LEN + 32], const char **tags)
{
    char iso[ES_ISO_LEN];
    es_time_iso(call->started_at, iso);
    int n = 0;
    snprintf(buf[n++], sizeof buf[0], "EARSHOT_CALL_ID=%s", call->id);
    snprintf(buf[n++], sizeof buf[0], "DATE=%s", iso);
    if (call->operator_[0])
        snprintf(buf[n++], sizeof buf[0], "EARSHOT_OPERATOR=%s", call->operator_);
    if (call->caller[0])
        snprintf(buf[n++], sizeof buf[0], "EARSHOT_CALLER=%s", call->caller);
    if (call->callee[0])
        snprintf(buf[n++], sizeof buf[0], "EARSHOT_CALLEE=%s", call->callee);
    if (channels == 2)
        snprintf(buf[n++], sizeof buf[0], "EARSHOT_CHANNELS=customer,operator");
    /* OpusHead keeps the source's rate; the rate encoded is ours to say */
    snprintf(buf[n++], sizeof buf[0], "EARSHOT_RATE=%d", rate);
    for (int i = 0; i < n; i++)
        tags[i] = buf[i];
    tags[n] = NULL;
}

int archive_writer_open(struct ingest_session *s, const struct archive_call *call,
                        const struct archive_format *f, struct archive_writer **out,
                        struct es_err *err)
{
    *out = NULL;
    struct archive_writer *w = calloc(1, sizeof *w);
    if (!w)
        return ES_ENOMEM;
    w->s = s;
    w->rate = f->rate;
    w->channels = f->channels;
    pthread_mutex_lock(&s->mu);
    unsigned long seq = ++s->seq;
    pthread_mutex_unlock(&s->mu);
    es_fmt(w->tmp, sizeof w->tmp, "%s/%s-%lu.tmp", f->tmp_dir ? f->tmp_dir : s->tmp_dir, s->owner,
           seq);
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    int rc;
    if (w->fd < 0) {
        rc = es_seterr(err, -errno, "cannot create %s: %s", w->tmp, strerror(errno));
        w->tmp[0] = '\0';
        goto fail;
    }
    char tagbuf[7][ARCHIVE_FIELD_LEN + 32];
    const char *tags[8];
    tags_for(call, f->channels, f->rate, tagbuf, tags);
    /* encryption at rest: a data key of its own, kept wrapped for the catalog */
    uint8_t dk[32];
    const struct archive_keyring *kr = archive_keyring_get();
    if (kr) {
        randombytes_buf(dk, sizeof dk);
        archive_key_wrap(kr, call->id, dk, w->rec.wrapped, w->rec.key_id);
        w->rec.sealed = true;
    }
    struct opus_writer_opts wo = {.rate = f->rate,
                                  .channels = f->channels,
                                  .source_rate = f->source_rate,
                                  .bitrate = f->bitrate > 0     ? f->bitrate
                                             : f->channels == 2 ? s->o.bitrate_stereo
                                                                : s->o.bitrate_mono,
                                  .complexity = s->o.complexity,
                                  .tags = tags,
                                  .seal_key = kr ? dk : NULL};
    rc = opus_writer_new(w->fd, &wo, &w->ow, err);
    sodium_memzero(dk, sizeof dk);
    if (rc)
        goto fail;
    rc = analyzer_new(f->rate, f->channels, f->frames_hint, &w->an);
    if (rc) {
        es_seterr(err, rc, "analysis: %s", es_strerror(rc));
        goto fail;
    }
    w->rec.channels = f->channels;
    w->rec.sample_rate = f->rate;
    w->rec.source_rate = f->source_rate;
    w->rec.bitrate = wo.bitrate;
    *out = w;
    return 0;
fail:
    archive_writer_free(w);
    return rc;
}

int archive_writer_write(struct archive_writer *w, const float *pcm, size_t frames,
                         struct es_err *err)
{
    analyzer_feed(w->an, pcm, frames);
    int rc = opus_writer_write(w->ow, pcm, frames);
    return rc ? es_seterr(err, rc, "cannot write archive: %s", es_strerror(rc)) : 0;
}

int archive_writer_finish(struct archive_writer *w, const struct archive_recording **rec,
                          const struct archive_analysis **an, struct es_err *err)
{
    struct opus_writer_stats ws;
    int rc = opus_writer_finish(w->ow, &ws);
    if (rc)
        return es_seterr(err, rc, "cannot write archive: %s", es_strerror(rc));
    if (fsync(w->fd) != 0)
        return es_seterr(err, -errno, "cannot write archive: %s", strerror(errno));
    analyzer_finish(w->an, &w->result);
    w->rec.bytes = (int64_t)ws.file_bytes;
    es_hex(ws.sha256, 32, w->rec.sha256);
    w->rec.duration_ms = (int64_t)(ws.samples * 1000 / (uint64_t)w->rate);
    w->finished = true;
    *rec = &w->rec;
    *an = &w->result;
    return 0;
}

/* Closes the finished file and moves it to relpath in the archive with a
 * pending mark: on failure nothing is left there. */
static int move_in(struct archive_writer *w, struct catalog *c, const char *relpath,
                   struct es_err *err)
{
    if (!w->finished)
        return es_seterr(err, ES_EINVAL, "archive writer: file not finished");
    int fd = w->fd;
    w->fd = -1;
    if (close(fd) != 0)
        return es_seterr(err, -errno, "cannot write archive: %s", strerror(errno));
    int rc = catalog_pending_add(c, relpath, w->s->owner);
    if (rc)
        return es_seterr(err, rc, "catalog: cannot record pending file");
    rc = archive_file_place(c, w->tmp, relpath, err);
    if (rc) {
        catalog_pending_remove(c, relpath);
        return rc;
    }
    w->tmp[0] = '\0';
    return 0;
}

int archive_writer_commit(struct archive_writer *w, struct catalog *c, struct archive_call *call,
                          char *path_out, size_t pathlen, struct es_err *err)
{
    struct es_tm tm;
    es_tm_from_ms(call->started_at, &tm);
    snprintf(w->rec.path, sizeof w->rec.path, "archive/%04d/%02d/%02d/%s.opus%s", tm.year, tm.mon,
             tm.day, call->id, w->rec.sealed ? ".enc" : "");
    int rc = move_in(w, c, w->rec.path, err);
    if (rc)
        return rc;
    call->duration_ms = w->rec.duration_ms;
    call->ended_at = call->started_at + call->duration_ms;
    rc = catalog_insert_call(c, call, &w->rec, &w->result);
    if (rc) {
        struct es_err gone = {{0}};
        if (archive_file_remove(c, w->rec.path, &gone) == 0) /* else the pending mark stays */
            catalog_pending_remove(c, w->rec.path);
        return rc == ES_EEXIST ? rc
                               : es_seterr(err, rc, "cannot catalog: %s", catalog_strerror(c, rc));
    }
    w->committed = true;
    if (path_out)
        snprintf(path_out, pathlen, "%s", w->rec.path);
    return 0;
}

int archive_writer_place(struct archive_writer *w, struct catalog *c, const char *relpath,
                         struct archive_recording *rec, struct archive_analysis *an,
                         struct es_err *err)
{
    int rc = move_in(w, c, relpath, err);
    if (rc)
        return rc;
    *rec = w->rec;
    snprintf(rec->path, sizeof rec->path, "%s", relpath);
    *an = w->result; /* the peaks move to an */
    memset(&w->result, 0, sizeof w->result);
    w->committed = true;
    return 0;
}

int archive_writer_checkpoint(struct archive_writer *w, struct es_err *err)
{
    int rc = opus_writer_checkpoint(w->ow);
    return rc ? es_seterr(err, rc, "cannot write archive: %s", es_strerror(rc)) : 0;
}

void archive_writer_partial(const struct archive_writer *w, struct archive_partial *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->tmp, sizeof out->tmp, "%s", w->tmp);
    out->rate = w->rate;
    out->channels = w->channels;
    out->source_rate = w->rec.source_rate;
    out->bitrate = w->rec.bitrate;
    out->sealed = w->rec.sealed;
    memcpy(out->key_id, w->rec.key_id, sizeof out->key_id);
    memcpy(out->wrapped, w->rec.wrapped, sizeof out->wrapped);
}

void archive_writer_free(struct archive_writer *w)
{
    if (!w)
        return;
    opus_writer_free(w->ow);
    analyzer_free(w->an);
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp[0])
        unlink(w->tmp);
    archive_analysis_release(&w->result);
    free(w);
}
