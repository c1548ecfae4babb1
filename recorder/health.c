/* A live recorder's health: a snapshot of its counters taken by the capture
 * thread each second, stored in the catalog every --status-every seconds for
 * the follow-up's alerts, and served as Prometheus metrics by --metrics. */
#include "recorder/record_int.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct rec_health {
    pthread_mutex_t mu;
    struct rec_snapshot snap;
    struct MHD_Daemon *d;
    char source[64];
};

int rec_health_new(const char *source, struct rec_health **out)
{
    struct rec_health *h = calloc(1, sizeof *h);
    if (!h)
        return ES_ENOMEM;
    pthread_mutex_init(&h->mu, NULL);
    snprintf(h->source, sizeof h->source, "%s", source);
    *out = h;
    return 0;
}

void rec_health_update(struct rec_health *h, const struct rec_snapshot *s)
{
    pthread_mutex_lock(&h->mu);
    h->snap = *s;
    pthread_mutex_unlock(&h->mu);
}

char *rec_snapshot_json(const struct rec_snapshot *s)
{
    const struct recorder_counters *c = &s->c;
    json_t *o = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "packets", (json_int_t)c->packets, "sip_messages", (json_int_t)c->sip_messages,
        "rtp_packets", (json_int_t)c->rtp_packets, "bad_packets", (json_int_t)c->bad_packets,
        "bad_sip", (json_int_t)c->bad_sip, "calls_active", (json_int_t)s->active, "calls_archived",
        (json_int_t)c->calls_archived, "calls_missed", (json_int_t)c->calls_missed,
        "calls_rejected", (json_int_t)c->calls_rejected, "calls_failed",
        (json_int_t)c->calls_failed, "calls_dropped", (json_int_t)c->dropped_calls, "audio_dropped",
        (json_int_t)c->audio_dropped, "kernel_received", (json_int_t)s->kernel_received,
        "kernel_dropped", (json_int_t)s->kernel_dropped, "if_dropped", (json_int_t)s->if_dropped,
        "queued_bytes", (json_int_t)c->queued_bytes, "queue_capacity",
        (json_int_t)c->queue_capacity);
    if (o) {
        json_object_set_new(o, "spooled_bytes", json_integer((json_int_t)c->spooled_bytes));
        json_object_set_new(o, "spool_backlog_bytes",
                            json_integer((json_int_t)c->spool_backlog_bytes));
        json_object_set_new(o, "spool_backlog_seconds", json_real(c->spool_backlog_seconds));
        json_object_set_new(o, "spool_floor_drops", json_integer((json_int_t)c->spool_floor_drops));
        json_object_set_new(o, "spool_errors", json_integer((json_int_t)c->spool_errors));
        json_object_set_new(o, "interrupted_calls_recovered",
                            json_integer((json_int_t)c->interrupted_calls_recovered));
    }
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return t;
}

