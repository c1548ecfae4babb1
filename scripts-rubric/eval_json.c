/* Reading evaluations back: the full JSON of one (with comments, history and
 * the per-section scores recomputed from its rubric) and filtered lists. */
#include "scripts-rubric/rubric_int.h"

#include <stdlib.h>
#include <string.h>

static json_t *iso_or_null(struct db_stmt *st, int col)
{
    if (db_column_null(st, col))
        return json_null();
    char buf[ES_ISO_LEN];
    es_time_iso(db_column_int64(st, col), buf);
    return json_string(buf);
}

static json_t *text_or_null(struct db_stmt *st, int col)
{
    const char *t = db_column_text(st, col);
    return t ? json_string((const char *)t) : json_null();
}

static json_t *parsed(struct db_stmt *st, int col)
{
    const char *t = db_column_text(st, col);
    json_t *v = t ? json_loads((const char *)t, 0, NULL) : NULL;
    return v ? v : json_null();
}

/* Any JSON value, a bare string or number too (a single answer). */
static json_t *parsed_any(struct db_stmt *st, int col)
{
    const char *t = db_column_text(st, col);
    json_t *v = t ? json_loads((const char *)t, JSON_DECODE_ANY, NULL) : NULL;
    return v ? v : json_null();
}

static json_t *step_json(struct db_stmt *st, int at, int by, int note, const char *note_key)
{
    if (db_column_null(st, at))
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "at", iso_or_null(st, at));
    json_object_set_new(o, "by", text_or_null(st, by));
    if (note >= 0)
        json_object_set_new(o, note_key, text_or_null(st, note));
    return o;
}

/* Column order is EVAL_COLS in store.c. */
static json_t *summary_json(struct db_stmt *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", text_or_null(st, 1));
    json_object_set_new(o, "call_id", text_or_null(st, 2));
    json_object_set_new(o, "operator", text_or_null(st, 3));
    json_object_set_new(o, "call_started_at", iso_or_null(st, 4));
    json_object_set_new(o, "reviewer", text_or_null(st, 6));
    json_object_set_new(o, "rubric_id", text_or_null(st, 7));
    json_object_set_new(o, "rubric_version", json_integer(db_column_int(st, 8)));
    json_object_set_new(o, "score", json_real(db_column_double(st, 11)));
    json_object_set_new(o, "passed", json_boolean(db_column_int(st, 12)));
    json_object_set_new(o, "critical_failed", json_boolean(db_column_int(st, 13)));
    json_object_set_new(o, "status", text_or_null(st, 14));
    json_object_set_new(o, "revision", json_integer(db_column_int(st, 15)));
    json_object_set_new(o, "created_at", iso_or_null(st, 16));
    json_object_set_new(o, "updated_at", iso_or_null(st, 17));
    return o;
}

static void add_details(json_t *o, struct db_stmt *st)
{
    json_object_set_new(o, "call_tags", parsed(st, 5));
    json_object_set_new(o, "answers", parsed(st, 9));
    json_object_set_new(o, "comment", text_or_null(st, 10));
    json_object_set_new(o, "submitted", step_json(st, 18, 19, -1, NULL));
    json_object_set_new(o, "acknowledged", step_json(st, 20, 21, -1, NULL));
    json_object_set_new(o, "disputed", step_json(st, 22, 23, 24, "reason"));
    json_object_set_new(o, "resolved", step_json(st, 25, 26, 27, "resolution"));
}

static json_t *comments_json(struct rubric_store *s, int64_t n)
{
    struct db_stmt *st = rstore_stmt(s, RS_COMMENTS);
    db_bind_int64(st, 1, n);
    json_t *a = json_array();
    while (db_step(st) == DB_ROW) {
        json_t *c = json_object();
        json_object_set_new(c, "id", json_integer(db_column_int64(st, 0)));
        json_object_set_new(c, "item_id", text_or_null(st, 1));
        json_object_set_new(
            c, "at_ms", db_column_null(st, 2) ? json_null() : json_integer(db_column_int64(st, 2)));
        json_object_set_new(c, "author", text_or_null(st, 3));
        json_object_set_new(c, "by", text_or_null(st, 3));
        json_object_set_new(c, "text", text_or_null(st, 4));
        json_object_set_new(c, "created_at", iso_or_null(st, 5));
        json_array_append_new(a, c);
    }
    db_reset(st);
    return a;
}

