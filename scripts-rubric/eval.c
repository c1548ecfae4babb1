/* Evaluations: one reviewer's answers to one rubric version about one call,
 * and the steps they go through (draft → submitted → acknowledged | disputed →
 * resolved). Every change is one transaction and leaves a history row. */
#include "scripts-rubric/rubric_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const status_names[EVAL_NSTATUS] = {"draft", "submitted", "acknowledged",
                                                       "disputed", "resolved"};

const char *eval_status_name(enum eval_status s)
{
    return (unsigned)s < EVAL_NSTATUS ? status_names[s] : "?";
}

int eval_status_parse(const char *name, enum eval_status *out)
{
    for (int i = 0; i < EVAL_NSTATUS; i++) {
        if (!strcmp(name, status_names[i])) {
            *out = (enum eval_status)i;
            return 0;
        }
    }
    return ES_EINVAL;
}

static void bind_opt_text(struct db_stmt *st, int i, const char *v)
{
    if (v)
        db_bind_text_copy(st, i, v, -1);
}

struct db_stmt *rstore_get_eval(struct rubric_store *s, const char *id, int *rc, struct es_err *err)
{
    struct db_stmt *st = rstore_stmt(s, RS_GET_EVAL);
    db_bind_text(st, 1, id, -1);
    int step = db_step(st);
    if (step == DB_ROW)
        return st;
    db_reset(st);
    *rc = step == DB_DONE ? es_seterr(err, ES_ENOTFOUND, "no evaluation %.40s", id)
                          : rstore_db_error(s, "get evaluation", err);
    return NULL;
}

int rstore_eval_row(struct rubric_store *s, const char *id, struct eval_row *row,
                    struct es_err *err)
{
    int rc;
    struct db_stmt *st = rstore_get_eval(s, id, &rc, err);
    if (!st)
        return rc;
    memset(row, 0, sizeof *row);
    row->n = db_column_int64(st, 0);
    snprintf(row->id, sizeof row->id, "%s", (const char *)db_column_text(st, 1));
    snprintf(row->call_id, sizeof row->call_id, "%s", (const char *)db_column_text(st, 2));
    snprintf(row->operator_, sizeof row->operator_, "%s", (const char *)db_column_text(st, 3));
    row->call_started_at = db_column_int64(st, 4);
    snprintf(row->rubric_id, sizeof row->rubric_id, "%s", (const char *)db_column_text(st, 7));
    row->rubric_version = db_column_int(st, 8);
    eval_status_parse((const char *)db_column_text(st, 14), &row->status);
    db_reset(st);
    return 0;
}

/* ---- scoring an evaluation ------------------------------------------------ */

struct scored {
    struct rubric_answers ans;
    struct rubric_result res;
    uint8_t outcomes[RUBRIC_MAX_ITEMS];
};

static int score_answers(const struct rubric *r, const json_t *answers, const json_t *call_tags,
                         struct scored *sc, struct es_err *err)
{
    const char *tags[65];
    int rc = rubric_answers_from_json(r, answers, &sc->ans, err);
    if (!rc)
        rc = rubric_score(r, &sc->ans, rubric_tag_list(call_tags, tags, ES_ARRAY_LEN(tags)),
                          &sc->res, err);
    if (rc)
        return rc;
    for (int i = 0; i < r->nitems; i++)
        sc->outcomes[i] = sc->res.item_state[i] != RUBRIC_ITEM_SCORED ? 0
                          : sc->res.item_failed[i]                    ? 2
                                                                      : 1;
    return 0;
}

/* Rewrites the error rows of an evaluation from its outcomes. */
static int write_errors(struct rubric_store *s, int64_t n, const struct rubric *r,
                        const uint8_t *outcomes, const char *operator_, int64_t at, int64_t ack_at,
                        struct es_err *err)
{
    struct db_stmt *st = rstore_stmt(s, RS_DELETE_ERRORS);
    db_bind_int64(st, 1, n);
    int rc = rstore_step_done(s, st, "delete errors", err);
    for (int i = 0; i < r->nitems && !rc; i++) {
        if (outcomes[i] != 2)
            continue;
        st = rstore_stmt(s, RS_INSERT_ERROR);
        db_bind_int64(st, 1, n);
        db_bind_text(st, 2, r->items[i].error_tag, -1);
        db_bind_text(st, 3, operator_, -1);
        db_bind_int64(st, 4, at);
        if (ack_at)
            db_bind_int64(st, 5, ack_at);
        rc = rstore_step_done(s, st, "insert error", err);
    }
    return rc;
}

