/* The analytics tables in the catalog database, their migrations and
 * statements, and pbx_apply: one event into the tables. */
#include "analytics/analytics_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* migrations[i] takes the analytics tables from version i to i + 1. Append
 * only; never edit a released step. */
static const char *const migrations[] = {
    /* 1: files read so far, queue calls, agent events, CDR calls, agent mapping */
    "CREATE TABLE pbx_files ("
    "  identity TEXT PRIMARY KEY," /* format and SHA-256 of the first line */
    "  format TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  \"offset\" INTEGER NOT NULL,"
    "  lines INTEGER NOT NULL,"
    "  bad INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE queue_calls ("
    "  callid TEXT NOT NULL,"
    "  queue TEXT NOT NULL,"
    "  entered_at INTEGER NOT NULL,"
    "  caller TEXT NOT NULL DEFAULT '',"
    "  outcome TEXT NOT NULL DEFAULT 'waiting' CHECK (outcome IN"
    "    ('waiting','answered','abandoned','timeout','exit-key','exit-empty')),"
    "  agent TEXT NOT NULL DEFAULT '',"
    "  operator TEXT NOT NULL DEFAULT '',"
    "  connected_at INTEGER,"
    "  ended_at INTEGER,"
    "  hold_s INTEGER,"
    "  ring_s INTEGER,"
    "  talk_s INTEGER,"
    "  wait_s INTEGER,"
    "  completed INTEGER NOT NULL DEFAULT 0,"
    "  transferred INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (callid, queue)"
    ") STRICT;"
    /* the call report reads this index alone, in time order */
    "CREATE INDEX queue_calls_entered ON queue_calls(entered_at, queue, outcome, hold_s, talk_s,"
    " wait_s, completed, caller, operator);"
    /* covering the talk-time totals per operator: no row read, nothing sorted */
    "CREATE INDEX queue_calls_connected ON queue_calls(operator, connected_at, talk_s)"
    " WHERE outcome = 'answered';"
    /* kept in the order presence walks them: each operator's, by time, and
     * in the order they were written (seq) within a second */
    "CREATE TABLE agent_events ("
    "  operator TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  agent TEXT NOT NULL,"
    "  queue TEXT NOT NULL DEFAULT '',"
    "  kind TEXT NOT NULL CHECK (kind IN"
    "    ('login','logoff','member-add','member-remove','pause','unpause','ringnoanswer')),"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (operator, at, seq)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE cdr_calls ("
    "  uniqueid TEXT PRIMARY KEY,"
    "  started_at INTEGER NOT NULL,"
    "  answered_at INTEGER,"
    "  ended_at INTEGER,"
    "  src TEXT NOT NULL DEFAULT '',"
    "  dst TEXT NOT NULL DEFAULT '',"
    "  disposition TEXT NOT NULL,"
    "  billsec INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "CREATE INDEX cdr_calls_started ON cdr_calls(started_at);"
    "CREATE TABLE operator_map ("
    "  agent TEXT PRIMARY KEY,"
    "  operator TEXT NOT NULL"
    ") STRICT;",

    /* 2: queue calls joined to the catalog's calls (1), or given up on (2) */
    "ALTER TABLE queue_calls ADD COLUMN joined INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX queue_calls_unjoined ON queue_calls(ended_at) WHERE joined = 0;",

    /* 3: the customer directory: numbers in E.164, segment, account manager */
    "CREATE TABLE customers ("
    "  number TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL DEFAULT '',"
    "  segment TEXT NOT NULL CHECK (segment IN ('b2b','b2c')),"
    "  account_manager TEXT NOT NULL DEFAULT ''"
    ") STRICT;",
};

static const char *const sql[AN_COUNT] = {
    [AN_FILE_GET] = "SELECT \"offset\", lines FROM pbx_files WHERE identity = ?1",
    [AN_FILE_PUT] =
        "INSERT INTO pbx_files(identity, format, path, \"offset\", lines, bad, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (identity) DO UPDATE SET"
        " path = excluded.path, \"offset\" = excluded.\"offset\", lines = excluded.lines,"
        " bad = pbx_files.bad + excluded.bad, updated_at = excluded.updated_at",
    [AN_QC_ENTER] = "INSERT INTO queue_calls(callid, queue, entered_at, caller)"
                    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (callid, queue) DO NOTHING",
    [AN_QC_CONNECT] = "UPDATE queue_calls SET outcome = 'answered', agent = ?3, operator = ?4,"
                      " connected_at = ?5, hold_s = ?6, ring_s = ?7"
                      " WHERE callid = ?1 AND queue = ?2",
    [AN_QC_END] = "UPDATE queue_calls SET ended_at = ?3, talk_s = ?4,"
                  " hold_s = coalesce(hold_s, ?5), completed = 1, transferred = ?6"
                  " WHERE callid = ?1 AND queue = ?2",
    [AN_QC_MISS] = "UPDATE queue_calls SET outcome = ?3, wait_s = ?4, ended_at = ?5"
                   " WHERE callid = ?1 AND queue = ?2 AND outcome = 'waiting'",
    /* an event of a call whose entry this file did not hold (it began earlier) */
    [AN_QC_ADD] = "INSERT INTO queue_calls(callid, queue, entered_at) VALUES (?1, ?2, ?3)"
                  " ON CONFLICT (callid, queue) DO NOTHING",
    [AN_AGENT_EVENT] = "INSERT INTO agent_events(at, agent, operator, queue, kind, reason, seq)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [AN_CDR] = "INSERT INTO cdr_calls(uniqueid, started_at, answered_at, ended_at, src, dst,"
               " disposition, billsec) VALUES (?1, ?2, nullif(?3, 0), nullif(?4, 0), ?5, ?6, ?7,"
               " ?8) ON CONFLICT (uniqueid) DO UPDATE SET answered_at = excluded.answered_at,"
               " ended_at = excluded.ended_at, disposition = excluded.disposition,"
               " billsec = excluded.billsec",
    [AN_MAP_GET] = "SELECT operator FROM operator_map WHERE agent = ?1",
    [AN_MAP_PUT] = "INSERT INTO operator_map(agent, operator) VALUES (?1, ?2)"
                   " ON CONFLICT (agent) DO UPDATE SET operator = excluded.operator",
    [AN_CALLS] = "SELECT entered_at, outcome, coalesce(hold_s, 0), coalesce(talk_s, 0),"
                 " coalesce(wait_s, 0), completed, caller, operator FROM queue_calls"
                 " WHERE entered_at >= ?1 AND entered_at < ?2 AND (?3 IS NULL OR queue = ?3)"
                 " ORDER BY entered_at",
    /* calls the CDR knows that no queue saw */
    [AN_CDR_CALLS] = "SELECT c.started_at, c.disposition, c.billsec, c.src FROM cdr_calls c"
                     " WHERE c.started_at >= ?1 AND c.started_at < ?2"
                     " AND NOT EXISTS (SELECT 1 FROM queue_calls q WHERE q.callid = c.uniqueid)"
                     " ORDER BY c.started_at",
    [AN_AGENT_EVENTS] = "SELECT at, operator, queue, kind, reason FROM agent_events"
                        " WHERE at >= ?1 AND at < ?2 AND (?3 IS NULL OR operator = ?3)"
                        " ORDER BY operator, at, seq",
    /* calls not joined yet that ended before ?1, after the cursor (?2, ?3) */
    [AN_JOIN_PENDING] = "SELECT ended_at, callid FROM queue_calls WHERE joined = 0"
                        " AND outcome != 'waiting' AND ended_at < ?1"
                        " AND (ended_at > ?2 OR (ended_at = ?2 AND callid > ?3))"
                        " ORDER BY ended_at, callid LIMIT 500",
    [AN_JOIN_ROWS] = "SELECT queue, entered_at, caller, outcome, operator, coalesce(hold_s, -1),"
                     " coalesce(wait_s, -1), coalesce(ended_at, entered_at), joined"
                     " FROM queue_calls WHERE callid = ?1 ORDER BY entered_at",
    [AN_JOIN_MARK] = "UPDATE queue_calls SET joined = ?2 WHERE callid = ?1",
    [AN_CALL_SEGMENTS] = "SELECT operator, connected_at, coalesce(talk_s, 0) FROM queue_calls"
                         " WHERE outcome = 'answered' AND connected_at >= ?1 AND connected_at < ?2"
                         " AND operator != '' AND (?3 IS NULL OR operator = ?3)"
                         " ORDER BY operator, connected_at",
    [AN_CUSTOMER_PUT] = "INSERT INTO customers(number, name, segment, account_manager)"
                        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (number) DO UPDATE SET"
                        " name = excluded.name, segment = excluded.segment,"
                        " account_manager = excluded.account_manager",
    [AN_CUSTOMERS] = "SELECT number, segment, account_manager FROM customers",
    [AN_CUSTOMER_GET] = "SELECT name, segment FROM customers WHERE number = ?1",
    /* AN_CUSTOMERS_BATCH parameters, unused ones NULL (never equal) */
    [AN_CUSTOMERS_OF] =
        "SELECT number, name, segment FROM customers WHERE number IN (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
        " ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25,"
        " ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42,"
        " ?43, ?44, ?45, ?46, ?47, ?48, ?49, ?50, ?51, ?52, ?53, ?54, ?55, ?56, ?57, ?58, ?59,"
        " ?60, ?61, ?62, ?63, ?64)",
    [AN_OPERATOR_QUEUES] = "SELECT queue FROM agent_events WHERE operator = ?1 AND at >= ?2"
                           " AND queue != '' UNION SELECT queue FROM queue_calls"
                           " WHERE operator = ?1 AND entered_at >= ?2 ORDER BY 1",
    [AN_QC_PUT] = "INSERT INTO queue_calls(callid, queue, entered_at, caller, outcome, agent,"
                  " operator, connected_at, ended_at, hold_s, ring_s, talk_s, wait_s, completed,"
                  " transferred) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
                  " ?14, ?15) ON CONFLICT (callid, queue) DO UPDATE SET"
                  " outcome = excluded.outcome, agent = excluded.agent,"
                  " operator = excluded.operator, connected_at = excluded.connected_at,"
                  " ended_at = excluded.ended_at, hold_s = excluded.hold_s,"
                  " ring_s = excluded.ring_s, talk_s = excluded.talk_s,"
                  " wait_s = excluded.wait_s, completed = excluded.completed,"
                  " transferred = excluded.transferred",
    [AN_QUEUES] = "SELECT DISTINCT queue FROM queue_calls WHERE entered_at >= ?1"
                  " AND entered_at < ?2 ORDER BY queue",
    [AN_TALK] = "SELECT operator, count(*), coalesce(sum(talk_s), 0) FROM queue_calls"
                " WHERE outcome = 'answered' AND connected_at >= ?1 AND connected_at < ?2"
                " AND operator != '' GROUP BY operator",
};

const char *const analytics_missed_reasons[MISSED_REASONS] = {
    "abandoned", "timeout", "exit-key", "exit-empty",  "no-answer",
    "busy",      "failed",  "declined", "unavailable",
};

int analytics_open(struct catalog *c, struct analytics **out, struct es_err *err)
{
    *out = NULL;
    int rc = catalog_migrate_module(c, "analytics", migrations, NULL, (int)ES_ARRAY_LEN(migrations),
                                    err);
    if (rc)
        return rc;
    struct analytics *a = calloc(1, sizeof *a);
    if (!a)
        return ES_ENOMEM;
    a->db = catalog_db(c);
    a->cat = c;
    for (int i = 0; i < AN_COUNT; i++)
        if (db_prepare(a->db, sql[i], &a->st[i]) != 0) {
            rc = es_seterr(err, ES_EDB, "catalog: preparing analytics statement %d: %s", i,
                           db_errmsg(a->db));
            analytics_close(a);
            return rc;
        }
    *out = a;
    return 0;
}

void analytics_close(struct analytics *a)
{
    if (!a)
        return;
    an_open_free(a->open);
    for (int i = 0; i < AN_COUNT; i++)
        db_finalize(a->st[i]);
    free(a);
}

struct db_stmt *an_stmt(struct analytics *a, enum an_stmt which)
{
    struct db_stmt *s = a->st[which];
    db_reset(s);
    db_clear_bindings(s);
    return s;
}

int an_step_done(struct analytics *a, struct db_stmt *st, const char *what, struct es_err *err)
{
    int rc = db_step(st);
    db_reset(st);
    if (rc == DB_DONE)
        return 0;
    return es_seterr(err, ES_EDB, "catalog: %s: %s", what, db_errmsg(a->db));
}

/* The slices live until the statement has run (the callers step it at once). */
static void bind_str(struct db_stmt *st, int i, struct es_str s)
{
    db_bind_text(st, i, s.p ? s.p : "", (int)s.len);
}

int pbx_disposition(struct es_str d)
{
    static const struct {
        const char *name;
        int reason;
    } map[] = {
        {"ANSWERED", DISPOSITION_ANSWERED},
        {"answered", DISPOSITION_ANSWERED},
        {"NO ANSWER", 4},
        {"no-answer", 4},
        {"BUSY", 5},
        {"busy", 5},
        {"FAILED", 6},
        {"failed", 6},
        {"CONGESTION", 6},
        {"congestion", 6},
        {"declined", 7},
        {"unavailable", 8},
    };
    for (size_t i = 0; i < ES_ARRAY_LEN(map); i++)
        if (d.len == strlen(map[i].name) && !memcmp(d.p, map[i].name, d.len))
            return map[i].reason;
    return -2;
}

void pbx_agent_operator(const char *agent, size_t len, char *out, size_t outlen)
{
    pbx_agent_operator_digits(agent, len, out, outlen);
}

/* The mapping first, then the extension in the name. */
/* The mapping first, then the extension in the name; remembered for the
 * rest of the import (a queue_log names the same few agents a million times). */
static void operator_of(struct analytics *a, struct es_str agent, char *out, size_t outlen)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < agent.len; i++)
        h = (h ^ (uint8_t)agent.p[i]) * 16777619u;
    struct an_agent_memo *m = &a->memo[h % AN_MEMO];
    if (m->used && m->len == agent.len && !memcmp(m->agent, agent.p, agent.len)) {
        snprintf(out, outlen, "%s", m->op);
        return;
    }
    struct db_stmt *st = an_stmt(a, AN_MAP_GET);
    bind_str(st, 1, agent);
    if (db_step(st) == DB_ROW)
        snprintf(out, outlen, "%s", (const char *)db_column_text(st, 0));
    else
        pbx_agent_operator_digits(agent.p, agent.len, out, outlen);
    db_reset(st);
    if (agent.len < sizeof m->agent) {
        m->used = true;
        m->len = agent.len;
        if (agent.len)
            memcpy(m->agent, agent.p, agent.len);
        snprintf(m->op, sizeof m->op, "%s", out);
    }
}

