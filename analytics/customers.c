/* The customer directory: numbers in E.164 with their segment (b2b, b2c)
 * and account manager, so the call report can be cut by segment and a B2B
 * customer's calls checked against who answered them. */
#include "analytics/analytics_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One CSV field, bare or quoted ("" inside); p advances past its comma. */
static bool field(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    size_t o = 0;
    if (*s == '"') {
        s++;
        for (;;) {
            if (!*s)
                return false;
            if (*s == '"' && s[1] == '"') {
                if (o + 1 < cap)
                    out[o++] = '"';
                s += 2;
                continue;
            }
            if (*s == '"') {
                s++;
                break;
            }
            if (o + 1 < cap)
                out[o++] = *s;
            s++;
        }
    } else {
        while (*s && *s != ',' && *s != '\r' && *s != '\n') {
            if (o + 1 < cap)
                out[o++] = *s;
            s++;
        }
    }
    out[o] = '\0';
    if (*s == ',')
        s++;
    *p = s;
    return true;
}

int analytics_customers_import(struct analytics *a, const char *path, const char *country_code,
                               void (*on_bad)(void *ud, int64_t line, const char *why), void *ud,
                               struct customers_result *res, struct es_err *err)
{
    memset(res, 0, sizeof *res);
    FILE *f = fopen(path, "r");
    if (!f)
        return es_seterr(err, -errno, "%s: %s", path, strerror(errno));
    bool outer;
    int rc = catalog_tx_begin(a->db, &outer) ? es_seterr(err, ES_EDB, "catalog: cannot begin") : 0;
    char line[2048];
    int64_t n = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        n++;
        const char *p = line;
        char number[64], name[256], segment[16], manager[64], e164[40];
        if (!field(&p, number, sizeof number) || !field(&p, name, sizeof name) ||
            !field(&p, segment, sizeof segment) || !field(&p, manager, sizeof manager)) {
            res->bad++;
            if (on_bad)
                on_bad(ud, n, "a quoted field is not closed");
            continue;
        }
        if (n == 1 && !strcmp(number, "number"))
            continue; /* the header */
        if (!number[0] && !name[0])
            continue; /* a blank line */
        const char *why = NULL;
        if (archive_e164(number, country_code, e164, sizeof e164))
            why = "the number is not a phone number";
        else if (strcmp(segment, "b2b") && strcmp(segment, "b2c"))
            why = "the segment is not b2b or b2c";
        if (why) {
            res->bad++;
            if (on_bad)
                on_bad(ud, n, why);
            continue;
        }
        struct db_stmt *st = an_stmt(a, AN_CUSTOMER_PUT);
        db_bind_text(st, 1, e164, -1);
        db_bind_text(st, 2, name, -1);
        db_bind_text(st, 3, segment, -1);
        db_bind_text(st, 4, manager, -1);
        rc = an_step_done(a, st, "customer", err);
        res->imported += !rc;
    }
    fclose(f);
    return catalog_tx_end(a->db, outer, rc);
}

/* ---- the directory in memory, for a report -------------------------------------- */

struct an_directory {
    size_t n, cap;
    struct an_customer *v; /* sorted by number */
};

static int by_number(const void *x, const void *y)
{
    return strcmp(((const struct an_customer *)x)->number, ((const struct an_customer *)y)->number);
}

