/* Redaction: a range of a recording made silent for good, on every channel.
 *
 *   decode   the archived Ogg Opus, back to samples at the rate it was encoded
 *   encode   the same samples with the range zeroed, analysed again, through
 *            the archive writer (temp file, fsync), then placed next to the
 *            old file as <id>.rN.opus with a pending mark
 *   commit   one transaction: recording row (path, hash, size), analysis, the
 *            redaction in the call's details, the caller's audit row, and a
 *            pending mark on the old file
 *   destroy  the old file overwritten with zeros, fsynced, removed
 *
 * A crash before the commit leaves the old recording catalogued and the new
 * file marked pending (the next session removes it); after it, the new one
 * catalogued and the old marked (removed the same way). Overwriting is what a
 * file system allows: a copy-on-write file system or an SSD may keep the old
 * blocks — encryption at rest is what makes them unreadable. */
#include "archive/catalog_int.h"
#include "archive/ingest_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK 4096 /* frames read at a time */

/* Zeroes the frames of [lo, hi) that fall in this block (which starts at pos). */
static void silence(float *pcm, size_t frames, int channels, int64_t pos, int64_t lo, int64_t hi)
{
    int64_t a = lo > pos ? lo : pos, b = hi < pos + (int64_t)frames ? hi : pos + (int64_t)frames;
    if (a < b)
        memset(pcm + (a - pos) * channels, 0, (size_t)(b - a) * (size_t)channels * sizeof *pcm);
}

int archive_reencode(struct archive_writer *w, struct audio_src *src, int rate, int channels,
                     int64_t lo, int64_t hi, struct es_err *err)
{
    const struct audio_info *in = audio_info(src);
    struct resampler *rs = NULL;
    if (in->rate != rate && resampler_new(in->rate, rate, channels, &rs))
        return es_seterr(err, ES_ENOMEM, "out of memory for the resampler");
    float *buf = malloc(sizeof(float) * CHUNK * (size_t)channels);
    float *copy = NULL;
    size_t copy_cap = 0;
    int64_t pos = 0;
    int rc = buf ? 0 : es_seterr(err, ES_ENOMEM, "out of memory");
    for (bool end = false; !rc && !end;) {
        long n = audio_read(src, buf, CHUNK, err);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        end = n == 0;
        const float *out = buf;
        long m = n;
        if (rs) {
            m = resampler_run(rs, end ? NULL : buf, end ? 0 : (size_t)n, &out);
            if (m < 0) {
                rc = es_seterr(err, (int)m, "resampling: %s", es_strerror((int)m));
                break;
            }
        }
        if (m <= 0)
            continue;
        if ((size_t)m > copy_cap) { /* the resampler's buffer is its own: zero a copy */
            float *p = realloc(copy, sizeof(float) * (size_t)m * (size_t)channels);
            if (!p) {
                rc = es_seterr(err, ES_ENOMEM, "out of memory");
                break;
            }
            copy = p;
            copy_cap = (size_t)m;
        }
        memcpy(copy, out, sizeof(float) * (size_t)m * (size_t)channels);
        silence(copy, (size_t)m, channels, pos, lo, hi);
        rc = archive_writer_write(w, copy, (size_t)m, err);
        pos += m;
    }
    free(copy);
    free(buf);
    resampler_free(rs);
    return rc;
}

/* <reldir>/<id>.rN.opus for the first N no file or row uses. */
static int new_path(struct catalog *c, const char *old, const char *id, bool sealed, char *out,
                    size_t n)
{
    char dir[512];
    es_dirname(old, dir, sizeof dir);
    for (int k = 1; k < 10000; k++) {
        if (es_fmt(out, n, "%s/%s.r%d.opus%s", dir, id, k, sealed ? ".enc" : ""))
            return ES_ETOOBIG;
        if (!archive_file_exists(c, out) && catalog_has_path(c, out) == 0)
            return 0;
    }
    return ES_EEXIST;
}

