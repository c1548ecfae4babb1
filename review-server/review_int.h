/* Private to review-server/: the store handle and its prepared statements. */
#ifndef EARSHOT_REVIEW_INT_H
#define EARSHOT_REVIEW_INT_H

#include "review-server/review.h"

#include "common/db.h"

enum review_stmt {
    RV_USER_ADD,
    RV_USER_PASSWD,
    RV_USER_DISABLE,
    RV_USER_GET,
    RV_USER_LIST,
    RV_SESSIONS_DROP,
    RV_SESSIONS_DROP_OTHERS,
    RV_AUDIT_LAST,
    RV_AUDIT_ADD,
    RV_AUDIT_ALL,
    RV_SESSION_ADD,
    RV_SESSION_GET,
    RV_SESSION_TOUCH,
    RV_SESSION_DEL,
    RV_AUDIT_LIST,
    RV_AUDIT_MAC_OF,
    RV_AUDIT_KEYED,
    RV_TOKEN_ADD,
    RV_TOKEN_CHECK,
    RV_TOKEN_REVOKE,
    RV_TOKEN_LIST,
    RV_LOGIN_BUMP,
    RV_LOGIN_LOCK,
    RV_LOGIN_CLEAR,
    RV_LOGIN_PRUNE,
    RV_COUNT
};

struct review_store {
    struct db *db; /* the catalog's connection */
    struct db_stmt *st[RV_COUNT];
    /* the audit chain's key (outside the database) and its anchor file */
    unsigned char key[32];
    bool has_key;
    char key_path[4200], anchor_path[4200];
    int64_t pending_id; /* a row appended, not yet known to be committed */
    char pending_mac[65];
    uint64_t appended; /* rows this handle has appended (for the route table's audit check) */
};

/* Loads the audit key (made on first use; refused if missing while keyed rows exist). */
int rv_audit_key_load(struct review_store *s, const char *data_dir, struct es_err *err);

struct db_stmt *rv_stmt(struct review_store *s, enum review_stmt which);
int rv_step_done(struct review_store *s, struct db_stmt *st, const char *what, struct es_err *err);
/* What the sessions table keeps of a session token: its SHA-256, in hex. */
void rv_token_hash(const char *token, char out[65]);
/* Columns 0-5 of a row: id, name, role, operator, disabled, created_at. */
void rv_read_user(struct db_stmt *st, struct review_user *u);

#endif
