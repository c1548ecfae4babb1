/* Recurring-error windows, trends, repeats after acknowledgement, item fail
 * rates, score summaries and the review-queue sample on a data set built
 * here with known answers. Acknowledgements happen "now", so the calls that
 * repeat an acknowledged error are placed after now. */
#include "fixture.h"

#define DAY 86400000LL

static int64_t now;
static struct report_window W;

static void eval_at(int64_t t, const char *op, const char *answers, int ack, bool submit)
{
    char call[ES_ID_LEN], ev[ES_ID_LEN];
    fx_call(t, op, NULL, call);
    cr_assert_eq(fx_eval(call, "r", 0, answers, submit, ev), 0, "%s", fx_err.msg);
    if (ack)
        cr_assert_eq(eval_transition(fx_st, ev, EVAL_ACKNOWLEDGED, op, NULL, &fx_err), 0);
}

#define ALL_YES  "{\"greet\":\"yes\",\"price\":\"yes\",\"close\":\"yes\",\"q\":5}"
#define PRICE_NO "{\"greet\":\"yes\",\"price\":\"no\",\"close\":\"yes\",\"q\":5}"
#define GREET_NO "{\"greet\":\"no\",\"price\":\"yes\",\"close\":\"yes\",\"q\":4}"
#define CLOSE_NO "{\"greet\":\"yes\",\"price\":\"yes\",\"close\":\"no\",\"q\":5}"

static void build(void)
{
    fx_setup();
    fx_import("id: r\ntitle: R\npass_score: 80\nsections:\n"
              "  - id: s\n    title: S\n    items:\n"
              "      - {id: greet, text: G, type: yes_no, error_tag: greeting}\n"
              "      - {id: price, text: P, type: yes_no, error_tag: wrong-price}\n"
              "      - {id: close, text: C, type: yes_no, error_tag: no-close}\n"
              "      - id: q\n        text: Q\n        type: scale\n"
              "        scale: {min: 1, max: 5}\n",
              NULL);
    now = es_now_ms();
    W = (struct report_window){
        .since = now - 10 * DAY, .until = now + 10 * DAY, .repeat_threshold = 3};
    /* ann: twice in the previous window, once acknowledged, three times after */
    eval_at(now - 25 * DAY, "ann", PRICE_NO, 0, true);
    eval_at(now - 20 * DAY, "ann", PRICE_NO, 0, true);
    eval_at(now - 5 * DAY, "ann", PRICE_NO, 1, true);
    for (int d = 1; d <= 3; d++)
        eval_at(now + d * DAY, "ann", PRICE_NO, 0, true);
    /* bob: wrong price twice, never acknowledged; greeting acknowledged then twice more */
    eval_at(now + 1 * DAY, "bob", PRICE_NO, 0, true);
    eval_at(now + 2 * DAY, "bob", PRICE_NO, 0, true);
    eval_at(now - 3 * DAY, "bob", GREET_NO, 1, true);
    eval_at(now + 4 * DAY, "bob", GREET_NO, 0, true);
    eval_at(now + 5 * DAY, "bob", GREET_NO, 0, true);
    /* cyd: three misses in the previous window, none now; a draft does not count */
    for (int d = 13; d <= 15; d++)
        eval_at(now - d * DAY, "cyd", CLOSE_NO, 0, true);
    eval_at(now - 1 * DAY, "cyd", CLOSE_NO, 0, false);
    eval_at(now - 2 * DAY, "cyd", ALL_YES, 0, true);
    /* outside both windows: ignored */
    eval_at(now - 40 * DAY, "ann", GREET_NO, 0, true);
    eval_at(now + 11 * DAY, "ann", GREET_NO, 0, true);
}

TestSuite(report, .init = build, .fini = fx_teardown);

static const struct report_error_row *row(const struct report_errors *r, const char *op,
                                          const char *tag)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (!strcmp(r->rows[i].operator_, op) && !strcmp(r->rows[i].error_tag, tag))
            return &r->rows[i];
    return NULL;
}

Test(report, team_counts_trends_and_repeats)
{
    struct report_errors r;
    cr_assert_eq(report_errors(fx_st, &W, &r, &fx_err), 0, "%s", fx_err.msg);
    cr_assert_eq(r.nrows, 4, "ann/wrong-price, bob/wrong-price, bob/greeting, cyd/no-close");
    const struct report_error_row *x = row(&r, "ann", "wrong-price");
    cr_assert_not_null(x);
    cr_assert_eq(x->count, 4);
    cr_assert_eq(x->previous_count, 2);
    cr_assert_eq(x->repeats_after_ack, 3);
    cr_assert(x->repeat);
    x = row(&r, "bob", "wrong-price");
    cr_assert_eq(x->count, 2);
    cr_assert_eq(x->previous_count, 0);
    cr_assert_eq(x->first_ack_at, 0);
    cr_assert_not(x->repeat, "never acknowledged: not a repeat error");
    x = row(&r, "bob", "greeting");
    cr_assert_eq(x->count, 3);
    cr_assert_eq(x->repeats_after_ack, 2);
    cr_assert_not(x->repeat, "2 after acknowledgement < 3");
    x = row(&r, "cyd", "no-close");
    cr_assert_eq(x->count, 0);
    cr_assert_eq(x->previous_count, 3);
    cr_assert_not(x->repeat);
    cr_assert_eq(r.errors, 9);
    cr_assert_eq(r.previous_errors, 5);
    cr_assert_eq(r.evaluations, 10);
    report_errors_release(&r);

    W.repeat_threshold = 2;
    cr_assert_eq(report_errors(fx_st, &W, &r, &fx_err), 0);
    cr_assert(row(&r, "bob", "greeting")->repeat);
    report_errors_release(&r);
}

