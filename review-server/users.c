/* Users, their roles and Argon2id password hashes, and the audit chain: the
 * review server's tables in the catalog database. */
#include "review-server/review_int.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Version 1's tables, the same on both engines. */
#define TABLES_1                                                                                   \
    "CREATE TABLE users ("                                                                         \
    "  id INTEGER PRIMARY KEY,"                                                                    \
    "  name TEXT NOT NULL UNIQUE,"                                                                 \
    "  role TEXT NOT NULL CHECK (role IN ('admin','supervisor','operator','compliance')),"         \
    "  operator TEXT NOT NULL DEFAULT '',"                                                         \
    "  pw_hash TEXT NOT NULL,"                                                                     \
    "  disabled INTEGER NOT NULL DEFAULT 0,"                                                       \
    "  created_at INTEGER NOT NULL,"                                                               \
    "  updated_at INTEGER NOT NULL"                                                                \
    ") STRICT;"                                                                                    \
    "CREATE TABLE sessions ("                                                                      \
    "  token_hash TEXT PRIMARY KEY," /* SHA-256 of the cookie value */                             \
    "  user_id INTEGER NOT NULL REFERENCES users(id),"                                             \
    "  csrf TEXT NOT NULL,"                                                                        \
    "  created_at INTEGER NOT NULL,"                                                               \
    "  seen_at INTEGER NOT NULL"                                                                   \
    ") STRICT;"                                                                                    \
    "CREATE INDEX sessions_user ON sessions(user_id);"                                             \
    "CREATE TABLE api_tokens ("                                                                    \
    "  id INTEGER PRIMARY KEY,"                                                                    \
    "  name TEXT NOT NULL UNIQUE,"                                                                 \
    "  token_hash TEXT NOT NULL UNIQUE,"                                                           \
    "  created_by TEXT NOT NULL,"                                                                  \
    "  created_at INTEGER NOT NULL,"                                                               \
    "  revoked_at INTEGER"                                                                         \
    ") STRICT;"                                                                                    \
    "CREATE TABLE audit ("                                                                         \
    "  id INTEGER PRIMARY KEY,"                                                                    \
    "  at INTEGER NOT NULL,"                                                                       \
    "  actor TEXT NOT NULL,"                                                                       \
    "  action TEXT NOT NULL,"                                                                      \
    "  target TEXT NOT NULL DEFAULT '',"                                                           \
    "  detail TEXT NOT NULL DEFAULT '{}',"                                                         \
    "  prev_hash TEXT NOT NULL,"                                                                   \
    "  hash TEXT NOT NULL"                                                                         \
    ") STRICT;"                                                                                    \
    "CREATE INDEX audit_at ON audit(at);"

/* migrations[i] takes the review-server tables from version i to i + 1.
 * Append only; never edit a released step. */
static const char *const migrations[] = {
    /* 1: users, sessions, API tokens, audit chain */
    TABLES_1
    /* append-only: rows cannot be changed or removed through SQL either */
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",

    /* 2: a keyed chain: HMAC-SHA-256 of each row and the MAC before it, with a
     * key kept outside the database (audit.c) */
    "ALTER TABLE audit ADD COLUMN mac TEXT;",

    /* 3: failed logins per user name, shared by every server on the catalog
     * (login_limit.c); the name is kept as its SHA-256 */
    "CREATE TABLE login_failures ("
    "  name_hash TEXT PRIMARY KEY,"
    "  failures INTEGER NOT NULL,"
    "  first_at INTEGER NOT NULL,"
    "  locked_until INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "CREATE INDEX login_failures_first ON login_failures(first_at);",
};

/* PostgreSQL's text for the steps above it cannot take as written. */
static const char *const migrations_pg[ES_ARRAY_LEN(migrations)] = {
    [0] = TABLES_1 "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
                   " $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;"
                   "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
                   "  FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
                   "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
                   "  FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
                   "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit"
                   "  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();",
};

