/* Recurring errors, score summaries and the review-queue sample.
 *
 * Windows are over call start times, [since, until). The previous window is
 * the one of the same length just before it, so a trend compares like with
 * like. Draft evaluations never count. */
#include "scripts-rubric/rubric_int.h"

#include <stdlib.h>
#include <string.h>

static void bind_operator(struct db_stmt *st, int i, const char *op)
{
    if (op)
        db_bind_text(st, i, op, -1);
}

static int error_rows(struct rubric_store *s, const struct report_window *w,
                      struct report_errors *out)
{
    struct db_stmt *st = rstore_stmt(s, w->operator_ ? RS_REPORT_COUNTS_OP : RS_REPORT_COUNTS);
    db_bind_int64(st, 1, w->since);
    db_bind_int64(st, 2, w->until);
    db_bind_int64(st, 3, w->since - (w->until - w->since));
    bind_operator(st, 4, w->operator_);
    size_t alloc = 0;
    int step, rc = 0;
    while ((step = db_step(st)) == DB_ROW) {
        if (out->nrows == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            struct report_error_row *n = realloc(out->rows, alloc * sizeof *n);
            if (!n) {
                rc = ES_ENOMEM;
                break;
            }
            out->rows = n;
        }
        struct report_error_row *row = &out->rows[out->nrows];
        memset(row, 0, sizeof *row);
        row->operator_ = arena_strndup(out->arena, (const char *)db_column_text(st, 0),
                                       (size_t)db_column_bytes(st, 0));
        row->error_tag = arena_strndup(out->arena, (const char *)db_column_text(st, 1),
                                       (size_t)db_column_bytes(st, 1));
        if (!row->operator_ || !row->error_tag) {
            rc = ES_ENOMEM;
            break;
        }
        row->count = db_column_int64(st, 2);
        row->previous_count = db_column_int64(st, 3);
        /* the first acknowledged flag of this operator's tag, and the errors
         * after it in the window */
        row->first_ack_at = db_column_null(st, 4) ? 0 : db_column_int64(st, 4);
        row->repeats_after_ack = db_column_int64(st, 5);
        row->repeat = row->first_ack_at &&
                      row->repeats_after_ack >= (w->repeat_threshold > 0 ? w->repeat_threshold : 3);
        out->errors += row->count;
        out->previous_errors += row->previous_count;
        out->nrows++;
    }
    db_reset(st);
    if (!rc && step != DB_DONE && step != DB_ROW)
        rc = ES_EDB;
    return rc;
}

/* Fail rates per rubric item, from the outcome bytes of each evaluation. The
 * rows come ordered by rubric version, so each version's item → slot map is
 * built once. */
static int item_slot(struct report_errors *out, size_t *alloc, const char *rubric_id,
                     const char *item_id)
{
    for (size_t i = out->nitems; i-- > 0;)
        if (!strcmp(out->items[i].item_id, item_id) && !strcmp(out->items[i].rubric_id, rubric_id))
            return (int)i;
    if (out->nitems == *alloc) {
        *alloc = *alloc ? *alloc * 2 : 64;
        struct report_item_row *n = realloc(out->items, *alloc * sizeof *n);
        if (!n)
            return ES_ENOMEM;
        out->items = n;
    }
    struct report_item_row *row = &out->items[out->nitems];
    memset(row, 0, sizeof *row);
    row->rubric_id = arena_strndup(out->arena, rubric_id, strlen(rubric_id));
    row->item_id = arena_strndup(out->arena, item_id, strlen(item_id));
    if (!row->rubric_id || !row->item_id)
        return ES_ENOMEM;
    return (int)out->nitems++;
}

