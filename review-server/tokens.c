/* API tokens: what a PBX or a remote recorder presents (Authorization: Bearer)
 * to push recordings. Like session tokens, only their SHA-256 is stored. */
#include "review-server/review_int.h"

#include <sodium.h>
#include <string.h>

static void hash_hex(const char *token, char out[65])
{
    uint8_t d[32];
    crypto_hash_sha256(d, (const uint8_t *)token, strlen(token));
    es_hex(d, sizeof d, out);
}

int review_token_create(struct review_store *s, const char *name, const char *by,
                        char token[REVIEW_TOKEN_HEX], struct es_err *err)
{
    if (!review_name_valid(name))
        return es_seterr(err, ES_EINVAL,
                         "a token name is 1-64 letters, digits, '.', '_', '@', '-'");
    uint8_t b[32];
    char h[65];
    randombytes_buf(b, sizeof b);
    es_hex(b, sizeof b, token);
    sodium_memzero(b, sizeof b);
    hash_hex(token, h);
    struct db_stmt *st = rv_stmt(s, RV_TOKEN_ADD);
    db_bind_text(st, 1, name, -1);
    db_bind_text(st, 2, h, -1);
    db_bind_text(st, 3, by, -1);
    db_bind_int64(st, 4, es_now_ms());
    int rc = rv_step_done(s, st, "add token", err);
    if (rc == ES_EEXIST)
        es_seterr(err, rc, "a token named '%s' already exists", name);
    if (rc)
        sodium_memzero(token, REVIEW_TOKEN_HEX);
    return rc;
}

int review_token_check(struct review_store *s, const char *token, char name[REVIEW_NAME_LEN])
{
    if (strlen(token) != REVIEW_TOKEN_HEX - 1)
        return ES_ENOTFOUND;
    char h[65];
    hash_hex(token, h);
    struct db_stmt *st = rv_stmt(s, RV_TOKEN_CHECK);
    db_bind_text(st, 1, h, -1);
    int rc = ES_ENOTFOUND;
    if (db_step(st) == DB_ROW) {
        snprintf(name, REVIEW_NAME_LEN, "%s", (const char *)db_column_text(st, 0));
        rc = 0;
    }
    db_reset(st);
    return rc;
}

int review_token_revoke(struct review_store *s, const char *name, struct es_err *err)
{
    struct db_stmt *st = rv_stmt(s, RV_TOKEN_REVOKE);
    db_bind_text(st, 1, name, -1);
    db_bind_int64(st, 2, es_now_ms());
    int rc = rv_step_done(s, st, "revoke token", err);
    if (!rc && db_changes(s->db) != 1)
        rc = es_seterr(err, ES_ENOTFOUND, "no live token '%.64s'", name);
    return rc;
}

int review_token_list(struct review_store *s, int (*cb)(void *ud, const struct review_token_info *),
                      void *ud)
{
    struct db_stmt *st = rv_stmt(s, RV_TOKEN_LIST);
    int step;
    while ((step = db_step(st)) == DB_ROW) {
        struct review_token_info t = {0};
        snprintf(t.name, sizeof t.name, "%s", (const char *)db_column_text(st, 0));
        snprintf(t.created_by, sizeof t.created_by, "%s", (const char *)db_column_text(st, 1));
        t.created_at = db_column_int64(st, 2);
        t.revoked_at = db_column_int64(st, 3);
        if (cb(ud, &t))
            break;
    }
    db_reset(st);
    return step == DB_ROW || step == DB_DONE ? 0 : ES_EDB;
}