void an_memo_clear(struct analytics *a)
{
    memset(a->memo, 0, sizeof a->memo);
}

int analytics_map_agent(struct analytics *a, const char *agent, const char *operator_,
                        struct es_err *err)
{
    struct db_stmt *st = an_stmt(a, AN_MAP_PUT);
    db_bind_text(st, 1, agent, -1);
    db_bind_text(st, 2, operator_, -1);
    an_memo_clear(a);
    return an_step_done(a, st, "map agent", err);
}

/* The call's row, made from this event if its entry was before this file. */
static int ensure_call(struct analytics *a, const struct pbx_event *ev, int64_t entered,
                       struct es_err *err)
{
    struct db_stmt *st = an_stmt(a, AN_QC_ADD);
    bind_str(st, 1, ev->call);
    bind_str(st, 2, ev->queue);
    db_bind_int64(st, 3, entered);
    return an_step_done(a, st, "queue call", err);
}

static int agent_event(struct analytics *a, const struct pbx_event *ev, const char *kind,
                       struct es_err *err)
{
    char op[64];
    operator_of(a, ev->agent, op, sizeof op);
    struct db_stmt *st = an_stmt(a, AN_AGENT_EVENT);
    db_bind_int64(st, 1, ev->at);
    bind_str(st, 2, ev->agent);
    db_bind_text(st, 3, op, -1);
    bind_str(st, 4, ev->queue);
    db_bind_text(st, 5, kind, -1);
    bind_str(st, 6, ev->reason);
    /* increasing across imports: the import's start, then its events in order */
    if (!a->seq)
        a->seq = es_now_ms() * 4096;
    db_bind_int64(st, 7, a->seq++);
    return an_step_done(a, st, "agent event", err);
}

