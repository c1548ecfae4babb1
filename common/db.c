/* The statement helper's front: each call goes to SQLite directly or to the
 * PostgreSQL side in db_pg.c. SQLite's own codes become ES_E* here, in one
 * place. */
#include "common/db_int.h"

#include <stdlib.h>
#include <string.h>

bool db_is_url(const char *target)
{
    return target && (!strncmp(target, "postgresql://", 13) || !strncmp(target, "postgres://", 11));
}

/* SQLite's result codes as ES_E* (primary code only: extended codes keep
 * their family in the low byte). */
static int lite_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
        return DB_DONE;
    case SQLITE_ROW:
        return DB_ROW;
    case SQLITE_CONSTRAINT:
        return ES_EEXIST;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ES_EBUSY;
    case SQLITE_NOMEM:
        return ES_ENOMEM;
    case SQLITE_TOOBIG:
        return ES_ETOOBIG;
    default:
        return ES_EDB;
    }
}

/* Keeps SQLite's message with the connection, so that a ROLLBACK after the
 * error does not replace it. */
static int lite_rc_db(struct db *db, int rc)
{
    int code = lite_code(rc);
    if (code < 0)
        snprintf(db->err, sizeof db->err, "%s", sqlite3_errmsg(db->lite));
    return code;
}

