/* Committing a recorded call: its catalog fields, the details JSON (user
 * agents, codecs, RTP statistics, DTMF markers), and the recording itself;
 * and the operators spec that decides direction and channel order. */
#include "recorder/record_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* "101,102,200-299,10.0.0.0/24": extensions, ranges, address blocks. */
static bool matches_operator(const char *spec, const char *user, const struct pkt_addr *addr)
{
    if (!spec || !*spec)
        return false;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = buf, *next; tok && *tok; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        char *slash = strchr(tok, '/'), *dash = strchr(tok, '-');
        if (slash && addr) {
            *slash = '\0';
            struct pkt_addr net = {0};
            int bits = (int)strtol(slash + 1, NULL, 10);
            net.family = strchr(tok, ':') ? 6 : 4;
            if (inet_pton(net.family == 6 ? AF_INET6 : AF_INET, tok, net.a) != 1 ||
                net.family != addr->family || bits < 0 || bits > (net.family == 6 ? 128 : 32))
                continue;
            bool in = true;
            for (int b = 0; b < bits && in; b++)
                in = ((net.a[b / 8] ^ addr->a[b / 8]) >> (7 - b % 8) & 1) == 0;
            if (in)
                return true;
        } else if (dash && user && *user) {
            char *end;
            long lo = strtol(tok, &end, 10), hi = strtol(dash + 1, NULL, 10), v;
            bool digits = *user != '\0';
            for (const char *c = user; *c; c++)
                digits &= isdigit((unsigned char)*c) != 0;
            v = digits ? strtol(user, NULL, 10) : -1;
            if (digits && strlen(user) < 12 && v >= lo && v <= hi)
                return true;
        } else if (user && !strcmp(tok, user)) {
            return true;
        }
    }
    return false;
}

/* Which party is the operator decides the direction and the channels. */
static void direction(const struct rec_call *rc, const char **dir, int *operator_party)
{
    const struct recorder_opts *o = &rc->r->o;
    *operator_party = -1;
    if (!rc->sip) {
        *dir = "unknown";
        return;
    }
    bool a = matches_operator(o->operators, rc->sip->caller, &rc->sip->caller_sig);
    bool b = matches_operator(o->operators, rc->sip->callee, NULL);
    if (a && b) {
        *dir = "internal";
        *operator_party = 1;
    } else if (a) {
        *dir = "outbound";
        *operator_party = 0;
    } else if (b || (o->operators && *o->operators)) {
        *dir = "inbound";
        *operator_party = 1;
    } else {
        *dir = "unknown";
    }
}

bool recorder_caller_is_customer(struct rec_call *rc)
{
    /* asked for every RTP packet; the parties never change, so decide once */
    if (rc->caller_is_customer < 0) {
        const char *dir;
        int op;
        direction(rc, &dir, &op);
        rc->caller_is_customer = op != 0; /* unless the caller is the operator */
    }
    return rc->caller_is_customer;
}

void recorder_fill_call(struct rec_call *rc, struct archive_call *k)
{
    if (k->id[0])
        return; /* filled when the writer opened; the id is in the file's tags */
    const struct sip_call *c = rc->sip;
    int64_t start_us = c ? c->invite_us : rc->first_rtp_us;
    k->started_at = start_us / 1000;
    es_uuid7(k->started_at, k->id);
    const char *dir;
    int op;
    direction(rc, &dir, &op);
    snprintf(k->direction, sizeof k->direction, "%s", dir);
    snprintf(k->source, sizeof k->source, "recorder");
    snprintf(k->source_ref, sizeof k->source_ref, "%s",
             rc->r->o.source_ref ? rc->r->o.source_ref : "");
    snprintf(k->meta_sources, sizeof k->meta_sources, "{}");
    snprintf(k->tags, sizeof k->tags, "[]");
    k->ring_ms = k->talk_ms = -1;
    /* the same dialog from the same capture is the same call: re-running a
     * file finds it already archived */
    char key[600];
    uint8_t h[32];
    if (c)
        snprintf(key, sizeof key, "sip:%s:%lld", c->call_id, (long long)c->invite_us);
    else
        snprintf(key, sizeof key, "rtp:%u:%u:%lld", rc->pa, rc->pb, (long long)rc->first_rtp_us);
    crypto_hash_sha256(h, (const unsigned char *)key, strlen(key));
    es_hex(h, 32, k->source_sha256);
    if (!c)
        return;
    snprintf(k->sip_call_id, sizeof k->sip_call_id, "%s", c->call_id);
    snprintf(k->caller, sizeof k->caller, "%s", c->caller);
    snprintf(k->callee, sizeof k->callee, "%s", c->callee);
    const char *oper = op == 0 ? c->caller : op == 1 ? c->callee : "";
    const char *cust = op == 0 ? c->callee : c->caller;
    snprintf(k->operator_, sizeof k->operator_, "%s", oper);
    snprintf(k->customer, sizeof k->customer, "%s", cust);
}