int archive_redact(struct ingest_session *s, struct catalog *c, const char *id,
                   const struct archive_redaction *r, int (*in_tx)(void *ud), void *ud,
                   struct es_err *err)
{
    struct archive_call *call = calloc(1, sizeof *call);
    struct archive_recording rec;
    bool has = false;
    if (!call)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    struct audio_src *src = NULL;
    struct archive_writer *w = NULL;
    struct archive_analysis an = {0};
    json_t *red = NULL;
    char *rj = NULL;
    int mfd = -1;
    int rc = catalog_get(c, id, call, &rec, &has);
    if (rc == ES_ENOTFOUND) {
        rc = es_seterr(err, rc, "no call %s", id);
        goto out;
    }
    if (rc) {
        rc = es_seterr(err, rc, "reading the catalog: %s", catalog_strerror(c, rc));
        goto out;
    }
    if (call->legal_hold) {
        rc = es_seterr(err, ES_ESTATE, "call %s is under legal hold: nothing in it may change", id);
        goto out;
    }
    if (!has || call->purged_at) {
        rc = es_seterr(err, ES_ESTATE, "call %s has no audio (%s)", id,
                       has ? "purged" : "a missed call");
        goto out;
    }
    int64_t to = r->to_ms > rec.duration_ms ? rec.duration_ms : r->to_ms;
    if (r->from_ms < 0 || r->from_ms >= rec.duration_ms || to <= r->from_ms) {
        rc = es_seterr(
            err, ES_EINVAL, "the range %.1f s to %.1f s is not inside the recording (0 to %.1f s)",
            (double)r->from_ms / 1000, (double)r->to_ms / 1000, (double)rec.duration_ms / 1000);
        goto out;
    }
    char mpath[64];
    /* the plaintext (decrypted if sealed) in memory, never on disk */
    struct archive_audio *aa = NULL;
    if ((rc = archive_audio_open(c, id, &aa, err)))
        goto out;
    mfd = memfd_create("earshot-redact", MFD_CLOEXEC);
    rc = mfd < 0 ? es_seterr(err, -errno, "memfd: %s", strerror(errno))
                 : archive_audio_copy(aa, mfd, err);
    archive_audio_close(aa);
    snprintf(mpath, sizeof mpath, "/proc/self/fd/%d", mfd);
    if (rc || (rc = audio_open(mpath, &src, err)))
        goto out;
    int channels = audio_info(src)->channels;
    if (channels != rec.channels) {
        rc = es_seterr(err, ES_ECORRUPT, "%s: %d channels, the catalog says %d", rec.path, channels,
                       rec.channels);
        goto out;
    }
    struct archive_format f = {.rate = rec.sample_rate,
                               .channels = channels,
                               .source_rate = rec.source_rate,
                               .frames_hint = -1,
                               .bitrate = rec.bitrate};
    if ((rc = archive_writer_open(s, call, &f, &w, err)))
        goto out;
    int64_t lo = r->from_ms * rec.sample_rate / 1000, hi = to * rec.sample_rate / 1000;
    const struct archive_recording *nrec;
    const struct archive_analysis *nan;
    if ((rc = archive_reencode(w, src, rec.sample_rate, channels, lo, hi, err)) ||
        (rc = archive_writer_finish(w, &nrec, &nan, err)))
        goto out;
    char rel[512];
    if ((rc = new_path(c, rec.path, id, archive_keyring_get() != NULL, rel, sizeof rel))) {
        rc = es_seterr(err, rc, "no name for the redacted file");
        goto out;
    }
    struct archive_recording placed;
    if ((rc = archive_writer_place(w, c, rel, &placed, &an, err)))
        goto out;
    red = json_pack("{s:I, s:I, s:s, s:I, s:s}", "from_ms", (json_int_t)r->from_ms, "to_ms",
                    (json_int_t)to, "by", r->by ? r->by : "", "at", (json_int_t)r->at, "reason",
                    r->reason ? r->reason : "");
    rj = red ? json_dumps(red, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    bool outer;
    rc = rj ? catalog_tx_begin(catalog_db(c), &outer) : ES_ENOMEM;
    if (!rc) {
        rc = catalog_replace_audio(c, id, &placed, &an, rj);
        if (!rc)
            rc = catalog_pending_add(c, rec.path, s->owner); /* the old file: to go */
        if (!rc && in_tx)
            rc = in_tx(ud);
        rc = catalog_tx_end(catalog_db(c), outer, rc);
    }
    if (rc) {
        struct es_err gone = {{0}};
        if (archive_file_remove(c, rel, &gone) == 0)
            catalog_pending_remove(c, rel);
        if (!err->msg[0])
            es_seterr(err, rc, "cannot catalog the redacted recording: %s",
                      catalog_strerror(c, rc));
        goto out;
    }
    audio_close(src);
    src = NULL;
    struct es_err gone = {{0}}; /* should it resist, the pending mark stays for the sweep */
    if (!archive_file_destroy(c, rec.path, &gone))
        catalog_pending_remove(c, rec.path);
out:
    free(rj);
    json_decref(red);
    archive_analysis_release(&an);
    archive_writer_free(w);
    audio_close(src);
    if (mfd >= 0)
        close(mfd);
    free(call);
    return rc;
}
