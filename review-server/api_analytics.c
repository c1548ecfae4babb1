/* GET /api/v1/analytics/...: the call report, presence, the presence
 * timeline, staffing and the Erlang calculator, with the same JSON as the
 * commands. Supervisors and admins see everything, compliance reads it all;
 * operators see their own presence only. */
#include "review-server/http_int.h"

#include <stdlib.h>
#include <string.h>

/* from/to as local days (or ISO times); a 400 naming them otherwise. */
static int window(struct req *r, int64_t *f, int64_t *t, enum MHD_Result *res)
{
    if (analytics_window(http_arg(r, "from"), http_arg(r, "to"), f, t) == 0 &&
        *t - *f <= 400LL * 86400 * 1000)
        return 0;
    *res = http_error(r, 400,
                      "bad value for the 'from' or 'to' filter (YYYY-MM-DD, at most"
                      " 400 days)");
    return ES_EINVAL;
}

/* A number argument in [lo, hi], or def when absent; false with a 400 queued. */
static bool num(struct req *r, const char *name, double lo, double hi, double def, double *out,
                enum MHD_Result *res)
{
    const char *v = http_arg(r, name);
    *out = def;
    if (!v)
        return true;
    char *end;
    double d = strtod(v, &end);
    if (!v[0] || *end || !(d >= lo && d <= hi)) {
        *res = http_error(r, 400, "bad value for the '%s' filter", name);
        return false;
    }
    *out = d;
    return true;
}

enum MHD_Result api_an_calls(struct req *r)
{
    enum MHD_Result res;
    struct an_query q = {0};
    double sl;
    if (window(r, &q.from, &q.to, &res) || !num(r, "sl_seconds", 1, 3600, 20, &sl, &res))
        return res;
    q.sl_seconds = (int)sl;
    q.queue = http_arg(r, "queue");
    q.segment = http_arg(r, "segment");
    q.country_code = r->srv->country_code[0] ? r->srv->country_code : NULL;
    if (q.segment && strcmp(q.segment, "b2b") && strcmp(q.segment, "b2c"))
        return http_error(r, 400, "bad value for the 'segment' filter (b2b or b2c)");
    q.hours = r->srv->has_hours ? &r->srv->hours : NULL;
    const char *by = http_arg(r, "by");
    q.by = !by                           ? AN_BY_NONE
           : !strcmp(by, "hour")         ? AN_BY_HOUR
           : !strcmp(by, "day")          ? AN_BY_DAY
           : !strcmp(by, "weekday-hour") ? AN_BY_WEEKDAY_HOUR
                                         : (enum an_by) - 1;
    if ((int)q.by < 0)
        return http_error(r, 400, "bad value for the 'by' filter (hour, day, weekday-hour)");
    struct an_summary s;
    struct an_bucket *b;
    size_t nb;
    struct es_err err = {{0}};
    if (analytics_calls(r->w->an, &q, &s, &b, &nb, &err))
        return http_error(r, 500, "%s", err.msg);
    json_t *o = json_pack("{s:o, s:[]}", "summary", analytics_summary_json(&s), "buckets");
    json_t *arr = json_object_get(o, "buckets");
    for (size_t i = 0; i < nb; i++)
        json_array_append_new(arr, analytics_bucket_json(&b[i], q.by));
    free(b);
    /* per queue, for the table (without a queue filter) */
    json_t *queues = json_array();
    char names[32][64];
    size_t nq = 0;
    if (!q.queue && !analytics_queues(r->w->an, q.from, q.to, names, 32, &nq, &err))
        for (size_t i = 0; i < nq; i++) {
            struct an_query one = q;
            one.queue = names[i];
            one.by = AN_BY_NONE;
            if (analytics_calls(r->w->an, &one, &s, &b, &nb, &err))
                break;
            json_t *row = analytics_summary_json(&s);
            json_object_set_new(row, "queue", json_string(names[i]));
            json_array_append_new(queues, row);
            free(b);
        }
    json_object_set_new(o, "queues", queues);
    return http_json(r, 200, o);
}

/* Operators: their own only, whatever they ask for. */
static const char *operator_filter(struct req *r)
{
    return r->user.role == ROLE_OPERATOR ? r->user.operator_ : http_arg(r, "operator");
}

