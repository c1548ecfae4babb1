/* An operator's progress and coaching goals:
 *   GET  /api/v1/operators/{ext}/progress?from=&to=   the operator (own only) and supervisors
 *   POST /api/v1/operators/{ext}/goals                  supervisors and admins, audited
 * An operator asking for another extension gets a 404, as for a call not theirs. */
#include "review-server/http_int.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_WEEKS 12

static bool may_read(struct req *r, const char *ext, enum MHD_Result *res)
{
    if (r->user.role == ROLE_OPERATOR) {
        if (!http_may_see_call(r, ext)) {
            *res = http_error(r, 404, "no such operator");
            return false;
        }
        return true;
    }
    if (r->user.role == ROLE_COMPLIANCE) {
        *res = http_error(r, 403, "progress is for operators and their supervisors");
        return false;
    }
    return true;
}

static bool time_arg(struct req *r, const char *name, int64_t *out, enum MHD_Result *res)
{
    const char *v = http_arg(r, name);
    if (!v || !v[0])
        return true;
    if (es_time_parse(v, strlen(v), out)) {
        *res = http_error(r, 400, "%s=%s: expected a date (YYYY-MM-DD) or a time", name, v);
        return false;
    }
    return true;
}

static enum MHD_Result progress(struct req *r)
{
    enum MHD_Result res;
    const char *ext = r->route.arg;
    if (!may_read(r, ext, &res))
        return res;
    int64_t now = es_now_ms(), to = now, from = 0;
    if (!time_arg(r, "to", &to, &res) || !time_arg(r, "from", &from, &res))
        return res;
    if (!from)
        from = to - (int64_t)DEFAULT_WEEKS * 7 * 86400000;
    if (from >= to)
        return http_error(r, 400, "from must be before to");
    json_t *o;
    struct es_err err = {{0}};
    if (report_progress(r->w->rs, ext, from, to, now, &o, &err))
        return http_error(r, 500, "%s", err.msg);
    return http_json(r, 200, o);
}

static enum MHD_Result goal(struct req *r)
{
    if (r->user.role != ROLE_SUPERVISOR && r->user.role != ROLE_ADMIN)
        return http_error(r, 403, "only supervisors set coaching goals");
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    struct goal_new g = {
        .operator_ = r->route.arg,
        .kind = json_string_value(json_object_get(b, "kind")),
        .error_tag = json_string_value(json_object_get(b, "error_tag")),
        .note = json_string_value(json_object_get(b, "note")),
        .by = r->user.name,
        .max_errors = (int)json_integer_value(json_object_get(b, "max_errors")),
        .next_evaluations = (int)json_integer_value(json_object_get(b, "next_evaluations")),
        .weeks = (int)json_integer_value(json_object_get(b, "weeks")),
        .min_average = json_number_value(json_object_get(b, "min_average")),
    };
    struct es_err err = {{0}};
    bool outer;
    int64_t id = 0;
    int rc = http_tx_begin(r, &outer, &err);
    if (!rc)
        rc = goal_add(r->w->rs, &g, es_now_ms(), &id, &err);
    char *detail = NULL;
    if (!rc) {
        json_t *d = json_deep_copy(b);
        json_object_set_new(d, "id", json_integer(id));
        json_object_del(d, "note"); /* free text stays in the goal, not the log */
        detail = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(d);
    }
    rc = http_tx_audit_end(r, outer, rc, "coaching.goal", r->route.arg, detail, &err);
    free(detail);
    json_decref(b);
    if (rc == ES_EINVAL)
        return http_error(r, 400, "%s", err.msg);
    if (rc)
        return http_error(r, 500, "%s", err.msg[0] ? err.msg : es_strerror(rc));
    json_t *goals;
    if (goal_list(r->w->rs, r->route.arg, es_now_ms(), &goals, &err))
        return http_error(r, 500, "%s", err.msg);
    json_t *mine = NULL;
    size_t i;
    json_t *x;
    json_array_foreach(goals, i, x) if (json_integer_value(json_object_get(x, "id")) == id) mine =
        json_incref(x);
    json_decref(goals);
    return http_json(r, 201, mine ? mine : json_object());
}

enum MHD_Result api_coaching(struct req *r)
{
    return r->route.id == R_OP_PROGRESS ? progress(r) : goal(r);
}
