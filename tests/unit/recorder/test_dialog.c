/* Calls from SIP dialogs: every disposition and reason from hand-made
 * message sequences, media matching across a re-INVITE, timeouts and the
 * call limit, and the outcomes of the real calls in tests/data. */
#include "recorder/recorder.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct dialogs *d;
static int64_t now;

static void setup(void)
{
    cr_assert_eq(dialogs_new(100, &d), 0);
    now = 1000000;
}

static void teardown(void)
{
    dialogs_free(d);
}

TestSuite(dialog, .init = setup, .fini = teardown);

static char sdp_body[256];

static const char *sdp(const char *ip, int port, const char *dir)
{
    snprintf(sdp_body, sizeof sdp_body,
             "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
             "m=audio %d RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n",
             ip, ip, port, dir);
    return sdp_body;
}

/* Sends one message of call `id`; first line decides request or response. */
static struct sip_call *feed(const char *id, const char *first, const char *cseq,
                             const char *to_tag, const char *body)
{
    static char buf[2048];
    int n = snprintf(buf, sizeof buf,
                     "%s\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n"
                     "From: <sip:+4930111@pbx>;tag=caller\r\nTo: <sip:600@pbx>%s%s\r\n"
                     "Call-ID: %s\r\nCSeq: %s\r\nContent-Length: %zu\r\n\r\n%s",
                     first, to_tag ? ";tag=" : "", to_tag ? to_tag : "", id, cseq,
                     body ? strlen(body) : 0, body ? body : "");
    struct sip_msg m;
    cr_assert_eq(sip_parse((const uint8_t *)buf, (size_t)n, false, &m), 0, "%s", buf);
    struct pkt p = {.src = {.family = 4, .a = {10, 0, 0, 1}}};
    now += 100000;
    return dialogs_on_sip(d, &m, &p, now);
}

static struct sip_call *take_one(void)
{
    struct sip_call *out[4];
    size_t n = dialogs_take_ended(d, now, 30000000, 0, out, 4);
    cr_assert_eq(n, 1, "one ended call, got %zu", n);
    return out[0];
}

Test(dialog, answered_call_and_media_sides)
{
    feed("a", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, sdp("10.0.0.1", 4000, "sendrecv"));
    struct sip_call *c = feed("a", "SIP/2.0 180 Ringing", "1 INVITE", "t1", NULL);
    cr_assert_eq(c->state, CALL_RINGING);
    feed("a", "SIP/2.0 200 OK", "1 INVITE", "t1", sdp("10.0.0.2", 5000, "sendrecv"));
    feed("a", "ACK sip:600@pbx SIP/2.0", "1 ACK", "t1", NULL);
    struct pkt_addr callee = {.family = 4, .a = {10, 0, 0, 2}};
    struct pkt_addr caller = {.family = 4, .a = {10, 0, 0, 1}};
    int side = -1;
    cr_assert_eq(dialogs_match_media(d, &callee, 5000, &side), c);
    cr_assert_eq(side, CALL_FROM_CALLER, "audio to the callee comes from the caller");
    cr_assert_eq(dialogs_match_media(d, &caller, 4000, &side), c);
    cr_assert_eq(side, CALL_FROM_CALLEE);
    cr_assert_null(dialogs_match_media(d, &caller, 4002, &side));
    feed("a", "BYE sip:600@pbx SIP/2.0", "2 BYE", "t1", NULL);
    c = take_one();
    cr_assert_str_eq(c->disposition, "answered");
    cr_assert_str_eq(c->caller, "+4930111");
    cr_assert_str_eq(c->callee, "600");
    cr_assert(c->invite_us < c->ring_us && c->ring_us < c->answer_us && c->answer_us < c->end_us);
    free(c);
}

