/* Every scoring rule and rounding edge of docs/rubrics.md, one test each. */
#include "scripts-rubric/rubric.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct rubric *R;
static struct rubric_answers A;
static struct rubric_result res;
static struct es_err err;

static void load(const char *yaml)
{
    struct rubric_diags d;
    int rc = rubric_load((const uint8_t *)yaml, strlen(yaml), &R, &d);
    cr_assert_eq(rc, 0, "rubric does not load: %d:%d: %s", d.n ? d.d[0].line : 0,
                 d.n ? d.d[0].col : 0, d.n ? d.d[0].msg : "?");
}

/* Scores answers (JSON) with call tags; returns the rubric_score result code. */
static int score_tags(const char *answers, const char *const *tags)
{
    memset(&err, 0, sizeof err);
    int rc = rubric_answers_parse(R, (const uint8_t *)answers, strlen(answers), &A, &err);
    if (rc)
        return rc;
    return rubric_score(R, &A, tags, &res, &err);
}

static double score(const char *answers)
{
    int rc = score_tags(answers, NULL);
    cr_assert_eq(rc, 0, "scoring failed: %s", err.msg);
    return res.score;
}

static void fini(void)
{
    rubric_free(R);
    R = NULL;
}

TestSuite(score, .fini = fini);

#define HEAD "id: t\ntitle: T\npass_score: 80\nsections:\n"

Test(score, yes_is_one_no_is_zero)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no}\n"
              "      - {id: b, text: B, type: yes_no}\n");
    cr_assert_float_eq(score("{\"a\":\"yes\",\"b\":\"yes\"}"), 100.0, 1e-9);
    cr_assert_float_eq(score("{\"a\":\"yes\",\"b\":\"no\"}"), 50.0, 1e-9);
    cr_assert_float_eq(score("{\"a\":\"no\",\"b\":\"no\"}"), 0.0, 1e-9);
    cr_assert_not(res.passed);
}

Test(score, scale_is_value_minus_min_over_range)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - id: q\n        text: Q\n        type: scale\n"
              "        scale: {min: 1, max: 5}\n");
    cr_assert_float_eq(score("{\"q\":1}"), 0.0, 1e-9);
    cr_assert_float_eq(score("{\"q\":2}"), 25.0, 1e-9);
    cr_assert_float_eq(score("{\"q\":4}"), 75.0, 1e-9);
    cr_assert_float_eq(score("{\"q\":5}"), 100.0, 1e-9);
    cr_assert_float_eq(res.item_score[0], 1.0, 1e-12);
}

Test(score, na_leaves_numerator_and_denominator)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no}\n"
              "      - {id: b, text: B, type: yes_no, na_allowed: true, weight: 5}\n");
    /* with b = no the score would be 1/6; na removes b entirely */
    cr_assert_float_eq(score("{\"a\":\"yes\",\"b\":\"na\"}"), 100.0, 1e-9);
    cr_assert_eq(res.item_state[1], RUBRIC_ITEM_NA);
    cr_assert_float_eq(score("{\"a\":\"yes\",\"b\":\"no\"}"), 16.7, 1e-9);
}

Test(score, item_weights)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no, weight: 3}\n"
              "      - {id: b, text: B, type: yes_no}\n");
    cr_assert_float_eq(score("{\"a\":\"no\",\"b\":\"yes\"}"), 25.0, 1e-9);
    cr_assert_float_eq(score("{\"a\":\"yes\",\"b\":\"no\"}"), 75.0, 1e-9);
}

Test(score, section_weights)
{
    load(HEAD "  - id: s1\n    title: S1\n    weight: 1\n    items:\n"
              "      - {id: a, text: A, type: yes_no}\n"
              "  - id: s2\n    title: S2\n    weight: 3\n    items:\n"
              "      - {id: b, text: B, type: yes_no}\n");
    cr_assert_float_eq(score("{\"a\":\"yes\",\"b\":\"no\"}"), 25.0, 1e-9);
    cr_assert_float_eq(res.section_score[0], 100.0, 1e-9);
    cr_assert_float_eq(res.section_score[1], 0.0, 1e-9);
}

Test(score, all_na_section_drops_out)
{
    load(HEAD "  - id: s1\n    title: S1\n    items:\n"
              "      - {id: a, text: A, type: yes_no}\n"
              "  - id: s2\n    title: S2\n    weight: 2\n    items:\n"
              "      - {id: b, text: B, type: yes_no, na_allowed: true}\n"
              "      - {id: c, text: C, type: yes_no, na_allowed: true}\n");
    /* were s2 counted as 0 the total would be 33.3 */
    cr_assert_float_eq(score("{\"a\":\"yes\",\"b\":\"na\",\"c\":\"na\"}"), 100.0, 1e-9);
    cr_assert(res.section_score[1] < 0);
    cr_assert_eq(res.nsections_scored, 1);
    json_t *j = rubric_result_json(R, &res);
    cr_assert(
        json_is_null(json_object_get(json_array_get(json_object_get(j, "sections"), 1), "score")));
    json_decref(j);
}

