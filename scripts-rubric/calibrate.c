/* Calibration: several reviewers score the same call blind, the agreement
 * between them is measured (Krippendorff's alpha for nominal data), the lead
 * sets the reference answers, and each reviewer's agreement with the
 * references is followed over time. Calibration answers live in their own
 * tables: they never count in an operator's scores or recurring errors. */
#include "scripts-rubric/rubric_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REVIEWERS 20

double calib_alpha(const int *values, int units, int coders)
{
    /* the coincidence matrix over the categories that occur */
    int cats[4096], ncats = 0;
    for (int i = 0; i < units * coders; i++) {
        if (values[i] < 0)
            continue;
        bool seen = false;
        for (int c = 0; c < ncats && !seen; c++)
            seen = cats[c] == values[i];
        if (!seen && ncats < (int)ES_ARRAY_LEN(cats))
            cats[ncats++] = values[i];
    }
    if (ncats == 0)
        return NAN;
    double *o = calloc((size_t)ncats * (size_t)ncats, sizeof *o);
    if (!o)
        return NAN;
    for (int u = 0; u < units; u++) {
        int m = 0;
        for (int j = 0; j < coders; j++)
            m += values[u * coders + j] >= 0;
        if (m < 2) /* a unit with one value has nothing to pair */
            continue;
        for (int a = 0; a < coders; a++)
            for (int b = 0; b < coders; b++) {
                int va = values[u * coders + a], vb = values[u * coders + b];
                if (a == b || va < 0 || vb < 0)
                    continue;
                int ca = 0, cb = 0;
                while (cats[ca] != va)
                    ca++;
                while (cats[cb] != vb)
                    cb++;
                o[ca * ncats + cb] += 1.0 / (m - 1);
            }
    }
    double n = 0, disagree = 0, expected = 0;
    double *nc = calloc((size_t)ncats, sizeof *nc);
    if (!nc) {
        free(o);
        return NAN;
    }
    for (int c = 0; c < ncats; c++)
        for (int k = 0; k < ncats; k++) {
            nc[c] += o[c * ncats + k];
            if (c != k)
                disagree += o[c * ncats + k];
        }
    for (int c = 0; c < ncats; c++)
        n += nc[c];
    for (int c = 0; c < ncats; c++)
        for (int k = 0; k < ncats; k++)
            if (c != k)
                expected += nc[c] * nc[k];
    free(o);
    free(nc);
    if (n == 0)
        return NAN;
    if (expected == 0) /* one value throughout: no disagreement, none to expect */
        return 1.0;
    return 1.0 - (n - 1) * disagree / expected;
}

/* An answer as a category: yes 1, no 2, na 3, a scale value 100 + v; -1 none. */
static int category(const json_t *a)
{
    const char *s = json_string_value(a);
    if (s)
        return !strcmp(s, "yes") ? 1 : !strcmp(s, "no") ? 2 : !strcmp(s, "na") ? 3 : -1;
    return json_is_integer(a) ? 100 + (int)json_integer_value(a) : -1;
}

static bool valid_user(const char *u)
{
    size_t n = u ? strlen(u) : 0;
    return n && n < 65;
}

