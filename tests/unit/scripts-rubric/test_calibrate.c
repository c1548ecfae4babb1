/* Calibration: Krippendorff's alpha against its published example and
 * against hand-worked cases; blind scoring (a reviewer sees nobody's answers
 * before submitting); the reference and each reviewer's agreement with it;
 * calibration answers never reach an operator's scores. */
#include "fixture.h"

#include <math.h>

TestSuite(calibrate, .init = fx_setup, .fini = fx_teardown);

#define M -1 /* missing */

Test(calibrate, alpha_published_example)
{
    /* Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability":
     * 4 coders, 12 units, nominal alpha = 0.743 */
    const int coders[4][12] = {{1, 2, 3, 3, 2, 1, 4, 1, 2, M, M, M},
                               {1, 2, 3, 3, 2, 2, 4, 1, 2, 5, M, 3},
                               {M, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, M},
                               {1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, M}};
    int v[12 * 4];
    for (int u = 0; u < 12; u++)
        for (int c = 0; c < 4; c++)
            v[u * 4 + c] = coders[c][u];
    cr_assert_float_eq(calib_alpha(v, 12, 4), 0.743, 0.0005);
}

Test(calibrate, alpha_hand_worked)
{
    /* perfect agreement over varied values: 1 */
    const int perfect[] = {1, 1, 2, 2, 3, 3};
    cr_assert_float_eq(calib_alpha(perfect, 3, 2), 1.0, 1e-12);
    /* two coders, four units, one disagreement:
     * pairs (1,1) (1,1) (2,2) (1,2) -> o11 = 4, o22 = 2, o12 = o21 = 1; n = 8,
     * n1 = 5, n2 = 3; alpha = 1 - 7 * 2 / (2 * 5 * 3) = 1 - 14/30 = 0.5333 */
    const int one_off[] = {1, 1, 1, 1, 2, 2, 1, 2};
    cr_assert_float_eq(calib_alpha(one_off, 4, 2), 1.0 - 14.0 / 30.0, 1e-12);
    /* systematic disagreement: below 0 */
    const int opposite[] = {1, 2, 2, 1, 1, 2, 2, 1};
    cr_assert(calib_alpha(opposite, 4, 2) < 0);
    /* nothing pairable */
    const int lonely[] = {1, M, M, 2};
    cr_assert(isnan(calib_alpha(lonely, 2, 2)));
    /* one value throughout */
    const int same[] = {3, 3, 3, 3};
    cr_assert_float_eq(calib_alpha(same, 2, 2), 1.0, 1e-12);
}

#define RUBRIC                                                                                     \
    "id: order\ntitle: Order call\npass_score: 80\nsections:\n"                                    \
    "  - id: s\n    title: S\n    items:\n"                                                        \
    "      - {id: greet, text: Greets, type: yes_no}\n"                                            \
    "      - {id: price, text: Price right, type: yes_no, error_tag: wrong-price}\n"               \
    "      - {id: tone, text: Tone, type: scale, scale: {min: 1, max: 3}}\n"

static json_t *J(const char *t)
{
    json_t *j = json_loads(t, 0, NULL);
    cr_assert_not_null(j, "%s", t);
    return j;
}

