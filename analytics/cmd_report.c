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

/* A day (local midnight; as --to, the end of that day) or any time es_time_parse takes. */
static int window_arg(const char *opt, const char *v, bool end, int64_t *out)
{
    int y, m, d;
    char extra;
    if (sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &extra) == 3) {
        struct tm tm = {
            .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d + (end ? 1 : 0), .tm_isdst = -1};
        time_t t = mktime(&tm);
        if (t != (time_t)-1 && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
            *out = (int64_t)t * 1000;
            return 0;
        }
    } else if (es_time_parse(v, strlen(v), out) == 0) {
        return 0;
    }
    fprintf(stderr, "earshot: %s %s: expected YYYY-MM-DD or an ISO 8601 time\n", opt, v);
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

static json_t *counts_json(const struct an_counts *c, bool reasons)
{
    json_t *o = json_pack("{s:I, s:I, s:I}", "offered", (json_int_t)c->offered, "answered",
                          (json_int_t)c->answered, "missed", (json_int_t)c->missed);
    if (reasons) {
        json_t *r = json_object();
        for (int i = 0; i < MISSED_REASONS; i++)
            if (c->missed_by[i])
                json_object_set_new(r, analytics_missed_reasons[i], json_integer(c->missed_by[i]));
        json_object_set_new(o, "missed_reasons", r);
    }
    return o;
}

static json_t *ratio(double v)
{
    return v < 0 ? json_null() : json_real(round(v * 10000) / 10000);
}

static void local_iso(int64_t ms, char *out, size_t n)
{
    struct an_local l;
    an_local(ms, &l);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d", l.year, l.mon, l.day, l.hour, l.min);
}

