#include "recorder/recorder.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* IPv4 + UDP carrying `payload`, with the given fragment field. */
static size_t ipv4_udp(uint8_t *b, uint16_t frag, const char *payload)
{
    size_t pl = strlen(payload), total = 20 + 8 + pl;
    memset(b, 0, 28);
    b[0] = 0x45;
    b[2] = (uint8_t)(total >> 8);
    b[3] = (uint8_t)total;
    b[4] = 0x12, b[5] = 0x34;
    b[6] = (uint8_t)(frag >> 8), b[7] = (uint8_t)frag;
    b[8] = 64, b[9] = 17;
    memcpy(b + 12, "\xc0\x00\x02\x01\xc6\x33\x64\x02", 8); /* 192.0.2.1 -> 198.51.100.2 */
    b[20] = 0x13, b[21] = 0xc4;                            /* 5060 */
    b[22] = 0x27, b[23] = 0x10;                            /* 10000 */
    b[24] = (uint8_t)((8 + pl) >> 8), b[25] = (uint8_t)(8 + pl);
    memcpy(b + 28, payload, pl);
    return total;
}

Test(packet, ethernet_qinq_udp)
{
    uint8_t b[256] = {0};
    memcpy(b + 12, "\x88\xa8\x00\x64\x81\x00\x00\xc8\x08\x00", 10); /* S-tag 100, C-tag 200 */
    size_t n = 22 + ipv4_udp(b + 22, 0, "INVITE");
    struct pkt p;
    cr_assert_eq(pkt_decode(LINK_ETHERNET, b, n, &p), 0);
    cr_assert_eq(p.vlan, 100);
    cr_assert_eq(p.proto, PKT_UDP);
    cr_assert_eq(p.sport, 5060);
    cr_assert_eq(p.dport, 10000);
    cr_assert_eq(p.payload_len, 6);
    cr_assert_eq(memcmp(p.payload, "INVITE", 6), 0);
    char a[64];
    pkt_addr_str(&p.dst, a, sizeof a);
    cr_assert_str_eq(a, "198.51.100.2");
}

Test(packet, linux_cooked_v1_and_v2)
{
    uint8_t b[256] = {0};
    b[14] = 0x08; /* SLL: protocol at 14 */
    size_t n = 16 + ipv4_udp(b + 16, 0, "x");
    struct pkt p;
    cr_assert_eq(pkt_decode(LINK_SLL, b, n, &p), 0);
    cr_assert_eq(p.payload_len, 1);
    memset(b, 0, sizeof b);
    b[0] = 0x08; /* SLL2: protocol first, 20-byte header */
    n = 20 + ipv4_udp(b + 20, 0, "xy");
    cr_assert_eq(pkt_decode(LINK_SLL2, b, n, &p), 0);
    cr_assert_eq(p.payload_len, 2);
}

Test(packet, ipv6_with_extension_headers)
{
    uint8_t b[128] = {0};
    b[0] = 0x60;
    b[5] = 8 + 8 + 2; /* payload length: hop-by-hop + UDP + 2 bytes */
    b[6] = 0;         /* next: hop-by-hop */
    b[7] = 64;
    b[8] = 0x20, b[9] = 0x01, b[10] = 0x0d, b[11] = 0xb8, b[23] = 1; /* 2001:db8::1 */
    b[40] = 17;                                                      /* hop-by-hop -> UDP */
    b[48] = 0x13, b[49] = 0xc4, b[50] = 0x13, b[51] = 0xc4, b[53] = 10;
    b[56] = 'o', b[57] = 'k';
    struct pkt p;
    cr_assert_eq(pkt_decode(LINK_RAW, b, 58, &p), 0);
    cr_assert_eq(p.src.family, 6);
    cr_assert_eq(p.proto, PKT_UDP);
    cr_assert_eq(p.payload_len, 2);
    char a[64];
    pkt_addr_str(&p.src, a, sizeof a);
    cr_assert_str_eq(a, "2001:db8::1");
}

Test(packet, fragments_are_marked)
{
    uint8_t b[128];
    size_t n = ipv4_udp(b, 0x2000, "first-part"); /* more fragments, offset 0 */
    struct pkt p;
    cr_assert_eq(pkt_decode(LINK_RAW, b, n, &p), 0);
    cr_assert(p.fragment && p.frag_more && p.frag_offset == 0);
    cr_assert_eq(p.frag_id, 0x1234);
    cr_assert_eq(p.payload_len, n - 20, "the raw IP payload, UDP header included");
    n = ipv4_udp(b, 0x0003, "tail"); /* last fragment at offset 24 */
    cr_assert_eq(pkt_decode(LINK_RAW, b, n, &p), 0);
    cr_assert(p.fragment && !p.frag_more && p.frag_offset == 24);
    cr_assert_eq(p.payload_len, n - 20, "a later fragment is all payload");
}