static int history(struct rubric_store *s, int64_t n, int64_t at, const char *who,
                   const char *action, const char *note, struct es_err *err)
{
    struct db_stmt *st = rstore_stmt(s, RS_INSERT_HISTORY);
    db_bind_int64(st, 1, n);
    db_bind_int64(st, 2, at);
    db_bind_text(st, 3, who, -1);
    db_bind_text(st, 4, action, -1);
    bind_opt_text(st, 5, note);
    return rstore_step_done(s, st, "insert history", err);
}

/* A transaction of its own, or a savepoint in the caller's (the review
 * server commits a change together with its audit row). */
static int begin(struct rubric_store *s, bool *outer, struct es_err *err)
{
    return catalog_tx_begin(s->db, outer) ? es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(s->db))
                                          : 0;
}

static int finish(struct rubric_store *s, bool outer, int rc, struct es_err *err)
{
    int end = catalog_tx_end(s->db, outer, rc);
    if (end && !rc)
        es_seterr(err, end, "catalog: commit failed: %s", db_errmsg(s->db));
    return end;
}

static int insert_comment(struct rubric_store *s, int64_t n, const struct rubric *r,
                          const struct eval_comment *cm, int64_t duration_ms, const char *author,
                          struct es_err *err)
{
    if (!cm->text || !cm->text[0])
        return es_seterr(err, ES_EINVAL, "a comment needs text");
    if (strlen(cm->text) > 10000)
        return es_seterr(err, ES_EINVAL, "a comment is longer than 10000 bytes");
    if (cm->item_id && rubric_find_item(r, cm->item_id) < 0)
        return es_seterr(err, ES_EINVAL, "comment on unknown item '%.64s'", cm->item_id);
    if (cm->at_ms < -1 || (duration_ms > 0 && cm->at_ms > duration_ms))
        return es_seterr(err, ES_EINVAL, "comment pinned at %lld ms, outside the call (0-%lld ms)",
                         (long long)cm->at_ms, (long long)duration_ms);
    struct db_stmt *st = rstore_stmt(s, RS_INSERT_COMMENT);
    db_bind_int64(st, 1, n);
    bind_opt_text(st, 2, cm->item_id);
    if (cm->at_ms >= 0)
        db_bind_int64(st, 3, cm->at_ms);
    db_bind_text(st, 4, author, -1);
    db_bind_text(st, 5, cm->text, -1);
    db_bind_int64(st, 6, es_now_ms());
    return rstore_step_done(s, st, "insert comment", err);
}

/* ---- create --------------------------------------------------------------- */

static bool valid_name(const char *who)
{
    return who && who[0] && strlen(who) < ARCHIVE_FIELD_LEN;
}

