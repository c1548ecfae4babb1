/* SIP over TCP: per-direction byte streams rebuilt from segments in order,
 * cut into messages by Content-Length (several per segment, or one across
 * several). Bounded: TCP_MAX_STREAMS streams at most (found by hash, so
 * every TCP segment can ask whether its stream carries SIP), each buffering
 * at most TCP_MAX_BUFFER bytes; a gap (a segment the capture missed) drops the
 * buffer and resynchronises on the next segment. */
#include "recorder/recorder.h"

#include <stdlib.h>
#include <string.h>

#define TCP_MAX_STREAMS 1024
#define TCP_MAX_BUFFER  (128 * 1024)
#define TCP_IDLE_US     (300LL * 1000000)

struct tcp_stream {
    bool used, synced;
    struct pkt_addr src, dst;
    uint16_t sport, dport;
    uint32_t next_seq;
    int64_t last_us;
    size_t len;
    uint8_t *buf;
};

struct tcp_reasm {
    struct tcp_stream s[TCP_MAX_STREAMS];
    uint64_t gaps, overflows, evicted;
};

int tcp_reasm_new(struct tcp_reasm **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : ES_ENOMEM;
}

void tcp_reasm_free(struct tcp_reasm *t)
{
    if (!t)
        return;
    for (int i = 0; i < TCP_MAX_STREAMS; i++)
        free(t->s[i].buf);
    free(t);
}

#define TCP_PROBE 8 /* a stream lives in one of the 8 slots after its hash */

static bool same_stream(const struct tcp_stream *s, const struct pkt *p)
{
    return s->sport == p->sport && s->dport == p->dport &&
           !memcmp(&s->src, &p->src, sizeof s->src) && !memcmp(&s->dst, &p->dst, sizeof s->dst);
}

static size_t home(const struct pkt *p)
{
    uint32_t h = 2166136261u; /* FNV-1a over the addresses and ports */
    const uint8_t *parts[] = {p->src.a, p->dst.a};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 16; i++)
            h = (h ^ parts[k][i]) * 16777619u;
    h = (h ^ p->sport) * 16777619u;
    h = (h ^ p->dport) * 16777619u;
    return h % TCP_MAX_STREAMS;
}

static struct tcp_stream *lookup(struct tcp_reasm *t, const struct pkt *p)
{
    size_t h = home(p);
    for (int i = 0; i < TCP_PROBE; i++) {
        struct tcp_stream *s = &t->s[(h + (size_t)i) % TCP_MAX_STREAMS];
        if (s->used && same_stream(s, p))
            return s;
    }
    return NULL;
}

bool tcp_reasm_tracks(struct tcp_reasm *t, const struct pkt *p)
{
    return lookup(t, p) != NULL;
}

static bool expired(const struct tcp_stream *s, int64_t ts_us)
{
    return s->used && ts_us - s->last_us > TCP_IDLE_US;
}

static struct tcp_stream *find(struct tcp_reasm *t, const struct pkt *p, int64_t ts_us)
{
    struct tcp_stream *s = lookup(t, p);
    if (s && !expired(s, ts_us))
        return s;
    /* the stream's own slot starts it afresh; else a free slot near home, or
     * the one there idle the longest */
    size_t h = home(p);
    struct tcp_stream *oldest = NULL;
    for (int i = 0; i < TCP_PROBE && !s; i++) {
        struct tcp_stream *c = &t->s[(h + (size_t)i) % TCP_MAX_STREAMS];
        if (!c->used || expired(c, ts_us))
            s = c;
        else if (!oldest || c->last_us < oldest->last_us)
            oldest = c;
    }
    if (!s) {
        s = oldest;
        t->evicted++;
    }
    if (!s->buf && !(s->buf = malloc(TCP_MAX_BUFFER)))
        return NULL;
    s->used = true;
    s->synced = false;
    s->len = 0;
    s->src = p->src;
    s->dst = p->dst;
    s->sport = p->sport;
    s->dport = p->dport;
    return s;
}

void tcp_reasm_add(struct tcp_reasm *t, const struct pkt *p, int64_t ts_us, tcp_msg_fn on_msg,
                   void *ud)
{
    struct tcp_stream *s = find(t, p, ts_us);
    if (!s)
        return;
    s->last_us = ts_us;
    const uint8_t *data = p->payload;
    size_t n = p->payload_len;
    uint32_t seq = p->tcp_seq;
    if (p->tcp_flags & 0x02) { /* SYN takes one sequence number */
        s->synced = true;
        s->next_seq = seq + 1;
        s->len = 0;
        return;
    }
    if (!s->synced) { /* capture began mid-stream: take this segment as a start */
        s->synced = true;
        s->next_seq = seq;
    }
    int32_t d = (int32_t)(seq - s->next_seq);
    if (d < 0) { /* retransmission: keep only what is new */
        if ((size_t)-d >= n)
            return;
        data += -d;
        n -= (size_t)-d;
    } else if (d > 0) { /* the capture missed a segment: start over here */
        t->gaps++;
        s->len = 0;
    }
    s->next_seq = seq + (uint32_t)(d < 0 ? -d : 0) + (uint32_t)n;
    if (s->len + n > TCP_MAX_BUFFER) {
        t->overflows++;
        s->len = 0;
        if (n > TCP_MAX_BUFFER)
            return;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    size_t used = 0;
    while (used < s->len) {
        struct sip_msg m;
        int rc = sip_parse(s->buf + used, s->len - used, true, &m);
        if (rc == ES_EAGAIN)
            break;
        if (rc) { /* not SIP where a message should start: drop and resync */
            used = s->len;
            break;
        }
        struct pkt mp = *p;
        on_msg(ud, &m, &mp);
        used += m.msg_len;
    }
    memmove(s->buf, s->buf + used, s->len - used);
    s->len -= used;
    if (p->tcp_flags & 0x05) /* FIN or RST: the stream is over */
        s->used = false, s->len = 0;
}