static const char *const sql[RV_COUNT] = {
    /* a failure counted in advance, unless locked; the window starts again
     * once it is over */
    [RV_LOGIN_BUMP] =
        "INSERT INTO login_failures(name_hash, failures, first_at) VALUES (?1, 1, ?2)"
        " ON CONFLICT (name_hash) DO UPDATE SET"
        " failures = CASE WHEN login_failures.locked_until > ?2 THEN login_failures.failures"
        "  WHEN login_failures.first_at < ?2 - ?3 THEN 1 ELSE login_failures.failures + 1 END,"
        " first_at = CASE WHEN login_failures.locked_until <= ?2"
        "  AND login_failures.first_at < ?2 - ?3 THEN ?2 ELSE login_failures.first_at END"
        " RETURNING failures, locked_until",
    [RV_LOGIN_LOCK] = "UPDATE login_failures SET locked_until = ?2 WHERE name_hash = ?1",
    [RV_LOGIN_CLEAR] = "DELETE FROM login_failures WHERE name_hash = ?1",
    [RV_LOGIN_PRUNE] = "DELETE FROM login_failures WHERE first_at < ?1 AND locked_until < ?2",
    [RV_USER_ADD] = "INSERT INTO users(name, role, operator, pw_hash, created_at, updated_at)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    [RV_USER_PASSWD] = "UPDATE users SET pw_hash = ?2, updated_at = ?3 WHERE name = ?1",
    [RV_USER_DISABLE] = "UPDATE users SET disabled = ?2, updated_at = ?3 WHERE name = ?1",
    [RV_USER_GET] = "SELECT id, name, role, operator, disabled, created_at, pw_hash FROM users"
                    " WHERE name = ?1",
    [RV_USER_LIST] = "SELECT id, name, role, operator, disabled, created_at, pw_hash FROM users"
                     " ORDER BY name",
    [RV_SESSIONS_DROP] = "DELETE FROM sessions WHERE user_id = ?1",
    [RV_SESSIONS_DROP_OTHERS] = "DELETE FROM sessions WHERE user_id = ?1 AND token_hash != ?2",
    [RV_AUDIT_LAST] = "SELECT hash, mac FROM audit ORDER BY id DESC LIMIT 1",
    [RV_AUDIT_ADD] = "INSERT INTO audit(at, actor, action, target, detail, prev_hash, hash, mac)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
    [RV_AUDIT_MAC_OF] = "SELECT mac FROM audit WHERE id = ?1",
    [RV_AUDIT_KEYED] = "SELECT count(*) FROM audit WHERE mac IS NOT NULL",
    [RV_SESSION_ADD] = "INSERT INTO sessions(token_hash, user_id, csrf, created_at, seen_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?4)",
    [RV_SESSION_GET] = "SELECT u.id, u.name, u.role, u.operator, u.disabled, u.created_at,"
                       " s.csrf, s.created_at, s.seen_at FROM sessions s"
                       " JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
    [RV_SESSION_TOUCH] = "UPDATE sessions SET seen_at = ?2 WHERE token_hash = ?1",
    [RV_SESSION_DEL] = "DELETE FROM sessions WHERE token_hash = ?1",
    [RV_AUDIT_LIST] = "SELECT id, at, actor, action, target, detail FROM audit"
                      " WHERE (?1 = 0 OR at >= ?1) AND (?2 = 0 OR at < ?2)"
                      " AND (?3 IS NULL OR actor = ?3) AND (?4 IS NULL OR action = ?4)"
                      " AND (?5 = 0 OR id < ?5) ORDER BY id DESC LIMIT ?6",
    [RV_TOKEN_ADD] = "INSERT INTO api_tokens(name, token_hash, created_by, created_at)"
                     " VALUES (?1, ?2, ?3, ?4)",
    [RV_TOKEN_CHECK] = "SELECT name FROM api_tokens WHERE token_hash = ?1 AND revoked_at IS NULL",
    [RV_TOKEN_REVOKE] =
        "UPDATE api_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
    [RV_TOKEN_LIST] = "SELECT name, created_by, created_at, coalesce(revoked_at, 0) FROM api_tokens"
                      " ORDER BY name",
    [RV_AUDIT_ALL] = "SELECT id, at, actor, action, target, detail, prev_hash, hash, mac"
                     " FROM audit ORDER BY id",
};

