/* Calls still in progress during an import, kept in memory: a queue call's
 * ENTERQUEUE, CONNECT and COMPLETE lines become one row written once, when
 * the call ends, instead of an insert and two updates. Whatever is still open
 * is written out with every commit of the import (its offset and the tables
 * always agree) and at its end; a call whose entry came in an earlier import
 * is not here and goes the SQL way (pbx_apply). */
#include "analytics/analytics_int.h"

#include <stdlib.h>
#include <string.h>

#define OPEN_SLOTS 8192 /* a power of two; more calls in progress than that go the SQL way */

struct open_call {
    bool used;
    char callid[96], queue[64], caller[64], agent[96], operator_[64];
    char outcome[16];
    int64_t entered_at, connected_at, ended_at; /* 0: none */
    int hold_s, ring_s, talk_s, wait_s;         /* -1: none */
    bool completed, transferred;
};

struct an_open {
    struct open_call slot[OPEN_SLOTS];
    size_t n;
};

int an_open_new(struct an_open **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : ES_ENOMEM;
}

void an_open_free(struct an_open *o)
{
    free(o);
}

static uint32_t key_hash(struct es_str call, struct es_str queue)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < call.len; i++)
        h = (h ^ (uint8_t)call.p[i]) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (size_t i = 0; i < queue.len; i++)
        h = (h ^ (uint8_t)queue.p[i]) * 16777619u;
    return h;
}

static bool same(const struct open_call *c, struct es_str call, struct es_str queue)
{
    return strlen(c->callid) == call.len && !memcmp(c->callid, call.p, call.len) &&
           strlen(c->queue) == queue.len && !memcmp(c->queue, queue.p, queue.len);
}

/* The slot of (call, queue), or NULL; with `make`, a free one for it. Linear
 * probing; a removed slot is filled again from the probe chain's end, so
 * chains never break. */
static struct open_call *find(struct an_open *o, struct es_str call, struct es_str queue, bool make)
{
    uint32_t mask = OPEN_SLOTS - 1, i = key_hash(call, queue) & mask;
    for (uint32_t p = 0; p < OPEN_SLOTS; p++, i = (i + 1) & mask) {
        struct open_call *c = &o->slot[i];
        if (!c->used) {
            if (!make || o->n >= OPEN_SLOTS / 2 || call.len >= sizeof c->callid ||
                queue.len >= sizeof c->queue)
                return NULL;
            memset(c, 0, sizeof *c);
            c->used = true;
            memcpy(c->callid, call.p, call.len);
            memcpy(c->queue, queue.p, queue.len);
            c->hold_s = c->ring_s = c->talk_s = c->wait_s = -1;
            snprintf(c->outcome, sizeof c->outcome, "waiting");
            o->n++;
            return c;
        }
        if (same(c, call, queue))
            return c;
    }
    return NULL;
}

/* Backward-shift deletion keeps every chain whole. */
static void drop(struct an_open *o, struct open_call *c)
{
    uint32_t mask = OPEN_SLOTS - 1, i = (uint32_t)(c - o->slot), j = i;
    c->used = false;
    o->n--;
    for (;;) {
        j = (j + 1) & mask;
        struct open_call *n = &o->slot[j];
        if (!n->used)
            return;
        uint32_t home = key_hash((struct es_str){n->callid, strlen(n->callid)},
                                 (struct es_str){n->queue, strlen(n->queue)}) &
                        mask;
        /* n may move to i if its home is not in (i, j] */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        o->slot[i] = *n;
        n->used = false;
        i = j;
    }
}

static void bind_opt_int(struct db_stmt *st, int i, int64_t v, int64_t none)
{
    if (v == none)
        db_bind_null(st, i);
    else
        db_bind_int64(st, i, v);
}

