/* The call query: lists of calls by their own fields, newest first, in keyset
 * pages, for the call list, the exports and anything else that pages through
 * calls. Each combination of filters in use is its own statement (a WHERE of
 * only those pieces, so that the engine can pick its index), prepared once per
 * catalog handle and page size; every value is a bound parameter. */
#include "archive/catalog_int.h"

#include <stdlib.h>
#include <string.h>

enum {
    F_FROM,
    F_TO,
    F_OPERATOR,
    F_DIRECTION,
    F_DISPOSITION,
    F_Q,
    F_AFTER,
    F_NOT_REJECTED,
    F_IDS,
    F_COUNT
};
#define IDS_PARAM 20 /* the ids of F_IDS, as a JSON array */

static const char *const filter_sql[F_COUNT] = {
    [F_FROM] = " AND c.started_at >= ?1",
    [F_TO] = " AND c.started_at < ?2",
    [F_OPERATOR] = " AND c.operator = ?3",
    [F_DIRECTION] = " AND c.direction = ?4",
    [F_DISPOSITION] = " AND c.disposition = ?5",
    [F_Q] = " AND (c.id = ?7 OR c.caller LIKE ?6 ESCAPE '\\' OR c.callee LIKE ?6 ESCAPE '\\'"
            " OR c.customer LIKE ?6 ESCAPE '\\' OR c.external_id LIKE ?6 ESCAPE '\\')",
    /* keyset: rows strictly after (after_at, after_id) in newest-first order */
    [F_AFTER] = " AND c.started_at <= ?8 AND (c.started_at < ?8 OR c.id < ?9)",
    /* attempts the PBX refused (scanners) only when asked for */
    [F_NOT_REJECTED] = " AND c.disposition != 'rejected'",
    [F_IDS] = NULL, /* a join, below */
};

static const char cols[] =
    "SELECT c.id, c.started_at, c.duration_ms, c.direction, c.caller, c.callee, c.operator,"
    " c.customer, c.disposition, c.reason, c.tags, coalesce(c.purged_at, 0)";

static unsigned filter_mask(const struct catalog_call_query *q)
{
    unsigned m = 0;
    m |= (unsigned)(q->from != 0) << F_FROM;
    m |= (unsigned)(q->to != 0) << F_TO;
    m |= (unsigned)(q->operator_ != NULL) << F_OPERATOR;
    m |= (unsigned)(q->direction != NULL) << F_DIRECTION;
    m |= (unsigned)(q->disposition != NULL) << F_DISPOSITION;
    m |= (unsigned)(q->q != NULL) << F_Q;
    m |= (unsigned)(q->after_id != NULL) << F_AFTER;
    m |= (unsigned)(q->disposition == NULL) << F_NOT_REJECTED;
    m |= (unsigned)(q->ids != NULL) << F_IDS;
    return m;
}

/* The page size is written into the SQL, a number of ours: PostgreSQL can then
 * keep one plan for the statement instead of planning each execution anew. */
static struct db_stmt *prepare(struct catalog *c, unsigned mask, bool rec, int limit)
{
    struct es_buf sql;
    es_buf_init(&sql, 8192);
    /* given ids: one JSON array parameter joined to the calls however many
     * (one plan, both engines), in no particular order */
    bool ids = mask & (1u << F_IDS);
    int rc = es_buf_appendf(&sql, "%s%s FROM %s%s WHERE 1 = 1", cols,
                            rec ? ", coalesce(r.path, ''), coalesce(r.sha256, '')" : "",
                            ids ? "json_each(?20) j JOIN calls c ON c.id = j.value" : "calls c",
                            rec ? " LEFT JOIN recordings r ON r.call_id = c.id" : "");
    for (int f = 0; f < F_COUNT && !rc; f++)
        if ((mask & (1u << f)) && filter_sql[f])
            rc = es_buf_appendf(&sql, "%s", filter_sql[f]);
    if (!rc)
        rc = ids ? es_buf_appendf(&sql, " LIMIT %d", limit)
                 : es_buf_appendf(&sql, " ORDER BY c.started_at DESC, c.id DESC LIMIT %d", limit);
    struct db_stmt *st = NULL;
    if (!rc && db_prepare(c->db, sql.data, &st))
        st = NULL;
    es_buf_free(&sql);
    return st;
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

static int bind(struct db_stmt *st, const struct catalog_call_query *q, struct es_buf *ids)
{
    if (q->from)
        db_bind_int64(st, 1, q->from);
    if (q->to)
        db_bind_int64(st, 2, q->to);
    bind_opt(st, 3, q->operator_);
    bind_opt(st, 4, q->direction);
    bind_opt(st, 5, q->disposition);
    if (q->q) {
        char *like = like_pattern(q->q);
        if (!like)
            return ES_ENOMEM;
        db_bind_text_copy(st, 6, like, -1);
        free(like);
        db_bind_text_copy(st, 7, q->q, -1);
    }
    if (q->after_id) {
        db_bind_int64(st, 8, q->after_at);
        db_bind_text_copy(st, 9, q->after_id, -1);
    }
    if (q->ids) {
        int rc = es_json_id_array(ids, q->ids, q->n_ids);
        if (rc)
            return rc;
        db_bind_text(st, IDS_PARAM, ids->data, (int)ids->len);
    }
    return 0;
}

static struct db_stmt *statement(struct catalog *c, const struct catalog_call_query *q, int limit)
{
    unsigned mask = filter_mask(q) | (unsigned)q->with_recording << F_COUNT;
    uint64_t key = (uint64_t)limit << 32 | mask;
    struct db_stmt *st = db_cache_get(&c->queries, key);
    if (!st && (st = prepare(c, mask, q->with_recording, limit)))
        db_cache_put(&c->queries, key, st);
    return st;
}

static const char *text(struct db_stmt *st, int i)
{
    const char *t = db_column_text(st, i);
    return t ? t : "";
}

int catalog_calls_query(struct catalog *c, const struct catalog_call_query *q, int limit,
                        int (*cb)(void *ud, const struct catalog_call_row *), void *ud)
{
    if (limit < 1 || limit > CATALOG_QUERY_MAX || (q->ids && q->n_ids > CATALOG_QUERY_IDS))
        return ES_EINVAL;
    if (q->ids && q->n_ids == 0)
        return 0;
    struct db_stmt *st = statement(c, q, limit);
    if (!st)
        return catalog_db_error(c, "prepare the call query");
    struct es_buf ids;
    es_buf_init(&ids, 1 << 20);
    int rc = bind(st, q, &ids);
    if (rc) {
        es_buf_free(&ids);
        return rc;
    }
    int step;
    while ((step = db_step(st)) == DB_ROW) {
        struct catalog_call_row r = {
            .id = text(st, 0),
            .started_at = db_column_int64(st, 1),
            .duration_ms = db_column_int64(st, 2),
            .direction = text(st, 3),
            .caller = text(st, 4),
            .callee = text(st, 5),
            .operator_ = text(st, 6),
            .customer = text(st, 7),
            .disposition = text(st, 8),
            .reason = text(st, 9),
            .tags = text(st, 10),
            .purged = db_column_int64(st, 11) != 0,
            .path = q->with_recording ? text(st, 12) : "",
            .sha256 = q->with_recording ? text(st, 13) : "",
        };
        if ((rc = cb(ud, &r)))
            break;
    }
    db_reset(st);
    es_buf_free(&ids);
    if (rc)
        return rc;
    return step == DB_DONE ? 0 : catalog_db_error(c, "the call query");
}