Test(calibrate, blind_reference_report)
{
    fx_import(RUBRIC, NULL);
    char call[ES_ID_LEN], id[ES_ID_LEN];
    fx_call(es_now_ms() - 3600000, "ann", NULL, call);
    const char *who[] = {"rev1", "rev2", "rev3"};
    cr_assert_eq(calib_create(fx_st, call, "order", 0, who, 1, "lead", id, &fx_err), ES_EINVAL,
                 "two reviewers at least");
    const char *twice[] = {"rev1", "rev1"};
    cr_assert_eq(calib_create(fx_st, call, "order", 0, twice, 2, "lead", id, &fx_err), ES_EINVAL);
    cr_assert_eq(calib_create(fx_st, call, "order", 0, who, 3, "lead", id, &fx_err), 0, "%s",
                 fx_err.msg);
    json_t *a1 = J("{\"greet\":\"yes\",\"price\":\"no\",\"tone\":3}");
    json_t *a2 = J("{\"greet\":\"yes\",\"price\":\"yes\",\"tone\":3}");
    json_t *a3 = J("{\"greet\":\"yes\",\"price\":\"no\",\"tone\":2}");
    cr_assert_eq(calib_submit(fx_st, id, "rev1", a1, &fx_err), 0, "%s", fx_err.msg);
    cr_assert_eq(calib_submit(fx_st, id, "rev1", a1, &fx_err), ES_ESTATE, "once");
    cr_assert_eq(calib_submit(fx_st, id, "stranger", a1, &fx_err), ES_ESTATE);
    json_t *bad = J("{\"greet\":\"maybe\",\"price\":\"no\",\"tone\":3}");
    cr_assert_eq(calib_submit(fx_st, id, "rev2", bad, &fx_err), ES_EINVAL);
    json_decref(bad);
    /* rev2 has not submitted: blind, rev1's answers not in what rev2 sees */
    json_t *v;
    cr_assert_eq(calib_get(fx_st, id, "rev2", false, &v, &fx_err), 0);
    cr_assert(json_is_true(json_object_get(v, "blind")));
    char *text = json_dumps(v, 0);
    cr_assert(!strstr(text, "\"answers\""), "%s", text);
    cr_assert_null(json_object_get(v, "agreement"));
    free(text);
    json_decref(v);
    cr_assert_eq(calib_get(fx_st, id, "stranger", false, &v, &fx_err), ES_ENOTFOUND);
    /* the rest submit: all see everything */
    cr_assert_eq(calib_submit(fx_st, id, "rev2", a2, &fx_err), 0);
    cr_assert_eq(calib_submit(fx_st, id, "rev3", a3, &fx_err), 0);
    cr_assert_eq(calib_get(fx_st, id, "rev2", false, &v, &fx_err), 0);
    cr_assert(!json_is_true(json_object_get(v, "blind")));
    json_t *agr = json_object_get(v, "agreement");
    cr_assert_float_eq(json_real_value(json_object_get(json_object_get(agr, "per_item"), "greet")),
                       1.0, 1e-12);
    cr_assert_float_eq(json_real_value(json_object_get(json_object_get(agr, "per_item"), "price")),
                       2.0 / 3.0, 1e-12);
    /* the same table through calib_alpha: items x reviewers (yes 1, no 2, scale 100 + v) */
    const int table[] = {1, 1, 1, 2, 1, 2, 103, 103, 102};
    cr_assert_float_eq(json_real_value(json_object_get(agr, "alpha")), calib_alpha(table, 3, 3),
                       1e-12);
    json_decref(v);
    /* the reference: only the lead */
    cr_assert_eq(calib_reference(fx_st, id, "rev1", a1, &fx_err), ES_ESTATE);
    cr_assert_eq(calib_reference(fx_st, id, "lead", a1, &fx_err), 0, "%s", fx_err.msg);
    json_t *rep;
    cr_assert_eq(calib_report(fx_st, NULL, &rep, &fx_err), 0);
    cr_assert_float_eq(json_real_value(json_object_get(
                           json_array_get(json_object_get(rep, "rev1"), 0), "agreement")),
                       1.0, 1e-12);
    cr_assert_float_eq(json_real_value(json_object_get(
                           json_array_get(json_object_get(rep, "rev2"), 0), "agreement")),
                       2.0 / 3.0, 1e-12);
    json_decref(rep);
    /* calibration answers are not evaluations: the operator has none but this one */
    char ev[ES_ID_LEN];
    cr_assert_eq(
        fx_eval(call, "order", 0, "{\"greet\":\"yes\",\"price\":\"yes\",\"tone\":3}", true, ev), 0);
    json_t *p;
    cr_assert_eq(report_progress(fx_st, "ann", 0, es_now_ms() + 1, es_now_ms(), &p, &fx_err), 0);
    cr_assert_eq(json_integer_value(json_object_get(p, "evaluations")), 1);
    cr_assert_float_eq(json_real_value(json_object_get(p, "average")), 100.0, 1e-9);
    json_decref(p);
    json_decref(a1);
    json_decref(a2);
    json_decref(a3);
}