static int lite_open(struct db *db, const char *path, struct es_err *err)
{
    if (sqlite3_open_v2(path, &db->lite,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return es_seterr(err, ES_EDB, "%s: %s", path,
                         db->lite ? sqlite3_errmsg(db->lite) : "out of memory");
    sqlite3_busy_timeout(db->lite, 10000);
    char *msg = NULL;
    if (sqlite3_exec(db->lite,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                     " PRAGMA foreign_keys = ON;"
                     /* a deleted data key (a purge, an erasure) is overwritten in the file */
                     " PRAGMA secure_delete = ON;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        es_seterr(err, ES_EDB, "%s: %s", path, msg ? msg : sqlite3_errmsg(db->lite));
        sqlite3_free(msg);
        return ES_EDB;
    }
    return 0;
}

int db_open(const char *target, struct db **out, struct es_err *err)
{
    *out = NULL;
    struct db *db = calloc(1, sizeof *db);
    if (!db)
        return es_seterr(err, ES_ENOMEM, "catalog: out of memory");
    db->engine = db_is_url(target) ? DB_POSTGRES : DB_SQLITE;
    int rc = db->engine == DB_SQLITE ? lite_open(db, target, err) : pg_open(db, target, err);
    if (rc) {
        db_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    if (db->lite)
        sqlite3_close(db->lite);
    if (db->pg)
        pg_close(db);
    free(db);
}

enum db_engine db_engine(const struct db *db)
{
    return db->engine;
}

const char *db_engine_name(const struct db *db)
{
    return db->engine == DB_SQLITE ? "sqlite" : "postgresql";
}

const char *db_errmsg(const struct db *db)
{
    return db->err[0] ? db->err : "not an error";
}

int db_exec(struct db *db, const char *sql)
{
    if (db->engine == DB_POSTGRES)
        return pg_exec(db, sql);
    return lite_rc_db(db, sqlite3_exec(db->lite, sql, NULL, NULL, NULL));
}

static int prepare(struct db *db, const char *sql, bool stream, struct db_stmt **out)
{
    *out = NULL;
    struct db_stmt *st = calloc(1, sizeof *st);
    if (!st)
        return ES_ENOMEM;
    st->db = db;
    int rc = db->engine == DB_SQLITE
                 ? lite_rc_db(db, sqlite3_prepare_v3(db->lite, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                                     &st->lite, NULL))
             : stream ? pg_prepare_stream(db, sql, &st->pg)
                      : pg_prepare(db, sql, &st->pg);
    if (rc) {
        free(st);
        return rc < 0 ? rc : ES_EDB;
    }
    *out = st;
    return 0;
}

int db_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
    return prepare(db, sql, false, out);
}

int db_prepare_stream(struct db *db, const char *sql, struct db_stmt **out)
{
    return prepare(db, sql, true, out); /* SQLite steps through its rows as always */
}

void db_finalize(struct db_stmt *st)
{
    if (!st)
        return;
    if (st->lite)
        sqlite3_finalize(st->lite);
    if (st->pg)
        pg_finalize(st->pg);
    free(st);
}

void db_reset(struct db_stmt *st)
{
    if (st->lite)
        sqlite3_reset(st->lite);
    else
        pg_reset(st->pg);
}

void db_clear_bindings(struct db_stmt *st)
{
    if (st->lite)
        sqlite3_clear_bindings(st->lite);
    else
        pg_clear_bindings(st->pg);
}

struct db *db_stmt_db(const struct db_stmt *st)
{
    return st->db;
}

int db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
    if (st->lite)
        return lite_rc_db(st->db, sqlite3_bind_int64(st->lite, i, v));
    return pg_bind_int64(st->pg, i, v);
}

int db_bind_int(struct db_stmt *st, int i, int v)
{
    return db_bind_int64(st, i, v);
}

int db_bind_double(struct db_stmt *st, int i, double v)
{
    if (st->lite)
        return lite_rc_db(st->db, sqlite3_bind_double(st->lite, i, v));
    return pg_bind_double(st->pg, i, v);
}

int db_bind_null(struct db_stmt *st, int i)
{
    if (st->lite)
        return lite_rc_db(st->db, sqlite3_bind_null(st->lite, i));
    return pg_bind(st->pg, i, NULL, 0, false, PG_BORROW);
}

static int bind_bytes(struct db_stmt *st, int i, const void *p, int len, bool blob, bool copy)
{
    if (st->lite) {
        sqlite3_destructor_type d = copy ? SQLITE_TRANSIENT : SQLITE_STATIC;
        if (!p)
            return lite_rc_db(st->db, sqlite3_bind_null(st->lite, i));
        if (blob)
            return lite_rc_db(st->db, sqlite3_bind_blob(st->lite, i, p, len < 0 ? 0 : len, d));
        return lite_rc_db(st->db, sqlite3_bind_text(st->lite, i, p, len, d));
    }
    if (p && len < 0)
        len = blob ? 0 : (int)strlen(p);
    return pg_bind(st->pg, i, p, len, blob, copy ? PG_COPY : PG_BORROW);
}

int db_bind_text(struct db_stmt *st, int i, const char *p, int len)
{
    return bind_bytes(st, i, p, len, false, false);
}

int db_bind_text_copy(struct db_stmt *st, int i, const char *p, int len)
{
    return bind_bytes(st, i, p, len, false, true);
}

int db_bind_blob(struct db_stmt *st, int i, const void *p, int len)
{
    return bind_bytes(st, i, p, len, true, false);
}

int db_bind_blob_copy(struct db_stmt *st, int i, const void *p, int len)
{
    return bind_bytes(st, i, p, len, true, true);
}

int db_step(struct db_stmt *st)
{
    if (st->lite)
        return lite_rc_db(st->db, sqlite3_step(st->lite));
    return pg_step(st->db, st->pg);
}

int db_step_id(struct db_stmt *st, int64_t *id)
{
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *id = db_column_int64(st, 0);
        rc = db_step(st);
    } else if (rc == DB_DONE) {
        rc = ES_ENOTFOUND; /* no RETURNING, or nothing inserted */
    }
    db_reset(st);
    return rc;
}

int db_column_count(struct db_stmt *st)
{
    return st->lite ? sqlite3_column_count(st->lite) : pg_column_count(st->pg);
}

const char *db_column_name(struct db_stmt *st, int i)
{
    return st->lite ? sqlite3_column_name(st->lite, i) : pg_column_name(st->pg, i);
}

bool db_column_null(struct db_stmt *st, int i)
{
    if (st->lite)
        return sqlite3_column_type(st->lite, i) == SQLITE_NULL;
    return pg_column_null(st->pg, i);
}

int64_t db_column_int64(struct db_stmt *st, int i)
{
    if (st->lite)
        return sqlite3_column_int64(st->lite, i);
    const char *t = pg_column_text(st->pg, i);
    if (!t)
        return 0;
    if (t[0] == 't' && !t[1]) /* a boolean expression */
        return 1;
    return strtoll(t, NULL, 10);
}

int db_column_int(struct db_stmt *st, int i)
{
    return (int)db_column_int64(st, i);
}

double db_column_double(struct db_stmt *st, int i)
{
    if (st->lite)
        return sqlite3_column_double(st->lite, i);
    const char *t = pg_column_text(st->pg, i);
    if (!t)
        return 0;
    if (t[0] == 't' && !t[1])
        return 1;
    return strtod(t, NULL);
}

const char *db_column_text(struct db_stmt *st, int i)
{
    if (st->lite)
        return (const char *)sqlite3_column_text(st->lite, i);
    return pg_column_text(st->pg, i);
}

const void *db_column_blob(struct db_stmt *st, int i)
{
    if (st->lite)
        return sqlite3_column_blob(st->lite, i);
    int len;
    return pg_column_blob(st->pg, i, &len);
}

int db_column_bytes(struct db_stmt *st, int i)
{
    if (st->lite)
        return sqlite3_column_bytes(st->lite, i);
    return pg_column_bytes(st->pg, i);
}

int64_t db_changes(struct db *db)
{
    return db->engine == DB_SQLITE ? sqlite3_changes(db->lite) : pg_changes(db);
}

bool db_in_tx(struct db *db)
{
    return db->engine == DB_SQLITE ? !sqlite3_get_autocommit(db->lite) : pg_in_tx(db);
}

int db_begin(struct db *db, bool *outer)
{
    *outer = !db_in_tx(db);
    const char *sql = !*outer                   ? "SAVEPOINT es_tx"
                      : db->engine == DB_SQLITE ? "BEGIN IMMEDIATE"
                                                : "BEGIN";
    return db_exec(db, sql);
}

int db_end(struct db *db, bool outer, int rc)
{
    if (!rc) {
        rc = db_exec(db, outer ? "COMMIT" : "RELEASE es_tx");
        if (!rc)
            return 0;
        if (!db_in_tx(db)) /* the engine already rolled back */
            return rc;
    }
    /* keep the first error's message for the caller */
    char keep[sizeof db->err];
    snprintf(keep, sizeof keep, "%s", db->err);
    db_exec(db, outer ? "ROLLBACK" : "ROLLBACK TO es_tx; RELEASE es_tx");
    snprintf(db->err, sizeof db->err, "%s", keep);
    return rc;
}

int db_lock(struct db *db, int64_t key)
{
    if (db->engine == DB_SQLITE)
        return 0;
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%lld)", (long long)key);
    return db_exec(db, sql);
}

