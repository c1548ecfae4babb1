/* The spool: an append-only journal file of typed records, the recorder's
 * disk behind its in-memory queues. Appends go to a buffer that reaches the
 * kernel in one write() when full or on spool_flush, so the capture thread
 * makes one system call per 64 KiB, never one per packet; spool_sync makes
 * what was flushed durable (the caller batches it, e.g. once a second).
 *
 * A record on disk: length (u32, of the type and payload), CRC-32 (u32, of
 * the type and payload), type (u16), payload. All little-endian. A reader
 * takes records in order and stops at the first one that is not complete
 * yet (a writer still going, or a tail torn by a crash) or whose CRC does not
 * match (a corrupt tail: ES_ECORRUPT), so a replay after a crash gives every
 * record that reached the disk whole, and nothing else.
 *
 * Disk space: below floor_bytes free on the spool's file system, appends are
 * refused (-ENOSPC) rather than filling the disk the archive needs; the free
 * space is looked at once per MiB written. */
#include "recorder/record_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define BUF_BYTES        (64u * 1024)
#define HDR_BYTES        10u /* length, CRC, type */
#define SPACE_EVERY      (1u << 20)
#define SPOOL_MAX_RECORD (1u << 20)

struct spool_writer {
    int fd;
    char path[4096];
    uint64_t floor_bytes;
    uint64_t bytes;       /* appended so far (flushed or not) */
    uint64_t since_space; /* bytes since the free space was last looked at */
    uint8_t buf[BUF_BYTES];
    size_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int spool_open(const char *path, uint64_t floor_bytes, struct spool_writer **out,
               struct es_err *err)
{
    *out = NULL;
    struct spool_writer *w = malloc(sizeof *w);
    if (!w)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    memset(w, 0, offsetof(struct spool_writer, buf));
    w->len = 0;
    w->floor_bytes = floor_bytes;
    if (es_fmt(w->path, sizeof w->path, "%s", path)) {
        free(w);
        return es_seterr(err, ES_ETOOBIG, "%s: path too long", path);
    }
    w->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (w->fd < 0) {
        int rc = es_seterr(err, -errno, "spool %s: %s", path, strerror(errno));
        free(w);
        return rc;
    }
    off_t end = lseek(w->fd, 0, SEEK_END);
    w->bytes = end > 0 ? (uint64_t)end : 0;
    *out = w;
    return 0;
}

/* Is there room above the floor for n more bytes? */
static bool room(struct spool_writer *w, size_t n)
{
    if (!w->floor_bytes)
        return true;
    w->since_space += n;
    if (w->since_space < SPACE_EVERY && w->bytes > 0)
        return true;
    w->since_space = 0;
    struct statvfs v;
    if (fstatvfs(w->fd, &v) != 0)
        return true; /* cannot tell: the write itself will say */
    return (uint64_t)v.f_bavail * v.f_frsize > w->floor_bytes + n;
}

int spool_flush(struct spool_writer *w)
{
    size_t off = 0;
    while (off < w->len) {
        ssize_t n = write(w->fd, w->buf + off, w->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* what did not fit stays in the buffer */
            int rc = n < 0 ? -errno : -EIO;
            memmove(w->buf, w->buf + off, w->len - off);
            w->len -= off;
            return rc;
        }
        off += (size_t)n;
    }
    w->len = 0;
    return 0;
}

static int append(struct spool_writer *w, uint16_t type, const void *p, size_t n, bool floor)
{
    if (n > SPOOL_MAX_RECORD)
        return ES_ETOOBIG;
    size_t need = HDR_BYTES + n;
    if (floor && !room(w, need))
        return -ENOSPC;
    if (w->len + need > BUF_BYTES) {
        int rc = spool_flush(w);
        if (rc)
            return rc;
    }
    uint8_t hdr[HDR_BYTES];
    uint8_t t[2] = {(uint8_t)type, (uint8_t)(type >> 8)};
    uint32_t crc = es_crc32(es_crc32(0, t, 2), p, n);
    put32(hdr, (uint32_t)(n + 2));
    put32(hdr + 4, crc);
    memcpy(hdr + 8, t, 2);
    if (need > BUF_BYTES) { /* bigger than the buffer: straight through */
        int rc = spool_flush(w);
        if (!rc && (write(w->fd, hdr, HDR_BYTES) != (ssize_t)HDR_BYTES ||
                    write(w->fd, p, n) != (ssize_t)n))
            rc = errno ? -errno : -EIO;
        if (!rc)
            w->bytes += need;
        return rc;
    }
    memcpy(w->buf + w->len, hdr, HDR_BYTES);
    if (n)
        memcpy(w->buf + w->len + HDR_BYTES, p, n);
    w->len += need;
    w->bytes += need;
    return 0;
}

int spool_append(struct spool_writer *w, uint16_t type, const void *p, size_t n)
{
    return append(w, type, p, n, true);
}

int spool_append_reserved(struct spool_writer *w, uint16_t type, const void *p, size_t n)
{
    return append(w, type, p, n, false);
}

int spool_sync(struct spool_writer *w)
{
    int rc = spool_flush(w);
    if (!rc && fdatasync(w->fd) != 0)
        rc = -errno;
    return rc;
}

uint64_t spool_bytes(const struct spool_writer *w)
{
    return w->bytes;
}

uint64_t spool_flushed(const struct spool_writer *w)
{
    return w->bytes - w->len;
}

int spool_close(struct spool_writer *w)
{
    if (!w)
        return 0;
    int rc = spool_flush(w);
    if (close(w->fd) != 0 && !rc)
        rc = -errno;
    free(w);
    return rc;
}

/* ---- reading ---------------------------------------------------------------- */

struct spool_reader {
    int fd;
    uint64_t off; /* the next record starts here */
    /* a window of the file, [at, at + len), read a chunk at a time */
    uint8_t *buf;
    size_t cap, len;
    uint64_t at;
};

int spool_reader_open(const char *path, uint64_t from, struct spool_reader **out,
                      struct es_err *err)
{
    *out = NULL;
    struct spool_reader *r = calloc(1, sizeof *r);
    if (!r)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        int rc = es_seterr(err, -errno, "spool %s: %s", path, strerror(errno));
        free(r);
        return rc;
    }
    r->off = r->at = from;
    *out = r;
    return 0;
}

