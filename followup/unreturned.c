/* The unreturned-calls list: its tables, the sync that reads the catalog's
 * new calls into it, and the queries. */
#include "followup/followup_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const migrations[] = {
    /* 1: open and closed entries, the numbers of all calls, the read position */
    "CREATE TABLE unreturned ("
    "  id INTEGER PRIMARY KEY,"
    "  number TEXT NOT NULL,"          /* E.164, or 'anonymous' */
    "  line TEXT NOT NULL DEFAULT ''," /* the queue, else the number dialled */
    "  open INTEGER NOT NULL DEFAULT 1,"
    "  attempts INTEGER NOT NULL,"
    "  our_attempts INTEGER NOT NULL DEFAULT 0,"
    "  first_missed_at INTEGER NOT NULL,"
    "  last_missed_at INTEGER NOT NULL,"
    "  reasons TEXT NOT NULL DEFAULT '{}',"
    "  after_hours INTEGER NOT NULL DEFAULT 0,"
    "  claimed_by TEXT NOT NULL DEFAULT '',"
    "  claimed_until INTEGER NOT NULL DEFAULT 0,"
    "  closed_by TEXT CHECK (closed_by IN ('callback','customer_called_again','manual')),"
    "  closed_at INTEGER,"
    "  callback_call_id TEXT NOT NULL DEFAULT '',"
    "  callback_operator TEXT NOT NULL DEFAULT '',"
    "  note TEXT NOT NULL DEFAULT ''"
    ") STRICT;"
    "CREATE UNIQUE INDEX unreturned_one_open ON unreturned(number, line) WHERE open = 1;"
    "CREATE INDEX unreturned_waiting ON unreturned(first_missed_at) WHERE open = 1;"
    "CREATE INDEX unreturned_closed ON unreturned(closed_at) WHERE open = 0;"
    "CREATE INDEX unreturned_number ON unreturned(number, open);"
    /* every call's other party, to close an entry whose callback was catalogued first */
    "CREATE TABLE fu_calls ("
    "  number TEXT NOT NULL,"
    "  started_at INTEGER NOT NULL,"
    "  outbound INTEGER NOT NULL,"
    "  answered INTEGER NOT NULL,"
    "  call_id TEXT NOT NULL,"
    "  operator TEXT NOT NULL DEFAULT ''"
    ") STRICT;"
    "CREATE INDEX fu_calls_number ON fu_calls(number, started_at);"
    "CREATE TABLE fu_position ("
    "  one INTEGER PRIMARY KEY CHECK (one = 1),"
    "  created_at INTEGER NOT NULL,"
    "  call_id TEXT NOT NULL"
    ") STRICT;",

    /* 2: the notifications' outbox, deliveries and hourly digests */
    "ALTER TABLE unreturned ADD COLUMN unreturned_sent INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  event TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  body TEXT NOT NULL,"
    "  queue TEXT NOT NULL DEFAULT '',"
    "  after_hours INTEGER NOT NULL DEFAULT 0,"
    "  waiting_s INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "CREATE TABLE deliveries ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL," /* X-Earshot-Id: the event's, the same on every attempt */
    "  event TEXT NOT NULL,"
    "  rule TEXT NOT NULL,"
    "  channel TEXT NOT NULL CHECK (channel IN ('webhook','email')),"
    "  target TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','delivered','dead')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  next_at INTEGER NOT NULL,"
    "  delivered_at INTEGER,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  UNIQUE (uuid, rule)"
    ") STRICT;"
    "CREATE INDEX deliveries_due ON deliveries(next_at) WHERE state = 'pending';"
    "CREATE INDEX deliveries_state ON deliveries(state, id);"
    "CREATE TABLE digest_items ("
    "  id INTEGER PRIMARY KEY,"
    "  rule TEXT NOT NULL,"
    "  hour INTEGER NOT NULL,"
    "  event TEXT NOT NULL,"
    "  body TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX digest_items_rule ON digest_items(rule, hour);",

    /* 3: the health conditions' episodes, the recorders' last counters seen,
     * and how far the ingest failures were read */
    "CREATE TABLE fu_health ("
    "  condition TEXT PRIMARY KEY,"
    "  firing INTEGER NOT NULL,"
    "  since INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT ''"
    ") STRICT;"
    "CREATE TABLE fu_recorders ("
    "  source TEXT PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  counters TEXT NOT NULL,"
    "  last_sip_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX fu_calls_time ON fu_calls(started_at);"
    "CREATE TABLE fu_failures ("
    "  one INTEGER PRIMARY KEY CHECK (one = 1),"
    "  last_at INTEGER NOT NULL,"
    "  id INTEGER NOT NULL"
    ") STRICT;",
};