int calib_create(struct rubric_store *s, const char *call_id, const char *rubric_id,
                 int rubric_version, const char *const *reviewers, int nreviewers, const char *lead,
                 char id_out[ES_ID_LEN], struct es_err *err)
{
    if (!valid_user(lead))
        return es_seterr(err, ES_EINVAL, "a calibration needs its lead");
    if (nreviewers < 2 || nreviewers > MAX_REVIEWERS)
        return es_seterr(err, ES_EINVAL, "a calibration needs 2 to %d reviewers", MAX_REVIEWERS);
    for (int i = 0; i < nreviewers; i++) {
        if (!valid_user(reviewers[i]))
            return es_seterr(err, ES_EINVAL, "reviewer %d: a name is needed", i + 1);
        for (int j = 0; j < i; j++)
            if (!strcmp(reviewers[i], reviewers[j]))
                return es_seterr(err, ES_EINVAL, "reviewer %s is named twice", reviewers[i]);
    }
    struct rstore_call k = {.tags = NULL};
    int found = rstore_call(s, call_id, &k, err);
    json_decref(k.tags);
    if (found)
        return found;
    const struct rubric *r;
    int rc = rstore_rubric(s, rubric_id, rubric_version, &r, err);
    if (rc)
        return rc;
    int64_t now = es_now_ms();
    es_uuid7(now, id_out);
    bool outer;
    if (catalog_tx_begin(s->db, &outer))
        return rstore_db_error(s, "calibration", err);
    struct db_stmt *st = rstore_stmt(s, RS_CAL_CREATE);
    db_bind_text(st, 1, id_out, -1);
    db_bind_text(st, 2, call_id, -1);
    db_bind_text(st, 3, r->id, -1);
    db_bind_int(st, 4, r->version);
    db_bind_text(st, 5, lead, -1);
    db_bind_int64(st, 6, now);
    rc = rstore_step_done(s, st, "create a calibration", err);
    for (int i = 0; i < nreviewers && !rc; i++) {
        st = rstore_stmt(s, RS_CAL_ADD_REVIEWER);
        db_bind_text(st, 1, id_out, -1);
        db_bind_text(st, 2, reviewers[i], -1);
        rc = rstore_step_done(s, st, "add a reviewer", err);
    }
    return catalog_tx_end(s->db, outer, rc);
}

struct session {
    char id[ES_ID_LEN], call_id[ES_ID_LEN], rubric_id[RUBRIC_ID_LEN], lead[65];
    int version;
    int64_t created_at, reference_at;
    json_t *reference;
};

static int load_session(struct rubric_store *s, const char *id, struct session *x,
                        struct es_err *err)
{
    memset(x, 0, sizeof *x);
    struct db_stmt *st = rstore_stmt(s, RS_CAL_GET);
    db_bind_text(st, 1, id, -1);
    int step = db_step(st);
    if (step == DB_ROW) {
        snprintf(x->id, sizeof x->id, "%s", (const char *)db_column_text(st, 0));
        snprintf(x->call_id, sizeof x->call_id, "%s", (const char *)db_column_text(st, 1));
        snprintf(x->rubric_id, sizeof x->rubric_id, "%s", (const char *)db_column_text(st, 2));
        x->version = db_column_int(st, 3);
        snprintf(x->lead, sizeof x->lead, "%s", (const char *)db_column_text(st, 4));
        x->created_at = db_column_int64(st, 5);
        if (!db_column_null(st, 6))
            x->reference = json_loads((const char *)db_column_text(st, 6), 0, NULL);
        x->reference_at = db_column_int64(st, 7);
    }
    db_reset(st);
    if (step == DB_DONE)
        return es_seterr(err, ES_ENOTFOUND, "no calibration %s", id);
    return step == DB_ROW ? 0 : rstore_db_error(s, "calibration", err);
}

/* Answers checked against the session's rubric; their canonical JSON text. */
static int check_answers(struct rubric_store *s, const struct session *x, const json_t *answers,
                         char **text, struct es_err *err)
{
    const struct rubric *r;
    int rc = rstore_rubric(s, x->rubric_id, x->version, &r, err);
    if (rc)
        return rc;
    struct {
        struct rubric_answers a;
        struct rubric_result res;
    } *w = malloc(sizeof *w);
    if (!w)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    rc = rubric_answers_from_json(r, answers, &w->a, err);
    if (!rc)
        rc = rubric_score(r, &w->a, NULL, &w->res, err);
    if (!rc) {
        json_t *canon = rubric_answers_json(r, &w->a);
        *text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(canon);
        if (!*text)
            rc = es_seterr(err, ES_ENOMEM, "out of memory");
    }
    free(w);
    return rc;
}

int calib_submit(struct rubric_store *s, const char *id, const char *reviewer,
                 const json_t *answers, struct es_err *err)
{
    struct session x;
    int rc = load_session(s, id, &x, err);
    if (rc)
        return rc;
    json_decref(x.reference);
    char *text = NULL;
    rc = check_answers(s, &x, answers, &text, err);
    if (rc)
        return rc;
    struct db_stmt *st = rstore_stmt(s, RS_CAL_SUBMIT);
    db_bind_text(st, 1, id, -1);
    db_bind_text(st, 2, reviewer, -1);
    db_bind_text(st, 3, text, -1);
    db_bind_int64(st, 4, es_now_ms());
    rc = rstore_step_done(s, st, "submit calibration answers", err);
    free(text);
    if (!rc && !db_changes(s->db))
        rc = es_seterr(err, ES_ESTATE,
                       "%s is not a reviewer of calibration %s, or has submitted already", reviewer,
                       id);
    return rc;
}

