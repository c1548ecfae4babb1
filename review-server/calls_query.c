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

static void bind_opt(struct db_stmt *st, int i, const char *v)
{
    if (v)
        db_bind_text_copy(st, i, v, -1);
}

/* The filters, each a fixed piece of SQL with a fixed parameter number. */
enum {
    F_FROM,
    F_TO,
    F_OPERATOR,
    F_DIRECTION,
    F_DISPOSITION,
    F_SCORED,
    F_MIN,
    F_MAX,
    F_TAG,
    F_Q,
    F_CURSOR,
    F_NOT_REJECTED,
    F_COUNT
};
static const char *const filter_sql[F_COUNT] = {
    [F_FROM] = " AND c.started_at >= ?1",
    [F_TO] = " AND c.started_at < ?2",
    [F_OPERATOR] = " AND c.operator = ?3",
    [F_DIRECTION] = " AND c.direction = ?4",
    [F_DISPOSITION] = " AND c.disposition = ?5",
    [F_SCORED] = " AND (?6 = 1) = (e.n IS NOT NULL)",
    [F_MIN] = " AND e.score >= ?7",
    [F_MAX] = " AND e.score <= ?8",
    [F_TAG] = " AND EXISTS (SELECT 1 FROM evaluation_errors t WHERE t.eval_n = e.n"
              " AND t.error_tag = ?9)",
    [F_Q] = " AND (c.id = ?11 OR c.caller LIKE ?10 ESCAPE '\\' OR c.callee LIKE ?10 ESCAPE '\\'"
            " OR c.customer LIKE ?10 ESCAPE '\\' OR c.external_id LIKE ?10 ESCAPE '\\')",
    /* keyset: rows strictly after (cursor_at, cursor_id) in newest-first order */
    [F_CURSOR] = " AND c.started_at <= ?12 AND (c.started_at < ?12 OR c.id < ?13)",
    /* attempts the PBX refused (scanners) only when asked for */
    [F_NOT_REJECTED] = " AND c.disposition != 'rejected'",
};

static const char list_cols[] =
    "SELECT c.id, c.started_at, c.duration_ms, c.direction, c.caller, c.callee, c.operator,"
    " c.customer, c.disposition, c.reason, c.tags, coalesce(c.purged_at, 0),"
    " e.id, e.score, e.passed, e.critical_failed, e.status";
static const char export_cols[] =
    "SELECT c.id, c.started_at, c.duration_ms, c.direction, c.operator, c.caller, c.callee,"
    " c.disposition, c.reason, e.rubric_id, e.rubric_version, e.reviewer, e.score, e.passed,"
    " e.critical_failed, (SELECT group_concat(t.error_tag, ' ') FROM evaluation_errors t"
    "   WHERE t.eval_n = e.n), e.status, rec.path, rec.sha256";
/* each call with its newest submitted evaluation (e) */
static const char from_sql[] =
    " FROM calls c LEFT JOIN evaluations e ON e.n ="
    "  (SELECT max(x.n) FROM evaluations x WHERE x.call_id = c.id AND x.status != 'draft')";

/* When only scored calls can match (scored=true, a score bound or an error
 * tag), the query starts from the evaluations instead: their indexes give the
 * newest scored calls (of one operator) directly, where walking the calls would
 * look at ten times as many rows to find them. */
#define BY_EVALUATION (1u << 30)
static const char eval_join_sql[] = " FROM evaluations e JOIN calls c ON c.id = e.call_id";
static const char eval_where_sql[] =
    " WHERE e.status != 'draft' AND e.n ="
    "  (SELECT max(x.n) FROM evaluations x WHERE x.call_id = e.call_id AND x.status != 'draft')";
static const char *const filter_eval_sql[F_COUNT] = {
    [F_FROM] = " AND e.call_started_at >= ?1",
    [F_TO] = " AND e.call_started_at < ?2",
    [F_OPERATOR] = " AND e.operator = ?3",
    [F_CURSOR] = " AND e.call_started_at <= ?12 AND (e.call_started_at < ?12 OR c.id < ?13)",
};

static unsigned filter_mask(const struct calls_query *q)
{
    unsigned m = 0;
    m |= (unsigned)(q->from != 0) << F_FROM;
    m |= (unsigned)(q->to != 0) << F_TO;
    m |= (unsigned)(q->operator_ != NULL) << F_OPERATOR;
    m |= (unsigned)(q->direction != NULL) << F_DIRECTION;
    m |= (unsigned)(q->disposition != NULL) << F_DISPOSITION;
    m |= (unsigned)(q->scored >= 0) << F_SCORED;
    m |= (unsigned)q->has_min << F_MIN;
    m |= (unsigned)q->has_max << F_MAX;
    m |= (unsigned)(q->error_tag != NULL) << F_TAG;
    m |= (unsigned)(q->q != NULL) << F_Q;
    m |= (unsigned)(q->cursor_id[0] != 0) << F_CURSOR;
    m |= (unsigned)(q->disposition == NULL) << F_NOT_REJECTED;
    if (q->scored == 1 || q->has_min || q->has_max || q->error_tag)
        m |= BY_EVALUATION;
    return m;
}