const char *const fu_sql[S_COUNT] = {
    [S_POS_GET] = "SELECT created_at, call_id FROM fu_position WHERE one = 1",
    [S_POS_PUT] = "INSERT INTO fu_position(one, created_at, call_id) VALUES (1, ?1, ?2)"
                  " ON CONFLICT (one) DO UPDATE SET created_at = excluded.created_at,"
                  " call_id = excluded.call_id",
    [S_FU_CALL] = "INSERT INTO fu_calls(number, started_at, outbound, answered, call_id, operator)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_OPEN_GET] =
        "SELECT id, reasons FROM unreturned WHERE number = ?1 AND line = ?2 AND open = 1",
    [S_OPEN_NEW] = "INSERT INTO unreturned(number, line, attempts, first_missed_at, last_missed_at,"
                   " reasons, after_hours) VALUES (?1, ?2, 1, ?3, ?3, ?4, ?5)",
    [S_OPEN_ADD] = "UPDATE unreturned SET attempts = attempts + 1,"
                   " first_missed_at = min(first_missed_at, ?2),"
                   " last_missed_at = max(last_missed_at, ?2), reasons = ?3,"
                   " after_hours = max(after_hours, ?4) WHERE id = ?1",
    /* an answered call after the last miss closes the number's open entries */
    [S_CLOSE] = "UPDATE unreturned SET open = 0, closed_by = ?3, closed_at = ?2,"
                " callback_call_id = ?4, callback_operator = ?5"
                " WHERE number = ?1 AND open = 1 AND last_missed_at < ?2 AND number != 'anonymous'",
    [S_OURS] = "UPDATE unreturned SET our_attempts = our_attempts + 1"
               " WHERE number = ?1 AND open = 1 AND last_missed_at < ?2",
    /* for a miss catalogued after its callback */
    [S_ANSWERED_AFTER] = "SELECT started_at, outbound, call_id, operator FROM fu_calls"
                         " WHERE number = ?1 AND started_at > ?2 AND answered = 1"
                         " ORDER BY started_at LIMIT 1",
    /* a miss comes at most days after its callback: older numbers need not be kept */
    [S_FU_PRUNE] = "DELETE FROM fu_calls WHERE rowid IN (SELECT rowid FROM fu_calls"
                   " WHERE started_at < ?1 LIMIT 10000)",
    [S_CLOSE_MANUAL] = "UPDATE unreturned SET open = 0, closed_by = 'manual', closed_at = ?2,"
                       " callback_operator = ?3, note = ?4, claimed_until = 0"
                       " WHERE number = ?1 AND open = 1",
    /* a claim is taken when free, expired or already ours */
    [S_CLAIM] = "UPDATE unreturned SET claimed_by = ?2, claimed_until = ?3 WHERE id = ?1"
                " AND open = 1 AND (claimed_until <= ?4 OR claimed_by = ?2)",
    [S_REPORT] = "SELECT first_missed_at, open, closed_by, closed_at FROM unreturned"
                 " WHERE first_missed_at >= ?1 AND first_missed_at < ?2",
#define FU_COLS                                                                                    \
    "id, number, line, attempts, our_attempts, first_missed_at, last_missed_at, reasons,"          \
    " after_hours, claimed_by, claimed_until, closed_by, coalesce(closed_at, 0),"                  \
    " callback_call_id, callback_operator, note"
    [S_LIST_OPEN] = "SELECT " FU_COLS " FROM unreturned WHERE open = 1 AND last_missed_at >= ?1"
                    " AND (?2 IS NULL OR number = ?2) AND (?3 IS NULL OR line = ?3)"
                    " AND (?7 IS NULL OR line IN (SELECT value FROM json_each(?7)))"
                    " AND (?5 = 0 OR first_missed_at > ?4 OR (first_missed_at = ?4 AND id > ?5))"
                    " ORDER BY first_missed_at, id LIMIT ?6",
    [S_LIST_CLOSED] = "SELECT " FU_COLS " FROM unreturned WHERE open = 0 AND last_missed_at >= ?1"
                      " AND (?2 IS NULL OR number = ?2) AND (?3 IS NULL OR line = ?3)"
                      " AND (?7 IS NULL OR line IN (SELECT value FROM json_each(?7)))"
                      " AND (?5 = 0 OR closed_at < ?4 OR (closed_at = ?4 AND id < ?5))"
                      " ORDER BY closed_at DESC, id DESC LIMIT ?6",
    [S_CLOSE_ONE] = "UPDATE unreturned SET open = 0, closed_by = 'manual', closed_at = ?2,"
                    " callback_operator = ?3, note = ?4, claimed_until = 0"
                    " WHERE id = ?1 AND open = 1",
    [S_GET] = "SELECT " FU_COLS " FROM unreturned WHERE id = ?1",
    [S_OPEN_COUNT] = "SELECT count(*), coalesce(sum(claimed_until > ?1), 0) FROM unreturned"
                     " WHERE open = 1",
};