int calib_reference(struct rubric_store *s, const char *id, const char *who, const json_t *answers,
                    struct es_err *err)
{
    struct session x;
    int rc = load_session(s, id, &x, err);
    if (rc)
        return rc;
    json_decref(x.reference);
    if (!who || strcmp(who, x.lead))
        return es_seterr(err, ES_ESTATE, "only the lead (%s) sets the reference", x.lead);
    char *text = NULL;
    rc = check_answers(s, &x, answers, &text, err);
    if (rc)
        return rc;
    struct db_stmt *st = rstore_stmt(s, RS_CAL_REFERENCE);
    db_bind_text(st, 1, id, -1);
    db_bind_text(st, 2, text, -1);
    db_bind_int64(st, 3, es_now_ms());
    rc = rstore_step_done(s, st, "set the reference", err);
    free(text);
    return rc;
}

static json_t *iso(int64_t ms)
{
    char b[ES_ISO_LEN];
    es_time_iso(ms, b);
    return json_string(b);
}

/* The share of the reference's items a reviewer answered the same way. */
static double agreement_with(const json_t *ref, const json_t *answers)
{
    const char *k;
    json_t *v;
    int n = 0, same = 0;
    json_object_foreach((json_t *)ref, k, v)
    {
        n++;
        same += json_equal(v, json_object_get(answers, k));
    }
    return n ? (double)same / n : NAN;
}

int calib_get(struct rubric_store *s, const char *id, const char *viewer, bool all, json_t **out,
              struct es_err *err)
{
    *out = NULL;
    struct session x;
    int rc = load_session(s, id, &x, err);
    if (rc)
        return rc;
    const struct rubric *r;
    rc = rstore_rubric(s, x.rubric_id, x.version, &r, err);
    if (rc) {
        json_decref(x.reference);
        return rc;
    }
    struct {
        char name[65];
        json_t *answers;
        int64_t at;
    } rv[MAX_REVIEWERS];
    int n = 0, submitted = 0;
    bool is_reviewer = false, viewer_submitted = false;
    struct db_stmt *st = rstore_stmt(s, RS_CAL_REVIEWS);
    db_bind_text(st, 1, id, -1);
    while (n < MAX_REVIEWERS && db_step(st) == DB_ROW) {
        snprintf(rv[n].name, sizeof rv[n].name, "%s", (const char *)db_column_text(st, 0));
        rv[n].answers =
            db_column_null(st, 1) ? NULL : json_loads((const char *)db_column_text(st, 1), 0, NULL);
        rv[n].at = db_column_int64(st, 2);
        submitted += rv[n].answers != NULL;
        if (viewer && !strcmp(viewer, rv[n].name)) {
            is_reviewer = true;
            viewer_submitted = rv[n].answers != NULL;
        }
        n++;
    }
    db_reset(st);
    bool lead = viewer && !strcmp(viewer, x.lead);
    if (!all && !lead && !is_reviewer) {
        for (int i = 0; i < n; i++)
            json_decref(rv[i].answers);
        json_decref(x.reference);
        return es_seterr(err, ES_ENOTFOUND, "no calibration %s", id);
    }
    /* blind: a reviewer sees the others only once their own answers are in */
    bool open = all || lead || viewer_submitted;
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:o, s:b}", "id", x.id, "call_id", x.call_id,
                          "rubric_id", x.rubric_id, "rubric_version", x.version, "lead", x.lead,
                          "created_at", iso(x.created_at), "blind", !open);
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        json_t *e = json_pack("{s:s, s:b}", "name", rv[i].name, "submitted", rv[i].answers != NULL);
        if (rv[i].answers)
            json_object_set_new(e, "submitted_at", iso(rv[i].at));
        bool own = viewer && !strcmp(viewer, rv[i].name);
        if (rv[i].answers && (open || own))
            json_object_set(e, "answers", rv[i].answers);
        if (open && rv[i].answers && x.reference)
            json_object_set_new(e, "agreement_with_reference",
                                json_real(agreement_with(x.reference, rv[i].answers)));
        json_array_append_new(list, e);
    }
    json_object_set_new(o, "reviewers", list);
    json_object_set_new(o, "submitted", json_integer(submitted));
    if (open) {
        /* items x reviewers who submitted */
        int *vals = malloc(sizeof(int) * (size_t)(r->nitems * (submitted ? submitted : 1)));
        json_t *per = json_object();
        int col = 0;
        for (int i = 0; i < n && vals; i++) {
            if (!rv[i].answers)
                continue;
            for (int it = 0; it < r->nitems; it++)
                vals[it * submitted + col] =
                    category(json_object_get(rv[i].answers, r->items[it].id));
            col++;
        }
        for (int it = 0; it < r->nitems && vals && submitted; it++) {
            /* the share agreeing with the most common answer */
            int best = 0, answered = 0;
            for (int a = 0; a < submitted; a++) {
                int v = vals[it * submitted + a], same = 0;
                if (v < 0)
                    continue;
                answered++;
                for (int b = 0; b < submitted; b++)
                    same += vals[it * submitted + b] == v;
                if (same > best)
                    best = same;
            }
            if (answered)
                json_object_set_new(per, r->items[it].id, json_real((double)best / answered));
        }
        double alpha = vals && submitted >= 2 ? calib_alpha(vals, r->nitems, submitted) : NAN;
        free(vals);
        json_object_set_new(o, "agreement",
                            json_pack("{s:o, s:o}", "alpha",
                                      isnan(alpha) ? json_null() : json_real(alpha), "per_item",
                                      per));
        json_object_set_new(o, "reference", x.reference ? json_incref(x.reference) : json_null());
        if (x.reference)
            json_object_set_new(o, "reference_at", iso(x.reference_at));
    }
    for (int i = 0; i < n; i++)
        json_decref(rv[i].answers);
    json_decref(x.reference);
    *out = o;
    return 0;
}

