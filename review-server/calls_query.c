/* The filters of GET /api/v1/calls, shared with the exports: reading them
 * from the query string (a 400 names the bad one) and binding them to the
 * statements built on CALLS_FROM_WHERE. */
#include "review-server/http_int.h"

#include <stdlib.h>
#include <string.h>

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
int calls_query_read(struct req *r, struct calls_query *q, bool paged, enum MHD_Result *res)
{
    static const char *const directions[] = {"inbound", "outbound", "internal", "unknown", NULL};
    static const char *const dispositions[] = {"answered", "missed", "rejected", NULL};
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
    const char *cursor = paged ? http_arg(r, "cursor") : NULL;
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

/* ---- the walk: archive's call query and scripts-rubric's evaluations ------------
 * Two modules, two queries, joined here by call id. When only scored calls can
 * match (scored=true, a score bound or an error tag) the walk starts from the
 * evaluations (their own copy of the call's start and operator keeps them in
 * the list's order) and asks the archive about each page's calls; otherwise it
 * starts from the calls and asks for each page's evaluations. Either way a page
 * is a bounded batch in keyset order, so memory stays flat however long the
 * list or export. */

#define BATCH_MAX 1000

struct walk {
    struct catalog *cat;
    struct rubric_store *rs;
    struct calls_query *q;
    int (*fn)(void *ud, const struct call_item *it);
    void *ud;
    struct es_err *err;
};

/* Strings of a batch live in one buffer (it may move: rows keep offsets). */
static size_t keep(struct es_buf *p, const char *s, int *rc)
{
    size_t off = p->len;
    if (!*rc)
        *rc = es_buf_append(p, s, strlen(s) + 1);
    return off;
}

struct kept_call {
    size_t id, direction, caller, callee, operator_, customer, disposition, reason, tags, path,
        sha256;
    int64_t started_at, duration_ms;
    bool purged;
};
struct kept_eval {
    size_t call_id, id, status, rubric_id, reviewer, error_tags;
    int rubric_version;
    double score;
    bool passed, critical_failed;
    int64_t call_started_at;
};

struct batch {
    int examined; /* by evaluation: rows looked at, and the last one's key */
    int64_t last_at;
    char last_id[ES_ID_LEN];
    struct es_buf pool;
    struct kept_call *calls;
    struct kept_eval *evals;
    int ncalls, nevals, cap;
    int rc;
};

static int keep_call(void *ud, const struct catalog_call_row *c)
{
    struct batch *b = ud;
    if (b->ncalls == b->cap)
        return ES_EINVAL; /* more than asked for: cannot happen */
    struct kept_call *k = &b->calls[b->ncalls++];
    int rc = 0;
    *k = (struct kept_call){
        .id = keep(&b->pool, c->id, &rc),
        .direction = keep(&b->pool, c->direction, &rc),
        .caller = keep(&b->pool, c->caller, &rc),
        .callee = keep(&b->pool, c->callee, &rc),
        .operator_ = keep(&b->pool, c->operator_, &rc),
        .customer = keep(&b->pool, c->customer, &rc),
        .disposition = keep(&b->pool, c->disposition, &rc),
        .reason = keep(&b->pool, c->reason, &rc),
        .tags = keep(&b->pool, c->tags, &rc),
        .path = keep(&b->pool, c->path, &rc),
        .sha256 = keep(&b->pool, c->sha256, &rc),
        .started_at = c->started_at,
        .duration_ms = c->duration_ms,
        .purged = c->purged,
    };
    return rc;
}

static int keep_eval(void *ud, const struct eval_brief *e)
{
    struct batch *b = ud;
    if (b->nevals == b->cap)
        return ES_EINVAL;
    struct kept_eval *k = &b->evals[b->nevals++];
    int rc = 0;
    *k = (struct kept_eval){
        .call_id = keep(&b->pool, e->call_id, &rc),
        .id = keep(&b->pool, e->id, &rc),
        .status = keep(&b->pool, e->status, &rc),
        .rubric_id = keep(&b->pool, e->rubric_id, &rc),
        .reviewer = keep(&b->pool, e->reviewer, &rc),
        .error_tags = keep(&b->pool, e->error_tags, &rc),
        .rubric_version = e->rubric_version,
        .score = e->score,
        .passed = e->passed,
        .critical_failed = e->critical_failed,
        .call_started_at = e->call_started_at,
    };
    return rc;
}

static const char *at(const struct batch *b, size_t off)
{
    return b->pool.data + off;
}

static void call_row(const struct batch *b, const struct kept_call *k, struct catalog_call_row *r)
{
    *r = (struct catalog_call_row){
        .id = at(b, k->id),
        .direction = at(b, k->direction),
        .caller = at(b, k->caller),
        .callee = at(b, k->callee),
        .operator_ = at(b, k->operator_),
        .customer = at(b, k->customer),
        .disposition = at(b, k->disposition),
        .reason = at(b, k->reason),
        .tags = at(b, k->tags),
        .path = at(b, k->path),
        .sha256 = at(b, k->sha256),
        .started_at = k->started_at,
        .duration_ms = k->duration_ms,
        .purged = k->purged,
    };
}

static void eval_row(const struct batch *b, const struct kept_eval *k, struct eval_brief *e)
{
    *e = (struct eval_brief){
        .call_id = at(b, k->call_id),
        .id = at(b, k->id),
        .status = at(b, k->status),
        .rubric_id = at(b, k->rubric_id),
        .reviewer = at(b, k->reviewer),
        .error_tags = at(b, k->error_tags),
        .rubric_version = k->rubric_version,
        .score = k->score,
        .passed = k->passed,
        .critical_failed = k->critical_failed,
        .call_started_at = k->call_started_at,
    };
}

static bool by_evaluation(const struct calls_query *q)
{
    return q->scored == 1 || q->has_min || q->has_max || q->error_tag;
}

/* The call-side filters of q (keyset from q's cursor). */
static struct catalog_call_query call_filters(const struct calls_query *q, bool by_eval)
{
    struct catalog_call_query c = {.direction = q->direction,
                                   .disposition = q->disposition,
                                   .q = q->q,
                                   .with_recording = q->for_export};
    if (!by_eval) { /* by evaluation these come from the evaluations' own copies */
        c.from = q->from;
        c.to = q->to;
        c.operator_ = q->operator_;
        c.after_at = q->cursor_at;
        c.after_id = q->cursor_id[0] ? q->cursor_id : NULL;
    }
    return c;
}

static const char *id_copy(char out[ES_ID_LEN], const char *id)
{
    size_t n = strnlen(id, ES_ID_LEN - 1);
    memcpy(out, id, n);
    out[n] = 0;
    return out;
}

/* One batch starting from the calls: up to n calls, then their evaluations. */
static int batch_by_call(struct walk *w, struct batch *b, int n)
{
    struct catalog_call_query cq = call_filters(w->q, false);
    int rc = catalog_calls_query(w->cat, &cq, n, keep_call, b);
    for (int i = 0; !rc && i < b->ncalls; i += EVAL_QUERY_IDS) {
        const char *ids[EVAL_QUERY_IDS];
        int k = 0;
        for (; k < EVAL_QUERY_IDS && i + k < b->ncalls; k++)
            ids[k] = at(b, b->calls[i + k].id);
        /* the pool may move as evaluations are kept: ids are copied first */
        char copy[EVAL_QUERY_IDS][ES_ID_LEN];
        for (int j = 0; j < k; j++)
            ids[j] = id_copy(copy[j], ids[j]);
        rc = eval_newest_of(w->rs, ids, (size_t)k, w->q->for_export, keep_eval, b, w->err);
    }
    return rc;
}

/* One batch starting from the evaluations: up to n, then their calls. */
static int batch_by_eval(struct walk *w, struct batch *b, int n)
{
    const struct calls_query *q = w->q;
    struct eval_call_query eq = {.from = q->from,
                                 .to = q->to,
                                 .operator_ = q->operator_,
                                 .has_min = q->has_min,
                                 .min_score = q->min_score,
                                 .has_max = q->has_max,
                                 .max_score = q->max_score,
                                 .error_tag = q->error_tag,
                                 .after_at = q->cursor_at,
                                 .after_id = q->cursor_id[0] ? q->cursor_id : NULL};
    struct eval_page page;
    int rc = eval_calls_query(w->rs, &eq, n, q->for_export, &page, keep_eval, b, w->err);
    b->examined = page.rows;
    b->last_at = page.last_at;
    id_copy(b->last_id, page.last_id);
    for (int i = 0; !rc && i < b->nevals; i += CATALOG_QUERY_IDS) {
        char copy[CATALOG_QUERY_IDS][ES_ID_LEN];
        const char *ids[CATALOG_QUERY_IDS];
        int k = 0;
        for (; k < CATALOG_QUERY_IDS && i + k < b->nevals; k++)
            ids[k] = id_copy(copy[k], at(b, b->evals[i + k].call_id));
        struct catalog_call_query cq = call_filters(q, true);
        cq.ids = ids;
        cq.n_ids = (size_t)k;
        rc = catalog_calls_query(w->cat, &cq, CATALOG_QUERY_IDS, keep_call, b);
        if (rc)
            es_seterr(w->err, rc, "the call query: %s", db_errmsg(catalog_db(w->cat)));
    }
    return rc;
}

static const struct kept_eval *eval_of(const struct batch *b, const char *call_id)
{
    for (int i = 0; i < b->nevals; i++)
        if (!strcmp(at(b, b->evals[i].call_id), call_id))
            return &b->evals[i];
    return NULL;
}

static const struct kept_call *call_of(const struct batch *b, const char *id)
{
    for (int i = 0; i < b->ncalls; i++)
        if (!strcmp(at(b, b->calls[i].id), id))
            return &b->calls[i];
    return NULL;
}

/* Gives the batch's items in order, then moves q's cursor past the last row
 * looked at; 1 once max items were given. */
static int give(struct walk *w, const struct batch *b, bool by_eval, int *given, int max)
{
    int rows = by_eval ? b->nevals : b->ncalls, rc = 0, i = 0;
    for (; i < rows && !rc; i++) {
        const struct kept_call *kc;
        const struct kept_eval *ke;
        if (by_eval) {
            ke = &b->evals[i];
            kc = call_of(b, at(b, ke->call_id));
        } else {
            kc = &b->calls[i];
            ke = eval_of(b, at(b, kc->id));
            if (w->q->scored == 0 && ke)
                continue; /* unscored calls only */
        }
        if (!kc)
            continue; /* its call does not pass the call's own filters */
        struct catalog_call_row cr;
        struct eval_brief eb;
        call_row(b, kc, &cr);
        if (ke)
            eval_row(b, ke, &eb);
        struct call_item it = {.call = &cr, .ev = ke ? &eb : NULL};
        rc = w->fn(w->ud, &it);
        if (!rc && ++*given == max)
            rc = 1;
    }
    if (by_eval && !rc && b->examined) { /* past the evaluations the query passed over too */
        w->q->cursor_at = b->last_at;
        id_copy(w->q->cursor_id, b->last_id);
    } else if (i) { /* the next batch starts after the last row looked at */
        w->q->cursor_at = by_eval ? b->evals[i - 1].call_started_at : b->calls[i - 1].started_at;
        id_copy(w->q->cursor_id, at(b, by_eval ? b->evals[i - 1].call_id : b->calls[i - 1].id));
    }
    return rc;
}

int calls_walk(struct catalog *cat, struct rubric_store *rs, struct calls_query *q, int max,
               int (*fn)(void *ud, const struct call_item *it), void *ud, struct es_err *err)
{
    bool by_eval = by_evaluation(q);
    if (by_eval && q->scored == 0)
        return 0; /* unscored, and a score or an error tag: nothing can match */
    struct walk w = {.cat = cat, .rs = rs, .q = q, .fn = fn, .ud = ud, .err = err};
    struct batch b = {0};
    es_buf_init(&b.pool, 64 << 20);
    int given = 0, rc = 0;
    int64_t looked = 0, kept = 0; /* rows fetched, and given, so far */
    bool drops = by_eval ? q->direction || q->disposition || q->q : q->scored == 0;
    while (!rc) {
        /* the rows still wanted (a list asks for one more than its page); when
         * the other module's answer may leave rows out, a few more at first,
         * then as many more as the batches so far have shown to be needed; a
         * batch that comes back full means there may be more */
        int want = max ? max - given : BATCH_MAX;
        int64_t n64 = !drops   ? want
                      : kept   ? (int64_t)want * looked / kept + 4
                      : looked ? (int64_t)want * 4
                               : want + want / 8 + 4;
        int n = (int)ES_MIN(n64, BATCH_MAX);
        if (n > b.cap) { /* a call and an evaluation per row at most */
            void *c = realloc(b.calls, (size_t)n * sizeof *b.calls);
            if (c)
                b.calls = c;
            void *e = c ? realloc(b.evals, (size_t)n * sizeof *b.evals) : NULL;
            if (e)
                b.evals = e;
            if (!c || !e) {
                rc = ES_ENOMEM;
                break;
            }
            b.cap = n;
        }
        b.ncalls = b.nevals = b.examined = 0;
        b.pool.len = 0;
        rc = by_eval ? batch_by_eval(&w, &b, n) : batch_by_call(&w, &b, n);
        if (rc)
            break;
        int before = given;
        rc = give(&w, &b, by_eval, &given, max);
        looked += by_eval ? b.examined : b.ncalls;
        kept += given - before;
        if ((by_eval ? b.examined : b.ncalls) < n)
            break; /* the last batch */
    }
    free(b.calls);
    free(b.evals);
    es_buf_free(&b.pool);
    if (rc > 0)
        return 0; /* stopped: by the callback or at max */
    if (rc && !err->msg[0])
        es_seterr(err, rc, "the call list: %s", db_errmsg(catalog_db(cat)));
    return rc;
}
