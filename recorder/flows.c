/* The flow cache: the RTP fast path.
 *
 * Finding a packet's call through the dialogs' media index walks into the
 * SIP call and the recorder's call, several cache lines each, for every
 * packet. A flow (source and destination address and port) keeps what that
 * lookup found, and the stream it last fed, in one 64-byte entry of an
 * open-addressed table with linear probing, so the common packet touches one
 * line before its stream's statistics.
 *
 * An entry is only a shortcut: a call's flows are dropped whenever its SDP
 * changes, when its dialog ends, and when the call is handed to its worker,
 * so an entry never outlives what it points to. Unknown calls (no SIP) are
 * cached too; a SIP call whose SDP names one of their addresses takes their
 * streams over (record.c), dropping their flows first. */
#include "recorder/record_int.h"

#include <stdlib.h>
#include <string.h>

struct rec_flow {
    uint8_t used, channel;
    int8_t stream; /* index into rc->streams of the last packet, -1 none */
    uint8_t copy;  /* the call's packets seen again on other addresses */
    struct rec_flow_key k;
    int32_t gen;
    struct rec_call *rc;
    const struct sdp_media *media;
};

struct rec_flows {
    struct rec_flow *t;
    size_t cap, n; /* cap: a power of two */
};

static uint32_t flow_hash(const struct pkt *p)
{
    /* the low address bytes and the ports tell flows apart well enough */
    uint32_t a, b;
    int off = p->src.family == 6 ? 12 : 0;
    memcpy(&a, p->src.a + off, 4);
    memcpy(&b, p->dst.a + off, 4);
    uint64_t h = ((uint64_t)a * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)b * 0xC2B2AE3D27D4EB4Full) ^
                 ((uint64_t)p->sport << 16 | p->dport) * 0x165667B19E3779F9ull;
    return (uint32_t)(h >> 32);
}

static bool same(const struct rec_flow *f, const struct pkt *p)
{
    return f->k.sport == p->sport && f->k.dport == p->dport && f->k.family == p->src.family &&
           !memcmp(f->k.src, p->src.a, 16) && !memcmp(f->k.dst, p->dst.a, 16);
}

static void key_of(const struct pkt *p, struct rec_flow_key *k)
{
    k->family = p->src.family;
    k->sport = p->sport;
    k->dport = p->dport;
    memcpy(k->src, p->src.a, 16);
    memcpy(k->dst, p->dst.a, 16);
}

/* The addresses and ports of a key, as a packet the lookups take. */
static struct pkt pkt_of(const struct rec_flow_key *k)
{
    struct pkt p = {.sport = k->sport, .dport = k->dport};
    p.src.family = p.dst.family = k->family;
    memcpy(p.src.a, k->src, 16);
    memcpy(p.dst.a, k->dst, 16);
    return p;
}

int rec_flows_new(struct rec_flows **out)
{
    struct rec_flows *fl = calloc(1, sizeof *fl);
    if (fl) {
        fl->cap = 1024;
        fl->t = calloc(fl->cap, sizeof *fl->t);
    }
    if (!fl || !fl->t) {
        rec_flows_free(fl);
        return ES_ENOMEM;
    }
    *out = fl;
    return 0;
}

void rec_flows_free(struct rec_flows *fl)
{
    if (!fl)
        return;
    free(fl->t);
    free(fl);
}

struct rec_flow *rec_flow_find(struct rec_flows *fl, const struct pkt *p)
{
    size_t mask = fl->cap - 1;
    for (size_t i = flow_hash(p) & mask;; i = (i + 1) & mask) {
        struct rec_flow *f = &fl->t[i];
        if (!f->used)
            return NULL;
        if (same(f, p))
            return f;
    }
}

static struct rec_flow *slot_for(struct rec_flow *t, size_t cap, const struct pkt *p)
{
    size_t mask = cap - 1;
    size_t i = flow_hash(p) & mask;
    while (t[i].used && !same(&t[i], p))
        i = (i + 1) & mask;
    return &t[i];
}

static void rehash(struct rec_flows *fl, size_t cap)
{
    struct rec_flow *t = calloc(cap, sizeof *t);
    if (!t)
        return; /* stays as it is: fuller, still correct */
    for (size_t i = 0; i < fl->cap; i++) {
        const struct rec_flow *f = &fl->t[i];
        if (!f->used)
            continue;
        struct pkt k = pkt_of(&f->k);
        *slot_for(t, cap, &k) = *f;
    }
    free(fl->t);
    fl->t = t;
    fl->cap = cap;
}

struct rec_flow *rec_flow_add(struct rec_flows *fl, const struct pkt *p, struct rec_call *rc,
                              int channel, const struct sdp_media *media, int gen)
{
    if ((fl->n + 1) * 2 > fl->cap)
        rehash(fl, fl->cap * 2);
    if ((fl->n + 1) * 4 > fl->cap * 3)
        return NULL; /* could not grow: no shortcut for this one */
    if (rc->nflows == REC_MAX_STREAMS)
        return NULL;
    struct rec_flow *f = slot_for(fl->t, fl->cap, p);
    if (!f->used)
        fl->n++;
    f->used = 1;
    key_of(p, &f->k);
    f->rc = rc;
    f->channel = (uint8_t)channel;
    f->media = media;
    f->gen = gen;
    f->stream = -1;
    f->copy = 0;
    rc->flows[rc->nflows++] = f->k;
    return f;
}

int rec_flow_stream(const struct rec_flow *f)
{
    return f->stream;
}

bool rec_flow_is_copy(const struct rec_flow *f)
{
    return f->copy;
}

void rec_flow_set_copy(struct rec_flow *f)
{
    f->copy = 1;
}

void rec_flow_set_stream(struct rec_flow *f, int stream)
{
    f->stream = (int8_t)stream;
}

struct rec_call *rec_flow_call(const struct rec_flow *f, int *channel,
                               const struct sdp_media **media, int *gen)
{
    *channel = f->channel;
    *media = f->media;
    *gen = f->gen;
    return f->rc;
}

/* Linear-probing deletion: later entries of the cluster move back so that
 * every entry stays reachable from its home slot. */
static void erase(struct rec_flows *fl, size_t i)
{
    size_t mask = fl->cap - 1;
    fl->t[i].used = 0;
    fl->n--;
    for (size_t j = (i + 1) & mask; fl->t[j].used; j = (j + 1) & mask) {
        struct rec_flow *f = &fl->t[j];
        struct pkt k = pkt_of(&f->k);
        size_t home = flow_hash(&k) & mask;
        /* f may move to the hole at i if its home is not in (i, j] cyclically */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            fl->t[i] = *f;
            f->used = 0;
            i = j;
        }
    }
}

void rec_flows_drop(struct rec_flows *fl, struct rec_call *rc)
{
    for (int n = 0; n < rc->nflows; n++) {
        struct pkt p = pkt_of(&rc->flows[n]);
        struct rec_flow *f = rec_flow_find(fl, &p);
        if (f && f->rc == rc)
            erase(fl, (size_t)(f - fl->t));
    }
    rc->nflows = 0;
}
