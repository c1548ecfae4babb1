/* Turning command-line paths into jobs: directories are walked recursively,
 * sidecars and hidden files are left out, and MixMonitor leg pairs
 * ("<stem><in-suffix>.ext" + "<stem><out-suffix>.ext") become one job. */
#include "archive/archive.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct paths {
    char **v;
    size_t n, alloc;
};

static int push(struct paths *p, const char *s)
{
    if (p->n == p->alloc) {
        size_t a = p->alloc ? p->alloc * 2 : 64;
        char **v = realloc(p->v, a * sizeof *v);
        if (!v)
            return ES_ENOMEM;
        p->v = v;
        p->alloc = a;
    }
    p->v[p->n] = strdup(s);
    if (!p->v[p->n])
        return ES_ENOMEM;
    p->n++;
    return 0;
}

static int skipped_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return name[0] == '.' || (dot && (!strcasecmp(dot, ".json") || !strcasecmp(dot, ".reason")));
}

static int walk(const char *dir, struct paths *out, int depth, struct es_err *err)
{
    if (depth > 32)
        return es_seterr(err, ES_ETOOBIG, "%s: directories nested too deep", dir);
    DIR *d = opendir(dir);
    if (!d)
        return es_seterr(err, -errno, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        if (es_fmt(p, sizeof p, "%s/%s", dir, e->d_name)) {
            rc = es_seterr(err, ES_ETOOBIG, "%s/%s: path too long", dir, e->d_name);
            break;
        }
        struct stat st;
        if (stat(p, &st) != 0)
            rc = errno == ENOENT && lstat(p, &st) != 0 ? 0 : push(out, p); /* vanished: skip */
        else if (S_ISDIR(st.st_mode))
            rc = walk(p, out, depth + 1, err);
        else if (S_ISREG(st.st_mode) && !skipped_name(e->d_name))
            rc = push(out, p);
    }
    closedir(d);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* If path's stem ends with suffix, writes the stem without it and returns the
 * extension (with dot) in *ext. */
static int leg_stem(const char *path, const char *suffix, char *stem, size_t stemlen,
                    const char **ext)
{
    const char *base = es_basename(path);
    const char *dot = strrchr(base, '.');
    size_t end = dot ? (size_t)(dot - path) : strlen(path);
    size_t sl = strlen(suffix);
    if (!sl || end < sl || end - sl <= (size_t)(base - path) ||
        strncmp(path + end - sl, suffix, sl))
        return 0;
    if (es_fmt(stem, stemlen, "%.*s", (int)(end - sl), path))
        return 0;
    *ext = dot ? dot : "";
    return 1;
}

static int find(struct paths *p, const char *s)
{
    char *const *hit = bsearch(&s, p->v, p->n, sizeof *p->v, cmp_str);
    return hit ? (int)(hit - p->v) : -1;
}

int ingest_plan_build(const struct ingest_opts *o, char **inputs, int ninputs,
                      struct ingest_plan *plan, struct es_err *err)
{
    memset(plan, 0, sizeof *plan);
    struct paths all = {0};
    int rc = 0;
    for (int i = 0; i < ninputs && !rc; i++) {
        struct stat st;
        if (stat(inputs[i], &st) == 0 && S_ISDIR(st.st_mode))
            rc = walk(inputs[i], &all, 0, err);
        else
            rc = push(&all, inputs[i]);
    }
    if (rc)
        goto fail;
    qsort(all.v, all.n, sizeof *all.v, cmp_str);
    /* drop exact duplicates (a file named twice, or inside a named dir) */
    size_t u = 0;
    for (size_t i = 0; i < all.n; i++) {
        if (u && !strcmp(all.v[u - 1], all.v[i]))
            free(all.v[i]);
        else
            all.v[u++] = all.v[i];
    }
    all.n = u;
    plan->jobs = calloc(all.n ? all.n : 1, sizeof *plan->jobs);
    char *used = calloc(all.n ? all.n : 1, 1);
    if (!plan->jobs || !used) {
        free(used);
        rc = ES_ENOMEM;
        goto fail;
    }
    /* pair first, so the job order does not depend on how suffixes sort */
    long *partner = malloc((all.n ? all.n : 1) * sizeof *partner);
    if (!partner) {
        free(used);
        rc = ES_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < all.n; i++) {
        partner[i] = -1;
        char stem[4096], other[4200];
        const char *ext;
        if (used[i] || !leg_stem(all.v[i], o->leg_suffix[0], stem, sizeof stem, &ext) ||
            es_fmt(other, sizeof other, "%s%s%s", stem, o->leg_suffix[1], ext))
            continue;
        int k = find(&all, other);
        if (k >= 0 && !used[k] && (size_t)k != i) {
            partner[i] = k;
            used[k] = 2;
        }
    }
    for (size_t i = 0; i < all.n; i++) {
        if (used[i])
            continue;
        struct ingest_job *j = &plan->jobs[plan->njobs++];
        j->path[0] = all.v[i];
        j->nlegs = 1;
        if (partner[i] >= 0) {
            j->path[1] = all.v[partner[i]];
            j->nlegs = 2;
        }
    }
    free(partner);
    free(used);
    plan->paths = all.v;
    plan->npaths = all.n;
    return 0;
fail:
    for (size_t i = 0; i < all.n; i++)
        free(all.v[i]);
    free(all.v);
    free(plan->jobs);
    memset(plan, 0, sizeof *plan);
    return rc;
}

void ingest_plan_free(struct ingest_plan *plan)
{
    for (size_t i = 0; i < plan->npaths; i++)
        free(plan->paths[i]);
    free(plan->paths);
    free(plan->jobs);
    memset(plan, 0, sizeof *plan);
}
