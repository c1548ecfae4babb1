/*
 * review-server — where people meet the archive: supervisors listen and score,
 * operators read and acknowledge or dispute their feedback, compliance staff
 * export, admins manage users. This header holds the parts the HTTP layer is
 * built on: users with roles and Argon2id passwords, sessions, and the
 * hash-chained audit log.
 */
#ifndef EARSHOT_REVIEW_H
#define EARSHOT_REVIEW_H

#include "scripts-rubric/rubric.h"

#include <stdbool.h>
#include <stdint.h>

enum review_role { ROLE_ADMIN, ROLE_SUPERVISOR, ROLE_OPERATOR, ROLE_COMPLIANCE, ROLE_NROLES };
const char *review_role_name(enum review_role r);
int review_role_parse(const char *name, enum review_role *out);

#define REVIEW_NAME_LEN 65 /* user names: 1-64 bytes of [A-Za-z0-9._@-] */

struct review_user {
    int64_t id;
    char name[REVIEW_NAME_LEN];
    enum review_role role;
    char operator_[ARCHIVE_FIELD_LEN]; /* operators: the extension their calls carry */
    bool disabled;
    int64_t created_at;
};

struct review_store; /* opaque; one per thread, on top of a catalog handle */
int review_store_open(struct catalog *c, struct review_store **out, struct es_err *err);
void review_store_close(struct review_store *s);

bool review_name_valid(const char *name);
/* Passwords: 10-1024 bytes. Hashed with Argon2id (libsodium crypto_pwhash_str). */
int review_user_add(struct review_store *s, const char *name, enum review_role role,
                    const char *operator_, const char *password, struct es_err *err);
/* Ends every session of the user but keep_session (the one making the
 * change; NULL: all of them). */
int review_user_passwd(struct review_store *s, const char *name, const char *password,
                       const char *keep_session, struct es_err *err);
int review_user_disable(struct review_store *s, const char *name, bool disabled,
                        struct es_err *err);
int review_user_get(struct review_store *s, const char *name, struct review_user *u,
                    struct es_err *err);
int review_user_list(struct review_store *s, int (*cb)(void *ud, const struct review_user *),
                     void *ud);
/* Checks a password. ES_EINVAL with the same message for an unknown user, a
 * wrong password and a disabled account, so a login form reveals nothing; the
 * work done is the same in all three cases. */
int review_user_check(struct review_store *s, const char *name, const char *password,
                      struct review_user *u, struct es_err *err);
/* Failed logins for one user name as every server on the catalog counts
 * them (the per-process throttle counts addresses too, and answers floods
 * without asking the database): after 5 in 15 minutes, further tries wait
 * 30 s, doubling up to 15 minutes. An attempt is counted before the password
 * is checked; review_login_succeeded gives it back. *wait: the seconds to
 * wait, 0 when this attempt may go on. */
int review_login_attempt(struct review_store *s, const char *name, int64_t now, int *wait,
                         struct es_err *err);
void review_login_succeeded(struct review_store *s, const char *name);
/* A random password of 20 characters for `user add` without one. */
void review_password_generate(char out[21]);

/* ---- audit log: append-only, a keyed chain anchored outside the database -- */
/* detail: a JSON object or NULL. Never pass a password or a token here. Inside
 * a caller's transaction the row commits with it; call review_audit_anchor
 * once that transaction has committed. */
int review_audit(struct review_store *s, const char *actor, const char *action, const char *target,
                 const char *detail, struct es_err *err);
/* A data subject as the audit log names it: a pseudonym keyed with the audit
 * key (the same number gives the same 32 hex digits; the log never holds the
 * number, so an erasure leaves nothing of it behind). */
int review_subject_ref(struct review_store *s, const char *e164, char out[33]);
/* The rows appended through this handle so far. */
uint64_t review_audit_appended(const struct review_store *s);
/* Writes the anchor file for the last row appended, if it was committed. */
void review_audit_anchor(struct review_store *s);
struct review_audit_filter {
    int64_t since, until; /* 0 = open */
    const char *actor, *action;
    int64_t before_id; /* keyset: rows older than this id, 0 = newest */
    int limit;         /* default 100 */
};
struct review_audit_row {
    int64_t id, at;
    const char *actor, *action, *target, *detail; /* borrowed for the callback */
};
/* Newest first. */
int review_audit_list(struct review_store *s, const struct review_audit_filter *f,
                      int (*cb)(void *ud, const struct review_audit_row *), void *ud);