static const char *const role_names[ROLE_NROLES] = {"admin", "supervisor", "operator",
                                                    "compliance"};

const char *review_role_name(enum review_role r)
{
    return (unsigned)r < ROLE_NROLES ? role_names[r] : "?";
}

int review_role_parse(const char *name, enum review_role *out)
{
    for (int i = 0; i < ROLE_NROLES; i++) {
        if (!strcmp(name, role_names[i])) {
            *out = (enum review_role)i;
            return 0;
        }
    }
    return ES_EINVAL;
}

struct db_stmt *rv_stmt(struct review_store *s, enum review_stmt which)
{
    struct db_stmt *st = s->st[which];
    db_reset(st);
    db_clear_bindings(st);
    return st;
}

int rv_step_done(struct review_store *s, struct db_stmt *st, const char *what, struct es_err *err)
{
    int rc = db_step(st);
    db_reset(st);
    if (rc == DB_DONE)
        return 0;
    if (rc == ES_EEXIST)
        return es_seterr(err, ES_EEXIST, "%s: %s", what, db_errmsg(s->db));
    return es_seterr(err, ES_EDB, "catalog: %s: %s", what, db_errmsg(s->db));
}

int review_store_open(struct catalog *c, struct review_store **out, struct es_err *err)
{
    *out = NULL;
    int rc = catalog_migrate_module(c, "review-server", migrations, migrations_pg,
                                    (int)ES_ARRAY_LEN(migrations), err);
    if (rc)
        return rc;
    struct review_store *s = calloc(1, sizeof *s);
    if (!s)
        return ES_ENOMEM;
    s->db = catalog_db(c);
    for (int i = 0; i < RV_COUNT; i++) {
        if (db_prepare(s->db, sql[i], &s->st[i]) != 0) {
            rc = es_seterr(err, ES_EDB, "catalog: preparing review statement %d: %s", i,
                           db_errmsg(s->db));
            review_store_close(s);
            return rc;
        }
    }
    rc = rv_audit_key_load(s, catalog_data_dir(c), err);
    if (rc) {
        review_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void review_store_close(struct review_store *s)
{
    if (!s)
        return;
    sodium_memzero(s->key, sizeof s->key);
    for (int i = 0; i < RV_COUNT; i++)
        db_finalize(s->st[i]);
    free(s);
}

/* ---- users ------------------------------------------------------------------ */

bool review_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= REVIEW_NAME_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == '-'))
            return false;
    }
    return true;
}

static int check_password(const char *pw, struct es_err *err)
{
    size_t n = strlen(pw);
    if (n < 10)
        return es_seterr(err, ES_EINVAL, "the password must be at least 10 characters");
    if (n > 1024)
        return es_seterr(err, ES_EINVAL, "the password is longer than 1024 characters");
    return 0;
}

static int hash_password(const char *pw, char out[crypto_pwhash_STRBYTES], struct es_err *err)
{
    if (crypto_pwhash_str_alg(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13))
        return es_seterr(err, ES_ENOMEM, "hashing the password ran out of memory");
    return 0;
}

