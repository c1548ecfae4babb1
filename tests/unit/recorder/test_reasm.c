#include "recorder/recorder.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* A UDP datagram (8-byte header + body) cut into fragments of `step` bytes. */
static uint8_t dgram[4000];
static size_t dlen;

static void make_dgram(size_t body)
{
    dlen = 8 + body;
    dgram[0] = 0x13, dgram[1] = 0xc4, dgram[2] = 0x13, dgram[3] = 0xc4;
    dgram[4] = (uint8_t)(dlen >> 8), dgram[5] = (uint8_t)dlen;
    for (size_t i = 8; i < dlen; i++)
        dgram[i] = (uint8_t)('A' + i % 26);
}

static struct pkt frag(size_t off, size_t len, bool more, uint16_t id)
{
    struct pkt p = {.src = {.family = 4, .a = {10, 0, 0, 1}},
                    .dst = {.family = 4, .a = {10, 0, 0, 2}},
                    .proto = PKT_UDP,
                    .fragment = true,
                    .frag_id = id,
                    .frag_offset = (uint32_t)off,
                    .frag_more = more,
                    .payload =
                        dgram + (off < sizeof dgram ? off : 0), /* bytes only matter in range */
                    .payload_len = len};
    return p;
}

Test(reasm, out_of_order_with_overlap)
{
    struct reasm *r;
    cr_assert_eq(reasm_new(&r), 0);
    make_dgram(2000);
    struct pkt out;
    uint8_t *buf;
    struct pkt a = frag(0, 1480, true, 7), b = frag(1480, dlen - 1480, false, 7);
    struct pkt dup = frag(800, 680, true, 7);
    cr_assert_eq(reasm_add(r, &b, 1000, &out, &buf), ES_EAGAIN, "last piece first");
    cr_assert_eq(reasm_add(r, &dup, 1100, &out, &buf), ES_EAGAIN);
    cr_assert_eq(reasm_add(r, &a, 1200, &out, &buf), 0);
    cr_assert_eq(out.sport, 5060);
    cr_assert_eq(out.payload_len, 2000);
    cr_assert_eq(memcmp(out.payload, dgram + 8, 2000), 0);
    cr_assert_not(out.fragment);
    reasm_free(r);
}

Test(reasm, timeouts_and_lies)
{
    struct reasm *r;
    cr_assert_eq(reasm_new(&r), 0);
    make_dgram(2000);
    struct pkt out;
    uint8_t *buf;
    struct pkt a = frag(0, 1480, true, 9), b = frag(1480, dlen - 1480, false, 9);
    cr_assert_eq(reasm_add(r, &a, 0, &out, &buf), ES_EAGAIN);
    /* the rest comes too late: the first half has been dropped */
    cr_assert_eq(reasm_add(r, &b, 6000000, &out, &buf), ES_EAGAIN);
    struct pkt odd = frag(0, 1001, true, 10); /* a middle fragment not a multiple of 8 */
    cr_assert_eq(reasm_add(r, &odd, 0, &out, &buf), ES_EFORMAT);
    struct pkt huge = frag(65000, 1000, false, 11);
    cr_assert_eq(reasm_add(r, &huge, 0, &out, &buf), ES_EFORMAT, "beyond 64 KiB");
    struct pkt end1 = frag(1480, 100, false, 12), end2 = frag(1480, 200, false, 12);
    cr_assert_eq(reasm_add(r, &end1, 0, &out, &buf), ES_EAGAIN);
    cr_assert_eq(reasm_add(r, &end2, 0, &out, &buf), ES_EFORMAT, "two different ends");
    reasm_free(r);
}

static int nmsg;
static char ids[8][64];

static void on_msg(void *ud, const struct sip_msg *m, const struct pkt *p)
{
    (void)ud;
    (void)p;
    snprintf(ids[nmsg++ % 8], 64, "%.*s", (int)m->call_id.len, m->call_id.p);
}

static void seg(struct tcp_reasm *t, uint32_t seq, const char *data, size_t n, uint8_t flags)
{
    struct pkt p = {.src = {.family = 4, .a = {10, 0, 0, 1}},
                    .dst = {.family = 4, .a = {10, 0, 0, 2}},
                    .proto = PKT_TCP,
                    .sport = 40000,
                    .dport = 5060,
                    .tcp_seq = seq,
                    .tcp_flags = flags,
                    .payload = (const uint8_t *)data,
                    .payload_len = n};
    tcp_reasm_add(t, &p, 0, on_msg, NULL);
}

#define MSG(id)                                                                                    \
    "OPTIONS sip:a SIP/2.0\r\nCall-ID: " id "\r\nCSeq: 1 OPTIONS\r\nContent-Length: "              \
    "5\r\n\r\nhello"

Test(tcp_reasm, split_coalesced_retransmitted_and_gaps)
{
    struct tcp_reasm *t;
    cr_assert_eq(tcp_reasm_new(&t), 0);
    nmsg = 0;
    const char *m1 = MSG("one"), *m2 = MSG("two"), *m3 = MSG("three");
    size_t l1 = strlen(m1), l2 = strlen(m2);
    seg(t, 999, "", 0, 0x02); /* SYN: data starts at 1000 */
    seg(t, 1000, m1, 30, 0x18);
    cr_assert_eq(nmsg, 0, "half a message waits");
    seg(t, 1000, m1, 30, 0x18); /* retransmission adds nothing */
    seg(t, 1030, m1 + 30, l1 - 30, 0x18);
    cr_assert_eq(nmsg, 1);
    cr_assert_str_eq(ids[0], "one");
    char both[512];
    snprintf(both, sizeof both, "%s%s", m2, m3);
    seg(t, (uint32_t)(1000 + l1), both, strlen(both), 0x18);
    cr_assert_eq(nmsg, 3, "two messages in one segment");
    cr_assert_str_eq(ids[2], "three");
    /* a segment the capture missed: the stream resynchronises on the next one */
    seg(t, (uint32_t)(1000 + l1 + strlen(both) + 500), m1, l1, 0x18);
    cr_assert_eq(nmsg, 4);
    (void)l2;
    tcp_reasm_free(t);
}
