/* Answers and scoring. The rules (docs/rubrics.md):
 *   item:    yes_no yes = 1, no = 0; scale (value - min) / (max - min); na leaves the
 *            item out of both numerator and denominator.
 *   section: sum(item score x weight) / sum(weight) over scored items; a section
 *            with nothing scored drops out.
 *   total:   100 x sum(section score x weight) / sum(weight) over remaining sections,
 *            rounded half away from zero to one decimal.
 *   passed:  total >= pass_score and no critical item failed; a critical item
 *            answered no (or scale min) makes the total 0. */
#include "scripts-rubric/rubric_int.h"

#include <math.h>
#include <string.h>

static int answer_from_json(const struct rubric_item *it, const char *key, const json_t *v,
                            struct rubric_answer *out, struct es_err *err)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!strcmp(s, "na")) {
            out->kind = RUBRIC_ANS_NA;
            return 0;
        }
        if (it->type == RUBRIC_YES_NO && (!strcmp(s, "yes") || !strcmp(s, "no"))) {
            out->kind = s[0] == 'y' ? RUBRIC_ANS_YES : RUBRIC_ANS_NO;
            return 0;
        }
    }
    if (it->type == RUBRIC_YES_NO)
        return es_seterr(err, ES_EINVAL, "item '%s': answer must be \"yes\", \"no\" or \"na\"",
                         key);
    if (!json_is_number(v))
        return es_seterr(err, ES_EINVAL,
                         "item '%s': answer must be a number from %d to %d or \"na\"", key, it->min,
                         it->max);
    double d = json_number_value(v);
    if (d != floor(d) || d < it->min || d > it->max)
        return es_seterr(err, ES_EINVAL, "item '%s': answer %g is not a whole number from %d to %d",
                         key, d, it->min, it->max);
    out->kind = RUBRIC_ANS_VALUE;
    out->value = (int)d;
    return 0;
}

int rubric_answers_from_json(const struct rubric *r, const json_t *obj, struct rubric_answers *out,
                             struct es_err *err)
{
    memset(out->a, 0, (size_t)r->nitems * sizeof out->a[0]);
    if (!json_is_object(obj))
        return es_seterr(
            err, ES_EINVAL,
            "answers must be a JSON object {\"item-id\": \"yes\" | \"no\" | \"na\" | number}");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int i = rubric_find_item(r, key);
        if (i < 0)
            return es_seterr(err, ES_EINVAL, "answer for unknown item '%.64s' (not in rubric %s)",
                             key, r->id);
        int rc = answer_from_json(&r->items[i], key, v, &out->a[i], err);
        if (rc)
            return rc;
    }
    return 0;
}

int rubric_answers_parse(const struct rubric *r, const uint8_t *p, size_t len,
                         struct rubric_answers *out, struct es_err *err)
{
    json_error_t je;
    json_t *obj = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &je);
    if (!obj)
        return es_seterr(err, ES_EINVAL, "answers: line %d column %d: %s", je.line, je.column,
                         je.text);
    int rc = rubric_answers_from_json(r, obj, out, err);
    json_decref(obj);
    return rc;
}

json_t *rubric_answers_json(const struct rubric *r, const struct rubric_answers *a)
{
    json_t *o = json_object();
    for (int i = 0; i < r->nitems; i++) {
        const struct rubric_answer *x = &a->a[i];
        json_t *v = x->kind == RUBRIC_ANS_YES     ? json_string("yes")
                    : x->kind == RUBRIC_ANS_NO    ? json_string("no")
                    : x->kind == RUBRIC_ANS_NA    ? json_string("na")
                    : x->kind == RUBRIC_ANS_VALUE ? json_integer(x->value)
                                                  : NULL;
        if (v)
            json_object_set_new(o, r->items[i].id, v);
    }
    return o;
}

bool rubric_tags_contain(const char *const *tags, const char *tag)
{
    for (; tags && *tags; tags++)
        if (!strcmp(*tags, tag))
            return true;
    return false;
}

const char *const *rubric_tag_list(const json_t *arr, const char **tags, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(arr) && n + 1 < cap; i++)
        if (json_is_string(json_array_get(arr, i)))
            tags[n++] = json_string_value(json_array_get(arr, i));
    tags[n] = NULL;
    return n ? tags : NULL;
}

/* Does the item apply to a call with these tags? Unknown tags: maybe (-1). */
static int applies(const struct rubric_item *it, const char *const *call_tags)
{
    if (!it->napplies)
        return 1;
    if (!call_tags)
        return -1;
    for (int k = 0; k < it->napplies; k++)
        if (rubric_tags_contain(call_tags, it->applies_to[k]))
            return 1;
    return 0;
}

double rubric_round1(double x)
{
    double t = fabs(x) * 10;
    double r = floor(t + 0.5 + 1e-9 * ES_MAX(1.0, t)) / 10;
    return x < 0 ? -r : r;
}

