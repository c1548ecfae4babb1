/* The recorder pipeline: packets in, calls out.
 *
 * SIP goes to the dialog tracker; RTP is matched to its call and side through
 * the SDP endpoints (or, with no SIP seen, grouped into an "unknown" call by
 * its address pair), counted into per-stream statistics, decoded and placed on
 * the call's stereo timeline, which streams into the archive writer while the
 * call goes on. DTMF events become markers. When a call ends (BYE, final
 * error, CANCEL, RTP silence, session expiry, end of input) it is committed:
 * answered calls with their recording, missed calls as a row with the reason.
 * Capture time drives everything, so files and live capture behave alike.
 *
 * One conversation is one call, and every stream lives in exactly one call:
 * - an ended call lingers (opts.linger_ms) so packets sent before the BYE
 *   that arrive after it are still its own;
 * - the same packets seen again on other addresses (NAT on a router capture,
 *   a media relay, a mirror of both sides) are recognised by SSRC and
 *   sequence, and counted as copies in the call they belong to, never mixed
 *   and never a call of their own;
 * - RTP that began before the SDP naming it (early media, an answer seen
 *   late) is taken over by the SIP call from the unknown call it started;
 * - an RTP-only burst shorter than opts.min_unknown_ms is stray RTP
 *   (ringback to a port no SDP names, a last packet after a timeout), not a
 *   call: counted, never archived. */
#include "recorder/record_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* ---- the SSRC index: the streams of active calls ------------------------ */

static struct rec_stream **ssrc_slot(struct recorder *r, uint32_t ssrc)
{
    return &r->ssrc_index[(ssrc * 2654435761u) >> 20]; /* 4096 buckets */
}

static void ssrc_link(struct recorder *r, struct rec_call *rc, struct rec_stream *s)
{
    struct rec_stream **b = ssrc_slot(r, s->ssrc);
    s->owner = rc;
    s->ssrc_next = *b;
    *b = s;
}

static void ssrc_unlink_call(struct recorder *r, struct rec_call *rc)
{
    for (int i = 0; i < rc->nstreams; i++) {
        struct rec_stream *s = &rc->streams[i];
        for (struct rec_stream **pp = ssrc_slot(r, s->ssrc); *pp; pp = &(*pp)->ssrc_next)
            if (*pp == s) {
                *pp = s->ssrc_next;
                break;
            }
        s->ssrc_next = NULL;
    }
}

/* An original stream of an active call carrying these very packets: the same
 * SSRC and payload type, recent, and this packet's sequence number already
 * reached by it. A stream moved to new addresses (re-INVITE) goes on with
 * newer numbers instead, and stays the same stream. With `leading`, a copy
 * may also run ahead of its original, as long as that still flows (heard
 * from in the last 200 ms): for packets no SDP names, which cannot be a
 * stream the signalling moved. */
static struct rec_stream *ssrc_find(struct recorder *r, const struct rtp_hdr *h,
                                    const struct rec_call *other_than, int64_t ts_us, bool leading)
{
    for (struct rec_stream *s = *ssrc_slot(r, h->ssrc); s; s = s->ssrc_next) {
        if (s->ssrc != h->ssrc || s->owner == other_than || s->copy_of >= 0 || !s->st.packets ||
            s->pt != h->pt)
            continue;
        int16_t d = (int16_t)(h->seq - s->st.max_seq);
        double idle_ms = (double)ts_us / 1000.0 - s->st.last_arrival_ms;
        if (d > -512 && d <= 0 && idle_ms < 5000.0)
            return s;
        if (leading && d > 0 && d < 512 && idle_ms < 200.0)
            return s;
    }
    return NULL;
}

/* The call is over: its worker commits it (or, for a discarded one, only
 * frees it, removing any file it began). */
static void end_call(struct rec_call *rc)
{
    ssrc_unlink_call(rc->r, rc);
    rec_flows_drop(rc->r->flows, rc);
    rec_call_detach(rc);
    /* a call let go that its worker never heard of (an evicted scanner's
     * INVITE) is freed here: queued behind a busy worker's audio, hundreds of
     * thousands of them would hold gigabytes */
    if (rc->discard && !rc->worker_knows) {
        rec_call_destroy(rc);
        return;
    }
    rec_send_finish(rc);
}

