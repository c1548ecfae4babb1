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

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SWEEP_US 200000 /* how often calls are drained and checked for their end */

static const char dtmf_chars[] = "0123456789*#ABCD";

static struct rec_call *rec_call_new(struct recorder *r)
{
    struct rec_call *rc = calloc(1, sizeof *rc);
    if (rc) {
        rc->r = r;
        rc->caller_is_customer = -1;
        rc->next_all = r->all;
        if (r->all)
            r->all->prev_all = rc;
        r->all = rc;
        r->active++;
    }
    return rc;
}

static void rec_call_free(struct rec_call *rc)
{
    if (!rc)
        return;
    mixer_free(rc->mix);
    archive_writer_free(rc->aw);
    for (int i = 0; i < 2; i++)
        rtp_decoder_free(rc->dec[i]);
    if (rc->prev_all)
        rc->prev_all->next_all = rc->next_all;
    else
        rc->r->all = rc->next_all;
    if (rc->next_all)
        rc->next_all->prev_all = rc->prev_all;
    rc->r->active--;
    free(rc);
}

static int emit_to_writer(void *ud, const float *pcm, size_t frames)
{
    struct rec_call *rc = ud;
    struct es_err err = {{0}};
    int rc2 = archive_writer_write(rc->aw, pcm, frames, &err);
    if (rc2 && !rc->error[0])
        snprintf(rc->error, sizeof rc->error, "%.250s", err.msg);
    return rc2;
}

