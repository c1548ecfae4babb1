/* The statement helper on PostgreSQL (libpq). A statement is prepared on the
 * server at its first execution, with the parameter types its bindings give
 * (text and numbers left for the server to infer from the SQL, blobs sent as
 * bytea in binary); each execution fetches its whole result, so statements
 * interleave on one connection as they do on SQLite. Values come back as
 * text and are converted on read. */
#include "common/db_int.h"

#include <stdlib.h>
#include <string.h>

#ifndef EARSHOT_HAVE_PG

int db_install_functions(struct db *db)
{
    (void)db;
    return 0;
}

int pg_open(struct db *db, const char *url, struct es_err *err)
{
    (void)db, (void)url;
    return es_seterr(err, ES_EUNSUPP, "catalog: this earshot was built without PostgreSQL");
}
void pg_close(struct db *db)
{
    (void)db;
}
int pg_exec(struct db *db, const char *sql)
{
    (void)db, (void)sql;
    return ES_EUNSUPP;
}
int pg_prepare(struct db *db, const char *sql, struct pg_stmt **out)
{
    (void)db, (void)sql, (void)out;
    return ES_EUNSUPP;
}
void pg_finalize(struct pg_stmt *st)
{
    (void)st;
}
void pg_reset(struct pg_stmt *st)
{
    (void)st;
}
void pg_clear_bindings(struct pg_stmt *st)
{
    (void)st;
}
int pg_bind(struct pg_stmt *st, int i, const void *p, int len, bool blob, enum pg_bind how)
{
    (void)st, (void)i, (void)p, (void)len, (void)blob, (void)how;
    return ES_EUNSUPP;
}
int pg_bind_int64(struct pg_stmt *st, int i, int64_t v)
{
    (void)st, (void)i, (void)v;
    return ES_EUNSUPP;
}
int pg_bind_double(struct pg_stmt *st, int i, double v)
{
    (void)st, (void)i, (void)v;
    return ES_EUNSUPP;
}
int pg_step(struct db *db, struct pg_stmt *st)
{
    (void)db, (void)st;
    return ES_EUNSUPP;
}
int pg_prepare_stream(struct db *db, const char *sql, struct pg_stmt **out)
{
    (void)db, (void)sql, (void)out;
    return ES_EUNSUPP;
}
int pg_column_count(struct pg_stmt *st)
{
    (void)st;
    return 0;
}
const char *pg_column_name(struct pg_stmt *st, int i)
{
    (void)st, (void)i;
    return NULL;
}
bool pg_column_null(struct pg_stmt *st, int i)
{
    (void)st, (void)i;
    return true;
}
const char *pg_column_text(struct pg_stmt *st, int i)
{
    (void)st, (void)i;
    return NULL;
}
const void *pg_column_blob(struct pg_stmt *st, int i, int *len)
{
    (void)st, (void)i;
    *len = 0;
    return NULL;
}
int pg_column_bytes(struct pg_stmt *st, int i)
{
    (void)st, (void)i;
    return 0;
}
int64_t pg_changes(struct db *db)
{
    (void)db;
    return 0;
}
bool pg_in_tx(struct db *db)
{
    (void)db;
    return false;
}
int pg_copy_begin(struct db *db, const char *sql)
{
    (void)db, (void)sql;
    return ES_EUNSUPP;
}
int pg_copy_send(struct db *db, const char *p, size_t n)
{
    (void)db, (void)p, (void)n;
    return ES_EUNSUPP;
}
int pg_copy_end(struct db *db)
{
    (void)db;
    return ES_EUNSUPP;
}

#else

#include <libpq-fe.h>

#define BYTEA_OID  17
#define INT8_OID   20
#define TEXT_OID   25
#define FLOAT8_OID 701

struct pg_conn {
    PGconn *conn;
    unsigned seq;    /* names the server-side prepared statements */
    int64_t changes; /* rows changed by the last command */
};

struct pg_param {
    const char *val; /* NULL: SQL NULL */
    int len;
    bool blob;
    Oid kind;     /* what was bound: INT8_OID, FLOAT8_OID, TEXT_OID, BYTEA_OID; 0 NULL */
    char *own;    /* a copy this parameter owns */
    char num[32]; /* a number's text */
};

