/* GET /api/v1/calls (filters, keyset pagination), /calls/{id}, its audio
 * (Range requests, sendfile) and its waveform peaks. Operators see only the
 * calls of their own extension; anything else answers 404. */
#include "review-server/http_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The list is written as JSON text directly: building a jansson tree per row
 * cost more than the query. */
/* a string literal, without counting by hand */
#define LIT(b, s) es_buf_append((b), (s), sizeof(s) - 1)

static int key(struct es_buf *b, const char *k)
{
    return es_buf_appendf(b, ",\"%s\":", k);
}

static int str_field(struct es_buf *b, const char *k, const char *v)
{
    int rc = key(b, k);
    return rc ? rc : es_json_string(b, v, strlen(v));
}

static int row_write(struct es_buf *b, const struct call_item *it)
{
    const struct catalog_call_row *c = it->call;
    char started[ES_ISO_LEN];
    es_time_iso(c->started_at, started);
    int rc = LIT(b, "{\"id\":");
    if (!rc)
        rc = es_json_string(b, c->id, strlen(c->id));
    if (!rc)
        rc = es_buf_appendf(b, ",\"started_at\":\"%s\",\"duration_ms\":%lld", started,
                            (long long)c->duration_ms);
    const struct {
        const char *key, *v;
    } texts[] = {{"direction", c->direction}, {"caller", c->caller},
                 {"callee", c->callee},       {"operator", c->operator_},
                 {"customer", c->customer},   {"disposition", c->disposition},
                 {"reason", c->reason}};
    for (size_t i = 0; i < ES_ARRAY_LEN(texts) && !rc; i++)
        rc = str_field(b, texts[i].key, texts[i].v);
    /* tags are a JSON array written by the catalog; anything else shows as [] */
    json_t *t = c->tags[0] ? json_loads(c->tags, 0, NULL) : NULL;
    char *tj = json_is_array(t) ? json_dumps(t, JSON_COMPACT) : NULL;
    if (!rc)
        rc = es_buf_appendf(b, ",\"tags\":%s,\"purged\":%s", tj ? tj : "[]",
                            c->purged ? "true" : "false");
    free(tj);
    json_decref(t);
    const struct eval_brief *e = it->ev;
    if (!rc && !e)
        return LIT(b, ",\"evaluation\":null}");
    if (!rc)
        rc = LIT(b, ",\"evaluation\":{\"id\":");
    if (!rc)
        rc = es_json_string(b, e->id, strlen(e->id));
    if (!rc)
        rc = es_buf_appendf(b, ",\"score\":%.1f,\"passed\":%s,\"critical_failed\":%s", e->score,
                            e->passed ? "true" : "false", e->critical_failed ? "true" : "false");
    if (!rc)
        rc = str_field(b, "status", e->status);
    return rc ? rc : LIT(b, "}}");
}

struct list {
    struct es_buf out;
    int n, limit;
    int64_t last_at;
    char last_id[ES_ID_LEN], next[96];
};

static int list_row(void *ud, const struct call_item *it)
{
    struct list *l = ud;
    if (l->n == l->limit) { /* a row beyond the page: the next page starts after the last */
        snprintf(l->next, sizeof l->next, "%lld_%s", (long long)l->last_at, l->last_id);
        return 1;
    }
    int rc = l->n ? LIT(&l->out, ",") : 0;
    if (!rc)
        rc = row_write(&l->out, it);
    l->last_at = it->call->started_at;
    snprintf(l->last_id, sizeof l->last_id, "%s", it->call->id);
    l->n++;
    return rc;
}

enum MHD_Result api_calls(struct req *r)
{
    struct calls_query q;
    enum MHD_Result res;
    if (calls_query_read(r, &q, true, &res))
        return res;
    struct list l = {.limit = q.limit};
    es_buf_init(&l.out, 64 << 20);
    struct es_err err = {{0}};
    int rc = LIT(&l.out, "{\"calls\":[");
    /* a list asks one row more than its page: is there a next one? */
    if (!rc && q.limit > 0)
        rc = calls_walk(r->w->cat, r->w->rs, &q, q.limit + 1, list_row, &l, &err);
    if (!rc)
        rc = l.next[0] ? es_buf_appendf(&l.out, "],\"next\":\"%s\"}", l.next)
                       : LIT(&l.out, "],\"next\":null}");
    if (rc) {
        es_buf_free(&l.out);
        if (err.msg[0])
            ES_ERROR("serve", "the call list: %s", err.msg);
        return http_error(r, 500, "the call list query failed");
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        l.out.len, l.out.data, MHD_RESPMEM_MUST_FREE); /* takes it */
    if (!resp) {
        es_buf_free(&l.out);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    http_common_headers(resp, true);
    return http_queue(r, 200, resp);
}

/* The call (allocated; the caller frees it), if this user may see it; a 404 is
 * queued otherwise and NULL returned. */
static struct archive_call *visible_call(struct req *r, struct archive_recording *rec,
                                         bool *has_rec, enum MHD_Result *res)
{
    struct archive_call *k = malloc(sizeof *k);
    if (!k) {
        *res = http_error(r, 500, "out of memory");
        return NULL;
    }
    if (catalog_get(r->w->cat, r->route.arg, k, rec, has_rec) ||
        !http_may_see_call(r, k->operator_)) {
        free(k);
        *res = http_error(r, 404, "no such call");
        return NULL;
    }
    return k;
}

enum MHD_Result api_call(struct req *r)
{
    struct archive_recording rec;
    bool has;
    enum MHD_Result res;
    struct archive_call *k = visible_call(r, &rec, &has, &res);
    if (!k)
        return res;
    json_t *o = archive_call_json(k, has ? &rec : NULL);
    struct eval_filter f = {.call_id = k->id, .status = -1};
    json_t *evals = http_visible_evals(r, &f);
    json_object_set_new(o, "evaluations", evals ? evals : json_array());
    free(k);
    return http_json(r, 200, o);
}

enum MHD_Result api_call_peaks(struct req *r)
{
    struct archive_recording rec;
    struct archive_analysis an = {0};
    bool has;
    enum MHD_Result res;
    struct archive_call *k = visible_call(r, &rec, &has, &res);
    if (!k)
        return res;
    free(k);
    if (catalog_get_analysis(r->w->cat, r->route.arg, &an))
        return http_error(r, 404, "this call has no analysis");
    json_t *o = archive_analysis_json(&an);
    /* per channel: min, max, min, max, ... one pair per bucket, in -128..127 */
    json_t *lanes = json_array();
    for (int c = 0; c < an.channels; c++) {
        json_t *lane = json_array();
        for (int b = 0; b < an.nbuckets && an.peaks; b++) {
            const int8_t *p = an.peaks + ((size_t)b * (size_t)an.channels + (size_t)c) * 2;
            json_array_append_new(lane, json_integer(p[0]));
            json_array_append_new(lane, json_integer(p[1]));
        }
        json_array_append_new(lanes, lane);
    }
    json_object_set_new(o, "peaks", lanes);
    archive_analysis_release(&an);
    return http_json(r, 200, o);
}

/* A sealed recording's plaintext, decrypted chunk by chunk as MHD sends it. */
struct sealed_body {
    struct archive_audio *a;
    uint64_t start;
};

static ssize_t sealed_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sealed_body *b = cls;
    struct es_err err = {{0}};
    long n = archive_audio_read(b->a, b->start + pos, buf, max, &err);
    if (n > 0)
        return n;
    if (n < 0)
        ES_ERROR("serve", "%s", err.msg);
    return MHD_CONTENT_READER_END_WITH_ERROR; /* cut short: the client sees it */
}

