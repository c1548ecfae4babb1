/* SDP (RFC 8866) as far as a recorder needs it: connection addresses, audio
 * media ports and formats, rtpmap, and the direction attributes hold uses. */
#include "recorder/recorder.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_addr(const char *v, size_t n, struct pkt_addr *a)
{
    /* "IN IP4 192.0.2.1" or "IN IP6 2001:db8::1" (a TTL or count suffix is cut) */
    char buf[64];
    if (n < 8 || n >= sizeof buf || strncmp(v, "IN IP", 5) || (v[5] != '4' && v[5] != '6') ||
        v[6] != ' ')
        return ES_EFORMAT;
    memcpy(buf, v + 7, n - 7);
    buf[n - 7] = '\0';
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    memset(a, 0, sizeof *a);
    a->family = v[5] == '4' ? 4 : 6;
    return inet_pton(a->family == 4 ? AF_INET : AF_INET6, buf, a->a) == 1 ? 0 : ES_EFORMAT;
}

static int parse_num(const char **p, const char *end, long max, long *out)
{
    long v = 0;
    const char *s = *p;
    while (*p < end && isdigit((unsigned char)**p) && v <= max)
        v = v * 10 + (*(*p)++ - '0');
    if (*p == s || v > max)
        return ES_EFORMAT;
    *out = v;
    return 0;
}

static int media_line(const char *v, const char *end, struct sdp_media *m)
{
    /* m=audio 49170 RTP/AVP 0 8 101 */
    const char *sp = memchr(v, ' ', (size_t)(end - v));
    if (!sp)
        return ES_EFORMAT;
    m->audio = sp - v == 5 && !strncmp(v, "audio", 5);
    m->kind = m->audio                                 ? SDP_AUDIO
              : sp - v == 5 && !strncmp(v, "video", 5) ? SDP_VIDEO
              : sp - v == 5 && !strncmp(v, "image", 5) ? SDP_IMAGE
                                                       : SDP_OTHER;
    const char *q = sp + 1;
    long port;
    if (parse_num(&q, end, 65535, &port))
        return ES_EFORMAT;
    m->port = (uint16_t)port;
    if (q < end && *q == '/') { /* port/count */
        long cnt;
        q++;
        if (parse_num(&q, end, 65535, &cnt))
            return ES_EFORMAT;
    }
    /* then " <proto> <fmt> <fmt> ..." */
    if (q >= end || *q != ' ')
        return ES_EFORMAT;
    const char *proto = q + 1;
    q = memchr(q + 1, ' ', (size_t)(end - q - 1));
    if (m->kind == SDP_IMAGE && q) { /* m=image 5004 udptl t38 */
        size_t pl = (size_t)(q - proto), rest = (size_t)(end - q);
        m->t38 = pl == 5 && !strncasecmp(proto, "udptl", 5) && rest >= 4 &&
                 !strncasecmp(q + 1, "t38", 3);
        return 0;
    }
    while (q && q < end) {
        while (q < end && *q == ' ')
            q++;
        long pt;
        if (q >= end)
            break;
        if (parse_num(&q, end, 127, &pt)) /* non-RTP formats are not ours */
            break;
        if (m->nfmt < SDP_MAX_FMT)
            m->fmt[m->nfmt++] = (uint8_t)pt;
    }
    return 0;
}

static void rtpmap_line(const char *v, const char *end, struct sdp_media *m)
{
    /* a=rtpmap:101 telephone-event/8000[/1] */
    const char *q = v;
    long pt, clock, ch = 1;
    if (parse_num(&q, end, 127, &pt) || q >= end || *q != ' ' || m->nmap >= SDP_MAX_FMT)
        return;
    const char *name = ++q;
    const char *slash = memchr(q, '/', (size_t)(end - q));
    if (!slash || slash == name || (size_t)(slash - name) >= sizeof m->map[0].name)
        return;
    q = slash + 1;
    if (parse_num(&q, end, 1000000, &clock) || clock == 0)
        return;
    if (q < end && *q == '/') {
        q++;
        if (parse_num(&q, end, 16, &ch))
            return;
    }
    struct sdp_rtpmap *r = &m->map[m->nmap++];
    r->pt = (uint8_t)pt;
    memcpy(r->name, name, (size_t)(slash - name));
    r->name[slash - name] = '\0';
    r->clock = (int)clock;
    r->channels = (int)ch;
}

