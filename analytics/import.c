/* Reading a PBX log from where the last reading stopped. A file is known by
 * its format and the SHA-256 of its first line (queue_log's and Master.csv's
 * first lines carry a time): the same file under another name is the same
 * file, a rotated or rewritten one is a new one. Its offset (the end of the
 * last whole line read) is committed in the same transaction as the events
 * of the lines before it, so a crash or kill -9 resumes exactly; a last line
 * without its newline is left for the next reading. */
#include "analytics/analytics_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK       (1u << 20)
#define MAX_LINE    (64u * 1024)
#define BATCH_LINES 20000

static const char *const format_names[] = {"queue_log", "cdr", "events"};

int pbx_format_parse(const char *name, enum pbx_format *out)
{
    for (size_t i = 0; i < ES_ARRAY_LEN(format_names); i++)
        if (!strcmp(name, format_names[i])) {
            *out = (enum pbx_format)i;
            return 0;
        }
    return ES_EINVAL;
}

const char *pbx_format_name(enum pbx_format f)
{
    return format_names[f];
}

struct reader {
    struct analytics *a;
    enum pbx_format f;
    struct pbx_json *json;
    void (*on_bad)(void *, int64_t, const char *);
    void *ud;
    struct pbx_import_result *res;
    int64_t line; /* of the file */
};

static int one_line(struct reader *r, const uint8_t *p, size_t len, struct es_err *err)
{
    r->line++;
    r->res->lines++;
    while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    if (!len)
        return 0; /* blank lines are nothing */
    struct pbx_event ev;
    const char *why = NULL;
    int rc = r->f == PBX_QUEUE_LOG ? pbx_parse_queue_log(p, len, &ev, &why)
             : r->f == PBX_CDR_CSV ? pbx_parse_cdr(p, len, &ev, &why)
                                   : pbx_parse_event(r->json, p, len, &ev, &why);
    if (rc == ES_EUNSUPP) {
        r->res->unknown++;
        return 0;
    }
    if (rc) {
        r->res->bad++;
        if (r->on_bad)
            r->on_bad(r->ud, r->line, why ? why : "not understood");
        return 0;
    }
    r->res->events++;
    return pbx_apply(r->a, &ev, err);
}

static int save(struct analytics *a, const char *identity, enum pbx_format f, const char *path,
                int64_t offset, int64_t lines, int64_t bad, struct es_err *err)
{
    struct db_stmt *st = an_stmt(a, AN_FILE_PUT);
    db_bind_text(st, 1, identity, -1);
    db_bind_text(st, 2, format_names[f], -1);
    db_bind_text(st, 3, path, -1);
    db_bind_int64(st, 4, offset);
    db_bind_int64(st, 5, lines);
    db_bind_int64(st, 6, bad);
    db_bind_int64(st, 7, es_now_ms());
    return an_step_done(a, st, "import position", err);
}

/* The identity of a file: format and the hash of its first whole line; "" while
 * it has none yet. */
static int identity_of(int fd, enum pbx_format f, char out[96])
{
    uint8_t buf[MAX_LINE];
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    if (n < 0)
        return -errno;
    const uint8_t *nl = memchr(buf, '\n', (size_t)n);
    out[0] = '\0';
    if (!nl)
        return n == (ssize_t)sizeof buf ? ES_EFORMAT : 0;
    uint8_t h[32];
    crypto_hash_sha256(h, buf, (unsigned long long)(nl - buf + 1));
    char hex[65];
    es_hex(h, 32, hex);
    snprintf(out, 96, "%s:%s", format_names[f], hex);
    return 0;
}

int pbx_import_file(struct analytics *a, enum pbx_format f, const char *path,
                    void (*on_bad)(void *ud, int64_t line, const char *why), void *ud,
                    struct pbx_import_result *res, struct es_err *err)
{
    memset(res, 0, sizeof *res);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return es_seterr(err, -errno, "%s: %s", path, strerror(errno));
    int rc = pbx_import_fd(a, f, fd, path, on_bad, ud, res, err);
    close(fd);
    return rc;
}

