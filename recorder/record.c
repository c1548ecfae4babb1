/* The recorder pipeline: packets in, calls out.
 *
 * SIP goes to the dialog tracker; RTP is matched to its call and side through
 * the SDP endpoints (or, with no SIP seen, grouped into an "unknown" call by
 * its address pair), counted into per-stream statistics, decoded and placed on
 * the call's stereo timeline, which streams into the archive writer while the
 * call goes on. DTMF events become markers. When a call ends (BYE, final
 * error, CANCEL, RTP silence, session expiry, end of input) it is committed:
 * answered calls with their recording, missed calls as a row with the reason.
 * Capture time drives everything, so files and live capture behave alike. */
#include "recorder/record_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SWEEP_US 200000 /* how often ended calls are looked for */

static const char dtmf_chars[] = "0123456789*#ABCD";

static struct rec_call *rec_call_new(struct recorder *r)
{
    struct rec_call *rc = calloc(1, sizeof *rc);
    if (rc) {
        rc->r = r;
        rc->w = rec_pool_pick(r->pool);
        rc->caller_is_customer = -1;
        rc->sent_pt[0] = rc->sent_pt[1] = -1;
        rc->next_all = r->all;
        if (r->all)
            r->all->prev_all = rc;
        r->all = rc;
        r->active++;
    }
    return rc;
}

/* The capture thread lets go of a call: it leaves the active list. */
static void rec_call_detach(struct rec_call *rc)
{
    struct recorder *r = rc->r;
    if (rc->prev_all)
        rc->prev_all->next_all = rc->next_all;
    else
        r->all = rc->next_all;
    if (rc->next_all)
        rc->next_all->prev_all = rc->prev_all;
    rc->prev_all = rc->next_all = NULL;
    r->active--;
}

/* The call is over: its worker commits it. */
static void end_call(struct rec_call *rc)
{
    rec_flows_drop(rc->r->flows, rc);
    rec_call_detach(rc);
    rec_send_finish(rc);
}

static struct rec_stream *stream_of(struct rec_call *rc, const struct pkt *p, uint32_t ssrc)
{
    for (int i = 0; i < rc->nstreams; i++) {
        struct rec_stream *s = &rc->streams[i];
        if (s->ssrc == ssrc && s->sport == p->sport && s->dport == p->dport &&
            !memcmp(&s->src, &p->src, sizeof p->src))
            return s;
    }
    return NULL;
}

static struct rec_stream *stream_new(struct rec_call *rc, const struct pkt *p, uint32_t ssrc,
                                     uint8_t pt, int clock, const char *codec, int channel)
{
    if (rc->nstreams == REC_MAX_STREAMS)
        return NULL;
    struct rec_stream *s = &rc->streams[rc->nstreams++];
    s->ssrc = ssrc;
    s->src = p->src;
    s->dst = p->dst;
    s->sport = p->sport;
    s->dport = p->dport;
    s->pt = pt;
    s->channel = channel;
    s->cache_pt = -1;
    snprintf(s->codec, sizeof s->codec, "%s", codec);
    rtp_stats_init(&s->st, clock);
    return s;
}

static void note_codec(struct rec_call *rc, const char *name)
{
    for (int i = 0; i < rc->ncodecs; i++)
        if (!strcasecmp(rc->codecs[i], name))
            return;
    if (rc->ncodecs < (int)ES_ARRAY_LEN(rc->codecs))
        snprintf(rc->codecs[rc->ncodecs++], sizeof rc->codecs[0], "%s", name);
}

/* RFC 4733 telephone-event: one marker per event, taken from its first end
 * packet (the end packets are sent three times). */
