/* Rubrics for the scoring form, the recurring-error and score reports, and
 * the audit log. Operators get their own figures only; the audit log is for
 * admins and compliance staff. */
#include "review-server/http_int.h"

#include <stdlib.h>
#include <string.h>

/* from/to (default: the 30 days up to now), operator and repeat; 400 queued on failure. */
static int window(struct req *r, struct report_window *w, enum MHD_Result *res)
{
    memset(w, 0, sizeof *w);
    w->until = es_now_ms();
    w->repeat_threshold = 3;
    const char *from = http_arg(r, "from"), *to = http_arg(r, "to");
    const char *repeat = http_arg(r, "repeat");
    if (to && es_time_parse(to, strlen(to), &w->until)) {
        *res = http_error(r, 400, "bad value for the 'to' filter");
        return ES_EINVAL;
    }
    w->since = w->until - 30LL * 86400 * 1000;
    if (from && es_time_parse(from, strlen(from), &w->since)) {
        *res = http_error(r, 400, "bad value for the 'from' filter");
        return ES_EINVAL;
    }
    if (w->until <= w->since) {
        *res = http_error(r, 400, "'to' must be after 'from'");
        return ES_EINVAL;
    }
    if (repeat) {
        char *end;
        long n = strtol(repeat, &end, 10);
        if (!repeat[0] || *end || n < 1 || n > 1000000) {
            *res = http_error(r, 400, "bad value for the 'repeat' filter");
            return ES_EINVAL;
        }
        w->repeat_threshold = (int)n;
    }
    w->operator_ = http_arg(r, "operator");
    if (r->user.role == ROLE_OPERATOR)
        w->operator_ = r->user.operator_; /* their own figures, whatever was asked */
    return 0;
}

enum MHD_Result api_report_errors(struct req *r)
{
    struct report_window w;
    enum MHD_Result res;
    if (window(r, &w, &res))
        return res;
    struct report_errors rep;
    struct es_err err = {{0}};
    if (report_errors(r->w->rs, &w, &rep, &err))
        return http_error(r, 500, "%s", err.msg);
    json_t *rows = json_array(), *items = json_array();
    for (size_t i = 0; i < rep.nrows; i++) {
        const struct report_error_row *e = &rep.rows[i];
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:I, s:I, s:b, s:I}", "operator", e->operator_, "error_tag",
                            e->error_tag, "count", (json_int_t)e->count, "previous_count",
                            (json_int_t)e->previous_count, "repeat", e->repeat,
                            "after_acknowledgement", (json_int_t)e->repeats_after_ack));
    }
    for (size_t i = 0; i < rep.nitems; i++) {
        const struct report_item_row *it = &rep.items[i];
        json_array_append_new(items, json_pack("{s:s, s:s, s:I, s:I}", "rubric_id", it->rubric_id,
                                               "item_id", it->item_id, "answered",
                                               (json_int_t)it->answered, "failed",
                                               (json_int_t)it->failed));
    }
    char since[ES_ISO_LEN], until[ES_ISO_LEN];
    es_time_iso(w.since, since);
    es_time_iso(w.until, until);
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:{s:I, s:I, s:I}}", "from", since, "to", until,
                          "rows", rows, "items", items, "team", "evaluations",
                          (json_int_t)rep.evaluations, "errors", (json_int_t)rep.errors,
                          "previous_errors", (json_int_t)rep.previous_errors);
    report_errors_release(&rep);
    return http_json(r, 200, o);
}

static int score_row(void *ud, const struct report_score_row *row)
{
    double rate = row->evaluations
                      ? rubric_round1(100.0 * (double)row->passed / (double)row->evaluations)
                      : 0;
    json_array_append_new(ud, json_pack("{s:s, s:I, s:f, s:f, s:I}", "operator", row->operator_,
                                        "evaluations", (json_int_t)row->evaluations, "average",
                                        row->average, "pass_rate", rate, "passed",
                                        (json_int_t)row->passed));
    return 0;
}

enum MHD_Result api_report_scores(struct req *r)
{
    struct report_window w;
    enum MHD_Result res;
    if (window(r, &w, &res))
        return res;
    json_t *arr = json_array();
    struct es_err err = {{0}};
    if (report_scores(r->w->rs, &w, score_row, arr, &err)) {
        json_decref(arr);
        return http_error(r, 500, "%s", err.msg);
    }
    return http_json(r, 200, json_pack("{s:o}", "operators", arr));
}

static int rubric_row(void *ud, const struct rubric_info *in)
{
    json_array_append_new(ud, json_pack("{s:s, s:i, s:s, s:I}", "id", in->id, "version",
                                        in->version, "title", in->title, "evaluations",
                                        (json_int_t)in->evaluations));
    return 0;
}

enum MHD_Result api_rubrics(struct req *r)
{
    const char *id = http_arg(r, "id"), *version = http_arg(r, "version");
    if (!id) {
        json_t *arr = json_array();
        rubric_list(r->w->rs, rubric_row, arr);
        return http_json(r, 200, json_pack("{s:o}", "rubrics", arr));
    }
    long v = 0;
    if (version) {
        char *end;
        v = strtol(version, &end, 10);
        if (!version[0] || *end || v < 1 || v > 1000000)
            return http_error(r, 400, "bad value for 'version'");
    }
    struct rubric *rb;
    struct es_err err = {{0}};
    if (rubric_get(r->w->rs, id, (int)v, &rb, NULL, &err))
        return http_error(r, 404, "%s", err.msg);
    json_t *o = rubric_json(rb);
    rubric_free(rb);
    return http_json(r, 200, o);
}