static void unlink_unknown(struct recorder *r, struct rec_call *rc)
{
    for (struct rec_call **pp = &r->unknown; *pp; pp = &(*pp)->next_unknown)
        if (*pp == rc) {
            *pp = rc->next_unknown;
            break;
        }
    rc->next_unknown = NULL;
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
    memset(s, 0, sizeof *s);
    s->copy_of = -1;
    s->ssrc = ssrc;
    ssrc_link(rc->r, rc, s);
    s->src = p->src;
    s->dst = p->dst;
    s->sport = p->sport;
    s->dport = p->dport;
    s->pt = pt;
    s->channel = channel;
    s->cache_pt = -1;
    rtp_codec_name(codec, s->codec, sizeof s->codec);
    rtp_stats_init(&s->st, clock);
    return s;
}

static void note_codec(struct rec_call *rc, const char *written)
{
    char name[24];
    rtp_codec_name(written, name, sizeof name);
    for (int i = 0; i < rc->ncodecs; i++)
        if (!strcasecmp(rc->codecs[i], name))
            return;
    if (rc->ncodecs < (int)ES_ARRAY_LEN(rc->codecs))
        snprintf(rc->codecs[rc->ncodecs++], sizeof rc->codecs[0], "%s", name);
}

/* RFC 4733 telephone-event: one marker per event, taken from its first end
 * packet (the end packets are sent three times). While the call is paused no
 * digit is kept. */
static void dtmf(struct rec_call *rc, const struct rtp_hdr *h, int channel, int clock,
                 int64_t ts_us)
{
    if (h->payload_len < 4)
        return;
    uint8_t ev = h->payload[0];
    bool end = (h->payload[1] & 0x80) != 0;
    unsigned dur = (unsigned)(h->payload[2] << 8 | h->payload[3]);
    int ch = channel ? 1 : 0;
    if (!rc->dtmf_ev_seen[ch] || rc->dtmf_ev_ts[ch] != h->ts) { /* a new event */
        rc->dtmf_ev_seen[ch] = true;
        rc->dtmf_ev_ts[ch] = h->ts;
        bool was = rc->paused;
        if (ch == 1 && ev <= 15)
            rec_pci_digit(rc, dtmf_chars[ev], ts_us);
        /* dropped: every digit of a pause, and the one that began or ended it */
        rc->dtmf_ev_dropped[ch] = was || rc->paused;
    }
    if (rc->dtmf_ev_dropped[ch])
        return;
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
    rc->worker_knows = true;
    if (rc->sent_pt[channel] != h->pt || rc->sent_gen[channel] != gen) {
        if (!rec_send_codec(rc, channel, &s->cache_map)) {
            r->counters.audio_dropped++;
            rc->overload_dropped++;
            return;
        }
        rc->sent_pt[channel] = h->pt;
        rc->sent_gen[channel] = gen;
    }
    if (!rec_send_audio(rc, channel, h, ts_us, rc->paused)) {
        r->counters.audio_dropped++;
        rc->overload_dropped++;
    }
}

/* A stream for packets of this call seen again on p's addresses: it takes
 * the side and codec of the original with the same SSRC, if there is one. */
static struct rec_stream *copy_stream(struct rec_call *rc, const struct pkt *p,
                                      const struct rtp_hdr *h)
{
    int orig = -1;
    for (int i = 0; i < rc->nstreams && orig < 0; i++)
        if (rc->streams[i].ssrc == h->ssrc && rc->streams[i].copy_of < 0)
            orig = i;
    const struct rec_stream *o = orig >= 0 ? &rc->streams[orig] : NULL;
    const char *name = rtp_static_name(h->pt);
    struct rec_stream *s =
        stream_new(rc, p, h->ssrc, h->pt, o ? o->st.clock : rtp_static_clock(h->pt),
                   o      ? o->codec
                   : name ? name
                          : "unknown",
                   o ? o->channel : 0);
    if (s)
        s->copy_of = (int8_t)(orig >= 0 ? orig : s - rc->streams);
    return s;
}

static void absorb(struct recorder *r, struct rec_call *rc, struct rec_call *u, bool copies);