static void dtmf(struct rec_call *rc, const struct rtp_hdr *h, int channel, int clock,
                 int64_t ts_us)
{
    if (h->payload_len < 4)
        return;
    uint8_t ev = h->payload[0];
    bool end = (h->payload[1] & 0x80) != 0;
    unsigned dur = (unsigned)(h->payload[2] << 8 | h->payload[3]);
    for (int i = 0; i < rc->ndtmf; i++)
        if (rc->dtmf[i].ts == h->ts && rc->dtmf[i].channel == channel) {
            if (end && !rc->dtmf[i].ended) {
                rc->dtmf[i].ended = true;
                rc->dtmf[i].duration_ms = clock > 0 ? (int)(dur * 1000u / (unsigned)clock) : 0;
            }
            return;
        }
    if (rc->ndtmf == REC_MAX_DTMF || ev > 15)
        return;
    struct rec_dtmf *d = &rc->dtmf[rc->ndtmf++];
    d->ts = h->ts;
    d->channel = channel;
    d->digit = dtmf_chars[ev];
    d->ended = end;
    d->duration_ms = clock > 0 ? (int)(dur * 1000u / (unsigned)clock) : 0;
    d->at_us = ts_us;
}

/* What payload type pt means in this call's SDP (NULL media: none seen). */
static enum rec_kind resolve(const struct sdp_media *media, const struct rtp_hdr *h,
                             struct sdp_rtpmap *out)
{
    const struct sdp_rtpmap *map = media ? sdp_rtpmap_of(media, h->pt, out) : NULL;
    if (!map && rtp_static_name(h->pt)) {
        struct sdp_media none = {0};
        map = sdp_rtpmap_of(&none, h->pt, out);
    }
    /* no SDP seen: a dynamic type carrying 4-byte RFC 4733 events is DTMF */
    if (!map && !media && h->pt >= 96 && h->payload_len == 4 && h->payload[0] <= 15) {
        memset(out, 0, sizeof *out);
        out->pt = h->pt;
        snprintf(out->name, sizeof out->name, "telephone-event");
        out->clock = 8000;
        return KIND_DTMF;
    }
    if (!map) {
        memset(out, 0, sizeof *out);
        out->pt = h->pt;
        snprintf(out->name, sizeof out->name, "unknown");
        return KIND_NONE;
    }
    if (map != out)
        *out = *map;
    if (!strcasecmp(out->name, "telephone-event"))
        return KIND_DTMF;
    if (!strcasecmp(out->name, "CN") || h->pt == 13)
        return KIND_CN;
    return KIND_AUDIO;
}

/* Hands one audio payload to the call's worker, telling it the codec first
 * when the side's payload type or SDP changed. */
static void audio(struct recorder *r, struct rec_call *rc, const struct rtp_hdr *h,
                  const struct rec_stream *s, int channel, int gen, int64_t ts_us)
{
    if (r->o.no_audio)
        return;
    if (!rc->call) { /* first audio: the worker will open the writer from the row */
        rc->call = calloc(1, sizeof *rc->call);
        if (!rc->call) {
            r->counters.audio_dropped++;
            rc->overload_dropped++;
            return;
        }
        recorder_fill_call(rc, rc->call);
    }
    if (rc->sent_pt[channel] != h->pt || rc->sent_gen[channel] != gen) {
        if (!rec_send_codec(rc, channel, &s->cache_map)) {
            r->counters.audio_dropped++;
            rc->overload_dropped++;
            return;
        }
        rc->sent_pt[channel] = h->pt;
        rc->sent_gen[channel] = gen;
    }
    if (!rec_send_audio(rc, channel, h, ts_us)) {
        r->counters.audio_dropped++;
        rc->overload_dropped++;
    }
}

