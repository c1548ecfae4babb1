/* earshot missed list|close|claim|report|sync */
#include "followup/followup.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: earshot missed list [--open|--closed] [--since D] [--number N] [--queue Q]\n"
    "                           [--limit N] [--json]\n"
    "       earshot missed close NUMBER --note TEXT [--by NAME]\n"
    "       earshot missed claim ID --by NAME\n"
    "       earshot missed report --from D --to D [--json]\n"
    "       earshot missed sync\n"
    "Every command first reads the calls catalogued since the last one. Open entries\n"
    "are listed longest waiting first; NUMBER is normalised to E.164 with the\n"
    "configuration's country_code (\"anonymous\" for withheld numbers).\n";

static void print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

static void local_time(int64_t ms, char *out, size_t n)
{
    if (!ms) {
        snprintf(out, n, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M", &tm);
}

static void human(int64_t s, char *out, size_t n)
{
    if (s < 3600)
        snprintf(out, n, "%lldm", (long long)(s / 60));
    else if (s < 86400)
        snprintf(out, n, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else
        snprintf(out, n, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

struct print_ctx {
    int json;
    int64_t now, n;
};

static int print_entry(void *ud, const struct followup_entry *e)
{
    struct print_ctx *p = ud;
    p->n++;
    if (p->json) {
        struct es_buf b;
        es_buf_init(&b, 1 << 20);
        if (followup_entry_append(&b, e, p->now) == 0)
            printf("%.*s\n", (int)b.len, b.data);
        es_buf_free(&b);
        return 0;
    }
    char first[24], last[24], wait[24];
    local_time(e->first_missed_at, first, sizeof first);
    local_time(e->last_missed_at, last, sizeof last);
    static const char *const st[] = {"open", "claimed", "closed"};
    if (e->status == FU_CLOSED)
        human((e->closed_at - e->first_missed_at) / 1000, wait, sizeof wait);
    else
        human((p->now - e->first_missed_at) / 1000, wait, sizeof wait);
    printf("%-16s %-12s %-7s %3lld× first %s  last %s  %s %s%s%s%s%s\n", e->number,
           e->line[0] ? e->line : "-", st[e->status], (long long)e->attempts, first, last,
           e->status == FU_CLOSED ? "after" : "waiting", wait,
           e->after_hours ? "  after-hours" : "", e->customer[0] ? "  " : "", e->customer,
           e->status == FU_CLOSED ? "" : "");
    if (e->status == FU_CLAIMED)
        printf("    claimed by %s\n", e->claimed_by);
    if (e->status == FU_CLOSED)
        printf("    closed by %s%s%s%s%s\n", e->closed_by, e->callback_call_id[0] ? " (call " : "",
               e->callback_call_id, e->callback_call_id[0] ? ")" : "", e->note[0] ? ": " : "");
    if (e->status == FU_CLOSED && e->note[0])
        printf("    %s\n", e->note);
    if (e->our_attempts)
        printf("    we called back %lld× without an answer\n", (long long)e->our_attempts);
    return 0;
}

static int open_synced(struct es_cli *cli, struct catalog **cat, struct followup **f,
                       struct followup_opts *o)
{
    struct es_err err = {{0}};
    *cat = NULL;
    *f = NULL;
    if (followup_opts_from_config(cli->config, o, &err) || catalog_open(cli->data_dir, cat, &err) ||
        followup_open(*cat, f, &err)) {
        fprintf(stderr, "earshot missed: %s\n", err.msg);
        catalog_close(*cat);
        return 1;
    }
    int64_t n;
    if (followup_sync(*f, o, &n, &err)) {
        fprintf(stderr, "earshot missed: %s\n", err.msg);
        followup_close(*f);
        catalog_close(*cat);
        return 1;
    }
    return 0;
}

static int day_start(const char *d, int64_t *out)
{
    int64_t to;
    return analytics_window(d, d, out, &to);
}

static int missed_list(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"open", no_argument, NULL, 'o'},        {"closed", no_argument, NULL, 'c'},
        {"since", required_argument, NULL, 's'}, {"number", required_argument, NULL, 'n'},
        {"queue", required_argument, NULL, 'q'}, {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'J'},        {NULL, 0, NULL, 0},
    };
    struct followup_filter flt = {0};
    struct print_ctx p = {0};
    const char *number = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'o':
            flt.which = 1;
            break;
        case 'c':
            flt.which = 2;
            break;
        case 's':
            if (day_start(optarg, &flt.since)) {
                fprintf(
                    stderr,
                    "earshot missed list: --since %s: expected YYYY-MM-DD or an ISO 8601 time\n",
                    optarg);
                return 2;
            }
            break;
        case 'n':
            number = optarg;
            break;
        case 'q':
            flt.line = optarg;
            break;
        case 'l':
            errno = 0;
            flt.limit = (int)strtol(optarg, &end, 10);
            if (errno || *end || flt.limit < 1) {
                fprintf(stderr, "earshot missed list: --limit %s: a positive number\n", optarg);
                return 2;
            }
            break;
        case 'J':
            p.json = 1;
            break;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != cli->argc) {
        fputs(usage, stderr);
        return 2;
    }
    struct catalog *cat;
    struct followup *f;
    struct followup_opts o;
    if (open_synced(cli, &cat, &f, &o))
        return 1;
    char e164[40];
    if (number) {
        if (!strcmp(number, "anonymous"))
            snprintf(e164, sizeof e164, "anonymous");
        else if (archive_e164(number, o.country_code, e164, sizeof e164)) {
            fprintf(stderr, "earshot missed list: --number %s: not a phone number\n", number);
            followup_close(f);
            catalog_close(cat);
            return 2;
        }
        flt.number = e164;
    }
    p.now = es_now_ms();
    struct es_err err = {{0}};
    int rc = followup_list(f, &flt, p.now, print_entry, &p, &err);
    if (rc)
        fprintf(stderr, "earshot missed list: %s\n", err.msg);
    else if (!p.json && !p.n)
        puts("no unreturned calls");
    followup_close(f);
    catalog_close(cat);
    return rc ? 1 : 0;
}

static int missed_close(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"note", required_argument, NULL, 'n'},
        {"by", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    const char *note = NULL, *by = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1) {
        if (c == 'n')
            note = optarg;
        else if (c == 'b')
            by = optarg;
        else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != cli->argc - 1 || !note || !note[0]) {
        fputs("earshot missed close: one NUMBER and --note TEXT (why it needs no callback)\n",
              stderr);
        return 2;
    }
    struct catalog *cat;
    struct followup *f;
    struct followup_opts o;
    if (open_synced(cli, &cat, &f, &o))
        return 1;
    struct es_err err = {{0}};
    int64_t n;
    const char *who = by ? by : getenv("USER");
    int rc = followup_close_number(f, cli->argv[optind], who ? who : "", note, o.country_code,
                                   es_now_ms(), &n, &err);
    if (rc)
        fprintf(stderr, "earshot missed close: %s\n", err.msg);
    else
        printf("closed %lld unreturned call%s\n", (long long)n, n == 1 ? "" : "s");
    followup_close(f);
    catalog_close(cat);
    return rc ? 1 : 0;
}

static int missed_claim(struct es_cli *cli)
{
    static const struct option lo[] = {{"by", required_argument, NULL, 'b'}, {NULL, 0, NULL, 0}};
    const char *by = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1) {
        if (c != 'b') {
            fputs(usage, stderr);
            return 2;
        }
        by = optarg;
    }
    char *end;
    long long id = optind == cli->argc - 1 ? strtoll(cli->argv[optind], &end, 10) : 0;
    if (id <= 0 || *end || !by || !by[0]) {
        fputs("earshot missed claim: one entry ID (from missed list --json) and --by NAME\n",
              stderr);
        return 2;
    }
    struct catalog *cat;
    struct followup *f;
    struct followup_opts o;
    if (open_synced(cli, &cat, &f, &o))
        return 1;
    struct es_err err = {{0}};
    int rc = followup_claim(f, id, by, es_now_ms(), &err);
    if (rc)
        fprintf(stderr, "earshot missed claim: %s\n", err.msg);
    else
        printf("claimed %lld for %s for 30 minutes\n", id, by);
    followup_close(f);
    catalog_close(cat);
    return rc ? 1 : 0;
}

