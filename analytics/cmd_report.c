/* earshot report calls|presence, earshot erlang, earshot staffing: the
 * analytics as text or JSON lines (--json). */
#include "analytics/analytics_int.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

static int window(const char *from, const char *to, int64_t *f, int64_t *t)
{
    if (analytics_window(from, to, f, t) == 0)
        return 0;
    fprintf(stderr,
            "earshot: --from %s --to %s: expected YYYY-MM-DD (or ISO 8601 times),"
            " --to not before --from\n",
            from ? from : "?", to ? to : "?");
    return ES_EINVAL;
}

static int number(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *e;
    errno = 0;
    double d = strtod(v, &e);
    if (e == v || *e || errno || !(d >= lo && d <= hi)) {
        fprintf(stderr, "earshot: bad %s %s (%g to %g)\n", opt, v, lo, hi);
        return ES_EINVAL;
    }
    *out = d;
    return 0;
}

static void set_tz(const char *tz)
{
    if (tz) {
        setenv("TZ", tz, 1);
        tzset();
    }
}

static int open_store(struct es_cli *cli, struct catalog **cat, struct analytics **a)
{
    struct es_err err = {{0}};
    if (catalog_open(cli->data_dir, cat, &err) || analytics_open(*cat, a, &err)) {
        fprintf(stderr, "earshot: %s\n", err.msg);
        catalog_close(*cat);
        return 1;
    }
    return 0;
}

static void local_iso(int64_t ms, char *out, size_t n)
{
    struct an_local l;
    an_local(ms, &l);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d", l.year, l.mon, l.day, l.hour, l.min);
}

static const char usage_calls[] =
    "usage: earshot report calls --from D --to D [--queue Q] [--segment b2b|b2c]\n"
    "                            [--by hour|day|weekday-hour]\n"
    "                            [--sl-seconds T] [--tz ZONE] [--json]\n"
    "       earshot report presence --from D --to D [--operator X] [--tz ZONE] [--json]\n";

