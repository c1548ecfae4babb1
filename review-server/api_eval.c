/* Evaluations over HTTP. Supervisors (and admins) score, edit, submit,
 * comment and resolve; the operator whose call it is acknowledges or
 * disputes; compliance reads. An evaluation an operator may not see (another
 * operator's, or a draft) answers 404 like one that does not exist. */
#include "review-server/http_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Library errors as HTTP: bad input 400, unknown 404, wrong state 409. */
static enum MHD_Result lib_error(struct req *r, int rc, const struct es_err *err)
{
    unsigned status = rc == ES_ENOTFOUND ? 404
                      : rc == ES_ESTATE  ? 409
                      : rc == ES_EINVAL  ? 400
                                         : 500;
    return http_error(r, status, "%s", err->msg[0] ? err->msg : es_strerror(rc));
}

/* evaluation.submitted (for the operator) and evaluation.disputed (for the
 * supervisors) go to the outbox with the step itself. */
static int notify_step(struct req *r, const char *id, enum eval_status to, const char *note,
                       struct es_err *err)
{
    if (to != EVAL_SUBMITTED && to != EVAL_DISPUTED)
        return 0;
    json_t *j;
    int rc = eval_get_json(r->w->rs, id, false, &j, err);
    if (rc)
        return rc;
    static const char *const keep[] = {"id",    "call_id", "operator", "rubric",
                                       "score", "passed",  "status",   "evaluator"};
    json_t *d = json_object();
    for (size_t i = 0; i < ES_ARRAY_LEN(keep); i++) {
        json_t *v = json_object_get(j, keep[i]);
        if (v)
            json_object_set(d, keep[i], v);
    }
    json_decref(j);
    json_object_set_new(d, "by", json_string(r->user.name));
    if (note && note[0])
        json_object_set_new(d, to == EVAL_DISPUTED ? "reason" : "comment", json_string(note));
    return notify_emit(r->w->fu,
                       to == EVAL_SUBMITTED ? "evaluation.submitted" : "evaluation.disputed",
                       es_now_ms(), d, err);
}

/* The evaluation if this user may see it (else a 404 is queued). */
static json_t *visible_eval(struct req *r, bool history, enum MHD_Result *res)
{
    json_t *j;
    struct es_err err = {{0}};
    if (eval_get_json(r->w->rs, r->route.arg, history, &j, &err)) {
        *res = http_error(r, 404, "no such evaluation");
        return NULL;
    }
    if (r->user.role == ROLE_OPERATOR) {
        const char *op = json_string_value(json_object_get(j, "operator"));
        const char *status = json_string_value(json_object_get(j, "status"));
        if (!op || !http_may_see_call(r, op) || !status || !strcmp(status, "draft")) {
            json_decref(j);
            *res = http_error(r, 404, "no such evaluation");
            return NULL;
        }
    }
    return j;
}

/* {"item", "at_ms", "text"} into an eval_comment borrowing from c. */
static int read_comment(const json_t *c, struct eval_comment *out)
{
    const json_t *at = json_object_get(c, "at_ms");
    if (!json_is_string(json_object_get(c, "text")) ||
        (at && !json_is_null(at) && !json_is_integer(at)))
        return ES_EINVAL;
    *out = (struct eval_comment){
        .item_id = json_string_value(json_object_get(c, "item")),
        .at_ms = json_is_integer(at) ? json_integer_value(at) : -1,
        .text = json_string_value(json_object_get(c, "text")),
    };
    return 0;
}

/* "comments": [{"item", "at_ms", "text"}], at most cap of them. */
static int read_comments(const json_t *arr, struct eval_comment *out, int cap, int *n)
{
    *n = 0;
    if (arr && !json_is_array(arr))
        return ES_EINVAL;
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (*n == cap || read_comment(json_array_get(arr, i), &out[(*n)++]))
            return ES_EINVAL;
    return 0;
}