struct pg_stmt {
    struct db *db;
    char *sql; /* with $N placeholders */
    char name[24];
    int nparams;
    struct pg_param *params;
    bool prepared;
    PGresult *res;
    int row, nrows;
    unsigned char *blob; /* the last decoded bytea column */
    size_t blob_len;
    int blob_row, blob_col;
    /* libpq's parallel arrays, nparams long */
    const char **vals;
    int *lens, *fmts;
    Oid *types; /* as prepared: 0 lets the server infer the type */
    /* a streamed statement (db_prepare_stream): its rows through a cursor */
    bool stream, cursor_open, own_tx, more;
    bool *learned; /* types[i] came from the server's refusal (learn_type) */
};

static void keep_error(struct db *db, const char *msg)
{
    snprintf(db->err, sizeof db->err, "%s", msg && *msg ? msg : "unknown PostgreSQL error");
    size_t n = strlen(db->err);
    while (n && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
        db->err[--n] = 0;
}

/* A failed result as ES_E*: integrity violations (class 23) are conflicts,
 * serialization failures, deadlocks and lock timeouts are worth a retry. */
static int result_error(struct db *db, PGresult *res)
{
    keep_error(db, res ? PQresultErrorMessage(res) : PQerrorMessage(db->pg->conn));
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return ES_EDB;
    if (!strncmp(state, "23", 2))
        return ES_EEXIST;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
        return ES_EBUSY;
    return ES_EDB;
}

/* What SQLite has built in and the shared SQL uses: max() and min() of two
 * values (NULL if either is), sum() of a condition, group_concat(),
 * substr() counting from the end for a negative start (the phone-number key
 * index needs it immutable), the JSON functions on text, hex(). */
static const char functions[] =
    "CREATE OR REPLACE FUNCTION max(a BIGINT, b BIGINT) RETURNS BIGINT"
    " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT GREATEST(a, b)';"
    "CREATE OR REPLACE FUNCTION min(a BIGINT, b BIGINT) RETURNS BIGINT"
    " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT LEAST(a, b)';"
    "CREATE OR REPLACE FUNCTION es_count_true(n BIGINT, v BOOLEAN) RETURNS BIGINT"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT n + CASE WHEN v THEN 1 ELSE 0 END';"
    "CREATE OR REPLACE AGGREGATE sum(BOOLEAN)"
    " (SFUNC = es_count_true, STYPE = BIGINT, INITCOND = '0');"
    "CREATE OR REPLACE FUNCTION es_concat(acc TEXT, v TEXT, sep TEXT) RETURNS TEXT"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS"
    " 'SELECT CASE WHEN v IS NULL THEN acc WHEN acc IS NULL THEN v ELSE acc || sep || v END';"
    "CREATE OR REPLACE AGGREGATE group_concat(TEXT, TEXT) (SFUNC = es_concat, STYPE = TEXT);"
    "CREATE OR REPLACE FUNCTION es_concat1(acc TEXT, v TEXT) RETURNS TEXT"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT es_concat(acc, v, '','')';"
    "CREATE OR REPLACE AGGREGATE group_concat(TEXT) (SFUNC = es_concat1, STYPE = TEXT);"
    "CREATE OR REPLACE FUNCTION sqlite_substr(s TEXT, start BIGINT) RETURNS TEXT"
    " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS"
    " 'SELECT CASE WHEN start < 0 THEN right(s, (-start)::int) WHEN start = 0 THEN s"
    " ELSE substr(s, start::int) END';"
    "CREATE OR REPLACE FUNCTION sqlite_substr(s TEXT, start BIGINT, n BIGINT) RETURNS TEXT"
    " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS"
    " 'SELECT CASE WHEN start < 0 THEN substr(right(s, (-start)::int), 1, n::int)"
    " ELSE substr(s, start::int, n::int) END';"
    /* JSON kept as text, as SQLite keeps it: '$.a.b' paths, '$[#]' appends */
    "CREATE OR REPLACE FUNCTION json_extract(doc TEXT, path TEXT) RETURNS TEXT"
    " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS"
    " 'SELECT (doc::jsonb) #>> string_to_array(substr(path, 3), ''.'')';"
    "CREATE OR REPLACE FUNCTION json_remove(doc TEXT, path TEXT) RETURNS TEXT"
    " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS"
    " 'SELECT ((doc::jsonb) #- string_to_array(substr(path, 3), ''.''))::text';"
    "CREATE OR REPLACE FUNCTION json_insert(doc TEXT, path TEXT, v TEXT) RETURNS TEXT"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS"
    " 'SELECT CASE WHEN path = ''$[#]'' THEN ((doc::jsonb) || to_jsonb(v))::text"
    " ELSE doc END';"
    "CREATE OR REPLACE FUNCTION json_each(doc TEXT) RETURNS TABLE (value TEXT)"
    " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS"
    " 'SELECT json_array_elements_text(doc::json)';"
    "CREATE OR REPLACE FUNCTION hex(b BYTEA) RETURNS TEXT"
    " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT upper(encode(b, ''hex''))';";

int db_install_functions(struct db *db)
{
    return db->engine == DB_POSTGRES ? pg_exec(db, functions) : 0;
}

static void quiet_notices(void *arg, const char *msg)
{
    (void)arg, (void)msg;
}

int pg_open(struct db *db, const char *url, struct es_err *err)
{
    db->pg = calloc(1, sizeof *db->pg);
    if (!db->pg)
        return es_seterr(err, ES_ENOMEM, "catalog: out of memory");
    db->pg->conn = PQconnectdb(url);
    if (!db->pg->conn)
        return es_seterr(err, ES_ENOMEM, "catalog: out of memory");
    if (PQstatus(db->pg->conn) != CONNECTION_OK) {
        keep_error(db, PQerrorMessage(db->pg->conn));
        /* the message never carries the password: libpq names host and port */
        return es_seterr(err, ES_EDB, "catalog: cannot connect to PostgreSQL: %s", db->err);
    }
    PQsetNoticeProcessor(db->pg->conn, quiet_notices, NULL);
    int rc = pg_exec(db, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
    if (rc)
        return es_seterr(err, rc, "catalog: PostgreSQL session setup: %s", db->err);
    return 0;
}

void pg_close(struct db *db)
{
    if (db->pg->conn)
        PQfinish(db->pg->conn);
    free(db->pg);
    db->pg = NULL;
}

int pg_exec(struct db *db, const char *sql)
{
    size_t cap = strlen(sql) * 3 + 64;
    char *text = malloc(cap);
    int n;
    if (!text)
        return ES_ENOMEM;
    if (db_sql_pg(sql, text, cap, &n) || n) {
        free(text);
        keep_error(db, "statements with parameters need db_prepare");
        return ES_EINVAL;
    }
    PGresult *res = PQexec(db->pg->conn, text);
    free(text);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = 0;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY)
        db->pg->changes = strtoll(PQcmdTuples(res), NULL, 10);
    else
        rc = result_error(db, res);
    PQclear(res);
    return rc;
}

int pg_prepare(struct db *db, const char *sql, struct pg_stmt **out)
{
    *out = NULL;
    struct pg_stmt *st = calloc(1, sizeof *st);
    size_t cap = strlen(sql) * 3 + 64;
    if (!st || !(st->sql = malloc(cap))) {
        free(st);
        return ES_ENOMEM;
    }
    st->db = db;
    st->blob_row = -1;
    int rc = db_sql_pg(sql, st->sql, cap, &st->nparams);
    if (rc) {
        keep_error(db, "bad parameter placeholder");
        goto fail;
    }
    size_t n = (size_t)(st->nparams ? st->nparams : 1);
    st->params = calloc(n, sizeof *st->params);
    st->vals = calloc(n, sizeof *st->vals);
    st->lens = calloc(n, sizeof *st->lens);
    st->fmts = calloc(n, sizeof *st->fmts);
    st->types = calloc(n, sizeof *st->types);
    st->learned = calloc(n, sizeof *st->learned);
    if (!st->params || !st->vals || !st->lens || !st->fmts || !st->types || !st->learned) {
        rc = ES_ENOMEM;
        goto fail;
    }
    snprintf(st->name, sizeof st->name, "es%u", ++db->pg->seq);
    *out = st;
    return 0;
fail:
    free(st->params);
    free(st->vals);
    free(st->lens);
    free(st->fmts);
    free(st->types);
    free(st->learned);
    free(st->sql);
    free(st);
    return rc;
}

static void deallocate(struct pg_stmt *st)
{
    if (!st->prepared)
        return;
    char sql[48];
    snprintf(sql, sizeof sql, "DEALLOCATE %s", st->name);
    PQclear(PQexec(st->db->pg->conn, sql));
    st->prepared = false;
}

#define STREAM_BATCH 1000

/* Ends a streamed statement's cursor, and the transaction opened for it. */
static void close_cursor(struct pg_stmt *st)
{
    if (!st->cursor_open)
        return;
    char sql[64];
    snprintf(sql, sizeof sql, "CLOSE c%s", st->name);
    PQclear(PQexec(st->db->pg->conn, sql));
    if (st->own_tx)
        PQclear(PQexec(st->db->pg->conn, "COMMIT"));
    st->cursor_open = st->own_tx = st->more = false;
}

void pg_reset(struct pg_stmt *st)
{
    if (st->db->pg)
        close_cursor(st);
    PQclear(st->res);
    st->res = NULL;
    st->row = st->nrows = 0;
    st->blob_row = -1;
}

void pg_clear_bindings(struct pg_stmt *st)
{
    for (int i = 0; i < st->nparams; i++) {
        free(st->params[i].own);
        memset(&st->params[i], 0, sizeof st->params[i]);
    }
}

void pg_finalize(struct pg_stmt *st)
{
    pg_reset(st);
    pg_clear_bindings(st);
    if (st->db->pg) /* the connection may be closing */
        deallocate(st);
    free(st->params);
    free(st->vals);
    free(st->lens);
    free(st->fmts);
    free(st->types);
    free(st->learned);
    PQfreemem(st->blob);
    free(st->sql);
    free(st);
}

static struct pg_param *param(struct pg_stmt *st, int i)
{
    if (i < 1 || i > st->nparams)
        return NULL;
    struct pg_param *p = &st->params[i - 1];
    free(p->own);
    memset(p, 0, sizeof *p);
    return p;
}

int pg_bind(struct pg_stmt *st, int i, const void *v, int len, bool blob, enum pg_bind how)
{
    struct pg_param *p = param(st, i);
    if (!p)
        return ES_EINVAL;
    if (!v)
        return 0;
    p->blob = blob;
    p->kind = blob ? BYTEA_OID : TEXT_OID;
    p->len = len;
    if (how == PG_COPY) {
        if (!(p->own = malloc((size_t)len + 1)))
            return ES_ENOMEM;
        memcpy(p->own, v, (size_t)len);
        p->own[len] = 0;
        p->val = p->own;
    } else if (!blob && ((const char *)v)[len] != 0) {
        /* a text slice without its terminator: libpq reads text to the NUL */
        if (!(p->own = strndup(v, (size_t)len)))
            return ES_ENOMEM;
        p->val = p->own;
    } else {
        p->val = v;
    }
    return 0;
}

int pg_bind_int64(struct pg_stmt *st, int i, int64_t v)
{
    struct pg_param *p = param(st, i);
    if (!p)
        return ES_EINVAL;
    p->len = snprintf(p->num, sizeof p->num, "%lld", (long long)v);
    p->val = p->num;
    p->kind = INT8_OID;
    return 0;
}

int pg_bind_double(struct pg_stmt *st, int i, double v)
{
    struct pg_param *p = param(st, i);
    if (!p)
        return ES_EINVAL;
    p->len = snprintf(p->num, sizeof p->num, "%.17g", v);
    p->val = p->num;
    p->kind = FLOAT8_OID;
    return 0;
}

/* A parameter whose type the SQL does not decide (`?3 IS NULL`) takes the
 * type of what is bound to it, text for a NULL; a NULL that then meets a
 * number (`?3 IS NULL OR n > ?3`) is retried as a 64-bit integer. What is
 * learned stays with the statement. */
static bool learn_type(struct pg_stmt *st, PGresult *res, int *last)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return false;
    /* could not determine data type of parameter $N */
    if (!strcmp(state, "42P08") || !strcmp(state, "42P18")) {
        const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        const char *d = m ? strchr(m, '$') : NULL;
        int n = d ? atoi(d + 1) : 0;
        if (n < 1 || n > st->nparams || st->types[n - 1])
            return false;
        Oid k = st->params[n - 1].kind;
        st->types[n - 1] = k ? k : TEXT_OID;
        st->learned[n - 1] = true;
        *last = n - 1;
        return true;
    }
    /* undefined function or operator, or a type mismatch */
    if ((!strcmp(state, "42883") || !strcmp(state, "42804")) && *last >= 0 &&
        st->types[*last] == TEXT_OID && !st->params[*last].kind) {
        st->types[*last] = INT8_OID;
        return true;
    }
    return false;
}