int an_directory_load(struct analytics *a, struct an_directory **out, struct es_err *err)
{
    struct an_directory *d = calloc(1, sizeof *d);
    if (!d)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    struct db_stmt *st = an_stmt(a, AN_CUSTOMERS);
    int step;
    while ((step = db_step(st)) == DB_ROW) {
        if (d->n == d->cap) {
            size_t nc = d->cap ? d->cap * 2 : 256;
            struct an_customer *g = realloc(d->v, nc * sizeof *g);
            if (!g)
                break;
            d->v = g;
            d->cap = nc;
        }
        struct an_customer *c = &d->v[d->n++];
        snprintf(c->number, sizeof c->number, "%s", (const char *)db_column_text(st, 0));
        c->b2b = !strcmp((const char *)db_column_text(st, 1), "b2b");
        snprintf(c->manager, sizeof c->manager, "%s", (const char *)db_column_text(st, 2));
    }
    db_reset(st);
    if (step != DB_DONE) {
        an_directory_free(d);
        return es_seterr(err, ES_EDB, "catalog: customers: %s", db_errmsg(a->db));
    }
    if (d->n)
        qsort(d->v, d->n, sizeof *d->v, by_number);
    *out = d;
    return 0;
}

void an_directory_free(struct an_directory *d)
{
    if (!d)
        return;
    free(d->v);
    free(d);
}

const struct an_customer *an_directory_find(const struct an_directory *d, const char *caller,
                                            const char *country_code)
{
    struct an_customer key;
    if (!d->n || archive_e164(caller, country_code, key.number, sizeof key.number))
        return NULL;
    return bsearch(&key, d->v, d->n, sizeof *d->v, by_number);
}

/* ---- segments as the calls' tags -------------------------------------------------- */

struct to_tag {
    const struct an_directory *dir;
    const char *cc;
    char (*ids)[ES_ID_LEN];
    const char **tags;
    size_t n, cap;
    bool oom;
};

static int collect(void *ud, const struct catalog_call_brief *b)
{
    struct to_tag *t = ud;
    const struct an_customer *cu = an_directory_find(t->dir, b->caller, t->cc);
    if (!cu && b->customer[0])
        cu = an_directory_find(t->dir, b->customer, t->cc);
    if (!cu)
        return 0;
    const char *tag = cu->b2b ? "b2b" : "b2c";
    char quoted[8];
    snprintf(quoted, sizeof quoted, "\"%s\"", tag);
    if (strstr(b->tags, quoted) || strlen(b->id) >= ES_ID_LEN)
        return 0; /* tagged already */
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        char(*ids)[ES_ID_LEN] = realloc(t->ids, nc * sizeof *ids);
        const char **tags = ids ? realloc(t->tags, nc * sizeof *tags) : NULL;
        if (ids)
            t->ids = ids;
        if (!ids || !tags) {
            t->oom = true;
            return 1;
        }
        t->tags = tags;
        t->cap = nc;
    }
    snprintf(t->ids[t->n], ES_ID_LEN, "%s", b->id);
    t->tags[t->n++] = tag;
    return 0;
}

int analytics_tag_calls(struct analytics *a, int64_t since, const char *country_code,
                        int64_t *tagged, struct es_err *err)
{
    *tagged = 0;
    struct an_directory *dir;
    int rc = an_directory_load(a, &dir, err);
    if (rc)
        return rc;
    struct to_tag t = {.dir = dir, .cc = country_code};
    if (dir->n && catalog_briefs(a->cat, since, INT64_MAX, NULL, collect, &t))
        rc = es_seterr(err, ES_EDB, "calls to tag: %s", catalog_strerror(a->cat, ES_EDB));
    if (!rc && t.oom)
        rc = es_seterr(err, ES_ENOMEM, "out of memory");
    bool outer;
    if (!rc && t.n && catalog_tx_begin(a->db, &outer)) {
        rc = es_seterr(err, ES_EDB, "catalog: begin");
    } else if (!rc && t.n) {
        for (size_t i = 0; i < t.n && !rc; i++) {
            int r = catalog_add_tag(a->cat, t.ids[i], t.tags[i]);
            if (r < 0)
                rc = es_seterr(err, r, "tag a call: %s", catalog_strerror(a->cat, r));
            else
                *tagged += r;
        }
        rc = catalog_tx_end(a->db, outer, rc);
    }
    free(t.ids);
    free(t.tags);
    an_directory_free(dir);
    return rc;
}
