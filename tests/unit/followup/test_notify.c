/* Notification rules and routing without the network: the configuration's
 * rules and its errors, the filters (event, queue, business or after hours,
 * minimum wait), hourly digests made when their hour is over, and the backoff
 * and dead letters against a port where nobody listens. */
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

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/earshot-notify-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(catalog_open(dir, &cat, &err), 0, "%s", err.msg);
    cr_assert_eq(followup_open(cat, &fu, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
    followup_close(fu);
    catalog_close(cat);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(notify, .init = setup, .fini = teardown);

static int load(const char *text, struct notify_config *nc)
{
    char path[300];
    snprintf(path, sizeof path, "%s/earshot.conf", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    struct es_config *cfg;
    memset(&err, 0, sizeof err);
    int rc = es_config_load(path, notify_config_keys, &cfg, &err);
    if (rc)
        return rc;
    rc = notify_config_load(cfg, nc, &err);
    es_config_free(cfg);
    return rc;
}

#define HOUR 3600000LL
#define T0   (1796000000000LL / HOUR * HOUR) /* an hour's start */

static void emit(const char *event, const char *queue, bool after_hours, int64_t waiting_s)
{
    json_t *d = json_pack("{s:s, s:b, s:I}", "queue", queue, "after_hours", after_hours,
                          "waiting_s", (json_int_t)waiting_s);
    cr_assert_eq(notify_emit(fu, event, T0, d, &err), 0, "%s", err.msg);
}

struct tally {
    int n;
    char rules[32][64], events[32][40];
    int64_t ids[32];
};

static int count(void *ud, const struct notify_delivery *d)
{
    struct tally *t = ud;
    cr_assert_lt(t->n, 32);
    t->ids[t->n] = d->id;
    snprintf(t->rules[t->n], 64, "%s", d->rule);
    snprintf(t->events[t->n++], 40, "%s", d->event);
    return 0;
}

static int for_rule(const struct tally *t, const char *rule)
{
    int n = 0;
    for (int i = 0; i < t->n; i++)
        n += !strcmp(t->rules[i], rule);
    return n;
}

static struct tally deliveries(int state)
{
    struct tally t = {0};
    cr_assert_eq(notify_list(fu, state, 0, count, &t, &err), 0, "%s", err.msg);
    return t;
}

Test(notify, the_rules_filters_decide_who_gets_what)
{
    struct notify_config nc;
    cr_assert_eq(load("webhook_url = https://crm.example/hook\n"
                      "webhook_events = call.missed, recording.ready\n"
                      "notify.sales.channel = webhook\n"
                      "notify.sales.url = http://127.0.0.1:1/sales\n"
                      "notify.sales.events = call.missed\n"
                      "notify.sales.queue = sales\n"
                      "notify.night.channel = webhook\n"
                      "notify.night.url = http://127.0.0.1:1/night\n"
                      "notify.night.events = *\n"
                      "notify.night.hours = after\n"
                      "notify.slow.channel = webhook\n"
                      "notify.slow.url = http://127.0.0.1:1/slow\n"
                      "notify.slow.events = missed.unreturned\n"
                      "notify.slow.min_wait = 60\n",
                      &nc),
                 0, "%s", err.msg);
    cr_assert_eq(nc.nrules, 4);
    emit("call.missed", "sales", false, 0);
    emit("call.missed", "support", true, 0);
    emit("recording.ready", "sales", false, 0);
    emit("missed.unreturned", "sales", false, 30 * 60);
    emit("missed.unreturned", "sales", false, 61 * 60);
    emit("capture.health", "", true, 0);
    int64_t routed;
    cr_assert_eq(notify_route(fu, &nc, T0, &routed, &err), 0, "%s", err.msg);
    cr_assert_eq(routed, 6);
    struct tally t = deliveries(NOTIFY_PENDING);
    cr_assert_eq(for_rule(&t, "webhook"), 3, "two missed calls and the recording");
    cr_assert_eq(for_rule(&t, "sales"), 1, "only the sales queue's missed call");
    cr_assert_eq(for_rule(&t, "night"), 2, "the after-hours missed call and health alert");
    cr_assert_eq(for_rule(&t, "slow"), 1, "only the entry waiting over an hour");
    struct notify_counts c;
    cr_assert_eq(notify_counts(fu, &c, &err), 0);
    cr_assert_eq(c.outbox, 0, "every event routed");
    cr_assert_eq(c.pending, 7);
    cr_assert_eq(notify_route(fu, &nc, T0, &routed, &err), 0);
    cr_assert_eq(deliveries(-1).n, 7, "routing again adds nothing");
}

Test(notify, an_hourly_digest_is_made_when_its_hour_is_over)
{
    struct notify_config nc;
    cr_assert_eq(load("notify.boss.channel = webhook\n"
                      "notify.boss.url = http://127.0.0.1:1/boss\n"
                      "notify.boss.events = call.missed\n"
                      "notify.boss.digest = hourly\n",
                      &nc),
                 0, "%s", err.msg);
    for (int i = 0; i < 5; i++)
        emit("call.missed", "sales", false, 0);
    int64_t routed;
    cr_assert_eq(notify_route(fu, &nc, T0 + 10 * 60000, &routed, &err), 0, "%s", err.msg);
    cr_assert_eq(deliveries(-1).n, 0, "the hour is not over");
    cr_assert_eq(notify_route(fu, &nc, T0 + 59 * 60000, &routed, &err), 0);
    cr_assert_eq(deliveries(-1).n, 0);
    cr_assert_eq(notify_route(fu, &nc, T0 + HOUR + 1000, &routed, &err), 0);
    struct tally t = deliveries(-1);
    cr_assert_eq(t.n, 1, "one digest for the five");
    cr_assert_str_eq(t.events[0], "digest");
    cr_assert_eq(notify_route(fu, &nc, T0 + 2 * HOUR, &routed, &err), 0);
    cr_assert_eq(deliveries(-1).n, 1, "its items are gone with it");
}

Test(notify, failures_back_off_then_become_dead_letters_that_can_be_retried)
{
    struct notify_config nc;
    cr_assert_eq(load("webhook_url = http://127.0.0.1:1/nobody\nnotify_give_up = 5\n"
                      "notify_timeout = 1\n",
                      &nc),
                 0, "%s", err.msg);
    emit("call.missed", "sales", false, 0);
    int64_t routed, now = es_now_ms();
    cr_assert_eq(notify_route(fu, &nc, now, &routed, &err), 0);
    struct notify_pass p;
    cr_assert_eq(notify_deliver(fu, &nc, now, 10, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(p.failed, 1);
    cr_assert_eq(notify_deliver(fu, &nc, now + 500, 10, &p, &err), 0);
    cr_assert_eq(p.failed + p.sent + p.dead, 0, "not due again before 1 s");
    /* 1 s, 2 s, 4 s: the third failure would retry after the 5 s give-up */
    int64_t t = now;
    int dead = 0;
    for (int i = 0; i < 6 && !dead; i++) {
        t += 9000; /* past any lease and backoff */
        cr_assert_eq(notify_deliver(fu, &nc, t, 10, &p, &err), 0);
        dead = (int)p.dead;
    }
    cr_assert(dead, "a dead letter after notify_give_up");
    struct tally d = deliveries(NOTIFY_DEAD);
    cr_assert_eq(d.n, 1);
    cr_assert_eq(notify_retry(fu, d.ids[0] + 1, t, &err), ES_ENOTFOUND);
    cr_assert_eq(notify_retry(fu, d.ids[0], t, &err), 0, "%s", err.msg);
    cr_assert_eq(deliveries(NOTIFY_PENDING).n, 1);
    cr_assert_eq(deliveries(NOTIFY_DEAD).n, 0);
}

Test(notify, configuration_mistakes_name_the_key)
{
    struct notify_config nc;
    cr_assert_neq(load("notify.a.channel = fax\n", &nc), 0);
    cr_assert(strstr(err.msg, "notify.a.channel 'fax'"), "%s", err.msg);
    cr_assert_neq(load("notify.a.channel = webhook\n", &nc), 0);
    cr_assert(strstr(err.msg, "notify.a: no url"), "%s", err.msg);
    cr_assert_neq(load("notify.a.channel = webhook\nnotify.a.url = ftp://x/\n", &nc), 0);
    cr_assert(strstr(err.msg, "http:// or https://"), "%s", err.msg);
    cr_assert_neq(load("notify.a.channel = email\nnotify.a.to = a@b.c\n", &nc), 0);
    cr_assert(strstr(err.msg, "smtp_url"), "%s", err.msg);
    cr_assert_neq(load("webhook_url = http://x/\nwebhook_events = call.mised\n", &nc), 0);
    cr_assert(strstr(err.msg, "unknown event 'call.mised'"), "%s", err.msg);
    cr_assert_neq(load("notify.a.hours = night\n", &nc), 0);
    cr_assert(strstr(err.msg, "business, after or any"), "%s", err.msg);
    cr_assert_neq(load("notify.a.colour = red\n", &nc), 0);
    cr_assert(strstr(err.msg, "unknown key 'notify.a.colour'"), "%s", err.msg);
    cr_assert_neq(load("notify..url = http://x/\n", &nc), 0, "an empty rule name");
}

/* ---- health --------------------------------------------------------------------- */
static void status(int64_t at, const char *counters)
{
    cr_assert_eq(catalog_recorder_status_put(cat, "eth1", at, counters), 0);
}

struct firing {
    int n;
    bool no_sip, silent, spool_floor, spool_errors;
};

static int on_firing(void *ud, const char *condition, int64_t since)
{
    struct firing *f = ud;
    (void)since;
    f->n++;
    f->no_sip |= !strcmp(condition, "no-sip:eth1");
    f->silent |= !strcmp(condition, "recorder-silent:eth1");
    f->spool_floor |= !strcmp(condition, "spool-floor:eth1");
    f->spool_errors |= !strcmp(condition, "spool-errors:eth1");
    return 0;
}

#define CNT(sip, bad, kdrop, adrop)                                                                \
    "{\"sip_messages\":" #sip ",\"bad_sip\":" #bad ",\"bad_packets\":0,\"kernel_dropped\":" #kdrop \
    ",\"if_dropped\":0,\"audio_dropped\":" #adrop "}"

Test(notify, a_spool_at_its_floor_or_failing_is_a_health_condition)
{
    struct notify_config nc;
    cr_assert_eq(load("webhook_url = http://127.0.0.1:1/\nwebhook_events = capture.health\n", &nc),
                 0, "%s", err.msg);
    struct followup_opts o = {0};
    struct followup_health h;
    int64_t t = es_now_ms() - 600000;
    status(t,
           "{\"sip_messages\":1,\"audio_dropped\":0,\"spool_floor_drops\":0,\"spool_errors\":0}");
    cr_assert_eq(notify_health(fu, &nc, &o, NULL, t, &h, &err), 0, "%s", err.msg);
    /* a spill went on while the disk stayed above its floor: nothing */
    status(t + 60000, "{\"sip_messages\":2,\"audio_dropped\":0,\"spooled_bytes\":9000000,"
                      "\"spool_floor_drops\":0,\"spool_errors\":0}");
    cr_assert_eq(notify_health(fu, &nc, &o, NULL, t + 60000, &h, &err), 0, "%s", err.msg);
    cr_assert_eq(h.raised, 0, "spilling is not a loss");
    status(t + 120000, "{\"sip_messages\":3,\"audio_dropped\":7,\"spool_floor_drops\":7,"
                       "\"spool_errors\":1}");
    cr_assert_eq(notify_health(fu, &nc, &o, NULL, t + 120000, &h, &err), 0, "%s", err.msg);
    cr_assert_eq(h.raised, 3, "audio-dropped, spool-floor and spool-errors (%u)",
                 (unsigned)h.raised);
    struct firing fc = {0};
    cr_assert_eq(notify_health_firing(fu, on_firing, &fc, &err), 0, "%s", err.msg);
    cr_assert(fc.spool_floor, "spool-floor:eth1 is firing");
    cr_assert(fc.spool_errors, "spool-errors:eth1 is firing");
}

Test(notify, health_conditions_fire_once_per_episode_and_clear)
{
    struct notify_config nc;
    cr_assert_eq(load("webhook_url = http://127.0.0.1:1/\n"
                      "webhook_events = capture.health\n"
                      "health_clear_after_minutes = 5\nhealth_no_sip_minutes = 10\n"
                      "health_recorder_silent_minutes = 3\nhealth_unparsed_per_minute = 100\n",
                      &nc),
                 0, "%s", err.msg);
    struct followup_opts o = {0};
    o.has_hours = true;
    cr_assert_eq(an_hours_parse("Mon-Sun 00:00-24:00", &o.hours, &err), 0);
    struct followup_health h;
    int64_t t = es_now_ms() - 3600000;
    status(t, CNT(10, 0, 0, 0));
    cr_assert_eq(notify_health(fu, &nc, &o, NULL, t, &h, &err), 0, "%s", err.msg);
    cr_assert_eq(h.raised, 0, "a first look only records the counters");
    /* a minute later: kernel drops and 300 bad SIP messages a minute */
    status(t + 60000, CNT(20, 300, 5, 0));
    cr_assert_eq(notify_health(fu, &nc, &o, NULL, t + 60000, &h, &err), 0, "%s", err.msg);
    cr_assert_eq(h.raised, 2, "kernel-drops and unparsed");
    /* still dropping: the same episode, nothing new */
    status(t + 120000, CNT(30, 600, 9, 0));
    cr_assert_eq(notify_health(fu, &nc, &o, NULL, t + 120000, &h, &err), 0);
    cr_assert_eq(h.raised, 0);
    cr_assert_eq(h.cleared, 0);
    /* quiet: both clear 5 minutes after they were last seen (the 8th minute) */
    int cleared = 0;
    for (int m = 3; m <= 8; m++) {
        status(t + m * 60000, CNT(31, 600, 9, 0));
        cr_assert_eq(notify_health(fu, &nc, &o, NULL, t + m * 60000, &h, &err), 0);
        cleared += (int)h.cleared;
        cr_assert_eq(h.cleared, m == 8 ? 2 : 0, "minute %d", m);
    }
    cr_assert_eq(cleared, 2);
    /* drops again: a new episode */
    status(t + 9 * 60000, CNT(32, 600, 10, 4));
    cr_assert_eq(notify_health(fu, &nc, &o, NULL, t + 9 * 60000, &h, &err), 0);
    cr_assert_eq(h.raised, 2, "kernel-drops again, and audio-dropped");
    /* no SIP for over 10 minutes in business hours, then no report for 4 minutes */
    int64_t last = 0;
    for (int m = 10; m <= 21; m++) {
        last = t + m * 60000;
        status(last, CNT(32, 600, 10, 4));
        cr_assert_eq(notify_health(fu, &nc, &o, NULL, last, &h, &err), 0);
    }
    cr_assert_eq(notify_health(fu, &nc, &o, NULL, last + 4 * 60000, &h, &err), 0);
    struct firing fc = {0};
    cr_assert_eq(notify_health_firing(fu, on_firing, &fc, &err), 0);
    cr_assert(fc.no_sip, "no-sip:eth1 is firing");
    cr_assert(fc.silent, "recorder-silent:eth1 is firing");
    int64_t routed;
    cr_assert_eq(notify_route(fu, &nc, es_now_ms(), &routed, &err), 0, "%s", err.msg);
    /* fired: kernel-drops, unparsed, kernel-drops, audio-dropped, no-sip, recorder-silent;
     * cleared: kernel-drops, unparsed (8th minute), kernel-drops, audio-dropped (14th) */
    struct tally d = deliveries(-1);
    cr_assert_eq(d.n, 6 + 4, "each firing and each clearing, once (%d)", d.n);
}
