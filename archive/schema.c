/* Numbered catalog migrations: migrations[i] moves PRAGMA user_version from i
 * to i + 1. Append only; never edit a released step. */
#include "archive/catalog_int.h"

const char *const catalog_migrations[] = {
    /* 1: calls, recordings, analysis, failures, pending writes */
    "CREATE TABLE calls ("
    "  id TEXT PRIMARY KEY,"
    "  started_at INTEGER NOT NULL,"
    "  ended_at INTEGER NOT NULL,"
    "  duration_ms INTEGER NOT NULL,"
    "  direction TEXT NOT NULL DEFAULT 'unknown'"
    "    CHECK (direction IN ('inbound','outbound','internal','unknown')),"
    "  caller TEXT NOT NULL DEFAULT '', callee TEXT NOT NULL DEFAULT '',"
    "  operator TEXT NOT NULL DEFAULT '', customer TEXT NOT NULL DEFAULT '',"
    "  queue TEXT NOT NULL DEFAULT '', external_id TEXT NOT NULL DEFAULT '',"
    "  source TEXT NOT NULL, source_ref TEXT NOT NULL DEFAULT '',"
    "  source_sha256 TEXT UNIQUE,"
    "  meta_sources TEXT NOT NULL DEFAULT '{}',"
    "  disposition TEXT NOT NULL DEFAULT 'answered'"
    "    CHECK (disposition IN ('answered','missed')),"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  tags TEXT NOT NULL DEFAULT '[]',"
    "  legal_hold INTEGER NOT NULL DEFAULT 0,"
    "  purged_at INTEGER,"
    "  created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX calls_started ON calls(started_at);"
    "CREATE INDEX calls_operator ON calls(operator, started_at);"
    "CREATE TABLE recordings ("
    "  call_id TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,"
    "  path TEXT NOT NULL UNIQUE,"
    "  sha256 TEXT NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  channels INTEGER NOT NULL CHECK (channels IN (1,2)),"
    "  sample_rate INTEGER NOT NULL,"
    "  source_rate INTEGER NOT NULL,"
    "  bitrate INTEGER NOT NULL,"
    "  duration_ms INTEGER NOT NULL,"
    "  codec TEXT NOT NULL DEFAULT 'opus'"
    ") STRICT;"
    "CREATE TABLE analysis ("
    "  call_id TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,"
    "  bucket_ms INTEGER NOT NULL,"
    "  peaks BLOB NOT NULL,"
    "  ch0_talk_ms INTEGER NOT NULL,"
    "  ch1_talk_ms INTEGER,"
    "  ch0_longest_silence_ms INTEGER NOT NULL,"
    "  ch1_longest_silence_ms INTEGER,"
    "  overtalk_ms INTEGER,"
    "  talk_ratio REAL,"
    "  silences TEXT NOT NULL DEFAULT '[]'"
    ") STRICT;"
    "CREATE TABLE ingest_failures ("
    "  id INTEGER PRIMARY KEY,"
    "  source_path TEXT NOT NULL,"
    "  source_sha256 TEXT NOT NULL DEFAULT '',"
    "  reason TEXT NOT NULL,"
    "  failed_path TEXT NOT NULL DEFAULT '',"
    "  first_at INTEGER NOT NULL,"
    "  last_at INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 1,"
    "  UNIQUE (source_path, source_sha256)"
    ") STRICT;"
    "CREATE TABLE pending_files ("
    "  path TEXT PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ") STRICT;",

    /* 2: what the network recorder knows about a call */
    "ALTER TABLE calls ADD COLUMN sip_call_id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE calls ADD COLUMN ring_ms INTEGER;"
    "ALTER TABLE calls ADD COLUMN talk_ms INTEGER;"
    /* user_agents, codecs, rtp streams with statistics, dtmf markers */
    "ALTER TABLE calls ADD COLUMN details TEXT NOT NULL DEFAULT '{}';"
    "CREATE INDEX calls_sip ON calls(sip_call_id) WHERE sip_call_id != '';",

    /* 3: schema versions of the other modules' tables (catalog_migrate_module) */
    "CREATE TABLE module_versions ("
    "  module TEXT PRIMARY KEY,"
    "  version INTEGER NOT NULL"
    ") STRICT;",

    /* 4: attempts the PBX refused (scanners) are 'rejected', not missed; and
     * every source's refused or untracked INVITEs counted per day. The CHECK
     * only widens, so every row already satisfies it: SQLite's documented
     * way to change a constraint in place (sqlite_schema edited under
     * writable_schema, schema_version bumped by migrate()) is safe here and
     * spares rebuilding the calls table and everything that refers to it. */
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_schema SET sql = replace(sql,"
    "  'CHECK (disposition IN (''answered'',''missed''))',"
    "  'CHECK (disposition IN (''answered'',''missed'',''rejected''))')"
    " WHERE type = 'table' AND name = 'calls';"
    "PRAGMA writable_schema = OFF;"
    "CREATE INDEX calls_disposition ON calls(disposition, started_at)"
    " WHERE disposition != 'answered';"
    "CREATE TABLE rejected_sources ("
    "  day TEXT NOT NULL," /* UTC, YYYY-MM-DD */
    "  address TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL,"   /* rejected, or never tracked (a full table) */
    "  catalogued INTEGER NOT NULL," /* of them, rows in calls */
    "  untracked INTEGER NOT NULL,"  /* of them, never tracked */
    "  first_at INTEGER NOT NULL,"
    "  last_at INTEGER NOT NULL,"
    "  last_reason TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (day, address)"
    ") STRICT, WITHOUT ROWID;",

    /* 5: calls found by the PBX's uniqueid (the queue_log join) */
    "CREATE INDEX calls_external ON calls(external_id) WHERE external_id != '';",

    /* 6: calls in the order they were catalogued (the follow-up reads the new ones) */
    "CREATE INDEX calls_created ON calls(created_at, id);",

    /* 7: each live recorder's counters, a minute apart (its health); failures in
     * the order they happened (the notifications follow them) */
    "CREATE TABLE recorder_status ("
    "  source TEXT PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  counters TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX ingest_failures_last ON ingest_failures(last_at, id);",

    /* 8: calls found by a phone number (a data subject's, GDPR): the last nine
     * digits of caller and callee, written the way catalog_calls_by_number asks */
    "CREATE INDEX calls_caller_key ON calls(" CATALOG_NUMBER_KEY(
        "caller") ");"
                  "CREATE INDEX calls_callee_key ON calls(" CATALOG_NUMBER_KEY(
                      "callee") ");"
                                /* when a data subject's erasure blanked the call */
                                "ALTER TABLE calls ADD COLUMN erased_at INTEGER;",

    /* 9: encryption at rest: each sealed recording's data key, wrapped by a
     * master key (named by its id); the key goes when the audio is purged or
     * erased, which leaves the file undecipherable (crypto-shredding) */
    "CREATE TABLE audio_keys ("
    "  call_id TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,"
    "  key_id TEXT NOT NULL,"
    "  wrapped BLOB NOT NULL"
    ") STRICT;"
    "CREATE INDEX audio_keys_key ON audio_keys(key_id);"
    "CREATE TRIGGER audio_keys_shred AFTER UPDATE OF purged_at ON calls"
    " WHEN NEW.purged_at IS NOT NULL BEGIN"
    " DELETE FROM audio_keys WHERE call_id = NEW.id; END;",
};