static enum MHD_Result create(struct req *r)
{
    struct archive_call *k = malloc(sizeof *k);
    struct archive_recording rec;
    bool has;
    if (!k)
        return http_error(r, 500, "out of memory");
    int found = catalog_get(r->w->cat, r->route.arg, k, &rec, &has);
    free(k);
    if (found)
        return http_error(r, 404, "no such call");
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    struct eval_comment comments[64];
    int ncomments;
    const char *rubric = json_string_value(json_object_get(b, "rubric"));
    const json_t *answers = json_object_get(b, "answers");
    const json_t *tags = json_object_get(b, "tags");
    const json_t *version = json_object_get(b, "version");
    if (!rubric || !json_is_object(answers) || (tags && !json_is_array(tags)) ||
        (version && !json_is_integer(version)) ||
        read_comments(json_object_get(b, "comments"), comments, 64, &ncomments)) {
        json_decref(b);
        return http_error(r, 400,
                          "expected {\"rubric\": ID, \"answers\": {...}, \"comments\":"
                          " [{\"item\", \"at_ms\", \"text\"}], \"comment\", \"tags\","
                          " \"draft\"}");
    }
    struct eval_new e = {
        .call_id = r->route.arg,
        .reviewer = r->user.name,
        .rubric_id = rubric,
        .rubric_version = version ? (int)json_integer_value(version) : 0,
        .answers = answers,
        .comment = json_string_value(json_object_get(b, "comment")),
        .comments = comments,
        .ncomments = ncomments,
        .tags = tags,
        .submit = !json_is_true(json_object_get(b, "draft")),
    };
    char id[ES_ID_LEN];
    struct es_err err = {{0}};
    bool outer;
    int rc = http_tx_begin(r, &outer, &err);
    if (!rc)
        rc = eval_create(r->w->rs, &e, id, &err);
    if (!rc && e.submit)
        rc = notify_step(r, id, EVAL_SUBMITTED, NULL, &err);
    rc = http_tx_audit_end(r, outer, rc, "evaluation.create", id, NULL, &err);
    json_decref(b);
    if (rc)
        return lib_error(r, rc == ES_ENOTFOUND ? ES_EINVAL : rc, &err); /* unknown rubric: 400 */
    json_t *j;
    if (eval_get_json(r->w->rs, id, false, &j, &err))
        return http_error(r, 500, "the evaluation was stored but cannot be read back");
    return http_json(r, 201, j);
}

static enum MHD_Result step(struct req *r, enum eval_status to)
{
    enum MHD_Result res;
    json_t *cur = visible_eval(r, false, &res);
    if (!cur)
        return res;
    const char *op = json_string_value(json_object_get(cur, "operator"));
    bool owner = r->user.role == ROLE_OPERATOR && op && http_may_see_call(r, op);
    json_decref(cur);
    if ((to == EVAL_ACKNOWLEDGED || to == EVAL_DISPUTED) && !owner)
        return http_error(r, 403, "only the operator whose call it is can %s it",
                          to == EVAL_DISPUTED ? "dispute" : "acknowledge");
    json_t *b = NULL;
    if (r->body.len) {
        b = http_body_json(r, &res);
        if (!b)
            return res;
    }
    const char *note = json_string_value(json_object_get(b, "comment"));
    struct es_err err = {{0}};
    bool outer;
    const json_t *answers = json_object_get(b, "answers");
    /* single items ({"items": {...}}) instead of the whole evaluation */
    const json_t *items = json_object_get(b, "items");
    if (items && to != EVAL_DISPUTED && to != EVAL_RESOLVED) {
        json_decref(b);
        return http_error(r, 400, "\"items\" is for a dispute or a resolution");
    }
    char *detail = NULL;
    if (items) { /* the audit row names the items (the reasons stay in the evaluation) */
        json_t *names = json_array();
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)items, key, v) json_array_append_new(names, json_string(key));
        json_t *d = json_pack("{s:o}", "items", names);
        detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
        json_decref(d);
    }
    /* the resolution corrects the answers first; a step that is refused
     * (409) takes the correction back with it */
    int rc = http_tx_begin(r, &outer, &err);
    if (!rc && items && to == EVAL_DISPUTED)
        rc = eval_dispute_items(r->w->rs, r->route.arg, items, r->user.name, &err);
    else if (!rc && items)
        rc = eval_resolve_items(r->w->rs, r->route.arg, items, r->user.name, &err);
    else if (!rc && to == EVAL_RESOLVED && answers)
        rc = eval_edit(r->w->rs, r->route.arg, answers, NULL, r->user.name, &err);
    if (!rc && !items)
        rc = eval_transition(r->w->rs, r->route.arg, to, r->user.name, note, &err);
    if (!rc)
        rc = notify_step(r, r->route.arg, to, items ? "items disputed" : note, &err);
    rc = http_tx_audit_end(r, outer, rc,
                           to == EVAL_ACKNOWLEDGED ? "evaluation.acknowledge"
                           : to == EVAL_DISPUTED   ? "evaluation.dispute"
                           : to == EVAL_RESOLVED   ? "evaluation.resolve"
                                                   : "evaluation.submit",
                           r->route.arg, detail, &err);
    free(detail);
    json_decref(b);
    if (rc)
        return lib_error(r, rc, &err);
    json_t *j = visible_eval(r, true, &res);
    return j ? http_json(r, 200, j) : res;
}

