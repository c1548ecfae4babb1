/* earshot pbx import, earshot operator map|list */
#include "analytics/analytics_int.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage_pbx[] =
    "usage: earshot pbx import [--format queue_log|cdr|events] FILE...\n"
    "       earshot pbx import --follow [--format F] FILE\n"
    "A file is read from where its last import stopped; without --format the format\n"
    "is told from the first line. Bad lines are listed as FILE:LINE: reason (the\n"
    "first 20, then a count); the rest imports, and the exit status is 1.\n"
    "--follow keeps reading FILE as it grows, through rotation and truncation,\n"
    "until SIGTERM; a restart resumes where it stopped.\n";

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

#define SHOW_BAD 20

struct bad_ctx {
    const char *path;
    int64_t shown;
};

static void on_bad(void *ud, int64_t line, const char *why)
{
    struct bad_ctx *b = ud;
    if (b->shown++ < SHOW_BAD)
        fprintf(stderr, "%s:%lld: %s\n", b->path, (long long)line, why);
}

/* queue_log: "digits|"; events: "{"; otherwise a CDR. */
static enum pbx_format guess(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256] = "";
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
    }
    if (line[0] == '{')
        return PBX_EVENTS;
    size_t d = strspn(line, "0123456789.");
    return d && line[d] == '|' ? PBX_QUEUE_LOG : PBX_CDR_CSV;
}

static void report(const char *path, enum pbx_format f, const struct pbx_import_result *r,
                   int json);

#define JOIN_GRACE_MS 60000 /* a call's recording or missed-call row may come this late */

/* One call, one row: the calls that ended a minute ago or more, joined to the
 * catalog's. */
static int join(struct analytics *a, const char *country_code, int json)
{
    struct pbx_join_result j;
    struct es_err err = {{0}};
    if (analytics_join(a, es_now_ms() - JOIN_GRACE_MS, &j, &err)) {
        ES_ERROR("pbx", "joining the queue calls to the catalog: %s", err.msg);
        return 1;
    }
    /* the calls of the last two days from known customers get their segment */
    int64_t tagged;
    if (analytics_tag_calls(a, es_now_ms() - 2 * 86400000LL, country_code, &tagged, &err)) {
        ES_ERROR("pbx", "tagging calls with their customers' segments: %s", err.msg);
        return 1;
    }
    if (!j.joined && !j.created && !j.given_up)
        return 0;
    if (json) {
        json_t *o =
            json_pack("{s:s, s:I, s:I, s:I, s:I}", "type", "join", "joined", (json_int_t)j.joined,
                      "missed_created", (json_int_t)j.created, "waiting_for_recording",
                      (json_int_t)j.waiting, "given_up", (json_int_t)j.given_up);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s)
            puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("calls: %lld recordings given their operator and queue, %lld missed calls"
               " catalogued, %lld answered calls without a recording yet\n",
               (long long)j.joined, (long long)j.created, (long long)j.waiting);
    }
    fflush(stdout);
    return 0;
}

/* Reads FILE as it grows. The open file is kept: when the name points to a new
 * file (rotated), what was written to the old one meanwhile is read first. */
static int follow(struct analytics *a, const char *path, const char *format, const char *cc,
                  int json)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int fd = -1;
    dev_t dev = 0;
    ino_t ino = 0;
    enum pbx_format f = PBX_QUEUE_LOG;
    struct bad_ctx b = {.path = path};
    int64_t next_join = 0;
    while (!stop) {
        if (es_now_ms() >= next_join) {
            join(a, cc, json);
            next_join = es_now_ms() + JOIN_GRACE_MS;
        }
        if (fd < 0) {
            fd = open(path, O_RDONLY | O_CLOEXEC);
            struct stat st;
            if (fd >= 0 && fstat(fd, &st) == 0) {
                dev = st.st_dev;
                ino = st.st_ino;
                if (format)
                    pbx_format_parse(format, &f);
                else
                    f = guess(path);
            } else if (fd >= 0) {
                close(fd);
                fd = -1;
            }
        }
        bool rotated = false;
        if (fd >= 0) {
            struct stat now;
            rotated = stat(path, &now) != 0 || now.st_ino != ino || now.st_dev != dev;
            struct pbx_import_result r;
            struct es_err err = {{0}};
            b.shown = 0;
            if (pbx_import_fd(a, f, fd, path, on_bad, &b, &r, &err))
                ES_ERROR("pbx", "%s", err.msg);
            else if (r.lines)
                report(path, f, &r, json);
            if (rotated) { /* the old file is read to its end: on to the new one */
                close(fd);
                fd = -1;
                continue;
            }
        }
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
    if (fd >= 0)
        close(fd);
    return 0;
}