const int catalog_nmigrations = (int)(sizeof catalog_migrations / sizeof catalog_migrations[0]);

/* PostgreSQL's text for the steps above it cannot take as written. */
const char *const catalog_migrations_pg[sizeof catalog_migrations / sizeof catalog_migrations[0]] =
    {
        /* module_versions exists before the first step */
        [2] = "SELECT 1",
        /* a CHECK is replaced in place */
        [3] = "ALTER TABLE calls DROP CONSTRAINT calls_disposition_check;"
              "ALTER TABLE calls ADD CONSTRAINT calls_disposition_check"
              "  CHECK (disposition IN ('answered','missed','rejected'));"
              "CREATE INDEX calls_disposition ON calls(disposition, started_at)"
              " WHERE disposition != 'answered';"
              "CREATE TABLE rejected_sources ("
              "  day TEXT NOT NULL,"
              "  address TEXT NOT NULL,"
              "  attempts INTEGER NOT NULL,"
              "  catalogued INTEGER NOT NULL,"
              "  untracked INTEGER NOT NULL,"
              "  first_at INTEGER NOT NULL,"
              "  last_at INTEGER NOT NULL,"
              "  last_reason TEXT NOT NULL DEFAULT '',"
              "  PRIMARY KEY (day, address)"
              ");",
        [8] = "CREATE TABLE audio_keys ("
              "  call_id TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,"
              "  key_id TEXT NOT NULL,"
              "  wrapped BLOB NOT NULL"
              ");"
              "CREATE INDEX audio_keys_key ON audio_keys(key_id);"
              "CREATE FUNCTION audio_keys_shred() RETURNS trigger LANGUAGE plpgsql AS $$"
              " BEGIN DELETE FROM audio_keys WHERE call_id = NEW.id; RETURN NULL; END $$;"
              "CREATE TRIGGER audio_keys_shred AFTER UPDATE OF purged_at ON calls FOR EACH ROW"
              " WHEN (NEW.purged_at IS NOT NULL) EXECUTE FUNCTION audio_keys_shred();",
};
