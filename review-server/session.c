/* Sessions: a random 256-bit cookie value whose SHA-256 is all the database
 * keeps (a stolen catalog holds no usable session), a CSRF token per session,
 * idle and absolute expiry. */
#include "review-server/review_int.h"

#include <sodium.h>
#include <string.h>

static void random_hex(char out[REVIEW_TOKEN_HEX])
{
    uint8_t b[32];
    randombytes_buf(b, sizeof b);
    es_hex(b, sizeof b, out);
    sodium_memzero(b, sizeof b);
}

void rv_token_hash(const char *token, char out[65])
{
    uint8_t d[32];
    crypto_hash_sha256(d, (const uint8_t *)token, strlen(token));
    es_hex(d, sizeof d, out);
}

bool review_token_equal(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && n > 0 && sodium_memcmp(a, b, n) == 0;
}

int review_session_create(struct review_store *s, const struct review_user *u,
                          char token[REVIEW_TOKEN_HEX], char csrf[REVIEW_TOKEN_HEX],
                          struct es_err *err)
{
    char h[65];
    random_hex(token);
    random_hex(csrf);
    rv_token_hash(token, h);
    struct db_stmt *st = rv_stmt(s, RV_SESSION_ADD);
    db_bind_text(st, 1, h, -1);
    db_bind_int64(st, 2, u->id);
    db_bind_text(st, 3, csrf, -1);
    db_bind_int64(st, 4, es_now_ms());
    return rv_step_done(s, st, "create session", err);
}

int review_session_delete(struct review_store *s, const char *token)
{
    char h[65];
    struct es_err err;
    rv_token_hash(token, h);
    struct db_stmt *st = rv_stmt(s, RV_SESSION_DEL);
    db_bind_text(st, 1, h, -1);
    return rv_step_done(s, st, "delete session", &err);
}

int review_session_get(struct review_store *s, const char *token, int64_t now,
                       struct review_user *u, char csrf[REVIEW_TOKEN_HEX])
{
    if (strlen(token) != REVIEW_TOKEN_HEX - 1)
        return ES_ENOTFOUND;
    char h[65];
    rv_token_hash(token, h);
    struct db_stmt *st = rv_stmt(s, RV_SESSION_GET);
    db_bind_text(st, 1, h, -1);
    if (db_step(st) != DB_ROW) {
        db_reset(st);
        return ES_ENOTFOUND;
    }
    rv_read_user(st, u);
    snprintf(csrf, REVIEW_TOKEN_HEX, "%s", (const char *)db_column_text(st, 6));
    int64_t created = db_column_int64(st, 7), seen = db_column_int64(st, 8);
    db_reset(st);
    if (u->disabled || now - seen > REVIEW_SESSION_IDLE_MS ||
        now - created > REVIEW_SESSION_ABSOLUTE_MS) {
        review_session_delete(s, token);
        return ES_ENOTFOUND;
    }
    if (now - seen > 60000) { /* at most one write a minute per session */
        struct es_err err;
        st = rv_stmt(s, RV_SESSION_TOUCH);
        db_bind_text(st, 1, h, -1);
        db_bind_int64(st, 2, now);
        rv_step_done(s, st, "touch session", &err);
    }
    return 0;
}
