/* SIP and SDP on the real captures (every SIP datagram parses; the INVITE
 * Call-IDs are the ones tshark lists in REFERENCE.md) and on hand-made
 * messages for compact forms, folding, TCP framing and lies. */
#include "recorder/recorder.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int invite_call_ids(const char *file, char ids[][128], int max, int *parsed, int *failed)
{
    char path[512];
    snprintf(path, sizeof path, EARSHOT_TEST_DATA "/pcap/%s", file);
    struct pcapin *in;
    struct es_err e;
    cr_assert_eq(pcapin_open_file(path, &in, &e), 0, "%s", e.msg);
    struct pcapin_packet pk;
    int n = 0;
    *parsed = *failed = 0;
    while (pcapin_next(in, &pk, &e) == 1) {
        struct pkt p;
        struct sip_msg m;
        if (pkt_decode(pk.linktype, pk.data, pk.len, &p) || p.proto != PKT_UDP ||
            (p.sport != 5060 && p.dport != 5060) || p.payload_len < 12)
            continue;
        if (sip_parse(p.payload, p.payload_len, false, &m)) {
            (*failed)++;
            continue;
        }
        (*parsed)++;
        if (!m.is_request || !sip_str_eq(m.method, "INVITE"))
            continue;
        int dup = 0;
        for (int i = 0; i < n; i++)
            dup |= strlen(ids[i]) == m.call_id.len && !memcmp(ids[i], m.call_id.p, m.call_id.len);
        if (!dup && n < max && m.call_id.len < 128) {
            memcpy(ids[n], m.call_id.p, m.call_id.len);
            ids[n++][m.call_id.len] = '\0';
        }
    }
    pcapin_close(in);
    return n;
}

/* The Call-IDs of the dialogs with an INVITE in REFERENCE.md's "SIP dialogs"
 * block of `file` (lines "CALL-ID [N msgs]: METHOD ..."), as tshark saw them. */
static int reference_ids(const char *file, char ids[][128], int max)
{
    FILE *f = fopen(EARSHOT_TEST_DATA "/pcap/REFERENCE.md", "r");
    cr_assert_not_null(f);
    char line[4096], want[128];
    snprintf(want, sizeof want, "## %s", file);
    int in = 0, block = 0, n = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "## ", 3)) {
            in = !strncmp(line, want, strlen(want)) && line[strlen(want)] == '\n';
            block = 0;
        } else if (in && !strncmp(line, "### SIP dialogs", 15)) {
            block = 1;
        } else if (in && block == 1 && !strncmp(line, "```", 3)) {
            block = 2;
        } else if (in && block == 2 && !strncmp(line, "```", 3)) {
            block = 0;
        } else if (in && block == 2 && n < max) {
            char *sp = strstr(line, " [");
            char *colon = sp ? strstr(sp, "]: ") : NULL;
            if (sp && colon && strstr(colon, " INVITE"))
                snprintf(ids[n++], 128, "%.*s", (int)(sp - line), line);
        }
    }
    fclose(f);
    return n;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void same_dialogs(const char *file)
{
    char got[32][128], want[32][128];
    int parsed, failed;
    int n = invite_call_ids(file, got, 32, &parsed, &failed);
    int nw = reference_ids(file, want, 32);
    cr_assert_gt(parsed, 0, "%s: no SIP parsed", file);
    cr_assert_eq(failed, 0, "%s: %d SIP datagrams failed to parse", file, failed);
    cr_assert_eq(n, nw, "%s: %d INVITE dialogs, tshark lists %d", file, n, nw);
    qsort(got, (size_t)n, sizeof got[0], cmp);
    qsort(want, (size_t)nw, sizeof want[0], cmp);
    for (int i = 0; i < n; i++)
        cr_assert_str_eq(got[i], want[i]);
}

Test(sip_captures, aaa)
{
    same_dialogs("aaa.pcap");
}
Test(sip_captures, g722)
{
    same_dialogs("sip-rtp-g722.pcap");
}

