/* GET /metrics: Prometheus text exposition for `earshot serve`, behind an API
 * token (Authorization: Bearer). HTTP requests by route and status and their
 * latencies (counted here as requests complete), the catalog's calls and
 * ingest failures, the unreturned-calls list, the notification outbox, the
 * health conditions firing, and each live recorder's last counters. */
#include "review-server/http_int.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const unsigned codes[] = {200, 201, 204, 206, 301, 302, 303, 304, 400, 401, 403,
                                 404, 405, 409, 413, 415, 416, 422, 429, 500, 503};
#define NCODES ES_ARRAY_LEN(codes)
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10};
#define NBUCKETS ES_ARRAY_LEN(buckets)
#define NROUTES  (ROUTE_MAX + 1) /* the last: requests that matched no route */

struct http_metrics {
    _Atomic uint64_t req[NROUTES][NCODES + 1]; /* the last: any other status */
    _Atomic uint64_t hist[NROUTES][NBUCKETS + 1];
    _Atomic uint64_t sum_us[NROUTES];
};

struct http_metrics *http_metrics_new(void)
{
    return calloc(1, sizeof(struct http_metrics));
}

void http_metrics_free(struct http_metrics *m)
{
    free(m);
}

void http_metrics_request(struct http_metrics *m, const struct req *r)
{
    size_t route = r->routed ? route_index(r->route.def) : ROUTE_MAX;
    size_t code = NCODES;
    for (size_t i = 0; i < NCODES; i++)
        if (codes[i] == r->status)
            code = i;
    atomic_fetch_add_explicit(&m->req[route][code], 1, memory_order_relaxed);
    int64_t us = es_mono_us() - r->t0_us;
    size_t b = NBUCKETS;
    for (size_t i = 0; i < NBUCKETS; i++)
        if ((double)us / 1e6 <= buckets[i]) {
            b = i;
            break;
        }
    atomic_fetch_add_explicit(&m->hist[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us[route], (uint64_t)(us > 0 ? us : 0), memory_order_relaxed);
}

static const char *route_label(size_t route)
{
    return route == ROUTE_MAX ? "unmatched" : route_path(route_at(route));
}

static const char *method_label(size_t route)
{
    return route == ROUTE_MAX ? "any" : route_method(route_at(route));
}

static void http_part(struct http_metrics *m, struct es_buf *b)
{
    es_prom_family(b, "earshot_http_requests_total", "counter",
                   "HTTP requests answered, by route and status code.");
    for (size_t r = 0; r < NROUTES; r++)
        for (size_t c = 0; c <= NCODES; c++) {
            uint64_t v = atomic_load_explicit(&m->req[r][c], memory_order_relaxed);
            if (!v)
                continue;
            char code[8];
            snprintf(code, sizeof code, "%u", c < NCODES ? codes[c] : 0);
            const char *l[] = {"method", method_label(r),
                               "route",  route_label(r),
                               "code",   c < NCODES ? code : "other",
                               NULL};
            es_prom_u64(b, "earshot_http_requests_total", l, v);
        }
    es_prom_family(b, "earshot_http_request_duration_seconds", "histogram",
                   "Time from a request's headers to its response, by route.");
    for (size_t r = 0; r < NROUTES; r++) {
        uint64_t cum = 0, counts[NBUCKETS + 1];
        for (size_t i = 0; i <= NBUCKETS; i++)
            counts[i] = atomic_load_explicit(&m->hist[r][i], memory_order_relaxed);
        uint64_t total = 0;
        for (size_t i = 0; i <= NBUCKETS; i++)
            total += counts[i];
        if (!total)
            continue;
        for (size_t i = 0; i < NBUCKETS; i++) {
            cum += counts[i];
            char le[16];
            snprintf(le, sizeof le, "%g", buckets[i]);
            const char *l[] = {"method", method_label(r), "route", route_label(r), "le", le, NULL};
            es_prom_u64(b, "earshot_http_request_duration_seconds_bucket", l, cum);
        }
        const char *inf[] = {"method", method_label(r), "route", route_label(r),
                             "le",     "+Inf",          NULL};
        es_prom_u64(b, "earshot_http_request_duration_seconds_bucket", inf, total);
        const char *l[] = {"method", method_label(r), "route", route_label(r), NULL};
        es_prom_f64(b, "earshot_http_request_duration_seconds_sum", l,
                    (double)atomic_load_explicit(&m->sum_us[r], memory_order_relaxed) / 1e6);
        es_prom_u64(b, "earshot_http_request_duration_seconds_count", l, total);
    }
}

struct rec_ctx {
    struct es_buf *b;
    int pass; /* the families are written one at a time, every recorder under each */
    const char *key;
    bool gauge;
};

/* earshot_recorder_<key>[_total] from each recorder's stored counters */
static int recorder_value(void *ud, const struct catalog_recorder_status *st)
{
    struct rec_ctx *x = ud;
    json_t *o = json_loads(st->counters, 0, NULL);
    json_t *v = json_object_get(o, x->key);
    char name[96];
    snprintf(name, sizeof name, "earshot_recorder_%s%s", x->key, x->gauge ? "" : "_total");
    const char *l[] = {"interface", st->source, NULL};
    if (json_is_integer(v))
        es_prom_u64(x->b, name, l, (uint64_t)json_integer_value(v));
    else if (json_is_real(v))
        es_prom_f64(x->b, name, l, json_real_value(v));
    json_decref(o);
    return 0;
}

static int firing(void *ud, const char *condition, int64_t since)
{
    const char *l[] = {"condition", condition, NULL};
    es_prom_f64(ud, "earshot_health_firing_since_seconds", l, (double)since / 1000.0);
    return 0;
}

enum MHD_Result api_metrics(struct req *r)
{
    struct es_buf b;
    es_buf_init(&b, 8 << 20);
    http_part(r->srv->metrics, &b);
    struct es_err err = {{0}};
    struct catalog_totals t;
    if (!catalog_totals(r->w->cat, &t)) {
        es_prom_family(&b, "earshot_calls", "gauge", "Calls in the catalog, by disposition.");
        const char *a[] = {"disposition", "answered", NULL}, *m[] = {"disposition", "missed", NULL},
                   *j[] = {"disposition", "rejected", NULL};
        es_prom_u64(&b, "earshot_calls", a, (uint64_t)t.answered);
        es_prom_u64(&b, "earshot_calls", m, (uint64_t)t.missed);
        es_prom_u64(&b, "earshot_calls", j, (uint64_t)t.rejected);
        es_prom_family(&b, "earshot_ingest_failures", "gauge",
                       "Inputs that could not be archived (kept in failed/ with the reason).");
        es_prom_u64(&b, "earshot_ingest_failures", NULL, (uint64_t)t.failures);
        es_prom_family(&b, "earshot_archive_audio_bytes", "gauge", "Bytes of archived audio.");
        es_prom_u64(&b, "earshot_archive_audio_bytes", NULL, (uint64_t)t.audio_bytes);
    }
    int64_t open, claimed;
    if (!followup_open_count(r->w->fu, es_now_ms(), &open, &claimed, &err)) {
        es_prom_family(&b, "earshot_unreturned_calls", "gauge",
                       "Missed callers nobody has called back yet.");
        es_prom_u64(&b, "earshot_unreturned_calls", NULL, (uint64_t)open);
        es_prom_family(&b, "earshot_unreturned_calls_claimed", "gauge",
                       "Of those, claimed by someone calling back.");
        es_prom_u64(&b, "earshot_unreturned_calls_claimed", NULL, (uint64_t)claimed);
    }
    struct notify_counts nc;
    if (!notify_counts(r->w->fu, &nc, &err)) {
        es_prom_family(&b, "earshot_notifications", "gauge",
                       "Notifications by state (delivered: the last 7 days).");
        const char *p[] = {"state", "pending", NULL}, *d[] = {"state", "dead", NULL},
                   *ok[] = {"state", "delivered", NULL}, *o[] = {"state", "unrouted", NULL};
        es_prom_u64(&b, "earshot_notifications", p, (uint64_t)nc.pending);
        es_prom_u64(&b, "earshot_notifications", d, (uint64_t)nc.dead);
        es_prom_u64(&b, "earshot_notifications", ok, (uint64_t)nc.delivered);
        es_prom_u64(&b, "earshot_notifications", o, (uint64_t)nc.outbox);
    }
    es_prom_family(&b, "earshot_health_firing_since_seconds", "gauge",
                   "Health conditions firing now, with when they started (Unix time).");
    notify_health_firing(r->w->fu, firing, &b, &err);
    static const struct {
        const char *key, *type, *help;
    } rec[] = {
        {"packets", "counter", "Packets the recorder read."},
        {"sip_messages", "counter", "SIP messages parsed."},
        {"rtp_packets", "counter", "RTP packets of tracked calls."},
        {"bad_packets", "counter", "Packets that could not be parsed."},
        {"bad_sip", "counter", "SIP messages that could not be parsed."},
        {"calls_active", "gauge", "Calls in progress."},
        {"calls_archived", "counter", "Calls archived."},
        {"calls_missed", "counter", "Missed calls catalogued."},
        {"calls_rejected", "counter", "Attempts the PBX refused."},
        {"calls_failed", "counter", "Calls that could not be archived."},
        {"calls_dropped", "counter", "INVITEs not tracked."},
        {"audio_dropped", "counter", "Audio packets the queues had no room for."},
        {"kernel_received", "counter", "Packets the kernel delivered."},
        {"kernel_dropped", "counter", "Packets the kernel's buffer dropped."},
        {"if_dropped", "counter", "Packets the interface dropped."},
        {"queued_bytes", "gauge", "Bytes waiting in the workers' queues."},
        {"queue_capacity", "gauge", "Size of the workers' queues."},
        {"spooled_bytes", "counter", "Bytes the queues had no room for, written to the spool."},
        {"spool_backlog_bytes", "gauge", "Bytes spooled that the workers have yet to handle."},
        {"spool_backlog_seconds", "gauge", "Capture time the furthest-behind worker is behind."},
        {"spool_floor_drops", "counter", "Audio dropped with the spool's disk at its floor."},
        {"spool_errors", "counter", "Spool writes or reads that failed."},
    };
    for (size_t i = 0; i < ES_ARRAY_LEN(rec); i++) {
        char family[96];
        bool gauge = !strcmp(rec[i].type, "gauge");
        snprintf(family, sizeof family, "earshot_recorder_%s%s", rec[i].key, gauge ? "" : "_total");
        es_prom_family(&b, family, rec[i].type, rec[i].help);
        struct rec_ctx x = {.b = &b, .key = rec[i].key, .gauge = gauge};
        catalog_recorder_status_list(r->w->cat, recorder_value, &x);
    }
    if (!b.data) {
        es_buf_free(&b);
        return http_error(r, 500, "out of memory");
    }
    enum MHD_Result res =
        http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    es_buf_free(&b);
    return res;
}