int pbx_apply(struct analytics *a, const struct pbx_event *ev, struct es_err *err)
{
    struct db_stmt *st;
    int rc = 0;
    if (a->importing && ev->kind >= PBX_ENTER && ev->kind <= PBX_EXIT_EMPTY) {
        char op[64] = "";
        if (ev->kind == PBX_CONNECT)
            operator_of(a, ev->agent, op, sizeof op);
        bool done;
        rc = an_open_apply(a, ev, op, &done, err);
        if (rc || done)
            return rc;
    }
    switch (ev->kind) {
    case PBX_NONE:
        return 0;
    case PBX_ENTER:
        st = an_stmt(a, AN_QC_ENTER);
        bind_str(st, 1, ev->call);
        bind_str(st, 2, ev->queue);
        db_bind_int64(st, 3, ev->at);
        bind_str(st, 4, ev->caller);
        return an_step_done(a, st, "queue call", err);
    case PBX_CONNECT: {
        char op[64];
        operator_of(a, ev->agent, op, sizeof op);
        /* the call's row is there but when its entry came before this file */
        for (int pass = 0; pass < 2 && !rc; pass++) {
            if (pass)
                rc = ensure_call(a, ev, ev->at - (int64_t)ev->hold_s * 1000, err);
            st = an_stmt(a, AN_QC_CONNECT);
            bind_str(st, 1, ev->call);
            bind_str(st, 2, ev->queue);
            bind_str(st, 3, ev->agent);
            db_bind_text(st, 4, op, -1);
            db_bind_int64(st, 5, ev->at);
            db_bind_int(st, 6, ev->hold_s);
            db_bind_int(st, 7, ev->ring_s);
            if (!rc)
                rc = an_step_done(a, st, "queue call", err);
            if (!rc && db_changes(a->db))
                break;
        }
        return rc;
    }
    case PBX_COMPLETE:
    case PBX_TRANSFER:
        st = an_stmt(a, AN_QC_END);
        bind_str(st, 1, ev->call);
        bind_str(st, 2, ev->queue);
        db_bind_int64(st, 3, ev->at);
        db_bind_int(st, 4, ev->talk_s);
        db_bind_int(st, 5, ev->hold_s);
        db_bind_int(st, 6, ev->kind == PBX_TRANSFER);
        return an_step_done(a, st, "queue call", err);
    case PBX_ABANDON:
    case PBX_TIMEOUT:
    case PBX_EXIT_KEY:
    case PBX_EXIT_EMPTY: {
        for (int pass = 0; pass < 2 && !rc; pass++) {
            if (pass)
                rc = ensure_call(a, ev, ev->at - (int64_t)ev->wait_s * 1000, err);
            st = an_stmt(a, AN_QC_MISS);
            bind_str(st, 1, ev->call);
            bind_str(st, 2, ev->queue);
            db_bind_text(st, 3,
                         analytics_missed_reasons[ev->kind == PBX_ABANDON    ? 0
                                                  : ev->kind == PBX_TIMEOUT  ? 1
                                                  : ev->kind == PBX_EXIT_KEY ? 2
                                                                             : 3],
                         -1);
            db_bind_int(st, 4, ev->wait_s);
            db_bind_int64(st, 5, ev->at);
            if (!rc)
                rc = an_step_done(a, st, "queue call", err);
            if (!rc && db_changes(a->db))
                break;
        }
        return rc;
    }
    case PBX_RING_NOANSWER:
        return agent_event(a, ev, "ringnoanswer", err);
    case PBX_LOGIN:
        return agent_event(a, ev, ev->member ? "member-add" : "login", err);
    case PBX_LOGOFF:
        return agent_event(a, ev, ev->member ? "member-remove" : "logoff", err);
    case PBX_PAUSE:
        return agent_event(a, ev, "pause", err);
    case PBX_UNPAUSE:
        return agent_event(a, ev, "unpause", err);
    case PBX_CDR:
        st = an_stmt(a, AN_CDR);
        bind_str(st, 1, ev->call);
        db_bind_int64(st, 2, ev->at);
        db_bind_int64(st, 3, ev->answered_at);
        db_bind_int64(st, 4, ev->ended_at);
        bind_str(st, 5, ev->caller);
        bind_str(st, 6, ev->callee);
        bind_str(st, 7, ev->reason);
        db_bind_int(st, 8, ev->talk_s);
        return an_step_done(a, st, "cdr call", err);
    }
    return 0;
}

