/* The JSON of the reports: one builder, used by the commands (--json lines)
 * and the review server's /api/v1/analytics routes alike. */
#include "analytics/analytics_int.h"

#include <math.h>
#include <string.h>
#include <time.h>

static json_t *ratio(double v)
{
    return v < 0 ? json_null() : json_real(round(v * 10000) / 10000);
}

static json_t *tenths(double v)
{
    return json_real(round(v * 10) / 10);
}

static json_t *counts_json(const struct an_counts *c, bool reasons)
{
    json_t *o = json_pack("{s:I, s:I, s:I}", "offered", (json_int_t)c->offered, "answered",
                          (json_int_t)c->answered, "missed", (json_int_t)c->missed);
    if (reasons) {
        json_t *r = json_object();
        for (int i = 0; i < MISSED_REASONS; i++)
            if (c->missed_by[i])
                json_object_set_new(r, analytics_missed_reasons[i], json_integer(c->missed_by[i]));
        json_object_set_new(o, "missed_reasons", r);
    }
    return o;
}

json_t *analytics_summary_json(const struct an_summary *s)
{
    json_t *o = json_pack("{s:s}", "type", "summary");
    json_object_update_new(o, counts_json(&s->all, true));
    json_object_set_new(o, "service_level", ratio(s->service_level));
    json_object_set_new(o, "service_level_abandons", ratio(s->service_level_abandons));
    json_object_set_new(o, "asa_s", tenths(s->asa_s));
    json_object_set_new(o, "aht_s", tenths(s->aht_s));
    json_object_set_new(o, "abandon_wait_s", tenths(s->abandon_wait_s));
    json_object_set_new(o, "max_wait_s", json_real(s->max_wait_s));
    json_object_set_new(o, "after_hours", counts_json(&s->after_hours, false));
    if (s->managed_answered) /* B2B: answered by the customer's own account manager */
        json_object_set_new(o, "answered_by_account_manager",
                            ratio((double)s->answered_by_manager / (double)s->managed_answered));
    return o;
}

json_t *analytics_bucket_json(const struct an_bucket *b, enum an_by by)
{
    json_t *k = json_pack("{s:s}", "type", "bucket");
    if (by == AN_BY_WEEKDAY_HOUR) {
        json_object_set_new(k, "weekday", json_integer(b->weekday));
        json_object_set_new(k, "hour", json_integer(b->hour));
    } else {
        struct an_local l;
        an_local(b->start, &l);
        char iso[32];
        snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d", l.year, l.mon, l.day, l.hour, l.min);
        json_object_set_new(k, "start", json_string(iso));
    }
    json_object_update_new(k, counts_json(&b->c, false));
    return k;
}

json_t *analytics_presence_json(const struct an_presence *p)
{
    json_t *pauses = json_object();
    for (int k = 0; k < p->npauses; k++)
        json_object_set_new(pauses, p->pauses[k].reason, json_integer(p->pauses[k].seconds));
    json_t *o =
        json_pack("{s:s, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:o}", "operator", p->operator_,
                  "logged_in_s", (json_int_t)p->logged_in_s, "paused_s", (json_int_t)p->paused_s,
                  "pauses", pauses, "sessions", (json_int_t)p->sessions, "answered",
                  (json_int_t)p->answered, "talk_s", (json_int_t)p->talk_s, "ring_no_answer",
                  (json_int_t)p->ring_no_answer, "occupancy", ratio(p->occupancy));
    if (p->unmatched_logoffs)
        json_object_set_new(o, "unmatched_logoffs", json_integer(p->unmatched_logoffs));
    return o;
}

json_t *analytics_erlang_json(const struct erlang_out *o, enum erlang_model m)
{
    json_t *j = json_pack(
        "{s:i, s:f, s:f, s:f, s:f, s:f}", "agents", o->agents, "load", round(o->load * 1000) / 1000,
        "service_level", round(o->service_level * 10000) / 10000, "asa_s",
        round(o->asa_s * 10) / 10, "occupancy", round(o->occupancy * 10000) / 10000, "p_wait",
        round(o->p_wait * 10000) / 10000);
    if (m == ERLANG_A)
        json_object_set_new(j, "abandon", json_real(round(o->abandon * 10000) / 10000));
    return j;
}

json_t *analytics_staffing_json(const struct an_staffing_row *r)
{
    return json_pack(
        "{s:i, s:i, s:f, s:f, s:o, s:o, s:f, s:o}", "weekday", r->weekday, "hour", r->hour,
        "calls_per_hour", round(r->calls_per_hour * 100) / 100, "aht_s", round(r->aht_s * 10) / 10,
        "agents", r->agents < 0 ? json_null() : json_integer(r->agents), "agents_with_shrinkage",
        r->agents_with_shrinkage < 0 ? json_null() : json_integer(r->agents_with_shrinkage),
        "observed_agents", round(r->observed_agents * 100) / 100, "service_level_observed",
        ratio(r->service_level_observed));
}

/* A day (local midnight; as `to`, the end of that day) or an ISO 8601 time. */
static int one_end(const char *v, bool end, int64_t *out)
{
    int y, m, d;
    char extra;
    if (sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &extra) == 3) {
        if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1970)
            return ES_EINVAL;
        struct tm tm = {
            .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d + (end ? 1 : 0), .tm_isdst = -1};
        time_t t = mktime(&tm);
        if (t == (time_t)-1)
            return ES_EINVAL;
        *out = (int64_t)t * 1000;
        return 0;
    }
    return es_time_parse(v, strlen(v), out) ? ES_EINVAL : 0;
}

int analytics_window(const char *from, const char *to, int64_t *f, int64_t *t)
{
    if (!from || !to || one_end(from, false, f) || one_end(to, true, t) || *t <= *f)
        return ES_EINVAL;
    return 0;
}