int db_copy_begin(struct db *db, const char *copy_sql)
{
    return db->engine == DB_POSTGRES ? pg_copy_begin(db, copy_sql) : ES_EUNSUPP;
}

int db_copy_send(struct db *db, const char *p, size_t n)
{
    return db->engine == DB_POSTGRES ? pg_copy_send(db, p, n) : ES_EUNSUPP;
}

int db_copy_end(struct db *db)
{
    return db->engine == DB_POSTGRES ? pg_copy_end(db) : ES_EUNSUPP;
}

int db_copy_text(struct es_buf *row, char type, int64_t i, double d, const void *p, size_t n,
                 bool last)
{
    int rc = 0;
    if (type == 'n') {
        rc = es_buf_append(row, "\\N", 2);
    } else if (type == 'i') {
        rc = es_buf_appendf(row, "%lld", (long long)i);
    } else if (type == 'r') {
        rc = es_buf_appendf(row, "%.17g", d);
    } else if (type == 'b') { /* bytea's hex form, its backslash escaped for COPY */
        static const char hex[] = "0123456789abcdef";
        rc = es_buf_append(row, "\\\\x", 3);
        const uint8_t *b = p;
        for (size_t k = 0; !rc && k < n; k++) {
            char two[2] = {hex[b[k] >> 4], hex[b[k] & 15]};
            rc = es_buf_append(row, two, 2);
        }
    } else {
        const char *s = p;
        size_t from = 0;
        for (size_t k = 0; !rc && k < n; k++) {
            const char *esc = s[k] == '\\'   ? "\\\\"
                              : s[k] == '\n' ? "\\n"
                              : s[k] == '\r' ? "\\r"
                              : s[k] == '\t' ? "\\t"
                                             : NULL;
            if (!esc)
                continue;
            rc = es_buf_append(row, s + from, k - from);
            if (!rc)
                rc = es_buf_append(row, esc, 2);
            from = k + 1;
        }
        if (!rc && n > from)
            rc = es_buf_append(row, s + from, n - from);
    }
    if (!rc)
        rc = es_buf_append(row, last ? "\n" : "\t", 1);
    return rc;
}

