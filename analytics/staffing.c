/* Staffing per local weekday-hour: the calls the window saw in that hour on
 * average, the agents Erlang needs for them, and the operators who were there. */
#include "analytics/analytics_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int analytics_staffing(struct analytics *a, const struct an_staffing_query *q,
                       struct an_staffing_row rows[168], size_t *n, struct es_err *err)
{
    *n = 0;
    struct an_query cq = {.from = q->from,
                          .to = q->to,
                          .by = AN_BY_WEEKDAY_HOUR,
                          .sl_seconds = (int)q->model.target_s};
    struct an_summary s;
    struct an_bucket *b = NULL;
    size_t nb = 0;
    double avail[168];
    int rc = analytics_calls(a, &cq, &s, &b, &nb, err);
    if (!rc)
        rc = analytics_available(a, q->from, q->to, avail, err);
    if (rc) {
        free(b);
        return rc;
    }
    /* how many of each weekday-hour the window holds */
    int occurs[168] = {0};
    for (int64_t t = q->from; t < q->to; t = an_next_hour(t)) {
        struct an_local l;
        an_local(t, &l);
        occurs[(l.weekday - 1) * 24 + l.hour]++;
    }
    for (size_t i = 0; i < nb; i++) {
        const struct an_bucket *k = &b[i];
        if (!occurs[i] || !k->c.offered)
            continue;
        struct an_staffing_row *r = &rows[(*n)++];
        struct erlang_in in = q->model;
        in.period_s = 3600;
        in.calls = (double)k->c.offered / occurs[i];
        in.aht_s = k->c.completed ? k->c.talk_s / (double)k->c.completed
                   : s.aht_s > 0  ? s.aht_s
                                  : 180;
        struct erlang_out out;
        r->weekday = k->weekday;
        r->hour = k->hour;
        r->calls_per_hour = in.calls;
        r->aht_s = in.aht_s;
        r->agents = erlang_agents(&in, q->level, &out) ? -1 : out.agents;
        r->agents_with_shrinkage =
            r->agents < 0 ? -1 : (int)ceil(r->agents / (1 - q->shrinkage) - 1e-9);
        r->observed_agents = avail[i] / (occurs[i] * 3600.0);
        r->service_level_observed =
            k->c.answered ? (double)k->c.answered_within / (double)k->c.answered : -1;
    }
    free(b);
    return 0;
}
