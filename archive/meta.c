/* Call metadata from outside: JSON sidecars, FreePBX/Asterisk file names and
 * admin-supplied patterns. Each parser fills a struct call_meta and records
 * where each field came from; ingest merges them in order of trust. */
#include "archive/archive.h"

#include <ctype.h>
#include <jansson.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *const meta_field_names[META_NFIELDS] = {
    "started_at", "direction", "caller",      "callee", "operator",
    "customer",   "queue",     "external_id", "tags",
};

static char *text_field(struct call_meta *m, enum meta_field f, size_t *len)
{
    switch (f) {
    case META_DIRECTION:
        *len = sizeof m->direction;
        return m->direction;
    case META_CALLER:
        *len = sizeof m->caller;
        return m->caller;
    case META_CALLEE:
        *len = sizeof m->callee;
        return m->callee;
    case META_OPERATOR:
        *len = sizeof m->operator_;
        return m->operator_;
    case META_CUSTOMER:
        *len = sizeof m->customer;
        return m->customer;
    case META_QUEUE:
        *len = sizeof m->queue;
        return m->queue;
    case META_EXTERNAL_ID:
        *len = sizeof m->external_id;
        return m->external_id;
    default:
        *len = 0;
        return NULL;
    }
}

static int field_by_name(const char *name, size_t len)
{
    for (int f = 0; f < META_NFIELDS; f++)
        if (strlen(meta_field_names[f]) == len && memcmp(meta_field_names[f], name, len) == 0)
            return f;
    return -1;
}

static int valid_direction(const char *s)
{
    return !strcmp(s, "inbound") || !strcmp(s, "outbound") || !strcmp(s, "internal") ||
           !strcmp(s, "unknown");
}

/* Sets a text field; rejects control characters and over-long values. */
static int set_text(struct call_meta *m, enum meta_field f, const char *v, size_t n,
                    const char *from, struct es_err *err)
{
    size_t cap;
    char *dst = text_field(m, f, &cap);
    if (n >= cap)
        return es_seterr(err, ES_ETOOBIG, "%s: value longer than %zu bytes", meta_field_names[f],
                         cap - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return es_seterr(err, ES_EFORMAT, "%s: control character in value",
                             meta_field_names[f]);
    memcpy(dst, v, n);
    dst[n] = '\0';
    if (f == META_DIRECTION && !valid_direction(dst))
        return es_seterr(err, ES_EFORMAT,
                         "direction: \"%s\" is not inbound, outbound, internal or unknown", dst);
    m->has[f] = true;
    m->from[f] = from;
    return 0;
}

static int sidecar_tags(struct call_meta *m, json_t *v, struct es_err *err)
{
    if (!json_is_array(v))
        return es_seterr(err, ES_EFORMAT, "tags: expected an array of strings");
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t)
    {
        if (!json_is_string(t) || json_string_length(t) == 0 || json_string_length(t) > 64)
            return es_seterr(err, ES_EFORMAT, "tags[%zu]: expected a string of 1-64 bytes", i);
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!s)
        return ES_ENOMEM;
    int rc = 0;
    if (strlen(s) >= sizeof m->tags)
        rc = es_seterr(err, ES_ETOOBIG, "tags: longer than %zu bytes", sizeof m->tags - 1);
    else
        snprintf(m->tags, sizeof m->tags, "%s", s);
    free(s);
    if (!rc) {
        m->has[META_TAGS] = true;
        m->from[META_TAGS] = "sidecar";
    }
    return rc;
}

static int sidecar_field(struct call_meta *m, int f, json_t *v, struct es_err *err)
{
    const char *name = meta_field_names[f];
    if (json_is_null(v))
        return 0;
    if (f == META_TAGS)
        return sidecar_tags(m, v, err);
    if (f == META_STARTED_AT) {
        if (json_is_integer(v) && json_integer_value(v) > 0) {
            json_int_t t = json_integer_value(v);
            m->started_at = t > 100000000000LL ? t : t * 1000;
        } else if (!json_is_string(v) ||
                   es_time_parse(json_string_value(v), json_string_length(v), &m->started_at)) {
            return es_seterr(err, ES_EFORMAT,
                             "started_at: expected an ISO 8601 time or epoch seconds");
        }
        m->has[f] = true;
        m->from[f] = "sidecar";
        return 0;
    }
    char num[32];
    if (json_is_integer(v) && f != META_DIRECTION) { /* numbers as caller ids are common */
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return set_text(m, f, num, strlen(num), "sidecar", err);
    }
    if (!json_is_string(v))
        return es_seterr(err, ES_EFORMAT, "%s: expected a string", name);
    return set_text(m, f, json_string_value(v), json_string_length(v), "sidecar", err);
}