int followup_open(struct catalog *c, struct followup **out, struct es_err *err)
{
    *out = NULL;
    int rc =
        catalog_migrate_module(c, "followup", migrations, NULL, (int)ES_ARRAY_LEN(migrations), err);
    if (rc)
        return rc;
    struct followup *f = calloc(1, sizeof *f);
    if (!f)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    f->cat = c;
    f->db = catalog_db(c);
    rc = analytics_open(c, &f->an, err);
    if (rc) {
        free(f);
        return rc;
    }
    for (int i = 0; i < S_COUNT; i++)
        if (db_prepare(f->db, fu_sql[i], &f->st[i]) != 0) {
            rc = es_seterr(err, ES_EDB, "catalog: preparing follow-up statement %d: %s", i,
                           db_errmsg(f->db));
            followup_close(f);
            return rc;
        }
    *out = f;
    return 0;
}

void followup_close(struct followup *f)
{
    if (!f)
        return;
    for (int i = 0; i < S_COUNT; i++)
        db_finalize(f->st[i]);
    notify_free(f);
    analytics_close(f->an);
    free(f);
}

/* The other party's number in one form: E.164, "anonymous" for a withheld
 * one; false for an internal extension (not a customer). */
bool fu_party(const char *raw, const char *cc, char out[40])
{
    static const char *const withheld[] = {"",           "anonymous", "unknown",
                                           "restricted", "withheld",  "private"};
    for (size_t i = 0; i < ES_ARRAY_LEN(withheld); i++)
        if (!strcasecmp(raw, withheld[i])) {
            snprintf(out, 40, "anonymous");
            return true;
        }
    if (archive_e164(raw, cc, out, 40))
        return false;
    return out[0] == '+'; /* extensions stay internal */
}

struct sync_ctx {
    struct followup *f;
    const struct followup_opts *o;
    struct es_err *err;
    int rc;
    int64_t n, last_created;
    char last_id[40];
};

static int close_number(struct followup *f, const char *number, int64_t at, bool outbound,
                        const char *call_id, const char *op, struct es_err *err)
{
    struct db_stmt *s = stmt(f, S_CLOSE);
    db_bind_text(s, 1, number, -1);
    db_bind_int64(s, 2, at);
    db_bind_text(s, 3, outbound ? "callback" : "customer_called_again", -1);
    db_bind_text(s, 4, call_id, -1);
    db_bind_text(s, 5, op, -1);
    return done(f, s, err);
}