/* ---- local time ------------------------------------------------------------------ */

/* The zone's offset from UTC, asked of the C library once per quarter hour
 * of UTC and remembered: a year's report buckets hundreds of thousands of
 * calls, and zones change their offset only on whole quarter hours. */
#define QUARTER_MS 900000LL
struct offset_memo {
    int64_t key; /* quarter hours since 1970, + 1 (0: empty) */
    int64_t off_ms;
};
static __thread struct offset_memo offsets[256];
static __thread long memo_tz_gen = -1;

static int64_t floordiv(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static int64_t offset_at(int64_t ms)
{
    if (memo_tz_gen != (long)timezone) { /* tzset() with another zone: forget */
        memset(offsets, 0, sizeof offsets);
        memo_tz_gen = (long)timezone;
    }
    int64_t q = floordiv(ms, QUARTER_MS);
    struct offset_memo *m = &offsets[(uint64_t)q & 255];
    if (m->key != q + 1) {
        time_t t = (time_t)(q * (QUARTER_MS / 1000));
        struct tm tm;
        localtime_r(&t, &tm);
        m->key = q + 1;
        m->off_ms = (int64_t)tm.tm_gmtoff * 1000;
    }
    return m->off_ms;
}

void an_local(int64_t ms, struct an_local *out)
{
    int64_t local = ms + offset_at(ms);
    struct es_tm tm;
    es_tm_from_ms(local, &tm);
    out->year = tm.year;
    out->mon = tm.mon;
    out->day = tm.day;
    out->hour = tm.hour;
    out->min = tm.min;
    int64_t days = floordiv(local, 86400000);
    out->weekday = (int)((days + 3) % 7 + 7) % 7 + 1; /* 1970-01-01 was a Thursday */
}

/* The UTC time of a local wall-clock time `local` (ms), given a guess of
 * the UTC time near it. */
static int64_t utc_of_local(int64_t local, int64_t near)
{
    int64_t t = local - offset_at(near);
    return local - offset_at(t); /* once more, in case the offset differs there */
}

static bool on_the_hour(int64_t t)
{
    int64_t local = t + offset_at(t);
    return local - floordiv(local, 3600000) * 3600000 == 0;
}

/* Offsets are whole quarter hours: the local hour begins on one of the
 * quarter hours of UTC around ms. */
int64_t an_hour_start(int64_t ms)
{
    int64_t t = floordiv(ms, QUARTER_MS) * QUARTER_MS;
    for (int i = 0; i < 8; i++, t -= QUARTER_MS)
        if (on_the_hour(t))
            return t;
    return ms;
}

int64_t an_day_start(int64_t ms)
{
    int64_t local = ms + offset_at(ms);
    return utc_of_local(floordiv(local, 86400000) * 86400000, ms);
}

int64_t an_next_hour(int64_t ms)
{
    int64_t t = (floordiv(ms, QUARTER_MS) + 1) * QUARTER_MS;
    for (int i = 0; i < 8; i++, t += QUARTER_MS)
        if (on_the_hour(t))
            return t;
    return ms + 3600000;
}

int64_t an_next_day(int64_t ms)
{
    int64_t local = ms + offset_at(ms);
    int64_t n = utc_of_local((floordiv(local, 86400000) + 1) * 86400000, ms + 86400000);
    return n > ms ? n : ms + 86400000;
}

/* ---- one call, one row ---------------------------------------------------------- */

#define JOIN_GIVE_UP_MS (24LL * 3600 * 1000)

struct pending {
    char callid[128], queue[128], caller[128], operator_[64], reason[16];
    int64_t started, ended, wait_ms;
    bool answered;
};

static int mark(struct analytics *a, const char *callid, int how, struct es_err *err)
{
    struct db_stmt *st = an_stmt(a, AN_JOIN_MARK);
    db_bind_text(st, 1, callid, -1);
    db_bind_int(st, 2, how);
    return an_step_done(a, st, "join", err);
}

static int join_one(struct analytics *a, const struct pending *p, int64_t before,
                    struct pbx_join_result *res, struct es_err *err)
{
    struct catalog_pbx_call c = {.external_id = p->callid,
                                 .caller = p->caller,
                                 .queue = p->queue,
                                 .operator_ = p->operator_,
                                 .source = "queue_log",
                                 .missed_reason = p->answered ? NULL : p->reason,
                                 .started_at = p->started,
                                 .ended_at = p->ended,
                                 .wait_ms = p->wait_ms};
    int r = catalog_join_pbx_call(a->cat, &c, err);
    if (r < 0)
        return r;
    if (r == 0 && before - p->ended < JOIN_GIVE_UP_MS) {
        res->waiting++;
        return 0;
    }
    res->joined += r == 1;
    res->created += r == 2;
    res->given_up += r == 0;
    return mark(a, p->callid, r ? 1 : 2, err);
}

/* All the queues a call went through: answered in one of them, or missed
 * with its last queue's reason. False when it is still in a queue, or
 * already joined. */
static bool whole_call(struct analytics *a, const char *callid, struct pending *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->callid, sizeof p->callid, "%s", callid);
    p->wait_ms = -1;
    struct db_stmt *st = an_stmt(a, AN_JOIN_ROWS);
    db_bind_text(st, 1, callid, -1);
    bool ok = true, any = false;
    while (ok && db_step(st) == DB_ROW) {
        const char *outcome = (const char *)db_column_text(st, 3);
        if (!strcmp(outcome, "waiting") || db_column_int(st, 8)) {
            ok = false;
            break;
        }
        if (!any) {
            p->started = db_column_int64(st, 1);
            snprintf(p->caller, sizeof p->caller, "%s", (const char *)db_column_text(st, 2));
            any = true;
        }
        bool answered = !strcmp(outcome, "answered");
        if (answered || !p->answered) {
            snprintf(p->queue, sizeof p->queue, "%s", (const char *)db_column_text(st, 0));
            snprintf(p->operator_, sizeof p->operator_, "%s", (const char *)db_column_text(st, 4));
            snprintf(p->reason, sizeof p->reason, "%s", outcome);
            int64_t w = db_column_int64(st, answered ? 5 : 6);
            p->wait_ms = w >= 0 ? w * 1000 : -1;
            p->answered = p->answered || answered;
        }
        p->ended = ES_MAX(p->ended, db_column_int64(st, 7));
    }
    db_reset(st);
    return ok && any;
}

