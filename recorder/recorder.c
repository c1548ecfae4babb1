/* The recorder object: options, the dialog tracker, the archive session and
 * the counters; packets come in through recorder_packet(). */
#include "recorder/record_int.h"

#include <stdlib.h>
#include <string.h>

int recorder_new(const struct recorder_opts *o, struct ingest_session *s, struct catalog *c,
                 struct recorder **out, struct es_err *err)
{
    *out = NULL;
    struct recorder *r = calloc(1, sizeof *r);
    if (!r)
        return ES_ENOMEM;
    r->o = *o;
    if (r->o.rtp_timeout_s <= 0)
        r->o.rtp_timeout_s = 30;
    if (r->o.latency_ms <= 0)
        r->o.latency_ms = 200;
    if (r->o.linger_ms <= 0)
        r->o.linger_ms = 5000;
    if (!r->o.min_unknown_ms)
        r->o.min_unknown_ms = 1000;
    if (!r->o.max_calls)
        r->o.max_calls = 10000;
    if (!r->o.rejected_per_minute)
        r->o.rejected_per_minute = 100;
    else if (r->o.rejected_per_minute == REC_REJECTED_COUNTS)
        r->o.rejected_per_minute = 0;
    else if (r->o.rejected_per_minute < 0)
        r->o.rejected_per_minute = -1; /* every one a row */
    r->sess = s;
    r->cat = c;
    if (dialogs_new(r->o.max_calls, &r->dlg) || reasm_new(&r->frags) || tcp_reasm_new(&r->tcp) ||
        rec_flows_new(&r->flows) || rec_sources_new(&r->src)) {
        recorder_free(r);
        return es_seterr(err, ES_ENOMEM, "out of memory");
    }
    if (r->o.reject)
        dialogs_set_reject_rule(r->dlg, r->o.reject);
    r->o.reject = NULL; /* the caller's; the dialogs keep their copy */
    int rc = rec_pool_new(r, r->o.workers, r->o.queue_bytes, &r->pool, err);
    if (rc) {
        recorder_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

struct tcp_ctx {
    struct recorder *r;
    int64_t ts_us;
};

static void on_tcp_sip(void *ud, const struct sip_msg *m, const struct pkt *p)
{
    struct tcp_ctx *x = ud;
    recorder_sip(x->r, m, p, x->ts_us);
}

/* SIP over TCP: on the given ports, or (none given) any stream already
 * carrying SIP or whose segment begins like a SIP message. */
static bool sip_tcp(struct recorder *r, const struct pkt *p)
{
    if (r->o.nsip_ports)
        return recorder_is_sip_port(r, p->sport) || recorder_is_sip_port(r, p->dport);
    if (tcp_reasm_tracks(r->tcp, p))
        return true;
    return p->payload_len && sip_looks_like(p->payload, p->payload_len);
}

void recorder_packet(struct recorder *r, int linktype, const uint8_t *p, size_t len, int64_t ts_us)
{
    r->counters.packets++;
    r->counters.bytes += len;
    if (ts_us > r->clock_us)
        r->clock_us = ts_us;
    if (ts_us - r->last_sweep_us >= REC_SWEEP_US)
        recorder_sweep(r, ts_us, false);
    struct pkt pk;
    int rc = pkt_decode(linktype, p, len, &pk);
    if (rc == ES_EUNSUPP) {
        r->counters.not_ip++;
    } else if (rc) {
        r->counters.bad_packets++;
    } else if (pk.fragment) {
        r->counters.fragments++;
        struct pkt whole;
        uint8_t *buf;
        if (reasm_add(r->frags, &pk, ts_us, &whole, &buf) == 0 && whole.proto == PKT_UDP)
            recorder_udp(r, &whole, ts_us);
    } else if (pk.proto == PKT_UDP) {
        recorder_udp(r, &pk, ts_us);
    } else if (pk.proto == PKT_TCP && sip_tcp(r, &pk)) {
        r->counters.tcp_segments++;
        struct tcp_ctx x = {r, ts_us};
        tcp_reasm_add(r->tcp, &pk, ts_us, on_tcp_sip, &x);
    }
    rec_pool_clock(r->pool, ts_us);
}

void recorder_idle(struct recorder *r, int64_t now_us)
{
    if (now_us > r->clock_us)
        r->clock_us = now_us;
    recorder_tick(r, now_us, false);
}

void recorder_finish(struct recorder *r, int64_t now_us)
{
    recorder_tick(r, now_us, true);
    rec_pool_stop(r->pool);
}

void recorder_counters(const struct recorder *r, struct recorder_counters *out)
{
    *out = r->counters;
    rec_pool_counters(r->pool, out);
    struct dialogs_stats ds;
    dialogs_stats(r->dlg, &ds);
    out->calls_dropped_full += ds.dropped_full;
    out->calls_evicted += ds.evicted;
    out->dropped_calls += ds.dropped_full + ds.evicted;
}

size_t recorder_active_calls(const struct recorder *r)
{
    return r->active;
}

void recorder_free(struct recorder *r)
{
    if (!r)
        return;
    /* the workers stop before the calls they may still be mixing are freed;
     * calls never finished are dropped (their temp files removed) */
    rec_pool_free(r->pool);
    while (r->all) {
        struct rec_call *rc = r->all;
        r->all = rc->next_all;
        rc->sip = NULL; /* still the dialogs' */
        rec_call_destroy(rc);
    }
    r->unknown = NULL;
    rec_flows_free(r->flows);
    rec_sources_free(r->src);
    dialogs_free(r->dlg);
    reasm_free(r->frags);
    tcp_reasm_free(r->tcp);
    free(r);
}
