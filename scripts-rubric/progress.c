/* An operator's progress (weekly scores and pass rates, recurring errors with
 * the rubric's words for them and the calls, what came since the last
 * acknowledgement) and the coaching goals a supervisor sets. What an operator
 * is shown of the team is one number, the median of the operators' averages. */
#include "scripts-rubric/rubric_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WEEK_MS      (7 * 86400000LL)
#define MONDAY_EPOCH (4 * 86400000LL) /* 1970-01-05, the first Monday */

static json_t *iso(int64_t ms)
{
    char b[ES_ISO_LEN];
    es_time_iso(ms, b);
    return json_string(b);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct averages {
    double *v;
    size_t n, cap;
};

static int collect(void *ud, const struct report_score_row *row)
{
    struct averages *a = ud;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        double *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return 1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = row->average;
    return 0;
}

/* The rubric's question for an error tag (from the rubric of the evaluation
 * it was found in). */
static const char *question_of(struct rubric_store *s, const char *rid, int version,
                               const char *tag)
{
    const struct rubric *r;
    struct es_err err = {{0}};
    if (rstore_rubric(s, rid, version, &r, &err))
        return "";
    for (int i = 0; i < r->nitems; i++)
        if (!strcmp(r->items[i].error_tag, tag))
            return r->items[i].text;
    return "";
}

static json_t *errors_json(struct rubric_store *s, const char *op, int64_t from, int64_t to)
{
    json_t *out = json_array();
    struct db_stmt *st = rstore_stmt(s, RS_PROGRESS_ERRORS);
    db_bind_text(st, 1, op, -1);
    db_bind_int64(st, 2, from);
    db_bind_int64(st, 3, to);
    while (db_step(st) == DB_ROW)
        json_array_append_new(out,
                              json_pack("{s:s, s:I}", "tag", (const char *)db_column_text(st, 0),
                                        "count", (json_int_t)db_column_int64(st, 1)));
    db_reset(st);
    size_t i;
    json_t *e;
    json_array_foreach(out, i, e)
    {
        const char *tag = json_string_value(json_object_get(e, "tag"));
        json_t *calls = json_array();
        const char *question = "";
        st = rstore_stmt(s, RS_PROGRESS_ERROR_CALLS);
        db_bind_text(st, 1, op, -1);
        db_bind_text(st, 2, tag, -1);
        db_bind_int64(st, 3, from);
        db_bind_int64(st, 4, to);
        char rid[RUBRIC_ID_LEN] = "";
        int version = 0;
        while (db_step(st) == DB_ROW) {
            json_array_append_new(
                calls, json_pack("{s:s, s:s, s:o}", "call_id", (const char *)db_column_text(st, 0),
                                 "evaluation_id", (const char *)db_column_text(st, 1), "at",
                                 iso(db_column_int64(st, 2))));
            if (!rid[0]) {
                snprintf(rid, sizeof rid, "%s", (const char *)db_column_text(st, 3));
                version = db_column_int(st, 4);
            }
        }
        db_reset(st);
        if (rid[0])
            question = question_of(s, rid, version, tag);
        json_object_set_new(e, "question", json_string(question));
        json_object_set_new(e, "calls", calls);
    }
    return out;
}

int report_progress(struct rubric_store *s, const char *operator_, int64_t from, int64_t to,
                    int64_t now, json_t **out, struct es_err *err)
{
    *out = NULL;
    if (!operator_ || !operator_[0])
        return es_seterr(err, ES_EINVAL, "which operator?");
    json_t *o = json_object(), *weeks = json_array();
    struct db_stmt *st = rstore_stmt(s, RS_PROGRESS_WEEKS);
    db_bind_text(st, 1, operator_, -1);
    db_bind_int64(st, 2, from);
    db_bind_int64(st, 3, to);
    int64_t total = 0;
    double sum = 0;
    int step;
    while ((step = db_step(st)) == DB_ROW) {
        int64_t wk = db_column_int64(st, 0), n = db_column_int64(st, 1);
        char day[ES_ISO_LEN];
        es_time_iso(MONDAY_EPOCH + wk * WEEK_MS, day);
        day[10] = '\0';
        double avg = db_column_double(st, 2);
        json_array_append_new(weeks,
                              json_pack("{s:s, s:I, s:f, s:f}", "week", day, "evaluations",
                                        (json_int_t)n, "average", rubric_round1(avg), "pass_rate",
                                        rubric_round1(db_column_double(st, 3) * 100) / 100));
        total += n;
        sum += avg * (double)n;
    }
    db_reset(st);
    if (step != DB_DONE) {
        json_decref(o);
        json_decref(weeks);
        return rstore_db_error(s, "progress", err);
    }
    json_object_set_new(o, "operator", json_string(operator_));
    json_object_set_new(o, "from", iso(from));
    json_object_set_new(o, "to", iso(to));
    json_object_set_new(o, "weeks", weeks);
    json_object_set_new(o, "evaluations", json_integer(total));
    json_object_set_new(o, "average",
                        total ? json_real(rubric_round1(sum / (double)total)) : json_null());
    /* the team: the median of every operator's average over the same window */
    struct averages a = {0};
    struct report_window w = {.since = from, .until = to};
    int rc = report_scores(s, &w, collect, &a, err);
    if (rc) {
        free(a.v);
        json_decref(o);
        return rc;
    }
    double median = 0;
    if (a.n) {
        qsort(a.v, a.n, sizeof *a.v, cmp_double);
        median = a.n % 2 ? a.v[a.n / 2] : (a.v[a.n / 2 - 1] + a.v[a.n / 2]) / 2;
    }
    free(a.v);
    json_object_set_new(o, "team_median_average",
                        a.n ? json_real(rubric_round1(median)) : json_null());
    json_object_set_new(o, "team_operators", json_integer((json_int_t)a.n));
    json_object_set_new(o, "errors", errors_json(s, operator_, from, to));
    /* since the last acknowledgement */
    st = rstore_stmt(s, RS_PROGRESS_LAST_ACK);
    db_bind_text(st, 1, operator_, -1);
    int64_t last = 0;
    if (db_step(st) == DB_ROW && !db_column_null(st, 0))
        last = db_column_int64(st, 0);
    db_reset(st);
    st = rstore_stmt(s, RS_PROGRESS_SINCE);
    db_bind_text(st, 1, operator_, -1);
    db_bind_int64(st, 2, last);
    int64_t ev = 0, er = 0;
    if (db_step(st) == DB_ROW) {
        ev = db_column_int64(st, 0);
        er = db_column_int64(st, 1);
    }
    db_reset(st);
    json_object_set_new(o, "since_last_acknowledgement",
                        json_pack("{s:o, s:I, s:I}", "at", last ? iso(last) : json_null(),
                                  "evaluations", (json_int_t)ev, "errors", (json_int_t)er));
    json_t *goals;
    rc = goal_list(s, operator_, now, &goals, err);
    if (rc) {
        json_decref(o);
        return rc;
    }
    json_object_set_new(o, "goals", goals);
    *out = o;
    return 0;
}

/* ---- coaching goals -------------------------------------------------------------- */

static bool slug(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    return n && n < RUBRIC_ID_LEN && strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int goal_add(struct rubric_store *s, const struct goal_new *g, int64_t now, int64_t *id,
             struct es_err *err)
{
    bool errors = g->kind && !strcmp(g->kind, "errors"),
         average = g->kind && !strcmp(g->kind, "average");
    if (!g->operator_ || !g->operator_[0] || strlen(g->operator_) >= ARCHIVE_FIELD_LEN)
        return es_seterr(err, ES_EINVAL, "a goal needs the operator's extension");
    if (!g->by || !g->by[0])
        return es_seterr(err, ES_EINVAL, "a goal needs who sets it");
    if (!errors && !average)
        return es_seterr(err, ES_EINVAL, "a goal's kind is \"errors\" or \"average\"");
    if (errors && (!slug(g->error_tag) || g->max_errors < 0 || g->max_errors > 1000 ||
                   g->next_evaluations < 1 || g->next_evaluations > 1000))
        return es_seterr(err, ES_EINVAL,
                         "an errors goal needs an error tag, max_errors (0-1000) and"
                         " next_evaluations (1-1000)");
    if (average &&
        (!(g->min_average > 0 && g->min_average <= 100) || g->weeks < 1 || g->weeks > 52))
        return es_seterr(err, ES_EINVAL,
                         "an average goal needs min_average (0-100] and weeks (1-52)");
    if (g->note && strlen(g->note) > 1000)
        return es_seterr(err, ES_EINVAL, "the note is longer than 1,000 bytes");
    struct db_stmt *st = rstore_stmt(s, RS_GOAL_ADD);
    db_bind_text(st, 1, g->operator_, -1);
    db_bind_text(st, 2, g->kind, -1);
    if (errors) {
        db_bind_text(st, 3, g->error_tag, -1);
        db_bind_int(st, 4, g->max_errors);
        db_bind_int(st, 5, g->next_evaluations);
    } else {
        db_bind_double(st, 6, g->min_average);
        db_bind_int(st, 7, g->weeks);
    }
    db_bind_text(st, 8, g->note ? g->note : "", -1);
    db_bind_int64(st, 9, now);
    db_bind_text(st, 10, g->by, -1);
    int64_t row = 0;
    int rc = db_step_id(st, &row);
    if (rc)
        return es_seterr(err, rc == ES_EEXIST ? rc : ES_EDB, "catalog: add a goal: %s",
                         db_errmsg(s->db));
    if (id)
        *id = row;
    return 0;
}

/* Progress on one goal, and its state; a state decided now is recorded. */
static json_t *goal_json(struct rubric_store *s, struct db_stmt *g, int64_t now)
{
    int64_t id = db_column_int64(g, 0), created = db_column_int64(g, 9);
    const char *op = (const char *)db_column_text(g, 1), *kind = (const char *)db_column_text(g, 2);
    const char *recorded = (const char *)db_column_text(g, 11);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:s}", "id", (json_int_t)id, "operator", op,
                          "kind", kind, "note", (const char *)db_column_text(g, 8), "created_at",
                          iso(created), "created_by", (const char *)db_column_text(g, 10));
    const char *state = "open";
    if (!strcmp(kind, "errors")) {
        const char *tag = (const char *)db_column_text(g, 3);
        int max = db_column_int(g, 4), next = db_column_int(g, 5);
        struct db_stmt *st = rstore_stmt(s, RS_GOAL_ERRORS);
        db_bind_text_copy(st, 1, op, -1);
        db_bind_int64(st, 2, created);
        db_bind_text_copy(st, 3, tag, -1);
        db_bind_int(st, 4, next);
        int64_t n = 0, errs = 0;
        if (db_step(st) == DB_ROW) {
            n = db_column_int64(st, 0);
            errs = db_column_int64(st, 1);
        }
        db_reset(st);
        state = errs > max ? "missed" : n >= next ? "met" : "open";
        json_object_set_new(o, "error_tag", json_string(tag));
        json_object_set_new(o, "max_errors", json_integer(max));
        json_object_set_new(o, "next_evaluations", json_integer(next));
        json_object_set_new(
            o, "progress",
            json_pack("{s:I, s:I}", "evaluations", (json_int_t)n, "errors", (json_int_t)errs));
    } else {
        double min = db_column_double(g, 6);
        int weeks = db_column_int(g, 7);
        int64_t end = created + (int64_t)weeks * WEEK_MS;
        struct db_stmt *st = rstore_stmt(s, RS_GOAL_AVERAGE);
        db_bind_text_copy(st, 1, op, -1);
        db_bind_int64(st, 2, created);
        db_bind_int64(st, 3, end);
        int64_t n = 0;
        double avg = 0;
        if (db_step(st) == DB_ROW) {
            n = db_column_int64(st, 0);
            avg = db_column_double(st, 1);
        }
        db_reset(st);
        if (now >= end) /* no evaluation in the period: not met */
            state = n && rubric_round1(avg) >= min ? "met" : "missed";
        json_object_set_new(o, "min_average", json_real(min));
        json_object_set_new(o, "weeks", json_integer(weeks));
        json_object_set_new(o, "ends_at", iso(end));
        json_object_set_new(o, "progress",
                            json_pack("{s:I, s:o}", "evaluations", (json_int_t)n, "average",
                                      n ? json_real(rubric_round1(avg)) : json_null()));
    }
    if (recorded) { /* decided once, it stays so */
        state = recorded;
        json_object_set_new(o, "decided_at", iso(db_column_int64(g, 12)));
    } else if (strcmp(state, "open")) {
        struct db_stmt *st = rstore_stmt(s, RS_GOAL_DECIDE);
        db_bind_int64(st, 1, id);
        db_bind_text(st, 2, state, -1);
        db_bind_int64(st, 3, now);
        struct es_err e = {{0}};
        if (!rstore_step_done(s, st, "decide a goal", &e))
            json_object_set_new(o, "decided_at", iso(now));
    }
    json_object_set_new(o, "state", json_string(state));
    return o;
}

int goal_list(struct rubric_store *s, const char *operator_, int64_t now, json_t **out,
              struct es_err *err)
{
    json_t *a = json_array();
    struct db_stmt *st = rstore_stmt(s, RS_GOALS);
    db_bind_text(st, 1, operator_, -1);
    int step;
    while ((step = db_step(st)) == DB_ROW)
        json_array_append_new(a, goal_json(s, st, now));
    db_reset(st);
    if (step != DB_DONE) {
        json_decref(a);
        return rstore_db_error(s, "goals", err);
    }
    *out = a;
    return 0;
}
