/* Login throttling: the counts cannot be reset by other names or addresses
 * (searched the way an attacker who has read the code would), nor slipped
 * past by parallel attempts, nor pushed out by filling the table. */
#include "review-server/http_int.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const int64_t T0 = 1764547200000LL;

/* The slot a name landed in before: FNV-1a of kind and text, modulo 4096. */
static unsigned old_slot(char kind, const char *v)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;
    for (; *v; v++)
        h = (h ^ (unsigned char)*v) * 1099511628211ull;
    return (unsigned)((h ? h : 1) % 4096);
}

/* A junk name in the same old slot as (kind, target): what an attacker tries. */
static void colliding(char kind, const char *target, char want_kind, char *out, size_t n)
{
    unsigned slot = old_slot(kind, target);
    for (unsigned i = 0;; i++) {
        snprintf(out, n, "junk%u", i);
        if (old_slot(want_kind, out) == slot)
            return;
    }
}

Test(throttle, colliding_names_do_not_reset_the_counts)
{
    struct throttle *t;
    cr_assert_eq(throttle_new(THROTTLE_CAPACITY, THROTTLE_CEILING, &t), 0);
    char on_user[32], on_addr[32];
    colliding('u', "supervisor", 'u', on_user, sizeof on_user);
    colliding('a', "192.0.2.10", 'u', on_addr, sizeof on_addr);
    int64_t now = T0;
    int refused = 0, first_refused = -1;
    /* 32 wrong passwords, each 4 followed by a junk login on each old slot */
    for (int i = 0; i < 32; i++) {
        if (throttle_begin(t, "supervisor", "192.0.2.10", now += 1000)) {
            refused++;
            if (first_refused < 0)
                first_refused = i;
        }
        if (i % 4 == 3) {
            throttle_begin(t, on_user, "192.0.2.10", now += 1000);
            throttle_begin(t, on_addr, "192.0.2.10", now += 1000);
        }
    }
    cr_assert_eq(first_refused, 5, "the sixth try waits (first refused: %d)", first_refused);
    cr_assert_geq(refused, 26);
    cr_assert_gt(throttle_begin(t, "supervisor", "198.51.100.1", now + 1000), 0,
                 "the user stays locked, from any address");
    throttle_free(t);
}

struct race {
    struct throttle *t;
    pthread_barrier_t *go;
    int let_through;
};

static void *attempt(void *p)
{
    struct race *x = p;
    pthread_barrier_wait(x->go);
    x->let_through = throttle_begin(x->t, "victim", "203.0.113.5", T0) == 0;
    return NULL;
}

Test(throttle, parallel_attempts_cannot_slip_through)
{
    struct throttle *t;
    cr_assert_eq(throttle_new(THROTTLE_CAPACITY, THROTTLE_CEILING, &t), 0);
    enum { N = 24 };
    pthread_t th[N];
    struct race x[N];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, N);
    for (int i = 0; i < N; i++) {
        x[i] = (struct race){.t = t, .go = &go};
        pthread_create(&th[i], NULL, attempt, &x[i]);
    }
    int through = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        through += x[i].let_through;
    }
    pthread_barrier_destroy(&go);
    cr_assert_eq(through, 5, "%d of %d parallel tries were let through", through, N);
    throttle_free(t);
}

Test(throttle, a_full_table_keeps_what_matters_and_has_a_ceiling)
{
    struct throttle *t;
    cr_assert_eq(throttle_new(64, 10, &t), 0);
    int64_t now = T0;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(throttle_begin(t, "boss", "192.0.2.1", now++), 0);
    /* thousands of other names and addresses fail once each */
    char name[32], addr[32];
    int refused = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "n%d", i);
        snprintf(addr, sizeof addr, "10.%d.%d.%d", i >> 16 & 255, i >> 8 & 255, i & 255);
        refused += throttle_begin(t, name, addr, now) != 0;
    }
    cr_assert_gt(refused, 4000, "past the table and the ceiling, others wait (%d refused)",
                 refused);
    /* boss's count survived: two more tries, then the lock */
    cr_assert_eq(throttle_begin(t, "boss", "192.0.2.1", now + 1), 0);
    cr_assert_eq(throttle_begin(t, "boss", "192.0.2.1", now + 2), 0);
    cr_assert_gt(throttle_begin(t, "boss", "192.0.2.1", now + 3), 0, "the sixth waits");
    /* the ceiling lasts a minute; a quarter of an hour later there is room again */
    cr_assert_eq(throttle_begin(t, "someone", "198.51.100.7", now + 16 * 60 * 1000LL), 0);
    throttle_free(t);
}

Test(throttle, a_right_password_gives_its_attempt_back)
{
    struct throttle *t;
    cr_assert_eq(throttle_new(THROTTLE_CAPACITY, THROTTLE_CEILING, &t), 0);
    int64_t now = T0;
    char name[32];
    /* 19 wrong from one address (different names), then a right one */
    for (int i = 0; i < 19; i++) {
        snprintf(name, sizeof name, "user%d", i);
        cr_assert_eq(throttle_begin(t, name, "192.0.2.50", now++), 0);
    }
    cr_assert_eq(throttle_begin(t, "alice", "192.0.2.50", now++), 0, "the 20th is tried");
    throttle_succeeded(t, "alice", "192.0.2.50", now++);
    cr_assert_eq(throttle_begin(t, "bob", "192.0.2.50", now++), 0,
                 "alice's right password did not count against the address");
    cr_assert_gt(throttle_begin(t, "carol", "192.0.2.50", now++), 0, "but 20 wrong ones lock it");
    /* a user's right password clears the user's own count */
    for (int i = 0; i < 4; i++)
        throttle_begin(t, "dave", "198.51.100.9", now++);
    throttle_succeeded(t, "dave", "198.51.100.9", now++);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(throttle_begin(t, "dave", "198.51.100.9", now++), 0, "try %d", i);
    throttle_free(t);
}
