/* SIP dialogs become calls: who called whom, when it rang, when it was
 * answered and how it ended, and where each side receives its media (from the
 * SDP offer and answer, updated by re-INVITEs). Missed calls get the reason a
 * store cares about: abandoned (the caller gave up), busy, no-answer,
 * declined, unavailable, or failed:<code>. Attempts the PBX refused before
 * handling them (a scanner's INVITE challenged and never retried, 403, 404,
 * 484, or never answered at all) are `rejected` instead: not customers who
 * did not get through. Which codes count is the sip_reject_rule. */
#include "recorder/recorder.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BUCKETS          4096
#define SETUP_TIMEOUT_US (180LL * 1000000) /* RFC 3261 Timer C */
/* a dialog the far side never answered at all: the INVITE transaction's
 * own timeout, 64 * T1 (RFC 3261 Timer B) */
#define UNANSWERED_TIMEOUT_US (32LL * 1000000)

struct dialogs {
    struct sip_call *bucket[BUCKETS];
    struct call_media *media[BUCKETS]; /* index: receiving addr:port -> side */
    struct call_extra *extra[BUCKETS]; /* the same for video and T.38 */
    size_t nextra;                     /* endpoints in it: none, no lookups */
    size_t count, max;
    uint64_t dropped;   /* new calls refused at the limit: nothing could give way */
    uint64_t evicted_n; /* unanswered calls that gave way to new ones */
    struct sip_call *idle_head, *idle_tail; /* never answered, oldest first */
    struct sip_call *evicted;               /* given way, not yet taken */
    uint64_t preempted;                     /* lingering calls whose media address a new SDP took */
    struct sip_reject_rule reject;
};

static uint32_t hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

int dialogs_new(size_t max_calls, struct dialogs **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return ES_ENOMEM;
    (*out)->max = max_calls;
    sip_reject_rule_default(&(*out)->reject);
    return 0;
}

void dialogs_set_reject_rule(struct dialogs *d, const struct sip_reject_rule *rule)
{
    d->reject = *rule;
}

static void drop_pending(struct sip_call *c)
{
    free(c->pending_sdp);
    c->pending_sdp = NULL;
    c->pending_len = 0;
}

void dialogs_free(struct dialogs *d)
{
    if (!d)
        return;
    while (d->evicted) {
        struct sip_call *c = d->evicted;
        d->evicted = c->next;
        free(c);
    }
    for (size_t b = 0; b < BUCKETS; b++) {
        struct sip_call *c = d->bucket[b];
        while (c) {
            struct sip_call *next = c->next;
            drop_pending(c);
            free(c);
            c = next;
        }
    }
    free(d);
}

size_t dialogs_count(const struct dialogs *d)
{
    return d->count;
}

static void copy(char *dst, size_t cap, struct es_str s)
{
    size_t n = s.p ? ES_MIN(s.len, cap - 1) : 0;
    if (n)
        memcpy(dst, s.p, n);
    dst[n] = '\0';
}

static struct sip_call *find(struct dialogs *d, struct es_str id, uint32_t *bucket)
{
    *bucket = hash(id.p, id.len) % BUCKETS;
    for (struct sip_call *c = d->bucket[*bucket]; c; c = c->next)
        if (strlen(c->call_id) == id.len && !memcmp(c->call_id, id.p, id.len))
            return c;
    return NULL;
}

const char *sip_missed_reason(int status, bool cancelled, char *buf, size_t buflen)
{
    if (cancelled)
        return "abandoned";
    switch (status) {
    case 486:
    case 600:
        return "busy";
    case 480:
    case 408:
    case 0: /* no final answer at all */
        return "no-answer";
    case 603:
        return "declined";
    case 404:
    case 410:
    case 484:
    case 502:
    case 503:
    case 504:
        return "unavailable";
    }
    snprintf(buf, buflen, "failed:%d", status);
    return buf;
}

static bool code_in(const struct sip_reject_rule *r, int code)
{
    return code >= 300 && code < 700 && (r->codes[(code - 300) / 64] >> ((code - 300) % 64) & 1);
}