/* A failed prepare inside a transaction would abort it: a savepoint keeps
 * the transaction when the server has to be asked again. */
static PGresult *prepare_once(struct db *db, struct pg_stmt *st, bool in_tx)
{
    if (in_tx)
        PQclear(PQexec(db->pg->conn, "SAVEPOINT es_prepare"));
    PGresult *res = PQprepare(db->pg->conn, st->name, st->sql, st->nparams, st->types);
    if (in_tx) {
        bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(PQexec(db->pg->conn,
                       ok ? "RELEASE es_prepare" : "ROLLBACK TO es_prepare; RELEASE es_prepare"));
    }
    return res;
}

/* The type a parameter is prepared with: a number's own (so that `?2 - 5000`
 * stays 64-bit), bytea for a blob (sent in binary), none for text (the server
 * infers it from the column) unless the server asked; a NULL fits whatever
 * the statement has. */
static Oid want(const struct pg_stmt *st, int i)
{
    const struct pg_param *p = &st->params[i];
    if (!p->val)
        return st->types[i];
    if (p->kind == TEXT_OID)
        return st->learned[i] ? TEXT_OID : 0;
    return p->kind;
}

/* Prepares on the server the first time, and again when a binding's type
 * no longer fits the prepared one. */
static int ensure_prepared(struct db *db, struct pg_stmt *st)
{
    bool same = st->prepared;
    for (int i = 0; i < st->nparams; i++) {
        Oid w = want(st, i);
        if (w != st->types[i]) {
            st->types[i] = w;
            same = false;
        }
    }
    if (same)
        return 0;
    deallocate(st);
    bool in_tx = pg_in_tx(db);
    int last = -1, rc = ES_EDB;
    for (int tries = 0; tries <= 2 * st->nparams + 1; tries++) {
        PGresult *res = prepare_once(db, st, in_tx);
        if (res && PQresultStatus(res) == PGRES_COMMAND_OK) {
            PQclear(res);
            st->prepared = true;
            return 0;
        }
        rc = result_error(db, res);
        bool again = learn_type(st, res, &last);
        PQclear(res);
        if (!again)
            break;
    }
    return rc;
}

