/* RTP headers and RFC 3550 receiver statistics. The definitions follow
 * tshark's "rtp,streams" so the two can be checked against each other:
 * lost = expected - received (negative when duplicates arrive), jitter is
 * the running RFC 3550 estimate in ms with each packet's own clock, deltas
 * are arrival gaps; extremes and means leave out marked packets, comfort
 * noise and the packet after it, and packets out of timestamp order, and the
 * means are the running ones tshark keeps. */
#include "recorder/recorder.h"

#include <math.h>
#include <string.h>

int rtp_parse(const uint8_t *p, size_t len, struct rtp_hdr *h)
{
    if (len < 12 || p[0] >> 6 != 2)
        return ES_EFORMAT;
    uint8_t pt = p[1] & 0x7f;
    if (pt >= 72 && pt <= 76) /* RTCP sender/receiver reports share the port pair rules */
        return ES_EFORMAT;
    size_t off = 12 + (size_t)(p[0] & 15) * 4;
    if (off > len)
        return ES_EFORMAT;
    if (p[0] & 0x10) { /* header extension */
        if (off + 4 > len)
            return ES_EFORMAT;
        size_t ext = 4 + (size_t)(p[off + 2] << 8 | p[off + 3]) * 4;
        if (off + ext > len)
            return ES_EFORMAT;
        off += ext;
    }
    size_t end = len;
    if (p[0] & 0x20) { /* padding: the last byte says how much */
        size_t pad = p[len - 1];
        if (pad == 0 || pad > len - off)
            return ES_EFORMAT;
        end -= pad;
    }
    h->pt = pt;
    h->marker = (p[1] & 0x80) != 0;
    h->seq = (uint16_t)(p[2] << 8 | p[3]);
    h->ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    h->ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
    h->payload = p + off;
    h->payload_len = end - off;
    return 0;
}

static const struct {
    uint8_t pt;
    int clock;
    const char *name;
} static_pts[] = {
    /* RFC 3551's names, as SDP writes them; 2 is G.721, which became G726-32,
     * and 10/11 are L16 at 44.1 kHz, stereo and mono */
    {0, 8000, "PCMU"}, {2, 8000, "G726-32"}, {3, 8000, "GSM"},   {4, 8000, "G723"},
    {8, 8000, "PCMA"}, {9, 8000, "G722"},    {10, 44100, "L16"}, {11, 44100, "L16"},
    {13, 8000, "CN"},  {15, 8000, "G728"},   {18, 8000, "G729"},
};

int rtp_static_clock(uint8_t pt)
{
    for (size_t i = 0; i < ES_ARRAY_LEN(static_pts); i++)
        if (static_pts[i].pt == pt)
            return static_pts[i].clock;
    return 0;
}

const char *rtp_static_name(uint8_t pt)
{
    for (size_t i = 0; i < ES_ARRAY_LEN(static_pts); i++)
        if (static_pts[i].pt == pt)
            return static_pts[i].name;
    return NULL;
}

void rtp_stats_init(struct rtp_stats *s, int clock)
{
    memset(s, 0, sizeof *s);
    s->clock = clock;
}

static bool is_cn(uint8_t pt)
{
    return pt == 13 || pt == 19; /* RFC 3389 comfort noise, and its old number */
}