static enum MHD_Result edit(struct req *r)
{
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    const json_t *answers = json_object_get(b, "answers");
    struct es_err err = {{0}};
    bool outer;
    int rc = json_is_object(answers)
                 ? http_tx_begin(r, &outer, &err)
                 : es_seterr(&err, ES_EINVAL, "expected {\"answers\": {...}, \"comment\"}");
    if (!rc) {
        rc = eval_edit(r->w->rs, r->route.arg, answers,
                       json_string_value(json_object_get(b, "comment")), r->user.name, &err);
        rc = http_tx_audit_end(r, outer, rc, "evaluation.edit", r->route.arg, NULL, &err);
    }
    json_decref(b);
    if (rc)
        return lib_error(r, rc, &err);
    json_t *j = visible_eval(r, true, &res);
    return j ? http_json(r, 200, j) : res;
}

static enum MHD_Result comment(struct req *r)
{
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    struct eval_comment cm;
    struct es_err err = {{0}};
    bool outer;
    int rc = read_comment(b, &cm)
                 ? es_seterr(&err, ES_EINVAL, "expected {\"item\", \"at_ms\", \"text\"}")
                 : http_tx_begin(r, &outer, &err);
    if (!rc) {
        rc = eval_comment_add(r->w->rs, r->route.arg, &cm, r->user.name, &err);
        /* which item; the text stays in the evaluation */
        json_t *d = json_pack("{s:s?}", "item", cm.item_id);
        char *detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
        json_decref(d);
        rc = http_tx_audit_end(r, outer, rc, "evaluation.comment", r->route.arg,
                               detail ? detail : "{}", &err);
        free(detail);
    }
    json_decref(b);
    if (rc)
        return lib_error(r, rc, &err);
    json_t *j = visible_eval(r, false, &res);
    return j ? http_json(r, 201, j) : res;
}

static int collect(void *ud, json_t *summary)
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

json_t *http_visible_evals(struct req *r, const struct eval_filter *f)
{
    struct {
        json_t *arr;
        bool hide_drafts; /* drafts are the reviewer's work in progress */
    } x = {json_array(), r->user.role == ROLE_OPERATOR};
    if (eval_list(r->w->rs, f, collect, &x)) {
        json_decref(x.arr);
        return NULL;
    }
    return x.arr;
}