int calib_list(struct rubric_store *s, const char *user, json_t **out, struct es_err *err)
{
    json_t *a = json_array();
    struct db_stmt *st = rstore_stmt(s, RS_CAL_LIST);
    if (user)
        db_bind_text(st, 1, user, -1);
    int step;
    while ((step = db_step(st)) == DB_ROW)
        json_array_append_new(a, json_string((const char *)db_column_text(st, 0)));
    db_reset(st);
    if (step != DB_DONE) {
        json_decref(a);
        return rstore_db_error(s, "calibrations", err);
    }
    *out = a;
    return 0;
}

int calib_report(struct rubric_store *s, const char *reviewer, json_t **out, struct es_err *err)
{
    json_t *o = json_object();
    struct db_stmt *st = rstore_stmt(s, RS_CAL_DEVIATION);
    if (reviewer)
        db_bind_text(st, 1, reviewer, -1);
    int step;
    while ((step = db_step(st)) == DB_ROW) {
        const char *name = (const char *)db_column_text(st, 5);
        json_t *ref = json_loads((const char *)db_column_text(st, 4), 0, NULL);
        json_t *ans = json_loads((const char *)db_column_text(st, 6), 0, NULL);
        json_t *list = json_object_get(o, name);
        if (!list) {
            list = json_array();
            json_object_set_new(o, name, list);
        }
        double agree = ref && ans ? agreement_with(ref, ans) : NAN;
        json_array_append_new(list, json_pack("{s:s, s:o, s:o}", "session",
                                              (const char *)db_column_text(st, 0), "at",
                                              iso(db_column_int64(st, 1)), "agreement",
                                              isnan(agree) ? json_null() : json_real(agree)));
        json_decref(ref);
        json_decref(ans);
    }
    db_reset(st);
    if (step != DB_DONE) {
        json_decref(o);
        return rstore_db_error(s, "calibration report", err);
    }
    *out = o;
    return 0;
}
