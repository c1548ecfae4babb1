/* One audit row per listening session. A player fetches a recording in many
 * ranges (the start, seeks, the end for the duration); auditing only the
 * request that starts at byte 0 let `Range: bytes=1-` download nearly the
 * whole file unaudited. Instead the first request of a session for a call's
 * audio is audited whatever its range, and the ranges that follow within
 * LISTEN_WINDOW_MS of the previous one belong to the same listening.
 *
 * Bounded: entries are keyed by SipHash (a key drawn at start) of the session
 * and the call, and give way only once their window is over; with no room, a
 * request is audited again: more rows, never fewer. */
#include "review-server/http_int.h"

#include <stdlib.h>
#include <string.h>

#define PROBES 32

struct listen_entry {
    uint64_t key;
    int64_t last_at;
};

struct listens {
    pthread_mutex_t lock;
    unsigned char hkey[crypto_shorthash_KEYBYTES];
    struct listen_entry *slot;
    size_t nslots;
};

int listens_new(size_t capacity, struct listens **out)
{
    struct listens *l = calloc(1, sizeof *l);
    size_t n = 64;
    while (n < capacity)
        n <<= 1;
    if (!l || !(l->slot = calloc(n, sizeof *l->slot))) {
        free(l);
        return ES_ENOMEM;
    }
    l->nslots = n;
    randombytes_buf(l->hkey, sizeof l->hkey);
    pthread_mutex_init(&l->lock, NULL);
    *out = l;
    return 0;
}

void listens_free(struct listens *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l->slot);
    free(l);
}

static uint64_t key_of(const struct listens *l, const char *session, const char *call_id)
{
    unsigned char h[crypto_shorthash_BYTES];
    size_t a = strlen(session), b = strlen(call_id);
    unsigned char buf[256];
    if (a + b + 1 > sizeof buf)
        return 1;
    memcpy(buf, session, a);
    buf[a] = 0; /* no session and call can run together into another pair */
    memcpy(buf + a + 1, call_id, b);
    crypto_shorthash(h, buf, a + b + 1, l->hkey);
    uint64_t k;
    memcpy(&k, h, sizeof k);
    return k ? k : 1;
}

bool listens_known(struct listens *l, const char *session, const char *call_id, int64_t now)
{
    uint64_t key = key_of(l, session, call_id);
    bool known = false;
    pthread_mutex_lock(&l->lock);
    size_t mask = l->nslots - 1, i = (size_t)(key ^ key >> 32) & mask;
    for (int p = 0; p < PROBES && l->slot[i].key; p++, i = (i + 1) & mask)
        if (l->slot[i].key == key) {
            known = now - l->slot[i].last_at <= LISTEN_WINDOW_MS;
            if (known)
                l->slot[i].last_at = now; /* the listening goes on */
            break;
        }
    pthread_mutex_unlock(&l->lock);
    return known;
}

void listens_note(struct listens *l, const char *session, const char *call_id, int64_t now)
{
    uint64_t key = key_of(l, session, call_id);
    pthread_mutex_lock(&l->lock);
    size_t mask = l->nslots - 1, i = (size_t)(key ^ key >> 32) & mask;
    struct listen_entry *room = NULL;
    for (int p = 0; p < PROBES; p++, i = (i + 1) & mask) {
        struct listen_entry *e = &l->slot[i];
        if (e->key == key) {
            room = e;
            break;
        }
        if (!room && (!e->key || now - e->last_at > LISTEN_WINDOW_MS))
            room = e;
        if (!e->key)
            break;
    }
    if (room) {
        room->key = key;
        room->last_at = now;
    }
    pthread_mutex_unlock(&l->lock);
}