static const char invite[] = "INVITE sip:600@pbx.example SIP/2.0\r\n"
                             "v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
                             "f: \"Alice\" <sip:+4930555@192.0.2.10>;tag=1928301774\r\n"
                             "t: <sip:600@pbx.example>\r\n"
                             "i: a84b4c76e66710@192.0.2.10\r\n"
                             "CSeq: 314159 INVITE\r\n"
                             "User-Agent: Test\r\n"
                             " Phone/1.0\r\n"
                             "c: application/sdp\r\n"
                             "l: 143\r\n"
                             "\r\n"
                             "v=0\r\n"
                             "o=- 1 1 IN IP4 192.0.2.10\r\n"
                             "s=-\r\n"
                             "c=IN IP4 192.0.2.10\r\n"
                             "t=0 0\r\n"
                             "m=audio 49170 RTP/AVP 8 0 101\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\n"
                             "a=sendonly\r\n";

Test(sip, compact_forms_folding_and_sdp)
{
    struct sip_msg m;
    cr_assert_eq(sip_parse((const uint8_t *)invite, strlen(invite), false, &m), 0);
    cr_assert(m.is_request);
    cr_assert(sip_str_eq(m.method, "INVITE"));
    cr_assert(sip_str_eq(m.call_id, "a84b4c76e66710@192.0.2.10"));
    cr_assert(sip_str_eq(m.from_tag, "1928301774"));
    cr_assert(sip_str_eq(m.from_user, "+4930555"));
    cr_assert(sip_str_eq(m.to_user, "600"));
    cr_assert_null(m.to_tag.p);
    cr_assert_eq(m.cseq, 314159);
    cr_assert(sip_str_eq(m.via_branch, "z9hG4bK776asdhds"));
    cr_assert_eq(m.body.len, 143);
    cr_assert(strstr(m.user_agent.p, "Phone/1.0") < m.user_agent.p + m.user_agent.len,
              "folded header keeps its continuation");
    struct sdp s;
    cr_assert_eq(sdp_parse((const uint8_t *)m.body.p, m.body.len, &s), 0);
    cr_assert_eq(s.nmedia, 1);
    cr_assert(s.media[0].audio);
    cr_assert_eq(s.media[0].port, 49170);
    cr_assert_eq(s.media[0].nfmt, 3);
    cr_assert_eq(s.media[0].dir, SDP_SENDONLY);
    char a[64];
    pkt_addr_str(&s.media[0].addr, a, sizeof a);
    cr_assert_str_eq(a, "192.0.2.10");
    struct sdp_rtpmap tmp;
    const struct sdp_rtpmap *r = sdp_rtpmap_of(&s.media[0], 101, &tmp);
    cr_assert_not_null(r);
    cr_assert_str_eq(r->name, "telephone-event");
    r = sdp_rtpmap_of(&s.media[0], 8, &tmp);
    cr_assert_str_eq(r->name, "PCMA");
    cr_assert_eq(r->clock, 8000);
}

Test(sip, tcp_stream_framing)
{
    char buf[2048];
    int n = snprintf(buf, sizeof buf, "\r\n\r\n%s%s", invite, invite);
    struct sip_msg m;
    /* half a message: wait for more */
    cr_assert_eq(sip_parse((const uint8_t *)buf, 60, true, &m), ES_EAGAIN);
    cr_assert_eq(sip_parse((const uint8_t *)buf, (size_t)n - 10 - strlen(invite), true, &m),
                 ES_EAGAIN, "body cut short");
    cr_assert_eq(sip_parse((const uint8_t *)buf, (size_t)n, true, &m), 0);
    cr_assert_eq(m.skipped, 4);
    cr_assert_eq(m.msg_len, 4 + strlen(invite));
    struct sip_msg m2;
    cr_assert_eq(sip_parse((const uint8_t *)buf + m.msg_len, (size_t)n - m.msg_len, true, &m2), 0);
    cr_assert_eq(m2.msg_len, strlen(invite));
}

