/* Recordings cut short: the temp file a writer left when its process died
 * mid-call (kill -9, a power cut) holds the call's audio up to its last
 * checkpoint. It is read back up to its last whole Ogg page (a sealed file:
 * its last whole chunk, which authenticates), encoded again through a new
 * writer, so the archived file is a complete Ogg Opus file with its hash,
 * analysis and (with a keyring) a data key of its own, and catalogued.
 *
 * A sealed temp file is decrypted into memory (a memfd), never onto disk. */
#include "archive/ingest_int.h"
#include "archive/sealed.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int read_full(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    return (int)got;
}

/* The sealed temp file's whole chunks, decrypted into a memfd. */
static int unseal(const struct archive_partial *p, const char *call_id, int *out,
                  struct es_err *err)
{
    const struct archive_keyring *kr = archive_keyring_get();
    if (!kr)
        return es_seterr(err, ES_ESTATE, "%s is sealed and no encryption key file is set", p->tmp);
    uint8_t dk[32];
    int rc = archive_key_unwrap(kr, p->key_id, call_id, p->wrapped, sizeof p->wrapped, dk, err);
    if (rc)
        return rc;
    int fd = open(p->tmp, O_RDONLY | O_CLOEXEC);
    int mfd = memfd_create("earshot-recover", MFD_CLOEXEC);
    uint8_t h[ARCHIVE_SEAL_HEADER];
    uint8_t *ct = malloc(ARCHIVE_SEAL_CHUNK + ARCHIVE_SEAL_TAG), *pt = malloc(ARCHIVE_SEAL_CHUNK);
    if (fd < 0 || mfd < 0)
        rc = es_seterr(err, -errno, "%s: %s", p->tmp, strerror(errno));
    else if (!ct || !pt)
        rc = es_seterr(err, ES_ENOMEM, "out of memory");
    else if (read_full(fd, h, sizeof h) != (int)sizeof h || seal_check_header(h))
        rc = es_seterr(err, ES_EEMPTY, "%s: no whole chunk of audio", p->tmp);
    /* every chunk written before the end is full and not final: the first
     * one that is short or does not authenticate is where the process died */
    for (uint64_t i = 0; !rc; i++) {
        int n = read_full(fd, ct, ARCHIVE_SEAL_CHUNK + ARCHIVE_SEAL_TAG);
        if (n != ARCHIVE_SEAL_CHUNK + ARCHIVE_SEAL_TAG ||
            open_chunk(dk, h, i, false, ct, (size_t)n, pt))
            break;
        rc = es_write_all(mfd, pt, ARCHIVE_SEAL_CHUNK);
        if (rc)
            es_seterr(err, rc, "memfd: %s", strerror(-rc));
    }
    sodium_memzero(dk, sizeof dk);
    if (pt)
        sodium_memzero(pt, ARCHIVE_SEAL_CHUNK);
    free(ct);
    free(pt);
    if (fd >= 0)
        close(fd);
    if (rc) {
        if (mfd >= 0)
            close(mfd);
        return rc;
    }
    *out = mfd;
    return 0;
}

int archive_recover(struct ingest_session *s, struct catalog *c, const struct archive_partial *p,
                    struct archive_call *call, struct es_err *err)
{
    int mfd = -1, rc;
    char path[4400];
    if (p->sealed) {
        if ((rc = unseal(p, call->id, &mfd, err)))
            goto out;
        snprintf(path, sizeof path, "/proc/self/fd/%d", mfd);
    } else {
        snprintf(path, sizeof path, "%s", p->tmp);
    }
    struct audio_src *src = NULL;
    struct archive_writer *w = NULL;
    if ((rc = audio_open(path, &src, err))) {
        if (rc == ES_EFORMAT || rc == ES_EEMPTY || rc == ES_ECODEC) /* nothing whole in it */
            rc = es_seterr(err, ES_EEMPTY, "%s: no whole page of audio", p->tmp);
        goto out;
    }
    int channels = audio_info(src)->channels;
    if (channels != p->channels) {
        rc = es_seterr(err, ES_ECORRUPT, "%s: %d channels, the journal says %d", p->tmp, channels,
                       p->channels);
        goto out_src;
    }
    struct archive_format f = {.rate = p->rate,
                               .channels = channels,
                               .source_rate = p->source_rate,
                               .frames_hint = -1,
                               .bitrate = p->bitrate};
    const struct archive_recording *rec;
    const struct archive_analysis *an;
    if ((rc = archive_writer_open(s, call, &f, &w, err)) ||
        (rc = archive_reencode(w, src, p->rate, channels, 0, 0, err)) ||
        (rc = archive_writer_finish(w, &rec, &an, err)))
        goto out_src;
    if (!rec->duration_ms) {
        rc = es_seterr(err, ES_EEMPTY, "%s: no audio survived", p->tmp);
        goto out_src;
    }
    rc = archive_writer_commit(w, c, call, NULL, 0, err);
out_src:
    archive_writer_free(w);
    audio_close(src);
out:
    if (mfd >= 0)
        close(mfd);
    if (!rc || rc == ES_EEXIST || rc == ES_EEMPTY)
        unlink(p->tmp); /* catalogued, or nothing to keep */
    return rc;
}
