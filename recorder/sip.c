/* SIP messages (RFC 3261): start line, the headers a recorder needs (compact
 * forms too), and the body framed by Content-Length. Values are slices into
 * the packet; nothing is copied or allocated. */
#include "recorder/recorder.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const uint8_t *find_crlf(const uint8_t *p, const uint8_t *end)
{
    for (; p + 1 < end; p++)
        if (p[0] == '\r' && p[1] == '\n')
            return p;
    return NULL;
}

static struct es_str trim(const uint8_t *a, const uint8_t *b)
{
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r' || b[-1] == '\n'))
        b--;
    return (struct es_str){(const char *)a, (size_t)(b - a)};
}

static int eq(struct es_str s, const char *lit)
{
    return s.len == strlen(lit) && !strncasecmp(s.p, lit, s.len);
}

/* Value of ";name=" inside a header value (tag, branch), up to ; , or space. */
static struct es_str param(struct es_str v, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i + nl + 1 < v.len; i++) {
        if (v.p[i] != ';' || strncasecmp(v.p + i + 1, name, nl) || v.p[i + 1 + nl] != '=')
            continue;
        size_t s = i + 2 + nl, e = s;
        while (e < v.len && v.p[e] != ';' && v.p[e] != ',' && v.p[e] != ' ' && v.p[e] != '>')
            e++;
        return (struct es_str){v.p + s, e - s};
    }
    return (struct es_str){NULL, 0};
}

/* The user part of the URI in a From/To value: "Bob" <sip:101@pbx>;tag=x -> 101 */
static struct es_str uri_user(struct es_str v)
{
    const char *p = v.p, *end = v.p + v.len;
    const char *lt = memchr(p, '<', v.len);
    if (lt)
        p = lt + 1;
    for (const char *s = p; s + 4 <= end; s++) {
        if (!strncasecmp(s, "sip:", 4) || !strncasecmp(s, "tel:", 4) ||
            (s + 5 <= end && !strncasecmp(s, "sips:", 5))) {
            s += s[3] == ':' ? 4 : 5;
            const char *e = s;
            while (e < end && *e != '@' && *e != '>' && *e != ';' && *e != ':' && *e != ' ')
                e++;
            return (struct es_str){s, (size_t)(e - s)};
        }
    }
    return (struct es_str){NULL, 0};
}

static int parse_uint(struct es_str v, uint32_t max, uint32_t *out)
{
    uint64_t n = 0;
    size_t i = 0;
    if (!v.len)
        return ES_EFORMAT;
    for (; i < v.len && isdigit((unsigned char)v.p[i]); i++) {
        n = n * 10 + (uint64_t)(v.p[i] - '0');
        if (n > max)
            return ES_EFORMAT;
    }
    if (i == 0)
        return ES_EFORMAT;
    *out = (uint32_t)n;
    return 0;
}

static int start_line(struct sip_msg *m, const uint8_t *p, const uint8_t *e)
{
    struct es_str l = {(const char *)p, (size_t)(e - p)};
    if (l.len > 8 && !strncmp(l.p, "SIP/2.0 ", 8)) {
        uint32_t code;
        struct es_str c = {l.p + 8, l.len - 8};
        if (c.len < 3 || parse_uint((struct es_str){c.p, 3}, 999, &code) || code < 100)
            return ES_EFORMAT;
        m->is_request = false;
        m->status = (int)code;
        m->reason = trim((const uint8_t *)c.p + 3, e);
        return 0;
    }
    const char *sp1 = memchr(l.p, ' ', l.len);
    if (!sp1 || sp1 == l.p)
        return ES_EFORMAT;
    const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(l.p + l.len - sp1 - 1));
    if (!sp2 || (size_t)(l.p + l.len - sp2 - 1) != 7 || strncmp(sp2 + 1, "SIP/2.0", 7))
        return ES_EFORMAT;
    for (const char *c = l.p; c < sp1; c++)
        if (!isupper((unsigned char)*c) && *c != '-')
            return ES_EFORMAT;
    m->is_request = true;
    m->method = (struct es_str){l.p, (size_t)(sp1 - l.p)};
    m->uri = (struct es_str){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
    return 0;
}