Test(packet, lies_are_refused)
{
    uint8_t b[128];
    size_t n = ipv4_udp(b, 0, "hello");
    struct pkt p;
    cr_assert_neq(pkt_decode(LINK_RAW, b, n - 1, &p), 0, "IP total length beyond the capture");
    b[0] = 0x4f; /* header length 60 > total */
    cr_assert_neq(pkt_decode(LINK_RAW, b, n, &p), 0);
    n = ipv4_udp(b, 0, "hello");
    b[25] = 200; /* UDP length beyond the IP payload */
    cr_assert_neq(pkt_decode(LINK_RAW, b, n, &p), 0);
    cr_assert_eq(
        pkt_decode(LINK_ETHERNET, (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\x08\x06", 14, &p),
        ES_EUNSUPP, "ARP is not ours");
    cr_assert_neq(pkt_decode(LINK_ETHERNET, b, 3, &p), 0);
}

Test(rtp, header_fields_padding_and_lies)
{
    uint8_t r[32] = {0x80 | 0x20, 0x80 | 8, 0x12, 0x34, 0, 0, 0x01, 0x40, 0xde, 0xad, 0xbe, 0xef};
    memset(r + 12, 0xd5, 20);
    r[31] = 4; /* four bytes of padding */
    struct rtp_hdr h;
    cr_assert_eq(rtp_parse(r, sizeof r, &h), 0);
    cr_assert(h.marker);
    cr_assert_eq(h.pt, 8);
    cr_assert_eq(h.seq, 0x1234);
    cr_assert_eq(h.ts, 320);
    cr_assert_eq(h.ssrc, 0xdeadbeef);
    cr_assert_eq(h.payload_len, 16);
    r[31] = 40; /* padding longer than the packet */
    cr_assert_neq(rtp_parse(r, sizeof r, &h), 0);
    r[0] = 0x8f; /* 15 CSRCs: more than the packet holds */
    cr_assert_neq(rtp_parse(r, sizeof r, &h), 0);
    r[0] = 0x80, r[1] = 200; /* RTCP sender report */
    cr_assert_neq(rtp_parse(r, sizeof r, &h), 0);
    r[1] = 0, r[0] = 0x40; /* version 1 */
    cr_assert_neq(rtp_parse(r, sizeof r, &h), 0);
}

Test(rtp, loss_duplicates_reorder_and_wrap)
{
    struct rtp_stats s;
    rtp_stats_init(&s, 8000);
    struct rtp_hdr h = {.pt = 0};
    /* 65530..65535, 0..5 with 2 lost, 1 duplicated, 1 late */
    uint16_t seqs[] = {65530, 65531, 65532, 65533, 65535, 0, 1, 1, 3, 2, 5};
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        h.seq = seqs[i];
        h.ts = (uint32_t)(seqs[i] - 65530) * 160u;
        rtp_stats_add(&s, &h, 8000, 20.0 * (double)i);
    }
    rtp_stats_end(&s);
    cr_assert_eq(s.packets, 11);
    cr_assert_eq(s.expected, 12, "65530..5 across the wrap");
    cr_assert_eq(s.duplicates, 1);
    cr_assert_eq(s.out_of_order, 1);
    cr_assert_eq(s.lost, 1, "65534 and 4 missing, one duplicate: 12 - 11");
}

/* The inner packet of every tunnel comes out as if it had been captured bare,
 * and a tunnel cut short anywhere is an error, never a read past the end. */
struct tunnel {
    const char *name;
    size_t (*wrap)(uint8_t *b, const uint8_t *ip, size_t n);
};

static size_t w_pppoe(uint8_t *b, const uint8_t *ip, size_t n)
{
    memcpy(b + 12, "\x88\x64\x11\x00\x00\x01", 6);
    b[18] = (uint8_t)((n + 2) >> 8), b[19] = (uint8_t)(n + 2);
    b[20] = 0x00, b[21] = 0x21;
    memcpy(b + 22, ip, n);
    return 22 + n;
}

static size_t w_mpls(uint8_t *b, const uint8_t *ip, size_t n)
{
    memcpy(b + 12, "\x88\x47\x00\x3e\x80\x40\x00\x7d\x01\x40", 10); /* labels 1000, 2000 (bottom) */
    memcpy(b + 22, ip, n);
    return 22 + n;
}

/* An outer IPv4 header (proto) in front of what follows at b + 34. */
static size_t outer_ipv4(uint8_t *b, uint8_t proto, size_t inner)
{
    memcpy(b + 12, "\x08\x00", 2);
    uint8_t *h = b + 14;
    memset(h, 0, 20);
    h[0] = 0x45, h[8] = 64, h[9] = proto;
    h[2] = (uint8_t)((20 + inner) >> 8), h[3] = (uint8_t)(20 + inner);
    memcpy(h + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    return 34 + inner;
}

static size_t w_ipip(uint8_t *b, const uint8_t *ip, size_t n)
{
    memcpy(b + 34, ip, n);
    return outer_ipv4(b, 4, n);
}

static size_t w_gre(uint8_t *b, const uint8_t *ip, size_t n)
{
    memcpy(b + 34, "\x00\x00\x08\x00", 4);
    memcpy(b + 38, ip, n);
    return outer_ipv4(b, 47, 4 + n);
}

static size_t inner_ether(uint8_t *b, const uint8_t *ip, size_t n)
{
    memset(b, 2, 12);
    b[12] = 0x08, b[13] = 0x00;
    memcpy(b + 14, ip, n);
    return 14 + n;
}

static size_t w_erspan2(uint8_t *b, const uint8_t *ip, size_t n)
{
    memcpy(b + 34, "\x10\x00\x88\xbe\x00\x00\x00\x01\x10\x00\x00\x07\x00\x00\x00\x00", 16);
    return outer_ipv4(b, 47, 16 + inner_ether(b + 50, ip, n));
}

static size_t w_erspan3(uint8_t *b, const uint8_t *ip, size_t n)
{
    memcpy(b + 34, "\x10\x00\x22\xeb\x00\x00\x00\x01", 8);
    memset(b + 42, 0, 12);
    b[42] = 0x20;
    return outer_ipv4(b, 47, 20 + inner_ether(b + 54, ip, n));
}

/* ERSPAN III with the O flag: an 8-byte platform subheader follows */
static size_t w_erspan3o(uint8_t *b, const uint8_t *ip, size_t n)
{
    memcpy(b + 34, "\x10\x00\x22\xeb\x00\x00\x00\x01", 8);
    memset(b + 42, 0, 20);
    b[42] = 0x20;
    b[53] = 0x01; /* O */
    return outer_ipv4(b, 47, 28 + inner_ether(b + 62, ip, n));
}

static size_t w_vxlan(uint8_t *b, const uint8_t *ip, size_t n)
{
    size_t e = inner_ether(b + 50, ip, n);
    uint8_t *u = b + 34;
    memcpy(u, "\xc0\x00\x12\xb5", 4); /* 49152 -> 4789 */
    u[4] = (uint8_t)((16 + e) >> 8), u[5] = (uint8_t)(16 + e), u[6] = u[7] = 0;
    memcpy(u + 8, "\x08\x00\x00\x00\x00\x00\x2a\x00", 8);
    return outer_ipv4(b, 17, 16 + e);
}

Test(packet, tunnels_give_the_inner_packet)
{
    static const struct tunnel tunnels[] = {
        {"pppoe", w_pppoe},       {"mpls", w_mpls},       {"ipip", w_ipip},
        {"gre", w_gre},           {"erspan2", w_erspan2}, {"erspan3", w_erspan3},
        {"erspan3o", w_erspan3o}, {"vxlan", w_vxlan},
    };
    uint8_t ip[128];
    size_t n = ipv4_udp(ip, 0, "INVITE");
    for (size_t t = 0; t < sizeof tunnels / sizeof tunnels[0]; t++) {
        uint8_t b[512] = {0};
        size_t len = tunnels[t].wrap(b, ip, n);
        struct pkt p;
        cr_assert_eq(pkt_decode(LINK_ETHERNET, b, len, &p), 0, "%s", tunnels[t].name);
        char a[64];
        pkt_addr_str(&p.dst, a, sizeof a);
        cr_assert_str_eq(a, "198.51.100.2", "%s: inner destination", tunnels[t].name);
        cr_assert_eq(p.sport, 5060, "%s", tunnels[t].name);
        cr_assert_eq(p.payload_len, 6, "%s", tunnels[t].name);
        cr_assert_eq(memcmp(p.payload, "INVITE", 6), 0, "%s", tunnels[t].name);
        /* cut anywhere: an error (or a shorter packet that is still whole),
         * and never a payload outside the bytes given */
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, b, cut);
            /* an outer IPv4 header that agrees with the cut, so the checks
             * inside the tunnel are the ones that must hold */
            if (cut >= 34 && copy[12] == 0x08 && copy[13] == 0x00)
                copy[16] = (uint8_t)((cut - 14) >> 8), copy[17] = (uint8_t)(cut - 14);
            if (pkt_decode(LINK_ETHERNET, copy, cut, &p) == 0 && p.payload)
                cr_assert(p.payload >= copy && p.payload + p.payload_len <= copy + cut,
                          "%s cut at %zu", tunnels[t].name, cut);
            free(copy);
        }
    }
}

Test(packet, tunnels_nest_only_so_deep)
{
    /* IP in IP in IP ...: past the depth limit the packet is not ours */
    uint8_t b[1024] = {0};
    uint8_t ip[128];
    size_t n = ipv4_udp(ip, 0, "INVITE");
    size_t len = n;
    memcpy(b + 20 * 10, ip, n);
    for (int depth = 10; depth > 0; depth--) {
        uint8_t *h = b + 20 * (depth - 1);
        memset(h, 0, 20);
        h[0] = 0x45, h[8] = 64, h[9] = 4;
        len += 20;
        h[2] = (uint8_t)(len >> 8), h[3] = (uint8_t)len;
    }
    struct pkt p;
    int rc = pkt_decode(LINK_RAW, b, len, &p);
    cr_assert(rc != 0 || p.proto != PKT_UDP, "10 nested IP headers taken");
}