/* Walks the chain and checks its end against the anchor: ES_ECORRUPT naming
 * the first changed row, the rows removed from the middle, or a tail cut off.
 * *rows gets the number of rows checked. */
struct review_audit_check {
    int64_t rows, keyed; /* rows, and those with a MAC */
    int64_t anchor_id;   /* the row the anchor names (0: none) */
};
int review_audit_verify(struct review_store *s, struct review_audit_check *out, struct es_err *err);

/* ---- sessions ------------------------------------------------------------ */
#define REVIEW_SESSION_IDLE_MS     (2LL * 3600 * 1000)  /* idle expiry */
#define REVIEW_SESSION_ABSOLUTE_MS (12LL * 3600 * 1000) /* absolute expiry */
#define REVIEW_TOKEN_HEX           65                   /* 256 bits as hex + NUL */
/* Starts a session for a checked user: token (the cookie value) and csrf are
 * random 256-bit values as hex; only the token's SHA-256 is stored. */
int review_session_create(struct review_store *s, const struct review_user *u,
                          char token[REVIEW_TOKEN_HEX], char csrf[REVIEW_TOKEN_HEX],
                          struct es_err *err);
/* The user and CSRF token of a live session; ES_ENOTFOUND for an unknown,
 * expired or disabled one (an expired one is deleted). */
int review_session_get(struct review_store *s, const char *token, int64_t now,
                       struct review_user *u, char csrf[REVIEW_TOKEN_HEX]);
int review_session_delete(struct review_store *s, const char *token);
/* Constant-time comparison of two NUL-terminated tokens. */
bool review_token_equal(const char *a, const char *b);

/* ---- API tokens (for PBXs and remote recorders pushing recordings) -------- */
/* A new token for name (1-64 slug characters); the token (hex, 256 bits) goes to
 * token and is never stored, only its SHA-256. */
int review_token_create(struct review_store *s, const char *name, const char *by,
                        char token[REVIEW_TOKEN_HEX], struct es_err *err);
/* The name of a live token, or ES_ENOTFOUND. */
int review_token_check(struct review_store *s, const char *token, char name[REVIEW_NAME_LEN]);
int review_token_revoke(struct review_store *s, const char *name, struct es_err *err);
struct review_token_info {
    char name[REVIEW_NAME_LEN];
    char created_by[REVIEW_NAME_LEN];
    int64_t created_at, revoked_at; /* revoked_at 0 = live */
};
int review_token_list(struct review_store *s, int (*cb)(void *ud, const struct review_token_info *),
                      void *ud);

/* ---- HTTP routing (the parsers of request lines and Range headers) -------- */
struct route_def; /* one row of the route table (route.c; http_int.h has its fields) */
struct route {
    const struct route_def *def;
    char arg[REVIEW_NAME_LEN]; /* the {id}, {n}, {name} or {file} of the path */
};
/* 0 with r filled; ES_ENOTFOUND: no such path (404); ES_EUNSUPP: the path
 * exists but not for this method (405). */
int route_match(const char *method, const char *path, size_t len, struct route *r);
/* The table, for metrics, documentation and tests. */
size_t route_count(void);
const struct route_def *route_at(size_t i); /* NULL past the end */
size_t route_index(const struct route_def *d);
const char *route_method(const struct route_def *d);
const char *route_path(const struct route_def *d); /* "/api/v1/calls/{id}" */
/* One byte range of a file of size bytes: 0 with [start, end] inclusive;
 * ES_ENOTFOUND for several ranges (serve the whole file); ES_EINVAL for a
 * malformed or unsatisfiable one (416). */
int http_range_parse(const char *h, size_t len, uint64_t size, uint64_t *start, uint64_t *end);

/* ---- commands ------------------------------------------------------------ */
int cmd_user(struct es_cli *cli);
int cmd_audit(struct es_cli *cli);
int cmd_catalog(struct es_cli *cli);
int cmd_retention_policy(struct es_cli *cli); /* earshot retention --policy */
int cmd_subject(struct es_cli *cli);
int cmd_redact(struct es_cli *cli);
int cmd_keys(struct es_cli *cli);              /* earshot keys init|rotate|status */
int cmd_encrypt_existing(struct es_cli *cli);  /* earshot encrypt-existing */
int cmd_audio(struct es_cli *cli);             /* earshot audio CALL [--out FILE] */
/* earshot redact CALL --from --to --reason */ /* earshot subject find|export|erase */
int cmd_serve(struct es_cli *cli);

#endif
