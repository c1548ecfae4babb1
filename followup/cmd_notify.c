/* earshot notify run|list|retry|test: the notification sender and its dead
 * letters. */
#include "followup/followup.h"

#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: earshot notify run [--once] [--interval S]\n"
    "       earshot notify list [--pending|--dead|--delivered] [--limit N] [--json]\n"
    "       earshot notify retry ID\n"
    "run reads the calls catalogued since its last pass (call.missed, recording.ready),\n"
    "raises missed.unreturned for entries open longer than unreturned_after,\n"
    "capture.health when a live recorder or the disk is in trouble (once per episode)\n"
    "and ingest.failed for inputs that could not be archived, routes the\n"
    "events through the configured rules and delivers them, at least once, retrying\n"
    "for 24 h; until SIGTERM (--once: one pass). list shows deliveries, newest first;\n"
    "retry sends a dead (or waiting) one again now.\n";

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

struct ctx {
    struct catalog *cat;
    struct followup *f;
    struct followup_opts o;
    struct notify_config nc;
    const char *data_dir;
};

static int open_all(struct es_cli *cli, struct ctx *x)
{
    struct es_err err = {{0}};
    memset(x, 0, sizeof *x);
    if (followup_opts_from_config(cli->config, &x->o, &err) ||
        notify_config_load(cli->config, &x->nc, &err) ||
        catalog_open(cli->data_dir, &x->cat, &err) || followup_open(x->cat, &x->f, &err)) {
        fprintf(stderr, "earshot notify: %s\n", err.msg);
        catalog_close(x->cat);
        return 1;
    }
    x->data_dir = catalog_data_dir(x->cat);
    return 0;
}

static void close_all(struct ctx *x)
{
    followup_close(x->f);
    catalog_close(x->cat);
}

/* One pass; *more: deliveries were left due. */
static int pass(struct ctx *x, bool *more)
{
    struct es_err err = {{0}};
    int64_t now = es_now_ms(), n, u, routed;
    x->o.emit_after = now - x->nc.max_age_ms;
    *more = false;
    struct followup_health h;
    if (followup_sync(x->f, &x->o, &n, &err) || notify_unreturned(x->f, &x->nc, now, &u, &err) ||
        notify_health(x->f, &x->nc, &x->o, x->data_dir, now, &h, &err) ||
        notify_route(x->f, &x->nc, now, &routed, &err)) {
        ES_ERROR("notify", "%s", err.msg);
        return 1;
    }
    struct notify_pass p;
    if (notify_deliver(x->f, &x->nc, es_now_ms(), 100, &p, &err)) {
        ES_ERROR("notify", "%s", err.msg);
        return 1;
    }
    if (p.sent + p.failed + p.dead)
        ES_INFO("notify", "%lld delivered, %lld to retry, %lld given up (dead letters)",
                (long long)p.sent, (long long)p.failed, (long long)p.dead);
    *more = p.sent + p.failed + p.dead == 100;
    return 0;
}