static int item_rates(struct rubric_store *s, const struct report_window *w,
                      struct report_errors *out, struct es_err *err)
{
    struct db_stmt *st = rstore_stmt(s, w->operator_ ? RS_REPORT_OUTCOMES_OP : RS_REPORT_OUTCOMES);
    db_bind_int64(st, 1, w->since);
    db_bind_int64(st, 2, w->until);
    bind_operator(st, 3, w->operator_);
    char cur_id[RUBRIC_ID_LEN] = "";
    int cur_version = -1, nslots = 0, rc = 0, step;
    int slots[RUBRIC_MAX_ITEMS];
    size_t alloc = 0;
    while ((step = db_step(st)) == DB_ROW) {
        const char *rid = (const char *)db_column_text(st, 0);
        int version = db_column_int(st, 1);
        out->evaluations++;
        if (version != cur_version || strcmp(rid, cur_id)) {
            const struct rubric *r;
            snprintf(cur_id, sizeof cur_id, "%s", rid);
            cur_version = version;
            nslots = 0;
            rc = rstore_rubric(s, cur_id, version, &r, err);
            if (rc)
                break;
            for (int i = 0; i < r->nitems && !rc; i++) {
                slots[i] = item_slot(out, &alloc, r->id, r->items[i].id);
                if (slots[i] < 0)
                    rc = slots[i];
                nslots++;
            }
            if (rc)
                break;
        }
        const uint8_t *o = db_column_blob(st, 2);
        int n = ES_MIN(db_column_bytes(st, 2), nslots);
        for (int i = 0; i < n; i++) {
            if (!o[i])
                continue;
            out->items[slots[i]].answered++;
            out->items[slots[i]].failed += o[i] == 2;
        }
    }
    db_reset(st);
    if (!rc && step != DB_DONE && step != DB_ROW)
        rc = rstore_db_error(s, "item outcomes", err);
    return rc;
}

int report_errors(struct rubric_store *s, const struct report_window *w, struct report_errors *out,
                  struct es_err *err)
{
    memset(out, 0, sizeof *out);
    if (w->until <= w->since)
        return es_seterr(err, ES_EINVAL, "the window ends before it starts");
    int rc = arena_new(&out->arena);
    if (rc)
        return rc;
    rc = error_rows(s, w, out);
    if (rc)
        es_seterr(err, rc, "error counts: %s", rc == ES_EDB ? db_errmsg(s->db) : es_strerror(rc));
    if (!rc)
        rc = item_rates(s, w, out, err);
    if (rc)
        report_errors_release(out);
    return rc;
}

void report_errors_release(struct report_errors *r)
{
    free(r->rows);
    free(r->items);
    arena_free(r->arena);
    memset(r, 0, sizeof *r);
}

int report_scores(struct rubric_store *s, const struct report_window *w,
                  int (*cb)(void *ud, const struct report_score_row *), void *ud,
                  struct es_err *err)
{
    struct db_stmt *st = rstore_stmt(s, w->operator_ ? RS_REPORT_SCORES_OP : RS_REPORT_SCORES);
    db_bind_int64(st, 1, w->since);
    db_bind_int64(st, 2, w->until);
    bind_operator(st, 3, w->operator_);
    int step;
    while ((step = db_step(st)) == DB_ROW) {
        struct report_score_row row;
        snprintf(row.operator_, sizeof row.operator_, "%s", (const char *)db_column_text(st, 0));
        row.evaluations = db_column_int64(st, 1);
        row.passed = db_column_int64(st, 2);
        row.average = rubric_round1(db_column_double(st, 3));
        if (cb(ud, &row))
            break;
    }
    db_reset(st);
    return step == DB_ROW || step == DB_DONE ? 0 : rstore_db_error(s, "score report", err);
}

/* ---- sampling --------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct picked {
    char id[ES_ID_LEN];
    int64_t started_at;
};

static int cmp_picked(const void *a, const void *b)
{
    const struct picked *x = a, *y = b;
    return strcmp(x->id, y->id); /* ids sort by call time */
}

