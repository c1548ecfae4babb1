/* Catalog: opening, migrations and the write side. Queries are in
 * catalog_query.c. Every statement is prepared once here. */
#include "archive/catalog_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define CALL_COLS                                                                                  \
    "c.id, c.started_at, c.ended_at, c.duration_ms, c.direction, c.caller, c.callee,"              \
    " c.operator, c.customer, c.queue, c.external_id, c.source, c.source_ref,"                     \
    " coalesce(c.source_sha256, ''), c.meta_sources, c.disposition, c.reason, c.tags,"             \
    " c.legal_hold, coalesce(c.purged_at, 0), r.path, r.sha256, r.bytes, r.channels,"              \
    " r.sample_rate, r.source_rate, r.bitrate, r.duration_ms, c.sip_call_id,"                      \
    " coalesce(c.ring_ms, -1), coalesce(c.talk_ms, -1), c.details"

static const char *const sql[ST_COUNT] = {
    [ST_FIND_SOURCE] = "SELECT id FROM calls WHERE source_sha256 = ?1",
    [ST_PENDING_ADD] = "INSERT INTO pending_files(path, owner, created_at) VALUES (?1, ?2, ?3)"
                       " ON CONFLICT (path) DO UPDATE SET owner = excluded.owner,"
                       " created_at = excluded.created_at",
    [ST_PENDING_DEL] = "DELETE FROM pending_files WHERE path = ?1",
    [ST_PENDING_ALL] = "SELECT path, owner FROM pending_files",
    [ST_INSERT_CALL] =
        "INSERT INTO calls(id, started_at, ended_at, duration_ms, direction, caller, callee,"
        " operator, customer, queue, external_id, source, source_ref, source_sha256,"
        " meta_sources, disposition, reason, tags, created_at, sip_call_id, ring_ms, talk_ms,"
        " details)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, nullif(?14, ''),"
        " ?15, ?16, ?17, ?18,"
        /* strictly after every call catalogued before (inside the write
         * transaction, so in commit order): a reader following the catalog by
         * (created_at, id) never has a later call sort before its position */
        " max(?19, coalesce((SELECT max(created_at) FROM calls), 0) + 1),"
        " ?20, nullif(?21, -1), nullif(?22, -1), ?23)",
    [ST_INSERT_REC] = "INSERT INTO recordings(call_id, path, sha256, bytes, channels,"
                      " sample_rate, source_rate, bitrate, duration_ms)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_INSERT_ANALYSIS] =
        "INSERT INTO analysis(call_id, bucket_ms, peaks, ch0_talk_ms, ch1_talk_ms,"
        " ch0_longest_silence_ms, ch1_longest_silence_ms, overtalk_ms, talk_ratio, silences)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_FAILURE] = "INSERT INTO ingest_failures(source_path, source_sha256, reason, failed_path,"
                   " first_at, last_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
                   " ON CONFLICT (source_path, source_sha256) DO UPDATE SET"
                   " reason = excluded.reason, failed_path = excluded.failed_path,"
                   " last_at = excluded.last_at, attempts = ingest_failures.attempts + 1",
    [ST_LIST] = "SELECT " CALL_COLS " FROM calls c LEFT JOIN recordings r ON r.call_id = c.id"
                " WHERE (?1 = 0 OR c.started_at >= ?1) AND (?2 = 0 OR c.started_at < ?2)"
                " AND (?3 IS NULL OR c.operator = ?3)"
                " AND (c.disposition = ?5 OR (?5 IS NULL AND c.disposition != 'rejected'))"
                " ORDER BY c.started_at DESC, c.id DESC LIMIT ?4",
    [ST_GET] = "SELECT " CALL_COLS " FROM calls c LEFT JOIN recordings r ON r.call_id = c.id"
               " WHERE c.id = ?1",
    [ST_GET_ANALYSIS] = "SELECT bucket_ms, peaks, ch0_talk_ms, ch1_talk_ms,"
                        " ch0_longest_silence_ms, ch1_longest_silence_ms, overtalk_ms,"
                        " talk_ratio, silences FROM analysis WHERE call_id = ?1",
    [ST_SET_HOLD] = "UPDATE calls SET legal_hold = ?2 WHERE id = ?1",
    [ST_MARK_PURGED] = "UPDATE calls SET purged_at = ?2 WHERE id = ?1",
    [ST_ALL_RECORDINGS] = "SELECT r.call_id, r.path, r.sha256, r.bytes FROM recordings r"
                          " JOIN calls c ON c.id = r.call_id WHERE c.purged_at IS NULL"
                          " ORDER BY r.path",
    [ST_SOURCE_ADD] = "INSERT INTO rejected_sources(day, address, attempts, catalogued, untracked,"
                      " first_at, last_at, last_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                      " ON CONFLICT (day, address) DO UPDATE SET"
                      " attempts = rejected_sources.attempts + excluded.attempts,"
                      " catalogued = rejected_sources.catalogued + excluded.catalogued,"
                      " untracked = rejected_sources.untracked + excluded.untracked,"
                      " first_at = min(rejected_sources.first_at, excluded.first_at),"
                      " last_at = max(rejected_sources.last_at, excluded.last_at),"
                      " last_reason = excluded.last_reason",
    [ST_SOURCE_TOP] = "SELECT address, sum(attempts), sum(catalogued), sum(untracked),"
                      " min(first_at), max(last_at) FROM rejected_sources"
                      " WHERE day >= ?1 AND day <= ?2 GROUP BY address"
                      " ORDER BY sum(attempts) DESC, address LIMIT ?3",
    /* "!= ''" lets SQLite use the partial index on external_id */
    [ST_PBX_BY_ID] = "SELECT id, operator, queue, meta_sources FROM calls WHERE external_id = ?1"
                     " AND external_id != '' ORDER BY started_at LIMIT 1",
    [ST_PBX_BY_CALLER] = "SELECT id, operator, queue, meta_sources FROM calls"
                         " WHERE started_at BETWEEN ?2 - 5000 AND ?2 + 5000 AND caller = ?1"
                         " ORDER BY abs(started_at - ?2) LIMIT 1",
    [ST_PBX_FILL] = "UPDATE calls SET operator = ?2, queue = ?3, ring_ms = coalesce(ring_ms, ?4),"
                    " meta_sources = ?5 WHERE id = ?1",
    [ST_BRIEFS] = "SELECT started_at, disposition, reason, queue, caller, operator, id, customer,"
                  " tags FROM calls WHERE started_at >= ?1 AND started_at < ?2"
                  " AND (?3 IS NULL OR source = ?3) ORDER BY started_at",
    [ST_SINCE] = "SELECT started_at, disposition, reason, queue, caller, operator, id, customer,"
                 " tags, direction, callee, created_at FROM calls"
                 " WHERE created_at > ?1 OR (created_at = ?1 AND id > ?2)"
                 " ORDER BY created_at, id LIMIT ?3",
    [ST_STATUS_PUT] = "INSERT INTO recorder_status(source, at, counters) VALUES (?1, ?2, ?3)"
                      " ON CONFLICT (source) DO UPDATE SET at = excluded.at,"
                      " counters = excluded.counters",
    [ST_STATUS_LIST] = "SELECT source, at, counters FROM recorder_status ORDER BY source",
    [ST_FAILURES_SINCE] = "SELECT id, last_at, attempts, source_path, reason, failed_path"
                          " FROM ingest_failures WHERE last_at > ?1 OR (last_at = ?1 AND id > ?2)"
                          " ORDER BY last_at, id LIMIT ?3",
    [ST_TOTALS] = "SELECT (SELECT count(*) FROM calls WHERE disposition = 'answered'),"
                  " (SELECT count(*) FROM calls WHERE disposition = 'missed'),"
                  " (SELECT count(*) FROM calls WHERE disposition = 'rejected'),"
                  " (SELECT count(*) FROM ingest_failures),"
                  " (SELECT coalesce(sum(bytes), 0) FROM recordings)",
    [ST_AUDIO_CALLS] = "SELECT c.id, c.started_at, c.disposition, c.queue, c.tags, c.operator,"
                       " c.source, r.path, c.legal_hold FROM calls c"
                       " JOIN recordings r ON r.call_id = c.id WHERE c.purged_at IS NULL"
                       " ORDER BY c.started_at",
    [ST_BY_NUMBER] =
        "SELECT id, started_at, caller, callee, customer, direction, disposition,"
        " purged_at IS NULL AND EXISTS (SELECT 1 FROM recordings r"
        " WHERE r.call_id = calls.id), legal_hold, operator, queue FROM calls"
        " WHERE " CATALOG_NUMBER_KEY(
            "caller") " = ?1 UNION"
                      " SELECT id, started_at, caller, callee, customer, direction, disposition,"
                      " purged_at IS NULL AND EXISTS (SELECT 1 FROM recordings r"
                      " WHERE r.call_id = calls.id), legal_hold, operator, queue FROM calls"
                      " WHERE " CATALOG_NUMBER_KEY("callee") " = ?1 ORDER BY 2",
    [ST_ANSWERED] = "SELECT operator, id, started_at FROM calls"
                    " WHERE started_at >= ?1 AND started_at < ?2 AND disposition = 'answered'"
                    " AND operator != '' ORDER BY operator, id",
    [ST_ANSWERED_OP] = "SELECT operator, id, started_at FROM calls"
                       " WHERE operator = ?3 AND started_at >= ?1 AND started_at < ?2"
                       " AND disposition = 'answered' ORDER BY id",
    /* the numbers, the customer, the file names (they carry numbers) and the DTMF
     * digits go; the audio is marked purged (the caller deletes the file) */
    [ST_ERASE] = "UPDATE calls SET caller = '', callee = '', customer = '',"
                 " source_ref = 'erased', details = json_remove(details, '$.dtmf'),"
                 " purged_at = coalesce(purged_at, ?2), erased_at = ?2"
                 " WHERE id = ?1 AND legal_hold = 0",
    [ST_ADD_TAG] = "UPDATE calls SET tags = json_insert(tags, '$[#]', ?2) WHERE id = ?1"
                   " AND NOT EXISTS (SELECT 1 FROM json_each(calls.tags) WHERE value = ?2)",
    [ST_EXPIRED] = "SELECT c.id, r.path FROM calls c JOIN recordings r ON r.call_id = c.id"
                   " WHERE c.started_at < ?1 AND c.purged_at IS NULL AND c.legal_hold = 0"
                   " ORDER BY c.started_at",
    [ST_REPLACE_REC] = "UPDATE recordings SET path = ?2, sha256 = ?3, bytes = ?4,"
                       " duration_ms = ?5 WHERE call_id = ?1",
    [ST_DELETE_ANALYSIS] = "DELETE FROM analysis WHERE call_id = ?1",
    [ST_ADD_REDACTION] = "UPDATE calls SET details = json_set(details, '$.redactions',"
                         " json_insert(coalesce(details -> '$.redactions', '[]'), '$[#]',"
                         " json(?2))) WHERE id = ?1 AND legal_hold = 0 AND purged_at IS NULL",
    [ST_INSERT_KEY] = "INSERT INTO audio_keys(call_id, key_id, wrapped) VALUES (?1, ?2, ?3)"
                      " ON CONFLICT (call_id) DO UPDATE SET key_id = excluded.key_id,"
                      " wrapped = excluded.wrapped",
    [ST_DELETE_KEY] = "DELETE FROM audio_keys WHERE call_id = ?1",
    [ST_AUDIO_KEY] = "SELECT r.path, k.key_id, k.wrapped FROM calls c"
                     " JOIN recordings r ON r.call_id = c.id"
                     " LEFT JOIN audio_keys k ON k.call_id = c.id"
                     " WHERE c.id = ?1 AND c.purged_at IS NULL",
    [ST_KEY_IDS] = "SELECT key_id, count(*) FROM audio_keys GROUP BY key_id",
    [ST_ALL_KEYS] = "SELECT call_id, key_id, wrapped FROM audio_keys WHERE call_id > ?1"
                    " ORDER BY call_id LIMIT ?2",
    [ST_COUNT_PLAIN] = "SELECT count(*) FROM recordings r JOIN calls c ON c.id = r.call_id"
                       " WHERE c.purged_at IS NULL"
                       " AND NOT EXISTS (SELECT 1 FROM audio_keys k WHERE k.call_id = r.call_id)",
    [ST_RESEAL] = "UPDATE recordings SET path = ?2, sha256 = ?3, bytes = ?4 WHERE call_id = ?1",
    [ST_UPDATE_KEY] = "UPDATE audio_keys SET key_id = ?2, wrapped = ?3 WHERE call_id = ?1",
    [ST_NEXT_PLAIN] = "SELECT r.call_id FROM recordings r JOIN calls c ON c.id = r.call_id"
                      " WHERE c.purged_at IS NULL AND r.call_id > ?1"
                      " AND NOT EXISTS (SELECT 1 FROM audio_keys k WHERE k.call_id = r.call_id)"
                      " ORDER BY r.call_id LIMIT ?2",
    [ST_HAS_PATH] = "SELECT 1 FROM recordings r JOIN calls c ON c.id = r.call_id"
                    " WHERE r.path = ?1 AND c.purged_at IS NULL UNION ALL"
                    " SELECT 1 FROM pending_files WHERE path = ?1",
};

/* PostgreSQL's text where SQLite's JSON operators have no translation. */
static const char *const sql_pg[ST_COUNT] = {
    [ST_ADD_REDACTION] = "UPDATE calls SET details = jsonb_set(CAST(details AS jsonb),"
                         " '{redactions}', coalesce(CAST(details AS jsonb) -> 'redactions',"
                         " CAST('[]' AS jsonb)) || jsonb_build_array(CAST(?2 AS jsonb)))::text"
                         " WHERE id = ?1 AND legal_hold = 0 AND purged_at IS NULL",
};

struct db_stmt *catalog_stmt(struct catalog *c, enum catalog_stmt which)
{
    struct db_stmt *s = c->st[which];
    db_reset(s);
    db_clear_bindings(s);
    return s;
}

int catalog_db_error(struct catalog *c, const char *what)
{
    es_seterr(&c->err, ES_EDB, "catalog: %s: %s", what, db_errmsg(c->db));
    return ES_EDB;
}

const char *catalog_strerror(struct catalog *c, int rc)
{
    if (rc != ES_EDB)
        return es_strerror(rc);
    if (!c->err.msg[0]) /* a transaction's begin or commit: the engine's own words */
        es_seterr(&c->err, ES_EDB, "catalog: %s", db_errmsg(c->db));
    return c->err.msg;
}

static int scalar_int(struct db *db, const char *text, int *out)
{
    struct db_stmt *s;
    int rc = db_prepare(db, text, &s);
    if (rc)
        return rc;
    rc = db_step(s);
    *out = rc == DB_ROW ? db_column_int(s, 0) : 0;
    db_finalize(s);
    return rc < 0 ? rc : 0;
}

/* A step that edited sqlite_schema directly must bump schema_version, so
 * that every connection (this one too) parses the schema again. */
static int bump_schema_version(struct catalog *c, const char *step)
{
    if (!strstr(step, "writable_schema"))
        return 0;
    int v;
    int rc = scalar_int(c->db, "PRAGMA schema_version", &v);
    if (rc)
        return rc;
    char set[64];
    snprintf(set, sizeof set, "PRAGMA schema_version = %d", v + 1);
    return db_exec(c->db, set);
}

static int module_version(struct catalog *c, const char *module)
{
    struct db_stmt *s;
    if (db_prepare(c->db, "SELECT version FROM module_versions WHERE module = ?1", &s))
        return ES_EDB;
    db_bind_text(s, 1, module, -1);
    int rc = db_step(s);
    int v = rc == DB_ROW ? db_column_int(s, 0) : rc == DB_DONE ? 0 : ES_EDB;
    db_finalize(s);
    return v;
}

static int set_module_version(struct catalog *c, const char *module, int version)
{
    struct db_stmt *s;
    int rc = db_prepare(c->db,
                        "INSERT INTO module_versions(module, version) VALUES (?1, ?2)"
                        " ON CONFLICT (module) DO UPDATE SET version = excluded.version",
                        &s);
    if (rc)
        return rc;
    db_bind_text(s, 1, module, -1);
    db_bind_int(s, 2, version);
    rc = db_step(s);
    db_finalize(s);
    return rc;
}

/* PostgreSQL: every module's version in module_versions (archive's too),
 * created with SQLite's functions the shared SQL relies on; all of it in one
 * transaction under an advisory lock, so processes starting together
 * migrate once. */
#define MIGRATION_LOCK "SELECT pg_advisory_xact_lock(734977)"

static int migrate_pg(struct catalog *c, struct es_err *err)
{
    bool outer;
    int rc = db_begin(c->db, &outer);
    if (!rc)
        rc = db_exec(c->db, MIGRATION_LOCK);
    if (!rc)
        rc = db_exec(c->db, "CREATE TABLE IF NOT EXISTS module_versions ("
                            " module TEXT PRIMARY KEY, version INTEGER NOT NULL)");
    int version = 0;
    if (!rc)
        rc = scalar_int(c->db, "SELECT version FROM module_versions WHERE module = 'archive'",
                        &version);
    if (!rc && version > catalog_nmigrations)
        rc = ES_ESCHEMA;
    if (!rc && version == 0)
        rc = db_install_functions(c->db);
    int v = version;
    for (; !rc && v < catalog_nmigrations; v++) {
        const char *step =
            catalog_migrations_pg[v] ? catalog_migrations_pg[v] : catalog_migrations[v];
        rc = db_exec(c->db, step);
        if (!rc)
            rc = set_module_version(c, "archive", v + 1);
    }
    if (rc == ES_ESCHEMA) {
        db_end(c->db, outer, rc);
        return es_seterr(err, ES_ESCHEMA,
                         "catalog schema version %d is newer than this earshot (knows up to %d);"
                         " upgrade earshot",
                         version, catalog_nmigrations);
    }
    rc = db_end(c->db, outer, rc);
    if (rc)
        return es_seterr(err, ES_EDB, "catalog migration %d failed: %s", v, db_errmsg(c->db));
    return 0;
}

static int migrate(struct catalog *c, struct es_err *err)
{
    if (db_engine(c->db) == DB_POSTGRES)
        return migrate_pg(c, err);
    int version;
    if (scalar_int(c->db, "PRAGMA user_version", &version))
        return db_seterr(c->db, err, ES_EDB, "catalog");
    if (version > catalog_nmigrations)
        return es_seterr(err, ES_ESCHEMA,
                         "catalog schema version %d is newer than this earshot (knows up to %d);"
                         " upgrade earshot",
                         version, catalog_nmigrations);
    for (int v = version; v < catalog_nmigrations; v++) {
        char setv[64];
        snprintf(setv, sizeof setv, "PRAGMA user_version = %d", v + 1);
        bool outer;
        int rc = db_begin(c->db, &outer);
        if (!rc)
            rc = db_exec(c->db, catalog_migrations[v]);
        if (!rc)
            rc = bump_schema_version(c, catalog_migrations[v]);
        if (!rc)
            rc = db_exec(c->db, setv);
        if (rc) {
            es_seterr(err, ES_EDB, "catalog migration %d failed: %s", v + 1, db_errmsg(c->db));
            db_end(c->db, outer, rc);
            return ES_EDB;
        }
        if (db_end(c->db, outer, 0))
            return es_seterr(err, ES_EDB, "catalog migration %d failed: %s", v + 1,
                             db_errmsg(c->db));
    }
    return 0;
}

static const char *default_target;

void catalog_set_target(const char *target)
{
    default_target = target && target[0] ? target : NULL;
}

const char *catalog_target(void)
{
    return default_target;
}

int catalog_open(const char *data_dir, struct catalog **out, struct es_err *err)
{
    return catalog_open_at(data_dir, default_target, out, err);
}

int catalog_open_at(const char *data_dir, const char *target, struct catalog **out,
                    struct es_err *err)
{
    *out = NULL;
    struct catalog *c = calloc(1, sizeof *c);
    if (!c)
        return ES_ENOMEM;
    char path[4200];
    int rc;
    if (target && !target[0])
        target = NULL;
    if (es_fmt(c->data_dir, sizeof c->data_dir, "%s", data_dir) ||
        es_fmt(path, sizeof path, "%s", target ? target : "") ||
        (!target && es_fmt(path, sizeof path, "%s/catalog.db", data_dir))) {
        free(c);
        return es_seterr(err, ES_EINVAL, "data directory path too long");
    }
    rc = es_mkdir_p(data_dir, 0750);
    if (rc) {
        free(c);
        return es_seterr(err, rc, "%s: cannot create data directory: %s", data_dir,
                         es_strerror(rc));
    }
    rc = db_open(path, &c->db, err);
    if (rc)
        goto fail;
    rc = migrate(c, err);
    if (rc)
        goto fail;
    for (int i = 0; i < ST_COUNT; i++) {
        bool pg = db_engine(c->db) == DB_POSTGRES && sql_pg[i];
        /* every recording, every expired call: too many rows to hold at once */
        bool all = i == ST_ALL_RECORDINGS || i == ST_EXPIRED;
        const char *text = pg ? sql_pg[i] : sql[i];
        if (all ? db_prepare_stream(c->db, text, &c->st[i]) : db_prepare(c->db, text, &c->st[i])) {
            rc = es_seterr(err, ES_EDB, "catalog: preparing statement %d: %s", i, db_errmsg(c->db));
            goto fail;
        }
    }
    *out = c;
    return 0;
fail:
    catalog_close(c);
    return rc;
}

void catalog_close(struct catalog *c)
{
    if (!c)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        db_finalize(c->st[i]);
    db_cache_clear(&c->queries);
    db_close(c->db);
    free(c);
}

struct db *catalog_db(struct catalog *c)
{
    return c->db;
}

int catalog_migrate_module(struct catalog *c, const char *module, const char *const *steps,
                           const char *const *pg_steps, int nsteps, struct es_err *err)
{
    int version = module_version(c, module);
    if (version < 0)
        return es_seterr(err, ES_EDB, "catalog: %s tables: %s", module, db_errmsg(c->db));
    if (version > nsteps)
        return es_seterr(err, ES_ESCHEMA,
                         "catalog: %s tables are at version %d, newer than this earshot (knows up"
                         " to %d); upgrade earshot",
                         module, version, nsteps);
    bool pg = db_engine(c->db) == DB_POSTGRES;
    for (int v = version; v < nsteps; v++) {
        bool outer;
        int rc = db_begin(c->db, &outer);
        if (!rc && pg)
            rc = db_exec(c->db, MIGRATION_LOCK);
        if (!rc && module_version(c, module) != v) /* another process did it meanwhile */
            rc = ES_EBUSY;
        if (!rc)
            rc = db_exec(c->db, pg && pg_steps && pg_steps[v] ? pg_steps[v] : steps[v]);
        if (!rc)
            rc = set_module_version(c, module, v + 1);
        if (!rc)
            rc = db_end(c->db, outer, 0);
        else
            db_end(c->db, outer, rc);
        if (rc) {
            /* someone else migrated meanwhile: start again from what is there */
            if (module_version(c, module) > v)
                return catalog_migrate_module(c, module, steps, pg_steps, nsteps, err);
            return es_seterr(err, ES_EDB, "catalog: %s migration %d failed: %s", module, v + 1,
                             db_errmsg(c->db));
        }
    }
    return 0;
}

int catalog_schema_version(struct catalog *c)
{
    if (db_engine(c->db) == DB_POSTGRES)
        return module_version(c, "archive");
    int v;
    return scalar_int(c->db, "PRAGMA user_version", &v) ? ES_EDB : v;
}

static int step_done(struct catalog *c, struct db_stmt *s, const char *what)
{
    int rc = db_step(s);
    if (rc == DB_DONE)
        return 0;
    if (rc == ES_EEXIST)
        return ES_EEXIST;
    return catalog_db_error(c, what);
}

int catalog_find_source(struct catalog *c, const char *sha256_hex, char *id_out)
{
    struct db_stmt *s = catalog_stmt(c, ST_FIND_SOURCE);
    db_bind_text(s, 1, sha256_hex, -1);
    int rc = db_step(s);
    if (rc == DB_ROW) {
        snprintf(id_out, ES_ID_LEN, "%s", (const char *)db_column_text(s, 0));
        return 0;
    }
    return rc == DB_DONE ? ES_ENOTFOUND : catalog_db_error(c, "find source");
}

int catalog_pending_add(struct catalog *c, const char *relpath, const char *owner)
{
    struct db_stmt *s = catalog_stmt(c, ST_PENDING_ADD);
    db_bind_text(s, 1, relpath, -1);
    db_bind_text(s, 2, owner, -1);
    db_bind_int64(s, 3, es_now_ms());
    return step_done(c, s, "pending add");
}

int catalog_pending_remove(struct catalog *c, const char *relpath)
{
    struct db_stmt *s = catalog_stmt(c, ST_PENDING_DEL);
    db_bind_text(s, 1, relpath, -1);
    return step_done(c, s, "pending remove");
}

static void bind_text(struct db_stmt *s, int i, const char *v)
{
    db_bind_text(s, i, v, -1);
}

static int insert_call_row(struct catalog *c, const struct archive_call *k)
{
    struct db_stmt *s = catalog_stmt(c, ST_INSERT_CALL);
    bind_text(s, 1, k->id);
    db_bind_int64(s, 2, k->started_at);
    db_bind_int64(s, 3, k->ended_at);
    db_bind_int64(s, 4, k->duration_ms);
    bind_text(s, 5, k->direction[0] ? k->direction : "unknown");
    bind_text(s, 6, k->caller);
    bind_text(s, 7, k->callee);
    bind_text(s, 8, k->operator_);
    bind_text(s, 9, k->customer);
    bind_text(s, 10, k->queue);
    bind_text(s, 11, k->external_id);
    bind_text(s, 12, k->source);
    bind_text(s, 13, k->source_ref);
    bind_text(s, 14, k->source_sha256);
    bind_text(s, 15, k->meta_sources[0] ? k->meta_sources : "{}");
    bind_text(s, 16, k->disposition[0] ? k->disposition : "answered");
    bind_text(s, 17, k->reason);
    bind_text(s, 18, k->tags[0] ? k->tags : "[]");
    db_bind_int64(s, 19, es_now_ms());
    bind_text(s, 20, k->sip_call_id);
    db_bind_int64(s, 21, k->ring_ms);
    db_bind_int64(s, 22, k->talk_ms);
    bind_text(s, 23, k->details[0] ? k->details : "{}");
    return step_done(c, s, "insert call");
}

/* A sealed recording's wrapped data key; any earlier one of the call goes. */
static int put_key(struct catalog *c, const char *id, const struct archive_recording *r)
{
    struct db_stmt *s = catalog_stmt(c, r->sealed ? ST_INSERT_KEY : ST_DELETE_KEY);
    bind_text(s, 1, id);
    if (r->sealed) {
        bind_text(s, 2, r->key_id);
        db_bind_blob(s, 3, r->wrapped, ARCHIVE_WRAPPED_LEN);
    }
    return step_done(c, s, "store a data key");
}

static int insert_rec_row(struct catalog *c, const char *id, const struct archive_recording *r)
{
    struct db_stmt *s = catalog_stmt(c, ST_INSERT_REC);
    bind_text(s, 1, id);
    bind_text(s, 2, r->path);
    bind_text(s, 3, r->sha256);
    db_bind_int64(s, 4, r->bytes);
    db_bind_int(s, 5, r->channels);
    db_bind_int(s, 6, r->sample_rate);
    db_bind_int(s, 7, r->source_rate);
    db_bind_int(s, 8, r->bitrate);
    db_bind_int64(s, 9, r->duration_ms);
    int rc = step_done(c, s, "insert recording");
    return rc ? rc : put_key(c, id, r);
}

static int silences_json(const struct archive_analysis *a, struct es_buf *b)
{
    int rc = es_buf_append(b, "[", 1);
    for (int ch = 0; ch < a->channels && !rc; ch++) {
        rc = es_buf_appendf(b, "%s[", ch ? "," : "");
        for (int i = 0; i < a->ch[ch].nsilences && !rc; i++)
            rc = es_buf_appendf(b, "%s[%lld,%lld]", i ? "," : "",
                                (long long)a->ch[ch].silences[i][0],
                                (long long)a->ch[ch].silences[i][1]);
        if (!rc)
            rc = es_buf_append(b, "]", 1);
    }
    return rc ? rc : es_buf_append(b, "]", 1);
}

static int insert_analysis_row(struct catalog *c, const char *id, const struct archive_analysis *a)
{
    struct es_buf sil;
    es_buf_init(&sil, 1 << 20);
    int rc = silences_json(a, &sil);
    if (rc)
        goto out;
    struct db_stmt *s = catalog_stmt(c, ST_INSERT_ANALYSIS);
    bind_text(s, 1, id);
    db_bind_int(s, 2, a->bucket_ms);
    db_bind_blob(s, 3, a->peaks ? (const void *)a->peaks : "", a->nbuckets * a->channels * 2);
    db_bind_int64(s, 4, a->ch[0].talk_ms);
    db_bind_int64(s, 6, a->ch[0].longest_silence_ms);
    if (a->channels == 2) {
        db_bind_int64(s, 5, a->ch[1].talk_ms);
        db_bind_int64(s, 7, a->ch[1].longest_silence_ms);
        db_bind_int64(s, 8, a->overtalk_ms);
        if (a->talk_ratio >= 0)
            db_bind_double(s, 9, a->talk_ratio);
    }
    bind_text(s, 10, sil.data);
    rc = step_done(c, s, "insert analysis");
out:
    es_buf_free(&sil);
    return rc;
}

int catalog_insert_call(struct catalog *c, const struct archive_call *call,
                        const struct archive_recording *rec, const struct archive_analysis *an)
{
    bool outer; /* its own transaction, or a savepoint in the caller's */
    int rc = catalog_tx_begin(c->db, &outer);
    if (rc)
        return rc;
    rc = insert_call_row(c, call);
    if (!rc && rec)
        rc = insert_rec_row(c, call->id, rec);
    if (!rc && an && an->channels)
        rc = insert_analysis_row(c, call->id, an);
    if (!rc && rec)
        rc = catalog_pending_remove(c, rec->path);
    return catalog_tx_end(c->db, outer, rc);
}

int catalog_replace_audio(struct catalog *c, const char *id, const struct archive_recording *rec,
                          const struct archive_analysis *an, const char *redaction)
{
    bool outer;
    int rc = catalog_tx_begin(c->db, &outer);
    if (rc)
        return rc;
    struct db_stmt *s = catalog_stmt(c, ST_ADD_REDACTION);
    bind_text(s, 1, id);
    bind_text(s, 2, redaction);
    rc = step_done(c, s, "note a redaction");
    if (!rc && !db_changes(c->db))
        rc = ES_ESTATE; /* held, or its audio gone, since the caller looked */
    if (!rc) {
        s = catalog_stmt(c, ST_REPLACE_REC);
        bind_text(s, 1, id);
        bind_text(s, 2, rec->path);
        bind_text(s, 3, rec->sha256);
        db_bind_int64(s, 4, rec->bytes);
        db_bind_int64(s, 5, rec->duration_ms);
        rc = step_done(c, s, "replace a recording");
    }
    if (!rc) /* the old file's key is gone with it: crypto-shredding */
        rc = put_key(c, id, rec);
    if (!rc) {
        s = catalog_stmt(c, ST_DELETE_ANALYSIS);
        bind_text(s, 1, id);
        rc = step_done(c, s, "replace an analysis");
    }
    if (!rc && an->channels)
        rc = insert_analysis_row(c, id, an);
    if (!rc)
        rc = catalog_pending_remove(c, rec->path);
    return catalog_tx_end(c->db, outer, rc);
}

int catalog_add_source_counts(struct catalog *c, const struct catalog_source_count *v, size_t n)
{
    bool outer;
    int rc = catalog_tx_begin(c->db, &outer);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        struct es_tm tm;
        es_tm_from_ms(v[i].first_at, &tm);
        char day[16];
        snprintf(day, sizeof day, "%04d-%02d-%02d", tm.year % 10000, tm.mon, tm.day);
        struct db_stmt *s = catalog_stmt(c, ST_SOURCE_ADD);
        bind_text(s, 1, day);
        bind_text(s, 2, v[i].address);
        db_bind_int64(s, 3, (int64_t)v[i].attempts);
        db_bind_int64(s, 4, (int64_t)v[i].catalogued);
        db_bind_int64(s, 5, (int64_t)v[i].untracked);
        db_bind_int64(s, 6, v[i].first_at);
        db_bind_int64(s, 7, v[i].last_at);
        bind_text(s, 8, v[i].last_reason);
        rc = step_done(c, s, "count rejected attempts");
    }
    return catalog_tx_end(c->db, outer, rc);
}