static int notify_run(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"once", no_argument, NULL, 'o'},
        {"interval", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    bool once = false;
    double interval = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1) {
        if (c == 'o') {
            once = true;
        } else if (c == 'i') {
            char *e;
            interval = strtod(optarg, &e);
            if (e == optarg || *e || !(interval >= 0.05 && interval <= 60)) {
                fprintf(stderr, "earshot notify run: --interval %s: seconds, 0.05 to 60\n", optarg);
                return 2;
            }
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != cli->argc) {
        fputs(usage, stderr);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct ctx x;
    if (open_all(cli, &x))
        return 1;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (!once)
        ES_INFO("notify", "sending notifications for %d rule%s", x.nc.nrules,
                x.nc.nrules == 1 ? "" : "s");
    int rc = 0;
    while (!stop) {
        bool more;
        rc = pass(&x, &more);
        if (once && !more)
            break;
        if (!more) {
            struct timespec ts = {(time_t)interval,
                                  (long)((interval - (double)(time_t)interval) * 1e9)};
            nanosleep(&ts, NULL);
        }
        rc = 0; /* a failed pass (the disk, the database) is tried again */
    }
    close_all(&x);
    curl_global_cleanup();
    return rc;
}

/* URLs as shown: without a user name or password in them. */
static void shown_target(const char *t, char *out, size_t n)
{
    const char *scheme = strstr(t, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
    if (scheme && at && (!slash || at < slash))
        snprintf(out, n, "%.*s://%s", (int)(scheme - t), t, at + 1);
    else
        snprintf(out, n, "%s", t);
}

struct list_ctx {
    int json;
    int64_t n;
};

static int print_delivery(void *ud, const struct notify_delivery *d)
{
    struct list_ctx *l = ud;
    struct notify_delivery shown = *d;
    shown_target(d->target, shown.target, sizeof shown.target);
    l->n++;
    if (l->json) {
        json_t *o = notify_delivery_json(&shown);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s)
            puts(s);
        free(s);
        json_decref(o);
        return 0;
    }
    static const char *const st[] = {"pending", "delivered", "dead"};
    printf("%-6lld %-9s %-20s %-10s %-40s attempts %lld%s%s\n", (long long)d->id, st[d->state],
           d->event, d->rule, shown.target, (long long)d->attempts,
           d->last_error[0] ? "  last error: " : "", d->last_error);
    return 0;
}

static int notify_list_cmd(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"pending", no_argument, NULL, 'p'},   {"dead", no_argument, NULL, 'd'},
        {"delivered", no_argument, NULL, 'D'}, {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'J'},      {NULL, 0, NULL, 0},
    };
    int state = -1, limit = 100, c;
    struct list_ctx l = {0};
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1) {
        char *e;
        switch (c) {
        case 'p':
            state = NOTIFY_PENDING;
            break;
        case 'd':
            state = NOTIFY_DEAD;
            break;
        case 'D':
            state = NOTIFY_DELIVERED;
            break;
        case 'l':
            limit = (int)strtol(optarg, &e, 10);
            if (*e || limit < 1) {
                fprintf(stderr, "earshot notify list: --limit %s: a positive number\n", optarg);
                return 2;
            }
            break;
        case 'J':
            l.json = 1;
            break;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    struct ctx x;
    if (open_all(cli, &x))
        return 1;
    struct es_err err = {{0}};
    int rc = notify_list(x.f, state, limit, print_delivery, &l, &err);
    if (rc)
        fprintf(stderr, "earshot notify list: %s\n", err.msg);
    else if (!l.json && !l.n)
        puts("no deliveries");
    close_all(&x);
    return rc ? 1 : 0;
}

static int notify_retry_cmd(struct es_cli *cli)
{
    char *e = NULL;
    long long id = cli->argc == 2 ? strtoll(cli->argv[1], &e, 10) : 0;
    if (id <= 0 || (e && *e)) {
        fputs("earshot notify retry: one delivery ID (from notify list)\n", stderr);
        return 2;
    }
    struct ctx x;
    if (open_all(cli, &x))
        return 1;
    struct es_err err = {{0}};
    int rc = notify_retry(x.f, id, es_now_ms(), &err);
    if (rc)
        fprintf(stderr, "earshot notify retry: %s\n", err.msg);
    else
        printf("delivery %lld will be sent again by the next pass of notify run\n", id);
    close_all(&x);
    return rc ? 1 : 0;
}

int cmd_notify(struct es_cli *cli)
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
    if (!strcmp(w, "run"))
        return notify_run(&sub);
    if (!strcmp(w, "list"))
        return notify_list_cmd(&sub);
    if (!strcmp(w, "retry"))
        return notify_retry_cmd(&sub);
    fprintf(stderr, "earshot notify: unknown command %s\n%s", w, usage);
    return 2;
}
