/* Login throttling: after 5 failures for one user name, or 20 from one
 * address, within 15 minutes, further tries wait — 30 s, doubling with each
 * failure up to 15 minutes. A success clears the user's count (not the
 * address's: one good password must not unlock guessing at the others). */
#include "review-server/http_int.h"

#include <string.h>

#define WINDOW_MS       (15 * 60 * 1000LL)
#define USER_FREE       5
#define ADDR_FREE       20
#define FIRST_WAIT_MS   (30 * 1000LL)
#define LONGEST_WAIT_MS (15 * 60 * 1000LL)

static uint64_t key_of(char kind, const char *v)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)kind; /* FNV-1a */
    for (; *v; v++)
        h = (h ^ (unsigned char)*v) * 1099511628211ull;
    return h ? h : 1;
}

/* The slot for key (found, or the stalest one taken over). Lock held. */
static struct throttle_slot *slot_for(struct throttle *t, uint64_t key, int64_t now)
{
    struct throttle_slot *s = &t->slot[key % THROTTLE_SLOTS];
    if (s->key != key && (s->key == 0 || now - s->first_at > WINDOW_MS || now >= s->locked_until)) {
        memset(s, 0, sizeof *s);
        s->key = key;
        s->first_at = now;
    }
    return s->key == key ? s : NULL;
}

static int64_t wait_ms(struct throttle *t, uint64_t key, int64_t now)
{
    struct throttle_slot *s = slot_for(t, key, now);
    return s && s->locked_until > now ? s->locked_until - now : 0;
}

int throttle_wait(struct throttle *t, const char *user, const char *addr, int64_t now)
{
    pthread_mutex_lock(&t->lock);
    int64_t w = ES_MAX(wait_ms(t, key_of('u', user), now), wait_ms(t, key_of('a', addr), now));
    pthread_mutex_unlock(&t->lock);
    return (int)((w + 999) / 1000);
}

static void fail(struct throttle *t, uint64_t key, int free_tries, int64_t now)
{
    struct throttle_slot *s = slot_for(t, key, now);
    if (!s)
        return; /* the slot belongs to a locked key: that one stays locked */
    if (now - s->first_at > WINDOW_MS) {
        s->failures = 0;
        s->first_at = now;
    }
    if (++s->failures < free_tries)
        return;
    int extra = ES_MIN(s->failures - free_tries, 10);
    s->locked_until = now + ES_MIN(FIRST_WAIT_MS << extra, LONGEST_WAIT_MS);
}

void throttle_failed(struct throttle *t, const char *user, const char *addr, int64_t now)
{
    pthread_mutex_lock(&t->lock);
    fail(t, key_of('u', user), USER_FREE, now);
    fail(t, key_of('a', addr), ADDR_FREE, now);
    pthread_mutex_unlock(&t->lock);
}

void throttle_succeeded(struct throttle *t, const char *user, int64_t now)
{
    pthread_mutex_lock(&t->lock);
    struct throttle_slot *s = slot_for(t, key_of('u', user), now);
    if (s)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&t->lock);
}