static void sealed_free(void *cls)
{
    struct sealed_body *b = cls;
    archive_audio_close(b->a);
    free(b);
}

enum MHD_Result api_call_audio(struct req *r)
{
    struct archive_recording rec;
    bool has;
    enum MHD_Result res;
    struct archive_call *k = visible_call(r, &rec, &has, &res);
    if (!k)
        return res;
    bool purged = k->purged_at != 0;
    free(k);
    if (!has || purged)
        return http_error(r, 404, "this call has no audio (missed, or removed by retention)");
    struct archive_audio *a = NULL;
    struct es_err err = {{0}};
    int orc = archive_audio_open(r->w->cat, r->route.arg, &a, &err);
    if (orc) {
        ES_ERROR("serve", "audio of call %s: %s", r->route.arg, err.msg);
        return orc == ES_ESTATE
                   ? http_error(r, 503, "%s", err.msg)
                   : http_error(r, 500, "the recording cannot be read; run 'earshot verify'");
    }
    /* sizes and ranges are the plaintext's: a sealed file is decrypted as sent */
    uint64_t size = archive_audio_size(a), start = 0, end = size ? size - 1 : 0;
    unsigned status = 200;
    const char *range = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Range");
    if (range) {
        int rc = http_range_parse(range, strlen(range), size, &start, &end);
        if (rc == ES_EINVAL) {
            archive_audio_close(a);
            char cr[64];
            snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
            struct MHD_Response *resp =
                MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            MHD_add_response_header(resp, "Content-Range", cr);
            http_common_headers(resp, true);
            return http_queue(r, 416, resp);
        }
        if (rc == 0)
            status = 206;
    }
    /* the first request of a listening is audited, whatever its range; the
     * ranges that follow (seeks) are part of it. No row, no audio. */
    int64_t now = es_now_ms();
    if (!listens_known(r->srv->listens, r->token, r->route.arg, now)) {
        char detail[128];
        snprintf(detail, sizeof detail, "{\"bytes\":%llu,\"range\":\"%llu-%llu\"}",
                 (unsigned long long)size, (unsigned long long)start, (unsigned long long)end);
        if (review_audit(r->w->rv, r->user.name, "audio", r->route.arg, detail, &err)) {
            archive_audio_close(a);
            ES_ERROR("serve", "audio of call %s not served: the audit log cannot be written: %s",
                     r->route.arg, err.msg);
            return http_error(r, 503, "the audit log cannot be written; try again");
        }
        listens_note(r->srv->listens, r->token, r->route.arg, now);
    }
    uint64_t len = size ? end - start + 1 : 0;
    struct MHD_Response *resp = NULL;
    if (!archive_audio_sealed(a)) { /* the file as it is: sent by the kernel */
        int fd = archive_audio_take_fd(a);
        archive_audio_close(a);
        resp = MHD_create_response_from_fd_at_offset64(len, fd, start); /* takes fd */
        if (!resp)
            close(fd);
    } else {
        struct sealed_body *b = malloc(sizeof *b);
        if (b) {
            b->a = a;
            b->start = start;
            /* 64 KiB at a time: a typical player's range in one write */
            resp = MHD_create_response_from_callback(len, 8 * ARCHIVE_SEAL_CHUNK, sealed_read, b,
                                                     sealed_free);
        }
        if (!resp) {
            if (b)
                sealed_free(b);
            else
                archive_audio_close(a);
        }
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "audio/ogg");
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    /* not kept in a shared PC's browser cache after logout */
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (status == 206) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)start,
                 (unsigned long long)end, (unsigned long long)size);
        MHD_add_response_header(resp, "Content-Range", cr);
    }
    http_common_headers(resp, false);
    return http_queue(r, status, resp);
}
