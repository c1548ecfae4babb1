/* earshot verify and earshot retention: proving the archive and the catalog
 * agree, and removing audio past its retention period. */
#include "archive/archive.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct verify_ctx {
    const char *data_dir;
    int json;
    size_t checked, missing, corrupt, orphans;
};

static void problem(struct verify_ctx *x, const char *kind, const char *path, const char *id,
                    const char *detail)
{
    if (x->json) {
        json_t *o = json_pack("{s:s, s:s}", "problem", kind, "path", path);
        if (id)
            json_object_set_new(o, "id", json_string(id));
        if (detail)
            json_object_set_new(o, "detail", json_string(detail));
        char *s = json_dumps(o, JSON_COMPACT);
        if (s)
            puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("%-8s %s%s%s%s%s\n", kind, path, id ? " (call " : "", id ? id : "", id ? ")" : "",
               detail ? detail : "");
    }
}

static int check_one(void *ud, const char *id, const char *path, const char *sha256, int64_t bytes)
{
    struct verify_ctx *x = ud;
    char full[4700], hex[65], detail[256];
    uint8_t h[32];
    uint64_t n = 0;
    x->checked++;
    if (es_fmt(full, sizeof full, "%s/%s", x->data_dir, path))
        return 0;
    int rc = es_sha256_file(full, h, &n);
    if (rc == -ENOENT) {
        x->missing++;
        problem(x, "missing", path, id, NULL);
        return 0;
    }
    if (rc) {
        x->corrupt++;
        snprintf(detail, sizeof detail, ": unreadable: %s", es_strerror(rc));
        problem(x, "corrupt", path, id, detail);
        return 0;
    }
    es_hex(h, 32, hex);
    if ((int64_t)n != bytes || strcmp(hex, sha256)) {
        x->corrupt++;
        snprintf(detail, sizeof detail, ": %s (catalog %lld bytes, file %llu bytes)",
                 (int64_t)n != bytes ? "size differs" : "sha256 differs", (long long)bytes,
                 (unsigned long long)n);
        problem(x, "corrupt", path, id, detail);
    }
    return 0;
}

/* Files in archive/YYYY/MM/DD that the catalog does not know. */
static void find_orphans(struct verify_ctx *x, struct catalog *c, const char *rel, int depth)
{
    char full[4700];
    if (es_fmt(full, sizeof full, "%s/%s", x->data_dir, rel))
        return;
    DIR *d = opendir(full);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue; /* .tmp belongs to running writers */
        char sub[4700];
        if (es_fmt(sub, sizeof sub, "%s/%s", rel, e->d_name))
            continue;
        if (depth < 3) {
            find_orphans(x, c, sub, depth + 1);
        } else if (!catalog_has_path(c, sub)) {
            x->orphans++;
            problem(x, "orphan", sub, NULL, NULL);
        }
    }
    closedir(d);
}

int cmd_verify(struct es_cli *cli)
{
    struct verify_ctx x = {.data_dir = cli->data_dir};
    for (int i = 1; i < cli->argc; i++) {
        if (!strcmp(cli->argv[i], "--json")) {
            x.json = 1;
        } else {
            fprintf(stderr, "usage: earshot verify [--json]\n");
            return 2;
        }
    }
    struct catalog *c;
    struct es_err err = {{0}};
    if (catalog_open(cli->data_dir, &c, &err)) {
        ES_ERROR("verify", "%s", err.msg);
        return 1;
    }
    int rc = catalog_list_recordings(c, check_one, &x);
    find_orphans(&x, c, "archive", 0);
    catalog_close(c);
    size_t bad = x.missing + x.corrupt + x.orphans;
    ES_INFO("verify", "checked=%zu missing=%zu corrupt=%zu orphans=%zu%s", x.checked, x.missing,
            x.corrupt, x.orphans, bad || rc ? "" : " ok");
    return bad || rc ? 1 : 0;
}

struct purge_ctx {
    struct catalog *c;
    const char *data_dir;
    int dry_run;
    size_t n;
    struct {
        char id[ES_ID_LEN];
        char path[512];
    } * v;
    size_t alloc;
};

static int collect(void *ud, const char *id, const char *path)
{
    struct purge_ctx *x = ud;
    if (x->n == x->alloc) {
        size_t a = x->alloc ? x->alloc * 2 : 256;
        void *v = realloc(x->v, a * sizeof *x->v);
        if (!v)
            return 1;
        x->v = v;
        x->alloc = a;
    }
    snprintf(x->v[x->n].id, sizeof x->v[x->n].id, "%s", id);
    snprintf(x->v[x->n].path, sizeof x->v[x->n].path, "%s", path);
    x->n++;
    return 0;
}

int cmd_retention(struct es_cli *cli)
{
    long days = -1;
    int dry = 0;
    for (int i = 1; i < cli->argc; i++) {
        char *end;
        if (!strcmp(cli->argv[i], "--dry-run")) {
            dry = 1;
        } else if (!strcmp(cli->argv[i], "--older-than") && i + 1 < cli->argc) {
            days = strtol(cli->argv[++i], &end, 10);
            if (*end || days < 0 || days > 36500)
                days = -2;
        } else {
            days = -2;
            break;
        }
    }
    if (days < 0) {
        fprintf(stderr, "usage: earshot retention --older-than DAYS [--dry-run]\n");
        return 2;
    }
    struct purge_ctx x = {.data_dir = cli->data_dir, .dry_run = dry};
    struct es_err err = {{0}};
    if (catalog_open(cli->data_dir, &x.c, &err)) {
        ES_ERROR("retention", "%s", err.msg);
        return 1;
    }
    int64_t before = es_now_ms() - (int64_t)days * 86400000;
    int rc = catalog_list_expired(x.c, before, collect, &x);
    size_t removed = 0, failed = 0;
    for (size_t i = 0; i < x.n && !rc; i++) {
        char full[4700];
        es_fmt(full, sizeof full, "%s/%s", x.data_dir, x.v[i].path);
        if (dry) {
            printf("would purge %s %s\n", x.v[i].id, x.v[i].path);
            continue;
        }
        /* mark first: a crash in between leaves a purged row and a stray file,
         * which verify reports, never a row pointing at nothing */
        int r = catalog_mark_purged(x.c, x.v[i].id, es_now_ms());
        if (!r && unlink(full) != 0 && errno != ENOENT)
            r = -errno;
        if (r) {
            failed++;
            ES_ERROR("retention", "%s: %s", x.v[i].path, es_strerror(r));
        } else {
            removed++;
            ES_INFO("retention", "purged call=%s path=%s", x.v[i].id, x.v[i].path);
        }
    }
    ES_INFO("retention", "%s %zu recordings older than %ld days (legal holds kept)",
            dry ? "would purge" : "purged", dry ? x.n : removed, days);
    free(x.v);
    catalog_close(x.c);
    return rc || failed ? 1 : 0;
}