static int audit_row(void *ud, const struct review_audit_row *a)
{
    char at[ES_ISO_LEN];
    es_time_iso(a->at, at);
    json_t *detail = json_loads(a->detail, 0, NULL);
    json_array_append_new(ud, json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "id", (json_int_t)a->id,
                                        "at", at, "actor", a->actor, "action", a->action, "target",
                                        a->target, "detail", detail ? detail : json_object()));
    return 0;
}

enum MHD_Result api_audit(struct req *r)
{
    struct review_audit_filter f = {
        .actor = http_arg(r, "actor"), .action = http_arg(r, "action"), .limit = 100};
    const char *from = http_arg(r, "from"), *to = http_arg(r, "to");
    const char *cursor = http_arg(r, "cursor"), *limit = http_arg(r, "limit");
    char *end;
    if ((from && es_time_parse(from, strlen(from), &f.since)) ||
        (to && es_time_parse(to, strlen(to), &f.until)))
        return http_error(r, 400, "bad value for the 'from' or 'to' filter");
    if (cursor) {
        f.before_id = strtoll(cursor, &end, 10);
        if (!cursor[0] || *end || f.before_id < 1)
            return http_error(r, 400, "bad value for 'cursor'");
    }
    if (limit) {
        f.limit = (int)strtol(limit, &end, 10);
        if (!limit[0] || *end || f.limit < 1 || f.limit > 1000)
            return http_error(r, 400, "bad value for 'limit'");
    }
    json_t *arr = json_array();
    if (review_audit_list(r->w->rv, &f, audit_row, arr)) {
        json_decref(arr);
        return http_error(r, 500, "the audit query failed");
    }
    size_t n = json_array_size(arr);
    json_t *next = json_null();
    if (n == (size_t)f.limit) {
        char c[24];
        snprintf(c, sizeof c, "%lld",
                 (long long)json_integer_value(json_object_get(json_array_get(arr, n - 1), "id")));
        next = json_string(c);
    }
    return http_json(r, 200, json_pack("{s:o, s:o}", "entries", arr, "next", next));
}

/* POST /score {rubric, version, answers, tags}: the score the answers would
 * get, for the live total of the scoring form; nothing is stored. */
enum MHD_Result api_score_preview(struct req *r)
{
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    const char *id = json_string_value(json_object_get(b, "rubric"));
    const json_t *v = json_object_get(b, "version");
    struct rubric *rb = NULL;
    struct es_err err = {{0}};
    struct {
        struct rubric_answers a;
        struct rubric_result res;
    } *w = malloc(sizeof *w);
    const char *tags[65];
    int rc = !w || !id
                 ? es_seterr(&err, ES_EINVAL, "expected {\"rubric\", \"answers\"}")
                 : rubric_get(r->w->rs, id, v ? (int)json_integer_value(v) : 0, &rb, NULL, &err);
    if (!rc)
        rc = rubric_answers_from_json(rb, json_object_get(b, "answers"), &w->a, &err);
    if (!rc)
        rc = rubric_score(rb, &w->a,
                          rubric_tag_list(json_object_get(b, "tags"), tags, ES_ARRAY_LEN(tags)),
                          &w->res, &err);
    json_t *o = rc ? NULL : rubric_result_json(rb, &w->res);
    rubric_free(rb);
    free(w);
    json_decref(b);
    return o ? http_json(r, 200, o) : http_error(r, rc == ES_ENOTFOUND ? 404 : 400, "%s", err.msg);
}

static int queue_row(void *ud, const char *op, const char *call_id, int64_t started_at)
{
    char at[ES_ISO_LEN];
    es_time_iso(started_at, at);
    json_array_append_new(
        ud, json_pack("{s:s, s:s, s:s}", "operator", op, "call_id", call_id, "started_at", at));
    return 0;
}

/* GET /queue?n&from&to&operator&seed: unscored calls per operator to review. */
enum MHD_Result api_queue(struct req *r)
{
    struct report_window w;
    enum MHD_Result res;
    if (window(r, &w, &res))
        return res;
    const char *n = http_arg(r, "n"), *seed = http_arg(r, "seed");
    char *end;
    long count = n ? strtol(n, &end, 10) : 5;
    if (n && (!n[0] || *end || count < 1 || count > 100))
        return http_error(r, 400, "bad value for 'n'");
    uint64_t sd = 0;
    if (seed) {
        sd = strtoull(seed, &end, 10);
        if (!seed[0] || *end)
            return http_error(r, 400, "bad value for 'seed'");
    } else {
        randombytes_buf(&sd, sizeof sd);
        sd %= 1000000000;
    }
    json_t *arr = json_array();
    struct es_err err = {{0}};
    if (report_sample(r->w->rs, &w, (int)count, sd, queue_row, arr, &err)) {
        json_decref(arr);
        return http_error(r, 500, "%s", err.msg);
    }
    return http_json(r, 200, json_pack("{s:I, s:o}", "seed", (json_int_t)sd, "calls", arr));
}