int eval_create(struct rubric_store *s, const struct eval_new *e, char *id_out, struct es_err *err)
{
    if (!valid_name(e->reviewer))
        return es_seterr(err, ES_EINVAL, "an evaluation needs a reviewer name");
    const struct rubric *r;
    int rc = rstore_rubric(s, e->rubric_id, e->rubric_version, &r, err);
    if (rc)
        return rc;
    struct rstore_call f = {.tags = NULL};
    rc = rstore_call(s, e->call_id, &f, err);
    if (rc)
        return rc;
    json_t *tags = e->tags ? json_incref((json_t *)e->tags) : json_incref(f.tags);
    struct scored *sc = malloc(sizeof *sc);
    char *answers = NULL, *tags_text = NULL;
    if (!sc) {
        rc = ES_ENOMEM;
        goto out;
    }
    rc = score_answers(r, e->answers, tags, sc, err);
    if (rc)
        goto out;
    json_t *canon = rubric_answers_json(r, &sc->ans);
    answers = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(canon);
    tags_text = e->tags ? json_dumps(e->tags, JSON_COMPACT) : NULL;
    if (!answers) {
        rc = ES_ENOMEM;
        goto out;
    }
    int64_t now = es_now_ms();
    es_uuid7(now, id_out);
    bool outer;
    rc = begin(s, &outer, err);
    if (rc)
        goto out;
    struct db_stmt *st = rstore_stmt(s, RS_INSERT_EVAL);
    db_bind_text(st, 1, id_out, -1);
    db_bind_text(st, 2, e->call_id, -1);
    db_bind_text(st, 3, f.operator_, -1);
    db_bind_int64(st, 4, f.started_at);
    bind_opt_text(st, 5, tags_text);
    db_bind_text(st, 6, e->reviewer, -1);
    db_bind_text(st, 7, r->id, -1);
    db_bind_int(st, 8, r->version);
    db_bind_text(st, 9, answers, -1);
    db_bind_text(st, 10, e->comment ? e->comment : "", -1);
    db_bind_blob(st, 11, sc->outcomes, r->nitems);
    db_bind_double(st, 12, sc->res.score);
    db_bind_int(st, 13, sc->res.passed);
    db_bind_int(st, 14, sc->res.critical_failed);
    db_bind_text(st, 15, e->submit ? "submitted" : "draft", -1);
    db_bind_int64(st, 16, now);
    if (e->submit) {
        db_bind_int64(st, 17, now);
        db_bind_text(st, 18, e->reviewer, -1);
    }
    int64_t n = 0;
    rc = db_step_id(st, &n);
    if (rc)
        es_seterr(err, rc == ES_EEXIST ? rc : ES_EDB, "catalog: insert evaluation: %s",
                  db_errmsg(s->db));
    if (!rc)
        rc = history(s, n, now, e->reviewer, e->submit ? "submitted" : "created", NULL, err);
    for (int i = 0; i < e->ncomments && !rc; i++)
        rc = insert_comment(s, n, r, &e->comments[i], f.duration_ms, e->reviewer, err);
    if (!rc && e->submit)
        rc = write_errors(s, n, r, sc->outcomes, f.operator_, f.started_at, 0, err);
    rc = finish(s, outer, rc, err);
out:
    free(answers);
    free(tags_text);
    free(sc);
    json_decref(tags);
    json_decref(f.tags);
    return rc;
}

/* ---- edit and steps ------------------------------------------------------- */

/* What edits and steps need besides the row: the tags the evaluation is scored
 * with (its own, else the call's), its comment and its outcomes. */
struct eval_extra {
    json_t *tags;
    char *comment;
    uint8_t outcomes[RUBRIC_MAX_ITEMS];
    int noutcomes;
};

static int eval_extra(struct rubric_store *s, int64_t n, struct eval_extra *x, struct es_err *err)
{
    struct db_stmt *st = rstore_stmt(s, RS_EVAL_EXTRA);
    db_bind_int64(st, 1, n);
    memset(x, 0, sizeof *x);
    if (db_step(st) != DB_ROW) {
        db_reset(st);
        return rstore_db_error(s, "read evaluation", err);
    }
    bool own_tags = !db_column_null(st, 0);
    char call_id[ES_ID_LEN];
    snprintf(call_id, sizeof call_id, "%s", (const char *)db_column_text(st, 3));
    x->tags = own_tags ? json_loads((const char *)db_column_text(st, 0), 0, NULL) : NULL;
    x->comment = strdup((const char *)db_column_text(st, 1));
    x->noutcomes = ES_MIN(db_column_bytes(st, 2), RUBRIC_MAX_ITEMS);
    if (x->noutcomes > 0)
        memcpy(x->outcomes, db_column_blob(st, 2), (size_t)x->noutcomes);
    db_reset(st);
    struct rstore_call k = {.tags = NULL};
    if (!own_tags && !rstore_call(s, call_id, &k, err)) /* scored before tags were kept */
        x->tags = k.tags;
    if (!x->comment) {
        json_decref(x->tags);
        return ES_ENOMEM;
    }
    return 0;
}

