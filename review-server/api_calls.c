/* GET /api/v1/calls (filters, keyset pagination), /calls/{id}, its audio
 * (Range requests, sendfile) and its waveform peaks. Operators see only the
 * calls of their own extension; anything else answers 404. */
#include "review-server/http_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The newest submitted evaluation of each call gives its score. */
const char *const worker_sql[WS_COUNT] = {
    [WS_CALLS] =
        "SELECT c.id, c.started_at, c.duration_ms, c.direction, c.caller, c.callee, c.operator,"
        " c.customer, c.disposition, c.reason, c.tags, coalesce(c.purged_at, 0),"
        " e.id, e.score, e.passed, e.critical_failed, e.status"
        " FROM calls c LEFT JOIN evaluations e ON e.n ="
        "  (SELECT max(x.n) FROM evaluations x WHERE x.call_id = c.id AND x.status != 'draft')"
        " WHERE (?1 = 0 OR c.started_at >= ?1) AND (?2 = 0 OR c.started_at < ?2)"
        " AND (?3 IS NULL OR c.operator = ?3) AND (?4 IS NULL OR c.direction = ?4)"
        " AND (?5 IS NULL OR c.disposition = ?5)"
        " AND (?6 IS NULL OR (?6 = 1) = (e.n IS NOT NULL))"
        " AND (?7 IS NULL OR e.score >= ?7) AND (?8 IS NULL OR e.score <= ?8)"
        " AND (?9 IS NULL OR EXISTS (SELECT 1 FROM evaluation_errors r"
        "      WHERE r.eval_n = e.n AND r.error_tag = ?9))"
        " AND (?10 IS NULL OR c.id = ?11 OR c.caller LIKE ?10 ESCAPE '\\'"
        "      OR c.callee LIKE ?10 ESCAPE '\\' OR c.customer LIKE ?10 ESCAPE '\\'"
        "      OR c.external_id LIKE ?10 ESCAPE '\\')"
        " AND (?12 IS NULL OR c.started_at < ?12 OR (c.started_at = ?12 AND c.id < ?13))"
        " ORDER BY c.started_at DESC, c.id DESC LIMIT ?14",
};

struct list_query {
    int64_t from, to;
    const char *operator_, *direction, *disposition, *error_tag, *q;
    int scored; /* -1 any, 0 unscored, 1 scored */
    double min_score, max_score;
    bool has_min, has_max;
    int64_t cursor_at;
    char cursor_id[ES_ID_LEN];
    int limit;
};

static bool one_of(const char *v, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (!strcmp(v, *allowed))
            return true;
    return false;
}

static int parse_time(struct req *r, const char *name, int64_t *out)
{
    const char *v = http_arg(r, name);
    if (!v)
        return 0;
    return es_time_parse(v, strlen(v), out) ? ES_EINVAL : 0;
}

static int parse_score(const char *v, double *out, bool *has)
{
    if (!v)
        return 0;
    char *end;
    double d = strtod(v, &end);
    if (!v[0] || *end || !(d >= 0 && d <= 100))
        return ES_EINVAL;
    *out = d;
    *has = true;
    return 0;
}

/* Reads and checks the filters; a 400 naming the bad one is queued on failure. */
static int read_query(struct req *r, struct list_query *q, enum MHD_Result *res)
{
    static const char *const directions[] = {"inbound", "outbound", "internal", "unknown", NULL};
    static const char *const dispositions[] = {"answered", "missed", NULL};
    memset(q, 0, sizeof *q);
    q->scored = -1;
    q->limit = 50;
    const char *bad = NULL;
    if (parse_time(r, "from", &q->from))
        bad = "from";
    else if (parse_time(r, "to", &q->to))
        bad = "to";
    q->operator_ = http_arg(r, "operator");
    q->direction = http_arg(r, "direction");
    q->disposition = http_arg(r, "disposition");
    q->error_tag = http_arg(r, "error_tag");
    q->q = http_arg(r, "q");
    if (!bad && q->direction && !one_of(q->direction, directions))
        bad = "direction";
    if (!bad && q->disposition && !one_of(q->disposition, dispositions))
        bad = "disposition";
    const char *scored = http_arg(r, "scored");
    if (!bad && scored) {
        if (!strcmp(scored, "true") || !strcmp(scored, "1"))
            q->scored = 1;
        else if (!strcmp(scored, "false") || !strcmp(scored, "0"))
            q->scored = 0;
        else
            bad = "scored";
    }
    if (!bad && parse_score(http_arg(r, "min_score"), &q->min_score, &q->has_min))
        bad = "min_score";
    if (!bad && parse_score(http_arg(r, "max_score"), &q->max_score, &q->has_max))
        bad = "max_score";
    const char *limit = http_arg(r, "limit");
    if (!bad && limit) {
        char *end;
        long n = strtol(limit, &end, 10);
        if (!limit[0] || *end || n < 1 || n > 1000)
            bad = "limit";
        else
            q->limit = (int)n;
    }
    const char *cursor = http_arg(r, "cursor");
    if (!bad && cursor) {
        /* "<started_at ms>_<call id>", as handed out in "next" */
        const char *us = strchr(cursor, '_');
        char *end;
        long long at = us ? strtoll(cursor, &end, 10) : 0;
        if (!us || end != us || at < 0 || !es_id_valid(us + 1))
            bad = "cursor";
        else {
            q->cursor_at = at;
            snprintf(q->cursor_id, sizeof q->cursor_id, "%s", us + 1);
        }
    }
    if (!bad && q->q && strlen(q->q) > 200)
        bad = "q";
    if (bad) {
        *res = http_error(r, 400, "bad value for the '%s' filter", bad);
        return ES_EINVAL;
    }
    /* operators see their own calls whatever they ask for */
    if (r->user.role == ROLE_OPERATOR) {
        if (q->operator_ && strcmp(q->operator_, r->user.operator_))
            q->limit = 0;
        q->operator_ = r->user.operator_;
    }
    return 0;
}

/* A LIKE pattern matching q anywhere, with %, _ and \ taken literally. */
static char *like_pattern(const char *q)
{
    size_t n = strlen(q);
    char *p = malloc(2 * n + 3), *o = p;
    if (!p)
        return NULL;
    *o++ = '%';
    for (; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\')
            *o++ = '\\';
        *o++ = *q;
    }
    *o++ = '%';
    *o = 0;
    return p;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

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
    struct list_query q;
    enum MHD_Result res;
    if (read_query(r, &q, &res))
        return res;
    char *like = q.q ? like_pattern(q.q) : NULL;
    sqlite3_stmt *st = r->w->st[WS_CALLS];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_int64(st, 1, q.from);
    sqlite3_bind_int64(st, 2, q.to);
    bind_opt(st, 3, q.operator_);
    bind_opt(st, 4, q.direction);
    bind_opt(st, 5, q.disposition);
    if (q.scored >= 0)
        sqlite3_bind_int(st, 6, q.scored);
    if (q.has_min)
        sqlite3_bind_double(st, 7, q.min_score);
    if (q.has_max)
        sqlite3_bind_double(st, 8, q.max_score);
    bind_opt(st, 9, q.error_tag);
    bind_opt(st, 10, like);
    bind_opt(st, 11, q.q);
    if (q.cursor_id[0]) {
        sqlite3_bind_int64(st, 12, q.cursor_at);
        sqlite3_bind_text(st, 13, q.cursor_id, -1, SQLITE_TRANSIENT);
    }
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
    free(like);
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
