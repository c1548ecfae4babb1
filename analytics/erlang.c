/* Erlang C and Erlang A (M/M/N and M/M/N+M) for staffing.
 *
 * Erlang C comes from the Erlang B recursion B(n) = A·B(n-1) / (n + A·B(n-1)),
 * which never forms a factorial or a power, so it holds for thousands of
 * agents: C = N·B / (N - A·(1 - B)).
 *
 * Erlang A lets waiting callers hang up after an exponential patience. Its
 * stationary distribution is the birth-death chain with arrivals λ, service
 * μ·min(n, N) and abandonment γ·max(n - N, 0), computed in ratios to the
 * state N (no overflow). A caller finding k ahead reaches an agent after the
 * k + 1 queue departures before it (each at rate Nμ + jγ with j ahead), unless
 * its own patience runs out first: the probability of that within T is
 * integrated per k (RK4), and the service level is the share of all callers
 * answered within T. The tests check it against a simulation of the queue. */
#include "analytics/analytics_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_AGENTS 2000

static double erlang_b(int n, double load)
{
    double b = 1.0;
    for (int i = 1; i <= n; i++)
        b = load * b / (i + load * b);
    return b;
}

static int eval_c(const struct erlang_in *in, int n, struct erlang_out *out)
{
    double a = in->calls * in->aht_s / in->period_s;
    if (n <= a)
        return ES_EINVAL; /* the queue grows without end */
    double b = erlang_b(n, a);
    double c = n * b / (n - a * (1 - b));
    out->agents = n;
    out->load = a;
    out->p_wait = c;
    out->service_level = 1 - c * exp(-(n - a) * in->target_s / in->aht_s);
    out->asa_s = c * in->aht_s / (n - a);
    out->occupancy = a / n;
    out->abandon = 0;
    return 0;
}

/* The states past N that still carry weight. */
static int tail_len(double lambda, double mu, double gamma, int n)
{
    double r = 1;
    int k = 0;
    while (k < 100000) {
        k++;
        r *= lambda / (n * mu + k * gamma);
        if (r < 1e-16 && k > 10)
            break;
    }
    return k;
}

/* P(answered within t | k callers ahead), for k = 0..K-1, by RK4 on
 * f_j' = r_j (f_{j-1} - f_j) - γ f_j with f_{-1} = 1, r_j = Nμ + jγ. */
static void answered_within(int kmax, double nmu, double gamma, double t, double *f)
{
    /* RK4 is stable for rate·h below 2.78: keep it under 0.5 */
    double fastest = nmu + (kmax + 1) * gamma;
    int steps = (int)ES_MIN(ceil(t * fastest / 0.5), 2e6);
    steps = ES_MAX(steps, 200);
    double h = t / steps;
    double *k1 = calloc((size_t)kmax * 4, sizeof *k1), *k2 = k1 + kmax, *k3 = k2 + kmax,
           *k4 = k3 + kmax;
    double *tmp = calloc((size_t)kmax, sizeof *tmp);
    memset(f, 0, (size_t)kmax * sizeof *f);
    if (!k1 || !tmp) {
        free(k1);
        free(tmp);
        return;
    }
#define DERIV(src, dst)                                                                            \
    for (int j = 0; j < kmax; j++) {                                                               \
        double prev = j ? (src)[j - 1] : 1.0;                                                      \
        (dst)[j] = (nmu + j * gamma) * (prev - (src)[j]) - gamma * (src)[j];                       \
    }
    for (int s = 0; s < steps; s++) {
        DERIV(f, k1);
        for (int j = 0; j < kmax; j++)
            tmp[j] = f[j] + h / 2 * k1[j];
        DERIV(tmp, k2);
        for (int j = 0; j < kmax; j++)
            tmp[j] = f[j] + h / 2 * k2[j];
        DERIV(tmp, k3);
        for (int j = 0; j < kmax; j++)
            tmp[j] = f[j] + h * k3[j];
        DERIV(tmp, k4);
        for (int j = 0; j < kmax; j++)
            f[j] += h / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
    }
#undef DERIV
    free(k1);
    free(tmp);
}

static int eval_a(const struct erlang_in *in, int n, struct erlang_out *out)
{
    double lambda = in->calls / in->period_s, mu = 1.0 / in->aht_s, gamma = 1.0 / in->patience_s;
    /* weights relative to state N: below it p_{i-1} = p_i · iμ/λ, above it
     * p_{N+k} = p_{N+k-1} · λ/(Nμ + kγ) */
    int kmax = tail_len(lambda, mu, gamma, n);
    double *below = malloc((size_t)(n + 1) * sizeof *below),
           *above = malloc((size_t)(kmax + 1) * sizeof *above);
    double *f = malloc((size_t)(kmax + 1) * sizeof *f);
    if (!below || !above || !f) {
        free(below);
        free(above);
        free(f);
        return ES_ENOMEM;
    }
    below[n] = 1;
    double total = 1;
    for (int i = n; i > 0; i--) {
        below[i - 1] = below[i] * i * mu / lambda;
        if (below[i - 1] < 1e-300)
            below[i - 1] = 0;
        total += below[i - 1];
    }
    above[0] = 1;
    double queue_mean = 0, waiting = 0;
    for (int k = 1; k <= kmax; k++) {
        above[k] = above[k - 1] * lambda / (n * mu + k * gamma);
        total += above[k];
        waiting += above[k];
        queue_mean += k * above[k];
    }
    /* an arrival finding N + k (k >= 0) waits with k ahead */
    answered_within(kmax + 1, n * mu, gamma, in->target_s, f);
    double immediate = 0;
    for (int i = 0; i < n; i++)
        immediate += below[i];
    double sl = immediate;
    for (int k = 0; k <= kmax; k++)
        sl += above[k] * f[k];
    double p_wait = (1 + waiting) / total;
    double lq = queue_mean / total;
    out->agents = n;
    out->load = lambda / mu;
    out->p_wait = p_wait;
    out->service_level = sl / total;
    out->asa_s = lq / lambda; /* Little: the mean wait over all callers */
    out->abandon = gamma * lq / lambda;
    out->occupancy = lambda * (1 - out->abandon) / mu / n;
    free(below);
    free(above);
    free(f);
    return 0;
}

static bool sane(const struct erlang_in *in)
{
    return in->calls >= 0 && in->period_s > 0 && in->aht_s > 0 && in->target_s >= 0 &&
           isfinite(in->calls) && (in->model == ERLANG_C || in->patience_s > 0);
}

int erlang_eval(const struct erlang_in *in, int agents, struct erlang_out *out)
{
    memset(out, 0, sizeof *out);
    if (!sane(in) || agents < 1 || agents > MAX_AGENTS)
        return ES_EINVAL;
    if (in->calls == 0) { /* nobody calls: everyone who would is answered at once */
        *out = (struct erlang_out){.agents = agents, .service_level = 1};
        return 0;
    }
    return in->model == ERLANG_C ? eval_c(in, agents, out) : eval_a(in, agents, out);
}

int erlang_agents(const struct erlang_in *in, double target, struct erlang_out *out)
{
    memset(out, 0, sizeof *out);
    if (!sane(in) || !(target > 0 && target < 1))
        return ES_EINVAL;
    double a = in->calls * in->aht_s / in->period_s;
    int n = in->model == ERLANG_C ? (int)floor(a) + 1 : 1;
    for (; n <= MAX_AGENTS; n++) {
        int rc = erlang_eval(in, n, out);
        if (rc == ES_ENOMEM)
            return rc;
        if (!rc && out->service_level >= target)
            return 0;
    }
    return ES_ETOOBIG;
}