static void eval_extra_release(struct eval_extra *x)
{
    json_decref(x->tags);
    free(x->comment);
}

int eval_edit(struct rubric_store *s, const char *id, const json_t *answers, const char *comment,
              const char *who, struct es_err *err)
{
    if (!valid_name(who))
        return es_seterr(err, ES_EINVAL, "an edit needs the editor's name");
    struct eval_row row;
    int rc = rstore_eval_row(s, id, &row, err);
    if (rc)
        return rc;
    if (row.status == EVAL_ACKNOWLEDGED || row.status == EVAL_RESOLVED)
        return es_seterr(err, ES_ESTATE, "evaluation %s is %s; it can no longer be edited", row.id,
                         eval_status_name(row.status));
    const struct rubric *r;
    rc = rstore_rubric(s, row.rubric_id, row.rubric_version, &r, err);
    if (rc)
        return rc;
    struct eval_extra x;
    rc = eval_extra(s, row.n, &x, err);
    if (rc)
        return rc;
    struct scored *sc = malloc(sizeof *sc);
    char *text = NULL;
    if (!sc) {
        rc = ES_ENOMEM;
        goto out;
    }
    rc = score_answers(r, answers, x.tags, sc, err);
    if (rc)
        goto out;
    json_t *canon = rubric_answers_json(r, &sc->ans);
    text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(canon);
    if (!text) {
        rc = ES_ENOMEM;
        goto out;
    }
    int64_t now = es_now_ms();
    bool outer;
    rc = begin(s, &outer, err);
    if (rc)
        goto out;
    struct db_stmt *st = rstore_stmt(s, RS_UPDATE_EVAL);
    db_bind_int64(st, 1, row.n);
    db_bind_text(st, 2, text, -1);
    /* the comment stays as it was when none is given */
    db_bind_text(st, 3, comment ? comment : x.comment, -1);
    db_bind_blob(st, 4, sc->outcomes, r->nitems);
    db_bind_double(st, 5, sc->res.score);
    db_bind_int(st, 6, sc->res.passed);
    db_bind_int(st, 7, sc->res.critical_failed);
    db_bind_int64(st, 8, now);
    rc = rstore_step_done(s, st, "update evaluation", err);
    if (!rc)
        rc = history(s, row.n, now, who, "edited", NULL, err);
    if (!rc && row.status != EVAL_DRAFT)
        rc = write_errors(s, row.n, r, sc->outcomes, row.operator_, row.call_started_at, 0, err);
    rc = finish(s, outer, rc, err);
out:
    free(text);
    free(sc);
    eval_extra_release(&x);
    return rc;
}

/* Disputed items of an evaluation still without a decision. */
static int64_t open_item_disputes(struct rubric_store *s, int64_t n)
{
    struct db_stmt *st = rstore_stmt(s, RS_ITEM_DISPUTES_OPEN);
    db_bind_int64(st, 1, n);
    int64_t open = db_step(st) == DB_ROW ? db_column_int64(st, 1) : 0;
    db_reset(st);
    return open;
}

static bool step_allowed(enum eval_status from, enum eval_status to)
{
    switch (to) {
    case EVAL_SUBMITTED:
        return from == EVAL_DRAFT;
    case EVAL_ACKNOWLEDGED:
    case EVAL_DISPUTED:
        return from == EVAL_SUBMITTED;
    case EVAL_RESOLVED:
        return from == EVAL_DISPUTED;
    default:
        return false;
    }
}

