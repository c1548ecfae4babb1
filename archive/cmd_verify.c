/* earshot verify and earshot retention: proving the archive and the catalog
 * agree, and removing audio past its retention period. */
#include "archive/archive.h"

#include <dirent.h>
#include <sodium.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct verify_ctx {
    struct catalog *c;
    int json, repair;
    size_t checked, missing, corrupt, orphans, repaired, quarantined;
    size_t sealed, unopened; /* encrypted at rest; of them, not checkable without the key */
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
    char hex[65], detail[256];
    uint8_t h[32];
    uint64_t n = 0;
    x->checked++;
    int rc = archive_file_hash(x->c, path, h, &n);
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
    bool differs = (int64_t)n != bytes || strcmp(hex, sha256);
    /* sealed: every chunk authenticated under its data key (which says where) */
    struct archive_audio *a = NULL;
    struct es_err err = {{0}};
    rc = archive_audio_open(x->c, id, &a, &err);
    if (!rc && archive_audio_sealed(a)) {
        x->sealed++;
        rc = archive_audio_check(a, &err);
    }
    archive_audio_close(a);
    if (rc == ES_ESTATE)
        x->unopened++; /* no key: the hash is all that can be said */
    if (differs || (rc && rc != ES_ESTATE)) {
        x->corrupt++;
        snprintf(detail, sizeof detail, ": %s (catalog %lld bytes, file %llu bytes)%s%.200s",
                 !differs              ? "sha256 matches"
                 : (int64_t)n != bytes ? "size differs"
                                       : "sha256 differs",
                 (long long)bytes, (unsigned long long)n, rc && rc != ES_ESTATE ? "; " : "",
                 rc && rc != ES_ESTATE ? err.msg : "");
        problem(x, "corrupt", path, id, detail);
    }
    return 0;
}

static int move_back(struct verify_ctx *x, const char *from, const char *rel, char *detail,
                     size_t detlen)
{
    struct es_err err = {{0}};
    int rc = archive_file_move(x->c, from, rel, &err);
    if (rc)
        return rc;
    snprintf(detail, detlen, ": the catalogued file, moved back to %.300s", rel);
    x->repaired++;
    return 0;
}

/* The call and recording rows of an orphan, from what its OpusTags say (an
 * id the catalog already holds for another call gets a new one). */
static void call_from_tags(const struct opus_probe *o, const char *rel, const char *sha256_hex,
                           int64_t bytes, bool id_taken, struct archive_call *k,
                           struct archive_recording *r)
{
    memset(k, 0, sizeof *k);
    memset(r, 0, sizeof *r);
    if (es_time_parse(o->date, strlen(o->date), &k->started_at))
        k->started_at = es_now_ms() - o->duration_ms;
    if (!id_taken && es_id_valid(o->call_id))
        snprintf(k->id, sizeof k->id, "%s", o->call_id);
    else
        es_uuid7(k->started_at, k->id);
    k->duration_ms = o->duration_ms;
    k->ended_at = k->started_at + o->duration_ms;
    snprintf(k->direction, sizeof k->direction, "unknown");
    k->ring_ms = k->talk_ms = -1;
    memcpy(k->operator_, o->operator_, sizeof k->operator_);
    memcpy(k->caller, o->caller, sizeof k->caller);
    memcpy(k->callee, o->callee, sizeof k->callee);
    snprintf(k->source, sizeof k->source, "repair");
    es_fmt(k->source_ref, sizeof k->source_ref, "%s", rel);
    snprintf(k->meta_sources, sizeof k->meta_sources, "{\"started_at\":\"%s\"}",
             o->date[0] ? "opustags" : "repair");
    es_fmt(r->path, sizeof r->path, "%s", rel); /* rel is bounded by the walk */
    snprintf(r->sha256, sizeof r->sha256, "%s", sha256_hex);
    r->bytes = bytes;
    r->channels = o->channels;
    r->sample_rate = o->rate[0] ? (int)strtol(o->rate, NULL, 10) : opus_rate_for(o->input_rate);
    r->source_rate = o->input_rate;
    r->bitrate = o->duration_ms ? (int)(bytes * 8000 / o->duration_ms) : 0;
    r->duration_ms = o->duration_ms;
}

/* Moves an untrustworthy orphan out of the dated tree, kept with the reason. */
static int quarantine(struct verify_ctx *x, const char *rel, const char *why, char *detail,
                      size_t detlen)
{
    char q[700], reason[720], line[700];
    struct es_err err = {{0}};
    es_fmt(line, sizeof line, "%.200s: %s\n", rel, why);
    es_fmt(q, sizeof q, "quarantine/%s", es_basename(rel));
    es_fmt(reason, sizeof reason, "%s.reason", q);
    int rc = archive_file_write(x->c, reason, line, strlen(line), &err);
    if (!rc)
        rc = archive_file_move(x->c, rel, q, &err);
    if (rc)
        return rc;
    snprintf(detail, detlen, ": quarantined (%s)", why);
    x->quarantined++;
    return 0;
}

/* An orphan that is an intact Ogg Opus file: the catalogued recording itself,
 * misplaced (moved back), or a call the catalog lost (catalogued again from
 * its tags). Anything else is quarantined. */