static void rtp_packet(struct recorder *r, struct rec_call *rc, const struct pkt *p,
                       const struct rtp_hdr *h, const struct sdp_media *media, int gen, int channel,
                       int64_t ts_us, struct rec_flow *flow)
{
    /* the flow already matched addresses and ports: the SSRC decides */
    int hint = flow ? rec_flow_stream(flow) : -1;
    struct rec_stream *s = hint >= 0 && rc->streams[hint].ssrc == h->ssrc
                               ? &rc->streams[hint]
                               : stream_of(rc, p, h->ssrc);
    if (!s && flow && rec_flow_is_copy(flow))
        s = copy_stream(rc, p, h);
    if (s && s->copy_of >= 0) { /* the same audio again: statistics only */
        if (flow)
            rec_flow_set_stream(flow, (int)(s - rc->streams));
        r->counters.rtp_packets++;
        r->counters.copy_rtp_packets++;
        rtp_stats_add(&s->st, h, h->pt == s->pt ? s->st.clock : rtp_static_clock(h->pt),
                      (double)ts_us / 1000.0);
        return;
    }
    if (!s && rc->sip) {
        /* these packets may already have been seen on other addresses (NAT,
         * a relay): in this call on the same side, or as an unknown call */
        struct rec_stream *o = ssrc_find(r, h, NULL, ts_us, false);
        if (o && o->owner == rc && o->channel == channel) {
            s = copy_stream(rc, p, h);
            if (s)
                return rtp_packet(r, rc, p, h, media, gen, channel, ts_us, flow);
        } else if (o && !o->owner->sip) {
            absorb(r, rc, o->owner, true);
        }
    }
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
    /* the packet's own clock: none for telephone-event and unknown types */
    int clock = kind == KIND_AUDIO || kind == KIND_CN ? s->cache_map.clock : 0;
    rtp_stats_add(&s->st, h, clock, (double)ts_us / 1000.0);
    if (kind == KIND_DTMF)
        dtmf(rc, h, channel, s->cache_map.clock, ts_us);
    else if (kind == KIND_AUDIO)
        audio(r, rc, h, s, channel, gen, ts_us);
    /* comfort noise: the gap stays silent; no codec: noted above */
}

static bool at_media(const struct call_media *m, const struct pkt_addr *a, uint16_t port)
{
    return m->valid && m->port == port && pkt_addr_eq(&m->addr, a);
}

/* The channel (0 customer, 1 operator) of audio sent by side. */
static int channel_of_side(struct rec_call *rc, int side)
{
    return (side == CALL_FROM_CALLER) == recorder_caller_is_customer(rc) ? 0 : 1;
}

/* The channel of a stream between a and b in a SIP call, by which side's
 * SDP names either end; -1 if neither does. */
static int sip_channel(struct rec_call *rc, const struct rec_stream *s)
{
    const struct sip_call *c = rc->sip;
    int side = -1;
    if (at_media(&c->caller_media, &s->dst, s->dport) ||
        at_media(&c->callee_media, &s->src, s->sport))
        side = CALL_FROM_CALLEE;
    else if (at_media(&c->callee_media, &s->dst, s->dport) ||
             at_media(&c->caller_media, &s->src, s->sport))
        side = CALL_FROM_CALLER;
    return side < 0 ? -1 : channel_of_side(rc, side);
}

/* The SIP call rc takes over the streams of the unknown call u: as its own
 * (u's RTP began before the SDP naming it was seen) or as copies (u was the
 * call's packets seen on other addresses). u is discarded: the audio it got
 * before this moment is not in the recording, its statistics are. */