/* The bindings as libpq's parallel arrays (blobs in binary). */
static void fill_params(struct pg_stmt *st)
{
    for (int i = 0; i < st->nparams; i++) {
        st->vals[i] = st->params[i].val;
        st->lens[i] = st->params[i].len;
        st->fmts[i] = st->params[i].blob ? 1 : 0;
    }
}

static int execute(struct db *db, struct pg_stmt *st)
{
    int rc = ensure_prepared(db, st);
    if (rc)
        return rc;
    fill_params(st);
    st->res = PQexecPrepared(db->pg->conn, st->name, st->nparams, st->vals, st->lens, st->fmts, 0);
    ExecStatusType s = st->res ? PQresultStatus(st->res) : PGRES_FATAL_ERROR;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        rc = result_error(db, st->res);
        PQclear(st->res);
        st->res = NULL;
        return rc;
    }
    const char *changed = PQcmdTuples(st->res);
    if (*changed)
        db->pg->changes = strtoll(changed, NULL, 10);
    st->nrows = s == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
    st->row = -1;
    st->blob_row = -1;
    return 0;
}

static int fetch(struct db *db, struct pg_stmt *st)
{
    char sql[64];
    snprintf(sql, sizeof sql, "FETCH %d FROM c%s", STREAM_BATCH, st->name);
    PQclear(st->res);
    st->res = PQexec(db->pg->conn, sql);
    if (!st->res || PQresultStatus(st->res) != PGRES_TUPLES_OK) {
        int rc = result_error(db, st->res);
        PQclear(st->res);
        st->res = NULL;
        return rc;
    }
    st->nrows = PQntuples(st->res);
    st->more = st->nrows == STREAM_BATCH;
    st->row = -1;
    st->blob_row = -1;
    return 0;
}