static int report_calls(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"queue", required_argument, NULL, 'q'},
        {"by", required_argument, NULL, 'b'},
        {"sl-seconds", required_argument, NULL, 's'},
        {"tz", required_argument, NULL, 'z'},
        {"json", no_argument, NULL, 'J'},
        {"segment", required_argument, NULL, 'g'},
        {NULL, 0, NULL, 0},
    };
    struct an_query q = {0};
    const char *from = NULL, *to = NULL, *tz = NULL, *by = NULL;
    int json = 0, c;
    double sl = 20;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'q':
            q.queue = optarg;
            break;
        case 'g':
            if (strcmp(optarg, "b2b") && strcmp(optarg, "b2c")) {
                fprintf(stderr, "earshot report calls: --segment %s: b2b or b2c\n", optarg);
                return 2;
            }
            q.segment = optarg;
            break;
        case 'b':
            by = optarg;
            break;
        case 's':
            if (number("--sl-seconds", optarg, 1, 3600, &sl))
                return 2;
            break;
        case 'z':
            tz = optarg;
            break;
        case 'J':
            json = 1;
            break;
        default:
            fputs(usage_calls, stderr);
            return 2;
        }
    }
    set_tz(tz);
    if (!from || !to || optind != cli->argc || window(from, to, &q.from, &q.to)) {
        fputs(usage_calls, stderr);
        return 2;
    }
    q.sl_seconds = (int)sl;
    q.country_code = es_config_get(cli->config, "country_code");
    q.by = !by                           ? AN_BY_NONE
           : !strcmp(by, "hour")         ? AN_BY_HOUR
           : !strcmp(by, "day")          ? AN_BY_DAY
           : !strcmp(by, "weekday-hour") ? AN_BY_WEEKDAY_HOUR
                                         : (enum an_by) - 1;
    if ((int)q.by < 0) {
        fprintf(stderr, "earshot report calls: --by %s: hour, day or weekday-hour\n", by);
        return 2;
    }
    struct an_hours hours;
    const char *bh = es_config_get(cli->config, "business_hours");
    struct es_err err = {{0}};
    if (bh && an_hours_parse(bh, &hours, &err)) {
        fprintf(stderr, "earshot: %s\n", err.msg);
        return 2;
    }
    q.hours = bh ? &hours : NULL;
    struct catalog *cat;
    struct analytics *a;
    if (open_store(cli, &cat, &a))
        return 1;
    struct an_summary s;
    struct an_bucket *b;
    size_t nb;
    int rc = analytics_calls(a, &q, &s, &b, &nb, &err);
    if (rc) {
        fprintf(stderr, "earshot report calls: %s\n", err.msg);
    } else if (json) {
        print_json(analytics_summary_json(&s));
        for (size_t i = 0; i < nb; i++)
            print_json(analytics_bucket_json(&b[i], q.by));
    } else {
        printf("offered %lld  answered %lld  missed %lld\n", (long long)s.all.offered,
               (long long)s.all.answered, (long long)s.all.missed);
        for (int i = 0; i < MISSED_REASONS; i++)
            if (s.all.missed_by[i])
                printf("  missed %-12s %lld\n", analytics_missed_reasons[i],
                       (long long)s.all.missed_by[i]);
        if (s.service_level >= 0)
            printf("service level: %.1f %% answered within %d s (%.1f %% counting abandons)\n",
                   100 * s.service_level, q.sl_seconds, 100 * s.service_level_abandons);
        else
            printf("service level: - (no queue call answered)\n");
        printf("ASA %.1f s  AHT %.1f s  abandon wait %.1f s  longest wait %.0f s\n", s.asa_s,
               s.aht_s, s.abandon_wait_s, s.max_wait_s);
        if (q.hours)
            printf("after hours: offered %lld  missed %lld\n", (long long)s.after_hours.offered,
                   (long long)s.after_hours.missed);
        if (s.managed_answered)
            printf("B2B calls answered by the customer's account manager: %.1f %%\n",
                   100.0 * (double)s.answered_by_manager / (double)s.managed_answered);
        for (size_t i = 0; i < nb; i++) {
            char when[32];
            if (q.by == AN_BY_WEEKDAY_HOUR)
                snprintf(when, sizeof when, "day %d %02d:00", b[i].weekday, b[i].hour);
            else
                local_iso(b[i].start, when, sizeof when);
            if (b[i].c.offered)
                printf("%-18s offered %5lld  answered %5lld  missed %5lld\n", when,
                       (long long)b[i].c.offered, (long long)b[i].c.answered,
                       (long long)b[i].c.missed);
        }
    }
    free(b);
    analytics_close(a);
    catalog_close(cat);
    return rc ? 1 : 0;
}

static int report_presence(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"from", required_argument, NULL, 'f'},     {"to", required_argument, NULL, 't'},
        {"operator", required_argument, NULL, 'o'}, {"tz", required_argument, NULL, 'z'},
        {"json", no_argument, NULL, 'J'},           {NULL, 0, NULL, 0},
    };
    const char *from = NULL, *to = NULL, *tz = NULL, *op = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'o':
            op = optarg;
            break;
        case 'z':
            tz = optarg;
            break;
        case 'J':
            json = 1;
            break;
        default:
            fputs(usage_calls, stderr);
            return 2;
        }
    }
    set_tz(tz);
    int64_t f, t;
    if (!from || !to || optind != cli->argc || window(from, to, &f, &t)) {
        fputs(usage_calls, stderr);
        return 2;
    }
    struct catalog *cat;
    struct analytics *a;
    if (open_store(cli, &cat, &a))
        return 1;
    struct an_presence *rows;
    size_t n;
    struct es_err err = {{0}};
    int rc = analytics_presence(a, f, t, op, &rows, &n, &err);
    if (rc)
        fprintf(stderr, "earshot report presence: %s\n", err.msg);
    if (!rc && !json)
        printf("%-12s %10s %10s %8s %8s %10s %6s %9s\n", "OPERATOR", "LOGGED IN", "PAUSED",
               "SESSIONS", "ANSWERED", "TALK", "RNA", "OCCUPANCY");
    for (size_t i = 0; i < n && !rc; i++) {
        const struct an_presence *p = &rows[i];
        if (json) {
            print_json(analytics_presence_json(p));
        } else {
            char occ[16] = "-";
            if (p->occupancy >= 0)
                snprintf(occ, sizeof occ, "%.1f %%", 100 * p->occupancy);
            printf("%-12s %10lld %10lld %8lld %8lld %10lld %6lld %9s%s\n", p->operator_,
                   (long long)p->logged_in_s, (long long)p->paused_s, (long long)p->sessions,
                   (long long)p->answered, (long long)p->talk_s, (long long)p->ring_no_answer, occ,
                   p->unmatched_logoffs ? "  (logoff without login)" : "");
        }
    }
    free(rows);
    analytics_close(a);
    catalog_close(cat);
    return rc ? 1 : 0;
}