static json_t *addr_port(const struct pkt_addr *a, uint16_t port)
{
    char s[64], out[80];
    pkt_addr_str(a, s, sizeof s);
    snprintf(out, sizeof out, a->family == 6 ? "[%s]:%u" : "%s:%u", s, port);
    return json_string(out);
}

static void details(struct rec_call *rc, struct archive_call *k)
{
    json_t *o = json_object(), *uas = json_array(), *codecs = json_array(), *rtp = json_array(),
           *dt = json_array();
    if (rc->sip) {
        if (rc->sip->caller_ua[0])
            json_array_append_new(uas, json_string(rc->sip->caller_ua));
        if (rc->sip->callee_ua[0])
            json_array_append_new(uas, json_string(rc->sip->callee_ua));
    }
    for (int i = 0; i < rc->ncodecs; i++)
        json_array_append_new(codecs, json_string(rc->codecs[i]));
    for (int i = 0; i < rc->nstreams; i++) {
        struct rec_stream *s = &rc->streams[i];
        rtp_stats_end(&s->st);
        json_t *j = json_pack(
            "{s:I, s:i, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:s}", "ssrc",
            (json_int_t)s->ssrc, "payload_type", s->pt, "codec", s->codec, "src",
            addr_port(&s->src, s->sport), "dst", addr_port(&s->dst, s->dport), "packets",
            (json_int_t)s->st.packets, "lost", (json_int_t)s->st.lost, "duplicates",
            (json_int_t)s->st.duplicates, "out_of_order", (json_int_t)s->st.out_of_order,
            "jitter_ms", s->st.mean_jitter_ms, "max_jitter_ms", s->st.max_jitter_ms, "max_delta_ms",
            s->st.max_delta_ms, "side", s->channel ? "operator" : "customer");
        if (s->copy_of >= 0) /* the same packets seen again: in the statistics, not the audio */
            json_object_set_new(j, "copy_of_ssrc",
                                json_integer((json_int_t)rc->streams[s->copy_of].ssrc));
        json_array_append_new(rtp, j);
    }
    int64_t origin = rc->first_audio_us ? rc->first_audio_us : rc->first_rtp_us;
    for (int i = 0; i < rc->ndtmf; i++) {
        const struct rec_dtmf *d = &rc->dtmf[i];
        char digit[2] = {d->digit, 0};
        json_array_append_new(dt, json_pack("{s:I, s:o, s:i, s:s}", "at_ms",
                                            (json_int_t)((d->at_us - origin) / 1000), "digit",
                                            rc->r->o.mask_dtmf ? json_null() : json_string(digit),
                                            "duration_ms", d->duration_ms, "side",
                                            d->channel ? "operator" : "customer"));
    }
    if (rc->npauses || rc->pauses_unlisted) { /* PCI: silent, digits dropped */
        int64_t end = rc->sip && rc->sip->end_us ? rc->sip->end_us : rc->last_rtp_us;
        json_object_set_new(o, "pci_pauses", rec_pci_json(rc, origin, end));
        if (rc->pauses_unlisted)
            json_object_set_new(o, "pci_pauses_unlisted", json_integer(rc->pauses_unlisted));
    }
    if (rc->sip) { /* who sent the INVITE, and the final answer to it */
        char a[64];
        pkt_addr_str(&rc->sip->caller_sig, a, sizeof a);
        json_object_set_new(o, "sip_source", json_string(a));
        if (rc->sip->final_status)
            json_object_set_new(o, "sip_status", json_integer(rc->sip->final_status));
    }
    json_object_set_new(o, "user_agents", uas);
    json_object_set_new(o, "codecs", codecs);
    json_object_set_new(o, "rtp", rtp);
    json_object_set_new(o, "dtmf", dt);
    const char *problem = rc->decode_error[0] ? rc->decode_error : rc->undecodable;
    if (problem[0])
        json_object_set_new(o, "audio_problem", json_string(problem));
    if (rc->sip && (rc->sip->t38 || rc->t38_packets)) {
        json_object_set_new(o, "fax", json_string("t38"));
        json_object_set_new(o, "t38_packets", json_integer((json_int_t)rc->t38_packets));
    }
    if (rc->sip && rc->sip->nvideo) {
        json_t *v = json_array();
        for (int i = 0; i < rc->sip->nvideo; i++)
            json_array_append_new(v, json_string(rc->sip->video[i]));
        json_object_set_new(o, "video", v);
        json_object_set_new(o, "video_packets", json_integer((json_int_t)rc->video_packets));
    }
    if (rc->stray_rtp_packets)
        json_object_set_new(o, "stray_rtp_packets",
                            json_integer((json_int_t)rc->stray_rtp_packets));
    if (rc->overload_dropped) /* the gaps this left are silence in the recording */
        json_object_set_new(o, "overload_dropped", json_integer((json_int_t)rc->overload_dropped));
    char *s = json_dumps(o, JSON_COMPACT);
    if (s && strlen(s) < sizeof k->details)
        memcpy(k->details, s, strlen(s) + 1);
    else
        snprintf(k->details, sizeof k->details, "{\"details_truncated\":true}");
    free(s);
    json_decref(o);
}