int review_user_add(struct review_store *s, const char *name, enum review_role role,
                    const char *operator_, const char *password, struct es_err *err)
{
    if (!review_name_valid(name))
        return es_seterr(
            err, ES_EINVAL,
            "user name must be 1-64 characters of letters, digits, '.', '_', '@', '-'");
    if (role == ROLE_OPERATOR && (!operator_ || !operator_[0]))
        return es_seterr(err, ES_EINVAL,
                         "an operator needs --operator EXT (the extension on"
                         " their calls)");
    if (operator_ && strlen(operator_) >= ARCHIVE_FIELD_LEN)
        return es_seterr(err, ES_EINVAL, "--operator is too long");
    int rc = check_password(password, err);
    char hash[crypto_pwhash_STRBYTES];
    if (!rc)
        rc = hash_password(password, hash, err);
    if (rc)
        return rc;
    struct db_stmt *st = rv_stmt(s, RV_USER_ADD);
    db_bind_text(st, 1, name, -1);
    db_bind_text(st, 2, review_role_name(role), -1);
    db_bind_text(st, 3, operator_ ? operator_ : "", -1);
    db_bind_text(st, 4, hash, -1);
    db_bind_int64(st, 5, es_now_ms());
    rc = rv_step_done(s, st, "add user", err);
    sodium_memzero(hash, sizeof hash);
    if (rc == ES_EEXIST)
        es_seterr(err, rc, "user '%s' already exists", name);
    return rc;
}

static int changed_one(struct review_store *s, const char *name, struct es_err *err)
{
    return db_changes(s->db) == 1 ? 0 : es_seterr(err, ES_ENOTFOUND, "no user '%.64s'", name);
}

int review_user_passwd(struct review_store *s, const char *name, const char *password,
                       const char *keep_session, struct es_err *err)
{
    char hash[crypto_pwhash_STRBYTES];
    int rc = check_password(password, err);
    if (!rc)
        rc = hash_password(password, hash, err);
    if (rc)
        return rc;
    struct db_stmt *st = rv_stmt(s, RV_USER_PASSWD);
    db_bind_text(st, 1, name, -1);
    db_bind_text(st, 2, hash, -1);
    db_bind_int64(st, 3, es_now_ms());
    rc = rv_step_done(s, st, "change password", err);
    sodium_memzero(hash, sizeof hash);
    if (!rc)
        rc = changed_one(s, name, err);
    /* whoever knew the old password is logged out: every session of the
     * user ends but the one that made the change */
    struct review_user u;
    if (!rc)
        rc = review_user_get(s, name, &u, err);
    if (!rc) {
        char h[65] = "";
        if (keep_session)
            rv_token_hash(keep_session, h);
        st = rv_stmt(s, keep_session ? RV_SESSIONS_DROP_OTHERS : RV_SESSIONS_DROP);
        db_bind_int64(st, 1, u.id);
        if (keep_session)
            db_bind_text_copy(st, 2, h, -1);
        rc = rv_step_done(s, st, "end sessions", err);
    }
    return rc;
}

int review_user_disable(struct review_store *s, const char *name, bool disabled, struct es_err *err)
{
    struct db_stmt *st = rv_stmt(s, RV_USER_DISABLE);
    db_bind_text(st, 1, name, -1);
    db_bind_int(st, 2, disabled);
    db_bind_int64(st, 3, es_now_ms());
    int rc = rv_step_done(s, st, "disable user", err);
    if (!rc)
        rc = changed_one(s, name, err);
    if (!rc && disabled) { /* a disabled user's sessions end now */
        struct review_user u;
        if (!review_user_get(s, name, &u, err)) {
            st = rv_stmt(s, RV_SESSIONS_DROP);
            db_bind_int64(st, 1, u.id);
            rc = rv_step_done(s, st, "end sessions", err);
        }
    }
    return rc;
}

void rv_read_user(struct db_stmt *st, struct review_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = db_column_int64(st, 0);
    snprintf(u->name, sizeof u->name, "%s", (const char *)db_column_text(st, 1));
    review_role_parse((const char *)db_column_text(st, 2), &u->role);
    snprintf(u->operator_, sizeof u->operator_, "%s", (const char *)db_column_text(st, 3));
    u->disabled = db_column_int(st, 4) != 0;
    u->created_at = db_column_int64(st, 5);
}

