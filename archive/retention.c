/* Retention by category: the policy from the configuration ("tag:b2b 1095d,
 * queue:sales 730d, disposition:missed 90d, evaluated 730d, default 365d"),
 * first match wins, and the calls whose audio it would delete. Legal hold
 * always wins: held calls are reported, never deleted. */
#include "archive/archive.h"
#include "archive/catalog_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    enum retention_kind kind;
} kinds[] = {
    {"tag:", RET_TAG},           {"queue:", RET_QUEUE},   {"disposition:", RET_DISPOSITION},
    {"operator:", RET_OPERATOR}, {"source:", RET_SOURCE},
};

/* "1095d", "52w", "3y", "forever" */
static int duration(const char *p, size_t n, int64_t *ms)
{
    if (n == 7 && !memcmp(p, "forever", 7)) {
        *ms = -1;
        return 0;
    }
    if (n < 2)
        return ES_EINVAL;
    int64_t v = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] < '0' || p[i] > '9' || v > 100000)
            return ES_EINVAL;
        v = v * 10 + (p[i] - '0');
    }
    int64_t day = 86400000LL;
    switch (p[n - 1]) {
    case 'd':
        *ms = v * day;
        break;
    case 'w':
        *ms = v * 7 * day;
        break;
    case 'y':
        *ms = v * 365 * day;
        break;
    default:
        return ES_EINVAL;
    }
    return v > 0 && *ms <= 100LL * 365 * day ? 0 : ES_EINVAL;
}

int archive_retention_parse(const char *spec, struct retention_policy *p, struct es_err *err)
{
    memset(p, 0, sizeof *p);
    const char *s = spec;
    while (*s) {
        s += strspn(s, " \t,");
        if (!*s)
            break;
        size_t len = strcspn(s, ",");
        const char *end = s + len;
        while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        const char *sp = memchr(s, ' ', (size_t)(end - s));
        if (!sp)
            return es_seterr(err, ES_EINVAL,
                             "retention '%.*s': expected a selector and a period (tag:b2b 1095d)",
                             (int)(end - s), s);
        if (p->n == RETENTION_MAX_RULES)
            return es_seterr(err, ES_ETOOBIG, "retention: more than %d rules", RETENTION_MAX_RULES);
        struct retention_rule *r = &p->rules[p->n];
        const char *per = sp + strspn(sp, " ");
        if (duration(per, (size_t)(end - per), &r->keep_ms))
            return es_seterr(err, ES_EINVAL,
                             "retention '%.*s': the period is days, weeks or years (90d, 12w, 3y)"
                             " or forever",
                             (int)(end - s), s);
        size_t sel = (size_t)(sp - s);
        snprintf(r->text, sizeof r->text, "%.*s", (int)(end - s), s);
        r->kind = (enum retention_kind) - 1;
        if (sel == 9 && !memcmp(s, "evaluated", 9))
            r->kind = RET_EVALUATED;
        else if (sel == 7 && !memcmp(s, "default", 7))
            r->kind = RET_DEFAULT;
        for (size_t k = 0; k < ES_ARRAY_LEN(kinds) && (int)r->kind < 0; k++) {
            size_t kl = strlen(kinds[k].name);
            if (sel > kl && !memcmp(s, kinds[k].name, kl)) {
                if (sel - kl >= sizeof r->value)
                    return es_seterr(err, ES_ETOOBIG, "retention '%.*s': the value is too long",
                                     (int)(end - s), s);
                r->kind = kinds[k].kind;
                memcpy(r->value, s + kl, sel - kl);
                r->value[sel - kl] = '\0';
            }
        }
        if ((int)r->kind < 0)
            return es_seterr(err, ES_EINVAL,
                             "retention '%.*s': the selector is tag:, queue:, disposition:,"
                             " operator:, source:, evaluated or default",
                             (int)(end - s), s);
        if (r->kind == RET_DISPOSITION && strcmp(r->value, "answered") &&
            strcmp(r->value, "missed") && strcmp(r->value, "rejected"))
            return es_seterr(err, ES_EINVAL,
                             "retention '%s': a disposition is answered, missed or rejected",
                             r->text);
        p->n++;
        s += len;
    }
    if (!p->n)
        return es_seterr(err, ES_EINVAL, "retention: no rule");
    return 0;
}

static bool has_tag(const char *tags_json, const char *tag)
{
    json_t *a = json_loads(tags_json ? tags_json : "[]", 0, NULL);
    size_t i;
    json_t *v;
    bool found = false;
    json_array_foreach(a, i, v) found =
        found || (json_is_string(v) && !strcmp(json_string_value(v), tag));
    json_decref(a);
    return found;
}

int archive_retention_match(const struct retention_policy *p, const struct retention_call *c)
{
    for (int i = 0; i < p->n; i++) {
        const struct retention_rule *r = &p->rules[i];
        bool m = false;
        switch (r->kind) {
        case RET_TAG:
            m = has_tag(c->tags, r->value);
            break;
        case RET_QUEUE:
            m = c->queue && !strcmp(c->queue, r->value);
            break;
        case RET_DISPOSITION:
            m = c->disposition && !strcmp(c->disposition, r->value);
            break;
        case RET_OPERATOR:
            m = c->operator_ && !strcmp(c->operator_, r->value);
            break;
        case RET_SOURCE:
            m = c->source && !strcmp(c->source, r->value);
            break;
        case RET_EVALUATED:
            m = c->evaluated;
            break;
        case RET_DEFAULT:
            m = true;
            break;
        }
        if (m)
            return i;
    }
    return -1;
}

int catalog_audio_calls(struct catalog *c, int (*cb)(void *ud, const struct retention_call *),
                        void *ud)
{
    struct db_stmt *s = catalog_stmt(c, ST_AUDIO_CALLS);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        struct retention_call rc_ = {
            .id = (const char *)db_column_text(s, 0),
            .started_at = db_column_int64(s, 1),
            .disposition = (const char *)db_column_text(s, 2),
            .queue = (const char *)db_column_text(s, 3),
            .tags = (const char *)db_column_text(s, 4),
            .operator_ = (const char *)db_column_text(s, 5),
            .source = (const char *)db_column_text(s, 6),
            .path = (const char *)db_column_text(s, 7),
            .legal_hold = db_column_int(s, 8) != 0,
        };
        if (cb(ud, &rc_))
            break;
    }
    db_reset(s);
    return rc == DB_ROW || rc == DB_DONE ? 0 : catalog_db_error(c, "list recordings");
}
