/* Link, IP and transport headers, and the tunnels real captures carry them in:
 * 802.1Q/QinQ, PPPoE sessions (DSL voice boxes), MPLS label stacks, IP in IP
 * (4in4, 6in4, 4in6, 6in6), GRE with ERSPAN type II/III (mirrored traffic),
 * PPTP's enhanced GRE with PPP inside (VPNs) and VXLAN. The packet described is the innermost IP
 * datagram. Every length comes from the packet and is checked against what is really there before
 * it is used; tunnels nest at most MAX_DEPTH deep. */
#include "recorder/recorder.h"

#include <arpa/inet.h>
#include <string.h>

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#define MAX_DEPTH  4    /* tunnels inside tunnels */
#define VXLAN_PORT 4789 /* IANA */

static int ip(const uint8_t *p, size_t len, struct pkt *out, int depth);
static int ether(const uint8_t *p, size_t len, struct pkt *out, int depth);

/* PPP: optional address/control bytes, a protocol field of one byte (when
 * compressed, its value is odd) or two, then IPv4 or IPv6. */
static int ppp(const uint8_t *p, size_t len, struct pkt *out, int depth)
{
    if (len >= 2 && p[0] == 0xff && p[1] == 0x03)
        p += 2, len -= 2;
    if (len < 1)
        return ES_EFORMAT;
    uint16_t proto = p[0];
    size_t n = 1;
    if (!(p[0] & 1)) {
        if (len < 2)
            return ES_EFORMAT;
        proto = be16(p);
        n = 2;
    }
    if (proto == 0x0021 || proto == 0x0057)
        return ip(p + n, len - n, out, depth + 1);
    return ES_EUNSUPP;
}

/* PPTP's enhanced GRE (RFC 2637): a remote office's VPN carrying its calls
 * as PPP. Key field always, sequence and acknowledgement numbers optional. */
static int gre_pptp(const uint8_t *p, size_t len, struct pkt *out, int depth)
{
    uint16_t flags = be16(p);
    if (be16(p + 2) != 0x880b || !(flags & 0x2000))
        return ES_EUNSUPP;
    size_t off = 8 + (flags & 0x1000 ? 4 : 0) + (flags & 0x0080 ? 4 : 0);
    if (off > len)
        return ES_EFORMAT;
    size_t plen = be16(p + 4);
    if (plen > len - off)
        return ES_EFORMAT;
    return plen ? ppp(p + off, plen, out, depth) : ES_EUNSUPP; /* 0: an acknowledgement only */
}

/* GRE (RFC 2784/2890): IP, Ethernet (transparent bridging), ERSPAN, or PPP. */
static int gre(const uint8_t *p, size_t len, struct pkt *out, int depth)
{
    if (len < 4)
        return ES_EFORMAT;
    uint16_t flags = be16(p), type = be16(p + 2);
    if ((flags & 0x0007) == 1)
        return len < 8 ? ES_EFORMAT : gre_pptp(p, len, out, depth);
    if (flags & 0x0007)
        return ES_EUNSUPP;
    size_t off = 4 + (flags & 0x8000 ? 4 : 0) + (flags & 0x2000 ? 4 : 0) + (flags & 0x1000 ? 4 : 0);
    if (off > len)
        return ES_EFORMAT;
    p += off;
    len -= off;
    switch (type) {
    case 0x0800:
    case 0x86dd:
        return ip(p, len, out, depth + 1);
    case 0x6558:
        return ether(p, len, out, depth + 1);
    case 0x88be: /* ERSPAN type II: 8-byte header, then the mirrored frame */
        if (len < 8)
            return ES_EFORMAT;
        return ether(p + 8, len - 8, out, depth + 1);
    case 0x22eb: { /* ERSPAN type III: 12 bytes, 8 more with the O flag */
        if (len < 12)
            return ES_EFORMAT;
        size_t h = 12 + (p[11] & 0x01 ? 8 : 0);
        if (h > len)
            return ES_EFORMAT;
        return ether(p + h, len - h, out, depth + 1);
    }
    }
    return ES_EUNSUPP;
}

