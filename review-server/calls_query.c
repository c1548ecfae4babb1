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

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

void calls_query_bind(sqlite3_stmt *st, const struct calls_query *q)
{
    sqlite3_bind_int64(st, 1, q->from);
    sqlite3_bind_int64(st, 2, q->to);
    bind_opt(st, 3, q->operator_);
    bind_opt(st, 4, q->direction);
    bind_opt(st, 5, q->disposition);
    if (q->scored >= 0)
        sqlite3_bind_int(st, 6, q->scored);
    if (q->has_min)
        sqlite3_bind_double(st, 7, q->min_score);
    if (q->has_max)
        sqlite3_bind_double(st, 8, q->max_score);
    bind_opt(st, 9, q->error_tag);
    if (q->q) {
        char *like = like_pattern(q->q);
        if (like)
            sqlite3_bind_text(st, 10, like, -1, SQLITE_TRANSIENT);
        free(like);
        bind_opt(st, 11, q->q);
    } else {
        sqlite3_bind_null(st, 10);
    }
    if (q->cursor_id[0]) {
        sqlite3_bind_int64(st, 12, q->cursor_at);
        sqlite3_bind_text(st, 13, q->cursor_id, -1, SQLITE_TRANSIENT);
    }
}