int analytics_join(struct analytics *a, int64_t before, struct pbx_join_result *res,
                   struct es_err *err)
{
    memset(res, 0, sizeof *res);
    int64_t cur_at = INT64_MIN;
    char cur_id[128] = "";
    for (;;) {
        /* a batch of call ids first: the joins change the rows the query walks */
        char(*ids)[128] = malloc(500 * sizeof *ids);
        if (!ids)
            return es_seterr(err, ES_ENOMEM, "out of memory");
        size_t n = 0;
        struct db_stmt *st = an_stmt(a, AN_JOIN_PENDING);
        db_bind_int64(st, 1, before);
        db_bind_int64(st, 2, cur_at);
        db_bind_text_copy(st, 3, cur_id, -1);
        int step;
        while ((step = db_step(st)) == DB_ROW && n < 500) {
            cur_at = db_column_int64(st, 0);
            snprintf(cur_id, sizeof cur_id, "%s", (const char *)db_column_text(st, 1));
            memcpy(ids[n++], cur_id, sizeof cur_id);
        }
        db_reset(st);
        int rc = step == DB_ROW || step == DB_DONE
                     ? 0
                     : es_seterr(err, ES_EDB, "catalog: join: %s", db_errmsg(a->db));
        bool outer = false;
        if (!rc && n)
            rc = catalog_tx_begin(a->db, &outer) ? es_seterr(err, ES_EDB, "catalog: begin") : 0;
        for (size_t i = 0; i < n && !rc; i++) {
            struct pending p;
            if (whole_call(a, ids[i], &p))
                rc = join_one(a, &p, before, res, err);
        }
        if (n)
            rc = catalog_tx_end(a->db, outer, rc);
        free(ids);
        if (rc || n < 500)
            return rc;
    }
}