/* Scores one item; returns its state or a negative code when the answer is refused. */
static int score_item(const struct rubric_item *it, const struct rubric_answer *a, int app,
                      double *score, bool *failed, bool *critical, struct es_err *err)
{
    *failed = false;
    if (app == 0)
        return RUBRIC_ITEM_NA; /* not this kind of call: whatever was answered */
    switch (a->kind) {
    case RUBRIC_UNANSWERED:
        if (app < 0 || it->na_allowed)
            return RUBRIC_ITEM_NOT_ANSWERED;
        return es_seterr(err, ES_EINVAL, "item '%s' is not answered", it->id);
    case RUBRIC_ANS_NA:
        if (!it->na_allowed && app > 0)
            return es_seterr(err, ES_EINVAL,
                             "item '%s' cannot be answered na (na_allowed is false)", it->id);
        return RUBRIC_ITEM_NA;
    case RUBRIC_ANS_YES:
    case RUBRIC_ANS_NO:
        if (it->type != RUBRIC_YES_NO)
            return es_seterr(err, ES_EINVAL, "item '%s' takes a number from %d to %d", it->id,
                             it->min, it->max);
        *score = a->kind == RUBRIC_ANS_YES;
        *failed = a->kind == RUBRIC_ANS_NO;
        *critical = it->critical && *failed;
        return RUBRIC_ITEM_SCORED;
    case RUBRIC_ANS_VALUE:
        if (it->type != RUBRIC_SCALE)
            return es_seterr(err, ES_EINVAL, "item '%s' takes yes, no or na", it->id);
        if (a->value < it->min || a->value > it->max)
            return es_seterr(err, ES_EINVAL, "item '%s': answer %d is outside %d-%d", it->id,
                             a->value, it->min, it->max);
        *score = (double)(a->value - it->min) / (it->max - it->min);
        *failed = a->value < it->fail_below;
        *critical = it->critical && a->value == it->min;
        return RUBRIC_ITEM_SCORED;
    }
    return es_seterr(err, ES_EINVAL, "item '%s': unknown answer", it->id);
}

int rubric_score(const struct rubric *r, const struct rubric_answers *a,
                 const char *const *call_tags, struct rubric_result *res, struct es_err *err)
{
    double total_num = 0, total_den = 0;
    bool critical = false;
    res->nsections_scored = 0;
    for (int si = 0; si < r->nsections; si++) {
        const struct rubric_section *s = &r->sections[si];
        double num = 0, den = 0;
        for (int i = s->first_item; i < s->first_item + s->nitems; i++) {
            const struct rubric_item *it = &r->items[i];
            double sc = 0;
            bool crit = false;
            int st = score_item(it, &a->a[i], applies(it, call_tags), &sc, &res->item_failed[i],
                                &crit, err);
            if (st < 0)
                return st;
            res->item_state[i] = (uint8_t)st;
            res->item_score[i] = sc;
            critical |= crit;
            if (st == RUBRIC_ITEM_SCORED) {
                num += sc * it->weight;
                den += it->weight;
            }
        }
        res->section_score[si] = -1;
        if (den > 0) {
            double ss = num / den;
            res->section_score[si] = rubric_round1(100 * ss);
            total_num += ss * s->weight;
            total_den += s->weight;
            res->nsections_scored++;
        }
    }
    if (total_den == 0)
        return es_seterr(err, ES_EINVAL, "nothing to score: every item is na or not applicable");
    res->critical_failed = critical;
    res->score = critical ? 0 : rubric_round1(100 * total_num / total_den);
    res->passed = !critical && res->score >= r->pass_score;
    return 0;
}

json_t *rubric_result_json(const struct rubric *r, const struct rubric_result *res)
{
    json_t *o = json_object();
    json_object_set_new(o, "score", json_real(res->score));
    json_object_set_new(o, "passed", json_boolean(res->passed));
    json_object_set_new(o, "critical_failed", json_boolean(res->critical_failed));
    json_t *secs = json_array();
    for (int si = 0; si < r->nsections; si++) {
        json_t *s = json_object();
        json_object_set_new(s, "id", json_string(r->sections[si].id));
        json_object_set_new(s, "score",
                            res->section_score[si] < 0 ? json_null()
                                                       : json_real(res->section_score[si]));
        json_array_append_new(secs, s);
    }
    json_object_set_new(o, "sections", secs);
    json_t *errs = json_array();
    for (int i = 0; i < r->nitems; i++) {
        if (!res->item_failed[i] || res->item_state[i] != RUBRIC_ITEM_SCORED)
            continue;
        bool seen = false;
        for (size_t k = 0; k < json_array_size(errs) && !seen; k++)
            seen = !strcmp(json_string_value(json_array_get(errs, k)), r->items[i].error_tag);
        if (!seen)
            json_array_append_new(errs, json_string(r->items[i].error_tag));
    }
    json_object_set_new(o, "errors", errs);
    return o;
}
