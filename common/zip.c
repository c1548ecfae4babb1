/* A ZIP archive written as it goes, entries stored (not deflated: Ogg Opus
 * and JSON exports gain little from it, and nothing here needs zlib), with
 * CRC-32 and sizes in each local header (known before each entry is written)
 * and the central directory at the end. ZIP64 is not written: the writer
 * refuses more than 4 GiB or 65,535 entries. */
#include "common/common.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct zip_entry {
    char *name;
    uint32_t crc, size, offset;
};

struct es_zip {
    int fd;
    uint64_t off;
    struct zip_entry *v;
    size_t n, cap;
    int failed;
};

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t es_crc32(uint32_t crc, const void *p, size_t n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT; /* the spool checks from two threads */
    pthread_once(&once, crc_init);
    const uint8_t *b = p;
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int out(struct es_zip *z, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n && !z->failed) {
        ssize_t w = write(z->fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            z->failed = -errno;
            break;
        }
        b += w;
        n -= (size_t)w;
        z->off += (uint64_t)w;
    }
    return z->failed;
}

int es_zip_open(int fd, struct es_zip **out_z)
{
    struct es_zip *z = calloc(1, sizeof *z);
    if (!z)
        return ES_ENOMEM;
    z->fd = fd;
    *out_z = z;
    return 0;
}

int es_zip_add(struct es_zip *z, const char *name, const void *data, size_t n)
{
    size_t nl = strlen(name);
    if (z->failed)
        return z->failed;
    if (z->off + n + nl + 30 > 0xFFFFFFFFu || z->n == 65535 || nl > 1024 || !nl)
        return z->failed = ES_ETOOBIG;
    if (z->n == z->cap) {
        size_t cap = z->cap ? z->cap * 2 : 16;
        struct zip_entry *v = realloc(z->v, cap * sizeof *v);
        if (!v)
            return z->failed = ES_ENOMEM;
        z->v = v;
        z->cap = cap;
    }
    struct zip_entry *e = &z->v[z->n];
    e->name = strdup(name);
    if (!e->name)
        return z->failed = ES_ENOMEM;
    z->n++;
    e->crc = es_crc32(0, data, n);
    e->size = (uint32_t)n;
    e->offset = (uint32_t)z->off;
    uint8_t h[30] = {0};
    put32(h, 0x04034b50);
    put16(h + 4, 20);      /* version needed: 2.0 */
    put16(h + 6, 1 << 11); /* names in UTF-8 */
    put16(h + 8, 0);       /* stored */
    put16(h + 10, 0);      /* time 00:00 */
    put16(h + 12, 0x21);   /* date 1980-01-01 */
    put32(h + 14, e->crc);
    put32(h + 18, e->size);
    put32(h + 22, e->size);
    put16(h + 26, (unsigned)nl);
    out(z, h, sizeof h);
    out(z, name, nl);
    return out(z, data, n);
}

int es_zip_close(struct es_zip *z)
{
    if (!z)
        return 0;
    uint64_t start = z->off;
    for (size_t i = 0; i < z->n && !z->failed; i++) {
        const struct zip_entry *e = &z->v[i];
        size_t nl = strlen(e->name);
        uint8_t h[46] = {0};
        put32(h, 0x02014b50);
        put16(h + 4, 0x031e); /* made by: Unix, 3.0 */
        put16(h + 6, 20);
        put16(h + 8, 1 << 11);
        put16(h + 14, 0x21);
        put32(h + 16, e->crc);
        put32(h + 20, e->size);
        put32(h + 24, e->size);
        put16(h + 28, (unsigned)nl);
        put32(h + 38, 0100600u << 16); /* a regular file, rw------- */
        put32(h + 42, e->offset);
        out(z, h, sizeof h);
        out(z, e->name, nl);
    }
    uint8_t end[22] = {0};
    put32(end, 0x06054b50);
    put16(end + 8, (unsigned)z->n);
    put16(end + 10, (unsigned)z->n);
    put32(end + 12, (uint32_t)(z->off - start));
    put32(end + 16, (uint32_t)start);
    if (z->off > 0xFFFFFFFFu)
        z->failed = ES_ETOOBIG;
    out(z, end, sizeof end);
    int rc = z->failed;
    for (size_t i = 0; i < z->n; i++)
        free(z->v[i].name);
    free(z->v);
    free(z);
    return rc;
}
