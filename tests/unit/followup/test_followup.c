/* The unreturned-calls list on hand-made calls: one entry per number and
 * line, closed by our answered callback or the customer's answered call, not
 * by an unanswered callback; the anonymous bucket; the same number written
 * three ways; two lines; a callback catalogued before its miss; claims and
 * manual closes; the time-to-callback report. */
#include "followup/followup.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char dir[256];
static struct catalog *cat;
static struct followup *fu;
static struct es_err err;
static struct followup_opts opts;

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

#define DAY     1795996800000LL /* 2026-11-30 00:00 UTC, a Monday, in ms */
#define T(h, m) (DAY + ((h)*3600LL + (m)*60LL) * 1000)

static void setup(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    snprintf(dir, sizeof dir, "/tmp/earshot-followup-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(catalog_open(dir, &cat, &err), 0, "%s", err.msg);
    cr_assert_eq(followup_open(cat, &fu, &err), 0, "%s", err.msg);
    memset(&opts, 0, sizeof opts);
    opts.country_code = "49";
    opts.has_hours = true;
    cr_assert_eq(an_hours_parse("Mon-Fri 09:00-18:00", &opts.hours, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
    followup_close(fu);
    catalog_close(cat);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(followup, .init = setup, .fini = teardown);

static int seq;

/* direction inbound: caller is the customer; outbound: callee is. */
static void call(int64_t at, const char *direction, const char *caller, const char *callee,
                 const char *disposition, const char *reason, const char *queue, const char *op)
{
    struct archive_call *k = calloc(1, sizeof *k);
    es_uuid7(at, k->id);
    k->started_at = at;
    k->ended_at = at + 30000;
    snprintf(k->direction, sizeof k->direction, "%s", direction);
    snprintf(k->source, sizeof k->source, "recorder");
    snprintf(k->caller, sizeof k->caller, "%s", caller);
    snprintf(k->callee, sizeof k->callee, "%s", callee);
    snprintf(k->operator_, sizeof k->operator_, "%s", op);
    snprintf(k->disposition, sizeof k->disposition, "%s", disposition);
    snprintf(k->reason, sizeof k->reason, "%s", reason);
    snprintf(k->queue, sizeof k->queue, "%s", queue);
    snprintf(k->meta_sources, sizeof k->meta_sources, "{}");
    snprintf(k->tags, sizeof k->tags, "[]");
    snprintf(k->details, sizeof k->details, "{}");
    snprintf(k->source_sha256, sizeof k->source_sha256, "%064x", ++seq);
    k->ring_ms = k->talk_ms = -1;
    cr_assert_eq(catalog_insert_call(cat, k, NULL, NULL), 0);
    free(k);
}

static void missed(int64_t at, const char *caller, const char *reason, const char *queue)
{
    call(at, "inbound", caller, "200", "missed", reason, queue, "");
}

static int64_t sync_(void)
{
    int64_t n;
    cr_assert_eq(followup_sync(fu, &opts, &n, &err), 0, "%s", err.msg);
    return n;
}

#define MAXE 16
struct got {
    struct followup_entry e[MAXE];
    int n;
};

static int keep(void *ud, const struct followup_entry *e)
{
    struct got *g = ud;
    cr_assert_lt(g->n, MAXE);
    g->e[g->n++] = *e;
    return 0;
}

static struct got list(int which, int64_t now)
{
    struct got g = {.n = 0};
    struct followup_filter f = {.which = which};
    cr_assert_eq(followup_list(fu, &f, now, keep, &g, &err), 0, "%s", err.msg);
    return g;
}

Test(followup, one_entry_per_number_and_line_with_attempts_and_reasons)
{
    missed(T(10, 0), "030 1234567", "no-answer", "sales");
    missed(T(10, 5), "+49301234567", "abandoned", "sales");
    missed(T(10, 9), "0049 30 1234567", "abandoned", "sales"); /* the same number, 00 form */
    cr_assert_eq(sync_(), 3);
    struct got g = list(1, T(11, 0));
    cr_assert_eq(g.n, 1, "three attempts, one entry");
    cr_assert_str_eq(g.e[0].number, "+49301234567");
    cr_assert_str_eq(g.e[0].line, "sales");
    cr_assert_eq(g.e[0].attempts, 3);
    cr_assert_eq(g.e[0].first_missed_at, T(10, 0));
    cr_assert_eq(g.e[0].last_missed_at, T(10, 9));
    cr_assert_str_eq(g.e[0].reasons, "{\"abandoned\":2,\"no-answer\":1}");
    cr_assert_eq(g.e[0].status, FU_OPEN);
    cr_assert_not(g.e[0].after_hours, "Monday 10:00 is within business hours");
    cr_assert_eq(sync_(), 0, "a second sync reads nothing again");
    cr_assert_eq(list(1, T(11, 0)).e[0].attempts, 3);
}

Test(followup, our_answered_callback_closes_it_with_the_operator_and_the_call)
{
    missed(T(19, 30), "+49301112", "no-answer", "sales"); /* after hours */
    call(T(20, 10), "outbound", "101", "0301112", "answered", "", "", "101");
    sync_();
    cr_assert_eq(list(1, T(21, 0)).n, 0);
    struct got g = list(2, T(21, 0));
    cr_assert_eq(g.n, 1);
    cr_assert_str_eq(g.e[0].closed_by, "callback");
    cr_assert_str_eq(g.e[0].callback_operator, "101");
    cr_assert_eq(g.e[0].closed_at, T(20, 10));
    cr_assert_eq(strlen(g.e[0].callback_call_id), 36);
    cr_assert(g.e[0].after_hours);
    json_t *j = followup_entry_json(&g.e[0], T(21, 0));
    cr_assert_eq(json_integer_value(json_object_get(j, "time_to_callback_s")), 40 * 60);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "closed");
    json_decref(j);
}

Test(followup, the_customer_calling_again_and_answered_closes_it)
{
    missed(T(9, 0), "+4930222", "busy", "support");
    call(T(9, 20), "inbound", "+4930222", "200", "answered", "", "support", "102");
    sync_();
    struct got g = list(0, T(10, 0));
    cr_assert_eq(g.n, 1);
    cr_assert_str_eq(g.e[0].closed_by, "customer_called_again");
    cr_assert_str_eq(g.e[0].callback_operator, "102");
}

Test(followup, an_unanswered_callback_leaves_it_open_and_counts_our_attempt)
{
    missed(T(9, 0), "+4930333", "no-answer", "sales");
    call(T(9, 30), "outbound", "101", "+4930333", "missed", "no-answer", "", "101");
    call(T(9, 45), "outbound", "101", "+4930333", "missed", "busy", "", "101");
    sync_();
    struct got g = list(1, T(10, 0));
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.e[0].our_attempts, 2);
    cr_assert_eq(g.e[0].attempts, 1, "our attempts are not the customer's");
}

Test(followup, withheld_numbers_share_one_anonymous_bucket_never_closed_by_itself)
{
    missed(T(9, 0), "anonymous", "no-answer", "sales");
    missed(T(9, 5), "", "abandoned", "sales");
    missed(T(9, 6), "Restricted", "abandoned", "sales");
    call(T(9, 10), "inbound", "anonymous", "200", "answered", "", "sales", "101");
    sync_();
    struct got g = list(1, T(10, 0));
    cr_assert_eq(g.n, 1);
    cr_assert_str_eq(g.e[0].number, "anonymous");
    cr_assert_eq(g.e[0].attempts, 3);
    int64_t closed;
    cr_assert_eq(followup_close_number(fu, "anonymous", "sup", "cannot call back", "49", T(10, 0),
                                       &closed, &err),
                 0, "%s", err.msg);
    cr_assert_eq(closed, 1);
    cr_assert_str_eq(list(2, T(10, 0)).e[0].closed_by, "manual");
}

Test(followup, one_customer_missing_two_queues_has_two_entries_one_callback_closes_both)
{
    missed(T(9, 0), "+4930444", "no-answer", "sales");
    missed(T(9, 1), "+4930444", "abandoned", "support");
    sync_();
    cr_assert_eq(list(1, T(9, 30)).n, 2);
    call(T(9, 40), "outbound", "101", "+4930444", "answered", "", "", "101");
    sync_();
    cr_assert_eq(list(1, T(10, 0)).n, 0);
    cr_assert_eq(list(2, T(10, 0)).n, 2);
}

Test(followup, a_callback_catalogued_before_its_miss_still_closes_it)
{
    call(T(9, 30), "outbound", "101", "+4930555", "answered", "", "", "101");
    sync_();
    missed(T(9, 0), "+4930555", "no-answer", "sales"); /* the miss arrives late */
    sync_();
    struct got g = list(0, T(10, 0));
    cr_assert_eq(g.n, 1);
    cr_assert_str_eq(g.e[0].closed_by, "callback");
    cr_assert_eq(g.e[0].closed_at, T(9, 30));
}

Test(followup, a_callback_before_the_miss_does_not_close_it)
{
    call(T(8, 0), "outbound", "101", "+4930666", "answered", "", "", "101");
    missed(T(9, 0), "+4930666", "no-answer", "sales");
    sync_();
    cr_assert_eq(list(1, T(10, 0)).n, 1);
}

Test(followup, rejected_attempts_and_internal_calls_are_not_customers)
{
    call(T(9, 0), "inbound", "+4930777", "200", "rejected", "forbidden", "", "");
    missed(T(9, 1), "102", "no-answer", ""); /* an extension */
    sync_();
    cr_assert_eq(list(0, T(10, 0)).n, 0);
}

Test(followup, a_line_without_a_queue_is_the_number_dialled_and_international_callers_stay)
{
    missed(T(9, 0), "+33 1 23 45 67 89", "no-answer", "");
    sync_();
    struct got g = list(1, T(10, 0));
    cr_assert_eq(g.n, 1);
    cr_assert_str_eq(g.e[0].number, "+33123456789");
    cr_assert_str_eq(g.e[0].line, "200");
}

Test(followup, claims_are_exclusive_for_30_minutes)
{
    missed(T(9, 0), "+4930888", "no-answer", "sales");
    sync_();
    int64_t id = list(1, T(9, 1)).e[0].id;
    cr_assert_eq(followup_claim(fu, id, "anna", T(9, 5), &err), 0, "%s", err.msg);
    struct got g = list(1, T(9, 10));
    cr_assert_eq(g.e[0].status, FU_CLAIMED);
    cr_assert_str_eq(g.e[0].claimed_by, "anna");
    cr_assert_eq(followup_claim(fu, id, "bert", T(9, 10), &err), ES_ESTATE);
    cr_assert_eq(followup_claim(fu, id, "anna", T(9, 10), &err), 0, "renewing one's own claim");
    cr_assert_eq(list(1, T(9, 39)).e[0].status, FU_CLAIMED, "renewed at 9:10, until 9:40");
    g = list(1, T(9, 41));
    cr_assert_eq(g.e[0].status, FU_OPEN, "expired");
    cr_assert_str_eq(g.e[0].claimed_by, "");
    cr_assert_eq(followup_claim(fu, id, "bert", T(9, 41), &err), 0, "expired: %s", err.msg);
    cr_assert_str_eq(list(1, T(9, 42)).e[0].claimed_by, "bert");
}

Test(followup, manual_close_needs_an_open_entry)
{
    int64_t closed;
    cr_assert_eq(followup_close_number(fu, "+4930999", "sup", "n", "49", T(9, 0), &closed, &err),
                 ES_ENOTFOUND);
    cr_assert_eq(followup_close_number(fu, "12", "sup", "n", "49", T(9, 0), &closed, &err),
                 ES_EINVAL, "an extension is not a customer");
}

Test(followup, the_report_gives_time_to_callback)
{
    /* four numbers: called back after 10 min, after 2 h, the next day, and never */
    missed(T(9, 0), "+4931001", "no-answer", "sales");
    missed(T(9, 0), "+4931002", "no-answer", "sales");
    missed(T(9, 0), "+4931003", "no-answer", "sales");
    missed(T(9, 0), "+4931004", "no-answer", "sales");
    call(T(9, 10), "outbound", "101", "+4931001", "answered", "", "", "101");
    call(T(11, 0), "inbound", "+4931002", "200", "answered", "", "sales", "102");
    call(T(33, 0), "outbound", "101", "+4931003", "answered", "", "", "101");
    sync_();
    struct followup_report r;
    cr_assert_eq(followup_report(fu, DAY, DAY + 86400000LL, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(r.missed, 4);
    cr_assert_eq(r.open, 1);
    cr_assert_eq(r.callbacks, 2);
    cr_assert_eq(r.called_again, 1);
    cr_assert_float_eq(r.median_s, 7200.0, 1e-6, "10 min, 2 h, 24 h: the median is 2 h");
    cr_assert_float_eq(r.p90_s, 7200 + 0.8 * (86400 - 7200), 1e-6);
    cr_assert_float_eq(r.within_1h, 0.25, 1e-9);
    cr_assert_float_eq(r.same_day, 0.5, 1e-9);
}

/* The list's fast writer and the jansson object say the same, open or closed. */
Test(followup, the_written_entry_equals_the_json_object)
{
    missed(T(9, 0), "+4931999", "no-answer", "sales \"east\"");
    missed(T(9, 5), "+4931998", "busy", "sales");
    call(T(9, 30), "outbound", "101", "+4931998", "answered", "", "", "101");
    sync_();
    struct got g = list(0, T(10, 0));
    cr_assert_eq(g.n, 2);
    for (int i = 0; i < g.n; i++) {
        json_t *want = followup_entry_json(&g.e[i], T(10, 0));
        struct es_buf b;
        es_buf_init(&b, 1 << 16);
        cr_assert_eq(followup_entry_append(&b, &g.e[i], T(10, 0)), 0);
        json_error_t je;
        json_t *got = json_loadb(b.data, b.len, 0, &je);
        cr_assert_not_null(got, "%s: %.*s", je.text, (int)b.len, b.data);
        cr_assert(json_equal(want, got), "%.*s", (int)b.len, b.data);
        json_decref(want);
        json_decref(got);
        es_buf_free(&b);
    }
}

/* The caller's name and segment come from the customer directory. */
Test(followup, entries_carry_the_customers_name_and_segment)
{
    char path[300];
    snprintf(path, sizeof path, "%s/customers.csv", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("number,name,segment,account_manager\n030 5550001,Müller GmbH,b2b,101\n", f);
    fclose(f);
    struct analytics *an;
    cr_assert_eq(analytics_open(cat, &an, &err), 0, "%s", err.msg);
    struct customers_result cr;
    cr_assert_eq(analytics_customers_import(an, path, "49", NULL, NULL, &cr, &err), 0, "%s",
                 err.msg);
    analytics_close(an);
    missed(T(9, 0), "+49305550001", "no-answer", "sales");
    missed(T(9, 1), "+49305550002", "no-answer", "sales");
    sync_();
    struct got g = list(1, T(10, 0));
    cr_assert_eq(g.n, 2);
    cr_assert_str_eq(g.e[0].customer, "Müller GmbH");
    cr_assert_str_eq(g.e[0].segment, "b2b");
    cr_assert_str_eq(g.e[1].customer, "", "not in the directory");
}