static void absorb(struct recorder *r, struct rec_call *rc, struct rec_call *u, bool copies)
{
    rec_flows_drop(r->flows, u);
    ssrc_unlink_call(r, u);
    int first = rc->nstreams;
    for (int i = 0; i < u->nstreams && rc->nstreams < REC_MAX_STREAMS; i++) {
        struct rec_stream *s = &rc->streams[rc->nstreams];
        *s = u->streams[i];
        s->cache_pt = -1; /* resolve again against this call's SDP */
        int ch = copies ? -1 : sip_channel(rc, s);
        if (ch < 0) {
            r->counters.copy_rtp_packets += s->st.packets;
            s->copy_of = (int8_t)rc->nstreams;
            for (int j = 0; j < rc->nstreams; j++)
                if (rc->streams[j].ssrc == s->ssrc && rc->streams[j].copy_of < 0) {
                    s->copy_of = (int8_t)j;
                    s->channel = rc->streams[j].channel;
                    break;
                }
        } else {
            s->channel = ch;
        }
        rc->nstreams++;
        ssrc_link(r, rc, s);
    }
    /* copies go on arriving on their own addresses, maybe ahead of the
     * original: their flows now lead to rc (originals find their way through
     * the SDP on the next packet) */
    for (int i = first; i < rc->nstreams; i++) {
        const struct rec_stream *s = &rc->streams[i];
        if (s->copy_of < 0)
            continue;
        struct pkt k = {.src = s->src, .dst = s->dst, .sport = s->sport, .dport = s->dport};
        struct rec_flow *f = rec_flow_add(r->flows, &k, rc, s->channel, NULL, 0);
        if (f) {
            rec_flow_set_copy(f);
            rec_flow_set_stream(f, i);
        }
    }
    u->nstreams = 0;
    unlink_unknown(r, u);
    u->discard = true;
    end_call(u);
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
        r->counters.untracked_rtp_packets++; /* packets, not calls: counted apart */
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

/* Unknown calls whose address pair a SIP call's SDP now names: their RTP
 * began before the SDP was seen (early media, a late answer), so it is the
 * SIP call's own. */
static void take_early_streams(struct recorder *r, struct rec_call *rc)
{
    const struct sip_call *c = rc->sip;
    struct rec_call *u = r->unknown;
    while (u) {
        struct rec_call *next = u->next_unknown;
        if (at_media(&c->caller_media, &u->a, u->pa) || at_media(&c->caller_media, &u->b, u->pb) ||
            at_media(&c->callee_media, &u->a, u->pa) || at_media(&c->callee_media, &u->b, u->pb))
            absorb(r, rc, u, false);
        u = next;
    }
}

static void note_sip_port(struct recorder *r, const struct sip_msg *m, const struct pkt *p)
{
    /* the service's port: where requests go and responses come from */
    uint16_t port = m->is_request ? p->dport : p->sport;
    struct recorder_counters *c = &r->counters;
    for (int i = 0; i < c->nsip_ports_seen; i++)
        if (c->sip_ports_seen[i] == port)
            return;
    if (c->nsip_ports_seen < REC_MAX_SIP_PORTS_SEEN)
        c->sip_ports_seen[c->nsip_ports_seen++] = port;
}

/* Dialogs that gave way to newer ones: never answered, no media, so there is
 * nothing to record; their calls are let go without a row. */
static void let_go_evicted(struct recorder *r)
{
    struct sip_call *ev[64];
    size_t n;
    while ((n = dialogs_take_evicted(r->dlg, ev, ES_ARRAY_LEN(ev))) > 0)
        for (size_t i = 0; i < n; i++) {
            struct rec_call *rc = ev[i]->ud;
            if (!rc) {
                rec_source_attempt(r, &ev[i]->caller_sig, ev[i]->last_us, "evicted", true);
                free(ev[i]);
                continue;
            }
            rec_source_attempt(r, &ev[i]->caller_sig, ev[i]->last_us, "evicted", true);
            rc->discard = true;
            end_call(rc); /* the worker frees the sip_call with the call */
        }
}

/* A rejected attempt (a scanner's, most likely): counted for its source, and
 * catalogued as a row only within the source's allowance for the minute. */
static void note_rejected(struct recorder *r, struct rec_call *rc)
{
    const struct sip_call *c = rc->sip;
    r->counters.calls_rejected++;
    if (!rec_source_attempt(r, &c->caller_sig, c->end_us, c->reason, false))
        rc->discard = true; /* counted, not catalogued: nothing was recorded */
}

void recorder_sip(struct recorder *r, const struct sip_msg *m, const struct pkt *p, int64_t ts_us)
{
    r->counters.sip_messages++;
    note_sip_port(r, m, p);
    struct sip_call *c = dialogs_on_sip(r->dlg, m, p, ts_us);
    let_go_evicted(r);
    if (!c && m->is_request) {
        struct dialogs_stats ds;
        dialogs_stats(r->dlg, &ds);
        if (ds.dropped_full != r->seen_dropped_full) { /* an INVITE the table refused */
            r->seen_dropped_full = ds.dropped_full;
            rec_source_attempt(r, &p->src, ts_us, "table-full", true);
        }
    }
    if (c && !c->ud) {
        c->ud = rec_call_new(r);
        if (c->ud)
            ((struct rec_call *)c->ud)->sip = c;
    }
    struct rec_call *rc = c ? c->ud : NULL;
    /* media moved: its cached flows no longer hold (an ended call keeps them
     * while it lingers) */
    if (rc && (rc->seen_changes[0] != c->caller_media.changes ||
               rc->seen_changes[1] != c->callee_media.changes)) {
        rec_flows_drop(r->flows, rc);
        rc->seen_changes[0] = c->caller_media.changes;
        rc->seen_changes[1] = c->callee_media.changes;
        if (r->unknown)
            take_early_streams(r, rc);
    }
    if (dialogs_preempted(r->dlg) != r->seen_preempted) {
        r->seen_preempted = dialogs_preempted(r->dlg);
        r->last_sweep_us = 0; /* a lingering call gave up its address: end it now */
    }
}

/* RTP matching no SIP call: a copy of an active call's stream, or part of an
 * unknown call (both then cached as flows). */
static void unmatched_rtp(struct recorder *r, const struct pkt *p, const struct rtp_hdr *h,
                          int64_t ts_us)
{
    int channel;
    struct rec_stream *orig = ssrc_find(r, h, NULL, ts_us, true);
    if (orig) {
        struct rec_call *rc = orig->owner;
        struct rec_stream *s = stream_of(rc, p, h->ssrc);
        bool copy = !s || s->copy_of >= 0;
        if (!s && (s = copy_stream(rc, p, h)) == NULL)
            return;
        struct rec_flow *f = rec_flow_add(r->flows, p, rc, s->channel, NULL, 0);
        if (f && copy)
            rec_flow_set_copy(f);
        rtp_packet(r, rc, p, h, NULL, 0, s->channel, ts_us, f);
        return;
    }
    struct rec_call *rc = unknown_call(r, p, &channel);
    if (!rc)
        return;
    struct rec_flow *f = rec_flow_add(r->flows, p, rc, channel, NULL, 0);
    rtp_packet(r, rc, p, h, NULL, 0, channel, ts_us, f);
}

/* Video and T.38 (UDPTL) sent where a call's SDP put them: the call's, but
 * not audio: counted, never parsed as RTP or decoded. */
static bool not_audio(struct recorder *r, const struct pkt *p, int64_t ts_us)
{
    enum sdp_kind kind;
    struct sip_call *c = dialogs_match_extra(r->dlg, &p->dst, p->dport, &kind);
    if (!c || !c->ud)
        return false;
    struct rec_call *rc = c->ud;
    if (kind == SDP_IMAGE)
        rc->t38_packets++;
    else
        rc->video_packets++;
    c->last_us = ts_us; /* a fax or a video keeps the call going */
    return true;
}

void recorder_udp(struct recorder *r, const struct pkt *p, int64_t ts_us)
{
    bool sip;
    if (r->o.nsip_ports)
        sip = recorder_is_sip_port(r, p->sport) || recorder_is_sip_port(r, p->dport);
    else
        sip = p->payload_len && p->payload[0] < 0x80 && sip_looks_like(p->payload, p->payload_len);
    if (sip) {
        struct sip_msg m;
        if (sip_parse(p->payload, p->payload_len, false, &m) == 0)
            recorder_sip(r, &m, p, ts_us);
        else
            r->counters.bad_sip++;
        return;
    }
    if (p->sport < 1024 || p->dport < 1024)
        return;
    struct rec_flow *f = rec_flow_find(r->flows, p);
    if (!f && not_audio(r, p, ts_us))
        return;
    struct rtp_hdr h;
    if (rtp_parse(p->payload, p->payload_len, &h))
        return;
    int side, channel, gen;
    const struct sdp_media *media;
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
        c->last_us = ts_us;       /* media keeps the call alive (the tick does it for flows) */
        dialogs_heard(r->dlg, c); /* and is never evicted for a newcomer */
        channel = channel_of_side(rc, side);
        const struct call_media *rx =
            side == CALL_FROM_CALLER ? &c->callee_media : &c->caller_media;
        f = rec_flow_add(r->flows, p, rc, channel, &rx->media, rx->changes);
        rtp_packet(r, rc, p, &h, &rx->media, rx->changes, channel, ts_us, f);
        return;
    }
    unmatched_rtp(r, p, &h, ts_us);
}

