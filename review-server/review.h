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
int review_user_passwd(struct review_store *s, const char *name, const char *password,
                       struct es_err *err);
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
/* A random password of 20 characters for `user add` without one. */
void review_password_generate(char out[21]);

/* ---- audit log: append-only, each row carrying the hash of the one before -- */
/* detail: a JSON object or NULL. Never pass a password or a token here. */
int review_audit(struct review_store *s, const char *actor, const char *action, const char *target,
                 const char *detail, struct es_err *err);
/* Walks the chain; ES_ECORRUPT with the first broken row's id in err. *rows
 * gets the number of rows checked. */
int review_audit_verify(struct review_store *s, int64_t *rows, struct es_err *err);

/* ---- commands ------------------------------------------------------------ */
int cmd_user(struct es_cli *cli);
int cmd_audit(struct es_cli *cli);

#endif
