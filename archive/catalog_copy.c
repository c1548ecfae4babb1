/* Copying a whole SQLite catalog into another catalog (a PostgreSQL one, as a
 * site moves up), every module's tables alike, and checking the copy.
 *
 * Tables go in foreign-key order, rows in batches of rowid order; each batch
 * commits with its place in catalog_copy_progress, so a copy stopped at any
 * moment goes on where it was. A table without rowid goes in one
 * transaction. Identity sequences are moved past the copied ids at the end.
 * The check compares, table by table, the row count and an order-free sum of
 * each row's SHA-256 (values read by their declared type), on both sides. */
#include "archive/catalog_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TABLES 96
#define MAX_COLS   64

struct table {
    char name[64];
    bool rowid; /* has a rowid (not WITHOUT ROWID) */
    int ncols;
    char col[MAX_COLS][64];
    char type[MAX_COLS]; /* i integer, r real, t text, b blob: the declared type */
    char deps[8][64];    /* tables its foreign keys point at */
    int ndeps;
    bool placed;
};

static char type_of(const char *decl)
{
    if (!decl)
        return 't';
    if (strcasestr(decl, "INT"))
        return 'i';
    if (strcasestr(decl, "REAL") || strcasestr(decl, "FLOA") || strcasestr(decl, "DOUB"))
        return 'r';
    if (strcasestr(decl, "BLOB"))
        return 'b';
    return 't';
}

static bool ident_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static int describe(struct db *src, struct table *t, struct es_err *err)
{
    char sql[256];
    struct db_stmt *st;
    snprintf(sql, sizeof sql, "SELECT name, type FROM pragma_table_info('%s') ORDER BY cid",
             t->name);
    if (db_prepare(src, sql, &st))
        return db_seterr(src, err, ES_EDB, t->name);
    while (db_step(st) == DB_ROW && t->ncols < MAX_COLS) {
        snprintf(t->col[t->ncols], sizeof t->col[0], "%s", db_column_text(st, 0));
        t->type[t->ncols] = type_of(db_column_text(st, 1));
        if (!ident_ok(t->col[t->ncols])) {
            db_finalize(st);
            return es_seterr(err, ES_EUNSUPP, "%s: column name %s", t->name, t->col[t->ncols]);
        }
        t->ncols++;
    }
    db_finalize(st);
    snprintf(sql, sizeof sql, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list('%s')",
             t->name);
    if (db_prepare(src, sql, &st))
        return db_seterr(src, err, ES_EDB, t->name);
    while (db_step(st) == DB_ROW && t->ndeps < 8)
        snprintf(t->deps[t->ndeps++], sizeof t->deps[0], "%s", db_column_text(st, 0));
    db_finalize(st);
    return 0;
}

/* The source's tables (module_versions aside: each side keeps its own) in an
 * order where every table comes after those its foreign keys point at. */
static int list_tables(struct db *src, struct table *out, int *n, struct es_err *err)
{
    struct table *all = calloc(MAX_TABLES, sizeof *all);
    if (!all)
        return ES_ENOMEM;
    struct db_stmt *st;
    int rc = 0, count = 0;
    if (db_prepare(src,
                   "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table'"
                   " AND name NOT LIKE 'sqlite_%' AND name != 'module_versions' ORDER BY name",
                   &st)) {
        free(all);
        return db_seterr(src, err, ES_EDB, "catalog tables");
    }
    while (!rc && db_step(st) == DB_ROW) {
        if (count == MAX_TABLES) {
            rc = es_seterr(err, ES_ETOOBIG, "more than %d tables", MAX_TABLES);
            break;
        }
        struct table *t = &all[count++];
        snprintf(t->name, sizeof t->name, "%s", db_column_text(st, 0));
        t->rowid = db_column_int(st, 1) == 0;
        if (!ident_ok(t->name))
            rc = es_seterr(err, ES_EUNSUPP, "table name %s", t->name);
    }
    db_finalize(st);
    for (int i = 0; !rc && i < count; i++)
        rc = describe(src, &all[i], err);
    *n = 0;
    while (!rc && *n < count) {
        bool progress = false;
        for (int i = 0; i < count; i++) {
            if (all[i].placed)
                continue;
            bool ready = true;
            for (int d = 0; d < all[i].ndeps && ready; d++)
                for (int j = 0; j < count; j++)
                    if (j != i && !all[j].placed && !strcmp(all[j].name, all[i].deps[d]))
                        ready = false;
            if (ready) {
                all[i].placed = true;
                out[(*n)++] = all[i];
                progress = true;
            }
        }
        if (!progress)
            rc = es_seterr(err, ES_EUNSUPP, "the tables' foreign keys form a cycle");
    }
    free(all);
    return rc;
}

