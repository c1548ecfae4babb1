/* The call query: newest first, keyset pages that neither skip nor repeat a
 * call (even among calls started in the same millisecond), each filter, the
 * rejected attempts left out unless asked for, a text search that takes % and
 * _ literally, and a page restricted to given ids. */
#include "archive/archive.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static struct catalog *cat;
#define N 40
static char ids[N][ES_ID_LEN]; /* in insertion order; started_at 1000 * (i / 2): pairs share */

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/earshot-cq-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    struct es_err e;
    cr_assert_eq(catalog_open(dir, &cat, &e), 0, "%s", e.msg);
    struct archive_call *k = calloc(1, sizeof *k);
    for (int i = 0; i < N; i++) {
        memset(k, 0, sizeof *k);
        k->started_at = 1764000000000 + 1000 * (i / 2);
        es_uuid7(k->started_at, k->id);
        k->duration_ms = 1000 + i;
        snprintf(k->operator_, sizeof k->operator_, "%s", i % 4 ? "101" : "102");
        snprintf(k->direction, sizeof k->direction, "%s", i % 3 ? "inbound" : "outbound");
        snprintf(k->disposition, sizeof k->disposition, "%s",
                 i == 7  ? "rejected"
                 : i % 5 ? "answered"
                         : "missed");
        snprintf(k->caller, sizeof k->caller, "%s", i == 11 ? "+49 30 100%_x" : "+4930555");
        snprintf(k->tags, sizeof k->tags, "[]");
        snprintf(k->details, sizeof k->details, "{}");
        snprintf(k->source, sizeof k->source, "ingest");
        snprintf(k->source_sha256, sizeof k->source_sha256, "%064d", i);
        cr_assert_eq(catalog_insert_call(cat, k, NULL, NULL), 0);
        snprintf(ids[i], sizeof ids[i], "%s", k->id);
    }
    free(k);
}