static int transport(const uint8_t *p, size_t len, struct pkt *out, int depth)
{
    if (out->fragment) { /* raw IP payload: reassembly parses the transport header */
        out->payload = p;
        out->payload_len = len;
        return 0;
    }
    if (out->proto == PKT_UDP) { /* first: nearly every packet is UDP */
        if (len < 8)
            return ES_EFORMAT;
        out->sport = be16(p);
        out->dport = be16(p + 2);
        size_t ulen = be16(p + 4);
        if (ulen < 8 || ulen > len)
            return ES_EFORMAT;
        out->payload = p + 8;
        out->payload_len = ulen - 8;
        /* VXLAN: 8-byte header with the I flag, then an Ethernet frame */
        if (out->dport == VXLAN_PORT && depth < MAX_DEPTH && out->payload_len >= 8 + 14 &&
            (out->payload[0] & 0x08))
            return ether(out->payload + 8, out->payload_len - 8, out, depth + 1);
        return 0;
    }
    if (depth < MAX_DEPTH) {
        if (out->proto == 4 || out->proto == 41) /* IPv4 or IPv6 inside */
            return ip(p, len, out, depth + 1);
        if (out->proto == 47)
            return gre(p, len, out, depth);
    }
    if (out->proto == PKT_TCP) {
        if (len < 20)
            return ES_EFORMAT;
        size_t hl = (size_t)(p[12] >> 4) * 4;
        if (hl < 20 || hl > len)
            return ES_EFORMAT;
        out->sport = be16(p);
        out->dport = be16(p + 2);
        out->tcp_seq = be32(p + 4);
        out->tcp_flags = p[13];
        out->payload = p + hl;
        out->payload_len = len - hl;
        return 0;
    }
    out->payload = p;
    out->payload_len = len;
    return 0;
}

static int ipv4(const uint8_t *p, size_t len, struct pkt *out, int depth)
{
    if (len < 20 || p[0] >> 4 != 4)
        return ES_EFORMAT;
    size_t hl = (size_t)(p[0] & 15) * 4, total = be16(p + 2);
    if (hl < 20 || total < hl || total > len)
        return ES_EFORMAT;
    out->src.family = out->dst.family = 4;
    memcpy(out->src.a, p + 12, 4);
    memcpy(out->dst.a, p + 16, 4);
    out->proto = p[9];
    uint16_t frag = be16(p + 6);
    out->frag_more = (frag & 0x2000) != 0;
    out->frag_offset = (uint32_t)(frag & 0x1fff) * 8;
    out->fragment = out->frag_more || out->frag_offset;
    out->frag_id = be16(p + 4);
    return transport(p + hl, total - hl, out, depth);
}

static int ipv6(const uint8_t *p, size_t len, struct pkt *out, int depth)
{
    if (len < 40 || p[0] >> 4 != 6)
        return ES_EFORMAT;
    out->fragment = out->frag_more = false; /* an outer header's, if any */
    out->frag_offset = 0;
    size_t plen = be16(p + 4);
    if (plen > len - 40)
        return ES_EFORMAT;
    out->src.family = out->dst.family = 6;
    memcpy(out->src.a, p + 8, 16);
    memcpy(out->dst.a, p + 24, 16);
    uint8_t next = p[6];
    const uint8_t *q = p + 40;
    size_t left = plen;
    /* walk extension headers: hop-by-hop, routing, destination options, fragment */
    for (int hops = 0; hops < 8; hops++) {
        if (next == 0 || next == 43 || next == 60) {
            if (left < 8 || (size_t)(q[1] + 1) * 8 > left)
                return ES_EFORMAT;
            size_t n = (size_t)(q[1] + 1) * 8;
            next = q[0];
            q += n;
            left -= n;
        } else if (next == 44) {
            if (left < 8)
                return ES_EFORMAT;
            uint16_t f = be16(q + 2);
            out->frag_offset = (uint32_t)(f >> 3) * 8;
            out->frag_more = (f & 1) != 0;
            out->fragment = out->frag_more || out->frag_offset;
            out->frag_id = (uint16_t)be32(q + 4);
            next = q[0];
            q += 8;
            left -= 8;
        } else {
            break;
        }
    }
    out->proto = next;
    return transport(q, left, out, depth);
}

static int ip(const uint8_t *p, size_t len, struct pkt *out, int depth)
{
    if (len < 1)
        return ES_EFORMAT;
    if (p[0] >> 4 == 4)
        return ipv4(p, len, out, depth);
    if (p[0] >> 4 == 6)
        return ipv6(p, len, out, depth);
    return ES_EUNSUPP;
}