Test(report, item_fail_rates)
{
    struct report_errors r;
    cr_assert_eq(report_errors(fx_st, &W, &r, &fx_err), 0);
    int seen = 0;
    for (size_t i = 0; i < r.nitems; i++) {
        const struct report_item_row *it = &r.items[i];
        cr_assert_str_eq(it->rubric_id, "r");
        cr_assert_eq(it->answered, 10, "%s", it->item_id);
        seen++;
        if (!strcmp(it->item_id, "price"))
            cr_assert_eq(it->failed, 6);
        if (!strcmp(it->item_id, "greet"))
            cr_assert_eq(it->failed, 3);
        if (!strcmp(it->item_id, "close"))
            cr_assert_eq(it->failed, 0);
        if (!strcmp(it->item_id, "q"))
            cr_assert_eq(it->failed, 0); /* 4 and 5 are above the midpoint */
    }
    cr_assert_eq(seen, 4);
    report_errors_release(&r);
}

Test(report, one_operator)
{
    struct report_errors r;
    W.operator_ = "bob";
    cr_assert_eq(report_errors(fx_st, &W, &r, &fx_err), 0);
    cr_assert_eq(r.nrows, 2);
    cr_assert_null(row(&r, "ann", "wrong-price"));
    cr_assert_eq(row(&r, "bob", "greeting")->count, 3);
    cr_assert_eq(r.evaluations, 5);
    report_errors_release(&r);
}

Test(report, empty_and_bad_windows)
{
    struct report_errors r;
    struct report_window far = {.since = now + 100 * DAY, .until = now + 110 * DAY};
    cr_assert_eq(report_errors(fx_st, &far, &r, &fx_err), 0);
    cr_assert_eq(r.nrows, 0);
    cr_assert_eq(r.evaluations, 0);
    report_errors_release(&r);
    struct report_window backwards = {.since = now, .until = now - DAY};
    cr_assert_eq(report_errors(fx_st, &backwards, &r, &fx_err), ES_EINVAL);
}

struct scores {
    int n;
    struct report_score_row rows[8];
};

static int score_cb(void *ud, const struct report_score_row *row_)
{
    struct scores *s = ud;
    s->rows[s->n++] = *row_;
    return 0;
}

Test(report, scores_per_operator)
{
    struct scores s = {0};
    cr_assert_eq(report_scores(fx_st, &W, score_cb, &s, &fx_err), 0);
    cr_assert_eq(s.n, 3);
    /* ann: 4 x PRICE_NO = 3 of 4 items right = 75.0, none passes 80 */
    cr_assert_str_eq(s.rows[0].operator_, "ann");
    cr_assert_eq(s.rows[0].evaluations, 4);
    cr_assert_eq(s.rows[0].passed, 0);
    cr_assert_float_eq(s.rows[0].average, 75.0, 1e-9);
    /* bob: 2 x 75.0 and 3 x GREET_NO (2 + 0.75 of 4 = 68.75 -> 68.8): mean 71.25 -> 71.3 */
    cr_assert_str_eq(s.rows[1].operator_, "bob");
    cr_assert_eq(s.rows[1].evaluations, 5);
    cr_assert_float_eq(s.rows[1].average, 71.3, 1e-9);
    /* cyd: the draft does not count; one 100.0 */
    cr_assert_str_eq(s.rows[2].operator_, "cyd");
    cr_assert_eq(s.rows[2].evaluations, 1);
    cr_assert_eq(s.rows[2].passed, 1);
    cr_assert_float_eq(s.rows[2].average, 100.0, 1e-9);
}

static int count_cb(void *ud, json_t *s)
{
    (void)s;
    ++*(int *)ud;
    return 0;
}

struct picks {
    int n;
    char op[32][16];
    char id[32][ES_ID_LEN];
};

static int pick_cb(void *ud, const char *op, const char *id, int64_t t)
{
    struct picks *p = ud;
    (void)t;
    cr_assert_lt(p->n, 32);
    snprintf(p->op[p->n], sizeof p->op[0], "%s", op);
    memcpy(p->id[p->n++], id, ES_ID_LEN);
    return 0;
}

Test(report, sample_is_reproducible_and_skips_scored_calls)
{
    char id[ES_ID_LEN];
    for (int i = 0; i < 8; i++)
        fx_call(now - (i + 1) * 3600000LL, "ann", NULL, id);
    fx_call(now - 7200000LL, "bob", NULL, id);
    struct picks a = {0}, b = {0};
    cr_assert_eq(report_sample(fx_st, &W, 3, 42, pick_cb, &a, &fx_err), 0);
    cr_assert_eq(a.n, 4, "3 of ann's 8 unscored calls, bob's only one, none of cyd's");
    cr_assert_str_eq(a.op[0], "ann");
    cr_assert_str_eq(a.op[3], "bob");
    cr_assert_str_eq(a.id[3], id);
    cr_assert_eq(report_sample(fx_st, &W, 3, 42, pick_cb, &b, &fx_err), 0);
    cr_assert_eq(memcmp(a.id, b.id, sizeof a.id), 0, "same seed, same sample");
    /* another seed picks differently at least once in a few tries (56 possible draws) */
    int differs = 0;
    for (uint64_t seed = 1; seed <= 5 && !differs; seed++) {
        struct picks c = {0};
        report_sample(fx_st, &W, 3, seed, pick_cb, &c, &fx_err);
        differs = memcmp(a.id, c.id, sizeof a.id) != 0;
    }
    cr_assert(differs);
    /* none of the picks has an evaluation */
    for (int i = 0; i < a.n; i++) {
        int n = 0;
        struct eval_filter f = {.status = -1, .call_id = a.id[i]};
        cr_assert_eq(eval_list(fx_st, &f, count_cb, &n), 0);
        cr_assert_eq(n, 0);
    }
}