static void teardown(void)
{
    catalog_close(cat);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(call_query, .init = setup, .fini = teardown);

struct seen {
    char id[N][ES_ID_LEN];
    int64_t at[N];
    int n;
};

static int keep(void *ud, const struct catalog_call_row *r)
{
    struct seen *s = ud;
    cr_assert_lt(s->n, N);
    snprintf(s->id[s->n], ES_ID_LEN, "%s", r->id);
    s->at[s->n++] = r->started_at;
    return 0;
}

static int index_of(const char *id)
{
    for (int i = 0; i < N; i++)
        if (!strcmp(ids[i], id))
            return i;
    return -1;
}

Test(call_query, pages_cover_every_call_once_newest_first)
{
    struct catalog_call_query q = {.disposition = NULL};
    struct seen all = {0};
    int pages = 0;
    for (;;) { /* pages of 3: page ends fall between calls of the same millisecond */
        struct seen page = {0};
        cr_assert_eq(catalog_calls_query(cat, &q, 3, keep, &page), 0);
        for (int i = 0; i < page.n; i++) {
            memcpy(all.id[all.n], page.id[i], ES_ID_LEN);
            all.at[all.n++] = page.at[i];
        }
        pages++;
        if (page.n < 3)
            break;
        q.after_at = page.at[page.n - 1];
        q.after_id = all.id[all.n - 1];
    }
    cr_assert_eq(all.n, N - 1, "every call but the rejected one: %d", all.n);
    cr_expect_eq(pages, 14);
    for (int i = 1; i < all.n; i++) {
        cr_expect(all.at[i] < all.at[i - 1] ||
                      (all.at[i] == all.at[i - 1] && strcmp(all.id[i], all.id[i - 1]) < 0),
                  "row %d is out of order", i);
        for (int j = 0; j < i; j++)
            cr_expect(strcmp(all.id[i], all.id[j]), "call %s twice", all.id[i]);
    }
    for (int i = 0; i < all.n; i++)
        cr_expect_neq(index_of(all.id[i]), 7, "the rejected attempt is left out");
}

Test(call_query, filters)
{
    struct seen s = {0};
    struct catalog_call_query q = {.operator_ = "102", .direction = "outbound"};
    cr_assert_eq(catalog_calls_query(cat, &q, 100, keep, &s), 0);
    int want = 0;
    for (int i = 0; i < N; i++)
        want += i % 4 == 0 && i % 3 == 0 && i != 7;
    cr_expect_eq(s.n, want);
    for (int i = 0; i < s.n; i++) {
        int k = index_of(s.id[i]);
        cr_expect(k % 4 == 0 && k % 3 == 0, "call %d does not match", k);
    }
    memset(&s, 0, sizeof s);
    q = (struct catalog_call_query){.disposition = "rejected"};
    cr_assert_eq(catalog_calls_query(cat, &q, 100, keep, &s), 0);
    cr_assert_eq(s.n, 1);
    cr_expect_eq(index_of(s.id[0]), 7);
    memset(&s, 0, sizeof s); /* [from, to): the calls of seconds 2 and 3 */
    q = (struct catalog_call_query){.from = 1764000002000, .to = 1764000004000};
    cr_assert_eq(catalog_calls_query(cat, &q, 100, keep, &s), 0);
    cr_expect_eq(s.n, 4 - 1, "four calls, one of them rejected: %d", s.n);
}

Test(call_query, text_search_is_literal)
{
    struct seen s = {0};
    struct catalog_call_query q = {.q = "100%_"};
    cr_assert_eq(catalog_calls_query(cat, &q, 100, keep, &s), 0);
    cr_assert_eq(s.n, 1);
    cr_expect_eq(index_of(s.id[0]), 11);
    memset(&s, 0, sizeof s);
    q.q = "30 1%"; /* % is not a wildcard: "30 1" then any character would match */
    cr_assert_eq(catalog_calls_query(cat, &q, 100, keep, &s), 0);
    cr_expect_eq(s.n, 0);
    memset(&s, 0, sizeof s);
    q.q = ids[20]; /* a call's id finds it */
    cr_assert_eq(catalog_calls_query(cat, &q, 100, keep, &s), 0);
    cr_assert_eq(s.n, 1);
    cr_expect_str_eq(s.id[0], ids[20]);
}

Test(call_query, only_the_ids_asked_for)
{
    const char *want[] = {ids[3], ids[30], ids[7], "01000000-0000-7000-8000-000000000000"};
    struct seen s = {0};
    struct catalog_call_query q = {.ids = want, .n_ids = 4};
    int qrc = catalog_calls_query(cat, &q, CATALOG_QUERY_IDS, keep, &s);
    cr_assert_eq(qrc, 0, "%s", catalog_strerror(cat, qrc));
    cr_assert_eq(s.n, 2, "3 and 30; 7 is rejected, the last does not exist: %d", s.n);
    int a = index_of(s.id[0]), b = index_of(s.id[1]);
    cr_expect((a == 30 && b == 3) || (a == 3 && b == 30), "%d and %d", a, b);
    q.n_ids = 0;
    cr_expect_eq(catalog_calls_query(cat, &q, 10, keep, &s), 0);
    cr_expect_eq(s.n, 2, "no ids: no rows");
    q.n_ids = CATALOG_QUERY_IDS + 1;
    cr_expect_eq(catalog_calls_query(cat, &q, 10, keep, &s), ES_EINVAL);
    struct catalog_call_query all = {0};
    cr_expect_eq(catalog_calls_query(cat, &all, 0, keep, &s), ES_EINVAL, "a page of 0");
}

static int stop_at_two(void *ud, const struct catalog_call_row *r)
{
    (void)r;
    return ++*(int *)ud == 2 ? 7 : 0;
}

Test(call_query, the_callback_stops_it)
{
    int n = 0;
    struct catalog_call_query q = {0};
    cr_expect_eq(catalog_calls_query(cat, &q, 100, stop_at_two, &n), 7);
    cr_expect_eq(n, 2);
}
