#include "archive/archive.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/earshot-cat-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

static void teardown(void)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_call(struct archive_call *k, struct archive_recording *r, int64_t t,
                      const char *op, const char *sha)
{
    memset(k, 0, sizeof *k);
    memset(r, 0, sizeof *r);
    es_uuid7(t, k->id);
    k->started_at = t;
    k->duration_ms = 1000;
    k->ended_at = t + 1000;
    snprintf(k->operator_, sizeof k->operator_, "%s", op);
    snprintf(k->source, sizeof k->source, "ingest");
    snprintf(k->source_sha256, sizeof k->source_sha256, "%s", sha);
    snprintf(r->path, sizeof r->path, "archive/x/%s.opus", k->id);
    snprintf(r->sha256, sizeof r->sha256, "%064d", 0);
    r->channels = 1;
    r->sample_rate = r->source_rate = 8000;
    r->bitrate = 16000;
    r->duration_ms = 1000;
}

static int count(void *ud, const struct archive_call *k, const struct archive_recording *r)
{
    (void)k;
    (void)r;
    ++*(int *)ud;
    return 0;
}

TestSuite(catalog, .init = setup, .fini = teardown);

Test(catalog, migrates_and_refuses_newer_schema)
{
    struct catalog *c;
    struct es_err e;
    cr_assert_eq(catalog_open(dir, &c, &e), 0, "%s", e.msg);
    cr_assert_geq(catalog_schema_version(c), 1);
    catalog_close(c);
    char path[300];
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    cr_assert_eq(catalog_open(dir, &c, &e), ES_ESCHEMA);
    cr_assert_null(c);
    cr_assert(strstr(e.msg, "newer") != NULL, "%s", e.msg);
}

Test(catalog, insert_find_duplicate_list)
{
    struct catalog *c;
    struct es_err e;
    cr_assert_eq(catalog_open(dir, &c, &e), 0, "%s", e.msg);
    struct archive_call k;
    struct archive_recording r;
    char sha[65];
    memset(sha, 'a', 64);
    sha[64] = 0;
    make_call(&k, &r, 1763649015000LL, "101", sha);
    cr_assert_eq(catalog_pending_add(c, r.path, "owner"), 0);
    cr_assert(catalog_has_path(c, r.path), "pending paths count as known");
    cr_assert_eq(catalog_insert_call(c, &k, &r, NULL), 0);
    char id[ES_ID_LEN];
    cr_assert_eq(catalog_find_source(c, sha, id), 0);
    cr_assert_str_eq(id, k.id);
    /* same input hash again: refused, nothing half-inserted */
    struct archive_call k2;
    struct archive_recording r2;
    make_call(&k2, &r2, 1763649016000LL, "102", sha);
    cr_assert_eq(catalog_insert_call(c, &k2, &r2, NULL), ES_EEXIST);
    cr_assert_eq(catalog_get(c, k2.id, &k2, &r2, &(bool){0}), ES_ENOTFOUND);
    sha[0] = 'b';
    make_call(&k2, &r2, 1763649016000LL, "102", sha);
    cr_assert_eq(catalog_insert_call(c, &k2, &r2, NULL), 0);
    int n = 0;
    cr_assert_eq(catalog_list(c, NULL, count, &n), 0);
    cr_assert_eq(n, 2);
    n = 0;
    struct catalog_filter f = {.operator_ = "102"};
    catalog_list(c, &f, count, &n);
    cr_assert_eq(n, 1);
    n = 0;
    f = (struct catalog_filter){.since = 1763649015500LL};
    catalog_list(c, &f, count, &n);
    cr_assert_eq(n, 1);
    /* hold and purge */
    cr_assert_eq(catalog_set_hold(c, k.id, true), 0);
    cr_assert_eq(catalog_set_hold(c, "no-such-id", true), ES_ENOTFOUND);
    bool has;
    struct archive_call got;
    struct archive_recording gr;
    cr_assert_eq(catalog_get(c, k.id, &got, &gr, &has), 0);
    cr_assert(got.legal_hold);
    cr_assert(has);
    cr_assert_str_eq(got.operator_, "101");
    cr_assert_eq(catalog_mark_purged(c, k2.id, 5), 0);
    cr_assert_not(catalog_has_path(c, r2.path), "purged audio is no longer expected on disk");
    catalog_close(c);
}