static const char usage_calls[] =
    "usage: earshot report calls --from D --to D [--queue Q] [--by hour|day|weekday-hour]\n"
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
    if (!from || !to || optind != cli->argc || window_arg("--from", from, false, &q.from) ||
        window_arg("--to", to, true, &q.to)) {
        fputs(usage_calls, stderr);
        return 2;
    }
    q.sl_seconds = (int)sl;
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
        json_t *o = json_pack("{s:s}", "type", "summary");
        json_object_update_new(o, counts_json(&s.all, true));
        json_object_set_new(o, "service_level", ratio(s.service_level));
        json_object_set_new(o, "service_level_abandons", ratio(s.service_level_abandons));
        json_object_set_new(o, "asa_s", json_real(round(s.asa_s * 10) / 10));
        json_object_set_new(o, "aht_s", json_real(round(s.aht_s * 10) / 10));
        json_object_set_new(o, "abandon_wait_s", json_real(round(s.abandon_wait_s * 10) / 10));
        json_object_set_new(o, "max_wait_s", json_real(s.max_wait_s));
        json_object_set_new(o, "after_hours", counts_json(&s.after_hours, false));
        print_json(o);
        for (size_t i = 0; i < nb; i++) {
            json_t *k = json_pack("{s:s}", "type", "bucket");
            if (q.by == AN_BY_WEEKDAY_HOUR) {
                json_object_set_new(k, "weekday", json_integer(b[i].weekday));
                json_object_set_new(k, "hour", json_integer(b[i].hour));
            } else {
                char iso[32];
                local_iso(b[i].start, iso, sizeof iso);
                json_object_set_new(k, "start", json_string(iso));
            }
            json_object_update_new(k, counts_json(&b[i].c, false));
            print_json(k);
        }
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
    if (!from || !to || optind != cli->argc || window_arg("--from", from, false, &f) ||
        window_arg("--to", to, true, &t)) {
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
            json_t *pauses = json_object();
            for (int k = 0; k < p->npauses; k++)
                json_object_set_new(pauses, p->pauses[k].reason,
                                    json_integer(p->pauses[k].seconds));
            json_t *o = json_pack("{s:s, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:o}", "operator",
                                  p->operator_, "logged_in_s", (json_int_t)p->logged_in_s,
                                  "paused_s", (json_int_t)p->paused_s, "pauses", pauses, "sessions",
                                  (json_int_t)p->sessions, "answered", (json_int_t)p->answered,
                                  "talk_s", (json_int_t)p->talk_s, "ring_no_answer",
                                  (json_int_t)p->ring_no_answer, "occupancy", ratio(p->occupancy));
            if (p->unmatched_logoffs)
                json_object_set_new(o, "unmatched_logoffs", json_integer(p->unmatched_logoffs));
            print_json(o);
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

static json_t *erlang_json(const struct erlang_out *o, enum erlang_model m)
{
    json_t *j = json_pack(
        "{s:i, s:f, s:f, s:f, s:f, s:f}", "agents", o->agents, "load", round(o->load * 1000) / 1000,
        "service_level", round(o->service_level * 10000) / 10000, "asa_s",
        round(o->asa_s * 10) / 10, "occupancy", round(o->occupancy * 10000) / 10000, "p_wait",
        round(o->p_wait * 10000) / 10000);
    if (m == ERLANG_A)
        json_object_set_new(j, "abandon", json_real(round(o->abandon * 10000) / 10000));
    return j;
}

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
        print_json(erlang_json(&out, in.model));
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
    struct an_query q = {.by = AN_BY_WEEKDAY_HOUR};
    if (bad || !from || !to || optind != cli->argc ||
        (base.model == ERLANG_A && !base.patience_s) ||
        window_arg("--from", from, false, &q.from) || window_arg("--to", to, true, &q.to)) {
        fputs(usage_staffing, stderr);
        return 2;
    }
    q.sl_seconds = (int)target_s;
    struct catalog *cat;
    struct analytics *a;
    if (open_store(cli, &cat, &a))
        return 1;
    struct an_summary s;
    struct an_bucket *b = NULL;
    size_t nb = 0;
    double avail[168];
    struct es_err err = {{0}};
    int rc = analytics_calls(a, &q, &s, &b, &nb, &err);
    if (!rc)
        rc = analytics_available(a, q.from, q.to, avail, &err);
    if (rc)
        fprintf(stderr, "earshot staffing: %s\n", err.msg);
    /* how many of each weekday-hour the window holds */
    int occurs[168] = {0};
    for (int64_t t = q.from; !rc && t < q.to; t = an_next_hour(t)) {
        struct an_local l;
        an_local(t, &l);
        occurs[(l.weekday - 1) * 24 + l.hour]++;
    }
    if (!rc && !json)
        printf("%-3s %5s %8s %6s %7s %9s %8s %8s\n", "DAY", "HOUR", "CALLS/H", "AHT", "AGENTS",
               "+SHRINK", "PRESENT", "SL SEEN");
    static const char *const days[] = {"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    for (size_t i = 0; i < nb && !rc; i++) {
        const struct an_bucket *k = &b[i];
        if (!occurs[i] || !k->c.offered)
            continue;
        struct erlang_in in = base;
        in.calls = (double)k->c.offered / occurs[i];
        in.aht_s = k->c.completed ? k->c.talk_s / (double)k->c.completed
                   : s.aht_s > 0  ? s.aht_s
                                  : 180;
        in.target_s = target_s;
        struct erlang_out out;
        int need = erlang_agents(&in, level, &out) ? -1 : out.agents;
        int with = need < 0 ? -1 : (int)ceil(need / (1 - shrink));
        double present = avail[i] / (occurs[i] * 3600.0);
        double seen = k->c.answered ? (double)k->c.answered_within / (double)k->c.answered : -1;
        if (json) {
            print_json(json_pack(
                "{s:i, s:i, s:f, s:f, s:o, s:o, s:f, s:o}", "weekday", k->weekday, "hour", k->hour,
                "calls_per_hour", round(in.calls * 100) / 100, "aht_s", round(in.aht_s * 10) / 10,
                "agents", need < 0 ? json_null() : json_integer(need), "agents_with_shrinkage",
                with < 0 ? json_null() : json_integer(with), "observed_agents",
                round(present * 100) / 100, "service_level_observed", ratio(seen)));
        } else {
            char sl[16] = "-";
            if (seen >= 0)
                snprintf(sl, sizeof sl, "%.0f %%", 100 * seen);
            printf("%-3s %02d:00 %8.1f %6.0f %7d %9d %8.1f %8s%s\n", days[k->weekday], k->hour,
                   in.calls, in.aht_s, need, with, present, sl,
                   need > 0 && present + 0.5 < need ? "  under-staffed" : "");
        }
    }
    free(b);
    analytics_close(a);
    catalog_close(cat);
    return rc ? 1 : 0;
}