/* The source's tables (an SQLite catalog's), in foreign-key order; *t is
 * the caller's to free. */
static int source_tables(struct catalog *src, struct table **t, int *n, struct es_err *err)
{
    *t = NULL;
    *n = 0;
    if (db_engine(src->db) != DB_SQLITE)
        return es_seterr(err, ES_EUNSUPP, "the catalog to copy or compare must be an SQLite file");
    if (!(*t = calloc(MAX_TABLES, sizeof **t)))
        return ES_ENOMEM;
    return list_tables(src->db, *t, n, err);
}

static int exec_or(struct db *db, const char *sql, struct es_err *err, const char *what)
{
    int rc = db_exec(db, sql);
    return rc ? db_seterr(db, err, rc, what) : 0;
}

static int64_t scalar(struct db *db, const char *sql, const char *arg, int *rc)
{
    struct db_stmt *st;
    *rc = db_prepare(db, sql, &st);
    if (*rc)
        return 0;
    if (arg)
        db_bind_text(st, 1, arg, -1);
    int s = db_step(st);
    int64_t v = s == DB_ROW ? db_column_int64(st, 0) : 0;
    if (s < 0)
        *rc = s;
    db_finalize(st);
    return v;
}

/* Binds column i of the source row by its declared type. */
static void bind_value(struct db_stmt *ins, int i, struct db_stmt *row, int col, char type)
{
    if (db_column_null(row, col)) {
        db_bind_null(ins, i);
        return;
    }
    switch (type) {
    case 'i':
        db_bind_int64(ins, i, db_column_int64(row, col));
        break;
    case 'r':
        db_bind_double(ins, i, db_column_double(row, col));
        break;
    case 'b':
        db_bind_blob_copy(ins, i, db_column_blob(row, col), db_column_bytes(row, col));
        break;
    default:
        db_bind_text_copy(ins, i, db_column_text(row, col), db_column_bytes(row, col));
    }
}

static int build_sql(const struct table *t, struct es_buf *sel, struct es_buf *ins)
{
    int rc = es_buf_appendf(sel, "SELECT %s", t->rowid ? "rowid" : "0");
    rc = rc ? rc : es_buf_appendf(ins, "INSERT INTO %s (", t->name);
    for (int i = 0; !rc && i < t->ncols; i++) {
        rc = es_buf_appendf(sel, ", \"%s\"", t->col[i]);
        rc = rc ? rc : es_buf_appendf(ins, "%s\"%s\"", i ? ", " : "", t->col[i]);
    }
    rc = rc ? rc : es_buf_appendf(sel, " FROM %s", t->name);
    if (!rc && t->rowid)
        rc = es_buf_appendf(sel, " WHERE rowid > ?1 ORDER BY rowid LIMIT ?2");
    rc = rc ? rc : es_buf_appendf(ins, ") VALUES (");
    for (int i = 0; !rc && i < t->ncols; i++)
        rc = es_buf_appendf(ins, "%s?%d", i ? ", " : "", i + 1);
    return rc ? rc : es_buf_appendf(ins, ") ON CONFLICT DO NOTHING");
}

