/* A call's evaluation for lists of calls: the newest submitted evaluation of
 * the calls a page of the call list holds, and the calls whose newest
 * submitted evaluation passes a score or error-tag filter, newest call first
 * (from the evaluations' own copy of the call's start and operator, so no
 * archive table is read here). Statements are prepared once per store for
 * each combination of filters in use and page size. */
#include "scripts-rubric/rubric_int.h"

#include <stdlib.h>
#include <string.h>

#define IDS_PARAM 20 /* the call ids of eval_newest_of, as a JSON array */

static const char cols[] =
    "SELECT e.call_id, e.id, e.status, e.rubric_id, e.rubric_version, e.reviewer, e.score,"
    " e.passed, e.critical_failed, e.call_started_at";
static const char tags_col[] =
    ", (SELECT group_concat(t.error_tag, ' ') FROM evaluation_errors t WHERE t.eval_n = e.n)";
/* In the select list, the newest-evaluation check runs for the rows a page
 * returns only; in a WHERE, PostgreSQL ran it for every evaluation of an
 * operator before sorting (tens of milliseconds a page). */
static const char newest_col[] =
    ", e.n = (SELECT max(x.n) FROM evaluations x WHERE x.call_id = e.call_id"
    " AND x.status != 'draft')";
/* the newest submitted evaluation of its call */
static const char newest[] =
    " e.status != 'draft' AND e.n ="
    " (SELECT max(x.n) FROM evaluations x WHERE x.call_id = e.call_id AND x.status != 'draft')";

enum { F_FROM, F_TO, F_OPERATOR, F_MIN, F_MAX, F_TAG, F_AFTER, F_COUNT };
static const char *const filter_sql[F_COUNT] = {
    [F_FROM] = " AND e.call_started_at >= ?1",
    [F_TO] = " AND e.call_started_at < ?2",
    [F_OPERATOR] = " AND e.operator = ?3",
    [F_MIN] = " AND e.score >= ?4",
    [F_MAX] = " AND e.score <= ?5",
    [F_TAG] = " AND EXISTS (SELECT 1 FROM evaluation_errors t WHERE t.eval_n = e.n"
              " AND t.error_tag = ?6)",
    [F_AFTER] = " AND e.call_started_at <= ?7 AND (e.call_started_at < ?7 OR e.call_id < ?8)",
};
#define KEY_NEWEST_OF (1u << 28)
#define KEY_TAGS      (1u << 29)

static unsigned filter_mask(const struct eval_call_query *q)
{
    unsigned m = 0;
    m |= (unsigned)(q->from != 0) << F_FROM;
    m |= (unsigned)(q->to != 0) << F_TO;
    m |= (unsigned)(q->operator_ != NULL) << F_OPERATOR;
    m |= (unsigned)q->has_min << F_MIN;
    m |= (unsigned)q->has_max << F_MAX;
    m |= (unsigned)(q->error_tag != NULL) << F_TAG;
    m |= (unsigned)(q->after_id != NULL) << F_AFTER;
    return m;
}

static struct db_stmt *prepare(struct rubric_store *s, unsigned key, int limit)
{
    struct es_buf sql;
    es_buf_init(&sql, 8192);
    int rc;
    if (key & KEY_NEWEST_OF) { /* one parameter however many ids: one plan, both engines */
        rc = es_buf_appendf(&sql, "%s%s FROM evaluations e WHERE%s", cols,
                            key & KEY_TAGS ? tags_col : "", newest);
        if (!rc)
            rc = es_buf_appendf(&sql, " AND e.call_id IN (SELECT value FROM json_each(?%d))",
                                IDS_PARAM);
    } else {
        rc = es_buf_appendf(&sql, "%s%s%s FROM evaluations e WHERE e.status != 'draft'", cols,
                            key & KEY_TAGS ? tags_col : "", newest_col);
        for (int f = 0; f < F_COUNT && !rc; f++)
            if (key & (1u << f))
                rc = es_buf_appendf(&sql, "%s", filter_sql[f]);
        if (!rc)
            rc = es_buf_appendf(&sql, " ORDER BY e.call_started_at DESC, e.call_id DESC LIMIT %d",
                                limit);
    }
    struct db_stmt *st = NULL;
    if (!rc && db_prepare(s->db, sql.data, &st))
        st = NULL;
    es_buf_free(&sql);
    return st;
}

