/* Private to common/db*.c: the connection and statement as both engines see
 * them. */
#ifndef EARSHOT_DB_INT_H
#define EARSHOT_DB_INT_H

#include "common/db.h"

#include <sqlite3.h>

struct pg_conn;
struct pg_stmt;

struct db {
    enum db_engine engine;
    sqlite3 *lite;
    struct pg_conn *pg;
    char err[512]; /* the last PostgreSQL error (SQLite keeps its own) */
};

struct db_stmt {
    struct db *db;
    sqlite3_stmt *lite;
    struct pg_stmt *pg;
};

/* db_pg.c; without libpq these fail with ES_EUNSUPP. */
int pg_open(struct db *db, const char *url, struct es_err *err);
void pg_close(struct db *db);
int pg_exec(struct db *db, const char *sql);
int pg_prepare(struct db *db, const char *sql, struct pg_stmt **out);
int pg_prepare_stream(struct db *db, const char *sql, struct pg_stmt **out);
void pg_finalize(struct pg_stmt *st);
void pg_reset(struct pg_stmt *st);
void pg_clear_bindings(struct pg_stmt *st);
enum pg_bind { PG_BORROW, PG_COPY };
int pg_bind(struct pg_stmt *st, int i, const void *p, int len, bool blob, enum pg_bind how);
int pg_bind_int64(struct pg_stmt *st, int i, int64_t v);
int pg_bind_double(struct pg_stmt *st, int i, double v);
int pg_step(struct db *db, struct pg_stmt *st);
int pg_column_count(struct pg_stmt *st);
const char *pg_column_name(struct pg_stmt *st, int i);
bool pg_column_null(struct pg_stmt *st, int i);
const char *pg_column_text(struct pg_stmt *st, int i);
const void *pg_column_blob(struct pg_stmt *st, int i, int *len);
int pg_column_bytes(struct pg_stmt *st, int i);
int64_t pg_changes(struct db *db);
int pg_copy_begin(struct db *db, const char *sql);
int pg_copy_send(struct db *db, const char *p, size_t n);
int pg_copy_end(struct db *db);
bool pg_in_tx(struct db *db);

/* SQLite's dialect as PostgreSQL reads it, outside quotes and comments:
 * `?` and `?N` placeholders to `$N` (the highest number in *nparams), the
 * type names (64-bit INTEGER, BLOB, REAL, a rowid key), STRICT and WITHOUT
 * ROWID dropped, LIKE without case, substr counting from the end, a LIMIT
 * of -1 as none. out holds
 * strlen(sql) * 3 + 64. */
int db_sql_pg(const char *sql, char *out, size_t outlen, int *nparams);

#endif