int cmd_analytics_report(struct es_cli *cli)
{
    if (cli->argc >= 2 && !strcmp(cli->argv[1], "calls")) {
        cli->argc--;
        cli->argv++;
        return report_calls(cli);
    }
    if (cli->argc >= 2 && !strcmp(cli->argv[1], "presence")) {
        cli->argc--;
        cli->argv++;
        return report_presence(cli);
    }
    fputs(usage_calls, stderr);
    return 2;
}

/* ---- erlang and staffing ------------------------------------------------------------ */

static const char usage_erlang[] =
    "usage: earshot erlang --calls N --period-s P --aht-s A --target-s T\n"
    "                      (--service-level S | --agents N) [--model c|a --patience-s X] "
    "[--json]\n";

int cmd_erlang(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"calls", required_argument, NULL, 'c'},
        {"period-s", required_argument, NULL, 'p'},
        {"aht-s", required_argument, NULL, 'a'},
        {"target-s", required_argument, NULL, 't'},
        {"service-level", required_argument, NULL, 's'},
        {"agents", required_argument, NULL, 'n'},
        {"model", required_argument, NULL, 'm'},
        {"patience-s", required_argument, NULL, 'P'},
        {"json", no_argument, NULL, 'J'},
        {NULL, 0, NULL, 0},
    };
    struct erlang_in in = {.period_s = 3600, .target_s = 20};
    double target = -1, agents = -1;
    int json = 0, c, bad = 0;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1 && !bad) {
        switch (c) {
        case 'c':
            bad = number("--calls", optarg, 0, 1e7, &in.calls);
            break;
        case 'p':
            bad = number("--period-s", optarg, 1, 1e7, &in.period_s);
            break;
        case 'a':
            bad = number("--aht-s", optarg, 1, 1e5, &in.aht_s);
            break;
        case 't':
            bad = number("--target-s", optarg, 0, 1e5, &in.target_s);
            break;
        case 's':
            bad = number("--service-level", optarg, 0.01, 0.9999, &target);
            break;
        case 'n':
            bad = number("--agents", optarg, 1, 2000, &agents);
            break;
        case 'P':
            bad = number("--patience-s", optarg, 1, 1e6, &in.patience_s);
            break;
        case 'm':
            if (!strcmp(optarg, "c"))
                in.model = ERLANG_C;
            else if (!strcmp(optarg, "a"))
                in.model = ERLANG_A;
            else
                bad = 1;
            break;
        case 'J':
            json = 1;
            break;
        default:
            bad = 1;
        }
    }
    if (bad || optind != cli->argc || !in.aht_s || (target < 0) == (agents < 0) ||
        (in.model == ERLANG_A && !in.patience_s)) {
        fputs(usage_erlang, stderr);
        return 2;
    }
    struct erlang_out out;
    int rc = agents > 0 ? erlang_eval(&in, (int)agents, &out) : erlang_agents(&in, target, &out);
    if (rc) {
        fprintf(stderr, "earshot erlang: %s\n",
                rc == ES_ETOOBIG ? "not reachable with 2,000 agents"
                                 : "these agents cannot carry the load (agents <= calls x AHT /"
                                   " period): the queue grows without end");
        return 1;
    }
    if (json) {
        print_json(analytics_erlang_json(&out, in.model));
    } else {
        printf("agents %d  load %.2f Erlangs  service level %.1f %% in %g s  ASA %.1f s  "
               "occupancy %.1f %%  waiting %.1f %%",
               out.agents, out.load, 100 * out.service_level, in.target_s, out.asa_s,
               100 * out.occupancy, 100 * out.p_wait);
        if (in.model == ERLANG_A)
            printf("  abandon %.1f %%", 100 * out.abandon);
        putchar('\n');
    }
    return 0;
}