Test(score, everything_na_is_refused)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no, na_allowed: true}\n");
    cr_assert_eq(score_tags("{\"a\":\"na\"}", NULL), ES_EINVAL);
    cr_assert(strstr(err.msg, "nothing to score"), "%s", err.msg);
}

Test(score, round1_half_away_from_zero)
{
    cr_assert_float_eq(rubric_round1(87.45), 87.5, 1e-12);
    cr_assert_float_eq(rubric_round1(87.44999999999999), 87.5, 1e-12); /* 87.45 computed */
    cr_assert_float_eq(rubric_round1(87.4499), 87.4, 1e-12);
    cr_assert_float_eq(rubric_round1(0.05), 0.1, 1e-12);
    cr_assert_float_eq(rubric_round1(-0.05), -0.1, 1e-12);
    cr_assert_float_eq(rubric_round1(33.33333333), 33.3, 1e-12);
    cr_assert_float_eq(rubric_round1(66.66666667), 66.7, 1e-12);
    cr_assert_float_eq(rubric_round1(100.0), 100.0, 1e-12);
    cr_assert_float_eq(rubric_round1(0.0), 0.0, 1e-12);
}

Test(score, rounding_of_a_total_on_the_halfway_point)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - id: q\n        text: Q\n        type: scale\n"
              "        scale: {min: 0, max: 2000}\n");
    /* 1749/2000 = 0.8745 exactly in decimal, 0.87449999... in binary */
    cr_assert_float_eq(score("{\"q\":1749}"), 87.5, 1e-9);
    cr_assert_float_eq(score("{\"q\":1748}"), 87.4, 1e-9);  /* 87.40 */
    cr_assert_float_eq(score("{\"q\":1}"), 0.1, 1e-9);      /* 0.05 */
    cr_assert_float_eq(score("{\"q\":1999}"), 100.0, 1e-9); /* 99.95 */
}

Test(score, thirds_round_to_one_decimal)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no}\n"
              "      - {id: b, text: B, type: yes_no}\n"
              "      - {id: c, text: C, type: yes_no}\n");
    cr_assert_float_eq(score("{\"a\":\"yes\",\"b\":\"no\",\"c\":\"no\"}"), 33.3, 1e-9);
    cr_assert_float_eq(score("{\"a\":\"yes\",\"b\":\"yes\",\"c\":\"no\"}"), 66.7, 1e-9);
}

Test(score, passed_at_exactly_pass_score)
{
    load("id: t\ntitle: T\npass_score: 75\nsections:\n"
         "  - id: s\n    title: S\n    items:\n"
         "      - id: q\n        text: Q\n        type: scale\n"
         "        scale: {min: 1, max: 5}\n");
    score("{\"q\":4}");
    cr_assert(res.passed, "75.0 >= 75 passes");
    score("{\"q\":3}");
    cr_assert_not(res.passed);
}

Test(score, critical_no_fails_everything)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no}\n"
              "      - {id: b, text: B, type: yes_no, weight: 10}\n"
              "      - {id: rude, text: R, type: yes_no, critical: true, error_tag: rudeness}\n");
    cr_assert_float_eq(score("{\"a\":\"yes\",\"b\":\"yes\",\"rude\":\"no\"}"), 0.0, 1e-9);
    cr_assert(res.critical_failed);
    cr_assert_not(res.passed);
    /* the section score is still shown as computed */
    cr_assert_float_eq(res.section_score[0], 91.7, 1e-9);
    json_t *j = rubric_result_json(R, &res);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "errors"), 0)),
                     "rudeness");
    json_decref(j);
    cr_assert_float_eq(score("{\"a\":\"yes\",\"b\":\"yes\",\"rude\":\"yes\"}"), 100.0, 1e-9);
    cr_assert_not(res.critical_failed);
    cr_assert(res.passed);
}

Test(score, critical_scale_fails_only_at_min)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - id: tone\n        text: T\n        type: scale\n        critical: true\n"
              "        scale: {min: 0, max: 4}\n");
    cr_assert_float_eq(score("{\"tone\":0}"), 0.0, 1e-9);
    cr_assert(res.critical_failed);
    cr_assert_float_eq(score("{\"tone\":1}"), 25.0, 1e-9);
    cr_assert_not(res.critical_failed);
}

Test(score, unanswered_required_item_is_refused_by_name)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no}\n"
              "      - {id: read-back, text: B, type: yes_no}\n");
    cr_assert_eq(score_tags("{\"a\":\"yes\"}", NULL), ES_EINVAL);
    cr_assert(strstr(err.msg, "'read-back'") && strstr(err.msg, "not answered"), "%s", err.msg);
}

Test(score, optional_na_item_may_be_left_out)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no}\n"
              "      - {id: b, text: B, type: yes_no, na_allowed: true}\n");
    cr_assert_float_eq(score("{\"a\":\"no\"}"), 0.0, 1e-9);
    cr_assert_eq(res.item_state[1], RUBRIC_ITEM_NOT_ANSWERED);
}