/* A miss: the entry of (number, line) opened or added to. */
static int miss(struct followup *f, const char *number, const char *line, int64_t at,
                const char *reason, bool after_hours, int64_t *attempts, struct es_err *err)
{
    struct db_stmt *s = stmt(f, S_OPEN_GET);
    db_bind_text(s, 1, number, -1);
    db_bind_text(s, 2, line, -1);
    int64_t id = 0;
    json_t *reasons = NULL;
    if (db_step(s) == DB_ROW) {
        id = db_column_int64(s, 0);
        reasons = json_loads((const char *)db_column_text(s, 1), 0, NULL);
        *attempts = db_column_int64(s, 2) + 1;
    } else {
        *attempts = 1;
    }
    db_reset(s);
    if (!json_is_object(reasons)) {
        json_decref(reasons);
        reasons = json_object();
    }
    const char *r = reason[0] ? reason : "missed";
    json_object_set_new(reasons, r,
                        json_integer(json_integer_value(json_object_get(reasons, r)) + 1));
    char *text = json_dumps(reasons, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(reasons);
    if (!text)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    s = stmt(f, id ? S_OPEN_ADD : S_OPEN_NEW);
    if (id) {
        db_bind_int64(s, 1, id);
        db_bind_int64(s, 2, at);
        db_bind_text_copy(s, 3, text, -1);
        db_bind_int(s, 4, after_hours);
    } else {
        db_bind_text(s, 1, number, -1);
        db_bind_text(s, 2, line, -1);
        db_bind_int64(s, 3, at);
        db_bind_text_copy(s, 4, text, -1);
        db_bind_int(s, 5, after_hours);
    }
    free(text);
    int rc = done(f, s, err);
    if (rc || !strcmp(number, "anonymous"))
        return rc;
    /* a callback catalogued before this miss (recordings can come late) */
    s = stmt(f, S_ANSWERED_AFTER);
    db_bind_text(s, 1, number, -1);
    db_bind_int64(s, 2, at);
    if (db_step(s) == DB_ROW) {
        int64_t t = db_column_int64(s, 0);
        bool outbound = db_column_int(s, 1) != 0;
        char cid[40], op[64];
        snprintf(cid, sizeof cid, "%s", (const char *)db_column_text(s, 2));
        snprintf(op, sizeof op, "%s", (const char *)db_column_text(s, 3));
        db_reset(s);
        return close_number(f, number, t, outbound, cid, op, err);
    }
    db_reset(s);
    return 0;
}

static int one_call(void *ud, const struct catalog_call_brief *b)
{
    struct sync_ctx *x = ud;
    struct followup *f = x->f;
    x->last_created = b->created_at;
    snprintf(x->last_id, sizeof x->last_id, "%s", b->id);
    x->n++;
    bool outbound = !strcmp(b->direction, "outbound");
    bool answered = !strcmp(b->disposition, "answered");
    if (strcmp(b->disposition, "answered") && strcmp(b->disposition, "missed"))
        return 0; /* rejected attempts are nobody's call to return */
    bool emit = x->o && b->started_at >= x->o->emit_after;
    bool ah = x->o && x->o->has_hours && !an_hours_open(&x->o->hours, b->started_at);
    if (answered && emit) {
        x->rc = fu_emit_call(f, "recording.ready", b, ah, 0, x->err);
        if (x->rc)
            return 1;
    }
    char number[40];
    if (!fu_party(outbound ? b->callee : b->caller, x->o ? x->o->country_code : NULL, number))
        return 0; /* between extensions */
    struct db_stmt *s = stmt(f, S_FU_CALL);
    db_bind_text(s, 1, number, -1);
    db_bind_int64(s, 2, b->started_at);
    db_bind_int(s, 3, outbound);
    db_bind_int(s, 4, answered);
    db_bind_text(s, 5, b->id, -1);
    db_bind_text(s, 6, b->operator_, -1);
    x->rc = done(f, s, x->err);
    if (x->rc)
        return 1;
    if (answered) {
        x->rc = close_number(f, number, b->started_at, outbound, b->id, b->operator_, x->err);
    } else if (outbound) { /* we called back and nobody answered */
        s = stmt(f, S_OURS);
        db_bind_text(s, 1, number, -1);
        db_bind_int64(s, 2, b->started_at);
        x->rc = done(f, s, x->err);
    } else {
        const char *line = b->queue[0] ? b->queue : b->callee;
        int64_t attempts;
        x->rc = miss(f, number, line, b->started_at, b->reason, ah, &attempts, x->err);
        if (!x->rc && emit)
            x->rc = fu_emit_call(f, "call.missed", b, ah, attempts, x->err);
    }
    return x->rc ? 1 : 0;
}

#define FU_CALLS_KEEP_MS (14LL * 86400 * 1000)

static int read_position(struct followup *f, struct sync_ctx *x)
{
    struct db_stmt *s = stmt(f, S_POS_GET);
    x->last_created = 0;
    x->last_id[0] = '\0';
    if (db_step(s) == DB_ROW) {
        x->last_created = db_column_int64(s, 0);
        snprintf(x->last_id, sizeof x->last_id, "%s", (const char *)db_column_text(s, 1));
    }
    db_reset(s);
    return 0;
}

static int count_brief(void *ud, const struct catalog_call_brief *b)
{
    (void)b;
    (*(int64_t *)ud)++;
    return 0;
}

int followup_sync(struct followup *f, const struct followup_opts *o, int64_t *calls,
                  struct es_err *err)
{
    *calls = 0;
    struct sync_ctx x = {.f = f, .o = o, .err = err};
    /* nothing new since the position (a page view, usually): no write
     * transaction at all; a call catalogued meanwhile is read next time */
    read_position(f, &x);
    int64_t fresh = 0;
    if (catalog_calls_since(f->cat, x.last_created, x.last_id, 1, count_brief, &fresh) == 0 &&
        !fresh)
        return 0;
    for (;;) { /* batches of 1,000 calls, each with its position, in one transaction */
        bool outer;
        if (catalog_tx_begin(f->db, &outer))
            return es_seterr(err, ES_EDB, "catalog: cannot begin the follow-up's sync");
        read_position(f, &x); /* inside: two syncs at once never read a call twice */
        int64_t before = x.n;
        char from_id[40];
        snprintf(from_id, sizeof from_id, "%s", x.last_id);
        x.rc = 0;
        int rc = catalog_calls_since(f->cat, x.last_created, from_id, 1000, one_call, &x);
        if (rc)
            es_seterr(err, rc, "%s", catalog_strerror(f->cat, rc));
        else
            rc = x.rc;
        if (!rc && x.n > before) {
            struct db_stmt *s = stmt(f, S_POS_PUT);
            db_bind_int64(s, 1, x.last_created);
            db_bind_text(s, 2, x.last_id, -1);
            rc = done(f, s, err);
        }
        rc = catalog_tx_end(f->db, outer, rc);
        if (rc)
            return err->msg[0] ? rc : es_seterr(err, rc, "catalog: the follow-up's sync");
        if (x.n - before < 1000)
            break;
    }
    *calls = x.n;
    if (x.n) {
        struct db_stmt *s = stmt(f, S_FU_PRUNE);
        db_bind_int64(s, 1, es_now_ms() - FU_CALLS_KEEP_MS);
        return done(f, s, err);
    }
    return 0;
}

int followup_opts_from_config(const struct es_config *cfg, struct followup_opts *o,
                              struct es_err *err)
{
    memset(o, 0, sizeof *o);
    o->country_code = cfg ? es_config_get(cfg, "country_code") : NULL;
    o->emit_after = es_now_ms() - 3600 * 1000LL;
    const char *bh = cfg ? es_config_get(cfg, "business_hours") : NULL;
    if (bh) {
        int rc = an_hours_parse(bh, &o->hours, err);
        if (rc)
            return rc;
        o->has_hours = true;
    }
    return 0;
}