enum rec_outcome recorder_commit_call(struct rec_call *rc, struct catalog *cat)
{
    if (!rc->call)
        rc->call = calloc(1, sizeof *rc->call);
    if (!rc->call) {
        ES_ERROR("record", "call %s: out of memory", rc->sip ? rc->sip->call_id : "(unknown)");
        return OUT_FAILED;
    }
    struct archive_call *k = rc->call;
    const struct sip_call *c = rc->sip;
    recorder_fill_call(rc, k);
    snprintf(k->disposition, sizeof k->disposition, "%s", c ? c->disposition : "answered");
    snprintf(k->reason, sizeof k->reason, "%s", c ? c->reason : "");
    if (c) {
        k->ring_ms = c->ring_us ? (c->ring_us - c->invite_us) / 1000 : -1;
        k->talk_ms = c->answer_us ? (c->end_us - c->answer_us) / 1000 : -1;
    }
    details(rc, k);
    struct es_err err = {{0}};
    char path[512] = "";
    int rc2 = 0;
    bool answered = !strcmp(k->disposition, "answered");
    if (rc->aw && answered && !rc->error[0]) {
        const struct archive_recording *rec;
        const struct archive_analysis *an;
        rc2 = archive_writer_finish(rc->aw, &rec, &an, &err);
        if (!rc2)
            rc2 = archive_writer_commit(rc->aw, cat, k, path, sizeof path, &err);
    } else {
        if (answered && !rc->aw && !k->reason[0])
            snprintf(k->reason, sizeof k->reason, "%s",
                     rc->error[0]                                ? "recording failed"
                     : rc->decode_error[0] || rc->undecodable[0] ? "audio not decodable"
                                                                 : "no audio captured");
        int64_t end_us = c ? c->end_us : rc->last_rtp_us;
        k->duration_ms = (end_us - (c ? c->invite_us : rc->first_rtp_us)) / 1000;
        k->ended_at = k->started_at + k->duration_ms;
        rc2 = catalog_insert_call(cat, k, NULL, NULL);
    }
    if (rc2 == ES_EEXIST) {
        ES_INFO("record", "call %s already archived", k->sip_call_id[0] ? k->sip_call_id : k->id);
        return OUT_SKIPPED;
    }
    if (rc2) {
        ES_ERROR("record", "call %s: %s", k->id, err.msg[0] ? err.msg : catalog_strerror(cat, rc2));
        return OUT_FAILED;
    }
    if (answered) {
        ES_INFO("record", "archived call=%s duration_ms=%lld file=%s", k->id,
                (long long)k->duration_ms, path[0] ? path : "-");
        return OUT_ARCHIVED;
    }
    if (!strcmp(k->disposition, "rejected")) {
        ES_DEBUG("record", "rejected call=%s reason=%s", k->id, k->reason);
        return OUT_REJECTED;
    }
    ES_INFO("record", "missed call=%s reason=%s", k->id, k->reason);
    return OUT_MISSED;
}
