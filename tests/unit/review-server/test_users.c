/* Users, Argon2id passwords and the audit hash chain. */
#include "review-server/review.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <sodium.h>
#include "common/db.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];
static struct catalog *cat;
static struct review_store *st;
static struct es_err err;

static void setup(void)
{
    cr_assert_geq(sodium_init(), 0);
    snprintf(dir, sizeof dir, "/tmp/earshot-users-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(catalog_open(dir, &cat, &err), 0, "%s", err.msg);
    cr_assert_eq(review_store_open(cat, &st, &err), 0, "%s", err.msg);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

static void teardown(void)
{
    review_store_close(st);
    catalog_close(cat);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(users, .init = setup, .fini = teardown);

Test(users, add_and_check_passwords)
{
    struct review_user u;
    cr_assert_eq(review_user_add(st, "anna", ROLE_SUPERVISOR, NULL, "correct horse battery", &err),
                 0, "%s", err.msg);
    cr_assert_eq(review_user_check(st, "anna", "correct horse battery", &u, &err), 0);
    cr_assert_str_eq(u.name, "anna");
    cr_assert_eq(u.role, ROLE_SUPERVISOR);
    char wrong[512], unknown[512];
    cr_assert_eq(review_user_check(st, "anna", "correct horse batterY", &u, &err), ES_EINVAL);
    snprintf(wrong, sizeof wrong, "%s", err.msg);
    cr_assert_eq(review_user_check(st, "nobody", "correct horse battery", &u, &err), ES_EINVAL);
    snprintf(unknown, sizeof unknown, "%s", err.msg);
    cr_assert_str_eq(wrong, unknown, "an unknown user and a wrong password look the same");
    cr_assert_eq(review_user_check(st, "bad name!", "x", &u, &err), ES_EINVAL);
    /* the stored hash is Argon2id, never the password */
    struct db_stmt *q;
    db_prepare(catalog_db(cat), "SELECT pw_hash FROM users", &q);
    cr_assert_eq(db_step(q), DB_ROW);
    const char *h = (const char *)db_column_text(q, 0);
    cr_assert(!strncmp(h, "$argon2id$", 10), "%s", h);
    cr_assert_null(strstr(h, "horse"));
    db_finalize(q);
}

Test(users, rules)
{
    cr_assert_eq(review_user_add(st, "op1", ROLE_OPERATOR, NULL, "long enough pw", &err),
                 ES_EINVAL);
    cr_assert(strstr(err.msg, "--operator"), "%s", err.msg);
    cr_assert_eq(review_user_add(st, "op1", ROLE_OPERATOR, "101", "short", &err), ES_EINVAL);
    cr_assert_eq(review_user_add(st, "a b", ROLE_ADMIN, NULL, "long enough pw", &err), ES_EINVAL);
    cr_assert_eq(review_user_add(st, "<script>", ROLE_ADMIN, NULL, "long enough pw", &err),
                 ES_EINVAL);
    cr_assert_eq(review_user_add(st, "op1", ROLE_OPERATOR, "101", "long enough pw", &err), 0);
    cr_assert_eq(review_user_add(st, "op1", ROLE_ADMIN, NULL, "long enough pw", &err), ES_EEXIST);
    struct review_user u;
    cr_assert_eq(review_user_get(st, "op1", &u, &err), 0);
    cr_assert_str_eq(u.operator_, "101");
    cr_assert_eq(review_user_get(st, "op2", &u, &err), ES_ENOTFOUND);
}

Test(users, disable_and_passwd)
{
    struct review_user u;
    cr_assert_eq(review_user_add(st, "c1", ROLE_COMPLIANCE, NULL, "first password", &err), 0);
    cr_assert_eq(review_user_disable(st, "c1", true, &err), 0);
    cr_assert_eq(review_user_check(st, "c1", "first password", &u, &err), ES_EINVAL);
    cr_assert_eq(review_user_disable(st, "c1", false, &err), 0);
    cr_assert_eq(review_user_check(st, "c1", "first password", &u, &err), 0);
    cr_assert_eq(review_user_passwd(st, "c1", "second password", NULL, &err), 0);
    cr_assert_eq(review_user_check(st, "c1", "first password", &u, &err), ES_EINVAL);
    cr_assert_eq(review_user_check(st, "c1", "second password", &u, &err), 0);
    cr_assert_eq(review_user_passwd(st, "zz", "second password", NULL, &err), ES_ENOTFOUND);
    cr_assert_eq(review_user_disable(st, "zz", true, &err), ES_ENOTFOUND);
}

Test(users, generated_passwords)
{
    char a[21], b[21];
    review_password_generate(a);
    review_password_generate(b);
    cr_assert_eq(strlen(a), 20);
    cr_assert_str_neq(a, b);
    cr_assert_eq(strspn(a, "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"), 20);
}

static int64_t verify(void)
{
    struct review_audit_check chk;
    memset(&err, 0, sizeof err);
    int rc = review_audit_verify(st, &chk, &err);
    return rc ? rc : chk.rows;
}

Test(users, audit_chain)
{
    for (int i = 0; i < 5; i++) {
        char target[16];
        snprintf(target, sizeof target, "call-%d", i);
        cr_assert_eq(review_audit(st, "anna", "playback", target, "{\"range\":\"0-\"}", &err), 0);
    }
    cr_assert_eq(verify(), 5);
    struct db *db = catalog_db(cat);
    /* the triggers refuse plain edits */
    cr_assert_neq(db_exec(db, "UPDATE audit SET actor = 'x' WHERE id = 3"), 0);
    cr_assert_neq(db_exec(db, "DELETE FROM audit WHERE id = 2"), 0);
    /* past the triggers, the chain still tells */
    db_exec(db, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete");
    cr_assert_eq(db_exec(db, "UPDATE audit SET target = 'call-9' WHERE id = 3"), 0);
    cr_assert_eq(verify(), ES_ECORRUPT);
    cr_assert(strstr(err.msg, "row 3 was changed"), "%s", err.msg);
    db_exec(db, "UPDATE audit SET target = 'call-2' WHERE id = 3");
    cr_assert_eq(verify(), 5);
    /* the end is anchored outside the database: rows cut from it are found */
    db_exec(db, "DELETE FROM audit WHERE id >= 4");
    cr_assert_eq(verify(), ES_ECORRUPT);
    cr_assert(strstr(err.msg, "rows from 4 on were removed"), "%s", err.msg);
    db_exec(db, "DELETE FROM audit WHERE id = 2");
    cr_assert_eq(verify(), ES_ECORRUPT);
    cr_assert(strstr(err.msg, "rows 2 to 2 were removed"), "%s", err.msg);
}

/* The key lives outside the database; without it, a log with keyed rows
 * cannot be written to (a new key would only hide the loss). */
Test(users, audit_key)
{
    cr_assert_eq(review_audit(st, "anna", "login", "", NULL, &err), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/audit.key", dir);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600, "mode %o", sb.st_mode & 0777);
    cr_assert_eq(sb.st_size, 32);
    review_store_close(st);
    st = NULL;
    cr_assert_eq(unlink(path), 0);
    struct review_store *again = NULL;
    cr_assert_eq(review_store_open(cat, &again, &err), ES_ECORRUPT);
    cr_assert(strstr(err.msg, "missing") && strstr(err.msg, "1 keyed rows"), "%s", err.msg);
}

Test(users, empty_audit_verifies)
{
    cr_assert_eq(verify(), 0);
}

Test(users, sessions)
{
    struct review_user u, got;
    char token[REVIEW_TOKEN_HEX], csrf[REVIEW_TOKEN_HEX], c2[REVIEW_TOKEN_HEX];
    cr_assert_eq(review_user_add(st, "anna", ROLE_SUPERVISOR, NULL, "correct horse battery", &err),
                 0);
    cr_assert_eq(review_user_check(st, "anna", "correct horse battery", &u, &err), 0);
    cr_assert_eq(review_session_create(st, &u, token, csrf, &err), 0);
    cr_assert_eq(strlen(token), 64);
    cr_assert_str_neq(token, csrf);
    int64_t now = es_now_ms();
    cr_assert_eq(review_session_get(st, token, now, &got, c2), 0);
    cr_assert_str_eq(got.name, "anna");
    cr_assert(review_token_equal(c2, csrf));
    cr_assert_not(review_token_equal(c2, token));
    cr_assert_not(review_token_equal("", ""));
    /* only the hash is stored */
    struct db_stmt *q;
    db_prepare(catalog_db(cat), "SELECT count(*) FROM sessions WHERE token_hash = ?1", &q);
    db_bind_text(q, 1, token, -1);
    cr_assert_eq(db_step(q), DB_ROW);
    cr_assert_eq(db_column_int(q, 0), 0);
    db_finalize(q);
    /* a wrong or malformed token */
    char other[REVIEW_TOKEN_HEX];
    memcpy(other, token, sizeof other);
    other[0] = other[0] == 'a' ? 'b' : 'a';
    cr_assert_eq(review_session_get(st, other, now, &got, c2), ES_ENOTFOUND);
    cr_assert_eq(review_session_get(st, "short", now, &got, c2), ES_ENOTFOUND);
    /* idle expiry ends it for good */
    cr_assert_eq(review_session_get(st, token, now + REVIEW_SESSION_IDLE_MS + 1000, &got, c2),
                 ES_ENOTFOUND);
    cr_assert_eq(review_session_get(st, token, now, &got, c2), ES_ENOTFOUND);
    /* absolute expiry even when active, disabling, logout */
    cr_assert_eq(review_session_create(st, &u, token, csrf, &err), 0);
    cr_assert_eq(review_session_get(st, token, now + REVIEW_SESSION_ABSOLUTE_MS + 1, &got, c2),
                 ES_ENOTFOUND);
    cr_assert_eq(review_session_create(st, &u, token, csrf, &err), 0);
    cr_assert_eq(review_user_disable(st, "anna", true, &err), 0);
    cr_assert_eq(review_session_get(st, token, now, &got, c2), ES_ENOTFOUND);
    cr_assert_eq(review_user_disable(st, "anna", false, &err), 0);
    cr_assert_eq(review_session_create(st, &u, token, csrf, &err), 0);
    cr_assert_eq(review_session_delete(st, token), 0);
    cr_assert_eq(review_session_get(st, token, now, &got, c2), ES_ENOTFOUND);
}