int eval_transition(struct rubric_store *s, const char *id, enum eval_status to, const char *who,
                    const char *note, struct es_err *err)
{
    if (!valid_name(who))
        return es_seterr(err, ES_EINVAL, "a status change needs the name of who makes it");
    struct eval_row row;
    int rc = rstore_eval_row(s, id, &row, err);
    if (rc)
        return rc;
    if (!step_allowed(row.status, to))
        return es_seterr(err, ES_ESTATE, "evaluation %s is %s; it cannot become %s", row.id,
                         eval_status_name(row.status), eval_status_name(to));
    if (to == EVAL_DISPUTED && (!note || !note[0]))
        return es_seterr(err, ES_EINVAL, "a dispute needs a reason");
    if (to == EVAL_RESOLVED && open_item_disputes(s, row.n) > 0)
        return es_seterr(err, ES_ESTATE,
                         "evaluation %s has disputed items: each needs a decision (upheld or"
                         " changed)",
                         row.id);
    const struct rubric *r;
    rc = rstore_rubric(s, row.rubric_id, row.rubric_version, &r, err);
    if (rc)
        return rc;
    int64_t now = es_now_ms();
    bool outer;
    rc = begin(s, &outer, err);
    if (rc)
        return rc;
    struct db_stmt *st = rstore_stmt(s, RS_SET_STATUS);
    db_bind_int64(st, 1, row.n);
    db_bind_text(st, 2, eval_status_name(to), -1);
    db_bind_int64(st, 3, now);
    db_bind_text(st, 4, who, -1);
    bind_opt_text(st, 5, note);
    rc = rstore_step_done(s, st, "set status", err);
    if (!rc && to == EVAL_SUBMITTED) {
        struct eval_extra x;
        rc = eval_extra(s, row.n, &x, err);
        if (!rc && x.noutcomes != r->nitems)
            rc = es_seterr(err, ES_ECORRUPT, "evaluation %s: outcomes do not match its rubric",
                           row.id);
        if (!rc)
            rc = write_errors(s, row.n, r, x.outcomes, row.operator_, row.call_started_at, 0, err);
        eval_extra_release(&x);
    }
    if (!rc && (to == EVAL_ACKNOWLEDGED || to == EVAL_RESOLVED)) {
        st = rstore_stmt(s, RS_ACK_ERRORS);
        db_bind_int64(st, 1, row.n);
        db_bind_int64(st, 2, now);
        rc = rstore_step_done(s, st, "acknowledge errors", err);
    }
    if (!rc)
        rc = history(s, row.n, now, who, eval_status_name(to), note, err);
    return finish(s, outer, rc, err);
}

int eval_comment_add(struct rubric_store *s, const char *eval_id, const struct eval_comment *cm,
                     const char *author, struct es_err *err)
{
    if (!valid_name(author))
        return es_seterr(err, ES_EINVAL, "a comment needs its author's name");
    struct eval_row row;
    int rc = rstore_eval_row(s, eval_id, &row, err);
    if (rc)
        return rc;
    const struct rubric *r;
    rc = rstore_rubric(s, row.rubric_id, row.rubric_version, &r, err);
    if (rc)
        return rc;
    struct rstore_call f = {.tags = NULL};
    rc = rstore_call(s, row.call_id, &f, err);
    json_decref(f.tags);
    if (rc)
        return rc;
    bool outer;
    rc = begin(s, &outer, err);
    if (!rc)
        rc = insert_comment(s, row.n, r, cm, f.duration_ms, author, err);
    return finish(s, outer, rc, err);
}

/* ---- disputes of single items ------------------------------------------------ */

#define REASON_MAX 1000

static bool text_ok(const char *t)
{
    return t && t[0] && strlen(t) <= REASON_MAX;
}

