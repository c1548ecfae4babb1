/* The definitions of docs/analytics.md on a hand-made queue_log whose answers
 * were worked out by hand: offered, answered, missed by reason, service
 * levels, ASA, AHT; presence with overlapping memberships, a pause across
 * midnight, a pause never ended, a logoff without a login; a call entering
 * two queues; a transfer. And the import: the same file again, a grown one,
 * a copy under another name, a half-written last line, bad lines. */
#include "analytics/analytics_int.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char dir[256];
static struct catalog *cat;
static struct analytics *an;
static struct es_err err;

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

static void setup(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    snprintf(dir, sizeof dir, "/tmp/earshot-analytics-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(catalog_open(dir, &cat, &err), 0, "%s", err.msg);
    cr_assert_eq(analytics_open(cat, &an, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
    analytics_close(an);
    catalog_close(cat);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(analytics, .init = setup, .fini = teardown);

#define DAY        1795996800LL /* 2026-11-30 00:00 UTC, a Monday */
#define H(h, m, s) (DAY + (h)*3600 + (m)*60 + (s))

static const char *queue_log(void)
{
    static char text[8192];
    snprintf(text, sizeof text,
             "%lld|NONE|NONE|NONE|QUEUESTART|\n"
             /* 101 joins two queues (overlapping), 102 logs in, 103 logs off unknown */
             "%lld|NONE|sales|PJSIP/101|ADDMEMBER|\n"
             "%lld|NONE|support|PJSIP/101|ADDMEMBER|\n"
             "%lld|NONE|NONE|Local/102@from-queue/n|AGENTLOGIN|Local/102@from-queue/n\n"
             /* c1 answered by 101 after 10 s, 300 s talk */
             "%lld|c1|sales|NONE|ENTERQUEUE||+4930111|1\n"
             "%lld|c1|sales|PJSIP/101|CONNECT|10|c1.2|3\n"
             "%lld|c2|sales|NONE|ENTERQUEUE||+4930222|2\n"
             "%lld|c2|sales|NONE|ABANDON|1|2|30\n"
             "%lld|c3|sales|NONE|ENTERQUEUE||+4930333|1\n"
             "%lld|c3|sales|NONE|EXITWITHTIMEOUT|1|1|60\n"
             "%lld|c1|sales|PJSIP/101|COMPLETECALLER|10|300|1\n"
             "%lld|c4|support|NONE|ENTERQUEUE||+4930444|1\n"
             "%lld|c4|support|NONE|EXITWITHKEY|5|1|1|5\n"
             "%lld|c5|support|NONE|ENTERQUEUE||+4930555|1\n"
             "%lld|c5|support|NONE|EXITEMPTY|1|1|1\n"
             "%lld|c9|sales|PJSIP/101|RINGNOANSWER|15000\n"
             /* c6 answered by 102 after 30 s, transferred after 120 s */
             "%lld|c6|sales|NONE|ENTERQUEUE||+4930666|1\n"
             "%lld|c6|sales|Local/102@from-queue/n|CONNECT|30|c6.2|5\n"
             "%lld|c6|sales|Local/102@from-queue/n|BLINDTRANSFER|200|from-internal|30|120|1\n"
             /* c7 times out of sales, then is answered in support */
             "%lld|c7|sales|NONE|ENTERQUEUE||+4930777|1\n"
             "%lld|c7|sales|NONE|EXITWITHTIMEOUT|1|1|40\n"
             "%lld|c7|support|NONE|ENTERQUEUE||+4930777|1\n"
             "%lld|c7|support|PJSIP/101|CONNECT|10|c7.3|2\n"
             "%lld|c7|support|PJSIP/101|COMPLETEAGENT|10|180|1\n"
             "%lld|c8|sales|NONE|ENTERQUEUE||+4930888|1\n"
             "%lld|c8|sales|NONE|ABANDON|1|1|15\n"
             "%lld|NONE|NONE|Agent/103|AGENTLOGOFF|Agent/103|100\n"
             "%lld|NONE|NONE|PJSIP/101|PAUSEALL|lunch\n"
             "%lld|NONE|NONE|PJSIP/101|UNPAUSEALL|\n"
             "%lld|NONE|sales|PJSIP/101|REMOVEMEMBER|\n"
             "%lld|NONE|support|PJSIP/101|REMOVEMEMBER|\n"
             /* 102 pauses at 23:00 and logs off after midnight, never unpaused */
             "%lld|NONE|NONE|Local/102@from-queue/n|PAUSEALL|\n"
             "%lld|NONE|NONE|Local/102@from-queue/n|AGENTLOGOFF|Local/102@from-queue/n|58200\n",
             H(7, 0, 0), H(7, 55, 0), H(7, 58, 0), H(8, 50, 0), H(8, 0, 0), H(8, 0, 10), H(8, 1, 0),
             H(8, 1, 30), H(8, 2, 0), H(8, 3, 0), H(8, 5, 10), H(8, 10, 0), H(8, 10, 5),
             H(8, 20, 0), H(8, 20, 1), H(8, 30, 0), H(9, 0, 0), H(9, 0, 30), H(9, 2, 30),
             H(10, 0, 0), H(10, 0, 40), H(10, 0, 40), H(10, 0, 50), H(10, 3, 50), H(10, 30, 0),
             H(10, 30, 15), H(11, 0, 0), H(12, 0, 0), H(12, 30, 0), H(13, 0, 0), H(14, 0, 0),
             H(23, 0, 0), H(25, 0, 0));
    return text;
}

static void write_file(const char *name, const char *text, const char *mode)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, mode);
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static int64_t nbad;
static void count_bad(void *ud, int64_t line, const char *why)
{
    (void)ud;
    (void)line;
    (void)why;
    nbad++;
}

static struct pbx_import_result import(const char *name)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct pbx_import_result r;
    cr_assert_eq(pbx_import_file(an, PBX_QUEUE_LOG, path, count_bad, NULL, &r, &err), 0, "%s",
                 err.msg);
    return r;
}

static struct an_summary day_summary(enum an_by by, struct an_bucket **b, size_t *nb)
{
    struct an_query q = {.from = DAY * 1000, .to = (DAY + 86400) * 1000, .by = by};
    struct an_summary s;
    cr_assert_eq(analytics_calls(an, &q, &s, b, nb, &err), 0, "%s", err.msg);
    return s;
}

Test(analytics, the_call_definitions)
{
    write_file("queue_log", queue_log(), "w");
    struct pbx_import_result r = import("queue_log");
    cr_assert_eq(r.bad, 0);
    cr_assert_eq(r.lines, 33);
    struct an_bucket *b;
    size_t nb;
    struct an_summary s = day_summary(AN_BY_HOUR, &b, &nb);
    cr_assert_eq(s.all.offered, 9, "c7 entered two queues: two offers");
    cr_assert_eq(s.all.answered, 3);
    cr_assert_eq(s.all.missed, 6);
    cr_assert_eq(s.all.missed_by[0], 2, "abandoned");
    cr_assert_eq(s.all.missed_by[1], 2, "timeout");
    cr_assert_eq(s.all.missed_by[2], 1, "exit-key");
    cr_assert_eq(s.all.missed_by[3], 1, "exit-empty");
    cr_assert_float_eq(s.service_level, 2.0 / 3, 1e-9, "holds 10, 30, 10 against 20 s");
    cr_assert_float_eq(s.service_level_abandons, 3.0 / 5, 1e-9, "plus c8 abandoned at 15 s");
    cr_assert_float_eq(s.asa_s, 50.0 / 3, 1e-9);
    cr_assert_float_eq(s.aht_s, 200.0, 1e-9, "300, 120 (transferred) and 180 s");
    cr_assert_float_eq(s.abandon_wait_s, 22.5, 1e-9);
    cr_assert_float_eq(s.max_wait_s, 60.0, 1e-9);
    cr_assert_eq(nb, 3);
    cr_assert_eq(b[0].start, H(8, 0, 0) * 1000);
    cr_assert_eq(b[0].c.offered, 5);
    cr_assert_eq(b[1].c.answered, 1);
    cr_assert_eq(b[2].c.offered, 3);
    cr_assert_eq(b[2].c.missed, 2);
    free(b);
    s = day_summary(AN_BY_WEEKDAY_HOUR, &b, &nb);
    cr_assert_eq(nb, 168);
    cr_assert_eq(b[8].weekday, 1);
    cr_assert_eq(b[8].c.offered, 5, "Monday 08:00");
    free(b);
    /* one queue only */
    struct an_query q = {.from = DAY * 1000, .to = (DAY + 86400) * 1000, .queue = "support"};
    cr_assert_eq(analytics_calls(an, &q, &s, &b, &nb, &err), 0);
    cr_assert_eq(s.all.offered, 3);
    cr_assert_eq(s.all.answered, 1);
}

static const struct an_presence *find(const struct an_presence *rows, size_t n, const char *op)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].operator_, op))
            return &rows[i];
    cr_assert_fail("no row for %s", op);
    return NULL;
}