static uint64_t call_packets(const struct rec_call *rc)
{
    uint64_t n = 0;
    for (int i = 0; i < rc->nstreams; i++)
        n += rc->streams[i].st.packets;
    return n;
}

/* An unknown call too short to be a call: its packets are stray RTP, noted on
 * the SIP call whose hosts they went to or came from, if there is one. */
static bool stray(struct recorder *r, struct rec_call *u)
{
    if (r->o.min_unknown_ms < 0 ||
        u->last_rtp_us - u->first_rtp_us >= (int64_t)r->o.min_unknown_ms * 1000)
        return false;
    uint64_t n = call_packets(u);
    r->counters.stray_rtp_packets += n;
    for (struct rec_call *rc = r->all; rc; rc = rc->next_all) {
        const struct sip_call *c = rc->sip;
        if (!c)
            continue;
        const struct pkt_addr *hosts[] = {&c->caller_media.addr, &c->callee_media.addr,
                                          &c->caller_sig};
        for (size_t i = 0; i < ES_ARRAY_LEN(hosts); i++)
            if (pkt_addr_eq(hosts[i], &u->a) || pkt_addr_eq(hosts[i], &u->b)) {
                rc->stray_rtp_packets += n;
                return true;
            }
    }
    return true;
}

/* Hands ended calls to their workers and moves the workers' clock. */
void recorder_tick(struct recorder *r, int64_t now_us, bool final)
{
    rec_pool_clock(r->pool, now_us);
    recorder_sweep(r, now_us, final);
}