int db_seterr(struct db *db, struct es_err *err, int code, const char *what)
{
    return es_seterr(err, code, "%s: %s", what, db_errmsg(db));
}

struct sqlite3 *db_sqlite(struct db *db)
{
    return db->lite;
}

/* One rewrite of a word outside quotes: `from` (matched at word bounds,
 * case-sensitive, as the sources write SQL keywords) becomes `to`. */
struct pg_word {
    const char *from, *to;
};
static const struct pg_word pg_words[] = {
    /* an SQLite rowid alias: a generated key on PostgreSQL */
    {"INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
    {"INTEGER", "BIGINT"}, /* SQLite's integers are 64-bit */
    {"REAL", "DOUBLE PRECISION"},
    {"BLOB", "BYTEA"},
    {") STRICT, WITHOUT ROWID", ")"},
    {") STRICT", ")"},
    {") WITHOUT ROWID", ")"},
    {"LIKE", "ILIKE"},             /* SQLite's LIKE ignores ASCII case */
    {"substr(", "sqlite_substr("}, /* a negative start counts from the end */
    {"rowid", "ctid"},             /* a row's own address */
};

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int db_sql_pg(const char *sql, char *out, size_t outlen, int *nparams)
{
    size_t o = 0;
    int anon = 0, max = 0;
    char quote = 0;
    for (const char *p = sql; *p;) {
        char c = *p;
        if (o + 64 >= outlen)
            return ES_ETOOBIG;
        if (quote) {
            if (c == quote)
                quote = 0;
            out[o++] = *p++;
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            out[o++] = *p++;
            continue;
        }
        if (c == '-' && p[1] == '-') {
            while (*p && *p != '\n' && o + 2 < outlen)
                out[o++] = *p++;
            continue;
        }
        if (c == '?') {
            int n;
            p++;
            if (*p >= '0' && *p <= '9') {
                char *end;
                n = (int)strtol(p, &end, 10);
                p = end;
            } else {
                n = ++anon;
            }
            if (n < 1 || n > 999)
                return ES_EINVAL;
            if (n > max)
                max = n;
            /* SQLite reads a negative LIMIT as none; PostgreSQL wants NULL */
            bool limit = o >= 6 && !memcmp(out + o - 6, "LIMIT ", 6);
            o += (size_t)snprintf(out + o, outlen - o, limit ? "NULLIF($%d, -1)" : "$%d", n);
            continue;
        }
        bool left = p == sql || !word_char(p[-1]);
        if (left && !strncmp(p, "INDEXED BY ", 11)) { /* a planner hint SQLite alone reads */
            p += 11;
            while (word_char(*p))
                p++;
            continue;
        }
        const struct pg_word *w = NULL;
        for (size_t i = 0; i < sizeof pg_words / sizeof pg_words[0]; i++) {
            const char *f = pg_words[i].from;
            size_t n = strlen(f);
            if ((left || !word_char(f[0])) && !strncmp(p, f, n) &&
                (!word_char(f[n - 1]) || !word_char(p[n]))) {
                w = &pg_words[i];
                break;
            }
        }
        if (w) {
            size_t n = strlen(w->to);
            if (o + n + 1 >= outlen)
                return ES_ETOOBIG;
            memcpy(out + o, w->to, n);
            o += n;
            p += strlen(w->from);
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = 0;
    *nparams = max;
    return 0;
}

struct db_stmt *db_cache_get(struct db_cache *c, uint64_t key)
{
    for (size_t i = 0; i < DB_CACHE_SLOTS; i++)
        if (c->slot[i].st && c->slot[i].key == key) {
            db_reset(c->slot[i].st);
            db_clear_bindings(c->slot[i].st);
            return c->slot[i].st;
        }
    return NULL;
}

void db_cache_put(struct db_cache *c, uint64_t key, struct db_stmt *st)
{
    unsigned i = c->next++ % DB_CACHE_SLOTS;
    db_finalize(c->slot[i].st);
    c->slot[i].key = key;
    c->slot[i].st = st;
}

void db_cache_clear(struct db_cache *c)
{
    for (size_t i = 0; i < DB_CACHE_SLOTS; i++)
        db_finalize(c->slot[i].st);
    memset(c, 0, sizeof *c);
}