int cmd_pbx(struct es_cli *cli)
{
    if (cli->argc < 2 || strcmp(cli->argv[1], "import")) {
        fputs(usage_pbx, cli->argc < 2 ? stderr : stdout);
        return 2;
    }
    cli->argc--;
    cli->argv++;
    static const struct option lo[] = {
        {"format", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'J'},
        {"follow", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    const char *format = NULL;
    int json = 0, c, follow_mode = 0;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'J':
            json = 1;
            break;
        case 'F':
            follow_mode = 1;
            break;
        default:
            fputs(usage_pbx, stderr);
            return 2;
        }
    }
    enum pbx_format fixed = PBX_QUEUE_LOG;
    if ((format && pbx_format_parse(format, &fixed)) || optind == cli->argc ||
        (follow_mode && optind != cli->argc - 1)) {
        fputs(usage_pbx, stderr);
        return 2;
    }
    struct catalog *cat = NULL;
    struct analytics *a = NULL;
    struct es_err err = {{0}};
    if (catalog_open(cli->data_dir, &cat, &err) || analytics_open(cat, &a, &err)) {
        fprintf(stderr, "earshot pbx import: %s\n", err.msg);
        catalog_close(cat);
        return 1;
    }
    if (follow_mode) {
        int rc =
            follow(a, cli->argv[optind], format, es_config_get(cli->config, "country_code"), json);
        analytics_close(a);
        catalog_close(cat);
        return rc;
    }
    int status = 0;
    for (int i = optind; i < cli->argc; i++) {
        const char *path = cli->argv[i];
        enum pbx_format f = format ? fixed : guess(path);
        struct bad_ctx b = {.path = path};
        struct pbx_import_result r;
        memset(&err, 0, sizeof err);
        if (pbx_import_file(a, f, path, on_bad, &b, &r, &err)) {
            fprintf(stderr, "earshot pbx import: %s\n", err.msg);
            status = 1;
            continue;
        }
        if (b.shown > SHOW_BAD)
            fprintf(stderr, "%s: %lld more bad lines\n", path, (long long)(b.shown - SHOW_BAD));
        if (r.bad)
            status = 1;
        report(path, f, &r, json);
    }
    if (join(a, es_config_get(cli->config, "country_code"), json))
        status = 1;
    analytics_close(a);
    catalog_close(cat);
    return status;
}

static void report(const char *path, enum pbx_format f, const struct pbx_import_result *r, int json)
{
    if (json) {
        json_t *o =
            json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "file", path, "format",
                      pbx_format_name(f), "lines", (json_int_t)r->lines, "events",
                      (json_int_t)r->events, "bad", (json_int_t)r->bad, "unknown",
                      (json_int_t)r->unknown, "already_imported", (json_int_t)r->skipped_lines);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s)
            puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("%s (%s): %lld new lines, %lld events, %lld bad, %lld not counted"
               " (%lld lines imported before)\n",
               path, pbx_format_name(f), (long long)r->lines, (long long)r->events,
               (long long)r->bad, (long long)r->unknown, (long long)r->skipped_lines);
    }
    fflush(stdout);
}

int cmd_operator(struct es_cli *cli)
{
    if (cli->argc != 4 || strcmp(cli->argv[1], "map")) {
        fputs("usage: earshot operator map AGENT EXTENSION\n"
              "Queue members named otherwise than by their extension (a name, an odd\n"
              "channel) are counted as this operator from the next import on.\n",
              stderr);
        return 2;
    }
    struct catalog *cat = NULL;
    struct analytics *a = NULL;
    struct es_err err = {{0}};
    int rc = catalog_open(cli->data_dir, &cat, &err) || analytics_open(cat, &a, &err) ||
             analytics_map_agent(a, cli->argv[2], cli->argv[3], &err);
    if (rc)
        fprintf(stderr, "earshot operator map: %s\n", err.msg);
    analytics_close(a);
    catalog_close(cat);
    return rc ? 1 : 0;
}

int cmd_customers(struct es_cli *cli)
{
    if (cli->argc != 3 || strcmp(cli->argv[1], "import")) {
        fputs("usage: earshot customers import FILE.csv\n"
              "Lines: number,name,segment (b2b or b2c),account_manager (an extension); a\n"
              "header line is skipped. Numbers are kept in E.164, completed with the\n"
              "configuration's country_code when they start with one 0.\n",
              stderr);
        return 2;
    }
    struct catalog *cat = NULL;
    struct analytics *a = NULL;
    struct es_err err = {{0}};
    if (catalog_open(cli->data_dir, &cat, &err) || analytics_open(cat, &a, &err)) {
        fprintf(stderr, "earshot customers import: %s\n", err.msg);
        catalog_close(cat);
        return 1;
    }
    struct bad_ctx b = {.path = cli->argv[2]};
    struct customers_result r;
    int rc = analytics_customers_import(a, cli->argv[2], es_config_get(cli->config, "country_code"),
                                        on_bad, &b, &r, &err);
    int64_t tagged = 0;
    if (!rc) /* every call so far, from a customer in the directory, gets its segment */
        rc = analytics_tag_calls(a, 0, es_config_get(cli->config, "country_code"), &tagged, &err);
    if (rc)
        fprintf(stderr, "earshot customers import: %s\n", err.msg);
    else
        printf("%s: %lld customers, %lld bad lines; %lld calls tagged with their segment\n",
               cli->argv[2], (long long)r.imported, (long long)r.bad, (long long)tagged);
    analytics_close(a);
    catalog_close(cat);
    return rc || r.bad ? 1 : 0;
}