static int repair_orphan(struct verify_ctx *x, struct catalog *c, const char *rel, char *detail,
                         size_t detlen)
{
    struct es_buf b;
    struct opus_probe o;
    struct es_err err = {{0}};
    es_buf_init(&b, 0);
    int rc = archive_file_read(c, rel, (size_t)1 << 30, &b, &err);
    if (!rc)
        rc = opus_probe((const uint8_t *)b.data, b.len, &o, &err);
    if (rc) {
        es_buf_free(&b);
        return quarantine(x, rel, err.msg[0] ? err.msg : es_strerror(rc), detail, detlen);
    }
    struct archive_call *k = calloc(1, sizeof *k);
    if (!k) {
        es_buf_free(&b);
        return ES_ENOMEM;
    }
    uint8_t h[32];
    char hex[65];
    crypto_hash_sha256(h, (const unsigned char *)b.data, b.len);
    es_hex(h, 32, hex);
    int64_t bytes = (int64_t)b.len;
    es_buf_free(&b);
    struct archive_recording r = {0};
    bool has = false;
    bool known = es_id_valid(o.call_id) && catalog_get(c, o.call_id, k, &r, &has) == 0;
    if (known && has && !strcmp(r.sha256, hex)) {
        rc = move_back(x, rel, r.path, detail, detlen);
        free(k);
        return rc;
    }
    call_from_tags(&o, rel, hex, bytes, known, k, &r);
    rc = catalog_insert_call(c, k, &r, NULL);
    if (!rc) {
        snprintf(detail, detlen, ": re-catalogued as call %s", k->id);
        x->repaired++;
    }
    free(k);
    if (!rc)
        return 0;
    return quarantine(x, rel, err.msg[0] ? err.msg : es_strerror(rc), detail, detlen);
}

/* An entry of archive/YYYY/MM/DD that the catalog does not know. */
static int orphan_check(void *ud, const char *rel)
{
    struct verify_ctx *x = ud;
    if (catalog_has_path(x->c, rel))
        return 0;
    char detail[700] = "";
    x->orphans++;
    if (x->repair && repair_orphan(x, x->c, rel, detail, sizeof detail))
        snprintf(detail, sizeof detail, ": could not be repaired");
    problem(x, "orphan", rel, NULL, detail[0] ? detail : NULL);
    return 0;
}

int cmd_verify(struct es_cli *cli)
{
    struct verify_ctx x = {0};
    for (int i = 1; i < cli->argc; i++) {
        if (!strcmp(cli->argv[i], "--json")) {
            x.json = 1;
        } else if (!strcmp(cli->argv[i], "--repair")) {
            x.repair = 1;
        } else {
            fprintf(stderr, "usage: earshot verify [--json] [--repair]\n");
            return 2;
        }
    }
    struct catalog *c;
    struct es_err err = {{0}};
    if (catalog_open(cli->data_dir, &c, &err)) {
        ES_ERROR("verify", "%s", err.msg);
        return 1;
    }
    x.c = c;
    int rc = catalog_list_recordings(c, check_one, &x);
    if (rc)
        ES_ERROR("verify", "%s", catalog_strerror(c, rc));
    archive_file_list(c, "archive", 4, orphan_check, &x); /* archive/YYYY/MM/DD/<file> */
    catalog_close(c);
    size_t bad = x.missing + x.corrupt + x.orphans - x.repaired - x.quarantined;
    ES_INFO("verify",
            "checked=%zu missing=%zu corrupt=%zu orphans=%zu repaired=%zu quarantined=%zu"
            " sealed=%zu%s%s",
            x.checked, x.missing, x.corrupt, x.orphans, x.repaired, x.quarantined, x.sealed,
            x.unopened ? " not_authenticated_no_key=" : "", bad || rc ? "" : " ok");
    if (x.unopened)
        ES_WARN("verify", "%zu sealed recordings were checked by hash only: no key configured",
                x.unopened);
    return bad || rc ? 1 : 0;
}

struct purge_ctx {
    struct catalog *c;
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
    struct purge_ctx x = {.dry_run = dry};
    struct es_err err = {{0}};
    if (catalog_open(cli->data_dir, &x.c, &err)) {
        ES_ERROR("retention", "%s", err.msg);
        return 1;
    }
    int64_t before = es_now_ms() - (int64_t)days * 86400000;
    int rc = catalog_list_expired(x.c, before, collect, &x);
    if (rc)
        ES_ERROR("retention", "%s", catalog_strerror(x.c, rc));
    size_t removed = 0, failed = 0;
    for (size_t i = 0; i < x.n && !rc; i++) {
        if (dry) {
            printf("would purge %s %s\n", x.v[i].id, x.v[i].path);
            continue;
        }
        /* mark first: a crash in between leaves a purged row and a stray file,
         * which verify reports, never a row pointing at nothing */
        int r = catalog_mark_purged(x.c, x.v[i].id, es_now_ms());
        struct es_err gone = {{0}};
        if (!r)
            r = archive_file_remove(x.c, x.v[i].path, &gone);
        if (r) {
            failed++;
            ES_ERROR("retention", "%s: %s", x.v[i].path,
                     r == ES_EDB   ? catalog_strerror(x.c, r)
                     : gone.msg[0] ? gone.msg
                                   : es_strerror(r));
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
