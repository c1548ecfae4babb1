/* The leg mixer: two sides of a call (0 = customer, 1 = operator) onto one
 * stereo timeline that follows the capture clock.
 *
 * A side's packet lands at the position its RTP timestamp gives, counted from
 * the arrival time of the packet that anchored the side; a new SSRC, or a
 * timestamp that strays more than a second from the arrival time, re-anchors.
 * So jitter and reordering do not move audio, lost packets leave silence, and
 * both channels stay aligned with wall-clock time. Samples wait in a one-second
 * ring per side and are handed out, both channels together, once they are
 * older than the latency; anything arriving after that is counted as late. */
#include "recorder/recorder.h"

#include <stdlib.h>
#include <string.h>

#define RING_MS 500 /* the latency plus generous room for reordering */

struct side {
    bool anchored;
    uint32_t ssrc, base_ts;
    uint16_t max_seq;
    int64_t base_pos; /* timeline sample of base_ts */
    int64_t end;      /* furthest sample written */
    int64_t low;      /* lowest sample written since the side was anchored */
    struct resampler *rs;
    int rs_rate;
    float *ring;
};

struct mixer {
    int rate, latency_ms;
    size_t cap; /* ring length in samples */
    bool started;
    int64_t t0_us;
    int64_t emitted; /* timeline samples already handed out */
    struct side s[2];
    struct mixer_stats st;
    float out[2 * 1024];
};

int mixer_new(int rate, int latency_ms, struct mixer **out)
{
    *out = NULL;
    struct mixer *m = calloc(1, sizeof *m);
    if (!m)
        return ES_ENOMEM;
    m->rate = rate;
    m->latency_ms = latency_ms;
    m->cap = (size_t)rate * RING_MS / 1000;
    for (int i = 0; i < 2; i++) {
        m->s[i].ring = calloc(m->cap, sizeof(float));
        if (!m->s[i].ring) {
            mixer_free(m);
            return ES_ENOMEM;
        }
    }
    *out = m;
    return 0;
}

void mixer_free(struct mixer *m)
{
    if (!m)
        return;
    for (int i = 0; i < 2; i++) {
        free(m->s[i].ring);
        resampler_free(m->s[i].rs);
    }
    free(m);
}

const struct mixer_stats *mixer_stats(const struct mixer *m)
{
    return &m->st;
}

int64_t mixer_position(const struct mixer *m)
{
    return m->emitted;
}

/* The anchor packet was itself delayed: move what this side has written
 * `delta` samples earlier, which is possible while none of it was handed out. */
static bool shift_earlier(struct mixer *m, struct side *s, int side, int64_t delta)
{
    if (s->low - delta < m->emitted || s->end <= s->low)
        return false;
    float *ring = m->s[side].ring;
    int64_t cap = (int64_t)m->cap;
    for (int64_t p = s->low; p < s->end; p++)
        ring[(p - delta) % cap] = ring[p % cap];
    for (int64_t p = ES_MAX(s->end - delta, s->low); p < s->end; p++)
        ring[p % cap] = 0.0f;
    s->low -= delta;
    s->end -= delta;
    s->base_pos -= delta;
    return true;
}

/* Hands out [emitted, upto) as interleaved stereo, clearing the rings. */
static int flush_to(struct mixer *m, int64_t upto, mixer_emit_fn emit, void *ud)
{
    while (m->emitted < upto) {
        size_t at = (size_t)(m->emitted % (int64_t)m->cap);
        size_t n = (size_t)ES_MIN(upto - m->emitted, (int64_t)1024);
        n = ES_MIN(n, m->cap - at);
        for (size_t i = 0; i < n; i++) {
            m->out[2 * i] = m->s[0].ring[at + i];
            m->out[2 * i + 1] = m->s[1].ring[at + i];
        }
        memset(m->s[0].ring + at, 0, n * sizeof(float));
        memset(m->s[1].ring + at, 0, n * sizeof(float));
        int rc = emit(ud, m->out, n);
        if (rc)
            return rc;
        m->emitted += (int64_t)n;
    }
    return 0;
}

static int64_t arrival_pos(const struct mixer *m, int64_t arrival_us)
{
    return (arrival_us - m->t0_us) * m->rate / 1000000;
}

/* Where a packet's first sample goes on the timeline: by its RTP timestamp
 * from the side's anchor, or (a new stream, a timestamp jump) by its
 * arrival, which anchors the side again. */
