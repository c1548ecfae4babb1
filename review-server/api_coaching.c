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

enum MHD_Result api_op_progress(struct req *r)
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

enum MHD_Result api_op_goal_add(struct req *r)
{
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

/* ---- calibration: supervisors and admins ------------------------------------------ */

static enum MHD_Result cal_error(struct req *r, int rc, const struct es_err *err)
{
    unsigned code = rc == ES_EINVAL ? 400 : rc == ES_ENOTFOUND ? 404 : rc == ES_ESTATE ? 409 : 500;
    return http_error(r, code, "%s", err->msg[0] ? err->msg : es_strerror(rc));
}

enum MHD_Result api_cal_create(struct req *r)
{
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    const char *call = json_string_value(json_object_get(b, "call_id"));
    const char *rubric = json_string_value(json_object_get(b, "rubric"));
    json_t *list = json_object_get(b, "reviewers");
    const char *names[32];
    size_t n = json_array_size(list), i;
    json_t *v;
    bool ok = call && rubric && json_is_array(list) && n <= 32;
    json_array_foreach(list, i, v) if (ok && !(names[i] = json_string_value(v))) ok = false;
    if (!ok) {
        json_decref(b);
        return http_error(
            r, 400, "expected {\"call_id\", \"rubric\", \"version\"?, \"reviewers\": [names]}");
    }
    struct es_err err = {{0}};
    bool outer;
    char id[ES_ID_LEN] = "";
    int rc = http_tx_begin(r, &outer, &err);
    if (!rc)
        rc = calib_create(r->w->rs, call, rubric,
                          (int)json_integer_value(json_object_get(b, "version")), names, (int)n,
                          r->user.name, id, &err);
    json_t *d = json_pack("{s:s, s:O}", "call_id", call, "reviewers", list);
    char *ds = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    rc = http_tx_audit_end(r, outer, rc, "calibration.create", id, ds, &err);
    free(ds);
    json_decref(b);
    if (rc)
        return cal_error(r, rc, &err);
    json_t *o;
    if ((rc = calib_get(r->w->rs, id, r->user.name, true, &o, &err)))
        return cal_error(r, rc, &err);
    return http_json(r, 201, o);
}

static enum MHD_Result cal_answers(struct req *r, bool reference)
{
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    json_t *answers = json_object_get(b, "answers");
    if (!json_is_object(answers)) {
        json_decref(b);
        return http_error(r, 400, "expected {\"answers\": {\"item-id\": answer, ...}}");
    }
    struct es_err err = {{0}};
    bool outer;
    int rc = http_tx_begin(r, &outer, &err);
    if (!rc)
        rc = reference ? calib_reference(r->w->rs, r->route.arg, r->user.name, answers, &err)
                       : calib_submit(r->w->rs, r->route.arg, r->user.name, answers, &err);
    rc = http_tx_audit_end(r, outer, rc, reference ? "calibration.reference" : "calibration.submit",
                           r->route.arg, NULL, &err);
    json_decref(b);
    if (rc)
        return cal_error(r, rc, &err);
    json_t *o;
    if ((rc =
             calib_get(r->w->rs, r->route.arg, r->user.name, r->user.role == ROLE_ADMIN, &o, &err)))
        return cal_error(r, rc, &err);
    return http_json(r, 200, o);
}

enum MHD_Result api_cal_answers(struct req *r)
{
    return cal_answers(r, false);
}

enum MHD_Result api_cal_reference(struct req *r)
{
    return cal_answers(r, true);
}

enum MHD_Result api_cal_get(struct req *r)
{
    struct es_err err = {{0}};
    json_t *o = NULL;
    int rc = calib_get(r->w->rs, r->route.arg, r->user.name, r->user.role == ROLE_ADMIN, &o, &err);
    return rc ? cal_error(r, rc, &err) : http_json(r, 200, o);
}

enum MHD_Result api_cal_report(struct req *r)
{
    struct es_err err = {{0}};
    json_t *o = NULL;
    int rc = calib_report(r->w->rs, http_arg(r, "reviewer"), &o, &err);
    return rc ? cal_error(r, rc, &err) : http_json(r, 200, o);
}

/* The sessions this user leads or reviews (an admin: all). */
enum MHD_Result api_cal_list(struct req *r)
{
    struct es_err err = {{0}};
    bool all = r->user.role == ROLE_ADMIN;
    json_t *ids;
    int rc = calib_list(r->w->rs, all ? NULL : r->user.name, &ids, &err);
    if (rc)
        return cal_error(r, rc, &err);
    json_t *list = json_array();
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        json_t *one;
        if (!calib_get(r->w->rs, json_string_value(id), r->user.name, all, &one, &err))
            json_array_append_new(list, one);
    }
    json_decref(ids);
    return http_json(r, 200, json_pack("{s:o}", "calibrations", list));
}