static int missed_report(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'J'},
        {NULL, 0, NULL, 0},
    };
    const char *from = NULL, *to = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1) {
        if (c == 'f')
            from = optarg;
        else if (c == 't')
            to = optarg;
        else if (c == 'J')
            json = 1;
        else {
            fputs(usage, stderr);
            return 2;
        }
    }
    int64_t f0, t0;
    if (!from || !to || optind != cli->argc || analytics_window(from, to, &f0, &t0)) {
        fputs("earshot missed report: --from D --to D (YYYY-MM-DD or ISO 8601, --to not before"
              " --from)\n",
              stderr);
        return 2;
    }
    struct catalog *cat;
    struct followup *f;
    struct followup_opts o;
    if (open_synced(cli, &cat, &f, &o))
        return 1;
    struct es_err err = {{0}};
    struct followup_report r;
    int rc = followup_report(f, f0, t0, &r, &err);
    if (rc) {
        fprintf(stderr, "earshot missed report: %s\n", err.msg);
    } else if (json) {
        print_json(followup_report_json(&r));
    } else {
        printf("missed numbers %lld: called back %lld, called again %lld, closed by hand %lld,"
               " open %lld\n",
               (long long)r.missed, (long long)r.callbacks, (long long)r.called_again,
               (long long)r.manual, (long long)r.open);
        if (r.median_s >= 0) {
            char m[24], p90[24];
            human((int64_t)r.median_s, m, sizeof m);
            human((int64_t)r.p90_s, p90, sizeof p90);
            printf("time to callback: median %s, p90 %s\n", m, p90);
        }
        if (r.within_1h >= 0)
            printf("called back within 1 h: %.1f %%, the same day: %.1f %%\n", 100 * r.within_1h,
                   100 * r.same_day);
    }
    followup_close(f);
    catalog_close(cat);
    return rc ? 1 : 0;
}

int cmd_missed(struct es_cli *cli)
{
    if (cli->argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (!strcmp(cli->argv[1], "-h") || !strcmp(cli->argv[1], "--help")) {
        fputs(usage, stdout);
        return 0;
    }
    struct es_cli sub = *cli;
    sub.argc--;
    sub.argv++;
    const char *w = cli->argv[1];
    if (!strcmp(w, "list"))
        return missed_list(&sub);
    if (!strcmp(w, "close"))
        return missed_close(&sub);
    if (!strcmp(w, "claim"))
        return missed_claim(&sub);
    if (!strcmp(w, "report"))
        return missed_report(&sub);
    if (!strcmp(w, "sync")) {
        struct catalog *cat;
        struct followup *f;
        struct followup_opts o;
        if (open_synced(&sub, &cat, &f, &o))
            return 1;
        followup_close(f);
        catalog_close(cat);
        return 0;
    }
    fprintf(stderr, "earshot missed: unknown command %s\n%s", w, usage);
    return 2;
}