static const char usage_staffing[] =
    "usage: earshot staffing --from D --to D [--target-s T] [--service-level S]\n"
    "                        [--shrinkage F] [--model c|a --patience-s X] [--tz ZONE] [--json]\n";

int cmd_staffing(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"target-s", required_argument, NULL, 'T'},
        {"service-level", required_argument, NULL, 's'},
        {"shrinkage", required_argument, NULL, 'k'},
        {"model", required_argument, NULL, 'm'},
        {"patience-s", required_argument, NULL, 'P'},
        {"tz", required_argument, NULL, 'z'},
        {"json", no_argument, NULL, 'J'},
        {NULL, 0, NULL, 0},
    };
    const char *from = NULL, *to = NULL, *tz = NULL;
    double target_s = 20, level = 0.8, shrink = 0.3;
    struct erlang_in base = {.period_s = 3600};
    int json = 0, c, bad = 0;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1 && !bad) {
        switch (c) {
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'T':
            bad = number("--target-s", optarg, 0, 1e5, &target_s);
            break;
        case 's':
            bad = number("--service-level", optarg, 0.01, 0.9999, &level);
            break;
        case 'k':
            bad = number("--shrinkage", optarg, 0, 0.95, &shrink);
            break;
        case 'P':
            bad = number("--patience-s", optarg, 1, 1e6, &base.patience_s);
            break;
        case 'm':
            base.model = !strcmp(optarg, "a") ? ERLANG_A : ERLANG_C;
            bad = strcmp(optarg, "a") && strcmp(optarg, "c");
            break;
        case 'z':
            tz = optarg;
            break;
        case 'J':
            json = 1;
            break;
        default:
            bad = 1;
        }
    }
    set_tz(tz);
    struct an_staffing_query q = {.level = level, .shrinkage = shrink, .model = base};
    q.model.target_s = target_s;
    if (bad || !from || !to || optind != cli->argc ||
        (base.model == ERLANG_A && !base.patience_s) || window(from, to, &q.from, &q.to)) {
        fputs(usage_staffing, stderr);
        return 2;
    }
    struct catalog *cat;
    struct analytics *a;
    if (open_store(cli, &cat, &a))
        return 1;
    struct an_staffing_row rows[168];
    size_t n = 0;
    struct es_err err = {{0}};
    int rc = analytics_staffing(a, &q, rows, &n, &err);
    if (rc)
        fprintf(stderr, "earshot staffing: %s\n", err.msg);
    if (!rc && !json)
        printf("%-3s %5s %8s %6s %7s %9s %8s %8s\n", "DAY", "HOUR", "CALLS/H", "AHT", "AGENTS",
               "+SHRINK", "PRESENT", "SL SEEN");
    static const char *const days[] = {"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    for (size_t i = 0; i < n && !rc; i++) {
        const struct an_staffing_row *r = &rows[i];
        if (json) {
            print_json(analytics_staffing_json(r));
            continue;
        }
        char sl[16] = "-";
        if (r->service_level_observed >= 0)
            snprintf(sl, sizeof sl, "%.0f %%", 100 * r->service_level_observed);
        printf("%-3s %02d:00 %8.1f %6.0f %7d %9d %8.1f %8s%s\n", days[r->weekday], r->hour,
               r->calls_per_hour, r->aht_s, r->agents, r->agents_with_shrinkage, r->observed_agents,
               sl, r->agents > 0 && r->observed_agents + 0.5 < r->agents ? "  under-staffed" : "");
    }
    analytics_close(a);
    catalog_close(cat);
    return rc ? 1 : 0;
}