static struct rec_stream *stream_of(struct rec_call *rc, const struct pkt *p, uint32_t ssrc,
                                    uint8_t pt, int clock, const char *codec, int channel)
{
    for (int i = 0; i < rc->nstreams; i++) {
        struct rec_stream *s = &rc->streams[i];
        if (s->ssrc == ssrc && s->sport == p->sport && s->dport == p->dport &&
            !memcmp(&s->src, &p->src, sizeof p->src))
            return s;
    }
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

/* Decodes one audio payload onto the call's timeline, opening the writer on
 * the first one. */
static void audio(struct recorder *r, struct rec_call *rc, const struct rtp_hdr *h,
                  const struct sdp_rtpmap *map, int channel, int64_t ts_us)
{
    if (r->o.no_audio || rc->error[0])
        return;
    struct es_err err = {{0}};
    if (!rc->dec[channel] || rc->dec_pt[channel] != h->pt) {
        rtp_decoder_free(rc->dec[channel]);
        rc->dec[channel] = NULL;
        if (rtp_decoder_new(map->name, map->clock, &rc->dec[channel], &err)) {
            snprintf(rc->undecodable, sizeof rc->undecodable, "%.150s", err.msg);
            return;
        }
        rc->dec_pt[channel] = h->pt;
    }
    if (!rc->mix) {
        int rate = ES_MIN(rtp_decoder_rate(rc->dec[channel]), 16000);
        if (mixer_new(rate, r->o.latency_ms, &rc->mix))
            return;
        rc->first_audio_us = ts_us;
        rc->rate = rate;
    }
    if (!rc->aw) {
        struct archive_format f = {
            .rate = rc->rate, .channels = 2, .source_rate = rc->rate, .frames_hint = -1};
        recorder_fill_call(rc, &rc->call);
        if (archive_writer_open(r->sess, &rc->call, &f, &rc->aw, &err)) {
            snprintf(rc->error, sizeof rc->error, "%.250s", err.msg);
            return;
        }
    }
    static __thread int16_t pcm[16384];
    long n = rtp_decoder_run(rc->dec[channel], h->payload, h->payload_len, pcm, ES_ARRAY_LEN(pcm));
    if (n <= 0)
        return;
    mixer_put(rc->mix, channel, ts_us, h->ssrc, h->seq, h->ts, map->clock, pcm, (size_t)n,
              rtp_decoder_rate(rc->dec[channel]), emit_to_writer, rc);
}

static void rtp_packet(struct recorder *r, struct rec_call *rc, const struct pkt *p,
                       const struct rtp_hdr *h, const struct sdp_media *media, int channel,
                       int64_t ts_us)
{
    struct sdp_rtpmap scratch;
    const struct sdp_rtpmap *map = media ? sdp_rtpmap_of(media, h->pt, &scratch) : NULL;
    if (!map && rtp_static_name(h->pt)) {
        struct sdp_media none = {0};
        map = sdp_rtpmap_of(&none, h->pt, &scratch);
    }
    /* no SDP seen: a dynamic type carrying 4-byte RFC 4733 events is DTMF */
    if (!map && !media && h->pt >= 96 && h->payload_len == 4 && h->payload[0] <= 15) {
        memset(&scratch, 0, sizeof scratch);
        scratch.pt = h->pt;
        snprintf(scratch.name, sizeof scratch.name, "telephone-event");
        scratch.clock = 8000;
        map = &scratch;
    }
    const char *codec = map ? map->name : "unknown";
    struct rec_stream *s = stream_of(rc, p, h->ssrc, h->pt, map ? map->clock : 0, codec, channel);
    if (s)
        rtp_stats_add(&s->st, h, (double)ts_us / 1000.0);
    if (!rc->first_rtp_us)
        rc->first_rtp_us = ts_us;
    rc->last_rtp_us = ts_us;
    r->counters.rtp_packets++;
    if (!map) {
        snprintf(rc->undecodable, sizeof rc->undecodable, "payload type %u has no codec", h->pt);
        return;
    }
    if (!strcasecmp(map->name, "telephone-event")) {
        dtmf(rc, h, channel, map->clock, ts_us);
        return;
    }
    if (!strcasecmp(map->name, "CN") || h->pt == 13)
        return; /* comfort noise: the gap stays silent */
    note_codec(rc, map->name);
    audio(r, rc, h, map, channel, ts_us);
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
    int side;
    struct sip_call *c = dialogs_match_media(r->dlg, &p->dst, p->dport, &side);
    if (c && c->ud) {
        struct rec_call *rc = c->ud;
        c->last_us = ts_us; /* media keeps the call alive */
        bool caller_is_customer = recorder_caller_is_customer(rc);
        int channel = (side == CALL_FROM_CALLER) == caller_is_customer ? 0 : 1;
        const struct call_media *rx =
            side == CALL_FROM_CALLER ? &c->callee_media : &c->caller_media;
        rtp_packet(r, rc, p, &h, &rx->media, channel, ts_us);
        return;
    }
    int channel;
    struct rec_call *rc = unknown_call(r, p, &channel);
    if (rc)
        rtp_packet(r, rc, p, &h, NULL, channel, ts_us);
}

/* Drains every call's mixer up to the latency and ends the calls that are over. */
void recorder_tick(struct recorder *r, int64_t now_us, bool final)
{
    if (!final && now_us - r->last_sweep_us < SWEEP_US)
        return;
    r->last_sweep_us = now_us;
    if (final)
        dialogs_end_all(r->dlg);
    struct sip_call *ended[256];
    size_t n;
    while ((n = dialogs_take_ended(r->dlg, now_us, (int64_t)r->o.rtp_timeout_s * 1000000, ended,
                                   ES_ARRAY_LEN(ended))) > 0) {
        for (size_t i = 0; i < n; i++) {
            struct rec_call *rc = ended[i]->ud;
            if (rc) {
                recorder_finish_call(r, rc);
                rec_call_free(rc);
            } else if (ended[i]->state == CALL_ENDED) {
                r->counters.dropped_calls++;
            }
            free(ended[i]);
        }
    }
    struct rec_call **pp = &r->unknown;
    while (*pp) {
        struct rec_call *rc = *pp;
        if (final || now_us - rc->last_rtp_us > (int64_t)r->o.rtp_timeout_s * 1000000) {
            *pp = rc->next_unknown;
            recorder_finish_call(r, rc);
            rec_call_free(rc);
        } else {
            pp = &rc->next_unknown;
        }
    }
    /* SIP calls that carry audio keep their mixers moving too */
    recorder_drain_all(r, now_us);
}

void recorder_drain_all(struct recorder *r, int64_t now_us)
{
    for (struct rec_call *rc = r->all; rc; rc = rc->next_all)
        if (rc->mix && rc->aw && !rc->error[0])
            mixer_drain(rc->mix, now_us, false, emit_to_writer, rc);
}

void recorder_flush_call(struct rec_call *rc)
{
    if (rc->mix && rc->aw && !rc->error[0])
        mixer_drain(rc->mix, 0, true, emit_to_writer, rc);
}

void recorder_release_call(struct rec_call *rc)
{
    rec_call_free(rc);
}
