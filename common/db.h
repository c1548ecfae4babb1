/*
 * db — the one statement helper every store uses, on either catalog engine:
 * SQLite (a file, the embedded default) or PostgreSQL (a server shared by many
 * recorders and review servers). It follows SQLite's shape — prepare once,
 * bind, step row by row, reset — so a store reads the same on both.
 *
 * SQL is written once, in the subset both engines accept: placeholders `?` or
 * `?N` (rewritten to `$N` for PostgreSQL), `CAST(? AS BIGINT)` where a
 * parameter's type cannot be inferred, `INSERT ... ON CONFLICT`, `RETURNING`.
 * Where the engines differ (schema, pragmas), the store asks db_engine().
 *
 * Errors: every function returns 0 (DB_DONE), DB_ROW, or a negative ES_E*
 * code — ES_EEXIST for a constraint violation, ES_EAGAIN for a lock or
 * serialization conflict worth retrying, ES_EDB otherwise — and keeps the
 * engine's message for db_errmsg(). Nothing here logs.
 *
 * A connection and its statements belong to one thread at a time.
 */
#ifndef EARSHOT_DB_H
#define EARSHOT_DB_H

#include "common/common.h"

#include <stdbool.h>
#include <stdint.h>

enum db_engine { DB_SQLITE, DB_POSTGRES };

enum { DB_DONE = 0, DB_ROW = 1 };

struct db;
struct db_stmt;

/* True when target names a PostgreSQL server ("postgresql://..." or
 * "postgres://..."); anything else is an SQLite file path. */
bool db_is_url(const char *target);

/* Opens target: an SQLite file (created if missing; WAL, foreign keys, a busy
 * timeout) or a PostgreSQL connection URL. */
int db_open(const char *target, struct db **out, struct es_err *err);
void db_close(struct db *db); /* finalizes nothing: close statements first */
enum db_engine db_engine(const struct db *db);
/* The engine's last error message (never NULL). */
const char *db_errmsg(const struct db *db);
/* "sqlite" or "postgresql", for messages. */
const char *db_engine_name(const struct db *db);

/* Runs one or more statements without parameters or rows. */
int db_exec(struct db *db, const char *sql);

int db_prepare(struct db *db, const char *sql, struct db_stmt **out);
/* For a statement whose rows may be too many to hold at once (an export of
 * every call): PostgreSQL reads them through a cursor, a thousand at a time,
 * in a transaction of its own when none is open, ended by the last row, a
 * reset or finalize. SQLite steps through its rows as always. */
int db_prepare_stream(struct db *db, const char *sql, struct db_stmt **out);
void db_finalize(struct db_stmt *st); /* NULL is a no-op */
/* Ends the current execution (a step after it runs the statement again);
 * bindings stay. */
void db_reset(struct db_stmt *st);
void db_clear_bindings(struct db_stmt *st);

/* Statements built at run time (one per combination of filters in use, say),
 * prepared once and kept under a key the caller makes of what shaped them. */
#define DB_CACHE_SLOTS 32
struct db_cache {
    struct {
        uint64_t key;
        struct db_stmt *st;
    } slot[DB_CACHE_SLOTS];
    unsigned next;
};
/* The statement kept under key, reset with its bindings cleared; NULL if none. */
struct db_stmt *db_cache_get(struct db_cache *c, uint64_t key);
/* Keeps st under key; when full, the oldest kept is finalized to make room. */
void db_cache_put(struct db_cache *c, uint64_t key, struct db_stmt *st);
void db_cache_clear(struct db_cache *c); /* finalizes every statement kept */
struct db *db_stmt_db(const struct db_stmt *st);

/* Parameters are numbered from 1. db_bind_text and db_bind_blob borrow p
 * until the next step or reset; the _copy forms copy it. len < 0 means
 * strlen(p). A NULL p binds NULL. */
int db_bind_int64(struct db_stmt *st, int i, int64_t v);
int db_bind_int(struct db_stmt *st, int i, int v);
int db_bind_double(struct db_stmt *st, int i, double v);
int db_bind_null(struct db_stmt *st, int i);
int db_bind_text(struct db_stmt *st, int i, const char *p, int len);
int db_bind_text_copy(struct db_stmt *st, int i, const char *p, int len);
int db_bind_blob(struct db_stmt *st, int i, const void *p, int len);
int db_bind_blob_copy(struct db_stmt *st, int i, const void *p, int len);

/* DB_ROW with a row to read, DB_DONE at the end, or a negative error. */
int db_step(struct db_stmt *st);

/* Columns of the current row, numbered from 0. Text and blobs are borrowed
 * until the next step, reset or finalize. A NULL reads as 0 or NULL. */
int db_column_count(struct db_stmt *st);
const char *db_column_name(struct db_stmt *st, int i);
bool db_column_null(struct db_stmt *st, int i);
int64_t db_column_int64(struct db_stmt *st, int i);
int db_column_int(struct db_stmt *st, int i);
double db_column_double(struct db_stmt *st, int i);
const char *db_column_text(struct db_stmt *st, int i);
const void *db_column_blob(struct db_stmt *st, int i);
int db_column_bytes(struct db_stmt *st, int i);

/* Runs an INSERT ... RETURNING that yields one integer (the new row's id)
 * into *id, then resets st. 0, or the step's error. */
int db_step_id(struct db_stmt *st, int64_t *id);

/* Bulk loading on PostgreSQL (COPY ... FROM STDIN, text format): begin with
 * the COPY statement, send rows as db_copy_text builds them, end. Inside a
 * transaction the rows commit with it. SQLite has no COPY: ES_EUNSUPP. */
int db_copy_begin(struct db *db, const char *copy_sql);
int db_copy_send(struct db *db, const char *p, size_t n);
int db_copy_end(struct db *db);
/* Appends one value to a COPY text row: 'n' NULL, 'i' i, 'r' d, 't' text or
 * 'b' bytes (p, n); last ends the row. */
int db_copy_text(struct es_buf *row, char type, int64_t i, double d, const void *p, size_t n,
                 bool last);

/* Rows changed by the last INSERT, UPDATE or DELETE on this connection. */
int64_t db_changes(struct db *db);
/* True while an explicit transaction is open. */
bool db_in_tx(struct db *db);

/* Transactions: db_begin takes the write lock at once (SQLite's BEGIN
 * IMMEDIATE); nested calls become savepoints. db_end commits (rc == 0) or
 * rolls back, and returns rc or the commit's error. */
int db_begin(struct db *db, bool *outer);
int db_end(struct db *db, bool outer, int rc);

/* PostgreSQL: creates, in the current schema, the SQLite functions the
 * shared SQL uses (two-argument max and min, sum of a condition,
 * group_concat, substr from the end). Run once, by the first migration.
 * SQLite: nothing to do. */
int db_install_functions(struct db *db);

/* Serialises a section among every process on the catalog until the
 * transaction ends: PostgreSQL takes an advisory lock named by key; SQLite's
 * db_begin already holds the only write lock. Call inside db_begin. */
int db_lock(struct db *db, int64_t key);

/* Fills err with "what: <engine message>" and returns code. */
int db_seterr(struct db *db, struct es_err *err, int code, const char *what);

/* For the few engine-specific spots (SQLite pragmas, backups): the raw
 * handle, or NULL on the other engine. */
struct sqlite3 *db_sqlite(struct db *db);

#endif