enum MHD_Result api_an_presence(struct req *r)
{
    enum MHD_Result res;
    int64_t f, t;
    if (window(r, &f, &t, &res))
        return res;
    struct an_presence *rows;
    size_t n;
    struct es_err err = {{0}};
    if (analytics_presence(r->w->an, f, t, operator_filter(r), &rows, &n, &err))
        return http_error(r, 500, "%s", err.msg);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, analytics_presence_json(&rows[i]));
    free(rows);
    return http_json(r, 200, json_pack("{s:o}", "operators", arr));
}

static int segment(void *ud, const struct an_segment *g)
{
    char a[ES_ISO_LEN], b[ES_ISO_LEN];
    es_time_iso(g->from, a);
    es_time_iso(g->to, b);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "operator", g->operator_, "from", a, "to", b,
                          "state", g->state);
    if (g->reason && g->reason[0])
        json_object_set_new(o, "reason", json_string(g->reason));
    json_array_append_new(ud, o);
    return 0;
}

enum MHD_Result api_an_timeline(struct req *r)
{
    enum MHD_Result res;
    int64_t f, t;
    if (window(r, &f, &t, &res))
        return res;
    if (t - f > 7LL * 86400 * 1000)
        return http_error(r, 400, "a timeline covers at most 7 days");
    json_t *arr = json_array();
    struct es_err err = {{0}};
    if (analytics_timeline(r->w->an, f, t, operator_filter(r), segment, arr, &err)) {
        json_decref(arr);
        return http_error(r, 500, "%s", err.msg);
    }
    return http_json(r, 200, json_pack("{s:o}", "segments", arr));
}

/* target_s, model (c|a) and patience_s, shared by staffing and erlang */
static bool model(struct req *r, struct erlang_in *in, enum MHD_Result *res)
{
    const char *m = http_arg(r, "model");
    if (m && strcmp(m, "c") && strcmp(m, "a")) {
        *res = http_error(r, 400, "bad value for the 'model' filter (c or a)");
        return false;
    }
    in->model = m && !strcmp(m, "a") ? ERLANG_A : ERLANG_C;
    if (!num(r, "target_s", 0, 1e5, 20, &in->target_s, res) ||
        !num(r, "patience_s", 1, 1e6, in->model == ERLANG_A ? 0 : 1, &in->patience_s, res))
        return false;
    if (in->model == ERLANG_A && !in->patience_s) {
        *res = http_error(r, 400, "bad value for the 'patience_s' filter (Erlang A needs it)");
        return false;
    }
    return true;
}

enum MHD_Result api_an_staffing(struct req *r)
{
    enum MHD_Result res;
    struct an_staffing_query q = {0};
    if (window(r, &q.from, &q.to, &res) ||
        !num(r, "service_level", 0.01, 0.9999, 0.8, &q.level, &res) ||
        !num(r, "shrinkage", 0, 0.95, 0.3, &q.shrinkage, &res) || !model(r, &q.model, &res))
        return res;
    struct an_staffing_row rows[168];
    size_t n;
    struct es_err err = {{0}};
    if (analytics_staffing(r->w->an, &q, rows, &n, &err))
        return http_error(r, 500, "%s", err.msg);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, analytics_staffing_json(&rows[i]));
    return http_json(r, 200, json_pack("{s:o}", "hours", arr));
}

enum MHD_Result api_an_erlang(struct req *r)
{
    enum MHD_Result res;
    struct erlang_in in = {0};
    double level, agents;
    if (!num(r, "calls", 0, 1e7, -1, &in.calls, &res) ||
        !num(r, "period_s", 1, 1e7, 3600, &in.period_s, &res) ||
        !num(r, "aht_s", 1, 1e5, -1, &in.aht_s, &res) ||
        !num(r, "service_level", 0.01, 0.9999, -1, &level, &res) ||
        !num(r, "agents", 1, 2000, -1, &agents, &res) || !model(r, &in, &res))
        return res;
    if (in.calls < 0 || in.aht_s < 0 || (level < 0) == (agents < 0))
        return http_error(r, 400, "expected calls, aht_s and one of service_level or agents");
    struct erlang_out out;
    int rc = agents > 0 ? erlang_eval(&in, (int)agents, &out) : erlang_agents(&in, level, &out);
    if (rc)
        return http_error(r, 422, "%s",
                          rc == ES_ETOOBIG ? "not reachable with 2,000 agents"
                                           : "these agents cannot carry the load: the queue"
                                             " grows without end");
    return http_json(r, 200, analytics_erlang_json(&out, in.model));
}