static void rtp_packet(struct recorder *r, struct rec_call *rc, const struct pkt *p,
                       const struct rtp_hdr *h, const struct sdp_media *media, int gen, int channel,
                       int64_t ts_us, struct rec_flow *flow)
{
    /* the flow already matched addresses and ports: the SSRC decides */
    int hint = flow ? rec_flow_stream(flow) : -1;
    struct rec_stream *s = hint >= 0 && rc->streams[hint].ssrc == h->ssrc
                               ? &rc->streams[hint]
                               : stream_of(rc, p, h->ssrc);
    struct sdp_rtpmap map;
    enum rec_kind kind;
    if (s && s->cache_pt == h->pt && s->cache_gen == gen) {
        kind = s->cache_kind;
    } else {
        kind = resolve(media, h, &map);
        if (!s)
            s = stream_new(rc, p, h->ssrc, h->pt, kind == KIND_NONE ? 0 : map.clock, map.name,
                           channel);
        if (s) {
            s->cache_pt = h->pt;
            s->cache_gen = gen;
            s->cache_kind = kind;
            s->cache_map = map;
        }
        if (kind == KIND_NONE)
            snprintf(rc->undecodable, sizeof rc->undecodable, "payload type %u has no codec",
                     h->pt);
        else if (kind == KIND_AUDIO)
            note_codec(rc, map.name);
    }
    if (flow && s)
        rec_flow_set_stream(flow, (int)(s - rc->streams));
    if (!rc->first_rtp_us)
        rc->first_rtp_us = ts_us;
    rc->last_rtp_us = ts_us;
    r->counters.rtp_packets++;
    if (!s) { /* more streams than a call keeps: counted in the totals only */
        if (kind == KIND_AUDIO)
            r->counters.audio_dropped++;
        return;
    }
    rtp_stats_add(&s->st, h, (double)ts_us / 1000.0);
    if (kind == KIND_DTMF)
        dtmf(rc, h, channel, s->cache_map.clock, ts_us);
    else if (kind == KIND_AUDIO)
        audio(r, rc, h, s, channel, gen, ts_us);
    /* comfort noise: the gap stays silent; no codec: noted above */
}

/* RTP that no SIP dialog announced: grouped by address pair into an unknown call. */
static struct rec_call *unknown_call(struct recorder *r, const struct pkt *p, int *channel)
{
    for (struct rec_call *rc = r->unknown; rc; rc = rc->next_unknown) {
        bool fwd = !memcmp(&rc->a, &p->src, sizeof p->src) && rc->pa == p->sport &&
                   !memcmp(&rc->b, &p->dst, sizeof p->dst) && rc->pb == p->dport;
        bool back = !memcmp(&rc->a, &p->dst, sizeof p->dst) && rc->pa == p->dport &&
                    !memcmp(&rc->b, &p->src, sizeof p->src) && rc->pb == p->sport;
        if (fwd || back) {
            *channel = fwd ? 0 : 1;
            return rc;
        }
    }
    if (r->active >= r->o.max_calls) {
        r->counters.dropped_calls++;
        return NULL;
    }
    struct rec_call *rc = rec_call_new(r);
    if (!rc)
        return NULL;
    rc->a = p->src, rc->pa = p->sport, rc->b = p->dst, rc->pb = p->dport;
    rc->next_unknown = r->unknown;
    r->unknown = rc;
    *channel = 0;
    return rc;
}

bool recorder_is_sip_port(const struct recorder *r, uint16_t port)
{
    for (int i = 0; i < r->o.nsip_ports; i++)
        if (r->o.sip_ports[i] == port)
            return true;
    return false;
}

void recorder_sip(struct recorder *r, const struct sip_msg *m, const struct pkt *p, int64_t ts_us)
{
    r->counters.sip_messages++;
    struct sip_call *c = dialogs_on_sip(r->dlg, m, p, ts_us);
    if (c && !c->ud) {
        c->ud = rec_call_new(r);
        if (c->ud)
            ((struct rec_call *)c->ud)->sip = c;
    }
    struct rec_call *rc = c ? c->ud : NULL;
    /* media moved, or the dialog ended: its cached flows no longer hold */
    if (rc && (c->state == CALL_ENDED || rc->seen_changes[0] != c->caller_media.changes ||
               rc->seen_changes[1] != c->callee_media.changes)) {
        rec_flows_drop(r->flows, rc);
        rc->seen_changes[0] = c->caller_media.changes;
        rc->seen_changes[1] = c->callee_media.changes;
    }
}

