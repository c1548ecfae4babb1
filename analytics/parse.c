/* The PBX's lines into events: Asterisk's queue_log, cdr_csv's Master.csv,
 * and the JSON-lines format of docs/analytics.md. Pure functions of the
 * bytes: they never read past len, never trust a field, and hand back slices
 * of the line. */
#include "analytics/analytics_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_FIELDS 24

/* Splits on sep; at most max fields (the last one keeps the rest). */
static int split(const char *p, size_t len, char sep, struct es_str *f, int max)
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len && n < max; i++) {
        if (i == len || (p[i] == sep && n < max - 1)) {
            f[n].p = p + start;
            f[n].len = i - start;
            n++;
            start = i + 1;
        }
    }
    return n;
}

static bool whole(struct es_str s, long long lo, long long hi, long long *out)
{
    if (!s.len || s.len > 18)
        return false;
    long long v = 0;
    size_t i = 0;
    bool neg = s.p[0] == '-';
    if (neg)
        i = 1;
    if (i == s.len)
        return false;
    for (; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (s.p[i] - '0');
    }
    v = neg ? -v : v;
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* A number of seconds, or 0 when absent or not one (old Asterisk versions
 * leave fields out). */
static int secs(const struct es_str *f, int n, int i)
{
    long long v;
    return i < n && whole(f[i], 0, 100000000, &v) ? (int)v : 0;
}

static bool eq(struct es_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && !memcmp(s.p, lit, n);
}

static struct es_str none_empty(struct es_str s)
{
    if (eq(s, "NONE"))
        s.len = 0;
    return s;
}

int pbx_parse_queue_log(const uint8_t *line, size_t len, struct pbx_event *ev, const char **why)
{
    memset(ev, 0, sizeof *ev);
    const char *p = (const char *)line;
    while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    struct es_str f[MAX_FIELDS];
    int n = split(p, len, '|', f, MAX_FIELDS);
    if (n < 5) {
        *why = "not a queue_log line (time|callid|queue|agent|event|...)";
        return ES_EFORMAT;
    }
    /* epoch seconds, possibly with a fraction */
    struct es_str t = f[0];
    const char *dot = memchr(t.p, '.', t.len);
    long long sec;
    if (dot)
        t.len = (size_t)(dot - t.p);
    if (!whole(t, 0, 32503680000LL, &sec)) {
        *why = "the time is not seconds since 1970";
        return ES_EFORMAT;
    }
    ev->at = sec * 1000;
    ev->call = none_empty(f[1]);
    ev->queue = none_empty(f[2]);
    ev->agent = none_empty(f[3]);
    struct es_str e = f[4];
    const struct es_str *d = f + 5; /* the data fields */
    int nd = n - 5;
    if (eq(e, "ENTERQUEUE")) {
        ev->kind = PBX_ENTER;
        if (nd >= 2)
            ev->caller = d[1];
    } else if (eq(e, "CONNECT")) {
        ev->kind = PBX_CONNECT;
        ev->hold_s = secs(d, nd, 0);
        ev->ring_s = secs(d, nd, 2);
    } else if (eq(e, "COMPLETECALLER") || eq(e, "COMPLETEAGENT")) {
        ev->kind = PBX_COMPLETE;
        ev->by_agent = eq(e, "COMPLETEAGENT");
        ev->hold_s = secs(d, nd, 0);
        ev->talk_s = secs(d, nd, 1);
    } else if (eq(e, "BLINDTRANSFER") || eq(e, "TRANSFER")) {
        ev->kind = PBX_TRANSFER; /* extension|context|holdtime|calltime[|origposition] */
        ev->hold_s = secs(d, nd, 2);
        ev->talk_s = secs(d, nd, 3);
    } else if (eq(e, "ATTENDEDTRANSFER")) {
        /* BRIDGE|id|hold|call|pos, APP|app|hold|call|pos, LINK|ch1|ch2|hold|call|pos */
        int h = nd >= 1 && eq(d[0], "LINK") ? 3 : 2;
        ev->kind = PBX_TRANSFER;
        ev->hold_s = secs(d, nd, h);
        ev->talk_s = secs(d, nd, h + 1);
    } else if (eq(e, "ABANDON") || eq(e, "EXITWITHTIMEOUT") || eq(e, "EXITEMPTY")) {
        ev->kind = eq(e, "ABANDON")           ? PBX_ABANDON
                   : eq(e, "EXITWITHTIMEOUT") ? PBX_TIMEOUT
                                              : PBX_EXIT_EMPTY;
        ev->wait_s = secs(d, nd, 2); /* position|origposition|waittime */
    } else if (eq(e, "EXITWITHKEY")) {
        ev->kind = PBX_EXIT_KEY; /* key|position|origposition|waittime */
        ev->wait_s = secs(d, nd, 3);
    } else if (eq(e, "RINGNOANSWER")) {
        ev->kind = PBX_RING_NOANSWER;
    } else if (eq(e, "AGENTLOGIN") || eq(e, "ADDMEMBER")) {
        ev->kind = PBX_LOGIN;
        ev->member = eq(e, "ADDMEMBER");
    } else if (eq(e, "AGENTLOGOFF") || eq(e, "REMOVEMEMBER")) {
        ev->kind = PBX_LOGOFF;
        ev->member = eq(e, "REMOVEMEMBER");
    } else if (eq(e, "PAUSE") || eq(e, "PAUSEALL")) {
        ev->kind = PBX_PAUSE;
        if (nd >= 1)
            ev->reason = d[0];
        if (eq(e, "PAUSEALL"))
            ev->queue.len = 0;
    } else if (eq(e, "UNPAUSE") || eq(e, "UNPAUSEALL")) {
        ev->kind = PBX_UNPAUSE;
        if (eq(e, "UNPAUSEALL"))
            ev->queue.len = 0;
    } else if (eq(e, "RINGCANCELED") || eq(e, "CONFIGRELOAD") || eq(e, "QUEUESTART")) {
        ev->kind = PBX_NONE; /* understood: nothing to count */
    } else {
        *why = "an event not counted";
        return ES_EUNSUPP;
    }
    bool call_event = ev->kind >= PBX_ENTER && ev->kind <= PBX_RING_NOANSWER;
    if (call_event && (!ev->call.len || !ev->queue.len)) {
        *why = "a queue event without its call id or queue";
        return ES_EFORMAT;
    }
    bool agent_event = ev->kind >= PBX_LOGIN && ev->kind <= PBX_UNPAUSE;
    if ((agent_event || ev->kind == PBX_RING_NOANSWER || ev->kind == PBX_CONNECT) &&
        !ev->agent.len) {
        *why = "an agent event without its agent";
        return ES_EFORMAT;
    }
    return 0;
}

/* ---- cdr_csv ------------------------------------------------------------------ */

/* One CSV field: quoted ("" inside) or bare. The unquoted text is written to
 * out (at most outcap bytes); returns the position after the field's comma, or
 * SIZE_MAX when the quoting is broken. */
static size_t csv_field(const char *p, size_t len, size_t i, char *out, size_t outcap,
                        size_t *outlen)
{
    size_t o = 0;
    if (i < len && p[i] == '"') {
        i++;
        for (;;) {
            if (i >= len)
                return SIZE_MAX;
            if (p[i] == '"') {
                if (i + 1 < len && p[i + 1] == '"') {
                    if (o < outcap)
                        out[o++] = '"';
                    i += 2;
                    continue;
                }
                i++;
                break;
            }
            if (o < outcap)
                out[o++] = p[i];
            i++;
        }
        if (i < len && p[i] != ',')
            return SIZE_MAX;
    } else {
        while (i < len && p[i] != ',') {
            if (o < outcap)
                out[o++] = p[i];
            i++;
        }
    }
    *outlen = o;
    return i < len ? i + 1 : len + 1;
}

/* "YYYY-MM-DD HH:MM:SS" in the PBX's local time (cdr_csv's default). */
static bool cdr_time(const char *s, size_t n, int64_t *out)
{
    if (n == 0) {
        *out = 0;
        return true;
    }
    int y, mo, d, h, mi, se;
    char buf[32];
    if (n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    char extra;
    if (sscanf(buf, "%4d-%2d-%2d %2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &extra) != 6 ||
        y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = se,
                    .tm_isdst = -1};
    time_t t = mktime(&tm);
    if (t == (time_t)-1)
        return false;
    *out = (int64_t)t * 1000;
    return true;
}

int pbx_parse_cdr(const uint8_t *line, size_t len, struct pbx_event *ev, const char **why)
{
    memset(ev, 0, sizeof *ev);
    /* each field's text lives in a per-thread buffer: the slices stay valid
     * until the next line, as the header promises */
    static __thread char text[MAX_FIELDS][256];
    size_t tlen[MAX_FIELDS];
    const char *p = (const char *)line;
    while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    int n = 0;
    size_t i = 0;
    while (i <= len && n < MAX_FIELDS) {
        size_t next = csv_field(p, len, i, text[n], sizeof text[n], &tlen[n]);
        if (next == SIZE_MAX) {
            *why = "a quoted field is not closed";
            return ES_EFORMAT;
        }
        n++;
        i = next;
    }
    if (n < 16) {
        *why = "not a cdr_csv line (16 or more columns)";
        return ES_EFORMAT;
    }
    /* accountcode,src,dst,dcontext,clid,channel,dstchannel,lastapp,lastdata,
     * start,answer,end,duration,billsec,disposition,amaflags[,uniqueid,userfield,
     * peeraccount,linkedid,sequence] */
    int64_t start, answer, end;
    if (!cdr_time(text[9], tlen[9], &start) || !start || !cdr_time(text[10], tlen[10], &answer) ||
        !cdr_time(text[11], tlen[11], &end)) {
        *why = "start, answer or end is not YYYY-MM-DD HH:MM:SS";
        return ES_EFORMAT;
    }
    static const char *const dispositions[] = {"ANSWERED", "NO ANSWER", "BUSY", "FAILED",
                                               "CONGESTION"};
    bool known = false;
    for (size_t k = 0; k < ES_ARRAY_LEN(dispositions) && !known; k++)
        known = tlen[14] == strlen(dispositions[k]) && !memcmp(text[14], dispositions[k], tlen[14]);
    if (!known) {
        *why = "the disposition is not ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION";
        return ES_EFORMAT;
    }
    ev->kind = PBX_CDR;
    ev->at = start;
    ev->answered_at = answer;
    ev->ended_at = end;
    ev->caller = (struct es_str){text[1], tlen[1]};
    ev->callee = (struct es_str){text[2], tlen[2]};
    ev->reason = (struct es_str){text[14], tlen[14]};
    long long bill;
    struct es_str billsec = {text[13], tlen[13]};
    ev->talk_s = whole(billsec, 0, 100000000, &bill) ? (int)bill : 0;
    if (n >= 17 && tlen[16]) {
        ev->call = (struct es_str){text[16], tlen[16]};
    } else { /* no uniqueid logged: the channel and the start stand for it */
        size_t k = ES_MIN(tlen[5], sizeof text[MAX_FIELDS - 1] - 24);
        int m = snprintf(text[MAX_FIELDS - 1], sizeof text[0], "%.*s@%lld", (int)k, text[5],
                         (long long)start / 1000);
        ev->call = (struct es_str){text[MAX_FIELDS - 1], (size_t)m};
    }
    return 0;
}

void pbx_agent_operator_digits(const char *agent, size_t len, char *out, size_t outlen)
{
    /* after the technology (PJSIP/, SIP/, Local/, Agent/), up to @ - / */
    const char *s = agent, *e = agent + len;
    const char *slash = memchr(agent, '/', len);
    if (slash)
        s = slash + 1;
    const char *q = s;
    while (q < e && *q != '@' && *q != '-' && *q != '/')
        q++;
    bool digits = q > s;
    for (const char *c = s; c < q && digits; c++)
        digits = *c >= '0' && *c <= '9';
    if (digits) {
        snprintf(out, outlen, "%.*s", (int)(q - s), s);
        return;
    }
    snprintf(out, outlen, "%.*s", (int)ES_MIN(len, outlen - 1), agent); /* a name: itself */
}