/* A cursor over the statement, in a transaction of its own when none is
 * open (a cursor lives in one); the parameters' types as ensure_prepared
 * learned them. */
static int open_cursor(struct db *db, struct pg_stmt *st)
{
    int rc = ensure_prepared(db, st);
    if (rc)
        return rc;
    size_t n = strlen(st->sql) + 64;
    char *sql = malloc(n);
    if (!sql)
        return ES_ENOMEM;
    snprintf(sql, n, "DECLARE c%s NO SCROLL CURSOR FOR %s", st->name, st->sql);
    st->own_tx = !pg_in_tx(db);
    if (st->own_tx)
        PQclear(PQexec(db->pg->conn, "BEGIN"));
    fill_params(st);
    PGresult *res =
        PQexecParams(db->pg->conn, sql, st->nparams, st->types, st->vals, st->lens, st->fmts, 0);
    free(sql);
    rc = res && PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : result_error(db, res);
    PQclear(res);
    if (rc) {
        if (st->own_tx)
            PQclear(PQexec(db->pg->conn, "ROLLBACK"));
        st->own_tx = false;
        return rc;
    }
    st->cursor_open = true;
    return fetch(db, st);
}

int pg_step(struct db *db, struct pg_stmt *st)
{
    if (!st->res) {
        int rc = st->stream ? open_cursor(db, st) : execute(db, st);
        if (rc)
            return rc;
    }
    if (st->row < st->nrows)
        st->row++;
    if (st->row < st->nrows)
        return DB_ROW;
    if (st->stream && st->more) {
        int rc = fetch(db, st);
        if (rc)
            return rc;
        st->row = 0;
        if (st->nrows)
            return DB_ROW;
    }
    if (st->stream)
        close_cursor(st); /* the rows stay readable until reset: none is current */
    return DB_DONE;
}