/* Makes [off, off + n) of the file sit in the window: 0, or ES_EAGAIN when
 * the file does not hold it (yet). Reads a chunk at a time, so a reader
 * makes one system call per 64 KiB of small records. */
static int window(struct spool_reader *r, uint64_t off, size_t n)
{
    if (off >= r->at && off + n <= r->at + r->len)
        return 0;
    size_t want = n > BUF_BYTES ? n : BUF_BYTES;
    if (want > r->cap) {
        void *b = realloc(r->buf, want);
        if (!b)
            return ES_ENOMEM;
        r->buf = b;
        r->cap = want;
    }
    r->at = off;
    r->len = 0;
    while (r->len < n) {
        ssize_t k = pread(r->fd, r->buf + r->len, r->cap - r->len, (off_t)(off + r->len));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return ES_EAGAIN; /* not written (yet) */
        r->len += (size_t)k;
    }
    return 0;
}

int spool_next(struct spool_reader *r, uint16_t *type, const void **p, size_t *n)
{
    int rc = window(r, r->off, HDR_BYTES);
    if (rc)
        return rc;
    const uint8_t *hdr = r->buf + (r->off - r->at);
    uint32_t len = get32(hdr);
    if (len < 2 || len > SPOOL_MAX_RECORD + 2)
        return ES_ECORRUPT;
    size_t body = len - 2;
    if ((rc = window(r, r->off, HDR_BYTES + body)))
        return rc;
    hdr = r->buf + (r->off - r->at);
    const uint8_t *b = hdr + HDR_BYTES;
    if (es_crc32(es_crc32(0, hdr + 8, 2), b, body) != get32(hdr + 4))
        return ES_ECORRUPT;
    *type = (uint16_t)(hdr[8] | hdr[9] << 8);
    *p = b; /* never NULL, even for an empty payload */
    *n = body;
    r->off += HDR_BYTES + body;
    return 0;
}

uint64_t spool_reader_offset(const struct spool_reader *r)
{
    return r->off;
}

void spool_reader_close(struct spool_reader *r)
{
    if (!r)
        return;
    close(r->fd);
    free(r->buf);
    free(r);
}
