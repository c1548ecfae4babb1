/* Where refused and untracked INVITEs come from, counted per source address
 * on the capture thread: --stats and --json name the busiest sources, the
 * catalog keeps each source's daily totals (rejected_sources), and with
 * `--rejected counts` a source past its allowance per minute is only
 * counted, never catalogued row by row, so a scanner cannot fill the
 * catalog. Bounded: past SRC_MAX addresses, attempts are counted in total
 * only. */
#include "recorder/record_int.h"

#include <stdlib.h>
#include <string.h>

#define SRC_SLOTS 16384 /* open addressing, a power of two */
#define SRC_MAX   (SRC_SLOTS / 4 * 3)
#define MINUTE_US (60LL * 1000000)

struct rec_source {
    struct pkt_addr addr;
    bool used, pending;
    uint64_t attempts, rejected, catalogued, untracked; /* since the start */
    int64_t minute;                                     /* the minute in_minute counts */
    uint32_t in_minute;                                 /* attempts in it */
    /* not yet in the catalog */
    uint64_t p_attempts, p_catalogued, p_untracked;
    int64_t p_first_us, p_last_us;
    char p_reason[32];
};

struct rec_sources {
    struct rec_source *slot; /* SRC_SLOTS of them, made with the first attempt */
    size_t n;
    uint64_t overflow; /* attempts from sources past SRC_MAX */
    int64_t minute;    /* rows catalogued in this minute, all sources together */
    uint32_t rows_in_minute;
    int64_t flushed_minute;
    size_t npending;
};

static uint32_t addr_hash(const struct pkt_addr *a)
{
    uint32_t h = 2166136261u;
    size_t n = a->family == 6 ? 16 : 4;
    for (size_t i = 0; i < n; i++)
        h = (h ^ a->a[i]) * 16777619u;
    return h ^ h >> 15;
}

static struct rec_source *lookup(struct rec_sources *s, const struct pkt_addr *a)
{
    if (!s->slot && !(s->slot = calloc(SRC_SLOTS, sizeof *s->slot)))
        return NULL;
    for (uint32_t i = addr_hash(a) & (SRC_SLOTS - 1);; i = (i + 1) & (SRC_SLOTS - 1)) {
        struct rec_source *e = &s->slot[i];
        if (e->used && pkt_addr_eq(&e->addr, a))
            return e;
        if (!e->used) {
            if (s->n >= SRC_MAX)
                return NULL;
            e->used = true;
            e->addr = *a;
            e->minute = -1;
            s->n++;
            return e;
        }
    }
}

int rec_sources_new(struct rec_sources **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return ES_ENOMEM;
    (*out)->minute = (*out)->flushed_minute = -1;
    return 0;
}

void rec_sources_free(struct rec_sources *s)
{
    if (!s)
        return;
    free(s->slot);
    free(s);
}

bool rec_source_attempt(struct recorder *r, const struct pkt_addr *a, int64_t ts_us,
                        const char *reason, bool untracked)
{
    struct rec_sources *s = r->src;
    int64_t minute = ts_us / MINUTE_US;
    struct rec_source *e = lookup(s, a);
    if (!e) {
        s->overflow++;
        return false; /* an unknown source past the limit: counted, not catalogued */
    }
    e->attempts++;
    e->untracked += untracked;
    e->rejected += !untracked;
    if (e->minute != minute) {
        e->minute = minute;
        e->in_minute = 0;
    }
    e->in_minute++;
    if (s->minute != minute) {
        s->minute = minute;
        s->rows_in_minute = 0;
    }
    /* rows: always (rows), or while the source and everyone together stay
     * within their allowance for the minute (counts) */
    int per = r->o.rejected_per_minute;
    bool row =
        !untracked &&
        (per < 0 || (e->in_minute <= (uint32_t)per && s->rows_in_minute < (uint32_t)per * 10u));
    if (row) {
        s->rows_in_minute++;
        e->catalogued++;
    }
    if (!e->pending) {
        e->pending = true;
        e->p_first_us = ts_us;
        s->npending++;
    }
    e->p_attempts++;
    e->p_catalogued += row;
    e->p_untracked += untracked;
    e->p_last_us = ts_us;
    snprintf(e->p_reason, sizeof e->p_reason, "%s", reason);
    return row;
}

void rec_sources_flush(struct recorder *r, int64_t now_us, bool final)
{
    struct rec_sources *s = r->src;
    int64_t minute = now_us / MINUTE_US;
    if (!s->npending || (!final && minute == s->flushed_minute))
        return;
    s->flushed_minute = minute;
    struct catalog_source_count *v = calloc(s->npending, sizeof *v);
    if (!v) {
        ES_ERROR("record", "out of memory: %zu sources' rejected counts not catalogued",
                 s->npending);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < SRC_SLOTS && n < s->npending; i++) {
        struct rec_source *e = &s->slot[i];
        if (!e->used || !e->pending)
            continue;
        pkt_addr_str(&e->addr, v[n].address, sizeof v[n].address);
        v[n].attempts = e->p_attempts;
        v[n].catalogued = e->p_catalogued;
        v[n].untracked = e->p_untracked;
        v[n].first_at = e->p_first_us / 1000;
        v[n].last_at = e->p_last_us / 1000;
        snprintf(v[n].last_reason, sizeof v[n].last_reason, "%s", e->p_reason);
        e->pending = false;
        e->p_attempts = e->p_catalogued = e->p_untracked = 0;
        n++;
    }
    s->npending = 0;
    rec_send_counts(r->pool, v, n); /* the worker commits and frees them */
}

static int by_attempts(const void *a, const void *b)
{
    const struct rec_source_top *x = a, *y = b;
    if (x->attempts != y->attempts)
        return x->attempts < y->attempts ? 1 : -1;
    return strcmp(x->address, y->address);
}

size_t rec_sources_top(const struct recorder *r, struct rec_source_top *out, size_t max,
                       uint64_t *nsources, uint64_t *overflow)
{
    const struct rec_sources *s = r->src;
    *nsources = s->n;
    *overflow = s->overflow;
    if (!s->slot || !max)
        return 0;
    /* keep the max busiest: a small array, replaced at its weakest */
    size_t n = 0;
    for (size_t i = 0; i < SRC_SLOTS; i++) {
        const struct rec_source *e = &s->slot[i];
        if (!e->used)
            continue;
        size_t at = n;
        if (n == max) {
            at = 0;
            for (size_t k = 1; k < n; k++)
                if (out[k].attempts < out[at].attempts)
                    at = k;
            if (out[at].attempts >= e->attempts)
                continue;
        } else {
            n++;
        }
        pkt_addr_str(&e->addr, out[at].address, sizeof out[at].address);
        out[at].attempts = e->attempts;
        out[at].rejected = e->rejected;
        out[at].catalogued = e->catalogued;
        out[at].untracked = e->untracked;
    }
    qsort(out, n, sizeof *out, by_attempts);
    return n;
}