static json_t *history_json(struct rubric_store *s, int64_t n)
{
    struct db_stmt *st = rstore_stmt(s, RS_HISTORY);
    db_bind_int64(st, 1, n);
    json_t *a = json_array();
    while (db_step(st) == DB_ROW) {
        json_t *h = json_object();
        json_object_set_new(h, "revision", json_integer(db_column_int(st, 0)));
        json_object_set_new(h, "at", iso_or_null(st, 1));
        json_object_set_new(h, "by", text_or_null(st, 2));
        json_object_set_new(h, "action", text_or_null(st, 3));
        json_object_set_new(h, "status", text_or_null(st, 4));
        json_object_set_new(h, "answers", parsed(st, 5));
        json_object_set_new(h, "comment", text_or_null(st, 6));
        json_object_set_new(h, "score", json_real(db_column_double(st, 7)));
        json_object_set_new(h, "passed", json_boolean(db_column_int(st, 8)));
        json_object_set_new(h, "critical_failed", json_boolean(db_column_int(st, 9)));
        json_object_set_new(h, "note", text_or_null(st, 10));
        json_array_append_new(a, h);
    }
    db_reset(st);
    return a;
}

/* Section scores and error tags, recomputed from the stored answers. */
/* The tags the evaluation was scored with: its own, else the call's. New reference. */
static json_t *scored_tags(struct rubric_store *s, int64_t n)
{
    struct db_stmt *st = rstore_stmt(s, RS_EVAL_EXTRA);
    db_bind_int64(st, 1, n);
    json_t *tags = NULL;
    char call_id[ES_ID_LEN] = "";
    if (db_step(st) == DB_ROW) {
        if (!db_column_null(st, 0))
            tags = json_loads((const char *)db_column_text(st, 0), 0, NULL);
        else
            snprintf(call_id, sizeof call_id, "%s", (const char *)db_column_text(st, 3));
    }
    db_reset(st);
    struct rstore_call k = {.tags = NULL};
    struct es_err err;
    if (call_id[0] && !rstore_call(s, call_id, &k, &err)) /* scored before tags were kept */
        tags = k.tags;
    return tags;
}

/* An answer as it was given: "yes", "no", "na", a number, or null. */
static json_t *answer_json(const struct rubric_answer *a)
{
    switch (a->kind) {
    case RUBRIC_ANS_YES:
        return json_string("yes");
    case RUBRIC_ANS_NO:
        return json_string("no");
    case RUBRIC_ANS_NA:
        return json_string("na");
    case RUBRIC_ANS_VALUE:
        return json_integer(a->value);
    default:
        return json_null();
    }
}

/* What an item cost: how much higher the score would be had it been answered
 * at its best (yes, or the top of its scale), everything else the same. */
static double points_lost(const struct rubric *r, const struct rubric_answers *a, int i,
                          const char *const *tags, double score, struct rubric_result *tmp)
{
    struct rubric_answers *b = malloc(sizeof *b);
    struct es_err err = {{0}};
    double lost = 0;
    if (!b)
        return 0;
    *b = *a;
    const struct rubric_item *it = &r->items[i];
    b->a[i].kind = it->type == RUBRIC_YES_NO ? RUBRIC_ANS_YES : RUBRIC_ANS_VALUE;
    b->a[i].value = it->max;
    if (!rubric_score(r, b, tags, tmp, &err))
        lost = rubric_round1(tmp->score - score);
    free(b);
    return lost > 0 ? lost : 0;
}

/* Each item as the evaluated operator should read it: the question and its
 * guidance, the answer, the outcome, what it cost, and the comments on it. */
static json_t *items_json(const struct rubric *r, const struct rubric_answers *a,
                          const struct rubric_result *res, const char *const *tags,
                          json_t *comments)
{
    json_t *items = json_array();
    struct rubric_result *tmp = malloc(sizeof *tmp);
    for (int i = 0; i < r->nitems && tmp; i++) {
        const struct rubric_item *it = &r->items[i];
        bool scored = res->item_state[i] == RUBRIC_ITEM_SCORED;
        const char *outcome = !scored ? "na" : res->item_failed[i] ? "failed" : "passed";
        double lost =
            scored && res->item_score[i] < 1 ? points_lost(r, a, i, tags, res->score, tmp) : 0;
        json_t *said = json_null();
        size_t k;
        json_t *c;
        json_array_foreach(comments, k, c)
        {
            const char *on = json_string_value(json_object_get(c, "item_id"));
            if (on && !strcmp(on, it->id) && json_is_null(said))
                said = json_incref(json_object_get(c, "text"));
        }
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:f, s:b, s:o, s:s}", "id", it->id, "section",
                      r->sections[it->section].id, "question", it->text, "guidance",
                      it->guidance ? it->guidance : "", "answer", answer_json(&a->a[i]), "outcome",
                      outcome, "points_lost", lost, "critical", it->critical, "comment", said,
                      "error_tag", it->error_tag);
        if (it->type == RUBRIC_SCALE)
            json_object_set_new(o, "scale",
                                json_pack("{s:i, s:i}", "min", it->min, "max", it->max));
        json_array_append_new(items, o);
    }
    free(tmp);
    return items;
}