void rec_snapshot_metrics(const struct rec_snapshot *s, const char *source, struct es_buf *b)
{
    const struct recorder_counters *c = &s->c;
    const char *src[] = {"interface", source, NULL};
    struct {
        const char *name, *help;
        uint64_t v;
    } counters[] = {
        {"earshot_recorder_packets_total", "Packets read from the capture.", c->packets},
        {"earshot_recorder_bytes_total", "Bytes of the packets read.", c->bytes},
        {"earshot_recorder_sip_messages_total", "SIP messages parsed.", c->sip_messages},
        {"earshot_recorder_rtp_packets_total", "RTP packets of tracked calls.", c->rtp_packets},
        {"earshot_recorder_bad_packets_total", "Packets that could not be parsed.", c->bad_packets},
        {"earshot_recorder_bad_sip_total", "SIP messages that could not be parsed.", c->bad_sip},
        {"earshot_recorder_audio_dropped_total",
         "Audio packets the workers' queues had no room for.", c->audio_dropped},
        {"earshot_recorder_spooled_bytes_total",
         "Bytes the workers' queues had no room for, written to the spool.", c->spooled_bytes},
        {"earshot_recorder_spool_floor_drops_total",
         "Audio packets dropped because the spool's disk was down to its floor.",
         c->spool_floor_drops},
        {"earshot_recorder_spool_errors_total", "Spool writes or reads that failed.",
         c->spool_errors},
        {"earshot_recorder_calls_dropped_total",
         "INVITEs not tracked (the call table full, or evicted for a newer dialog).",
         c->dropped_calls},
        {"earshot_recorder_kernel_received_total", "Packets the kernel delivered to the capture.",
         s->kernel_received},
    };
    for (size_t i = 0; i < ES_ARRAY_LEN(counters); i++) {
        es_prom_family(b, counters[i].name, "counter", counters[i].help);
        es_prom_u64(b, counters[i].name, src, counters[i].v);
    }
    es_prom_family(b, "earshot_recorder_kernel_dropped_total", "counter",
                   "Packets lost before the recorder saw them: by the kernel's buffer, or the"
                   " interface.");
    const char *k[] = {"interface", source, "where", "buffer", NULL};
    es_prom_u64(b, "earshot_recorder_kernel_dropped_total", k, s->kernel_dropped);
    const char *i[] = {"interface", source, "where", "interface", NULL};
    es_prom_u64(b, "earshot_recorder_kernel_dropped_total", i, s->if_dropped);
    es_prom_family(b, "earshot_recorder_calls_total", "counter",
                   "Calls ended, by what became of them.");
    struct {
        const char *outcome;
        uint64_t v;
    } calls[] = {{"archived", c->calls_archived},
                 {"missed", c->calls_missed},
                 {"rejected", c->calls_rejected},
                 {"failed", c->calls_failed},
                 {"skipped", c->calls_skipped}};
    for (size_t n = 0; n < ES_ARRAY_LEN(calls); n++) {
        const char *l[] = {"interface", source, "outcome", calls[n].outcome, NULL};
        es_prom_u64(b, "earshot_recorder_calls_total", l, calls[n].v);
    }
    struct {
        const char *name, *help;
        uint64_t v;
    } gauges[] = {
        {"earshot_recorder_calls_active", "Calls in progress.", s->active},
        {"earshot_recorder_queue_bytes", "Bytes waiting in the workers' queues.", c->queued_bytes},
        {"earshot_recorder_queue_capacity_bytes", "Size of the workers' queues.",
         c->queue_capacity},
        {"earshot_recorder_spool_backlog_bytes",
         "Bytes spooled that the workers have yet to handle.", c->spool_backlog_bytes},
    };
    for (size_t g = 0; g < ES_ARRAY_LEN(gauges); g++) {
        es_prom_family(b, gauges[g].name, "gauge", gauges[g].help);
        es_prom_u64(b, gauges[g].name, src, gauges[g].v);
    }
    es_prom_family(b, "earshot_recorder_spool_backlog_seconds", "gauge",
                   "Capture time the furthest-behind worker has yet to handle.");
    es_prom_f64(b, "earshot_recorder_spool_backlog_seconds", src, c->spool_backlog_seconds);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_len, void **state)
{
    (void)version;
    (void)upload;
    (void)upload_len;
    (void)state;
    struct rec_health *h = cls;
    struct es_buf b;
    es_buf_init(&b, 1 << 20);
    unsigned status = 200;
    const char *type = "text/plain; version=0.0.4; charset=utf-8";
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        status = 405;
        es_buf_appendf(&b, "only GET\n");
    } else if (strcmp(url, "/metrics")) {
        status = 404;
        es_buf_appendf(&b, "the metrics are at /metrics\n");
    } else {
        pthread_mutex_lock(&h->mu);
        struct rec_snapshot s = h->snap;
        pthread_mutex_unlock(&h->mu);
        rec_snapshot_metrics(&s, h->source, &b);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(b.len, b.data ? b.data : (void *)"", MHD_RESPMEM_MUST_COPY);
    es_buf_free(&b);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

int rec_health_serve(struct rec_health *h, const char *addr_port, struct es_err *err)
{
    char host[64];
    const char *colon = strrchr(addr_port, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon == addr_port || *end || port < 1 || port > 65535 ||
        (size_t)(colon - addr_port) >= sizeof host)
        return es_seterr(err, ES_EINVAL, "--metrics %s: expected ADDRESS:PORT (127.0.0.1:9101)",
                         addr_port);
    memcpy(host, addr_port, (size_t)(colon - addr_port));
    host[colon - addr_port] = '\0';
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return es_seterr(err, ES_EINVAL, "--metrics %s: the address must be an IPv4 address",
                         addr_port);
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                            answer, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                            MHD_OPTION_END);
    if (!h->d)
        return es_seterr(err, ES_EINVAL, "--metrics %s: cannot listen there", addr_port);
    return 0;
}

void rec_health_free(struct rec_health *h)
{
    if (!h)
        return;
    if (h->d)
        MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