static int write_call(struct analytics *a, const struct open_call *c, struct es_err *err)
{
    struct db_stmt *st = an_stmt(a, AN_QC_PUT);
    db_bind_text(st, 1, c->callid, -1);
    db_bind_text(st, 2, c->queue, -1);
    db_bind_int64(st, 3, c->entered_at);
    db_bind_text(st, 4, c->caller, -1);
    db_bind_text(st, 5, c->outcome, -1);
    db_bind_text(st, 6, c->agent, -1);
    db_bind_text(st, 7, c->operator_, -1);
    bind_opt_int(st, 8, c->connected_at, 0);
    bind_opt_int(st, 9, c->ended_at, 0);
    bind_opt_int(st, 10, c->hold_s, -1);
    bind_opt_int(st, 11, c->ring_s, -1);
    bind_opt_int(st, 12, c->talk_s, -1);
    bind_opt_int(st, 13, c->wait_s, -1);
    db_bind_int(st, 14, c->completed);
    db_bind_int(st, 15, c->transferred);
    return an_step_done(a, st, "queue call", err);
}

static void copy_str(char *dst, size_t cap, struct es_str s)
{
    size_t n = ES_MIN(s.len, cap - 1);
    if (n)
        memcpy(dst, s.p, n);
    dst[n] = '\0';
}

int an_open_apply(struct analytics *a, const struct pbx_event *ev, const char *op, bool *done,
                  struct es_err *err)
{
    struct an_open *o = a->open;
    *done = false;
    if (!o)
        return 0;
    struct open_call *c = find(o, ev->call, ev->queue, ev->kind == PBX_ENTER);
    if (!c)
        return 0; /* not begun in this import (or no room): the SQL way */
    *done = true;
    switch (ev->kind) {
    case PBX_ENTER:
        if (!c->entered_at) { /* the first entry counts, as the SQL way keeps it */
            c->entered_at = ev->at;
            copy_str(c->caller, sizeof c->caller, ev->caller);
        }
        return 0;
    case PBX_CONNECT:
        snprintf(c->outcome, sizeof c->outcome, "answered");
        copy_str(c->agent, sizeof c->agent, ev->agent);
        snprintf(c->operator_, sizeof c->operator_, "%s", op);
        c->connected_at = ev->at;
        c->hold_s = ev->hold_s;
        c->ring_s = ev->ring_s;
        return 0;
    case PBX_COMPLETE:
    case PBX_TRANSFER: {
        c->ended_at = ev->at;
        c->talk_s = ev->talk_s;
        if (c->hold_s < 0)
            c->hold_s = ev->hold_s;
        c->completed = true;
        c->transferred = ev->kind == PBX_TRANSFER;
        int rc = write_call(a, c, err);
        drop(o, c);
        return rc;
    }
    case PBX_ABANDON:
    case PBX_TIMEOUT:
    case PBX_EXIT_KEY:
    case PBX_EXIT_EMPTY: {
        if (!strcmp(c->outcome, "waiting")) {
            snprintf(c->outcome, sizeof c->outcome, "%s",
                     analytics_missed_reasons[ev->kind == PBX_ABANDON    ? 0
                                              : ev->kind == PBX_TIMEOUT  ? 1
                                              : ev->kind == PBX_EXIT_KEY ? 2
                                                                         : 3]);
            c->wait_s = ev->wait_s;
            c->ended_at = ev->at;
        }
        int rc = write_call(a, c, err);
        drop(o, c);
        return rc;
    }
    default:
        *done = false;
        return 0;
    }
}

int an_open_flush(struct analytics *a, struct es_err *err)
{
    struct an_open *o = a->open;
    if (!o)
        return 0;
    for (size_t i = 0; i < OPEN_SLOTS; i++)
        if (o->slot[i].used) {
            int rc = write_call(a, &o->slot[i], err);
            if (rc)
                return rc;
        }
    return 0;
}

void an_open_clear(struct analytics *a)
{
    if (a->open) {
        memset(a->open->slot, 0, sizeof a->open->slot);
        a->open->n = 0;
    }
}
