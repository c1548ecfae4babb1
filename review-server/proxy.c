/* Behind a reverse proxy every connection comes from the proxy's address.
 * For connections from the addresses given in trusted_proxies (and only
 * those: anyone else could write the headers), the client is the right-most
 * address in X-Forwarded-For that is not itself a trusted proxy, and the
 * scheme is X-Forwarded-Proto's, so throttling, the audit log and the
 * cookie's Secure flag see the real client. */
#include "review-server/http_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool parse_addr(const char *s, size_t n, uint8_t out[16], int *family)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    memset(out, 0, 16);
    if (inet_pton(AF_INET, buf, out) == 1) {
        *family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out) == 1) {
        *family = 6;
        return true;
    }
    return false;
}

int proxies_parse(const char *spec, struct proxies *out, struct es_err *err)
{
    memset(out, 0, sizeof *out);
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, ", ");
        if (out->n == PROXIES_MAX)
            return es_seterr(err, ES_EINVAL, "trusted_proxies: more than %d entries", PROXIES_MAX);
        struct proxy_net *e = &out->net[out->n];
        const char *slash = memchr(p, '/', n);
        size_t alen = slash ? (size_t)(slash - p) : n;
        if (!parse_addr(p, alen, e->addr, &e->family))
            return es_seterr(err, ES_EINVAL, "trusted_proxies: '%.*s' is not an address or CIDR",
                             (int)ES_MIN(n, 64), p);
        int max = e->family == 4 ? 32 : 128;
        e->prefix = max;
        if (slash) {
            char *end;
            long b = strtol(slash + 1, &end, 10);
            if (end != p + n || end == slash + 1 || b < 0 || b > max)
                return es_seterr(err, ES_EINVAL, "trusted_proxies: bad prefix in '%.*s'",
                                 (int)ES_MIN(n, 64), p);
            e->prefix = (int)b;
        }
        out->n++;
        p += n;
    }
    return 0;
}

static bool in_net(const struct proxy_net *e, const uint8_t a[16], int family)
{
    if (e->family != family)
        return false;
    int full = e->prefix / 8, rest = e->prefix % 8;
    if (memcmp(e->addr, a, (size_t)full))
        return false;
    return !rest || ((e->addr[full] ^ a[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static bool trusted(const struct proxies *px, const char *s, size_t n)
{
    uint8_t a[16];
    int family;
    if (!parse_addr(s, n, a, &family))
        return false;
    for (int i = 0; i < px->n; i++)
        if (in_net(&px->net[i], a, family))
            return true;
    return false;
}

bool proxies_client(const struct proxies *px, const char *xff, size_t len, char *ip, size_t iplen)
{
    /* right to left: the first hop that is not one of ours is the client */
    size_t end = len;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
            a++;
        while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
            b--;
        uint8_t tmp[16];
        int fam;
        if (!parse_addr(xff + a, b - a, tmp, &fam))
            return false; /* not an address: the proxy's own address stays */
        if (!trusted(px, xff + a, b - a)) {
            snprintf(ip, iplen, "%.*s", (int)(b - a), xff + a);
            return true;
        }
        end = start ? start - 1 : 0;
    }
    return false;
}

bool proxies_apply(const struct proxies *px, struct MHD_Connection *conn, char *ip, size_t iplen,
                   bool *https)
{
    if (!px->n || !trusted(px, ip, strlen(ip)))
        return false;
    const char *xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
    if (xff)
        proxies_client(px, xff, strlen(xff), ip, iplen);
    const char *proto = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-Proto");
    if (proto)
        *https = !strcasecmp(proto, "https");
    return true;
}