static struct db_stmt *statement(struct rubric_store *s, unsigned key, int limit)
{
    uint64_t k = (uint64_t)limit << 32 | key;
    struct db_stmt *st = db_cache_get(&s->queries, k);
    if (!st && (st = prepare(s, key, limit)))
        db_cache_put(&s->queries, k, st);
    return st;
}

static const char *text(struct db_stmt *st, int i)
{
    const char *t = db_column_text(st, i);
    return t ? t : "";
}

/* page: NULL, or the rows looked at and the last one's key, when a column
 * (after the tags) says whether the row is its call's newest evaluation. */
static int rows(struct rubric_store *s, struct db_stmt *st, bool with_tags, struct eval_page *page,
                int (*cb)(void *ud, const struct eval_brief *), void *ud, struct es_err *err)
{
    int step, rc = 0;
    while ((step = db_step(st)) == DB_ROW) {
        if (page) {
            page->rows++;
            page->last_at = db_column_int64(st, 9);
            snprintf(page->last_id, sizeof page->last_id, "%s", text(st, 0));
            if (!db_column_int(st, with_tags ? 11 : 10))
                continue; /* a later evaluation of the same call counts instead */
        }
        struct eval_brief b = {
            .call_id = text(st, 0),
            .id = text(st, 1),
            .status = text(st, 2),
            .rubric_id = text(st, 3),
            .rubric_version = db_column_int(st, 4),
            .reviewer = text(st, 5),
            .score = db_column_double(st, 6),
            .passed = db_column_int(st, 7) != 0,
            .critical_failed = db_column_int(st, 8) != 0,
            .call_started_at = db_column_int64(st, 9),
            .error_tags = with_tags ? text(st, 10) : "",
        };
        if ((rc = cb(ud, &b)))
            break;
    }
    db_reset(st);
    if (rc)
        return rc;
    return step == DB_DONE ? 0 : rstore_db_error(s, "the evaluations of calls", err);
}

int eval_newest_of(struct rubric_store *s, const char *const *ids, size_t n, bool with_tags,
                   int (*cb)(void *ud, const struct eval_brief *), void *ud, struct es_err *err)
{
    if (n > EVAL_QUERY_IDS)
        return es_seterr(err, ES_EINVAL, "at most %d calls at once", EVAL_QUERY_IDS);
    if (n == 0)
        return 0;
    struct db_stmt *st = statement(s, KEY_NEWEST_OF | (with_tags ? KEY_TAGS : 0), 0);
    if (!st)
        return rstore_db_error(s, "prepare the evaluations of calls", err);
    struct es_buf json;
    es_buf_init(&json, 1 << 20);
    int rc = es_json_id_array(&json, ids, n);
    if (rc)
        return es_seterr(err, rc, "out of memory");
    db_bind_text(st, IDS_PARAM, json.data, (int)json.len);
    rc = rows(s, st, with_tags, NULL, cb, ud, err);
    es_buf_free(&json);
    return rc;
}

int eval_calls_query(struct rubric_store *s, const struct eval_call_query *q, int limit,
                     bool with_tags, struct eval_page *page,
                     int (*cb)(void *ud, const struct eval_brief *), void *ud, struct es_err *err)
{
    memset(page, 0, sizeof *page);
    if (limit < 1 || limit > 10000)
        return es_seterr(err, ES_EINVAL, "a page of 1 to 10000 calls");
    struct db_stmt *st = statement(s, filter_mask(q) | (with_tags ? KEY_TAGS : 0), limit);
    if (!st)
        return rstore_db_error(s, "prepare the evaluated calls", err);
    if (q->from)
        db_bind_int64(st, 1, q->from);
    if (q->to)
        db_bind_int64(st, 2, q->to);
    if (q->operator_)
        db_bind_text_copy(st, 3, q->operator_, -1);
    if (q->has_min)
        db_bind_double(st, 4, q->min_score);
    if (q->has_max)
        db_bind_double(st, 5, q->max_score);
    if (q->error_tag)
        db_bind_text_copy(st, 6, q->error_tag, -1);
    if (q->after_id) {
        db_bind_int64(st, 7, q->after_at);
        db_bind_text_copy(st, 8, q->after_id, -1);
    }
    return rows(s, st, with_tags, page, cb, ud, err);
}
