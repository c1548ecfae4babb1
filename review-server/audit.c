/* The audit log: one row per login, playback, download, export and change.
 * Each row's hash covers its fields and the previous row's hash, so removing,
 * reordering or editing a row (even with sqlite3 by hand, past the triggers)
 * breaks the chain at that row, and `earshot audit verify` says where. */
#include "review-server/review_int.h"

#include <sodium.h>
#include <string.h>

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* Each field goes in as "<length>:<bytes>", so no choice of field contents can
 * make two different rows hash alike. */
static void add_field(crypto_hash_sha256_state *h, const char *v, size_t n)
{
    char len[24];
    int k = snprintf(len, sizeof len, "%zu:", n);
    crypto_hash_sha256_update(h, (const unsigned char *)len, (unsigned long long)k);
    crypto_hash_sha256_update(h, (const unsigned char *)v, n);
}

static void row_hash(int64_t at, const char *actor, const char *action, const char *target,
                     const char *detail, const char *prev, char out[65])
{
    crypto_hash_sha256_state h;
    char t[24];
    unsigned char d[32];
    crypto_hash_sha256_init(&h);
    snprintf(t, sizeof t, "%lld", (long long)at);
    add_field(&h, t, strlen(t));
    add_field(&h, actor, strlen(actor));
    add_field(&h, action, strlen(action));
    add_field(&h, target, strlen(target));
    add_field(&h, detail, strlen(detail));
    add_field(&h, prev, strlen(prev));
    crypto_hash_sha256_final(&h, d);
    es_hex(d, 32, out);
}

int review_audit(struct review_store *s, const char *actor, const char *action, const char *target,
                 const char *detail, struct es_err *err)
{
    bool outer; /* a transaction of its own, or a savepoint in the change's */
    if (catalog_tx_begin(s->db, &outer))
        return es_seterr(err, ES_EDB, "audit: %s", sqlite3_errmsg(s->db));
    char prev[65] = GENESIS, hash[65];
    sqlite3_stmt *st = rv_stmt(s, RV_AUDIT_LAST);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(prev, sizeof prev, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    int64_t at = es_now_ms();
    target = target ? target : "";
    detail = detail ? detail : "{}";
    row_hash(at, actor, action, target, detail, prev, hash);
    st = rv_stmt(s, RV_AUDIT_ADD);
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, hash, -1, SQLITE_STATIC);
    int rc = rv_step_done(s, st, "audit", err);
    int end = catalog_tx_end(s->db, outer, rc);
    if (end && !rc)
        es_seterr(err, end, "audit: commit failed: %s", sqlite3_errmsg(s->db));
    if (end)
        ES_ERROR("serve", "audit row %s by %s not written: %s", action, actor, err->msg);
    return end;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

int review_audit_verify(struct review_store *s, int64_t *rows, struct es_err *err)
{
    sqlite3_stmt *st = rv_stmt(s, RV_AUDIT_ALL);
    char prev[65] = GENESIS, hash[65];
    int rc = 0, step = SQLITE_DONE;
    *rows = 0;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (strcmp(col(st, 6), prev)) {
            rc = es_seterr(err, ES_ECORRUPT,
                           "audit row %lld does not follow the row before it (a row was removed,"
                           " reordered or changed)",
                           (long long)id);
            break;
        }
        row_hash(sqlite3_column_int64(st, 1), col(st, 2), col(st, 3), col(st, 4), col(st, 5), prev,
                 hash);
        if (strcmp(hash, col(st, 7))) {
            rc = es_seterr(err, ES_ECORRUPT, "audit row %lld was changed after it was written",
                           (long long)id);
            break;
        }
        memcpy(prev, hash, sizeof prev);
        ++*rows;
    }
    if (!rc && step != SQLITE_DONE)
        rc = es_seterr(err, ES_EDB, "catalog: %s", sqlite3_errmsg(s->db));
    sqlite3_reset(st);
    return rc;
}