static int flush_operator(const char *op, struct picked *pick, int npick,
                          int (*cb)(void *, const char *, const char *, int64_t), void *ud)
{
    qsort(pick, (size_t)npick, sizeof *pick, cmp_picked);
    for (int i = 0; i < npick; i++)
        if (cb(ud, op, pick[i].id, pick[i].started_at))
            return 1;
    return 0;
}

struct sample {
    struct picked *pick;
    int n;
    uint64_t seed, state;
    int64_t seen;
    char op[ARCHIVE_FIELD_LEN];
    char (*evaluated)[ES_ID_LEN]; /* sorted */
    size_t nev, cap;
    int (*cb)(void *, const char *, const char *, int64_t);
    void *ud;
};

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* reservoir sampling per operator over calls in id order: reproducible for a seed */
static int sample_call(void *ud, const char *o, const char *id, int64_t started_at)
{
    struct sample *x = ud;
    if (bsearch(id, x->evaluated, x->nev, sizeof *x->evaluated, cmp_id))
        return 0; /* evaluated (or a draft begun): not for the queue */
    if (strcmp(o, x->op)) {
        if (x->seen && flush_operator(x->op, x->pick, (int)ES_MIN(x->seen, x->n), x->cb, x->ud))
            return 1;
        snprintf(x->op, sizeof x->op, "%s", o);
        x->seen = 0;
        x->state = x->seed;
    }
    int64_t slot =
        x->seen < x->n ? x->seen : (int64_t)(splitmix64(&x->state) % (uint64_t)(x->seen + 1));
    x->seen++;
    if (slot < x->n) {
        snprintf(x->pick[slot].id, sizeof x->pick[slot].id, "%s", id);
        x->pick[slot].started_at = started_at;
    }
    return 0;
}

/* The calls of the window that have an evaluation, sorted for bsearch. */
static int evaluated_in(struct rubric_store *s, const struct report_window *w, struct sample *x,
                        struct es_err *err)
{
    struct db_stmt *st = rstore_stmt(s, RS_EVALUATED_IN);
    db_bind_int64(st, 1, w->since);
    db_bind_int64(st, 2, w->until);
    int step, rc = 0;
    while (!rc && (step = db_step(st)) == DB_ROW) {
        if (x->nev == x->cap) {
            size_t cap = x->cap ? x->cap * 2 : 1024;
            void *v = realloc(x->evaluated, cap * sizeof *x->evaluated);
            if (!v) {
                rc = ES_ENOMEM;
                break;
            }
            x->evaluated = v;
            x->cap = cap;
        }
        snprintf(x->evaluated[x->nev++], ES_ID_LEN, "%s", (const char *)db_column_text(st, 0));
    }
    db_reset(st);
    if (rc)
        return es_seterr(err, rc, "out of memory");
    if (step != DB_DONE)
        return rstore_db_error(s, "sample", err);
    qsort(x->evaluated, x->nev, sizeof *x->evaluated, cmp_id);
    return 0;
}

int report_sample(struct rubric_store *s, const struct report_window *w, int n, uint64_t seed,
                  int (*cb)(void *ud, const char *operator_, const char *call_id,
                            int64_t started_at),
                  void *ud, struct es_err *err)
{
    if (n <= 0 || n > 10000)
        return es_seterr(err, ES_EINVAL, "sample size must be 1-10000");
    struct sample x = {.n = n, .seed = seed, .state = seed, .cb = cb, .ud = ud};
    x.pick = calloc((size_t)n, sizeof *x.pick);
    if (!x.pick)
        return ES_ENOMEM;
    int rc = evaluated_in(s, w, &x, err);
    int stop = 0;
    if (!rc) {
        stop =
            catalog_answered_by_operator(s->cat, w->since, w->until, w->operator_, sample_call, &x);
        if (stop < 0)
            rc = es_seterr(err, stop, "sample: %s", db_errmsg(s->db));
    }
    if (!rc && !stop && x.seen)
        flush_operator(x.op, x.pick, (int)ES_MIN(x.seen, n), cb, ud);
    free(x.pick);
    free(x.evaluated);
    return rc;
}