void sip_reject_rule_default(struct sip_reject_rule *out)
{
    static const int codes[] = {401, 403, 404, 407, 484};
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < ES_ARRAY_LEN(codes); i++)
        out->codes[(codes[i] - 300) / 64] |= 1ull << ((codes[i] - 300) % 64);
    out->no_response = true;
}

int sip_reject_rule_parse(const char *spec, struct sip_reject_rule *out, struct es_err *err)
{
    memset(out, 0, sizeof *out);
    const char *p = spec;
    while (*p) {
        size_t n = strcspn(p, ",");
        char tok[24];
        if (n == 0 || n >= sizeof tok)
            return es_seterr(err, ES_EINVAL, "rejected codes '%s': empty or overlong item", spec);
        memcpy(tok, p, n);
        tok[n] = '\0';
        char *end;
        long code = strtol(tok, &end, 10);
        if (!strcmp(tok, "no-response")) {
            out->no_response = true;
        } else if (!strcmp(tok, "default")) {
            struct sip_reject_rule def;
            sip_reject_rule_default(&def);
            for (size_t i = 0; i < ES_ARRAY_LEN(def.codes); i++)
                out->codes[i] |= def.codes[i];
            out->no_response = true;
        } else if (end != tok && !*end && code >= 300 && code <= 699) {
            if (code == 480 || code == 486 || code == 487 || code == 600 || code == 603)
                return es_seterr(err, ES_EINVAL,
                                 "rejected codes '%s': %ld means a customer did not get through;"
                                 " it stays a missed call",
                                 spec, code);
            out->codes[(code - 300) / 64] |= 1ull << ((code - 300) % 64);
        } else {
            return es_seterr(err, ES_EINVAL,
                             "rejected codes '%s': '%s' is not a SIP code 300-699, 'no-response'"
                             " or 'default'",
                             spec, tok);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* The reason an attempt counts as rejected, or NULL: it is a missed call. */
static const char *rejected_reason(const struct sip_reject_rule *r, const struct sip_call *c,
                                   int status, char *buf, size_t buflen)
{
    if (c->heard)
        return NULL; /* media flowed: someone handled it */
    if (!c->responded)
        return r->no_response ? "no-response" : NULL;
    if (!code_in(r, status))
        return NULL;
    switch (status) {
    case 401:
    case 407:
        return "challenged";
    case 403:
        return "forbidden";
    case 404:
        return "not-found";
    case 484:
        return "address-incomplete";
    }
    snprintf(buf, buflen, "refused:%d", status);
    return buf;
}

static uint32_t media_hash(const struct pkt_addr *a, uint16_t port)
{
    uint32_t h = hash((const char *)a->a, a->family == 6 ? 16 : 4);
    return (h ^ port * 2654435761u) % BUCKETS;
}

static void unindex(struct dialogs *d, struct call_media *cm)
{
    if (!cm->indexed)
        return;
    struct call_media **pp = &d->media[media_hash(&cm->addr, cm->port)];
    while (*pp && *pp != cm)
        pp = &(*pp)->next_in_index;
    if (*pp)
        *pp = cm->next_in_index;
    cm->indexed = false;
    cm->next_in_index = NULL;
}

static bool same_media(const struct call_media *a, const struct call_media *b)
{
    return a->port == b->port && pkt_addr_eq(&a->addr, &b->addr);
}

static void reindex(struct dialogs *d, struct sip_call *c, struct call_media *cm)
{
    unindex(d, cm);
    if (!cm->valid)
        return;
    uint32_t b = media_hash(&cm->addr, cm->port);
    /* a call that ended but lingers gives its address up to the new one */
    for (struct call_media *o = d->media[b]; o; o = o->next_in_index)
        if (o->call != c && o->call->state == CALL_ENDED && !o->call->preempted &&
            same_media(o, cm)) {
            o->call->preempted = true;
            d->preempted++;
        }
    cm->call = c;
    cm->next_in_index = d->media[b];
    d->media[b] = cm;
    cm->indexed = true;
}

static bool from_caller(const struct sip_call *c, const struct sip_msg *m)
{
    return strlen(c->from_tag) == m->from_tag.len &&
           !memcmp(c->from_tag, m->from_tag.p ? m->from_tag.p : "", m->from_tag.len);
}

static void extra_unindex(struct dialogs *d, struct call_extra *e)
{
    if (!e->indexed)
        return;
    struct call_extra **pp = &d->extra[media_hash(&e->addr, e->port)];
    while (*pp && *pp != e)
        pp = &(*pp)->next_in_index;
    if (*pp)
        *pp = e->next_in_index;
    e->indexed = false;
    e->next_in_index = NULL;
    d->nextra--;
}

static void extra_index(struct dialogs *d, struct sip_call *c, struct call_extra *e,
                        const struct sdp_media *sm)
{
    extra_unindex(d, e);
    e->call = c;
    e->addr = sm->addr;
    e->port = sm->port;
    e->kind = sm->kind;
    uint32_t b = media_hash(&e->addr, e->port);
    e->next_in_index = d->extra[b];
    d->extra[b] = e;
    e->indexed = true;
    d->nextra++;
}

static void note_video(struct sip_call *c, const struct sdp_media *sm)
{
    for (int f = 0; f < sm->nfmt; f++) {
        struct sdp_rtpmap scratch;
        const struct sdp_rtpmap *map = sdp_rtpmap_of(sm, sm->fmt[f], &scratch);
        static const struct {
            uint8_t pt;
            const char *name;
        } video_static[] = {{26, "JPEG"}, {31, "H261"}, {32, "MPV"}, {34, "H263"}};
        const char *name = map && sm->fmt[f] >= 96 ? map->name : NULL;
        for (size_t i = 0; !name && i < ES_ARRAY_LEN(video_static); i++)
            if (video_static[i].pt == sm->fmt[f])
                name = video_static[i].name;
        if (!name || !strcasecmp(name, "rtx") || !strcasecmp(name, "red") ||
            !strcasecmp(name, "ulpfec"))
            continue;
        bool have = false;
        for (int i = 0; i < c->nvideo && !have; i++)
            have = !strcasecmp(c->video[i], name);
        if (!have && c->nvideo < CALL_MAX_VIDEO_CODECS)
            snprintf(c->video[c->nvideo++], sizeof c->video[0], "%s", name);
    }
}

/* Media from an SDP body: the first audio stream's address, port, formats;
 * video and T.38 endpoints, so their packets are known and left alone. */
static void take_sdp_body(struct dialogs *d, struct sip_call *c, struct call_media *cm,
                          const char *body, size_t len)
{
    struct sdp s;
    if (!len || sdp_parse((const uint8_t *)body, len, &s))
        return;
    int side = cm == &c->caller_media ? 0 : 1;
    bool audio_done = false, seen[2] = {false, false};
    for (int i = 0; i < s.nmedia; i++) {
        const struct sdp_media *sm = &s.media[i];
        if (!sm->has_addr)
            continue;
        if ((sm->kind == SDP_VIDEO || sm->kind == SDP_IMAGE) && sm->port) {
            int k = sm->kind == SDP_VIDEO ? 0 : 1;
            if (seen[k])
                continue;
            seen[k] = true;
            extra_index(d, c, &c->extra[side][k], sm);
            if (k == 0)
                note_video(c, sm);
            else if (sm->t38 && c->extra[!side][1].indexed)
                c->t38 = true; /* offered by one side, accepted by the other */
            continue;
        }
        if (!sm->audio || audio_done)
            continue;
        audio_done = true;
        cm->dir = sm->dir;
        cm->media = *sm;
        unindex(d, cm);
        cm->addr = sm->addr;
        cm->port = sm->port;
        cm->valid = sm->port != 0;
        cm->changes++;
        reindex(d, c, cm);
    }
    for (int k = 0; k < 2; k++) /* an m-line gone (back to audio after a fax) */
        if (!seen[k])
            extra_unindex(d, &c->extra[side][k]);
    if (!audio_done && seen[1]) {
        /* a fax instead of audio (m=image alone): the audio address now
         * carries UDPTL, which must not go on down the RTP path */
        unindex(d, cm);
        cm->valid = false;
    }
    if (seen[0] || seen[1] || !audio_done)
        cm->changes++; /* the recorder drops its cached flows for the call */
}

static void take_sdp(struct dialogs *d, struct sip_call *c, struct call_media *cm,
                     const struct sip_msg *m)
{
    take_sdp_body(d, c, cm, m->body.p, m->body.len);
}

/* A re-INVITE's offer in an answered call takes effect with its 2xx: a
 * refused change (488 to a T.38 offer, a failed hold) changes nothing. */
static void hold_offer(struct sip_call *c, const struct sip_msg *m)
{
    drop_pending(c);
    if (!m->body.len || !(c->pending_sdp = malloc(m->body.len)))
        return;
    memcpy(c->pending_sdp, m->body.p, m->body.len);
    c->pending_len = m->body.len;
    c->pending_cseq = m->cseq;
    c->pending_from_caller = from_caller(c, m);
}

struct sip_call *dialogs_match_extra(struct dialogs *d, const struct pkt_addr *dst, uint16_t port,
                                     enum sdp_kind *kind)
{
    if (!d->nextra)
        return NULL;
    for (struct call_extra *e = d->extra[media_hash(dst, port)]; e; e = e->next_in_index)
        if (e->port == port && pkt_addr_eq(&e->addr, dst) && !e->call->preempted) {
            *kind = e->kind;
            return e->call;
        }
    return NULL;
}

static void end_call(struct dialogs *d, struct sip_call *c, int64_t ts_us, int status)
{
    if (c->state == CALL_ENDED)
        return;
    c->end_us = ts_us;
    if (c->state == CALL_ANSWERED) {
        snprintf(c->disposition, sizeof c->disposition, "answered");
        c->reason[0] = '\0';
    } else {
        if (!status && c->challenged)
            status = c->challenge_status; /* never came back with credentials */
        char buf[32];
        const char *why = rejected_reason(&d->reject, c, status, buf, sizeof buf);
        snprintf(c->disposition, sizeof c->disposition, "%s", why ? "rejected" : "missed");
        snprintf(c->reason, sizeof c->reason, "%s",
                 why ? why : sip_missed_reason(status, c->cancelled, buf, sizeof buf));
    }
    c->final_status = status;
    c->state = CALL_ENDED;
}

/* The idle queue: dialogs the far side has not answered (or only
 * challenged) and that carried no media, oldest first. Scanners' INVITEs
 * live here; calls being handled never do. */
static void idle_remove(struct dialogs *d, struct sip_call *c)
{
    if (!c->in_idle)
        return;
    if (c->idle_prev)
        c->idle_prev->idle_next = c->idle_next;
    else
        d->idle_head = c->idle_next;
    if (c->idle_next)
        c->idle_next->idle_prev = c->idle_prev;
    else
        d->idle_tail = c->idle_prev;
    c->idle_prev = c->idle_next = NULL;
    c->in_idle = false;
}

static void idle_append(struct dialogs *d, struct sip_call *c)
{
    idle_remove(d, c);
    c->idle_prev = d->idle_tail;
    if (d->idle_tail)
        d->idle_tail->idle_next = c;
    else
        d->idle_head = c;
    d->idle_tail = c;
    c->in_idle = true;
}

static void unindex_all(struct dialogs *d, struct sip_call *c);

/* Takes the call out of the table (buckets, indexes, queue) into the list
 * of evicted calls for the recorder to take. */
static bool evict_oldest_idle(struct dialogs *d)
{
    struct sip_call *c = d->idle_head;
    if (!c)
        return false;
    idle_remove(d, c);
    uint32_t b = hash(c->call_id, strlen(c->call_id)) % BUCKETS;
    for (struct sip_call **pp = &d->bucket[b]; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    unindex_all(d, c);
    drop_pending(c);
    c->next = d->evicted;
    d->evicted = c;
    d->count--;
    d->evicted_n++;
    return true;
}

static struct sip_call *new_call(struct dialogs *d, const struct sip_msg *m, const struct pkt *p,
                                 int64_t ts_us, uint32_t b)
{
    if (d->count >= d->max && !evict_oldest_idle(d)) {
        d->dropped++;
        return NULL;
    }
    struct sip_call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    copy(c->call_id, sizeof c->call_id, m->call_id);
    copy(c->from_tag, sizeof c->from_tag, m->from_tag);
    copy(c->caller, sizeof c->caller, m->from_user);
    copy(c->callee, sizeof c->callee, m->to_user);
    copy(c->caller_ua, sizeof c->caller_ua, m->user_agent);
    c->caller_sig = p->src;
    c->invite_us = c->last_us = ts_us;
    c->invite_cseq = m->cseq;
    c->state = CALL_INVITED;
    c->next = d->bucket[b];
    d->bucket[b] = c;
    d->count++;
    idle_append(d, c);
    return c;
}

static void on_request(struct dialogs *d, struct sip_call *c, const struct sip_msg *m,
                       int64_t ts_us)
{
    if (sip_str_eq(m->method, "INVITE") || sip_str_eq(m->method, "ACK") ||
        sip_str_eq(m->method, "UPDATE")) {
        /* an offer (or a late answer in ACK) from whichever side sent it */
        if (c->state == CALL_ANSWERED && sip_str_eq(m->method, "INVITE") &&
            m->cseq != c->invite_cseq)
            hold_offer(c, m);
        else if (c->state != CALL_ENDED)
            take_sdp(d, c, from_caller(c, m) ? &c->caller_media : &c->callee_media, m);
        if (sip_str_eq(m->method, "INVITE") && m->session_expires)
            c->session_expires = m->session_expires;
    } else if (sip_str_eq(m->method, "CANCEL")) {
        if (c->state == CALL_INVITED || c->state == CALL_RINGING)
            c->cancelled = true;
    } else if (sip_str_eq(m->method, "BYE")) {
        end_call(d, c, ts_us, 0);
    }
}

static void on_response(struct dialogs *d, struct sip_call *c, const struct sip_msg *m,
                        int64_t ts_us)
{
    if (!sip_str_eq(m->cseq_method, "INVITE"))
        return;
    int s = m->status;
    /* the far side answers: handled, unless it only asks for credentials
     * (the caller may never come back: a scanner does not) */
    c->responded = true;
    c->challenged = s == 401 || s == 407;
    c->challenge_status = c->challenged ? s : 0;
    if (c->challenged && c->state == CALL_INVITED)
        idle_append(d, c);
    else
        idle_remove(d, c);
    if (!c->callee_ua[0])
        copy(c->callee_ua, sizeof c->callee_ua, m->user_agent);
    if (s >= 180 && s < 200) {
        if (c->state == CALL_INVITED) {
            c->state = CALL_RINGING;
            c->ring_us = ts_us;
        }
        take_sdp(d, c, from_caller(c, m) ? &c->callee_media : &c->caller_media, m); /* early */
    } else if (s >= 200 && s < 300) {
        if (c->state == CALL_INVITED || c->state == CALL_RINGING) {
            if (!c->ring_us)
                c->ring_us = ts_us;
            c->state = CALL_ANSWERED;
            c->answer_us = ts_us;
            copy(c->to_tag, sizeof c->to_tag, m->to_tag);
        }
        if (c->pending_sdp && m->cseq == c->pending_cseq) { /* the re-INVITE's offer holds */
            take_sdp_body(d, c, c->pending_from_caller ? &c->caller_media : &c->callee_media,
                          c->pending_sdp, c->pending_len);
            drop_pending(c);
        }
        /* a response carries the request's From: its SDP is the other side's */
        take_sdp(d, c, from_caller(c, m) ? &c->callee_media : &c->caller_media, m);
    } else if (s >= 300 && s != 401 && s != 407) {
        if (c->pending_sdp && m->cseq == c->pending_cseq)
            drop_pending(c); /* refused: the media stay as they were */
        /* 401/407 are challenges: the INVITE is sent again with credentials */
        if (c->state == CALL_INVITED || c->state == CALL_RINGING)
            end_call(d, c, ts_us, s);
    }
}

struct sip_call *dialogs_on_sip(struct dialogs *d, const struct sip_msg *m, const struct pkt *p,
                                int64_t ts_us)
{
    uint32_t b;
    struct sip_call *c = find(d, m->call_id, &b);
    if (!c) {
        /* only an initial INVITE starts a call; REGISTER, OPTIONS ... do not */
        if (!m->is_request || !sip_str_eq(m->method, "INVITE") || m->to_tag.p)
            return NULL;
        c = new_call(d, m, p, ts_us, b);
        if (!c)
            return NULL;
    }
    c->last_us = ts_us;
    if (m->is_request)
        on_request(d, c, m, ts_us);
    else
        on_response(d, c, m, ts_us);
    return c;
}

struct sip_call *dialogs_match_media(struct dialogs *d, const struct pkt_addr *dst, uint16_t port,
                                     int *side)
{
    struct call_media *ended = NULL;
    for (struct call_media *cm = d->media[media_hash(dst, port)]; cm; cm = cm->next_in_index) {
        if (cm->port != port || !pkt_addr_eq(&cm->addr, dst) || cm->call->preempted)
            continue;
        if (cm->call->state == CALL_ENDED) {
            ended = ended ? ended : cm;
            continue;
        }
        ended = cm;
        break;
    }
    if (!ended)
        return NULL;
    /* audio sent to the caller's address comes from the callee, and back */
    *side = ended == &ended->call->caller_media ? CALL_FROM_CALLEE : CALL_FROM_CALLER;
    return ended->call;
}

static void unindex_all(struct dialogs *d, struct sip_call *c)
{
    unindex(d, &c->caller_media);
    unindex(d, &c->callee_media);
    for (int i = 0; i < 4; i++)
        extra_unindex(d, &c->extra[i / 2][i % 2]);
}

void dialogs_heard(struct dialogs *d, struct sip_call *c)
{
    c->heard = true;
    idle_remove(d, c);
}

size_t dialogs_take_evicted(struct dialogs *d, struct sip_call **out, size_t max)
{
    size_t n = 0;
    while (d->evicted && n < max) {
        struct sip_call *c = d->evicted;
        d->evicted = c->next;
        c->next = NULL;
        out[n++] = c;
    }
    return n;
}

void dialogs_stats(const struct dialogs *d, struct dialogs_stats *out)
{
    out->dropped_full = d->dropped;
    out->evicted = d->evicted_n;
}

uint64_t dialogs_preempted(const struct dialogs *d)
{
    return d->preempted;
}

size_t dialogs_take_ended(struct dialogs *d, int64_t now_us, int64_t idle_us, int64_t linger_us,
                          struct sip_call **out, size_t max)
{
    size_t n = 0;
    for (size_t b = 0; b < BUCKETS && n < max; b++) {
        struct sip_call **pp = &d->bucket[b];
        while (*pp && n < max) {
            struct sip_call *c = *pp;
            /* an answered call ends after idle_us without SIP or media (or its
             * session expiry); a call being set up may ring, or wait for a
             * user to re-enter credentials (a phone prompting for a password:
             * a minute is not unusual), for up to SETUP_TIMEOUT_US; one the
             * far side never answered at all is given up with its INVITE
             * transaction */
            int64_t limit = c->state == CALL_ANSWERED     ? idle_us
                            : c->in_idle && !c->responded ? UNANSWERED_TIMEOUT_US
                                                          : SETUP_TIMEOUT_US;
            if (c->state == CALL_ANSWERED && c->session_expires)
                limit = ES_MAX(limit, (int64_t)c->session_expires * 1000000);
            bool silent = c->state != CALL_ENDED && now_us - c->last_us > limit;
            if (silent)
                end_call(d, c, c->last_us, 0); /* silence on the wire: over, no linger */
            if (c->state == CALL_ENDED &&
                (silent || linger_us <= 0 || now_us - c->last_us >= linger_us || c->preempted)) {
                drop_pending(c);
                idle_remove(d, c);
                unindex_all(d, c);
                *pp = c->next;
                c->next = NULL;
                out[n++] = c; /* the caller frees it */
                d->count--;
            } else {
                pp = &c->next;
            }
        }
    }
    return n;
}

void dialogs_end_all(struct dialogs *d)
{
    for (size_t b = 0; b < BUCKETS; b++)
        for (struct sip_call *c = d->bucket[b]; c; c = c->next)
            if (c->state != CALL_ENDED)
                end_call(d, c, c->last_us, 0); /* ended when last heard */
}