static int64_t place(struct mixer *m, struct side *s, int side, int64_t arrival_us, uint32_t ssrc,
                     uint16_t seq, uint32_t rtp_ts, int rtp_clock)
{
    int64_t apos = arrival_pos(m, arrival_us);
    int64_t pos = 0;
    bool was_anchored = s->anchored;
    if (s->anchored && s->ssrc == ssrc) {
        pos = s->base_pos + (int64_t)(int32_t)(rtp_ts - s->base_ts) * m->rate / rtp_clock;
        /* A packet behind in sequence is old audio arriving late: its timestamp
         * places it. One ahead in sequence whose timestamp strays a second from
         * the clock is a timestamp jump: trust the clock again. */
        uint16_t ahead = (uint16_t)(seq - s->max_seq);
        if (ahead != 0 && ahead < 0x8000) {
            s->max_seq = seq;
            if (pos > apos + m->rate || pos < apos - m->rate)
                s->anchored = false;
            /* arrived earlier than the anchor predicts: the anchor packet was
             * late, so the least-delayed packet sets the side's position */
            else if (pos - apos > m->rate / 1000 && shift_earlier(m, s, side, pos - apos))
                pos = apos;
        }
    }
    if (!s->anchored || s->ssrc != ssrc) {
        if (was_anchored)
            m->st.resyncs++;
        s->anchored = true;
        s->ssrc = ssrc;
        s->base_ts = rtp_ts;
        s->max_seq = seq;
        s->base_pos = pos = apos;
        s->low = INT64_MAX;
    }
    return pos;
}

/* The packet's samples as floats at the timeline's rate (*src borrowed until
 * the next call); the number of samples, or a negative error. */
static long to_timeline_rate(struct mixer *m, struct side *s, const int16_t *pcm, size_t n,
                             int pcm_rate, const float **src)
{
    static __thread float buf[8192];
    size_t k = ES_MIN(n, ES_ARRAY_LEN(buf));
    for (size_t i = 0; i < k; i++)
        buf[i] = (float)pcm[i] / 32768.0f;
    *src = buf;
    if (pcm_rate == m->rate)
        return (long)k;
    if (!s->rs || s->rs_rate != pcm_rate) {
        resampler_free(s->rs);
        s->rs = NULL;
        if (resampler_new(pcm_rate, m->rate, 1, &s->rs))
            return ES_ECODEC;
        s->rs_rate = pcm_rate;
    }
    return resampler_run(s->rs, buf, k, src);
}

/* Writes len samples at pos into the side's ring: audio older than what was
 * already handed out is late and dropped; audio too far ahead pushes the
 * oldest out first. */
static int write_ring(struct mixer *m, int side, int64_t pos, const float *src, long len,
                      mixer_emit_fn emit, void *ud)
{
    struct side *s = &m->s[side];
    if (pos + len <= m->emitted) {
        m->st.late++;
        return 0;
    }
    if (pos + len > m->emitted + (int64_t)m->cap) {
        int rc = flush_to(m, pos + len - (int64_t)m->cap, emit, ud);
        if (rc)
            return rc;
    }
    for (long i = 0; i < len; i++) {
        int64_t p = pos + i;
        if (p < m->emitted)
            continue;
        s->ring[p % (int64_t)m->cap] = src[i];
    }
    if (pos + len > s->end)
        s->end = pos + len;
    if (pos < s->low)
        s->low = ES_MAX(pos, m->emitted);
    m->st.samples[side] += (uint64_t)len;
    return 0;
}

int mixer_put(struct mixer *m, int side, int64_t arrival_us, uint32_t ssrc, uint16_t seq,
              uint32_t rtp_ts, int rtp_clock, const int16_t *pcm, size_t n, int pcm_rate,
              mixer_emit_fn emit, void *ud)
{
    if (side < 0 || side > 1 || rtp_clock <= 0 || pcm_rate <= 0)
        return ES_EINVAL;
    if (!m->started) {
        m->started = true;
        m->t0_us = arrival_us;
    }
    struct side *s = &m->s[side];
    int64_t pos = place(m, s, side, arrival_us, ssrc, seq, rtp_ts, rtp_clock);
    const float *src;
    long len = to_timeline_rate(m, s, pcm, n, pcm_rate, &src);
    if (len < 0)
        return (int)len;
    return write_ring(m, side, pos, src, len, emit, ud);
}

int mixer_drain(struct mixer *m, int64_t now_us, bool final, mixer_emit_fn emit, void *ud)
{
    if (!m->started)
        return 0;
    /* never past the last audio written: a call that goes quiet does not grow
     * a tail of silence while it waits for its timeout; a gap between packets
     * is handed out as silence once later audio arrives */
    int64_t end = ES_MAX(m->s[0].end, m->s[1].end);
    int64_t upto =
        final ? end : ES_MIN(end, arrival_pos(m, now_us) - (int64_t)m->latency_ms * m->rate / 1000);
    return flush_to(m, upto, emit, ud);
}

int mixer_pad_until(struct mixer *m, int64_t until_us, mixer_emit_fn emit, void *ud)
{
    if (!m->started)
        return 0;
    int64_t end = ES_MAX(m->s[0].end, m->s[1].end), upto = arrival_pos(m, until_us);
    if (upto <= end)
        return 0;
    /* past `end` the ring holds only silence: it is cleared as it is handed out */
    return flush_to(m, upto, emit, ud);
}