Test(analytics, presence)
{
    write_file("queue_log", queue_log(), "w");
    import("queue_log");
    struct an_presence *rows;
    size_t n;
    cr_assert_eq(analytics_presence(an, DAY * 1000, (DAY + 86400) * 1000, NULL, &rows, &n, &err), 0,
                 "%s", err.msg);
    const struct an_presence *p = find(rows, n, "101");
    cr_assert_eq(p->logged_in_s, 21900, "07:55 to 14:00 in one of two queues or both");
    cr_assert_eq(p->paused_s, 1800);
    cr_assert_eq(p->npauses, 1);
    cr_assert_str_eq(p->pauses[0].reason, "lunch");
    cr_assert_eq(p->sessions, 1, "overlapping memberships are one session");
    cr_assert_eq(p->answered, 2);
    cr_assert_eq(p->talk_s, 480);
    cr_assert_eq(p->ring_no_answer, 1);
    cr_assert_float_eq(p->occupancy, 480.0 / 20100, 1e-9);
    p = find(rows, n, "102");
    cr_assert_eq(p->logged_in_s, 54600, "08:50 until the window's end, cut there");
    cr_assert_eq(p->paused_s, 3600, "23:00 until the window's end");
    cr_assert_str_eq(p->pauses[0].reason, "(none)");
    cr_assert_eq(p->answered, 1);
    cr_assert_eq(p->talk_s, 120);
    p = find(rows, n, "103");
    cr_assert_eq(p->unmatched_logoffs, 1, "a logoff without a login is reported");
    cr_assert_eq(p->logged_in_s, 0, "... not guessed");
    free(rows);
    /* the next day: 102 still logged in and paused until 01:00 */
    cr_assert_eq(analytics_presence(an, (DAY + 86400) * 1000, (DAY + 86400 + 7200) * 1000, "102",
                                    &rows, &n, &err),
                 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(rows[0].logged_in_s, 3600);
    cr_assert_eq(rows[0].paused_s, 3600);
    cr_assert_eq(rows[0].sessions, 0, "the session began the day before");
    free(rows);
}

Test(analytics, import_counts_nothing_twice)
{
    const char *text = queue_log();
    /* the first half, then the whole: the second import adds only the rest */
    size_t half = (size_t)(strchr(text + strlen(text) / 2, '\n') - text) + 1;
    char first[8192];
    snprintf(first, sizeof first, "%.*s", (int)half, text);
    write_file("queue_log", first, "w");
    struct pbx_import_result r1 = import("queue_log");
    write_file("queue_log", text + half, "a");
    struct pbx_import_result r2 = import("queue_log");
    cr_assert_eq(r1.lines + r2.lines, 33);
    cr_assert_eq(r2.skipped_lines, r1.lines);
    struct pbx_import_result r3 = import("queue_log");
    cr_assert_eq(r3.lines, 0, "the same file again: nothing");
    write_file("copy", text, "w");
    cr_assert_eq(import("copy").lines, 0, "the same file under another name: nothing");
    struct an_bucket *b;
    size_t nb;
    struct an_summary s = day_summary(AN_BY_NONE, &b, &nb);
    cr_assert_eq(s.all.offered, 9);
    cr_assert_eq(s.all.answered, 3);
    /* a last line still being written waits for its newline */
    char partial[128];
    snprintf(partial, sizeof partial, "%lld|c10|sales|NONE|ENTERQUEUE||+4930999|1", H(15, 0, 0));
    write_file("queue_log", partial, "a");
    cr_assert_eq(import("queue_log").lines, 0);
    write_file("queue_log", "\n", "a");
    cr_assert_eq(import("queue_log").lines, 1);
}

Test(analytics, bad_lines_are_counted_and_the_rest_imports)
{
    char text[1024];
    snprintf(text, sizeof text,
             "%lld|NONE|NONE|NONE|QUEUESTART|\n"
             "garbage without pipes\n"
             "yesterday|c1|sales|NONE|ENTERQUEUE||+49|1\n"
             "%lld|c1|sales|NONE|ENTERQUEUE||+49|1\n"
             "%lld||sales|NONE|ABANDON|1|1|3\n"
             "%lld|c1|sales|NONE|SOMETHINGNEW|x\n"
             "%lld|c1|sales|NONE|ABANDON|1|1|3\n",
             H(7, 0, 0), H(8, 0, 0), H(8, 0, 1), H(8, 0, 2), H(8, 0, 3));
    write_file("bad_log", text, "w");
    nbad = 0;
    struct pbx_import_result r = import("bad_log");
    cr_assert_eq(r.bad, 3);
    cr_assert_eq(nbad, 3);
    cr_assert_eq(r.unknown, 1);
    struct an_bucket *b;
    size_t nb;
    struct an_summary s = day_summary(AN_BY_NONE, &b, &nb);
    cr_assert_eq(s.all.offered, 1);
    cr_assert_eq(s.all.missed_by[0], 1);
}

Test(analytics, agents_are_operators)
{
    char out[64];
    const struct {
        const char *agent, *op;
    } cases[] = {{"PJSIP/101", "101"}, {"SIP/102", "102"}, {"Local/103@from-queue/n", "103"},
                 {"Agent/104", "104"}, {"Alice", "Alice"}, {"PJSIP/alice", "PJSIP/alice"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pbx_agent_operator(cases[i].agent, strlen(cases[i].agent), out, sizeof out);
        cr_assert_str_eq(out, cases[i].op);
    }
}

/* Local hours across the clock changes of Europe/Berlin, against the C
 * library's own answers. */
Test(analytics, local_time_across_clock_changes)
{
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    /* every quarter hour of the two days around each change */
    const int64_t starts[] = {1774656000000LL /* 2026-03-28 */, 1792886400000LL /* 2026-10-25 */};
    for (size_t s = 0; s < 2; s++)
        for (int64_t t = starts[s]; t < starts[s] + 2 * 86400000LL; t += 900000) {
            struct an_local l;
            an_local(t, &l);
            time_t tt = (time_t)(t / 1000);
            struct tm tm;
            localtime_r(&tt, &tm);
            cr_assert(l.hour == tm.tm_hour && l.min == tm.tm_min && l.day == tm.tm_mday &&
                          l.weekday == (tm.tm_wday ? tm.tm_wday : 7),
                      "at %lld: %d:%02d vs %d:%02d", (long long)t, l.hour, l.min, tm.tm_hour,
                      tm.tm_min);
            int64_t next = an_next_hour(t);
            cr_assert(next > t && next - t <= 3600000, "next hour after %lld: %lld", (long long)t,
                      (long long)next);
            struct an_local n;
            an_local(next, &n);
            cr_assert_eq(n.min, 0, "an hour starts on the hour");
        }
    /* 2026-03-29 00:30 UTC is 01:30 CET; the next hour is 03:00 CEST, 01:00 UTC */
    cr_assert_eq(an_next_hour(1774744200000LL), 1774746000000LL);
    /* the day of 2026-03-29 has 23 hours */
    cr_assert_eq(an_next_day(1774744200000LL) - an_day_start(1774744200000LL), 23 * 3600000LL);
    setenv("TZ", "UTC", 1);
    tzset();
}

Test(analytics, numbers_in_e164)
{
    char out[40];
    const struct {
        const char *in, *cc, *want;
    } ok[] = {{"030 123-456", "49", "+4930123456"},    {"+1 (555) 010-9999", "49", "+15550109999"},
              {"0049301234567", "49", "+49301234567"}, {"101", "49", "101"},
              {"0301234567", NULL, "0301234567"},      {"+49 30/1234.567", NULL, "+49301234567"}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cr_assert_eq(archive_e164(ok[i].in, ok[i].cc, out, sizeof out), 0, "%s", ok[i].in);
        cr_assert_str_eq(out, ok[i].want, "%s", ok[i].in);
    }
    cr_assert_eq(archive_e164("12a", "49", out, sizeof out), ES_EINVAL);
    cr_assert_eq(archive_e164("", "49", out, sizeof out), ES_EINVAL);
    cr_assert_eq(archive_e164("+49+30", "49", out, sizeof out), ES_EINVAL);
}

Test(analytics, segments_and_account_managers)
{
    write_file("queue_log", queue_log(), "w");
    import("queue_log");
    write_file("customers.csv",
               "number,name,segment,account_manager\n"
               "+49 (30) 111,\"Müller, GmbH\",b2b,101\n"
               "+49 30 666,Shop Six,b2b,101\n"
               "0049 30 777,Seven,b2c,\n"
               "abc,Nobody,b2b,101\n"
               "0301234,Wrong,b2x,1\n",
               "w");
    char path[400];
    snprintf(path, sizeof path, "%s/customers.csv", dir);
    struct customers_result cr;
    nbad = 0;
    cr_assert_eq(analytics_customers_import(an, path, "49", count_bad, NULL, &cr, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(cr.imported, 3);
    cr_assert_eq(cr.bad, 2);
    cr_assert_eq(nbad, 2);
    struct an_query q = {
        .from = DAY * 1000, .to = (DAY + 86400) * 1000, .segment = "b2b", .country_code = "49"};
    struct an_summary s;
    struct an_bucket *b;
    size_t nb;
    cr_assert_eq(analytics_calls(an, &q, &s, &b, &nb, &err), 0, "%s", err.msg);
    cr_assert_eq(s.all.offered, 2, "c1 and c6");
    cr_assert_eq(s.managed_answered, 2);
    cr_assert_eq(s.answered_by_manager, 1, "c6 was answered by 102, not its manager 101");
    q.segment = "b2c";
    cr_assert_eq(analytics_calls(an, &q, &s, &b, &nb, &err), 0);
    cr_assert_eq(s.all.offered, 2, "c7, in two queues");
    cr_assert_eq(s.all.answered, 1);
    cr_assert_eq(s.managed_answered, 0, "no account manager for B2C");
}

static void recorded(const char *id_seed, int64_t at, const char *disposition, const char *reason,
                     const char *queue)
{
    struct archive_call *k = calloc(1, sizeof *k);
    es_uuid7(at, k->id);
    k->started_at = at;
    k->ended_at = at + 1000;
    snprintf(k->source, sizeof k->source, "recorder");
    snprintf(k->caller, sizeof k->caller, "+4930999");
    snprintf(k->disposition, sizeof k->disposition, "%s", disposition);
    snprintf(k->reason, sizeof k->reason, "%s", reason);
    snprintf(k->queue, sizeof k->queue, "%s", queue);
    snprintf(k->meta_sources, sizeof k->meta_sources, "{}");
    snprintf(k->tags, sizeof k->tags, "[]");
    snprintf(k->details, sizeof k->details, "{}");
    snprintf(k->source_sha256, sizeof k->source_sha256, "%064x", (unsigned)strlen(id_seed) * 7919u);
    k->ring_ms = k->talk_ms = -1;
    cr_assert_eq(catalog_insert_call(cat, k, NULL, NULL), 0);
    free(k);
}

/* Calls no queue saw: the recorder's, when no CDR covers the window. */
Test(analytics, the_recorders_other_calls)
{
    write_file("queue_log", queue_log(), "w");
    import("queue_log");
    recorded("a", H(15, 0, 0) * 1000, "answered", "", "");
    recorded("bb", H(15, 5, 0) * 1000, "missed", "busy", "");
    recorded("ccc", H(15, 6, 0) * 1000, "missed", "failed:500", "");
    recorded("dddd", H(15, 7, 0) * 1000, "rejected", "forbidden", "");
    recorded("eeeee", H(8, 0, 0) * 1000, "answered", "", "sales"); /* c1 itself, joined */
    struct an_bucket *b;
    size_t nb;
    struct an_summary s = day_summary(AN_BY_NONE, &b, &nb);
    cr_assert_eq(s.all.offered, 9 + 3,
                 "the answered, busy and failed ones; not the rejected or c1");
    cr_assert_eq(s.all.answered, 3 + 1);
    cr_assert_eq(s.all.missed_by[5], 1, "busy");
    cr_assert_eq(s.all.missed_by[6], 1, "failed");
    cr_assert_float_eq(s.service_level, 2.0 / 3, 1e-9, "the queues' service level only");
}

static int tag_is_b2b(void *ud, const struct archive_call *k, const struct archive_recording *r)
{
    (void)r;
    *(int *)ud += strcmp(k->tags, "[\"b2b\"]") == 0;
    return 0;
}

/* Customers' calls get their segment as a tag, once, past ones too. */
Test(analytics, segments_become_tags)
{
    recorded("a", H(15, 0, 0) * 1000, "answered", "", "");
    recorded("bb", H(16, 0, 0) * 1000, "missed", "busy", "");
    write_file("customers.csv", "00 49 30 999,Nine,b2b,101\n", "w");
    char path[400];
    snprintf(path, sizeof path, "%s/customers.csv", dir);
    struct customers_result cr;
    cr_assert_eq(analytics_customers_import(an, path, "49", NULL, NULL, &cr, &err), 0);
    int64_t tagged = -1;
    cr_assert_eq(analytics_tag_calls(an, 0, "49", &tagged, &err), 0, "%s", err.msg);
    cr_assert_eq(tagged, 2);
    cr_assert_eq(analytics_tag_calls(an, 0, "49", &tagged, &err), 0);
    cr_assert_eq(tagged, 0, "once");
    int n = 0;
    struct catalog_filter f = {.limit = 10};
    cr_assert_eq(catalog_list(cat, &f, tag_is_b2b, &n), 0);
    cr_assert_eq(n, 2, "both calls carry the b2b tag");
}