/* The current source row as one line of COPY's text format. */
static int copy_row(struct db_stmt *row, const struct table *t, struct es_buf *out)
{
    int rc = 0;
    for (int i = 0; !rc && i < t->ncols; i++) {
        int col = i + 1;
        char type = db_column_null(row, col) ? 'n' : t->type[i];
        const void *p = NULL;
        size_t n = 0;
        if (type == 'b') {
            p = db_column_blob(row, col);
            n = (size_t)db_column_bytes(row, col);
        } else if (type == 't') {
            p = db_column_text(row, col);
            n = (size_t)db_column_bytes(row, col);
        }
        rc = db_copy_text(out, type, type == 'i' ? db_column_int64(row, col) : 0,
                          type == 'r' ? db_column_double(row, col) : 0, p, n, i == t->ncols - 1);
    }
    return rc;
}

/* PostgreSQL: the batch's rows through COPY, 256 KiB at a time. */
static int copy_rows_pg(struct db *dst, struct db_stmt *sel, const struct table *t, int64_t *last,
                        int64_t *copied, struct es_err *err)
{
    struct es_buf sql, buf;
    es_buf_init(&sql, 1 << 16);
    es_buf_init(&buf, 64u << 20);
    int rc = es_buf_appendf(&sql, "COPY %s (", t->name);
    for (int i = 0; !rc && i < t->ncols; i++)
        rc = es_buf_appendf(&sql, "%s\"%s\"", i ? ", " : "", t->col[i]);
    rc = rc ? rc : es_buf_appendf(&sql, ") FROM STDIN");
    if (!rc && (rc = db_copy_begin(dst, sql.data)))
        db_seterr(dst, err, rc, t->name);
    bool open = !rc;
    int step = DB_DONE;
    while (!rc && (step = db_step(sel)) == DB_ROW) {
        rc = copy_row(sel, t, &buf);
        if (!rc && buf.len >= 256 * 1024) {
            rc = db_copy_send(dst, buf.data, buf.len);
            es_buf_reset(&buf);
        }
        *last = db_column_int64(sel, 0);
        (*copied)++;
    }
    if (!rc && buf.len)
        rc = db_copy_send(dst, buf.data, buf.len);
    if (open) {
        int end = db_copy_end(dst); /* ends the COPY even after an error */
        rc = rc ? rc : end;
    }
    if (!rc && step < 0)
        rc = es_seterr(err, step, "%s: reading: %s", t->name, db_errmsg(db_stmt_db(sel)));
    else if (rc && !err->msg[0])
        db_seterr(dst, err, rc, t->name);
    es_buf_free(&sql);
    es_buf_free(&buf);
    return rc;
}

/* One batch: rows after *last into dst, and the place reached, in one
 * transaction. *copied: rows read (0 at the end). */
static int copy_batch(struct db *dst, struct db_stmt *sel, struct db_stmt *ins,
                      struct db_stmt *mark, const struct table *t, int64_t *last, int batch,
                      int64_t *copied, struct es_err *err)
{
    *copied = 0;
    db_reset(sel);
    if (t->rowid) {
        db_bind_int64(sel, 1, *last);
        db_bind_int(sel, 2, batch);
    }
    bool outer;
    int rc = db_begin(dst, &outer);
    int step = DB_DONE;
    if (!rc && db_engine(dst) == DB_POSTGRES) {
        rc = copy_rows_pg(dst, sel, t, last, copied, err);
        step = DB_DONE;
    }
    while (!rc && db_engine(dst) != DB_POSTGRES && (step = db_step(sel)) == DB_ROW) {
        db_reset(ins);
        db_clear_bindings(ins);
        for (int i = 0; i < t->ncols; i++)
            bind_value(ins, i + 1, sel, i + 1, t->type[i]);
        rc = db_step(ins);
        *last = db_column_int64(sel, 0);
        (*copied)++;
    }
    if (!rc && step < 0)
        rc = es_seterr(err, step, "%s: reading: %s", t->name, db_errmsg(db_stmt_db(sel)));
    else if (rc)
        db_seterr(dst, err, rc, t->name);
    if (!rc) {
        db_reset(mark);
        db_bind_text(mark, 1, t->name, -1);
        db_bind_int64(mark, 2, *last);
        db_bind_int64(mark, 3, *copied);
        db_bind_int(mark, 4, !t->rowid || *copied < batch);
        rc = db_step(mark);
        if (rc)
            db_seterr(dst, err, rc, "copy progress");
    }
    rc = db_end(dst, outer, rc);
    if (rc && !err->msg[0])
        db_seterr(dst, err, rc, t->name);
    return rc;
}