int review_user_get(struct review_store *s, const char *name, struct review_user *u,
                    struct es_err *err)
{
    struct db_stmt *st = rv_stmt(s, RV_USER_GET);
    db_bind_text(st, 1, name, -1);
    int step = db_step(st);
    if (step == DB_ROW)
        rv_read_user(st, u);
    db_reset(st);
    if (step == DB_ROW)
        return 0;
    return step == DB_DONE ? es_seterr(err, ES_ENOTFOUND, "no user '%.64s'", name)
                           : es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(s->db));
}

int review_user_list(struct review_store *s, int (*cb)(void *ud, const struct review_user *),
                     void *ud)
{
    struct db_stmt *st = rv_stmt(s, RV_USER_LIST);
    int step;
    while ((step = db_step(st)) == DB_ROW) {
        struct review_user u;
        rv_read_user(st, &u);
        if (cb(ud, &u))
            break;
    }
    db_reset(st);
    return step == DB_ROW || step == DB_DONE ? 0 : ES_EDB;
}

/* An Argon2id hash of a throw-away password, so that an unknown user costs the
 * same verification work as a known one. Made once, on the first login check. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
    struct es_err err;
    if (hash_password("not a password of anyone", dummy_hash, &err))
        dummy_hash[0] = 0;
}

int review_user_check(struct review_store *s, const char *name, const char *password,
                      struct review_user *u, struct es_err *err)
{
    pthread_once(&dummy_once, make_dummy); /* the server checks logins on several threads */
    if (!dummy_hash[0])
        return es_seterr(err, ES_ENOMEM, "hashing a password ran out of memory");
    char hash[crypto_pwhash_STRBYTES] = "";
    bool found = false;
    if (review_name_valid(name)) {
        struct db_stmt *st = rv_stmt(s, RV_USER_GET);
        db_bind_text(st, 1, name, -1);
        if (db_step(st) == DB_ROW) {
            rv_read_user(st, u);
            snprintf(hash, sizeof hash, "%s", (const char *)db_column_text(st, 6));
            found = true;
        }
        db_reset(st);
    }
    size_t n = strlen(password);
    int bad = crypto_pwhash_str_verify(found ? hash : dummy_hash, password, n) != 0;
    if (!found || bad || u->disabled)
        return es_seterr(err, ES_EINVAL, "wrong user name or password");
    return 0;
}

void review_password_generate(char out[21])
{
    /* no 0/O, 1/l/I: read aloud or copied by hand without mistakes */
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (int i = 0; i < 20; i++)
        out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    out[20] = 0;
}

int review_audit_list(struct review_store *s, const struct review_audit_filter *f,
                      int (*cb)(void *ud, const struct review_audit_row *), void *ud)
{
    struct db_stmt *st = rv_stmt(s, RV_AUDIT_LIST);
    db_bind_int64(st, 1, f->since);
    db_bind_int64(st, 2, f->until);
    if (f->actor)
        db_bind_text(st, 3, f->actor, -1);
    if (f->action)
        db_bind_text(st, 4, f->action, -1);
    db_bind_int64(st, 5, f->before_id);
    db_bind_int(st, 6, f->limit > 0 ? f->limit : 100);
    int step;
    while ((step = db_step(st)) == DB_ROW) {
        struct review_audit_row row = {
            .id = db_column_int64(st, 0),
            .at = db_column_int64(st, 1),
            .actor = (const char *)db_column_text(st, 2),
            .action = (const char *)db_column_text(st, 3),
            .target = (const char *)db_column_text(st, 4),
            .detail = (const char *)db_column_text(st, 5),
        };
        if (cb(ud, &row))
            break;
    }
    db_reset(st);
    return step == DB_ROW || step == DB_DONE ? 0 : ES_EDB;
}