int pbx_import_fd(struct analytics *a, enum pbx_format f, int fd, const char *path,
                  void (*on_bad)(void *ud, int64_t line, const char *why), void *ud,
                  struct pbx_import_result *res, struct es_err *err)
{
    memset(res, 0, sizeof *res);
    char identity[96];
    int rc = identity_of(fd, f, identity);
    if (rc)
        return rc == ES_EFORMAT
                   ? es_seterr(err, rc, "%s: the first line is over %u bytes", path, MAX_LINE)
                   : es_seterr(err, rc, "%s: %s", path, es_strerror(rc));
    if (!identity[0]) /* not one whole line yet */
        return 0;
    an_memo_clear(a);                /* a mapping set since the last import applies */
    catalog_set_cache_mb(a->cat, 8); /* the indexes being written stay in memory */
    int64_t offset = 0, lines = 0;
    struct db_stmt *st = an_stmt(a, AN_FILE_GET);
    db_bind_text(st, 1, identity, -1);
    if (db_step(st) == DB_ROW) {
        offset = db_column_int64(st, 0);
        lines = db_column_int64(st, 1);
    }
    db_reset(st);
    res->skipped_lines = lines;
    struct reader r = {.a = a, .f = f, .on_bad = on_bad, .ud = ud, .res = res, .line = lines};
    uint8_t *buf = malloc(CHUNK + MAX_LINE);
    if (!buf || (f == PBX_EVENTS && pbx_json_new(&r.json)) || (!a->open && an_open_new(&a->open))) {
        free(buf);
        pbx_json_free(r.json);
        return es_seterr(err, ES_ENOMEM, "out of memory");
    }
    an_open_clear(a); /* calls in progress are kept in memory until they end */
    a->importing = true;
    bool outer;
    rc = catalog_tx_begin(a->db, &outer) ? es_seterr(err, ES_EDB, "catalog: cannot begin") : 0;
    size_t have = 0;       /* bytes in buf, from file position `offset` */
    bool skipping = false; /* inside an overlong line */
    int64_t batch = 0, bad_saved = 0;
    while (!rc) {
        ssize_t n = pread(fd, buf + have, CHUNK, offset + (int64_t)have);
        if (n < 0) {
            rc = es_seterr(err, -errno, "%s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        have += (size_t)n;
        size_t pos = 0;
        for (;;) {
            uint8_t *nl = memchr(buf + pos, '\n', have - pos);
            if (!nl)
                break;
            size_t len = (size_t)(nl - (buf + pos)) + 1;
            if (skipping) {
                skipping = false;
                r.line++;
                res->lines++;
                res->bad++;
                if (on_bad)
                    on_bad(ud, r.line, "a line over 64 KiB");
            } else if (!rc) {
                rc = one_line(&r, buf + pos, len, err);
            }
            pos += len;
            if (++batch == BATCH_LINES && !rc) { /* commit what is done, with its offset */
                rc = an_open_flush(a, err);      /* calls in progress: as far as they went */
                if (!rc)
                    rc = save(a, identity, f, path, offset + (int64_t)pos, r.line,
                              res->bad - bad_saved, err);
                bad_saved = res->bad;
                if (!rc)
                    rc = catalog_tx_end(a->db, outer, 0);
                if (!rc)
                    rc = catalog_tx_begin(a->db, &outer) ? ES_EDB : 0;
                batch = 0;
            }
        }
        offset += (int64_t)pos;
        memmove(buf, buf + pos, have - pos);
        have -= pos;
        if (have > MAX_LINE) { /* no newline in sight: drop it, and the rest of it */
            offset += (int64_t)have;
            have = 0;
            skipping = true;
        }
    }
    if (!rc)
        rc = an_open_flush(a, err);
    an_open_clear(a); /* the next import finds them in the table */
    a->importing = false;
    if (!rc)
        rc = save(a, identity, f, path, offset, r.line, res->bad - bad_saved, err);
    rc = catalog_tx_end(a->db, outer, rc);
    pbx_json_free(r.json);
    free(buf);
    return rc;
}