void rtp_stats_add(struct rtp_stats *s, const struct rtp_hdr *h, int clock, double arrival_ms)
{
    s->packets++;
    size_t bit = h->seq % RTP_SEEN_WINDOW;
    uint16_t behind = (uint16_t)(s->max_seq - h->seq);
    /* a number far behind the newest has left the window: not a known duplicate */
    int dup = s->started && behind < RTP_SEEN_WINDOW && (s->seen[bit >> 3] >> (bit & 7) & 1);
    if (!s->started) {
        s->started = true;
        s->first_seq = s->max_seq = h->seq;
        s->first_ts = s->last_ts = h->ts;
        s->first_arrival_ms = s->last_arrival_ms = arrival_ms;
        s->seen[bit >> 3] |= (uint8_t)(1u << (bit & 7));
        s->min_delta_ms = -1;
        s->last_pt = h->pt;
        return;
    }
    s->seen[bit >> 3] |= (uint8_t)(1u << (bit & 7));
    uint16_t ahead = (uint16_t)(h->seq - s->max_seq);
    if (dup) {
        s->duplicates++;
    } else if (ahead != 0 && ahead < 0x8000) { /* in order, maybe after a gap */
        if (h->seq < s->max_seq)
            s->cycles++;
        /* forget the numbers skipped over: their bits may hold an older lap */
        uint16_t span = ES_MIN(ahead, (uint16_t)RTP_SEEN_WINDOW);
        for (uint16_t k = 1; k < span; k++) {
            size_t q = (uint16_t)(h->seq - k) % RTP_SEEN_WINDOW;
            s->seen[q >> 3] &= (uint8_t) ~(1u << (q & 7));
        }
        s->max_seq = h->seq;
    } else {
        s->out_of_order++;
    }

    /* Packets whose timestamp is not before the stream's first are "in time";
     * only they move the clock of the delay and jitter figures. A packet
     * without a clock (unknown type, telephone-event) moves the arrival time
     * but not the nominal time, as tshark does. */
    bool in_time = (int32_t)(h->ts - s->first_ts) >= 0;
    if (in_time) {
        if (clock > 0) {                  /* RFC 3550 jitter, with the packet's own clock */
            if (clock != s->tick_clock) { /* a multiplication a packet, not a division */
                s->tick_clock = clock;
                s->ms_per_tick = 1000.0 / clock;
            }
            double nominal = (double)(uint32_t)(h->ts - s->first_ts) * s->ms_per_tick;
            double d = fabs(arrival_ms - (s->last_arrival_ms + nominal - s->last_nominal_ms));
            s->jitter_ms = (15.0 * s->jitter_ms + d) / 16.0;
            s->last_nominal_ms = nominal;
        }
        s->delta_ms = arrival_ms - s->last_arrival_ms;
        s->last_arrival_ms = arrival_ms;
        s->last_ts = h->ts;
    }
    /* Minimum, maximum and mean take regular packets only: not a marked
     * talkspurt start, not comfort noise or the packet after it (silence
     * suppression is no delay), not from before the stream's first */
    bool regular = !h->marker && !is_cn(h->pt) && !is_cn(s->last_pt) && in_time;
    /* tshark's means divide by every packet so far, regular or not; while
     * all were regular that is a plain average, kept as a sum (no division
     * a packet), and only the first irregular packet turns it into the
     * running form */
    uint64_t n = s->packets - 1; /* packets before this one */
    if (regular) {
        if (s->min_delta_ms < 0 || s->delta_ms < s->min_delta_ms)
            s->min_delta_ms = s->delta_ms;
        if (s->delta_ms > s->max_delta_ms)
            s->max_delta_ms = s->delta_ms;
        if (s->mixed_delta)
            s->acc_delta = (s->acc_delta * (double)(n - 1) + s->delta_ms) / (double)n;
        else
            s->acc_delta += s->delta_ms; /* a sum until mixed */
    } else if (!s->mixed_delta) {
        s->acc_delta = n > 1 ? s->acc_delta / (double)(n - 1) : 0;
        s->mixed_delta = true;
    }
    if (regular && clock > 0) {
        if (s->jitter_ms > s->max_jitter_ms)
            s->max_jitter_ms = s->jitter_ms;
        if (s->mixed_jitter)
            s->acc_jitter = (s->acc_jitter * (double)(n - 1) + s->jitter_ms) / (double)n;
        else
            s->acc_jitter += s->jitter_ms;
    } else if (!s->mixed_jitter) {
        s->acc_jitter = n > 1 ? s->acc_jitter / (double)(n - 1) : 0;
        s->mixed_jitter = true;
    }
    s->last_pt = h->pt;
}

void rtp_stats_end(struct rtp_stats *s)
{
    if (!s->started)
        return;
    s->expected = (int64_t)s->cycles * 65536 + s->max_seq - s->first_seq + 1;
    s->lost = s->expected - (int64_t)s->packets;
    if (s->min_delta_ms < 0)
        s->min_delta_ms = 0;
    /* still plain sums: the averages over the packets' deltas */
    double deltas = s->packets > 1 ? (double)(s->packets - 1) : 1;
    s->mean_delta_ms = s->mixed_delta ? s->acc_delta : s->acc_delta / deltas;
    s->mean_jitter_ms = s->mixed_jitter ? s->acc_jitter : s->acc_jitter / deltas;
}
