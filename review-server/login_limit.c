/* Failed logins per user name in the catalog, so that a name locked on one
 * review server is locked on all of them (review.h). The rule is the
 * per-process throttle's (throttle.c): five free failures in a 15-minute
 * window, then a wait of 30 s doubling with each failure, at most 15 minutes.
 * Counting is one atomic upsert, so servers trying the same name at once
 * cannot all slip in under the limit. */
#include "review-server/review_int.h"

#include <sodium.h>
#include <string.h>

#define WINDOW_MS       (15 * 60 * 1000LL)
#define FREE_FAILURES   5
#define FIRST_WAIT_MS   (30 * 1000LL)
#define LONGEST_WAIT_MS (15 * 60 * 1000LL)
#define PRUNE_EVERY     64

static void name_hash(const char *name, char out[65])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const uint8_t *)name, strlen(name));
    es_hex(h, sizeof h, out);
}

int review_login_attempt(struct review_store *s, const char *name, int64_t now, int *wait,
                         struct es_err *err)
{
    *wait = 0;
    char key[65];
    name_hash(name, key);
    static unsigned attempts;
    if (__atomic_add_fetch(&attempts, 1, __ATOMIC_RELAXED) % PRUNE_EVERY == 0) {
        struct db_stmt *p = rv_stmt(s, RV_LOGIN_PRUNE);
        db_bind_int64(p, 1, now - WINDOW_MS);
        db_bind_int64(p, 2, now);
        db_step(p); /* best effort: stale rows only take room */
        db_reset(p);
    }
    struct db_stmt *st = rv_stmt(s, RV_LOGIN_BUMP);
    db_bind_text(st, 1, key, -1);
    db_bind_int64(st, 2, now);
    db_bind_int64(st, 3, WINDOW_MS);
    int rc = db_step(st);
    if (rc != DB_ROW) {
        db_reset(st);
        return es_seterr(err, rc < 0 ? rc : ES_EDB, "catalog: login failures: %s",
                         db_errmsg(s->db));
    }
    int64_t failures = db_column_int64(st, 0), locked_until = db_column_int64(st, 1);
    db_reset(st);
    if (locked_until > now) {
        *wait = (int)((locked_until - now + 999) / 1000);
        return 0;
    }
    if (failures < FREE_FAILURES)
        return 0;
    /* this attempt goes on; the ones after it wait */
    int extra = (int)ES_MIN(failures - FREE_FAILURES, 10);
    st = rv_stmt(s, RV_LOGIN_LOCK);
    db_bind_text(st, 1, key, -1);
    db_bind_int64(st, 2, now + ES_MIN(FIRST_WAIT_MS << extra, LONGEST_WAIT_MS));
    return rv_step_done(s, st, "login failures", err);
}

void review_login_succeeded(struct review_store *s, const char *name)
{
    char key[65];
    name_hash(name, key);
    struct db_stmt *st = rv_stmt(s, RV_LOGIN_CLEAR);
    db_bind_text(st, 1, key, -1);
    db_step(st);
    db_reset(st);
}