int analytics_customer(struct analytics *a, const char *e164, char name[128], char segment[8])
{
    name[0] = segment[0] = '\0';
    struct db_stmt *st = an_stmt(a, AN_CUSTOMER_GET);
    db_bind_text(st, 1, e164, -1);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        snprintf(name, 128, "%s", (const char *)db_column_text(st, 0));
        snprintf(segment, 8, "%s", (const char *)db_column_text(st, 1));
    }
    db_reset(st);
    return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : ES_EDB;
}

int analytics_customers_of(struct analytics *a, const char *const *numbers, size_t n,
                           void (*cb)(void *ud, size_t i, const char *name, const char *segment),
                           void *ud)
{
    if (n > AN_CUSTOMERS_BATCH)
        return ES_EINVAL;
    struct db_stmt *st = an_stmt(a, AN_CUSTOMERS_OF);
    size_t bound = 0;
    for (size_t i = 0; i < n; i++)
        if (numbers[i])
            db_bind_text(st, (int)++bound, numbers[i], -1);
    if (!bound) {
        db_reset(st);
        return 0;
    }
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *num = db_column_text(st, 0);
        for (size_t i = 0; num && i < n; i++) /* a number may stand in several entries */
            if (numbers[i] && !strcmp(numbers[i], num))
                cb(ud, i, db_column_text(st, 1), db_column_text(st, 2));
    }
    db_reset(st);
    return rc == DB_DONE ? 0 : ES_EDB;
}

int analytics_operator_queues(struct analytics *a, const char *operator_, int64_t since,
                              char (*names)[64], size_t max, size_t *n, struct es_err *err)
{
    *n = 0;
    struct db_stmt *st = an_stmt(a, AN_OPERATOR_QUEUES);
    db_bind_text(st, 1, operator_, -1);
    db_bind_int64(st, 2, since);
    int rc;
    while ((rc = db_step(st)) == DB_ROW && *n < max)
        snprintf(names[(*n)++], 64, "%s", (const char *)db_column_text(st, 0));
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE
               ? 0
               : es_seterr(err, ES_EDB, "catalog: an operator's queues: %s", db_errmsg(a->db));
}
