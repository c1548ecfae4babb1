/* Operator presence from the agent events: logged in is the union of
 * AGENTLOGIN..AGENTLOGOFF and, per queue, ADDMEMBER..REMOVEMEMBER; paused is
 * a pause while logged in, by reason; both clipped to the window, an interval
 * still open at its end cut there. The state at the window's start comes
 * from the events of the LOOKBACK before it. A logoff that ends nothing is
 * counted, not guessed at. */
#include "analytics/analytics_int.h"

#include <stdlib.h>
#include <string.h>

#define LOOKBACK_MS (7LL * 24 * 3600 * 1000)
#define MAX_QUEUES  32

struct agent_state {
    char operator_[64];
    bool agent_login;
    int nqueues;
    char queues[MAX_QUEUES][64]; /* queues it is a member of */
    bool paused;
    char pause_reason[48];
    int64_t since; /* of the current state */
};

static bool logged_in(const struct agent_state *s)
{
    return s->agent_login || s->nqueues > 0;
}

/* The time in [a, b) that falls in the window. */
static int64_t clip(int64_t a, int64_t b, int64_t from, int64_t to)
{
    a = ES_MAX(a, from);
    b = ES_MIN(b, to);
    return b > a ? b - a : 0;
}

static void add_pause(struct an_presence *p, const char *reason, int64_t ms)
{
    if (!ms)
        return;
    const char *r = reason[0] ? reason : "(none)";
    int i = 0;
    while (i < p->npauses && strcmp(p->pauses[i].reason, r))
        i++;
    if (i == p->npauses) {
        if (p->npauses == PAUSE_REASONS) {
            i = PAUSE_REASONS - 1; /* the last slot gathers the rest */
            snprintf(p->pauses[i].reason, sizeof p->pauses[i].reason, "other");
        } else {
            snprintf(p->pauses[i].reason, sizeof p->pauses[i].reason, "%s", r);
            p->npauses++;
        }
    }
    p->pauses[i].seconds += ms;
}

/* Where segments go, for the timeline. */
struct seg_sink {
    int (*cb)(void *ud, const struct an_segment *);
    void *ud;
};
static __thread struct seg_sink *sink;

/* The state held from s->since to t: into the row's totals, and (if asked)
 * available seconds into weekday-hour buckets and segments into the sink. */
static void hold_until(struct agent_state *s, int64_t t, int64_t from, int64_t to,
                       struct an_presence *p, double *avail)
{
    if (t <= s->since)
        return;
    if (logged_in(s)) {
        int64_t in = clip(s->since, t, from, to);
        if (sink && in) {
            struct an_segment g = {.operator_ = s->operator_,
                                   .from = ES_MAX(s->since, from),
                                   .to = ES_MIN(t, to),
                                   .state = s->paused ? "paused" : "in",
                                   .reason = s->paused ? s->pause_reason : ""};
            sink->cb(sink->ud, &g);
        }
        p->logged_in_s += in;
        if (s->paused) {
            p->paused_s += in;
            add_pause(p, s->pause_reason, in);
        } else if (avail && in) {
            for (int64_t a = ES_MAX(s->since, from), end = ES_MIN(t, to); a < end;) {
                int64_t next = ES_MIN(an_next_hour(a), end);
                struct an_local l;
                an_local(a, &l);
                avail[(l.weekday - 1) * 24 + l.hour] += (double)(next - a) / 1000.0;
                a = next;
            }
        }
    }
    s->since = t;
}

static void on_event(struct agent_state *s, const char *kind, const char *queue, const char *reason,
                     int64_t at, int64_t from, int64_t to, struct an_presence *p, double *avail)
{
    bool was_in = logged_in(s);
    hold_until(s, at, from, to, p, avail);
    bool in_window = at >= from && at < to;
    if (!strcmp(kind, "login")) {
        s->agent_login = true;
    } else if (!strcmp(kind, "logoff")) {
        if (!s->agent_login && in_window)
            p->unmatched_logoffs++;
        s->agent_login = false;
    } else if (!strcmp(kind, "member-add")) {
        int i = 0;
        while (i < s->nqueues && strcmp(s->queues[i], queue))
            i++;
        if (i == s->nqueues && s->nqueues < MAX_QUEUES)
            snprintf(s->queues[s->nqueues++], sizeof s->queues[0], "%s", queue);
    } else if (!strcmp(kind, "member-remove")) {
        int i = 0;
        while (i < s->nqueues && strcmp(s->queues[i], queue))
            i++;
        if (i == s->nqueues) {
            if (in_window)
                p->unmatched_logoffs++;
        } else {
            memmove(s->queues[i], s->queues[i + 1], (size_t)(s->nqueues - i - 1) * 64);
            s->nqueues--;
        }
    } else if (!strcmp(kind, "pause")) {
        s->paused = true;
        snprintf(s->pause_reason, sizeof s->pause_reason, "%s", reason);
    } else if (!strcmp(kind, "unpause")) {
        s->paused = false;
    } else if (!strcmp(kind, "ringnoanswer")) {
        p->ring_no_answer += in_window;
    }
    if (!logged_in(s))
        s->paused = false; /* a pause ends with the session */
    if (!was_in && logged_in(s) && in_window)
        p->sessions++;
}

static struct an_presence *row_for(struct an_presence **rows, size_t *n, size_t *cap,
                                   const char *op)
{
    for (size_t i = *n; i-- > 0;)
        if (!strcmp((*rows)[i].operator_, op))
            return &(*rows)[i];
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct an_presence *g = realloc(*rows, nc * sizeof *g);
        if (!g)
            return NULL;
        *rows = g;
        *cap = nc;
    }
    struct an_presence *r = &(*rows)[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->operator_, sizeof r->operator_, "%s", op);
    r->occupancy = -1;
    return r;
}

