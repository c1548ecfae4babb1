/* GET /api/v1/calls (filters, keyset pagination), /calls/{id}, its audio
 * (Range requests, sendfile) and its waveform peaks. Operators see only the
 * calls of their own extension; anything else answers 404. */
#include "review-server/http_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static json_t *row_json(sqlite3_stmt *st)
{
    char started[ES_ISO_LEN];
    es_time_iso(sqlite3_column_int64(st, 1), started);
    json_t *tags = json_loads((const char *)sqlite3_column_text(st, 10), 0, NULL);
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:b}", "id",
                          (const char *)sqlite3_column_text(st, 0), "started_at", started,
                          "duration_ms", (json_int_t)sqlite3_column_int64(st, 2), "direction",
                          (const char *)sqlite3_column_text(st, 3), "caller",
                          (const char *)sqlite3_column_text(st, 4), "callee",
                          (const char *)sqlite3_column_text(st, 5), "operator",
                          (const char *)sqlite3_column_text(st, 6), "customer",
                          (const char *)sqlite3_column_text(st, 7), "disposition",
                          (const char *)sqlite3_column_text(st, 8), "reason",
                          (const char *)sqlite3_column_text(st, 9), "tags",
                          tags ? tags : json_array(), "purged", sqlite3_column_int64(st, 11) != 0);
    if (sqlite3_column_type(st, 12) == SQLITE_NULL) {
        json_object_set_new(o, "evaluation", json_null());
        return o;
    }
    json_object_set_new(
        o, "evaluation",
        json_pack("{s:s, s:f, s:b, s:b, s:s}", "id", (const char *)sqlite3_column_text(st, 12),
                  "score", sqlite3_column_double(st, 13), "passed", sqlite3_column_int(st, 14),
                  "critical_failed", sqlite3_column_int(st, 15), "status",
                  (const char *)sqlite3_column_text(st, 16)));
    return o;
}

enum MHD_Result api_calls(struct req *r)
{
    struct calls_query q;
    enum MHD_Result res;
    if (calls_query_read(r, &q, true, &res))
        return res;
    sqlite3_stmt *st = calls_query_stmt(r->w, catalog_sqlite(r->w->cat), &q, CALLS_LIST);
    if (!st)
        return http_error(r, 500, "the call list query failed");
    sqlite3_bind_int(st, 14, q.limit + 1); /* one more says whether there is a next page */
    json_t *calls = json_array();
    int n = 0, step = SQLITE_DONE;
    char next[96] = "";
    int64_t last_at = 0;
    char last_id[ES_ID_LEN] = "";
    while (q.limit > 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == q.limit) { /* a row beyond the page: the next page starts after the last */
            snprintf(next, sizeof next, "%lld_%s", (long long)last_at, last_id);
            break;
        }
        json_array_append_new(calls, row_json(st));
        last_at = sqlite3_column_int64(st, 1);
        snprintf(last_id, sizeof last_id, "%s", (const char *)sqlite3_column_text(st, 0));
        n++;
    }
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        json_decref(calls);
        return http_error(r, 500, "the call list query failed");
    }
    return http_json(
        r, 200,
        json_pack("{s:o, s:o}", "calls", calls, "next", next[0] ? json_string(next) : json_null()));
}

/* The call, if this user may see it; a 404 is queued otherwise. */
static int visible_call(struct req *r, struct archive_call *k, struct archive_recording *rec,
                        bool *has_rec, enum MHD_Result *res)
{
    int rc = catalog_get(r->w->cat, r->route.arg, k, rec, has_rec);
    if (rc || !http_may_see_call(r, k->operator_)) {
        *res = http_error(r, 404, "no such call");
        return ES_ENOTFOUND;
    }
    return 0;
}

static int eval_row(void *ud, json_t *summary)
{
    struct {
        json_t *arr;
        bool hide_drafts;
    } *x = ud;
    const char *status = json_string_value(json_object_get(summary, "status"));
    if (!(x->hide_drafts && status && !strcmp(status, "draft")))
        json_array_append(x->arr, summary);
    return 0;
}

enum MHD_Result api_call(struct req *r)
{
    struct archive_call *k = malloc(sizeof *k);
    struct archive_recording rec;
    bool has;
    enum MHD_Result res;
    if (!k)
        return http_error(r, 500, "out of memory");
    if (visible_call(r, k, &rec, &has, &res)) {
        free(k);
        return res;
    }
    json_t *o = archive_call_json(k, has ? &rec : NULL);
    struct {
        json_t *arr;
        bool hide_drafts;
    } x = {json_array(), r->user.role == ROLE_OPERATOR};
    struct eval_filter f = {.call_id = k->id, .status = -1};
    eval_list(r->w->rs, &f, eval_row, &x);
    json_object_set_new(o, "evaluations", x.arr);
    free(k);
    return http_json(r, 200, o);
}

enum MHD_Result api_call_peaks(struct req *r)
{
    struct archive_call *k = malloc(sizeof *k);
    struct archive_recording rec;
    struct archive_analysis an = {0};
    bool has;
    enum MHD_Result res;
    if (!k)
        return http_error(r, 500, "out of memory");
    if (visible_call(r, k, &rec, &has, &res)) {
        free(k);
        return res;
    }
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

enum MHD_Result api_call_audio(struct req *r)
{
    struct archive_call *k = malloc(sizeof *k);
    struct archive_recording rec;
    bool has;
    enum MHD_Result res;
    if (!k)
        return http_error(r, 500, "out of memory");
    if (visible_call(r, k, &rec, &has, &res)) {
        free(k);
        return res;
    }
    bool purged = k->purged_at != 0;
    free(k);
    if (!has || purged)
        return http_error(r, 404, "this call has no audio (missed, or removed by retention)");
    char path[4700];
    snprintf(path, sizeof path, "%s/%s", r->srv->data_dir, rec.path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb)) {
        if (fd >= 0)
            close(fd);
        ES_ERROR("serve", "audio of call %s: %s: cannot open", r->route.arg, rec.path);
        return http_error(r, 500, "the recording cannot be read; run 'earshot verify'");
    }
    uint64_t size = (uint64_t)sb.st_size, start = 0, end = size ? size - 1 : 0;
    unsigned status = 200;
    const char *range = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Range");
    if (range) {
        int rc = http_range_parse(range, strlen(range), size, &start, &end);
        if (rc == ES_EINVAL) {
            close(fd);
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
    if (start == 0) { /* a playback or download starts; later ranges are seeks */
        struct es_err err;
        char detail[64];
        snprintf(detail, sizeof detail, "{\"bytes\":%llu}", (unsigned long long)size);
        review_audit(r->w->rv, r->user.name, "audio", r->route.arg, detail, &err);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(
        size ? end - start + 1 : 0, fd, (uint64_t)start); /* takes fd */
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "audio/ogg");
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    MHD_add_response_header(resp, "Cache-Control", "private, max-age=3600");
    if (status == 206) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)start,
                 (unsigned long long)end, (unsigned long long)size);
        MHD_add_response_header(resp, "Content-Range", cr);
    }
    http_common_headers(resp, false);
    return http_queue(r, status, resp);
}