/* Only fixed text goes into the SQL; every value is a bound parameter but the
 * page size, a number of ours: with it written in, PostgreSQL can keep one
 * plan for the statement instead of planning each execution anew. */
static struct db_stmt *prepare(struct db *db, unsigned mask, enum calls_kind kind, int limit)
{
    struct es_buf sql;
    es_buf_init(&sql, 8192);
    bool by_eval = mask & BY_EVALUATION;
    const char *rec = kind == CALLS_EXPORT ? " LEFT JOIN recordings rec ON rec.call_id = c.id" : "";
    const char *cols = kind == CALLS_LIST ? list_cols : export_cols;
    int rc = by_eval ? es_buf_appendf(&sql, "%s%s%s%s", cols, eval_join_sql, rec, eval_where_sql)
                     : es_buf_appendf(&sql, "%s%s%s WHERE 1 = 1", cols, from_sql, rec);
    for (int f = 0; f < F_COUNT && !rc; f++) {
        if (!(mask & (1u << f)))
            continue;
        const char *piece = by_eval && filter_eval_sql[f] ? filter_eval_sql[f] : filter_sql[f];
        rc = es_buf_appendf(&sql, "%s", piece);
    }
    if (!rc)
        rc = es_buf_appendf(&sql, " ORDER BY %s DESC, c.id DESC",
                            by_eval ? "e.call_started_at" : "c.started_at");
    if (!rc && kind == CALLS_LIST)
        rc = es_buf_appendf(&sql, " LIMIT %d", limit);
    struct db_stmt *st = NULL;
    if (!rc && (kind == CALLS_EXPORT ? db_prepare_stream(db, sql.data, &st)
                                     : db_prepare(db, sql.data, &st))) {
        ES_ERROR("serve", "preparing the call query: %s", db_errmsg(db));
        st = NULL;
    }
    es_buf_free(&sql);
    return st;
}

static void bind_filters(struct db_stmt *st, const struct calls_query *q)
{
    db_bind_int64(st, 1, q->from);
    db_bind_int64(st, 2, q->to);
    bind_opt(st, 3, q->operator_);
    bind_opt(st, 4, q->direction);
    bind_opt(st, 5, q->disposition);
    if (q->scored >= 0)
        db_bind_int(st, 6, q->scored);
    if (q->has_min)
        db_bind_double(st, 7, q->min_score);
    if (q->has_max)
        db_bind_double(st, 8, q->max_score);
    bind_opt(st, 9, q->error_tag);
    if (q->q) {
        char *like = like_pattern(q->q);
        if (like)
            db_bind_text_copy(st, 10, like, -1);
        free(like);
        bind_opt(st, 11, q->q);
    } else {
        db_bind_null(st, 10);
    }
    if (q->cursor_id[0]) {
        db_bind_int64(st, 12, q->cursor_at);
        db_bind_text_copy(st, 13, q->cursor_id, -1);
    }
}

struct db_stmt *calls_query_stmt(struct worker *w, struct db *db, const struct calls_query *q,
                                 enum calls_kind kind)
{
    unsigned mask = filter_mask(q);
    struct db_stmt *st = NULL;
    /* a list asks one row more than its page: is there a next one? */
    int limit = kind == CALLS_LIST ? q->limit + 1 : 0;
    if (!w) {
        st = prepare(db, mask, kind, limit);
    } else {
        unsigned key = mask | (unsigned)kind << F_COUNT | 1u << 31;
        for (int i = 0; i < WORKER_STMT_CACHE && !st; i++)
            if (w->cache[i].key == key && w->cache[i].limit == limit)
                st = w->cache[i].st;
        if (!st) {
            st = prepare(db, mask, kind, limit);
            if (!st)
                return NULL;
            unsigned slot = w->cache_next++ % WORKER_STMT_CACHE;
            db_finalize(w->cache[slot].st);
            w->cache[slot].key = key;
            w->cache[slot].limit = limit;
            w->cache[slot].st = st;
        }
        db_reset(st);
        db_clear_bindings(st);
    }
    if (st)
        bind_filters(st, q);
    return st;
}