int eval_dispute_items(struct rubric_store *s, const char *id, const json_t *items, const char *who,
                       struct es_err *err)
{
    if (!valid_name(who))
        return es_seterr(err, ES_EINVAL, "a dispute needs the name of who makes it");
    if (!json_is_object(items) || !json_object_size(items))
        return es_seterr(err, ES_EINVAL, "expected {\"items\": {\"item-id\": \"reason\", ...}}");
    struct eval_row row;
    int rc = rstore_eval_row(s, id, &row, err);
    if (rc)
        return rc;
    const struct rubric *r;
    rc = rstore_rubric(s, row.rubric_id, row.rubric_version, &r, err);
    if (rc)
        return rc;
    const char *key;
    json_t *v;
    struct es_buf note;
    es_buf_init(&note, 64 * 1024);
    es_buf_appendf(&note, "items disputed:");
    json_object_foreach((json_t *)items, key, v)
    {
        if (rubric_find_item(r, key) < 0)
            rc = es_seterr(err, ES_EINVAL, "no item '%.64s' in rubric %s v%d", key, r->id,
                           r->version);
        else if (!text_ok(json_string_value(v)))
            rc = es_seterr(err, ES_EINVAL, "item '%.64s': a reason of 1 to %d bytes is needed", key,
                           REASON_MAX);
        if (rc)
            break;
        es_buf_appendf(&note, " %s", key);
    }
    int64_t now = es_now_ms();
    bool outer = false;
    if (!rc)
        rc = begin(s, &outer, err);
    else {
        es_buf_free(&note);
        return rc;
    }
    if (!rc)
        rc = eval_transition(s, id, EVAL_DISPUTED, who, note.data, err);
    json_object_foreach((json_t *)items, key, v)
    {
        if (rc)
            break;
        struct db_stmt *st = rstore_stmt(s, RS_ITEM_DISPUTE_ADD);
        db_bind_int64(st, 1, row.n);
        db_bind_text(st, 2, key, -1);
        db_bind_text(st, 3, json_string_value(v), -1);
        db_bind_int64(st, 4, now);
        db_bind_text(st, 5, who, -1);
        rc = rstore_step_done(s, st, "dispute an item", err);
        if (!rc) {
            char *h = NULL;
            rc = asprintf(&h, "%s: %s", key, json_string_value(v)) < 0
                     ? ES_ENOMEM
                     : history(s, row.n, now, who, "item disputed", h, err);
            free(h);
        }
    }
    es_buf_free(&note);
    return finish(s, outer, rc, err);
}

struct item_dispute {
    char item[RUBRIC_ID_LEN];
    bool decided;
};