static int header(struct sip_msg *m, struct es_str name, struct es_str v)
{
    if (eq(name, "call-id") || eq(name, "i"))
        m->call_id = v;
    else if (eq(name, "from") || eq(name, "f")) {
        m->from = v;
        m->from_tag = param(v, "tag");
        m->from_user = uri_user(v);
    } else if (eq(name, "to") || eq(name, "t")) {
        m->to = v;
        m->to_tag = param(v, "tag");
        m->to_user = uri_user(v);
    } else if (eq(name, "cseq")) {
        const char *sp = memchr(v.p, ' ', v.len);
        if (!sp || parse_uint((struct es_str){v.p, (size_t)(sp - v.p)}, 0xffffffffu, &m->cseq))
            return ES_EFORMAT;
        m->cseq_method = trim((const uint8_t *)sp, (const uint8_t *)v.p + v.len);
    } else if ((eq(name, "via") || eq(name, "v")) && !m->via_branch.p) {
        m->via_branch = param(v, "branch");
    } else if (eq(name, "content-length") || eq(name, "l")) {
        uint32_t n;
        if (parse_uint(v, SIP_MAX_BODY, &n))
            return ES_EFORMAT;
        m->content_length = (int64_t)n;
    } else if (eq(name, "content-type") || eq(name, "c")) {
        m->content_type = v;
    } else if (eq(name, "user-agent") || eq(name, "server")) {
        if (!m->user_agent.p)
            m->user_agent = v;
    } else if (eq(name, "contact") || eq(name, "m")) {
        if (!m->contact.p)
            m->contact = v;
    } else if (eq(name, "session-expires") || eq(name, "x")) {
        uint32_t n;
        if (!parse_uint(v, 86400 * 7, &n))
            m->session_expires = (int)n;
    }
    return 0;
}

int sip_parse(const uint8_t *p, size_t len, bool stream, struct sip_msg *m)
{
    memset(m, 0, sizeof *m);
    m->content_length = -1;
    const uint8_t *end = p + len;
    while (p < end && (*p == '\r' || *p == '\n')) /* keep-alive CRLFs before a message */
        p++, m->skipped++;
    const uint8_t *e = find_crlf(p, end);
    if (!e)
        return stream && end - p < SIP_MAX_HEADERS ? ES_EAGAIN : ES_EFORMAT;
    int rc = start_line(m, p, e);
    if (rc)
        return rc;
    const uint8_t *line = e + 2;
    struct es_str name = {0}, value = {0};
    int nheaders = 0;
    for (;;) {
        e = find_crlf(line, end);
        if (!e)
            return stream && end - p < SIP_MAX_HEADERS ? ES_EAGAIN : ES_EFORMAT;
        if (e == line) /* empty line: end of headers */
            break;
        if ((*line == ' ' || *line == '\t') && name.p) { /* folded continuation */
            value.len = (size_t)((const char *)e - value.p);
        } else {
            if (name.p)
                rc = header(m, name,
                            trim((const uint8_t *)value.p, (const uint8_t *)value.p + value.len));
            if (rc)
                return rc;
            const uint8_t *colon = memchr(line, ':', (size_t)(e - line));
            if (!colon || ++nheaders > 200)
                return ES_EFORMAT;
            name = trim(line, colon);
            value = (struct es_str){(const char *)colon + 1, (size_t)(e - colon - 1)};
        }
        line = e + 2;
        if (line - p > SIP_MAX_HEADERS)
            return ES_ETOOBIG;
    }
    if (name.p)
        rc = header(m, name, trim((const uint8_t *)value.p, (const uint8_t *)value.p + value.len));
    if (rc)
        return rc;
    const uint8_t *body = e + 2;
    size_t avail = (size_t)(end - body);
    if (m->content_length < 0) {
        if (stream) /* over TCP the length is mandatory */
            return ES_EFORMAT;
        m->content_length = (int64_t)avail;
    }
    if ((size_t)m->content_length > avail)
        return stream ? ES_EAGAIN : ES_EFORMAT;
    m->body = (struct es_str){(const char *)body, (size_t)m->content_length};
    m->msg_len = (size_t)(body - (p - m->skipped)) + (size_t)m->content_length;
    if (!m->call_id.p || !m->cseq_method.p)
        return ES_EFORMAT;
    return 0;
}

bool sip_str_eq(struct es_str s, const char *lit)
{
    return s.p && eq(s, lit);
}

/* A cheap first look: does a UDP or TCP payload begin like a SIP message?
 * RTP and RTCP begin with version 2 (a byte >= 0x80), SIP with a method or
 * "SIP/2.0" in ASCII, so the fast path pays one comparison. */
bool sip_looks_like(const uint8_t *p, size_t len)
{
    static const char *const methods[] = {
        "INVITE ",    "ACK ",    "BYE ",     "CANCEL ", "OPTIONS ", "REGISTER ", "PRACK ",
        "SUBSCRIBE ", "NOTIFY ", "PUBLISH ", "INFO ",   "REFER ",   "MESSAGE ",  "UPDATE "};
    if (len < 12 || p[0] < 'A' || p[0] > 'Z')
        return false;
    if (!memcmp(p, "SIP/2.0 ", 8))
        return true;
    for (size_t i = 0; i < ES_ARRAY_LEN(methods); i++) {
        size_t n = strlen(methods[i]);
        if (len > n && !memcmp(p, methods[i], n)) {
            /* a request line: METHOD SP URI SP SIP/2.0 CRLF */
            const uint8_t *eol = memchr(p, '\n', ES_MIN(len, (size_t)2048));
            return eol && eol - p >= (ptrdiff_t)(n + 9) && !memcmp(eol - 8, "SIP/2.0", 7);
        }
    }
    return false;
}