static int copy_table(struct db *src, struct db *dst, const struct table *t, int batch,
                      void (*progress)(void *, const char *, int64_t), void *ud, struct es_err *err)
{
    struct es_buf sel, ins;
    es_buf_init(&sel, 1 << 16);
    es_buf_init(&ins, 1 << 16);
    struct db_stmt *s = NULL, *i = NULL, *m = NULL, *q = NULL;
    int rc = build_sql(t, &sel, &ins);
    if (rc) {
        es_seterr(err, rc, "%s: statement too long", t->name);
        goto out;
    }
    if ((rc = db_prepare(src, sel.data, &s)) || (rc = db_prepare(dst, ins.data, &i)) ||
        (rc = db_prepare(dst,
                         "INSERT INTO catalog_copy_progress(tbl, last_rowid, copied, done)"
                         " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (tbl) DO UPDATE SET"
                         " last_rowid = excluded.last_rowid,"
                         " copied = catalog_copy_progress.copied + excluded.copied,"
                         " done = excluded.done",
                         &m)) ||
        (rc = db_prepare(dst, "SELECT last_rowid, done FROM catalog_copy_progress WHERE tbl = ?1",
                         &q))) {
        db_seterr(s ? dst : src, err, rc, t->name);
        goto out;
    }
    db_bind_text(q, 1, t->name, -1);
    int64_t last = 0;
    bool done = false;
    if (db_step(q) == DB_ROW) {
        last = db_column_int64(q, 0);
        done = db_column_int(q, 1) != 0;
    } else {
        /* a table with rows and no place recorded is not a copy of ours */
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1 FROM %s LIMIT 1) x", t->name);
        if (scalar(dst, sql, NULL, &rc) > 0 || rc) {
            rc = rc ? db_seterr(dst, err, rc, t->name)
                    : es_seterr(err, ES_EEXIST,
                                "%s: the destination already holds rows no copy put there;"
                                " migrate into an empty catalog",
                                t->name);
            goto out;
        }
    }
    while (!done) {
        int64_t n;
        rc = copy_batch(dst, s, i, m, t, &last, batch, &n, err);
        if (rc)
            goto out;
        if (progress && n)
            progress(ud, t->name, n);
        done = !t->rowid || n < batch;
    }
out:
    db_finalize(s);
    db_finalize(i);
    db_finalize(m);
    db_finalize(q);
    es_buf_free(&sel);
    es_buf_free(&ins);
    return rc;
}

/* Moves each identity column's sequence past the ids copied into it. */
static int advance_identities(struct db *dst, struct es_err *err)
{
    if (db_engine(dst) != DB_POSTGRES)
        return 0;
    return exec_or(dst,
                   "DO $$ DECLARE r record; BEGIN"
                   " FOR r IN SELECT table_name, column_name FROM information_schema.columns"
                   "  WHERE table_schema = current_schema() AND is_identity = 'YES' LOOP"
                   "  EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L),"
                   "   greatest(coalesce((SELECT max(%I) FROM %I), 0), 1))',"
                   "   r.table_name, r.column_name, r.column_name, r.table_name);"
                   " END LOOP; END $$",
                   err, "identity sequences");
}