static void add_result(struct rubric_store *s, json_t *o, int64_t n, json_t *comments)
{
    const struct rubric *r;
    struct es_err err = {{0}};
    const char *rid = json_string_value(json_object_get(o, "rubric_id"));
    int v = (int)json_integer_value(json_object_get(o, "rubric_version"));
    if (!rid || rstore_rubric(s, rid, v, &r, &err))
        return;
    struct {
        struct rubric_answers a;
        struct rubric_result res;
    } *w = malloc(sizeof *w);
    if (!w)
        return;
    const char *tags[65];
    json_t *call_tags = scored_tags(s, n);
    const char *const *list = rubric_tag_list(call_tags, tags, ES_ARRAY_LEN(tags));
    if (!rubric_answers_from_json(r, json_object_get(o, "answers"), &w->a, &err) &&
        !rubric_score(r, &w->a, list, &w->res, &err)) {
        json_t *res = rubric_result_json(r, &w->res);
        json_t *secs = json_object_get(res, "sections");
        size_t i;
        json_t *sec;
        json_array_foreach(secs, i, sec) /* each subtotal with its title */
            json_object_set_new(sec, "title",
                                json_string(r->sections[i].title ? r->sections[i].title : ""));
        json_object_set(o, "sections", secs);
        json_object_set(o, "errors", json_object_get(res, "errors"));
        json_object_set_new(o, "items", items_json(r, &w->a, &w->res, list, comments));
        json_object_set_new(o, "pass_score", json_real(r->pass_score));
        json_decref(res);
    }
    json_decref(call_tags);
    free(w);
}

/* Disputes of single items, each with its decision once made. */
static json_t *item_disputes_json(struct rubric_store *s, int64_t n)
{
    struct db_stmt *st = rstore_stmt(s, RS_ITEM_DISPUTES);
    db_bind_int64(st, 1, n);
    json_t *a = json_array();
    while (db_step(st) == DB_ROW) {
        json_t *d = json_object();
        json_object_set_new(d, "item_id", text_or_null(st, 0));
        json_object_set_new(d, "reason", text_or_null(st, 1));
        json_object_set_new(d, "at", iso_or_null(st, 2));
        json_object_set_new(d, "by", text_or_null(st, 3));
        json_object_set_new(d, "decision", text_or_null(st, 4));
        json_object_set_new(d, "answer_before", parsed_any(st, 5));
        json_object_set_new(d, "answer_after", parsed_any(st, 6));
        json_object_set_new(d, "note", text_or_null(st, 7));
        json_object_set_new(d, "resolved_at", iso_or_null(st, 8));
        json_object_set_new(d, "resolved_by", text_or_null(st, 9));
        json_array_append_new(a, d);
    }
    db_reset(st);
    return a;
}

int eval_get_json(struct rubric_store *s, const char *id, bool history, json_t **out,
                  struct es_err *err)
{
    *out = NULL;
    int rc;
    struct db_stmt *st = rstore_get_eval(s, id, &rc, err);
    if (!st)
        return rc;
    int64_t n = db_column_int64(st, 0);
    json_t *o = summary_json(st);
    add_details(o, st);
    db_reset(st);
    if (json_is_null(json_object_get(o, "call_tags"))) /* scored with the call's own */
        json_object_del(o, "call_tags");
    json_t *comments = comments_json(s, n);
    add_result(s, o, n, comments);
    json_object_set_new(o, "comments", comments);
    json_t *disputes = item_disputes_json(s, n);
    size_t i, k;
    json_t *it, *d;
    json_array_foreach(json_object_get(o, "items"), i, it) json_array_foreach(disputes, k, d)
    {
        if (json_equal(json_object_get(it, "id"), json_object_get(d, "item_id")))
            json_object_set(it, "dispute", d);
    }
    json_object_set_new(o, "item_disputes", disputes);
    if (history)
        json_object_set_new(o, "history", history_json(s, n));
    *out = o;
    return 0;
}

int eval_list(struct rubric_store *s, const struct eval_filter *f,
              int (*cb)(void *ud, json_t *summary), void *ud)
{
    struct db_stmt *st = rstore_stmt(s, f->call_id     ? RS_LIST_EVALS_CALL
                                        : f->operator_ ? RS_LIST_EVALS_OP
                                                       : RS_LIST_EVALS);
    const char *texts[4] = {f->call_id, f->operator_, f->reviewer, f->rubric_id};
    for (int i = 0; i < 4; i++)
        if (texts[i])
            db_bind_text(st, i + 1, texts[i], -1);
    if (f->status >= 0)
        db_bind_text(st, 5, eval_status_name((enum eval_status)f->status), -1);
    db_bind_int64(st, 6, f->since);
    db_bind_int64(st, 7, f->until);
    db_bind_int(st, 8, f->limit > 0 ? f->limit : -1);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        json_t *o = summary_json(st);
        int stop = cb(ud, o);
        json_decref(o);
        if (stop)
            break;
    }
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? 0 : ES_EDB;
}
