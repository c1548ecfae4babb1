/* The route table against docs/api.md's "Route table": every route the server
 * answers is documented with who may call it and whether it is audited, and
 * every documented route exists, so neither can drift from the other. */
#include "review-server/http_int.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 256

struct row {
    char method[16], path[128], who[128], audited[32];
    bool seen;
};

static char *trim(char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        s[--n] = 0;
    if (n >= 2 && s[0] == '`' && s[n - 1] == '`') { /* `GET` */
        s[n - 1] = 0;
        s++;
    }
    return s;
}

/* The rows of the "## Route table" section: | method | path | who | audited | */
static size_t doc_rows(struct row *rows)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/api.md", EARSHOT_SRC);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s cannot be read", path);
    char line[1024];
    bool in = false;
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "## ", 3)) {
            in = !strcmp(line, "## Route table\n");
            continue;
        }
        if (!in || line[0] != '|' || strstr(line, "---") || strstr(line, "| method |"))
            continue;
        char *cell[5], *p = line + 1;
        int k = 0;
        for (char *bar; k < 5 && (bar = strchr(p, '|')); p = bar + 1) {
            *bar = 0;
            cell[k++] = trim(p);
        }
        cr_assert_eq(k, 4, "docs/api.md: a route table row without 4 cells");
        cr_assert_lt(n, MAX_ROWS);
        struct row *r = &rows[n++];
        memset(r, 0, sizeof *r);
        snprintf(r->method, sizeof r->method, "%s", cell[0]);
        snprintf(r->path, sizeof r->path, "%s", cell[1]);
        snprintf(r->who, sizeof r->who, "%s", cell[2]);
        snprintf(r->audited, sizeof r->audited, "%s", cell[3]);
    }
    fclose(f);
    return n;
}

Test(route_table, matches_the_documentation)
{
    static struct row rows[MAX_ROWS];
    size_t n = doc_rows(rows);
    cr_assert_gt(n, 0, "docs/api.md has no \"## Route table\" section");
    int missing = 0;
    for (size_t i = 0; i < route_count(); i++) {
        const struct route_def *d = route_at(i);
        char who[128];
        route_who(d, who, sizeof who);
        struct row *found = NULL;
        for (size_t k = 0; k < n; k++)
            if (!strcmp(rows[k].method, d->method) && !strcmp(rows[k].path, d->path))
                found = &rows[k];
        if (!found) { /* the row to add, ready to paste */
            fprintf(stderr, "not documented: | `%s` | `%s` | %s | %s |\n", d->method, d->path, who,
                    route_audited(d));
            missing++;
            continue;
        }
        found->seen = true;
        cr_expect_str_eq(found->who, who, "%s %s: docs/api.md says \"%s\", the table \"%s\"",
                         d->method, d->path, found->who, who);
        cr_expect_str_eq(found->audited, route_audited(d),
                         "%s %s: docs/api.md says audited \"%s\", the table \"%s\"", d->method,
                         d->path, found->audited, route_audited(d));
    }
    cr_expect_eq(missing, 0, "%d routes are missing from docs/api.md's route table", missing);
    for (size_t k = 0; k < n; k++)
        cr_expect(rows[k].seen, "docs/api.md documents %s %s, which the server does not have",
                  rows[k].method, rows[k].path);
}

Test(route_table, every_row_is_sound)
{
    for (size_t i = 0; i < route_count(); i++) {
        const struct route_def *d = route_at(i);
        cr_assert_not_null(d->handler, "%s %s has no handler", d->method, d->path);
        if (d->auth == AUTH_SESSION)
            cr_expect_neq(d->roles, 0, "%s %s is for no role", d->method, d->path);
        else
            cr_expect_eq(d->roles, 0, "%s %s has roles but no session", d->method, d->path);
        bool change = strcmp(d->method, "GET") && strcmp(d->method, "HEAD");
        /* every state change by a person leaves an audit row (POST /score
         * only computes a score: it stores nothing) */
        if (change && d->auth == AUTH_SESSION && strcmp(d->path, "/api/v1/score"))
            cr_expect_eq(d->audited, AUDIT_EACH, "%s %s changes state unaudited", d->method,
                         d->path);
        for (size_t k = 0; k < i; k++) /* one row per method and pattern */
            cr_expect(strcmp(route_at(k)->method, d->method) || strcmp(route_at(k)->path, d->path),
                      "%s %s twice", d->method, d->path);
    }
}

Test(route_table, who_reads_well)
{
    char who[128];
    struct route r;
    cr_assert_eq(route_match("GET", "/api/v1/export.csv", 18, &r), 0);
    route_who(r.def, who, sizeof who);
    cr_assert_str_eq(who, "supervisors, compliance staff and admins");
    cr_assert_eq(route_match("GET", "/api/v1/users", 13, &r), 0);
    route_who(r.def, who, sizeof who);
    cr_assert_str_eq(who, "admins");
    cr_assert_eq(route_match("GET", "/metrics", 8, &r), 0);
    route_who(r.def, who, sizeof who);
    cr_assert_str_eq(who, "an API token");
}