/* MPLS: labels until the bottom of the stack, then IP, or a pseudowire's
 * control word and an Ethernet frame. */
static int mpls(const uint8_t *p, size_t len, struct pkt *out, int depth)
{
    for (int labels = 0;; labels++) {
        if (len < 4 || labels == 16)
            return ES_EFORMAT;
        bool bottom = (p[2] & 0x01) != 0;
        p += 4;
        len -= 4;
        if (bottom)
            break;
    }
    if (len < 1)
        return ES_EFORMAT;
    if (p[0] >> 4 == 4 || p[0] >> 4 == 6)
        return ip(p, len, out, depth + 1);
    if (p[0] >> 4 == 0 && len >= 4) /* control word */
        return ether(p + 4, len - 4, out, depth + 1);
    return ES_EUNSUPP;
}

/* PPPoE session: 6-byte header, then a PPP protocol number. */
static int pppoe(const uint8_t *p, size_t len, struct pkt *out, int depth)
{
    if (len < 8 || p[0] != 0x11 || p[1] != 0x00)
        return ES_EFORMAT;
    size_t plen = be16(p + 4);
    if (plen < 2 || plen > len - 6)
        return ES_EFORMAT;
    uint16_t proto = be16(p + 6);
    if (proto == 0x0021 || proto == 0x0057) /* IPv4, IPv6 */
        return ip(p + 8, plen - 2, out, depth + 1);
    return ES_EUNSUPP;
}

static int by_ethertype(uint16_t type, const uint8_t *p, size_t len, struct pkt *out, int depth)
{
    /* 802.1Q, 802.1ad and the old QinQ tag: skip up to two tags */
    for (int tags = 0; (type == 0x8100 || type == 0x88a8 || type == 0x9100) && tags < 2; tags++) {
        if (len < 4)
            return ES_EFORMAT;
        if (!out->vlan)
            out->vlan = be16(p) & 0x0fff;
        type = be16(p + 2);
        p += 4;
        len -= 4;
    }
    if (type == 0x0800 || type == 0x86dd)
        return ip(p, len, out, depth);
    if (depth >= MAX_DEPTH)
        return ES_EUNSUPP;
    if (type == 0x8847 || type == 0x8848)
        return mpls(p, len, out, depth);
    if (type == 0x8864)
        return pppoe(p, len, out, depth);
    return ES_EUNSUPP;
}

static int ether(const uint8_t *p, size_t len, struct pkt *out, int depth)
{
    if (len < 14)
        return ES_EFORMAT;
    return by_ethertype(be16(p + 12), p + 14, len - 14, out, depth);
}

int pkt_transport(const uint8_t *p, size_t len, struct pkt *out)
{
    out->fragment = false;
    return transport(p, len, out, MAX_DEPTH); /* reassembled: no tunnel inside */
}

int pkt_decode(int linktype, const uint8_t *p, size_t len, struct pkt *out)
{
    memset(out, 0, sizeof *out);
    switch (linktype) {
    case LINK_ETHERNET:
        return ether(p, len, out, 0);
    case LINK_SLL: /* Linux cooked v1: 16-byte header, protocol at 14 */
        if (len < 16)
            return ES_EFORMAT;
        return by_ethertype(be16(p + 14), p + 16, len - 16, out, 0);
    case LINK_SLL2: /* Linux cooked v2: 20-byte header, protocol first */
        if (len < 20)
            return ES_EFORMAT;
        return by_ethertype(be16(p), p + 20, len - 20, out, 0);
    case LINK_NULL:
    case LINK_LOOP: /* 4-byte address family, either byte order */
        if (len < 4)
            return ES_EFORMAT;
        return ip(p + 4, len - 4, out, 0);
    case LINK_RAW:
    case LINK_IPV4:
    case LINK_IPV6:
        return ip(p, len, out, 0);
    case LINK_PPP:
        return ppp(p, len, out, 0);
    }
    return ES_EUNSUPP;
}

bool pkt_addr_eq(const struct pkt_addr *a, const struct pkt_addr *b)
{
    return a->family == b->family && !memcmp(a->a, b->a, a->family == 6 ? 16 : 4);
}

void pkt_addr_str(const struct pkt_addr *a, char *out, size_t outlen)
{
    if (!inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->a, out, (socklen_t)outlen))
        snprintf(out, outlen, "?");
}
