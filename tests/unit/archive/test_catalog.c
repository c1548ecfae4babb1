#include "archive/archive.h"
#include "archive/catalog_int.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <sqlite3.h>
#include "common/db.h"
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

static int collect_source(void *ud, const struct catalog_source_count *v)
{
    struct {
        struct catalog_source_count *v;
        int n;
    } *acc = ud;
    acc->v[acc->n++] = *v;
    return acc->n == 4;
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

/* A catalog made by an earlier earshot (schema 3, a recorded call in it)
 * takes the 'rejected' disposition in place: its rows and recordings stay,
 * the widened CHECK still refuses anything else, the file passes SQLite's
 * integrity check, and the per-source counts add up by day. */
Test(catalog, migration_4_widens_disposition_in_place)
{
    char path[300];
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    for (int v = 0; v < 3; v++)
        cr_assert_eq(sqlite3_exec(db, catalog_migrations[v], NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "PRAGMA user_version = 3;"
                              "INSERT INTO calls(id, started_at, ended_at, duration_ms, source,"
                              " disposition, reason, created_at) VALUES ('old', 1, 2, 1, 'ingest',"
                              " 'missed', 'busy', 3);"
                              "INSERT INTO recordings(call_id, path, sha256, bytes, channels,"
                              " sample_rate, source_rate, bitrate, duration_ms) VALUES ('old',"
                              " 'archive/a.opus', 'x', 1, 1, 8000, 8000, 16000, 1);",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3 *other; /* a connection open across the migration sees the new schema */
    cr_assert_eq(sqlite3_open(path, &other), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(other, "SELECT count(*) FROM calls", NULL, NULL, NULL), SQLITE_OK,
                 "the schema as it was, read and cached");
    struct catalog *c;
    struct es_err e;
    cr_assert_eq(catalog_open(dir, &c, &e), 0, "%s", e.msg);
    cr_assert_eq(catalog_schema_version(c), catalog_nmigrations);
    struct db *cdb = catalog_db(c);
    cr_assert_eq(db_exec(cdb, "INSERT INTO calls(id, started_at, ended_at, duration_ms, source,"
                              " disposition, reason, created_at) VALUES ('scan', 1, 2, 1,"
                              " 'recorder', 'rejected', 'forbidden', 3)"),
                 0, "%s", db_errmsg(cdb));
    cr_assert_neq(sqlite3_exec(other,
                               "INSERT INTO calls(id, started_at, ended_at, duration_ms, source,"
                               " disposition, created_at) VALUES ('bad', 1, 2, 1, 'x', 'bogus', 3)",
                               NULL, NULL, NULL),
                  SQLITE_OK, "the CHECK still holds for anything else");
    cr_assert_eq(
        sqlite3_exec(other,
                     "INSERT INTO calls(id, started_at, ended_at, duration_ms, source,"
                     " disposition, created_at) VALUES ('o2', 1, 2, 1, 'x', 'rejected', 3)",
                     NULL, NULL, NULL),
        SQLITE_OK, "the other connection reads the widened CHECK");
    sqlite3_close(other);
    sqlite3_close(db);
    struct db_stmt *s;
    cr_assert_eq(db_prepare(cdb,
                            "SELECT (SELECT count(*) FROM recordings WHERE call_id = 'old'),"
                            " (SELECT reason FROM calls WHERE id = 'old')",
                            &s),
                 0);
    cr_assert_eq(db_step(s), DB_ROW);
    cr_assert_eq(db_column_int(s, 0), 1, "the recording row is still there");
    cr_assert_str_eq((const char *)db_column_text(s, 1), "busy");
    db_finalize(s);
    cr_assert_eq(db_prepare(cdb, "PRAGMA integrity_check", &s), 0);
    cr_assert_eq(db_step(s), DB_ROW);
    cr_assert_str_eq((const char *)db_column_text(s, 0), "ok");
    db_finalize(s);
    /* rejected attempts are left out of ls unless asked for */
    int n = 0;
    cr_assert_eq(catalog_list(c, NULL, count, &n), 0);
    cr_assert_eq(n, 1, "only the missed call");
    n = 0;
    struct catalog_filter f = {.disposition = "rejected"};
    cr_assert_eq(catalog_list(c, &f, count, &n), 0);
    cr_assert_eq(n, 2);
    /* per-source counts: summed per UTC day and address */
    struct catalog_source_count v[3] = {
        {.address = "192.0.2.7",
         .attempts = 10,
         .catalogued = 4,
         .first_at = 1763649015000LL,
         .last_at = 1763649016000LL},
        {.address = "192.0.2.8",
         .attempts = 3,
         .untracked = 3,
         .first_at = 1763649015000LL,
         .last_at = 1763649015000LL},
        {.address = "192.0.2.7",
         .attempts = 5,
         .untracked = 5,
         .first_at = 1763735415000LL,
         .last_at = 1763735416000LL}, /* the next day */
    };
    cr_assert_eq(catalog_add_source_counts(c, v, 2), 0);
    cr_assert_eq(catalog_add_source_counts(c, v, 3), 0);
    cr_assert_eq(db_prepare(cdb, "SELECT count(*), sum(attempts) FROM rejected_sources", &s), 0);
    cr_assert_eq(db_step(s), DB_ROW);
    cr_assert_eq(db_column_int(s, 0), 3, "two days of .7, one of .8");
    cr_assert_eq(db_column_int(s, 1), 31);
    db_finalize(s);
    struct catalog_source_count top[4];
    struct {
        struct catalog_source_count *v;
        int n;
    } acc = {top, 0};
    cr_assert_eq(catalog_top_sources(c, "2025-11-20", "2025-11-20", 10, collect_source, &acc), 0);
    cr_assert_eq(acc.n, 2);
    cr_assert_str_eq(top[0].address, "192.0.2.7");
    cr_assert_eq(top[0].attempts, 20);
    cr_assert_eq(top[0].catalogued, 8);
    cr_assert_eq(top[1].untracked, 6);
    catalog_close(c);
}

/* One call, one row: a PBX call joins the catalogued call with its uniqueid,
 * else the same caller within 5 s; fills only what is empty; a missed call
 * nothing recorded is catalogued once however often it is joined. */
Test(catalog, join_pbx_calls)
{
    struct catalog *c;
    struct es_err e;
    cr_assert_eq(catalog_open(dir, &c, &e), 0, "%s", e.msg);
    struct archive_call k;
    struct archive_recording r;
    char sha[65];
    memset(sha, 'c', 64);
    sha[64] = 0;
    make_call(&k, &r, 1796026800000LL, "", sha); /* a queue recording: no operator */
    snprintf(k.external_id, sizeof k.external_id, "1796026800.7");
    snprintf(k.caller, sizeof k.caller, "+4930111");
    k.ring_ms = k.talk_ms = -1; /* as ingest leaves them: a PBX file does not say */
    cr_assert_eq(catalog_insert_call(c, &k, &r, NULL), 0);
    sha[0] = 'd';
    struct archive_call k2;
    make_call(&k2, &r, 1796030000000LL, "105", sha); /* no uniqueid; its own operator */
    snprintf(k2.caller, sizeof k2.caller, "+4930222");
    cr_assert_eq(catalog_insert_call(c, &k2, &r, NULL), 0);

    struct catalog_pbx_call p = {.external_id = "1796026800.7",
                                 .caller = "+4930111",
                                 .queue = "sales",
                                 .operator_ = "101",
                                 .source = "queue_log",
                                 .started_at = 1796026790000LL,
                                 .ended_at = 1796027100000LL,
                                 .wait_ms = 12000};
    cr_assert_eq(catalog_join_pbx_call(c, &p, &e), 1, "%s", e.msg);
    struct archive_call got;
    struct archive_recording gr;
    bool has;
    cr_assert_eq(catalog_get(c, k.id, &got, &gr, &has), 0);
    cr_assert_str_eq(got.operator_, "101");
    cr_assert_str_eq(got.queue, "sales");
    cr_assert_eq(got.ring_ms, 12000);
    cr_assert(strstr(got.meta_sources, "\"operator\":\"queue_log\""), "%s", got.meta_sources);
    /* by caller within 5 s; an operator already known stays */
    p = (struct catalog_pbx_call){.external_id = "x.1",
                                  .caller = "+4930222",
                                  .queue = "sales",
                                  .operator_ = "101",
                                  .source = "queue_log",
                                  .started_at = 1796030004000LL,
                                  .wait_ms = 3000};
    cr_assert_eq(catalog_join_pbx_call(c, &p, &e), 1);
    cr_assert_eq(catalog_get(c, k2.id, &got, &gr, &has), 0);
    cr_assert_str_eq(got.operator_, "105");
    cr_assert_str_eq(got.queue, "sales");
    p.started_at = 1796030006000LL; /* 6 s off, another uniqueid: not this call */
    p.external_id = "x.2";
    cr_assert_eq(catalog_join_pbx_call(c, &p, &e), 0, "answered, not catalogued yet");
    /* missed, recorded by nobody: one row, once */
    p = (struct catalog_pbx_call){.external_id = "1796040000.9",
                                  .caller = "+4930333",
                                  .queue = "sales",
                                  .source = "queue_log",
                                  .missed_reason = "abandoned",
                                  .started_at = 1796040000000LL,
                                  .ended_at = 1796040048000LL,
                                  .wait_ms = 48000};
    cr_assert_eq(catalog_join_pbx_call(c, &p, &e), 2);
    cr_assert_eq(catalog_join_pbx_call(c, &p, &e), 1, "joined again: found, not a second row");
    int n = 0;
    struct catalog_filter f = {.disposition = "missed"};
    cr_assert_eq(catalog_list(c, &f, count, &n), 0);
    cr_assert_eq(n, 1);
    catalog_close(c);
}

struct since {
    int n;
    char last_id[ES_ID_LEN];
    int64_t last_created;
    char ids[8][ES_ID_LEN];
};

static int follow(void *ud, const struct catalog_call_brief *b)
{
    struct since *x = ud;
    if (x->n < 8)
        snprintf(x->ids[x->n], ES_ID_LEN, "%s", b->id);
    x->n++;
    snprintf(x->last_id, sizeof x->last_id, "%s", b->id);
    x->last_created = b->created_at;
    return 0;
}

/* Following the catalog by (created_at, id) never skips a call: a call
 * catalogued later sorts after, even when it started earlier (a smaller id)
 * and went in within the same millisecond. */
Test(catalog, created_at_strictly_increases_in_commit_order)
{
    struct catalog *c;
    struct es_err err;
    cr_assert_eq(catalog_open(dir, &c, &err), 0);
    struct archive_call *k = calloc(1, sizeof *k);
    struct archive_recording r;
    int64_t t = 1790000000000;
    char sha[65];
    snprintf(sha, sizeof sha, "%064d", 901);
    make_call(k, &r, t + 60000, "ann", sha); /* catalogued first, started later */
    cr_assert_eq(catalog_insert_call(c, k, NULL, NULL), 0);
    struct since x = {0};
    cr_assert_eq(catalog_calls_since(c, 0, "", 100, follow, &x), 0);
    cr_assert_eq(x.n, 1);
    char first[ES_ID_LEN];
    snprintf(first, sizeof first, "%s", k->id);
    snprintf(sha, sizeof sha, "%064d", 902);
    make_call(k, &r, t, "ann", sha); /* right after: the same millisecond, a smaller id */
    cr_assert_eq(catalog_insert_call(c, k, NULL, NULL), 0);
    cr_assert_lt(strcmp(k->id, first), 0);
    struct since y = {0};
    cr_assert_eq(catalog_calls_since(c, x.last_created, x.last_id, 100, follow, &y), 0);
    cr_assert_eq(y.n, 1, "the call catalogued after the follower's position is seen");
    cr_assert_str_eq(y.ids[0], k->id);
    /* many at once: every created_at distinct and rising */
    for (int i = 0; i < 50; i++) {
        snprintf(sha, sizeof sha, "%064d", 1000 + i);
        make_call(k, &r, t - (i + 1) * 1000, "ann", sha);
        cr_assert_eq(catalog_insert_call(c, k, NULL, NULL), 0);
    }
    struct since z = {0};
    int64_t prev = 0;
    struct db *db = (struct db *)catalog_db(c);
    struct db_stmt *st;
    cr_assert_eq(db_prepare(db, "SELECT created_at FROM calls ORDER BY rowid", &st), 0);
    while (db_step(st) == DB_ROW) {
        int64_t v = db_column_int64(st, 0);
        cr_assert_gt(v, prev);
        prev = v;
        z.n++;
    }
    db_finalize(st);
    cr_assert_eq(z.n, 52);
    free(k);
    catalog_close(c);
}