/* The catalogued call a PBX call is: the same external id, else the same
 * caller within 5 s. */
static int pbx_find(struct catalog *c, const struct catalog_pbx_call *p, char *id, char *op,
                    char *queue, char *sources)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *key = pass ? p->caller : p->external_id;
        if (!key || !key[0])
            continue;
        struct db_stmt *s = catalog_stmt(c, pass ? ST_PBX_BY_CALLER : ST_PBX_BY_ID);
        bind_text(s, 1, key);
        if (pass)
            db_bind_int64(s, 2, p->started_at);
        int step = db_step(s);
        if (step == DB_ROW) {
            snprintf(id, ES_ID_LEN, "%s", (const char *)db_column_text(s, 0));
            snprintf(op, ARCHIVE_FIELD_LEN, "%s", (const char *)db_column_text(s, 1));
            snprintf(queue, ARCHIVE_FIELD_LEN, "%s", (const char *)db_column_text(s, 2));
            snprintf(sources, 1024, "%s", (const char *)db_column_text(s, 3));
            db_reset(s);
            return 1;
        }
        db_reset(s);
        if (step != DB_DONE)
            return catalog_db_error(c, "find a PBX call");
    }
    return 0;
}

/* Marks in meta_sources where the fields filled came from. */
static void note_sources(char *sources, size_t cap, const char *from, bool op, bool queue)
{
    json_error_t je;
    json_t *o = json_loads(sources, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    if (op)
        json_object_set_new(o, "operator", json_string(from));
    if (queue)
        json_object_set_new(o, "queue", json_string(from));
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (s && strlen(s) < cap)
        memcpy(sources, s, strlen(s) + 1);
    free(s);
    json_decref(o);
}

int catalog_join_pbx_call(struct catalog *c, const struct catalog_pbx_call *p, struct es_err *err)
{
    char id[ES_ID_LEN], op[ARCHIVE_FIELD_LEN], queue[ARCHIVE_FIELD_LEN], sources[1024];
    int found = pbx_find(c, p, id, op, queue, sources);
    if (found < 0)
        return es_seterr(err, found, "catalog: %s", db_errmsg(c->db));
    if (found) { /* fill what the recording did not know */
        bool set_op = !op[0] && p->operator_ && p->operator_[0];
        bool set_q = !queue[0] && p->queue && p->queue[0];
        note_sources(sources, sizeof sources, p->source, set_op, set_q);
        struct db_stmt *s = catalog_stmt(c, ST_PBX_FILL);
        bind_text(s, 1, id);
        bind_text(s, 2, set_op ? p->operator_ : op);
        bind_text(s, 3, set_q ? p->queue : queue);
        if (p->wait_ms >= 0)
            db_bind_int64(s, 4, p->wait_ms);
        bind_text(s, 5, sources);
        int rc = step_done(c, s, "fill a call from the PBX");
        return rc ? es_seterr(err, rc, "catalog: %s", db_errmsg(c->db)) : 1;
    }
    if (!p->missed_reason)
        return 0; /* answered, and its recording not catalogued yet */
    /* missed, and nothing recorded it: a row of its own */
    struct archive_call *k = calloc(1, sizeof *k);
    if (!k)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    es_uuid7(p->started_at, k->id);
    k->started_at = p->started_at;
    k->ended_at = ES_MAX(p->ended_at, p->started_at);
    k->duration_ms = k->ended_at - k->started_at;
    snprintf(k->direction, sizeof k->direction, "inbound");
    snprintf(k->caller, sizeof k->caller, "%s", p->caller ? p->caller : "");
    snprintf(k->customer, sizeof k->customer, "%s", p->caller ? p->caller : "");
    snprintf(k->queue, sizeof k->queue, "%s", p->queue ? p->queue : "");
    snprintf(k->external_id, sizeof k->external_id, "%s", p->external_id);
    snprintf(k->source, sizeof k->source, "%s", p->source);
    snprintf(k->source_ref, sizeof k->source_ref, "%s", p->external_id);
    /* the same PBX call is the same row, however often it is joined */
    char key[600];
    uint8_t h[32];
    snprintf(key, sizeof key, "%s:%s", p->source, p->external_id);
    crypto_hash_sha256(h, (const unsigned char *)key, strlen(key));
    es_hex(h, 32, k->source_sha256);
    snprintf(k->meta_sources, sizeof k->meta_sources,
             "{\"caller\":\"%s\",\"queue\":\"%s\",\"started_at\":\"%s\"}", p->source, p->source,
             p->source);
    snprintf(k->disposition, sizeof k->disposition, "missed");
    snprintf(k->reason, sizeof k->reason, "%s", p->missed_reason);
    snprintf(k->tags, sizeof k->tags, "[]");
    snprintf(k->details, sizeof k->details, "{}");
    k->ring_ms = p->wait_ms;
    k->talk_ms = -1;
    int rc = catalog_insert_call(c, k, NULL, NULL);
    free(k);
    if (rc == ES_EEXIST)
        return 2;
    return rc ? es_seterr(err, rc, "a missed PBX call: %s", catalog_strerror(c, rc)) : 2;
}

int catalog_record_failure(struct catalog *c, const char *source_path, const char *sha256_hex,
                           const char *reason, const char *failed_path)
{
    struct db_stmt *s = catalog_stmt(c, ST_FAILURE);
    bind_text(s, 1, source_path);
    bind_text(s, 2, sha256_hex ? sha256_hex : "");
    bind_text(s, 3, reason);
    bind_text(s, 4, failed_path ? failed_path : "");
    db_bind_int64(s, 5, es_now_ms());
    return step_done(c, s, "record failure");
}

int catalog_tx_begin(struct db *db, bool *outer)
{
    return db_begin(db, outer) ? ES_EDB : 0;
}

int catalog_tx_end(struct db *db, bool outer, int rc)
{
    return db_end(db, outer, rc);
}

const char *catalog_data_dir(const struct catalog *c)
{
    return c->data_dir;
}

void catalog_set_cache_mb(struct catalog *c, int mb)
{
    if (db_engine(c->db) != DB_SQLITE)
        return;
    char sql_text[64];
    snprintf(sql_text, sizeof sql_text, "PRAGMA cache_size = -%d", mb * 1024);
    db_exec(c->db, sql_text);
}
