/* The configuration file: "key = value" lines, '#' comments, blank lines.
 * Unknown keys and malformed lines are errors naming the file and line, so a
 * typo never silently falls back to a default. */
#include "common/common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_BYTES (1 << 20)

struct es_config {
    size_t n;
    struct {
        char *key, *value;
    } kv[256];
};

/* A known key may hold '*' for one name of letters, digits, '-' and '_'
 * ("notify.*.url" accepts "notify.crm.url"). */
static int key_matches(const char *pattern, const char *key)
{
    for (; *pattern; pattern++) {
        if (*pattern != '*') {
            if (*key++ != *pattern)
                return 0;
            continue;
        }
        size_t n = strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
        if (!n)
            return 0;
        key += n;
    }
    return *key == '\0';
}

static char *trim(char *s, char *end)
{
    while (s < end && isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    *end = '\0';
    return s;
}

int es_config_load(const char *path, const char *const *known, struct es_config **out,
                   struct es_err *err)
{
    *out = NULL;
    struct es_buf b;
    int rc = es_read_file(path, CONFIG_MAX_BYTES, &b);
    if (rc)
        return es_seterr(err, rc, "config %s: %s", path, es_strerror(rc));
    struct es_config *c = calloc(1, sizeof *c);
    if (!c) {
        es_buf_free(&b);
        return ES_ENOMEM;
    }
    int line = 0;
    for (char *p = b.data; p && *p && !rc; line++) {
        char *nl = strchr(p, '\n');
        char *end = nl ? nl : p + strlen(p);
        char *hash = memchr(p, '#', (size_t)(end - p));
        char *eq = memchr(p, '=', (size_t)((hash ? hash : end) - p));
        char *next = nl ? nl + 1 : NULL;
        if (hash)
            end = hash;
        char *whole = trim(p, end);
        p = next;
        if (!*whole)
            continue;
        if (!eq) {
            rc = es_seterr(err, ES_EINVAL, "config %s:%d: expected key = value", path, line + 1);
            break;
        }
        *eq = '\0';
        char *key = trim(whole, eq), *value = trim(eq + 1, eq + 1 + strlen(eq + 1));
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = key_matches(*k, key);
        if (!ok)
            rc = es_seterr(err, ES_EINVAL, "config %s:%d: unknown key '%s'", path, line + 1, key);
        else if (c->n == ES_ARRAY_LEN(c->kv))
            rc = es_seterr(err, ES_ETOOBIG, "config %s: too many keys", path);
        if (rc)
            break;
        c->kv[c->n].key = strdup(key);
        c->kv[c->n].value = strdup(value);
        if (!c->kv[c->n].key || !c->kv[c->n].value) {
            free(c->kv[c->n].key);
            free(c->kv[c->n].value);
            rc = ES_ENOMEM;
        } else {
            c->n++;
        }
    }
    es_buf_free(&b);
    if (rc) {
        es_config_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

const char *es_config_get(const struct es_config *c, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; c && i < c->n; i++)
        if (!strcmp(c->kv[i].key, key))
            v = c->kv[i].value; /* the last one wins */
    return v;
}

void es_config_free(struct es_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->kv[i].key);
        free(c->kv[i].value);
    }
    free(c);
}

size_t es_config_count(const struct es_config *c)
{
    return c ? c->n : 0;
}

const char *es_config_key(const struct es_config *c, size_t i)
{
    return c && i < c->n ? c->kv[i].key : NULL;
}