#define FULL_QUIET_US (60LL * 1000000) /* a minute without drops ends an episode */

/* A full call table is raised once per episode (a warning with the limit),
 * and its end summed up, so a flood never goes by silently nor floods the
 * log itself. */
static void watch_full_table(struct recorder *r, int64_t now_us, bool final)
{
    struct dialogs_stats ds;
    dialogs_stats(r->dlg, &ds);
    uint64_t seen = ds.dropped_full + ds.evicted;
    if (seen != r->full_seen) {
        if (!r->full_episode) {
            r->full_episode = true;
            r->full_since_us = now_us;
            r->full_base = r->full_seen;
            ES_WARN("record",
                    "call table full (%zu calls): new dialogs replace unanswered ones, calls "
                    "being handled are kept; what cannot be tracked is counted as dropped",
                    r->o.max_calls);
        }
        r->full_seen = seen;
        r->full_last_us = now_us;
    } else if (r->full_episode && (final || now_us - r->full_last_us > FULL_QUIET_US)) {
        r->full_episode = false;
        ES_INFO("record", "call table has room again: dropped_or_evicted=%llu over %lld s",
                (unsigned long long)(seen - r->full_base),
                (long long)((r->full_last_us - r->full_since_us) / 1000000));
    }
}

/* Ends the calls whose time is up at now_us: run before a packet of that time
 * is matched, so it cannot land in a call that is already over. */
void recorder_sweep(struct recorder *r, int64_t now_us, bool final)
{
    if (!final && now_us - r->last_sweep_us < REC_SWEEP_US)
        return;
    r->last_sweep_us = now_us;
    watch_full_table(r, now_us, final);
    /* media keeps a call alive: the fast path leaves that to here */
    for (struct rec_call *rc = r->all; rc; rc = rc->next_all)
        if (rc->sip && rc->last_rtp_us > rc->sip->last_us)
            rc->sip->last_us = rc->last_rtp_us;
    /* unknown calls first: a stray burst is noted on the SIP call still open */
    struct rec_call **pp = &r->unknown;
    while (*pp) {
        struct rec_call *rc = *pp;
        if (final || now_us - rc->last_rtp_us > (int64_t)r->o.rtp_timeout_s * 1000000) {
            *pp = rc->next_unknown;
            rc->next_unknown = NULL;
            rc->discard = stray(r, rc);
            end_call(rc);
        } else {
            pp = &rc->next_unknown;
        }
    }
    if (final)
        dialogs_end_all(r->dlg);
    struct sip_call *ended[256];
    size_t n;
    int64_t linger = final ? 0 : (int64_t)r->o.linger_ms * 1000;
    while ((n = dialogs_take_ended(r->dlg, now_us, (int64_t)r->o.rtp_timeout_s * 1000000, linger,
                                   ended, ES_ARRAY_LEN(ended))) > 0) {
        for (size_t i = 0; i < n; i++) {
            struct rec_call *rc = ended[i]->ud;
            if (rc) {
                if (!strcmp(ended[i]->disposition, "rejected"))
                    note_rejected(r, rc);
                end_call(rc); /* the worker frees the sip_call with the call */
                continue;
            }
            if (ended[i]->state == CALL_ENDED)
                r->counters.dropped_calls++;
            free(ended[i]);
        }
    }
    rec_sources_flush(r, now_us, final);
}
