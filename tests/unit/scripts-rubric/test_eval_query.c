/* A call's evaluation in lists of calls: only its newest submitted one counts
 * (an older one that passes a filter does not bring the call in, a draft is
 * never one), pages keep their place past the evaluations passed over, and
 * eval_newest_of gives each asked-for call's newest. */
#include "fixture.h"

TestSuite(eval_query, .init = fx_setup, .fini = fx_teardown);

#define RUBRIC                                                                                     \
    "id: order\ntitle: Order call\npass_score: 80\nsections:\n"                                    \
    "  - id: s\n    title: S\n    items:\n"                                                        \
    "      - {id: greet, text: Greets, type: yes_no}\n"                                            \
    "      - {id: price, text: Price right, type: yes_no, error_tag: wrong-price}\n"
#define GOOD "{\"greet\":\"yes\",\"price\":\"yes\"}"
#define BAD  "{\"greet\":\"yes\",\"price\":\"no\"}"

struct got {
    char call[16][ES_ID_LEN], eval[16][ES_ID_LEN];
    double score[16];
    int n;
};

static int keep(void *ud, const struct eval_brief *b)
{
    struct got *g = ud;
    cr_assert_lt(g->n, 16);
    snprintf(g->call[g->n], ES_ID_LEN, "%s", b->call_id);
    snprintf(g->eval[g->n], ES_ID_LEN, "%s", b->id);
    g->score[g->n++] = b->score;
    return 0;
}

Test(eval_query, only_the_newest_submitted_evaluation_counts)
{
    fx_import(RUBRIC, NULL);
    int64_t t = es_now_ms() - 86400000;
    char c1[ES_ID_LEN], c2[ES_ID_LEN], c3[ES_ID_LEN], e[8][ES_ID_LEN];
    fx_call(t, "ann", NULL, c1);
    fx_call(t + 1000, "ann", NULL, c2);
    fx_call(t + 2000, "ann", NULL, c3);
    /* c1: good, then bad: its newest is bad */
    cr_assert_eq(fx_eval(c1, "order", 0, GOOD, true, e[0]), 0);
    cr_assert_eq(fx_eval(c1, "order", 0, BAD, true, e[1]), 0);
    /* c2: bad, then good */
    cr_assert_eq(fx_eval(c2, "order", 0, BAD, true, e[2]), 0);
    cr_assert_eq(fx_eval(c2, "order", 0, GOOD, true, e[3]), 0);
    /* c3: good, then a bad draft that does not count yet */
    cr_assert_eq(fx_eval(c3, "order", 0, GOOD, true, e[4]), 0);
    cr_assert_eq(fx_eval(c3, "order", 0, BAD, false, e[5]), 0);

    struct eval_call_query q = {.operator_ = "ann", .has_min = true, .min_score = 90};
    struct eval_page page;
    struct got g = {0};
    cr_assert_eq(eval_calls_query(fx_st, &q, 10, false, &page, keep, &g, &fx_err), 0, "%s",
                 fx_err.msg);
    cr_assert_eq(g.n, 2, "c3 and c2 (their newest are good), not c1: %d", g.n);
    cr_expect_str_eq(g.call[0], c3);
    cr_expect_str_eq(g.eval[0], e[4]);
    cr_expect_str_eq(g.call[1], c2);
    cr_expect_str_eq(g.eval[1], e[3]);
    cr_expect_eq(page.rows, 3, "c1's older good one was looked at and passed over");
    cr_expect_str_eq(page.last_id, c1);

    /* pages of one: the place moves past what was passed over */
    memset(&g, 0, sizeof g);
    struct eval_call_query p = q;
    char after[ES_ID_LEN];
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(eval_calls_query(fx_st, &p, 1, false, &page, keep, &g, &fx_err), 0);
        if (page.rows < 1)
            break;
        p.after_at = page.last_at;
        snprintf(after, sizeof after, "%s", page.last_id);
        p.after_id = after;
    }
    cr_expect_eq(g.n, 2, "the same two calls, paged: %d", g.n);

    /* the newest of asked-for calls */
    memset(&g, 0, sizeof g);
    const char *ids[] = {c1, c2, c3, "01000000-0000-7000-8000-000000000000"};
    cr_assert_eq(eval_newest_of(fx_st, ids, 4, true, keep, &g, &fx_err), 0, "%s", fx_err.msg);
    cr_assert_eq(g.n, 3);
    for (int i = 0; i < g.n; i++) {
        const char *want = !strcmp(g.call[i], c1) ? e[1] : !strcmp(g.call[i], c2) ? e[3] : e[4];
        cr_expect_str_eq(g.eval[i], want, "call %s", g.call[i]);
    }
}