/* Walks every operator's events; rows (may be NULL) and avail (may be NULL). */
static int walk(struct analytics *a, int64_t from, int64_t to, const char *only,
                struct an_presence **rows, size_t *nrows, double *avail, struct es_err *err)
{
    size_t cap = 0;
    struct an_presence scratch;
    struct agent_state s;
    memset(&s, 0, sizeof s);
    struct an_presence *p = NULL;
    struct db_stmt *st = an_stmt(a, AN_AGENT_EVENTS);
    db_bind_int64(st, 1, from - LOOKBACK_MS);
    db_bind_int64(st, 2, to);
    if (only)
        db_bind_text(st, 3, only, -1);
    int step, rc = 0;
    while ((step = db_step(st)) == DB_ROW) {
        int64_t at = db_column_int64(st, 0);
        const char *op = (const char *)db_column_text(st, 1);
        if (!p || strcmp(s.operator_, op)) {
            if (p)
                hold_until(&s, to, from, to, p, avail); /* open at the end: cut there */
            memset(&s, 0, sizeof s);
            snprintf(s.operator_, sizeof s.operator_, "%s", op);
            s.since = at;
            p = rows ? row_for(rows, nrows, &cap, op) : &scratch;
            if (!p) {
                rc = es_seterr(err, ES_ENOMEM, "out of memory");
                break;
            }
            if (!rows)
                memset(&scratch, 0, sizeof scratch);
        }
        on_event(&s, (const char *)db_column_text(st, 3), (const char *)db_column_text(st, 2),
                 (const char *)db_column_text(st, 4), at, from, to, p, avail);
    }
    if (p && !rc)
        hold_until(&s, to, from, to, p, avail);
    db_reset(st);
    if (!rc && step != DB_DONE)
        rc = es_seterr(err, ES_EDB, "catalog: agent events: %s", db_errmsg(a->db));
    return rc;
}

int analytics_presence(struct analytics *a, int64_t from, int64_t to, const char *operator_,
                       struct an_presence **rows, size_t *nrows, struct es_err *err)
{
    *rows = NULL;
    *nrows = 0;
    int rc = walk(a, from, to, operator_, rows, nrows, NULL, err);
    /* calls answered and talk time, from the queues' calls */
    struct db_stmt *st = an_stmt(a, AN_TALK);
    db_bind_int64(st, 1, from);
    db_bind_int64(st, 2, to);
    size_t cap = *nrows;
    while (!rc && db_step(st) == DB_ROW) {
        const char *op = (const char *)db_column_text(st, 0);
        if (operator_ && strcmp(op, operator_))
            continue;
        struct an_presence *p = row_for(rows, nrows, &cap, op);
        if (!p) {
            rc = es_seterr(err, ES_ENOMEM, "out of memory");
            break;
        }
        p->answered = db_column_int64(st, 1);
        p->talk_s = db_column_int64(st, 2) * 1000; /* ms until the end */
    }
    db_reset(st);
    for (size_t i = 0; i < *nrows && !rc; i++) {
        struct an_presence *p = &(*rows)[i];
        p->logged_in_s /= 1000;
        p->paused_s /= 1000;
        p->talk_s /= 1000;
        for (int k = 0; k < p->npauses; k++)
            p->pauses[k].seconds /= 1000;
        int64_t avail = p->logged_in_s - p->paused_s;
        p->occupancy = avail > 0 ? (double)p->talk_s / (double)avail : -1;
    }
    if (rc) {
        free(*rows);
        *rows = NULL;
        *nrows = 0;
    }
    return rc;
}

int analytics_available(struct analytics *a, int64_t from, int64_t to, double avail_s[168],
                        struct es_err *err)
{
    memset(avail_s, 0, 168 * sizeof *avail_s);
    return walk(a, from, to, NULL, NULL, NULL, avail_s, err);
}

int analytics_timeline(struct analytics *a, int64_t from, int64_t to, const char *operator_,
                       int (*cb)(void *ud, const struct an_segment *), void *ud, struct es_err *err)
{
    struct seg_sink k = {cb, ud};
    sink = &k;
    int rc = walk(a, from, to, operator_, NULL, NULL, NULL, err);
    sink = NULL;
    if (rc)
        return rc;
    struct db_stmt *st = an_stmt(a, AN_CALL_SEGMENTS);
    db_bind_int64(st, 1, from);
    db_bind_int64(st, 2, to);
    if (operator_)
        db_bind_text(st, 3, operator_, -1);
    int step;
    while ((step = db_step(st)) == DB_ROW) {
        int64_t at = db_column_int64(st, 1);
        struct an_segment g = {.operator_ = (const char *)db_column_text(st, 0),
                               .from = at,
                               .to = ES_MIN(at + db_column_int64(st, 2) * 1000, to),
                               .state = "call",
                               .reason = ""};
        cb(ud, &g);
    }
    db_reset(st);
    return step == DB_DONE ? 0 : es_seterr(err, ES_EDB, "catalog: calls: %s", db_errmsg(a->db));
}

int analytics_queues(struct analytics *a, int64_t from, int64_t to, char (*names)[64], size_t max,
                     size_t *n, struct es_err *err)
{
    *n = 0;
    struct db_stmt *st = an_stmt(a, AN_QUEUES);
    db_bind_int64(st, 1, from);
    db_bind_int64(st, 2, to);
    int step;
    while ((step = db_step(st)) == DB_ROW && *n < max)
        snprintf(names[(*n)++], 64, "%s", (const char *)db_column_text(st, 0));
    db_reset(st);
    return step == DB_DONE || step == DB_ROW
               ? 0
               : es_seterr(err, ES_EDB, "catalog: queues: %s", db_errmsg(a->db));
}