static void missed(const char *id, const char *final, const char *want)
{
    feed(id, "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, sdp("10.0.0.1", 4000, "sendrecv"));
    feed(id, "SIP/2.0 180 Ringing", "1 INVITE", "t", NULL);
    if (!strcmp(final, "CANCEL")) {
        feed(id, "CANCEL sip:600@pbx SIP/2.0", "1 CANCEL", NULL, NULL);
        feed(id, "SIP/2.0 487 Request Terminated", "1 INVITE", "t", NULL);
    } else {
        feed(id, final, "1 INVITE", "t", NULL);
    }
    struct sip_call *c = take_one();
    cr_assert_str_eq(c->disposition, "missed", "%s", id);
    cr_assert_str_eq(c->reason, want, "%s: %s", id, final);
    free(c);
}

Test(dialog, every_missed_reason)
{
    missed("c1", "CANCEL", "abandoned");
    missed("c2", "SIP/2.0 486 Busy Here", "busy");
    missed("c3", "SIP/2.0 600 Busy Everywhere", "busy");
    missed("c4", "SIP/2.0 480 Temporarily Unavailable", "no-answer");
    missed("c5", "SIP/2.0 408 Request Timeout", "no-answer");
    missed("c6", "SIP/2.0 603 Decline", "declined");
    missed("c8", "SIP/2.0 503 Service Unavailable", "unavailable");
    missed("c9", "SIP/2.0 500 Server Internal Error", "failed:500");
    missed("c10", "SIP/2.0 302 Moved Temporarily", "failed:302");
    missed("c11", "SIP/2.0 488 Not Acceptable Here", "failed:488");
    missed("c12", "SIP/2.0 410 Gone", "unavailable");
    /* a 404 after ringing is still refused: the number does not exist */
    struct sip_reject_rule none;
    struct es_err e;
    cr_assert_eq(sip_reject_rule_parse("", &none, &e), 0);
    dialogs_set_reject_rule(d, &none);
    missed("c7", "SIP/2.0 404 Not Found", "unavailable");
    missed("c13", "SIP/2.0 484 Address Incomplete", "unavailable");
}

/* INVITE, then the PBX's answer (NULL: none at all) and nothing more. */
static struct sip_call *attempt(const char *id, const char *answer)
{
    feed(id, "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    if (answer)
        feed(id, answer, "1 INVITE", "t", NULL);
    struct sip_call *out[2];
    /* never answered: given up with the INVITE transaction (32 s); a
     * challenge waits as long as ringing may (180 s) for the credentials */
    bool challenged = answer && (strstr(answer, " 401 ") || strstr(answer, " 407 "));
    if (challenged)
        cr_assert_eq(dialogs_take_ended(d, now + 120000000, 30000000, 0, out, 2), 0, "%s", id);
    cr_assert_eq(
        dialogs_take_ended(d, now + (challenged ? 181000000 : 33000000), 30000000, 0, out, 2), 1,
        "%s", id);
    return out[0];
}

static void rejected(const char *id, const char *answer, const char *want, int status)
{
    struct sip_call *c = attempt(id, answer);
    cr_assert_str_eq(c->disposition, "rejected", "%s: %s", id, answer ? answer : "(none)");
    cr_assert_str_eq(c->reason, want, "%s", id);
    cr_assert_eq(c->final_status, status, "%s", id);
    free(c);
}

Test(dialog, every_rejected_reason)
{
    rejected("r1", "SIP/2.0 401 Unauthorized", "challenged", 401);
    rejected("r2", "SIP/2.0 407 Proxy Authentication Required", "challenged", 407);
    rejected("r3", "SIP/2.0 403 Forbidden", "forbidden", 403);
    rejected("r4", "SIP/2.0 404 Not Found", "not-found", 404);
    rejected("r5", "SIP/2.0 484 Address Incomplete", "address-incomplete", 484);
    rejected("r6", NULL, "no-response", 0);
    /* the same answers after a 100 Trying: refused all the same */
    feed("r7", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    feed("r7", "SIP/2.0 100 Trying", "1 INVITE", NULL, NULL);
    feed("r7", "SIP/2.0 403 Forbidden", "1 INVITE", "t", NULL);
    struct sip_call *c = take_one();
    cr_assert_str_eq(c->disposition, "rejected");
    free(c);
    /* configured: 488 refused too, a 404 a missed call, silence not counted */
    struct sip_reject_rule rule;
    struct es_err e;
    cr_assert_eq(sip_reject_rule_parse("401,407,403,488", &rule, &e), 0, "%s", e.msg);
    dialogs_set_reject_rule(d, &rule);
    rejected("r8", "SIP/2.0 488 Not Acceptable Here", "refused:488", 488);
    c = attempt("r9", "SIP/2.0 404 Not Found");
    cr_assert_str_eq(c->disposition, "missed");
    cr_assert_str_eq(c->reason, "unavailable");
    free(c);
    c = attempt("r10", NULL);
    cr_assert_str_eq(c->disposition, "missed");
    cr_assert_str_eq(c->reason, "no-answer");
    free(c);
    c = attempt("r11", "SIP/2.0 401 Unauthorized"); /* challenged and gone: failed:401 */
    cr_assert_str_eq(c->disposition, "rejected");
    free(c);
}

/* Media reached the call: someone handled it, whatever the PBX answered. */
Test(dialog, a_call_with_media_is_never_rejected)
{
    struct sip_call *c = feed("m", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    dialogs_heard(d, c);
    struct sip_call *out[2];
    cr_assert_eq(dialogs_take_ended(d, now + 33000000, 30000000, 0, out, 2), 0,
                 "a call with media is not given up with the INVITE transaction");
    cr_assert_eq(dialogs_take_ended(d, now + 181000000, 30000000, 0, out, 2), 1);
    cr_assert_str_eq(out[0]->disposition, "missed");
    cr_assert_str_eq(out[0]->reason, "no-answer");
    free(out[0]);
    feed("m2", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    c = feed("m2", "SIP/2.0 183 Session Progress", "1 INVITE", "t", NULL);
    dialogs_heard(d, c);
    feed("m2", "SIP/2.0 404 Not Found", "1 INVITE", "t", NULL);
    c = take_one();
    cr_assert_str_eq(c->disposition, "missed", "an announcement was played: handled");
    free(c);
}

Test(dialog, reject_rule_parse)
{
    struct sip_reject_rule r;
    struct es_err e;
    cr_assert_eq(sip_reject_rule_parse("default,488", &r, &e), 0);
    cr_assert(r.no_response);
    cr_assert_eq(sip_reject_rule_parse("403,no-response", &r, &e), 0);
    cr_assert(r.no_response);
    const char *bad[] = {"486", "603", "487", "200", "700", "abc", "403,,404", "401x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_neq(sip_reject_rule_parse(bad[i], &r, &e), 0, "%s", bad[i]);
        cr_assert(strstr(e.msg, "rejected codes") != NULL, "%s", e.msg);
    }
    cr_assert(strstr((sip_reject_rule_parse("486", &r, &e), e.msg), "missed call") != NULL,
              "the message says why: %s", e.msg);
}

Test(dialog, auth_challenge_is_not_an_outcome)
{
    feed("x", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    feed("x", "SIP/2.0 407 Proxy Authentication Required", "1 INVITE", "t", NULL);
    struct sip_call *out[2];
    cr_assert_eq(dialogs_take_ended(d, now, 30000000, 0, out, 2), 0);
    feed("x", "INVITE sip:600@pbx SIP/2.0", "2 INVITE", NULL, NULL);
    feed("x", "SIP/2.0 200 OK", "2 INVITE", "t", NULL);
    feed("x", "BYE sip:600@pbx SIP/2.0", "3 BYE", "t", NULL);
    struct sip_call *c = take_one();
    cr_assert_str_eq(c->disposition, "answered");
    free(c);
}

Test(dialog, reinvite_moves_media_and_hold)
{
    feed("r", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, sdp("10.0.0.1", 4000, "sendrecv"));
    feed("r", "SIP/2.0 200 OK", "1 INVITE", "t", sdp("10.0.0.2", 5000, "sendrecv"));
    struct sip_call *c =
        feed("r", "INVITE sip:600@pbx SIP/2.0", "2 INVITE", "t", sdp("10.0.0.1", 4100, "sendonly"));
    cr_assert_eq(c->caller_media.port, 4000, "an offer takes effect with its 2xx");
    feed("r", "SIP/2.0 200 OK", "2 INVITE", "t", sdp("10.0.0.2", 5000, "recvonly"));
    cr_assert_eq(c->caller_media.port, 4100);
    cr_assert_eq(c->caller_media.dir, SDP_SENDONLY, "caller put the call on hold");
    cr_assert_eq(c->caller_media.changes, 2);
    cr_assert_eq(c->callee_media.dir, SDP_RECVONLY);
    struct pkt_addr caller = {.family = 4, .a = {10, 0, 0, 1}};
    int side;
    cr_assert_not_null(dialogs_match_media(d, &caller, 4100, &side));
    cr_assert_null(dialogs_match_media(d, &caller, 4000, &side), "the old port is gone");
    cr_assert_str_eq(c->disposition, "");
}

Test(dialog, silence_ends_a_call_and_the_limit_holds)
{
    feed("t", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    feed("t", "SIP/2.0 100 Trying", "1 INVITE", NULL, NULL);
    struct sip_call *out[2];
    /* ringing may take minutes: the RTP idle limit does not apply yet */
    cr_assert_eq(dialogs_take_ended(d, now + 31000000, 30000000, 0, out, 2), 0);
    cr_assert_eq(dialogs_take_ended(d, now + 179000000, 30000000, 0, out, 2), 0);
    cr_assert_eq(dialogs_take_ended(d, now + 181000000, 30000000, 0, out, 2), 1);
    cr_assert_str_eq(out[0]->reason, "no-answer");
    free(out[0]);
    /* never answered at all: given up with the INVITE transaction (32 s) */
    feed("t0", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    cr_assert_eq(dialogs_take_ended(d, now + 31000000, 30000000, 0, out, 2), 0);
    cr_assert_eq(dialogs_take_ended(d, now + 33000000, 30000000, 0, out, 2), 1);
    cr_assert_str_eq(out[0]->disposition, "rejected");
    free(out[0]);
    /* an answered call ends after the idle limit */
    feed("u", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    feed("u", "SIP/2.0 200 OK", "1 INVITE", "t", NULL);
    cr_assert_eq(dialogs_take_ended(d, now + 29000000, 30000000, 0, out, 2), 0);
    cr_assert_eq(dialogs_take_ended(d, now + 31000000, 30000000, 0, out, 2), 1);
    cr_assert_str_eq(out[0]->disposition, "answered");
    free(out[0]);
    dialogs_free(d);
    cr_assert_eq(dialogs_new(1, &d), 0);
    cr_assert_not_null(feed("l1", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL));
    feed("l1", "SIP/2.0 100 Trying", "1 INVITE", NULL, NULL);
    cr_assert_null(feed("l2", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL),
                   "the limit holds against a call being handled");
    cr_assert_eq(dialogs_count(d), 1);
}

/* The real captures: every INVITE dialog and its outcome. */
static int outcomes(const char *file, char out[][320], int max)
{
    char path[512];
    snprintf(path, sizeof path, EARSHOT_TEST_DATA "/pcap/%s", file);
    struct pcapin *in;
    struct es_err e;
    cr_assert_eq(pcapin_open_file(path, &in, &e), 0);
    struct pcapin_packet pk;
    while (pcapin_next(in, &pk, &e) == 1) {
        struct pkt p;
        struct sip_msg m;
        if (!pkt_decode(pk.linktype, pk.data, pk.len, &p) && p.proto == PKT_UDP &&
            (p.sport == 5060 || p.dport == 5060) && !sip_parse(p.payload, p.payload_len, false, &m))
            dialogs_on_sip(d, &m, &p, pk.ts_us);
    }
    pcapin_close(in);
    dialogs_end_all(d);
    struct sip_call *calls[32];
    int n = (int)dialogs_take_ended(d, 0, 30000000, 0, calls, 32);
    for (int i = 0; i < n && i < max; i++) {
        snprintf(out[i], 320, "%s %s %s", calls[i]->call_id, calls[i]->disposition,
                 calls[i]->reason);
        free(calls[i]);
    }
    qsort(out, (size_t)n, sizeof out[0], (int (*)(const void *, const void *))strcmp);
    return n;
}

Test(dialog, real_captures)
{
    char got[32][320];
    int n = outcomes("aaa.pcap", got, 32);
    cr_assert_eq(n, 4);
    cr_assert_str_eq(got[0], "105090259-446faf7a@192.168.1.2 missed abandoned");
    cr_assert_str_eq(got[1], "11894297-4432a9f8@192.168.1.2 missed no-answer");
    /* a phone's outbound calls the provider refused (403 wrong password,
     * after a 407 challenge): rejected, not a customer's missed call */
    cr_assert_str_eq(got[2], "24487391-449bf2a0@192.168.1.2 rejected forbidden");
    cr_assert_str_eq(got[3], "85216695-42dcdb1d@192.168.1.2 rejected forbidden");
    n = outcomes("sip-rtp-g722.pcap", got, 32);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(got[0], "1-2161@10.0.2.20 answered ");
}

static void answer(const char *id, const char *caller_ip, int caller_port, const char *callee_ip,
                   int callee_port)
{
    feed(id, "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL,
         sdp(caller_ip, caller_port, "sendrecv"));
    feed(id, "SIP/2.0 200 OK", "1 INVITE", "t1", sdp(callee_ip, callee_port, "sendrecv"));
}

Test(dialog, ended_call_lingers_for_late_media)
{
    answer("l", "10.0.0.1", 4000, "10.0.0.2", 5000);
    struct sip_call *c = feed("l", "BYE sip:600@pbx SIP/2.0", "2 BYE", "t1", NULL);
    cr_assert_eq(c->state, CALL_ENDED);
    struct sip_call *out[2];
    int side;
    struct pkt_addr callee = {.family = 4, .a = {10, 0, 0, 2}};
    /* 30 ms after the BYE: still the call's media, and still there */
    cr_assert_eq(dialogs_take_ended(d, now + 30000, 30000000, 5000000, out, 2), 0);
    cr_assert_eq(dialogs_match_media(d, &callee, 5000, &side), c);
    cr_assert_eq(side, CALL_FROM_CALLER);
    /* past the linger it is taken */
    cr_assert_eq(dialogs_take_ended(d, now + 5000001, 30000000, 5000000, out, 2), 1);
    cr_assert_eq(out[0], c);
    free(out[0]);
}

Test(dialog, new_call_on_a_lingering_address_ends_the_linger)
{
    answer("old", "10.0.0.1", 4000, "10.0.0.2", 5000);
    struct sip_call *old = feed("old", "BYE sip:600@pbx SIP/2.0", "2 BYE", "t1", NULL);
    uint64_t before = dialogs_preempted(d);
    answer("new", "10.0.0.3", 4002, "10.0.0.2", 5000); /* the PBX reuses the port */
    cr_assert_eq(dialogs_preempted(d), before + 1);
    int side;
    struct pkt_addr callee = {.family = 4, .a = {10, 0, 0, 2}};
    struct sip_call *c = dialogs_match_media(d, &callee, 5000, &side);
    cr_assert_str_eq(c->call_id, "new", "the new call gets the media, not the lingering one");
    struct sip_call *out[2];
    cr_assert_eq(dialogs_take_ended(d, now, 30000000, 5000000, out, 2), 1);
    cr_assert_eq(out[0], old);
    free(out[0]);
}

Test(dialog, refused_reinvite_changes_nothing)
{
    answer("x", "10.0.0.1", 4000, "10.0.0.2", 5000);
    const char *t38 = "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                      "m=image 4000 udptl t38\r\n";
    struct sip_call *c = feed("x", "INVITE sip:600@pbx SIP/2.0", "2 INVITE", "t1", t38);
    feed("x", "SIP/2.0 488 Not Acceptable Here", "2 INVITE", "t1", NULL);
    cr_assert(c->caller_media.valid && c->caller_media.port == 4000, "audio still flows");
    cr_assert(!c->t38, "a refused fax is no fax");
    enum sdp_kind kind;
    struct pkt_addr caller = {.family = 4, .a = {10, 0, 0, 1}};
    cr_assert_null(dialogs_match_extra(d, &caller, 4000, &kind));
    cr_assert_null(c->pending_sdp);
    /* offered again and accepted: now it is a fax */
    feed("x", "INVITE sip:600@pbx SIP/2.0", "3 INVITE", "t1", t38);
    const char *t38_ok = "v=0\r\no=- 1 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
                         "m=image 5000 udptl t38\r\n";
    feed("x", "SIP/2.0 200 OK", "3 INVITE", "t1", t38_ok);
    cr_assert(c->t38);
    cr_assert(!c->caller_media.valid, "the audio address carries the fax now");
    cr_assert_eq(dialogs_match_extra(d, &caller, 4000, &kind), c);
    cr_assert_eq(kind, SDP_IMAGE);
}

/* A full table: a newcomer replaces the oldest dialog the far side never
 * answered (or only challenged); calls being handled, by a response or by
 * media, never give way; with none to replace, the newcomer is dropped. */
Test(dialog, full_table_evicts_only_unanswered)
{
    dialogs_free(d);
    cr_assert_eq(dialogs_new(4, &d), 0);
    feed("trying", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    feed("trying", "SIP/2.0 100 Trying", "1 INVITE", NULL, NULL);
    struct sip_call *media = feed("media", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    dialogs_heard(d, media);
    feed("old", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    feed("challenged", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    feed("challenged", "SIP/2.0 401 Unauthorized", "1 INVITE", "t", NULL);
    struct dialogs_stats st;
    /* "old" (never answered) goes first, then "challenged" */
    cr_assert_not_null(feed("new1", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL));
    struct sip_call *out[4];
    cr_assert_eq(dialogs_take_evicted(d, out, 4), 1);
    cr_assert_str_eq(out[0]->call_id, "old");
    free(out[0]);
    feed("new1", "SIP/2.0 180 Ringing", "1 INVITE", "t", NULL);
    cr_assert_not_null(feed("new2", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL));
    cr_assert_eq(dialogs_take_evicted(d, out, 4), 1);
    cr_assert_str_eq(out[0]->call_id, "challenged");
    free(out[0]);
    feed("new2", "SIP/2.0 183 Session Progress", "1 INVITE", "t", NULL);
    /* trying, media, new1, new2: all handled; the next one is dropped */
    cr_assert_null(feed("new3", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL));
    dialogs_stats(d, &st);
    cr_assert_eq(st.evicted, 2);
    cr_assert_eq(st.dropped_full, 1);
    cr_assert_eq(dialogs_count(d), 4);
    /* a challenged caller that comes back with credentials is a call again */
    feed("again", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL); /* dropped: full */
    dialogs_stats(d, &st);
    cr_assert_eq(st.dropped_full, 2);
}

Test(dialog, challenged_then_retried_is_a_normal_call)
{
    feed("auth", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    struct sip_call *c =
        feed("auth", "SIP/2.0 407 Proxy Authentication Required", "1 INVITE", "t", NULL);
    cr_assert(c->challenged && c->in_idle, "a challenge alone leaves the dialog replaceable");
    feed("auth", "INVITE sip:600@pbx SIP/2.0", "2 INVITE", NULL, sdp("10.0.0.1", 4000, "sendrecv"));
    feed("auth", "SIP/2.0 180 Ringing", "2 INVITE", "t2", NULL);
    cr_assert(!c->in_idle && !c->challenged, "answered after the credentials: handled");
    feed("auth", "SIP/2.0 200 OK", "2 INVITE", "t2", sdp("10.0.0.2", 5000, "sendrecv"));
    cr_assert_eq(c->state, CALL_ANSWERED);
    feed("auth", "BYE sip:600@pbx SIP/2.0", "3 BYE", "t2", NULL);
    c = take_one();
    cr_assert_str_eq(c->disposition, "answered");
    free(c);
    /* retried with credentials, then busy: a customer who did not get through */
    feed("auth2", "INVITE sip:600@pbx SIP/2.0", "1 INVITE", NULL, NULL);
    feed("auth2", "SIP/2.0 401 Unauthorized", "1 INVITE", "t", NULL);
    feed("auth2", "INVITE sip:600@pbx SIP/2.0", "2 INVITE", NULL, NULL);
    feed("auth2", "SIP/2.0 486 Busy Here", "2 INVITE", "t3", NULL);
    c = take_one();
    cr_assert_str_eq(c->disposition, "missed");
    cr_assert_str_eq(c->reason, "busy");
    free(c);
}