int eval_resolve_items(struct rubric_store *s, const char *id, const json_t *items, const char *who,
                       struct es_err *err)
{
    if (!valid_name(who))
        return es_seterr(err, ES_EINVAL, "a resolution needs the name of who makes it");
    if (!json_is_object(items) || !json_object_size(items))
        return es_seterr(err, ES_EINVAL,
                         "expected {\"items\": {\"item-id\": {\"decision\": \"upheld\" or"
                         " \"changed\", \"answer\", \"note\"}}}");
    struct eval_row row;
    int rc = rstore_eval_row(s, id, &row, err);
    if (rc)
        return rc;
    if (row.status != EVAL_DISPUTED)
        return es_seterr(err, ES_ESTATE, "evaluation %s is %s, not disputed", row.id,
                         eval_status_name(row.status));
    /* the disputed items, and the answers as they stand */
    struct item_dispute d[RUBRIC_MAX_ITEMS];
    int nd = 0;
    struct db_stmt *st = rstore_stmt(s, RS_ITEM_DISPUTES);
    db_bind_int64(st, 1, row.n);
    while (nd < RUBRIC_MAX_ITEMS && db_step(st) == DB_ROW) {
        snprintf(d[nd].item, sizeof d[nd].item, "%s", (const char *)db_column_text(st, 0));
        d[nd++].decided = !db_column_null(st, 4);
    }
    db_reset(st);
    if (!nd)
        return es_seterr(err, ES_ESTATE,
                         "evaluation %s was disputed as a whole: resolve it as a whole", row.id);
    json_t *ev = NULL;
    rc = eval_get_json(s, id, false, &ev, err);
    if (rc)
        return rc;
    json_t *answers = json_deep_copy(json_object_get(ev, "answers"));
    bool changed = false;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)items, key, v)
    {
        int k = -1;
        for (int i = 0; i < nd && k < 0; i++)
            if (!strcmp(d[i].item, key))
                k = i;
        const char *decision = json_string_value(json_object_get(v, "decision"));
        const char *note = json_string_value(json_object_get(v, "note"));
        if (k < 0)
            rc = es_seterr(err, ES_EINVAL, "item '%.64s' is not disputed", key);
        else if (d[k].decided)
            rc = es_seterr(err, ES_ESTATE, "item '%.64s' is decided already", key);
        else if (!decision || (strcmp(decision, "upheld") && strcmp(decision, "changed")))
            rc = es_seterr(err, ES_EINVAL, "item '%.64s': decision is \"upheld\" or \"changed\"",
                           key);
        else if (!text_ok(note))
            rc = es_seterr(err, ES_EINVAL, "item '%.64s': a note of 1 to %d bytes is needed", key,
                           REASON_MAX);
        else if (!strcmp(decision, "changed")) {
            json_t *a = json_object_get(v, "answer");
            if (!a || json_equal(a, json_object_get(answers, key)))
                rc = es_seterr(err, ES_EINVAL,
                               "item '%.64s': \"changed\" needs an answer other than the one"
                               " given",
                               key);
            else {
                json_object_set(answers, key, a);
                changed = true;
            }
        }
        if (rc)
            break;
    }
    int64_t now = es_now_ms();
    bool outer = false;
    if (!rc)
        rc = begin(s, &outer, err);
    else
        goto out;
    if (!rc && changed) /* rescored; the answers before stay in the history */
        rc = eval_edit(s, id, answers, NULL, who, err);
    json_object_foreach((json_t *)items, key, v)
    {
        if (rc)
            break;
        const char *decision = json_string_value(json_object_get(v, "decision"));
        const char *note = json_string_value(json_object_get(v, "note"));
        char *before = json_dumps(json_object_get(json_object_get(ev, "answers"), key),
                                  JSON_COMPACT | JSON_ENCODE_ANY);
        char *after = json_dumps(json_object_get(answers, key), JSON_COMPACT | JSON_ENCODE_ANY);
        st = rstore_stmt(s, RS_ITEM_DISPUTE_DECIDE);
        db_bind_int64(st, 1, row.n);
        db_bind_text(st, 2, key, -1);
        db_bind_text(st, 3, decision, -1);
        bind_opt_text(st, 4, before);
        bind_opt_text(st, 5, after);
        db_bind_text(st, 6, note, -1);
        db_bind_int64(st, 7, now);
        db_bind_text(st, 8, who, -1);
        rc = rstore_step_done(s, st, "decide a disputed item", err);
        char *h = NULL;
        if (!rc)
            rc = asprintf(&h, "%s: %s: %s", key, decision, note) < 0
                     ? ES_ENOMEM
                     : history(s, row.n, now, who, "item resolved", h, err);
        free(h);
        free(before);
        free(after);
    }
    if (!rc && open_item_disputes(s, row.n) == 0)
        rc = eval_transition(s, id, EVAL_RESOLVED, who, "every disputed item decided", err);
    rc = finish(s, outer, rc, err);
out:
    json_decref(answers);
    json_decref(ev);
    return rc;
}

int eval_apply_deadline(struct rubric_store *s, int days, int64_t now,
                        int (*each)(void *ud, const char *id), void *ud, int *n, struct es_err *err)
{
    *n = 0;
    if (days <= 0)
        return 0;
    char note[64];
    snprintf(note, sizeof note, "no dispute within %d days", days);
    for (;;) {
        char ids[500][ES_ID_LEN];
        int k = 0;
        struct db_stmt *st = rstore_stmt(s, RS_DEADLINE);
        db_bind_int64(st, 1, now - (int64_t)days * 86400000);
        while (k < 500 && db_step(st) == DB_ROW)
            snprintf(ids[k++], ES_ID_LEN, "%s", (const char *)db_column_text(st, 0));
        db_reset(st);
        for (int i = 0; i < k; i++) {
            bool outer;
            int rc = begin(s, &outer, err);
            if (!rc)
                rc = eval_transition(s, ids[i], EVAL_ACKNOWLEDGED, "deadline", note, err);
            if (!rc && each)
                rc = each(ud, ids[i]);
            rc = finish(s, outer, rc, err);
            if (rc)
                return rc;
            (*n)++;
        }
        if (k < 500)
            return 0;
    }
}
