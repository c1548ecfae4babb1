/* followup's private parts: the handle and its statements. */
#ifndef EARSHOT_FOLLOWUP_INT_H
#define EARSHOT_FOLLOWUP_INT_H

#include "analytics/analytics.h"
#include "followup/followup.h"

#include "common/db.h"

enum st {
    S_POS_GET,
    S_POS_PUT,
    S_FU_CALL,
    S_OPEN_GET,
    S_OPEN_NEW,
    S_OPEN_ADD,
    S_CLOSE,
    S_OURS,
    S_ANSWERED_AFTER,
    S_FU_PRUNE,
    S_CLOSE_MANUAL,
    S_CLAIM,
    S_REPORT,
    S_LIST_OPEN,
    S_LIST_CLOSED,
    S_CLOSE_ONE,
    S_GET,
    S_OPEN_COUNT,
    S_COUNT
};

struct followup {
    struct catalog *cat; /* borrowed */
    struct db *db;
    struct db_stmt *st[S_COUNT];
    struct analytics *an;    /* the customer directory */
    struct db_stmt *nst[24]; /* notify.c's, prepared on first use */
    struct db_stmt *hst[12]; /* health.c's, the same */
    void *curl;              /* send.c's handle, kept for its connections */
};

extern const char *const fu_sql[S_COUNT];

static inline struct db_stmt *stmt(struct followup *f, enum st which)
{
    struct db_stmt *s = f->st[which];
    db_reset(s);
    db_clear_bindings(s);
    return s;
}

static inline int done(struct followup *f, struct db_stmt *s, struct es_err *err)
{
    int rc = db_step(s);
    db_reset(s);
    return rc == DB_DONE ? 0 : es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(f->db));
}

/* The other party's number in one form: E.164, "anonymous" for a withheld
 * one; false for an internal extension (not a customer). */
void notify_free(struct followup *f);
void notify_send_free(struct followup *f);
/* send.c: one attempt; 0 delivered, else why not in why. */
struct notify_message {
    const struct notify_rule *rule;
    const char *uuid, *event, *body, *target;
    int64_t created_at;
};
int notify_send(struct followup *f, const struct notify_config *nc, const struct notify_message *m,
                int64_t now, char why[256]);
int fu_emit_call(struct followup *f, const char *event, const struct catalog_call_brief *b,
                 bool after_hours, int64_t attempts, struct es_err *err);

bool fu_party(const char *raw, const char *cc, char out[40]);

#endif