/* a=fmtp:97 mode-set=0,2,5; octet-align=1 -- only what decoding needs */
static void fmtp_line(const char *v, const char *end, struct sdp_media *m)
{
    const char *q = v;
    long pt;
    if (parse_num(&q, end, 127, &pt))
        return;
    for (int i = 0; i < m->nmap; i++) {
        if (m->map[i].pt != pt)
            continue;
        static const char key[] = "octet-align=1";
        for (const char *k = q; k + sizeof key - 1 <= end; k++)
            if (!strncasecmp(k, key, sizeof key - 1) && (k == q || k[-1] == ' ' || k[-1] == ';'))
                m->map[i].octet_align = true;
    }
}

int sdp_parse(const uint8_t *p, size_t len, struct sdp *out)
{
    memset(out, 0, sizeof *out);
    const char *s = (const char *)p, *end = s + len;
    struct pkt_addr session = {0};
    bool has_session = false;
    enum sdp_dir session_dir = SDP_SENDRECV;
    struct sdp_media *m = NULL;
    bool saw_v = false;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        const char *ve = le > s && le[-1] == '\r' ? le - 1 : le;
        if (ve - s >= 2 && s[1] == '=') {
            const char *v = s + 2;
            switch (s[0]) {
            case 'v':
                saw_v = true;
                break;
            case 'c':
                if (m) {
                    if (!parse_addr(v, (size_t)(ve - v), &m->addr))
                        m->has_addr = true;
                } else if (!parse_addr(v, (size_t)(ve - v), &session)) {
                    has_session = true;
                }
                break;
            case 'm':
                if (out->nmedia == SDP_MAX_MEDIA)
                    return ES_ETOOBIG;
                m = &out->media[out->nmedia++];
                m->dir = session_dir;
                if (media_line(v, ve, m))
                    return ES_EFORMAT;
                break;
            case 'a': {
                enum sdp_dir d = (enum sdp_dir) - 1;
                size_t n = (size_t)(ve - v);
                if (n == 8 && !strncmp(v, "sendrecv", 8))
                    d = SDP_SENDRECV;
                else if (n == 8 && !strncmp(v, "sendonly", 8))
                    d = SDP_SENDONLY;
                else if (n == 8 && !strncmp(v, "recvonly", 8))
                    d = SDP_RECVONLY;
                else if (n == 8 && !strncmp(v, "inactive", 8))
                    d = SDP_INACTIVE;
                else if (m && n > 7 && !strncmp(v, "rtpmap:", 7))
                    rtpmap_line(v + 7, ve, m);
                else if (m && n > 5 && !strncmp(v, "fmtp:", 5))
                    fmtp_line(v + 5, ve, m);
                if ((int)d >= 0) {
                    if (m)
                        m->dir = d;
                    else
                        session_dir = d;
                }
                break;
            }
            }
        }
        s = le + 1;
    }
    if (!saw_v)
        return ES_EFORMAT;
    for (int i = 0; i < out->nmedia; i++) {
        if (!out->media[i].has_addr && has_session) {
            out->media[i].addr = session;
            out->media[i].has_addr = true;
        }
    }
    return 0;
}

const struct sdp_rtpmap *sdp_rtpmap_of(const struct sdp_media *m, uint8_t pt,
                                       struct sdp_rtpmap *scratch)
{
    for (int i = 0; i < m->nmap; i++)
        if (m->map[i].pt == pt)
            return &m->map[i];
    const char *name = rtp_static_name(pt);
    if (!name)
        return NULL;
    memset(scratch, 0, sizeof *scratch);
    scratch->pt = pt;
    snprintf(scratch->name, sizeof scratch->name, "%s", name);
    scratch->clock = rtp_static_clock(pt);
    scratch->channels = pt == 10 ? 2 : 1;
    return scratch;
}