static enum MHD_Result list(struct req *r, const char *call_id)
{
    struct eval_filter f = {.call_id = call_id, .status = -1, .limit = 500};
    if (call_id) { /* the call must be visible first */
        struct archive_call *k = malloc(sizeof *k);
        struct archive_recording rec;
        bool has;
        int rc = k ? catalog_get(r->w->cat, call_id, k, &rec, &has) : ES_ENOMEM;
        bool ok = !rc && http_may_see_call(r, k->operator_);
        free(k);
        if (!ok)
            return http_error(r, 404, "no such call");
    }
    f.operator_ = http_arg(r, "operator");
    f.reviewer = http_arg(r, "reviewer");
    f.rubric_id = http_arg(r, "rubric");
    const char *status = http_arg(r, "status");
    enum eval_status s;
    if (status) {
        if (eval_status_parse(status, &s))
            return http_error(r, 400, "bad value for the 'status' filter");
        f.status = (int)s;
    }
    const char *since = http_arg(r, "from"), *until = http_arg(r, "to");
    if ((since && es_time_parse(since, strlen(since), &f.since)) ||
        (until && es_time_parse(until, strlen(until), &f.until)))
        return http_error(r, 400, "bad value for the 'from' or 'to' filter");
    if (r->user.role == ROLE_OPERATOR) {
        if (f.operator_ && strcmp(f.operator_, r->user.operator_))
            return http_json(r, 200, json_pack("{s:[]}", "evaluations"));
        f.operator_ = r->user.operator_;
        if (f.status == EVAL_DRAFT)
            return http_json(r, 200, json_pack("{s:[]}", "evaluations"));
    }
    json_t *arr = http_visible_evals(r, &f);
    if (!arr)
        return http_error(r, 500, "the evaluation list query failed");
    return http_json(r, 200, json_pack("{s:o}", "evaluations", arr));
}

static int audit_deadline(void *ud, const char *id)
{
    struct req *r = ud;
    struct es_err err = {{0}};
    char detail[48];
    snprintf(detail, sizeof detail, "{\"dispute_days\":%d}", r->srv->dispute_days);
    return review_audit(r->w->rv, "deadline", "evaluation.acknowledge", id, detail, &err);
}

/* dispute_days: evaluations nobody disputed in time count as acknowledged;
 * applied before evaluations are read, at most once a minute. A request that
 * finds it due waits for the one applying it, so none reads what it changes
 * half-way (the page's list and detail requests come together). */
static pthread_mutex_t deadline_mu = PTHREAD_MUTEX_INITIALIZER;

static void apply_deadline(struct req *r)
{
    if (r->srv->dispute_days <= 0 || es_now_ms() - atomic_load(&r->srv->deadline_at) < 60000)
        return;
    pthread_mutex_lock(&deadline_mu);
    int64_t now = es_now_ms();
    if (now - atomic_load(&r->srv->deadline_at) >= 60000) {
        struct es_err err = {{0}};
        int n = 0;
        if (eval_apply_deadline(r->w->rs, r->srv->dispute_days, now, audit_deadline, r, &n, &err))
            ES_ERROR("serve", "dispute deadline: %s", err.msg);
        else if (n)
            review_audit_anchor(r->w->rv);
        atomic_store(&r->srv->deadline_at, now);
    }
    pthread_mutex_unlock(&deadline_mu);
}

/* Every evaluation route first applies the dispute deadline (when configured). */
enum MHD_Result api_eval_create(struct req *r)
{
    apply_deadline(r);
    return create(r);
}

enum MHD_Result api_call_evals(struct req *r)
{
    apply_deadline(r);
    return list(r, r->route.arg);
}

enum MHD_Result api_evals(struct req *r)
{
    apply_deadline(r);
    return list(r, NULL);
}

enum MHD_Result api_eval_get(struct req *r)
{
    enum MHD_Result res;
    apply_deadline(r);
    json_t *j = visible_eval(r, true, &res);
    return j ? http_json(r, 200, j) : res;
}

enum MHD_Result api_eval_ack(struct req *r)
{
    apply_deadline(r);
    return step(r, EVAL_ACKNOWLEDGED);
}

enum MHD_Result api_eval_dispute(struct req *r)
{
    apply_deadline(r);
    return step(r, EVAL_DISPUTED);
}

enum MHD_Result api_eval_resolve(struct req *r)
{
    apply_deadline(r);
    return step(r, EVAL_RESOLVED);
}

enum MHD_Result api_eval_submit(struct req *r)
{
    apply_deadline(r);
    return step(r, EVAL_SUBMITTED);
}

enum MHD_Result api_eval_edit(struct req *r)
{
    apply_deadline(r);
    return edit(r);
}

enum MHD_Result api_eval_comment(struct req *r)
{
    apply_deadline(r);
    return comment(r);
}