int pg_prepare_stream(struct db *db, const char *sql, struct pg_stmt **out)
{
    int rc = pg_prepare(db, sql, out);
    if (!rc)
        (*out)->stream = true;
    return rc;
}

int pg_column_count(struct pg_stmt *st)
{
    return st->res ? PQnfields(st->res) : 0;
}

const char *pg_column_name(struct pg_stmt *st, int i)
{
    return st->res ? PQfname(st->res, i) : NULL;
}

static bool have(struct pg_stmt *st, int i)
{
    return st->res && st->row >= 0 && st->row < st->nrows && i >= 0 && i < PQnfields(st->res);
}

bool pg_column_null(struct pg_stmt *st, int i)
{
    return !have(st, i) || PQgetisnull(st->res, st->row, i);
}

const char *pg_column_text(struct pg_stmt *st, int i)
{
    if (pg_column_null(st, i))
        return NULL;
    return PQgetvalue(st->res, st->row, i);
}

const void *pg_column_blob(struct pg_stmt *st, int i, int *len)
{
    *len = 0;
    if (pg_column_null(st, i))
        return NULL;
    const char *v = PQgetvalue(st->res, st->row, i);
    if (PQftype(st->res, i) != BYTEA_OID) {
        *len = PQgetlength(st->res, st->row, i);
        return v;
    }
    if (st->blob && st->blob_row == st->row && st->blob_col == i) {
        *len = (int)st->blob_len;
        return st->blob;
    }
    PQfreemem(st->blob);
    st->blob = PQunescapeBytea((const unsigned char *)v, &st->blob_len);
    st->blob_row = st->row;
    st->blob_col = i;
    *len = st->blob ? (int)st->blob_len : 0;
    return st->blob;
}

int pg_column_bytes(struct pg_stmt *st, int i)
{
    if (pg_column_null(st, i))
        return 0;
    if (PQftype(st->res, i) != BYTEA_OID)
        return PQgetlength(st->res, st->row, i);
    int len;
    pg_column_blob(st, i, &len);
    return len;
}

int64_t pg_changes(struct db *db)
{
    return db->pg->changes;
}

bool pg_in_tx(struct db *db)
{
    return PQtransactionStatus(db->pg->conn) != PQTRANS_IDLE;
}

int pg_copy_begin(struct db *db, const char *sql)
{
    PGresult *res = PQexec(db->pg->conn, sql);
    int rc = res && PQresultStatus(res) == PGRES_COPY_IN ? 0 : result_error(db, res);
    PQclear(res);
    return rc;
}

int pg_copy_send(struct db *db, const char *p, size_t n)
{
    if (PQputCopyData(db->pg->conn, p, (int)n) == 1)
        return 0;
    keep_error(db, PQerrorMessage(db->pg->conn));
    return ES_EDB;
}

int pg_copy_end(struct db *db)
{
    if (PQputCopyEnd(db->pg->conn, NULL) != 1) {
        keep_error(db, PQerrorMessage(db->pg->conn));
        return ES_EDB;
    }
    int rc = 0;
    PGresult *res;
    while ((res = PQgetResult(db->pg->conn))) {
        if (!rc && PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = result_error(db, res);
        else if (!rc)
            db->pg->changes = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
    return rc;
}

#endif
