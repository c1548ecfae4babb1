/* An operator's progress: weeks (Monday UTC), averages and pass rates, the
 * team as one median, recurring errors with the rubric's question and calls,
 * what came since the last acknowledgement; and coaching goals met, missed
 * or open, recorded once decided. */
#include "fixture.h"

#include <unistd.h>

TestSuite(progress, .init = fx_setup, .fini = fx_teardown);

#define RUBRIC                                                                                     \
    "id: order\ntitle: Order call\npass_score: 80\nsections:\n"                                    \
    "  - id: s\n    title: S\n    items:\n"                                                        \
    "      - {id: greet, text: Greets, type: yes_no, error_tag: no-greeting}\n"                    \
    "      - {id: price, text: Quotes the right price, type: yes_no, error_tag: wrong-price}\n"

#define MONDAY (1764547200000LL) /* 2025-12-01, a Monday, 00:00 UTC */
#define DAY    86400000LL

static void eval_at(const char *op, int64_t t, const char *answers, char *ev)
{
    char call[ES_ID_LEN];
    fx_call(t, op, NULL, call);
    cr_assert_eq(fx_eval(call, "order", 0, answers, true, ev), 0, "%s", fx_err.msg);
}

static const char *ALL = "{\"greet\":\"yes\",\"price\":\"yes\"}"; /* 100 */
static const char *HALF = "{\"greet\":\"yes\",\"price\":\"no\"}"; /* 50 */

Test(progress, weeks_team_errors_since)
{
    fx_import(RUBRIC, NULL);
    char ev[ES_ID_LEN], first[ES_ID_LEN];
    /* ann: week 1 100 and 50 (a Sunday is still week 1), week 2 50 */
    eval_at("ann", MONDAY + 3600000, ALL, first);
    eval_at("ann", MONDAY + 6 * DAY + 3600000, HALF, ev);
    eval_at("ann", MONDAY + 7 * DAY + 3600000, HALF, ev);
    /* bob 100, cy 50 */
    eval_at("bob", MONDAY + 2 * DAY, ALL, ev);
    eval_at("cy", MONDAY + 2 * DAY, HALF, ev);
    cr_assert_eq(eval_transition(fx_st, first, EVAL_ACKNOWLEDGED, "ann", NULL, &fx_err), 0);
    /* one more for ann after that acknowledgement: week 2 again, 50 */
    usleep(2000);
    eval_at("ann", MONDAY + 8 * DAY, HALF, ev);
    json_t *p;
    cr_assert_eq(report_progress(fx_st, "ann", MONDAY, MONDAY + 14 * DAY, es_now_ms(), &p, &fx_err),
                 0, "%s", fx_err.msg);
    json_t *w = json_object_get(p, "weeks");
    cr_assert_eq(json_array_size(w), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(w, 0), "week")),
                     "2025-12-01");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(w, 0), "evaluations")), 2);
    cr_assert_float_eq(json_real_value(json_object_get(json_array_get(w, 0), "average")), 75.0,
                       1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(json_array_get(w, 0), "pass_rate")), 0.5,
                       1e-9);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(w, 1), "week")),
                     "2025-12-08");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(w, 1), "evaluations")), 2);
    /* ann 62.5 (100, 50, 50, 50); the team's averages 50, 62.5, 100: median 62.5 */
    cr_assert_float_eq(json_real_value(json_object_get(p, "average")), 62.5, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(p, "team_median_average")), 62.5, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(p, "team_operators")), 3);
    char *text = json_dumps(p, 0);
    cr_assert(!strstr(text, "bob") && !strstr(text, "\"cy\""), "no other operator in it");
    free(text);
    json_t *e = json_array_get(json_object_get(p, "errors"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(e, "tag")), "wrong-price");
    cr_assert_eq(json_integer_value(json_object_get(e, "count")), 3);
    cr_assert_str_eq(json_string_value(json_object_get(e, "question")), "Quotes the right price");
    cr_assert_eq(json_array_size(json_object_get(e, "calls")), 3);
    json_t *since = json_object_get(p, "since_last_acknowledgement");
    cr_assert_eq(json_integer_value(json_object_get(since, "evaluations")), 1);
    cr_assert_eq(json_integer_value(json_object_get(since, "errors")), 1);
    json_decref(p);
    cr_assert_eq(report_progress(fx_st, "", 0, 1, 0, &p, &fx_err), ES_EINVAL);
}

