/* Login throttling: after 5 failures for one user name, or 20 from one
 * address, within 15 minutes, further tries wait: 30 s, doubling with each
 * failure up to 15 minutes. A success clears the user's count (not the
 * address's: one good password must not unlock guessing at the others).
 *
 * Counters live in a bounded table keyed by SipHash with a key drawn at
 * start, so nobody can pick names or addresses that land on a counter that
 * is not theirs; an entry gives way only when it no longer matters (its
 * window is over and it is not locked). When the table is full, attempts
 * that find no room share one ceiling of failures per minute, so filling the
 * table does not open the door either.
 *
 * An attempt is counted when it is let through, before the password is
 * checked (and given back if it was right): parallel requests cannot all
 * slip in between a check and the failure being recorded. */
#include "review-server/http_int.h"

#include <stdlib.h>
#include <string.h>

#define WINDOW_MS       (15 * 60 * 1000LL)
#define USER_FREE       5
#define ADDR_FREE       20
#define FIRST_WAIT_MS   (30 * 1000LL)
#define LONGEST_WAIT_MS (15 * 60 * 1000LL)
#define PROBES          64 /* slots looked at for a key */
#define MINUTE_MS       60000LL

struct entry {
    uint64_t key; /* 0: never used */
    int failures;
    int64_t first_at, locked_until;
};

struct throttle {
    pthread_mutex_t lock;
    unsigned char hkey[2][crypto_shorthash_KEYBYTES]; /* user names, addresses */
    struct entry *slot;
    size_t nslots; /* a power of two */
    int global_ceiling;
    int64_t global_minute; /* failures of attempts that found no room, this minute */
    int global_failures;
};

int throttle_new(size_t capacity, int global_ceiling, struct throttle **out)
{
    struct throttle *t = calloc(1, sizeof *t);
    size_t n = 64;
    while (n < capacity)
        n <<= 1;
    if (!t || !(t->slot = calloc(n, sizeof *t->slot))) {
        free(t);
        return ES_ENOMEM;
    }
    t->nslots = n;
    t->global_ceiling = global_ceiling;
    t->global_minute = -1;
    randombytes_buf(t->hkey, sizeof t->hkey);
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return 0;
}

void throttle_free(struct throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t->slot);
    free(t);
}

static uint64_t key_of(const struct throttle *t, char kind, const char *v)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)v, strlen(v), t->hkey[kind == 'a']);
    uint64_t k;
    memcpy(&k, h, sizeof k);
    return k ? k : 1;
}

static bool expired(const struct entry *e, int64_t now)
{
    return now - e->first_at > WINDOW_MS && now >= e->locked_until;
}

/* The entry for key: found, or made in the first free or expired slot of its
 * probe window; NULL when the window holds only counters that still matter.
 * Lock held. Slots are never emptied, so an empty one ends the search. */
static struct entry *entry_for(struct throttle *t, uint64_t key, int64_t now, bool create)
{
    size_t mask = t->nslots - 1, i = (size_t)(key ^ key >> 32) & mask;
    struct entry *room = NULL;
    for (int p = 0; p < PROBES; p++, i = (i + 1) & mask) {
        struct entry *e = &t->slot[i];
        if (e->key == key)
            return e;
        if (!room && (e->key == 0 || expired(e, now)))
            room = e;
        if (e->key == 0)
            break;
    }
    if (!room || !create)
        return NULL;
    *room = (struct entry){.key = key, .first_at = now};
    return room;
}

static int64_t wait_of(const struct entry *e, int64_t now)
{
    return e && e->locked_until > now ? e->locked_until - now : 0;
}

static void count_failure(struct entry *e, int free_tries, int64_t now)
{
    if (now - e->first_at > WINDOW_MS) {
        e->failures = 0;
        e->first_at = now;
    }
    if (++e->failures < free_tries)
        return;
    int extra = ES_MIN(e->failures - free_tries, 10);
    e->locked_until = now + ES_MIN(FIRST_WAIT_MS << extra, LONGEST_WAIT_MS);
}

int throttle_begin(struct throttle *t, const char *user, const char *addr, int64_t now)
{
    pthread_mutex_lock(&t->lock);
    struct entry *u = entry_for(t, key_of(t, 'u', user), now, true);
    struct entry *a = entry_for(t, key_of(t, 'a', addr), now, true);
    int64_t w = ES_MAX(wait_of(u, now), wait_of(a, now));
    int64_t minute = now / MINUTE_MS;
    if (minute != t->global_minute) {
        t->global_minute = minute;
        t->global_failures = 0;
    }
    /* no room to count this user or address: the shared ceiling holds */
    if ((!u || !a) && t->global_failures >= t->global_ceiling)
        w = ES_MAX(w, (minute + 1) * MINUTE_MS - now);
    if (!w) {
        if (u)
            count_failure(u, USER_FREE, now);
        if (a)
            count_failure(a, ADDR_FREE, now);
        if (!u || !a)
            t->global_failures++;
    }
    pthread_mutex_unlock(&t->lock);
    return (int)((w + 999) / 1000);
}

void throttle_succeeded(struct throttle *t, const char *user, const char *addr, int64_t now)
{
    pthread_mutex_lock(&t->lock);
    struct entry *u = entry_for(t, key_of(t, 'u', user), now, false);
    if (u) { /* the user's slate is clean; the entry may give way */
        u->failures = 0;
        u->locked_until = 0;
        u->first_at = now - WINDOW_MS - 1;
    }
    struct entry *a = entry_for(t, key_of(t, 'a', addr), now, false);
    if (a && a->failures > 0 && --a->failures < ADDR_FREE)
        a->locked_until = 0; /* this attempt was counted in advance: given back */
    pthread_mutex_unlock(&t->lock);
}
