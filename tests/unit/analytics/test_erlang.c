/* Erlang C against the published example and an independent summation;
 * Erlang A against a discrete-event simulation of the same queue. */
#include "analytics/analytics.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

/* Call Centre Helper's worked example, as quoted in the issue: 100 calls in
 * 30 minutes, AHT 180 s, 80 % within 20 s -> 14 agents, SL 0.888,
 * occupancy 0.714, P(wait) 0.174. */
Test(erlang, the_published_example)
{
    struct erlang_in in = {.calls = 100, .period_s = 1800, .aht_s = 180, .target_s = 20};
    struct erlang_out o;
    cr_assert_eq(erlang_agents(&in, 0.80, &o), 0);
    cr_assert_eq(o.agents, 14);
    cr_assert_float_eq(o.service_level, 0.888, 0.0005);
    cr_assert_float_eq(o.occupancy, 0.714, 0.0005);
    cr_assert_float_eq(o.p_wait, 0.174, 0.0005);
    cr_assert_float_eq(o.load, 10.0, 1e-9);
}

/* Rows published with their figures: the R package ErlangC's README on CRAN
 * (https://CRAN.R-project.org/package=ErlangC, MIT) gives, for the same
 * 10 Erlangs and 20 s, 11 agents: P(wait) 0.6821182, SL 0.3896138; and 14
 * agents: P(wait) 0.1741319, SL 0.88835, ASA 7.835937 s, occupancy 0.7142857. */
Test(erlang, published_rows)
{
    struct erlang_in in = {.calls = 100, .period_s = 1800, .aht_s = 180, .target_s = 20};
    struct erlang_out o;
    cr_assert_eq(erlang_eval(&in, 11, &o), 0);
    cr_assert_float_eq(o.p_wait, 0.6821182, 5e-7);
    cr_assert_float_eq(o.service_level, 0.3896138, 5e-7);
    cr_assert_eq(erlang_eval(&in, 14, &o), 0);
    cr_assert_float_eq(o.p_wait, 0.1741319, 5e-7);
    cr_assert_float_eq(o.service_level, 0.88835, 5e-6);
    cr_assert_float_eq(o.asa_s, 7.835937, 5e-6);
    cr_assert_float_eq(o.occupancy, 0.7142857, 5e-7);
}

/* The textbook sum A^N/N! N/(N-A) / (sum_{k<N} A^k/k! + A^N/N! N/(N-A)), in
 * long double: small N only, which is why the module does not use it. */
static double erlang_c_direct(int n, double a)
{
    long double term = 1, sum = 0;
    for (int k = 0; k < n; k++) {
        sum += term;
        term = term * a / (k + 1);
    }
    long double top = term * n / (n - a);
    return (double)(top / (sum + top));
}

Test(erlang, agrees_with_the_textbook_sum)
{
    const double loads[] = {0.5, 2, 10, 17.3, 40, 90};
    for (size_t i = 0; i < sizeof loads / sizeof loads[0]; i++)
        for (int n = (int)loads[i] + 1; n < (int)loads[i] + 12; n++) {
            struct erlang_in in = {
                .calls = loads[i] * 3600 / 200, .period_s = 3600, .aht_s = 200, .target_s = 15};
            struct erlang_out o;
            cr_assert_eq(erlang_eval(&in, n, &o), 0);
            cr_assert_float_eq(o.p_wait, erlang_c_direct(n, loads[i]), 1e-9, "A=%g N=%d", loads[i],
                               n);
        }
}

Test(erlang, large_and_impossible)
{
    /* 1,500 Erlangs: no factorial overflows, and more agents never serve worse */
    struct erlang_in in = {.calls = 30000, .period_s = 3600, .aht_s = 180, .target_s = 20};
    struct erlang_out o, o2;
    cr_assert_eq(erlang_agents(&in, 0.9, &o), 0);
    cr_assert(o.agents > 1500 && o.agents < 1600, "%d", o.agents);
    cr_assert(isfinite(o.p_wait) && o.service_level >= 0.9);
    cr_assert_eq(erlang_eval(&in, o.agents + 5, &o2), 0);
    cr_assert_geq(o2.service_level, o.service_level);
    cr_assert_eq(erlang_eval(&in, 1500, &o), ES_EINVAL, "as many agents as Erlangs: no end");
    in.calls = 2e6;
    cr_assert_eq(erlang_agents(&in, 0.8, &o), ES_ETOOBIG);
}

/* ---- a simulation of M/M/N+M ------------------------------------------------------ */

static unsigned long long rng = 88172645463325252ull;
static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((rng >> 11) + 0.5) / 9007199254740992.0;
}
static double expo(double rate)
{
    return -log(uniform()) / rate;
}

/* FCFS, callers leave after an exponential patience: the share of all
 * callers answered within t. Busy agents are a min-heap of free times. */
static double simulate(int n, double lambda, double mu, double gamma, double t, long calls)
{
    double *free_at = calloc((size_t)n, sizeof *free_at);
    double clock = 0;
    long within = 0;
    /* a caller waits for the earliest free agent; if its patience runs out
     * before, it leaves and that agent stays free for the next one */
    for (long i = 0; i < calls; i++) {
        clock += expo(lambda);
        int best = 0;
        for (int k = 1; k < n; k++)
            if (free_at[k] < free_at[best])
                best = k;
        double start = free_at[best] > clock ? free_at[best] : clock;
        double wait = start - clock;
        if (wait > 0 && expo(gamma) < wait)
            continue; /* hung up */
        within += wait <= t;
        free_at[best] = start + expo(mu);
    }
    free(free_at);
    return (double)within / calls;
}

Test(erlang, erlang_a_matches_a_simulation, .timeout = 120)
{
    const struct {
        double calls_per_hour, aht, patience, t;
        int agents;
    } cases[] = {
        {200, 180, 120, 20, 10}, /* load 10, short patience */
        {400, 240, 300, 30, 25}, /* load 26.7, more callers than agents could take */
        {60, 300, 60, 10, 5},    /* small team */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct erlang_in in = {.calls = cases[i].calls_per_hour,
                               .period_s = 3600,
                               .aht_s = cases[i].aht,
                               .target_s = cases[i].t,
                               .patience_s = cases[i].patience,
                               .model = ERLANG_A};
        struct erlang_out o;
        cr_assert_eq(erlang_eval(&in, cases[i].agents, &o), 0);
        double sim = simulate(cases[i].agents, cases[i].calls_per_hour / 3600, 1 / cases[i].aht,
                              1 / cases[i].patience, cases[i].t, 1000000);
        cr_assert_float_eq(o.service_level, sim, 0.01, "case %zu: model %.4f, simulation %.4f", i,
                           o.service_level, sim);
    }
}

Test(erlang, erlang_a_with_endless_patience_is_erlang_c)
{
    struct erlang_in c = {.calls = 100, .period_s = 1800, .aht_s = 180, .target_s = 20};
    struct erlang_in a = c;
    a.model = ERLANG_A;
    a.patience_s = 1e6;
    struct erlang_out oc, oa;
    cr_assert_eq(erlang_eval(&c, 14, &oc), 0);
    cr_assert_eq(erlang_eval(&a, 14, &oa), 0);
    cr_assert_float_eq(oa.service_level, oc.service_level, 0.002);
    cr_assert_float_eq(oa.p_wait, oc.p_wait, 0.002);
}