Test(progress, goals)
{
    fx_import(RUBRIC, NULL);
    int64_t g1, g2, g3;
    int64_t now = es_now_ms();
    struct goal_new errors = {.operator_ = "ann",
                              .kind = "errors",
                              .error_tag = "wrong-price",
                              .max_errors = 1,
                              .next_evaluations = 3,
                              .by = "sue"};
    cr_assert_eq(goal_add(fx_st, &errors, now - 1000, &g1, &fx_err), 0, "%s", fx_err.msg);
    struct goal_new strict = errors;
    strict.max_errors = 0;
    cr_assert_eq(goal_add(fx_st, &strict, now - 1000, &g2, &fx_err), 0);
    struct goal_new avg = {
        .operator_ = "ann", .kind = "average", .min_average = 80, .weeks = 1, .by = "sue"};
    cr_assert_eq(goal_add(fx_st, &avg, now - 6 * DAY, &g3, &fx_err), 0);
    struct goal_new bad = {.operator_ = "ann",
                           .kind = "errors",
                           .error_tag = "Bad Tag",
                           .max_errors = 1,
                           .next_evaluations = 3,
                           .by = "sue"};
    cr_assert_eq(goal_add(fx_st, &bad, now, NULL, &fx_err), ES_EINVAL);
    bad.kind = "speed";
    cr_assert_eq(goal_add(fx_st, &bad, now, NULL, &fx_err), ES_EINVAL);
    char ev[ES_ID_LEN];
    eval_at("ann", now - DAY, ALL, ev);
    json_t *l;
    cr_assert_eq(goal_list(fx_st, "ann", now, &l, &fx_err), 0);
    cr_assert_eq(json_array_size(l), 3);
    /* newest first: the average goal, its week not over yet */
    json_t *a = json_array_get(l, 0), *s = json_array_get(l, 1), *e = json_array_get(l, 2);
    cr_assert_eq(json_integer_value(json_object_get(a, "id")), g3);
    cr_assert_str_eq(json_string_value(json_object_get(a, "state")), "open");
    cr_assert_float_eq(json_real_value(json_object_get(json_object_get(a, "progress"), "average")),
                       100.0, 1e-9);
    cr_assert_str_eq(json_string_value(json_object_get(e, "state")), "open");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(e, "progress"), "evaluations")),
                 1);
    cr_assert_str_eq(json_string_value(json_object_get(s, "state")), "open");
    json_decref(l);
    eval_at("ann", now - DAY, HALF, ev);
    eval_at("ann", now - DAY, ALL, ev);
    cr_assert_eq(goal_list(fx_st, "ann", now, &l, &fx_err), 0);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(l, 2), "state")), "met",
                     "1 wrong price in 3: at most 1");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(l, 1), "state")), "missed",
                     "at most 0");
    json_decref(l);
    /* its week over: an average of 83.3 >= 80, met */
    cr_assert_eq(goal_list(fx_st, "ann", now + 2 * DAY, &l, &fx_err), 0);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(l, 0), "state")), "met", "%s",
                     json_dumps(json_array_get(l, 0), 0));
    json_decref(l);
    (void)g1;
    (void)g2;
    /* decided once, it stays: more errors later do not reopen or flip it */
    eval_at("ann", now - DAY, HALF, ev);
    cr_assert_eq(goal_list(fx_st, "ann", now, &l, &fx_err), 0);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(l, 2), "state")), "met");
    cr_assert_not_null(json_object_get(json_array_get(l, 2), "decided_at"));
    json_decref(l);
}