Test(sip, responses_and_lies)
{
    const char *ok = "SIP/2.0 486 Busy Here\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
                     "To: <sip:a@b>;tag=99\r\nContent-Length: 0\r\n\r\n";
    struct sip_msg m;
    cr_assert_eq(sip_parse((const uint8_t *)ok, strlen(ok), false, &m), 0);
    cr_assert_not(m.is_request);
    cr_assert_eq(m.status, 486);
    cr_assert(sip_str_eq(m.reason, "Busy Here"));
    cr_assert(sip_str_eq(m.to_tag, "99"));
    const char *bad[] = {
        "SIP/2.0 4x6 Busy\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n",
        "INVITE sip:a SIP/3.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n",
        "INVITE sip:a SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n", /* no Call-ID */
        "INVITE sip:a SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nl: 500\r\n\r\nv=0", /* short */
        "INVITE sip:a SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nl: 99999999\r\n\r\n",
        "INVITE sip:a SIP/2.0\r\nCall-ID x\r\n\r\n",
        "hello",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_neq(sip_parse((const uint8_t *)bad[i], strlen(bad[i]), false, &m), 0, "%s",
                      bad[i]);
}

Test(sdp, hold_ipv6_and_junk)
{
    const char *s6 = "v=0\r\nc=IN IP6 2001:db8::5\r\nm=audio 0 RTP/AVP 0\r\na=inactive\r\n"
                     "m=video 5000 RTP/AVP 96\r\n";
    struct sdp s;
    cr_assert_eq(sdp_parse((const uint8_t *)s6, strlen(s6), &s), 0);
    cr_assert_eq(s.nmedia, 2);
    cr_assert_eq(s.media[0].port, 0);
    cr_assert_eq(s.media[0].dir, SDP_INACTIVE);
    cr_assert_eq(s.media[0].addr.family, 6);
    cr_assert_not(s.media[1].audio);
    const char *junk[] = {"m=audio 99999 RTP/AVP 0\r\n", "no sdp at all",
                          "v=0\r\nm=audio x RTP/AVP 0\r\n"};
    for (size_t i = 0; i < 3; i++)
        cr_assert_neq(sdp_parse((const uint8_t *)junk[i], strlen(junk[i]), &s), 0, "%s", junk[i]);
}

Test(sip, found_by_its_start_line_on_any_port)
{
    static const char *sip[] = {
        "INVITE sip:600@pbx SIP/2.0\r\nVia: x\r\n", "SIP/2.0 200 OK\r\nVia: x\r\n",
        "OPTIONS sips:pbx.example.com:5061 SIP/2.0\r\n", "REGISTER sip:pbx SIP/2.0\r\n"};
    static const char *not_sip[] = {"GET / HTTP/1.1\r\nHost: x\r\n", "INVITE to the party\r\n",
                                    "\x80\x00\x01\x02\x00\x00\x00\xa0\x00\x00\x10\x00",
                                    "INVITE sip:600@pbx HTTP/1.1\r\n", "SIP/2.0"};
    for (size_t i = 0; i < sizeof sip / sizeof sip[0]; i++)
        cr_assert(sip_looks_like((const uint8_t *)sip[i], strlen(sip[i])), "%s", sip[i]);
    for (size_t i = 0; i < sizeof not_sip / sizeof not_sip[0]; i++)
        cr_assert(!sip_looks_like((const uint8_t *)not_sip[i], strlen(not_sip[i])), "%s",
                  not_sip[i]);
}

Test(sdp, fax_and_video_m_lines)
{
    const char *body = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                       "m=audio 0 RTP/AVP 0\r\n"
                       "m=image 4000 udptl t38\r\na=T38FaxVersion:0\r\n"
                       "m=video 4010 RTP/AVP 96 34\r\na=rtpmap:96 H264/90000\r\n";
    struct sdp s;
    cr_assert_eq(sdp_parse((const uint8_t *)body, strlen(body), &s), 0);
    cr_assert_eq(s.nmedia, 3);
    cr_assert(s.media[0].audio && s.media[0].port == 0, "audio refused");
    cr_assert_eq(s.media[1].kind, SDP_IMAGE);
    cr_assert(s.media[1].t38 && s.media[1].port == 4000 && s.media[1].has_addr);
    cr_assert_eq(s.media[2].kind, SDP_VIDEO);
    cr_assert_eq(s.media[2].nfmt, 2);
    const char *tcp = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=image 4000 TCPTL t38\r\n";
    cr_assert_eq(sdp_parse((const uint8_t *)tcp, strlen(tcp), &s), 0);
    cr_assert(!s.media[0].t38, "T.38 over TCP is not UDPTL");
}