int meta_parse_sidecar(const uint8_t *p, size_t len, struct call_meta *m, struct es_err *err)
{
    memset(m, 0, sizeof *m);
    json_error_t je;
    json_t *root = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return es_seterr(err, ES_EFORMAT, "line %d column %d: %s", je.line, je.column, je.text);
    int rc = 0;
    if (!json_is_object(root)) {
        rc = es_seterr(err, ES_EFORMAT, "expected a JSON object");
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        int f = field_by_name(key, strlen(key));
        if (f < 0)
            continue; /* unknown keys are tolerated for forward compatibility */
        rc = sidecar_field(m, f, v, err);
        if (rc)
            goto out;
    }
out:
    json_decref(root);
    return rc;
}

static int all_digits(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* PBX file names carry local wall-clock time; convert with the process's TZ. */
static int local_to_utc_ms(int y, int mo, int d, int h, int mi, int s, int64_t *out)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s,
                    .tm_isdst = -1};
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return ES_EFORMAT;
    time_t t = mktime(&tm);
    if (t == (time_t)-1)
        return ES_EFORMAT;
    *out = (int64_t)t * 1000;
    return 0;
}

static int parse_num(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

int meta_parse_freepbx_name(const char *basename, struct call_meta *m)
{
    static const struct {
        const char *kind, *direction;
    } kinds[] = {
        {"in", "inbound"},     {"q", "inbound"},         {"rg", "inbound"},
        {"out", "outbound"},   {"external", "outbound"}, {"internal", "internal"},
        {"exten", "internal"}, {"ondemand", "unknown"},
    };
    memset(m, 0, sizeof *m);
    /* split on '-' into at most 7 parts; the unique id may hold dots */
    const char *part[7];
    size_t plen[7];
    int n = 0;
    const char *p = basename, *end = basename + strlen(basename);
    const char *dot = strrchr(basename, '.');
    if (dot && dot > basename)
        end = dot;
    while (n < 7) {
        const char *dash = memchr(p, '-', (size_t)(end - p));
        const char *e = dash && n < 5 ? dash : end;
        part[n] = p;
        plen[n++] = (size_t)(e - p);
        if (e == end)
            break;
        p = e + 1;
    }
    if (n != 6)
        return ES_ENOTFOUND;
    int k = -1;
    for (size_t i = 0; i < ES_ARRAY_LEN(kinds); i++)
        if (strlen(kinds[i].kind) == plen[0] && !strncasecmp(kinds[i].kind, part[0], plen[0]))
            k = (int)i;
    if (k < 0 || plen[3] != 8 || plen[4] != 6 || !all_digits(part[3], 8) ||
        !all_digits(part[4], 6) || plen[1] >= ARCHIVE_FIELD_LEN || plen[2] >= ARCHIVE_FIELD_LEN ||
        plen[5] == 0)
        return ES_ENOTFOUND;
    if (local_to_utc_ms(parse_num(part[3], 4), parse_num(part[3] + 4, 2), parse_num(part[3] + 6, 2),
                        parse_num(part[4], 2), parse_num(part[4] + 2, 2), parse_num(part[4] + 4, 2),
                        &m->started_at))
        return ES_ENOTFOUND;
    m->has[META_STARTED_AT] = true;
    struct es_err e;
    const char *dir = kinds[k].direction;
    set_text(m, META_DIRECTION, dir, strlen(dir), "filename", &e);
    /* <kind>-<to>-<from>: the caller is "from", the callee "to" */
    if (plen[2] && strncmp(part[2], "anonymous", plen[2]))
        set_text(m, META_CALLER, part[2], plen[2], "filename", &e);
    if (plen[1])
        set_text(m, META_CALLEE, part[1], plen[1], "filename", &e);
    set_text(m, META_EXTERNAL_ID, part[5], plen[5], "filename", &e);
    if (!strcmp(dir, "outbound") || !strcmp(dir, "internal")) {
        if (m->has[META_CALLER])
            set_text(m, META_OPERATOR, m->caller, strlen(m->caller), "filename", &e);
        if (!strcmp(dir, "outbound") && plen[1])
            set_text(m, META_CUSTOMER, part[1], plen[1], "filename", &e);
    } else if (!strcmp(dir, "inbound")) {
        if (m->has[META_CALLER])
            set_text(m, META_CUSTOMER, m->caller, strlen(m->caller), "filename", &e);
        if (plen[0] != 2 || strncasecmp(part[0], "in", 2)) /* q, rg: "to" is the group */
            set_text(m, META_QUEUE, part[1], plen[1], "filename", &e);
        else if (plen[1] <= 6) /* a short number is the extension that answered */
            set_text(m, META_OPERATOR, part[1], plen[1], "filename", &e);
    }
    for (int f = 0; f < META_NFIELDS; f++)
        if (m->has[f])
            m->from[f] = "filename";
    return 0;
}

/* ---- admin patterns: POSIX ERE plus named groups "(?<field>...)" ---- */
struct meta_pattern {
    regex_t re;
    int ngroups;
    int group_field[META_NFIELDS + 8]; /* group index -> field, -1 unnamed */
    int time_fields;                   /* bitmask of date/time pseudo fields */
};

int meta_pattern_new(const char *regex, struct meta_pattern **out, struct es_err *err)
{
    *out = NULL;
    struct meta_pattern *p = calloc(1, sizeof *p);
    size_t n = strlen(regex);
    char *plain = malloc(n + 1);
    if (!p || !plain) {
        free(p);
        free(plain);
        return ES_ENOMEM;
    }
    size_t o = 0;
    int group = 0, in_class = 0, rc = 0;
    for (size_t i = 0; i < n; i++) {
        char c = regex[i];
        if (c == '\\' && i + 1 < n) {
            plain[o++] = c;
            plain[o++] = regex[++i];
            continue;
        }
        if (in_class) {
            in_class = c != ']';
        } else if (c == '[') {
            in_class = 1;
        } else if (c == '(') {
            if (++group >= (int)ES_ARRAY_LEN(p->group_field)) {
                rc = es_seterr(err, ES_EINVAL, "pattern: too many groups");
                goto fail;
            }
            p->group_field[group] = -1;
            if (i + 2 < n && regex[i + 1] == '?' && regex[i + 2] == '<') {
                const char *name = regex + i + 3;
                const char *close = strchr(name, '>');
                int f = close ? field_by_name(name, (size_t)(close - name)) : -1;
                if (f < 0 || f == META_TAGS) {
                    rc = es_seterr(err, ES_EINVAL,
                                   "pattern: unknown field in group %d "
                                   "(use started_at, direction, caller, callee, operator, "
                                   "customer, queue, external_id)",
                                   group);
                    goto fail;
                }
                p->group_field[group] = f;
                i = (size_t)(close - regex);
            }
        }
        plain[o++] = c;
    }
    plain[o] = '\0';
    p->ngroups = group;
    int e = regcomp(&p->re, plain, REG_EXTENDED);
    if (e) {
        char msg[128];
        regerror(e, &p->re, msg, sizeof msg);
        rc = es_seterr(err, ES_EINVAL, "pattern: %s", msg);
        goto fail;
    }
    free(plain);
    *out = p;
    return 0;
fail:
    free(plain);
    free(p);
    return rc;
}

int meta_pattern_match(const struct meta_pattern *p, const char *basename, struct call_meta *m)
{
    memset(m, 0, sizeof *m);
    regmatch_t mt[ES_ARRAY_LEN(p->group_field)];
    if (regexec(&p->re, basename, (size_t)p->ngroups + 1, mt, 0) != 0)
        return ES_ENOTFOUND;
    struct es_err e;
    for (int g = 1; g <= p->ngroups; g++) {
        int f = p->group_field[g];
        if (f < 0 || mt[g].rm_so < 0)
            continue;
        const char *v = basename + mt[g].rm_so;
        size_t n = (size_t)(mt[g].rm_eo - mt[g].rm_so);
        if (f == META_STARTED_AT) {
            if (es_time_parse(v, n, &m->started_at) == 0) {
                m->has[f] = true;
                m->from[f] = "pattern";
            }
        } else {
            set_text(m, (enum meta_field)f, v, n, "pattern", &e);
        }
    }
    return 0;
}

void meta_pattern_free(struct meta_pattern *p)
{
    if (!p)
        return;
    regfree(&p->re);
    free(p);
}

void meta_merge(struct call_meta *dst, const struct call_meta *src)
{
    for (int f = 0; f < META_NFIELDS; f++) {
        if (dst->has[f] || !src->has[f])
            continue;
        size_t cap;
        char *d = text_field(dst, (enum meta_field)f, &cap);
        const char *s = text_field((struct call_meta *)src, (enum meta_field)f, &cap);
        if (f == META_STARTED_AT)
            dst->started_at = src->started_at;
        else if (f == META_TAGS)
            memcpy(dst->tags, src->tags, sizeof dst->tags);
        else
            memcpy(d, s, cap);
        dst->has[f] = true;
        dst->from[f] = src->from[f];
    }
}

int meta_sources_json(const struct call_meta *m, char *out, size_t outlen)
{
    size_t o = 0;
    int rc = es_fmt(out, outlen, "{");
    for (int f = 0; f < META_NFIELDS && !rc; f++) {
        if (!m->has[f])
            continue;
        o = strlen(out);
        rc = es_fmt(out + o, outlen - o, "%s\"%s\":\"%s\"", o > 1 ? "," : "", meta_field_names[f],
                    m->from[f] ? m->from[f] : "unknown");
    }
    o = strlen(out);
    return rc ? rc : es_fmt(out + o, outlen - o, "}");
}