void recorder_udp(struct recorder *r, const struct pkt *p, int64_t ts_us)
{
    if (recorder_is_sip_port(r, p->sport) || recorder_is_sip_port(r, p->dport)) {
        struct sip_msg m;
        if (sip_parse(p->payload, p->payload_len, false, &m) == 0)
            recorder_sip(r, &m, p, ts_us);
        else
            r->counters.bad_sip++;
        return;
    }
    struct rtp_hdr h;
    if (p->sport < 1024 || p->dport < 1024 || rtp_parse(p->payload, p->payload_len, &h))
        return;
    int side, channel, gen;
    const struct sdp_media *media;
    struct rec_flow *f = rec_flow_find(r->flows, p);
    if (f) {
        struct rec_call *rc = rec_flow_call(f, &channel, &media, &gen);
        /* the flow names every line this packet will touch: ask for them
         * together rather than one miss after another */
        int hint = rec_flow_stream(f);
        if (hint >= 0) {
            const char *st = (const char *)&rc->streams[hint];
            for (size_t off = 0; off < offsetof(struct rec_stream, src); off += 64)
                __builtin_prefetch(st + off, 1);
        }
        __builtin_prefetch(&rc->last_rtp_us, 1);
        rtp_packet(r, rc, p, &h, media, gen, channel, ts_us, f);
        return;
    }
    struct sip_call *c = dialogs_match_media(r->dlg, &p->dst, p->dport, &side);
    if (c && c->ud) {
        struct rec_call *rc = c->ud;
        c->last_us = ts_us; /* media keeps the call alive (the tick does it for flows) */
        bool caller_is_customer = recorder_caller_is_customer(rc);
        channel = (side == CALL_FROM_CALLER) == caller_is_customer ? 0 : 1;
        const struct call_media *rx =
            side == CALL_FROM_CALLER ? &c->callee_media : &c->caller_media;
        f = rec_flow_add(r->flows, p, rc, channel, &rx->media, rx->changes);
        rtp_packet(r, rc, p, &h, &rx->media, rx->changes, channel, ts_us, f);
        return;
    }
    struct rec_call *rc = unknown_call(r, p, &channel);
    if (rc)
        rtp_packet(r, rc, p, &h, NULL, 0, channel, ts_us, NULL);
}

/* Hands ended calls to their workers and moves the workers' clock. */
void recorder_tick(struct recorder *r, int64_t now_us, bool final)
{
    rec_pool_clock(r->pool, now_us);
    if (!final && now_us - r->last_sweep_us < SWEEP_US)
        return;
    r->last_sweep_us = now_us;
    /* media keeps a call alive: the fast path leaves that to here */
    for (struct rec_call *rc = r->all; rc; rc = rc->next_all)
        if (rc->sip && rc->last_rtp_us > rc->sip->last_us)
            rc->sip->last_us = rc->last_rtp_us;
    if (final)
        dialogs_end_all(r->dlg);
    struct sip_call *ended[256];
    size_t n;
    while ((n = dialogs_take_ended(r->dlg, now_us, (int64_t)r->o.rtp_timeout_s * 1000000, ended,
                                   ES_ARRAY_LEN(ended))) > 0) {
        for (size_t i = 0; i < n; i++) {
            struct rec_call *rc = ended[i]->ud;
            if (rc) {
                end_call(rc); /* the worker frees the sip_call with the call */
                continue;
            }
            if (ended[i]->state == CALL_ENDED)
                r->counters.dropped_calls++;
            free(ended[i]);
        }
    }
    struct rec_call **pp = &r->unknown;
    while (*pp) {
        struct rec_call *rc = *pp;
        if (final || now_us - rc->last_rtp_us > (int64_t)r->o.rtp_timeout_s * 1000000) {
            *pp = rc->next_unknown;
            end_call(rc);
        } else {
            pp = &rc->next_unknown;
        }
    }
}