Test(score, out_of_range_and_wrong_kinds_are_refused)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no}\n"
              "      - id: q\n        text: Q\n        type: scale\n"
              "        scale: {min: 1, max: 5}\n");
    cr_assert_eq(score_tags("{\"a\":\"yes\",\"q\":6}", NULL), ES_EINVAL);
    cr_assert(strstr(err.msg, "'q'"), "%s", err.msg);
    cr_assert_eq(score_tags("{\"a\":\"yes\",\"q\":0}", NULL), ES_EINVAL);
    cr_assert_eq(score_tags("{\"a\":\"yes\",\"q\":2.5}", NULL), ES_EINVAL);
    cr_assert_eq(score_tags("{\"a\":\"yes\",\"q\":\"yes\"}", NULL), ES_EINVAL);
    cr_assert_eq(score_tags("{\"a\":1,\"q\":3}", NULL), ES_EINVAL);
    cr_assert(strstr(err.msg, "'a'"), "%s", err.msg);
    cr_assert_eq(score_tags("{\"a\":\"maybe\",\"q\":3}", NULL), ES_EINVAL);
    cr_assert_eq(score_tags("{\"a\":\"yes\",\"q\":3,\"zzz\":\"yes\"}", NULL), ES_EINVAL);
    cr_assert(strstr(err.msg, "unknown item 'zzz'"), "%s", err.msg);
    cr_assert_eq(score_tags("[\"yes\"]", NULL), ES_EINVAL);
    cr_assert_eq(score_tags("{\"a\":\"yes\",", NULL), ES_EINVAL);
    cr_assert_eq(score_tags("{\"a\":\"yes\",\"a\":\"no\",\"q\":3}", NULL), ES_EINVAL);
    cr_assert_eq(score_tags("{\"a\":\"yes\",\"q\":3}", NULL), 0);
}

Test(score, na_where_not_allowed_is_refused)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no}\n"
              "      - {id: b, text: B, type: yes_no}\n");
    cr_assert_eq(score_tags("{\"a\":\"yes\",\"b\":\"na\"}", NULL), ES_EINVAL);
    cr_assert(strstr(err.msg, "'b'") && strstr(err.msg, "na"), "%s", err.msg);
}

Test(score, applies_to_follows_call_tags)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no}\n"
              "      - {id: b2b, text: B, type: yes_no, applies_to: [b2b, wholesale]}\n");
    const char *b2b[] = {"vip", "b2b", NULL}, *b2c[] = {"b2c", NULL};
    /* tags unknown: optional, counted when answered */
    cr_assert_eq(score_tags("{\"a\":\"yes\"}", NULL), 0);
    cr_assert_float_eq(res.score, 100.0, 1e-9);
    cr_assert_eq(score_tags("{\"a\":\"yes\",\"b2b\":\"no\"}", NULL), 0);
    cr_assert_float_eq(res.score, 50.0, 1e-9);
    /* a business call: required */
    cr_assert_eq(score_tags("{\"a\":\"yes\"}", b2b), ES_EINVAL);
    cr_assert(strstr(err.msg, "'b2b'"), "%s", err.msg);
    cr_assert_eq(score_tags("{\"a\":\"yes\",\"b2b\":\"no\"}", b2b), 0);
    cr_assert_float_eq(res.score, 50.0, 1e-9);
    /* not a business call: whatever was answered does not count */
    cr_assert_eq(score_tags("{\"a\":\"yes\",\"b2b\":\"no\"}", b2c), 0);
    cr_assert_float_eq(res.score, 100.0, 1e-9);
    cr_assert_not(res.item_failed[1]);
}

Test(score, error_tags_once_each_in_rubric_order)
{
    load(HEAD "  - id: s\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no, error_tag: price}\n"
              "      - {id: b, text: B, type: yes_no}\n"
              "      - {id: c, text: C, type: yes_no, error_tag: price}\n"
              "      - id: q\n        text: Q\n        type: scale\n"
              "        scale: {min: 1, max: 5}\n"
              "      - id: r\n        text: R\n        type: scale\n        fail_below: 5\n"
              "        scale: {min: 1, max: 5}\n");
    /* q = 3 is the midpoint: not an error; r = 4 is below its fail_below 5 */
    score("{\"a\":\"no\",\"b\":\"yes\",\"c\":\"no\",\"q\":3,\"r\":4}");
    json_t *j = rubric_result_json(R, &res);
    char *s = json_dumps(json_object_get(j, "errors"), JSON_COMPACT);
    cr_assert_str_eq(s, "[\"price\",\"r\"]");
    free(s);
    json_decref(j);
    score("{\"a\":\"yes\",\"b\":\"yes\",\"c\":\"yes\",\"q\":2,\"r\":5}");
    cr_assert(res.item_failed[3]);
    cr_assert_not(res.item_failed[4]);
}

Test(score, result_json_shape)
{
    load(HEAD "  - id: open\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no}\n");
    score("{\"a\":\"yes\"}");
    json_t *j = rubric_result_json(R, &res);
    char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
    cr_assert_str_eq(s, "{\"score\":100.0,\"passed\":true,\"critical_failed\":false,"
                        "\"sections\":[{\"id\":\"open\",\"score\":100.0}],\"errors\":[]}");
    free(s);
    json_decref(j);
}