int catalog_copy(struct catalog *src, struct catalog *dst, int batch,
                 void (*progress)(void *ud, const char *table, int64_t rows), void *ud,
                 struct es_err *err)
{
    struct table *t;
    int n;
    int rc = source_tables(src, &t, &n, err);
    if (!rc)
        rc = exec_or(dst->db,
                     "CREATE TABLE IF NOT EXISTS catalog_copy_progress ("
                     " tbl TEXT PRIMARY KEY, last_rowid INTEGER NOT NULL,"
                     " copied INTEGER NOT NULL, done INTEGER NOT NULL)",
                     err, "copy progress");
    for (int i = 0; !rc && i < n; i++)
        rc = copy_table(src->db, dst->db, &t[i], batch > 0 ? batch : 5000, progress, ud, err);
    if (!rc)
        rc = advance_identities(dst->db, err);
    free(t);
    return rc;
}

/* The order-free digest of a table: the sum of each row's SHA-256 (its
 * first 8 bytes), values by declared type, and the row count. */
static int digest(struct db *db, const struct table *t, int64_t *rows, uint64_t *sum,
                  struct es_err *err)
{
    struct es_buf sql;
    es_buf_init(&sql, 1 << 16);
    int rc = es_buf_appendf(&sql, "SELECT 0");
    for (int i = 0; !rc && i < t->ncols; i++)
        rc = es_buf_appendf(&sql, ", \"%s\"", t->col[i]);
    rc = rc ? rc : es_buf_appendf(&sql, " FROM %s", t->name);
    struct db_stmt *st = NULL;
    if (rc || (rc = db_prepare_stream(db, sql.data, &st))) {
        es_buf_free(&sql);
        return db_seterr(db, err, rc ? rc : ES_EDB, t->name);
    }
    es_buf_free(&sql);
    *rows = 0;
    *sum = 0;
    int step;
    while ((step = db_step(st)) == DB_ROW) {
        crypto_hash_sha256_state h;
        crypto_hash_sha256_init(&h);
        for (int i = 0; i < t->ncols; i++) {
            char num[40];
            const void *p = num;
            size_t len;
            char tag = db_column_null(st, i + 1) ? 'n' : t->type[i];
            if (tag == 'i') {
                len = (size_t)snprintf(num, sizeof num, "%lld",
                                       (long long)db_column_int64(st, i + 1));
            } else if (tag == 'r') {
                len = (size_t)snprintf(num, sizeof num, "%.17g", db_column_double(st, i + 1));
            } else if (tag == 'b') {
                p = db_column_blob(st, i + 1);
                len = (size_t)db_column_bytes(st, i + 1);
            } else if (tag == 't') {
                p = db_column_text(st, i + 1);
                len = (size_t)db_column_bytes(st, i + 1);
            } else {
                len = 0;
            }
            uint8_t head[9] = {(uint8_t)tag};
            for (int b = 0; b < 8; b++)
                head[1 + b] = (uint8_t)((uint64_t)len >> (8 * b));
            crypto_hash_sha256_update(&h, head, sizeof head);
            if (len)
                crypto_hash_sha256_update(&h, p, len);
        }
        uint8_t out[32];
        crypto_hash_sha256_final(&h, out);
        uint64_t v = 0;
        for (int b = 0; b < 8; b++)
            v = v << 8 | out[b];
        *sum += v;
        (*rows)++;
    }
    db_finalize(st);
    return step < 0 ? db_seterr(db, err, step, t->name) : 0;
}

int catalog_compare(struct catalog *src, struct catalog *dst,
                    void (*each)(void *ud, const char *table, int64_t src_rows, int64_t dst_rows,
                                 bool same),
                    void *ud, int *differing, struct es_err *err)
{
    *differing = 0;
    struct table *t;
    int n;
    int rc = source_tables(src, &t, &n, err);
    for (int i = 0; !rc && i < n; i++) {
        int64_t a, b;
        uint64_t ha, hb;
        rc = digest(src->db, &t[i], &a, &ha, err);
        if (!rc)
            rc = digest(dst->db, &t[i], &b, &hb, err);
        if (rc)
            break;
        bool same = a == b && ha == hb;
        if (!same)
            (*differing)++;
        if (each)
            each(ud, t[i].name, a, b, same);
    }
    free(t);
    return rc;
}
