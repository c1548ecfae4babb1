/* Helpers shared by the rubric, eval and report commands. */
#include "scripts-rubric/cli_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

int cli_read(const char *cmd, const char *path, size_t cap, struct es_buf *out)
{
    es_buf_init(out, cap);
    int rc;
    if (!strcmp(path, "-")) {
        char chunk[65536];
        ssize_t n;
        rc = 0;
        while (!rc && (n = read(0, chunk, sizeof chunk)) > 0)
            rc = es_buf_append(out, chunk, (size_t)n);
    } else {
        rc = es_read_file(path, cap, out);
    }
    if (rc) {
        fprintf(stderr, "earshot %s: %s: %s\n", cmd, path,
                rc == ES_ETOOBIG ? "file too large" : es_strerror(rc));
        es_buf_free(out);
    }
    return rc;
}

int cli_open(struct es_cli *cli, struct catalog **cat, struct rubric_store **st)
{
    struct es_err err = {{0}};
    *st = NULL;
    int rc = catalog_open(cli->data_dir, cat, &err);
    if (!rc) {
        rc = rubric_store_open(*cat, st, &err);
        if (rc) {
            catalog_close(*cat);
            *cat = NULL;
        }
    }
    if (rc)
        fprintf(stderr, "earshot %s: %s\n", cli->argv[0], err.msg);
    return rc;
}

void cli_close(struct catalog *cat, struct rubric_store *st)
{
    rubric_store_close(st);
    catalog_close(cat);
}

int cli_window(const char *since, const char *until, struct report_window *w)
{
    const int64_t month = 30LL * 86400 * 1000;
    w->until = es_now_ms();
    if (until && es_time_parse(until, strlen(until), &w->until)) {
        fprintf(stderr, "earshot: --until %s: expected YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM]\n", until);
        return ES_EINVAL;
    }
    w->since = w->until - month;
    if (since && es_time_parse(since, strlen(since), &w->since)) {
        fprintf(stderr, "earshot: --since %s: expected YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM]\n", since);
        return ES_EINVAL;
    }
    if (since && !until && w->since >= w->until) {
        fprintf(stderr, "earshot: --since %s is in the future\n", since);
        return ES_EINVAL;
    }
    if (w->until <= w->since) {
        fprintf(stderr, "earshot: --until must be after --since\n");
        return ES_EINVAL;
    }
    return 0;
}

json_t *cli_tags(const char *cmd, const char *list)
{
    json_t *a = json_array();
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (!rubric_is_slug(p, n)) {
            fprintf(stderr, "earshot %s: tag '%.*s' is not a slug\n", cmd, (int)ES_MIN(n, 64), p);
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, json_stringn(p, n));
        p += n + (e != NULL);
    }
    return a;
}

void cli_print_diags(const char *file, const struct rubric_diags *d)
{
    for (int i = 0; i < d->n; i++)
        fprintf(stderr, "%s:%d:%d: %s\n", file, d->d[i].line, d->d[i].col, d->d[i].msg);
    if (d->dropped)
        fprintf(stderr, "%s: %d more problems not shown\n", file, d->dropped);
}

int cli_number(const char *cmd, const char *opt, const char *v, long long lo, long long hi,
               long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!v[0] || *end || errno || n < lo || n > hi) {
        fprintf(stderr, "earshot %s: %s %s: expected a whole number from %lld to %lld\n", cmd, opt,
                v, lo, hi);
        return -1;
    }
    *out = n;
    return 0;
}
