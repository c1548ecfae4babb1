/* IP fragment reassembly for the large SIP messages that fragment (INVITEs
 * with big SDPs over UDP). Bounded: at most REASM_MAX datagrams in flight, each
 * at most 64 KiB, each dropped REASM_TIMEOUT_US after its first fragment;
 * when full, the oldest goes. Overlaps keep the first copy of each byte. */
#include "recorder/recorder.h"

#include <stdlib.h>
#include <string.h>

#define REASM_MAX        64
#define REASM_TIMEOUT_US (5LL * 1000000)
#define REASM_MAX_BYTES  65535

struct datagram {
    bool used;
    struct pkt_addr src, dst;
    uint8_t proto;
    uint32_t id;
    int64_t first_us;
    size_t total; /* known once the last fragment came; 0 before */
    size_t have;  /* bytes received (without overlap) */
    uint8_t data[REASM_MAX_BYTES];
    uint8_t seen[REASM_MAX_BYTES / 8 + 1];
};

struct reasm {
    struct datagram d[REASM_MAX];
    uint64_t completed, expired, evicted, bad;
};

int reasm_new(struct reasm **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : ES_ENOMEM;
}

void reasm_free(struct reasm *r)
{
    free(r);
}

static struct datagram *slot(struct reasm *r, const struct pkt *p, int64_t ts_us)
{
    struct datagram *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < REASM_MAX; i++) {
        struct datagram *d = &r->d[i];
        if (d->used && ts_us - d->first_us > REASM_TIMEOUT_US) {
            d->used = false;
            r->expired++;
        }
        if (!d->used) {
            if (!free_slot)
                free_slot = d;
            continue;
        }
        if (d->id == p->frag_id && d->proto == p->proto &&
            !memcmp(&d->src, &p->src, sizeof d->src) && !memcmp(&d->dst, &p->dst, sizeof d->dst))
            return d;
        if (!oldest || d->first_us < oldest->first_us)
            oldest = d;
    }
    struct datagram *d = free_slot;
    if (!d) {
        d = oldest;
        r->evicted++;
    }
    d->used = true;
    d->src = p->src;
    d->dst = p->dst;
    d->proto = p->proto;
    d->id = p->frag_id;
    d->first_us = ts_us;
    d->total = d->have = 0;
    memset(d->seen, 0, sizeof d->seen);
    return d;
}

int reasm_add(struct reasm *r, const struct pkt *p, int64_t ts_us, struct pkt *out, uint8_t **buf)
{
    size_t off = p->frag_offset, len = p->payload_len;
    if (off + len > REASM_MAX_BYTES || (p->frag_more && len % 8)) {
        r->bad++;
        return ES_EFORMAT;
    }
    struct datagram *d = slot(r, p, ts_us);
    if (!p->frag_more) {
        if (d->total && d->total != off + len) {
            d->used = false;
            r->bad++;
            return ES_EFORMAT; /* two different ends: a lie */
        }
        d->total = off + len;
    }
    for (size_t i = 0; i < len; i++) {
        size_t b = off + i;
        if (d->seen[b >> 3] >> (b & 7) & 1)
            continue;
        d->seen[b >> 3] |= (uint8_t)(1u << (b & 7));
        d->data[b] = p->payload[i];
        d->have++;
    }
    if (!d->total || d->have < d->total)
        return ES_EAGAIN;
    d->used = false;
    r->completed++;
    *out = *p;
    out->fragment = false;
    out->frag_more = false;
    out->frag_offset = 0;
    *buf = d->data; /* valid until the next reasm_add */
    return pkt_transport(d->data, d->total, out);
}
