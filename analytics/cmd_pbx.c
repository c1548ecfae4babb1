/* earshot pbx import, earshot operator map|list */
#include "analytics/analytics_int.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_pbx[] =
    "usage: earshot pbx import [--format queue_log|cdr|events] FILE...\n"
    "A file is read from where its last import stopped; without --format the format\n"
    "is told from the first line. Bad lines are listed as FILE:LINE: reason (the\n"
    "first 20, then a count); the rest imports, and the exit status is 1.\n";

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
        {NULL, 0, NULL, 0},
    };
    const char *format = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'J':
            json = 1;
            break;
        default:
            fputs(usage_pbx, stderr);
            return 2;
        }
    }
    enum pbx_format fixed = PBX_QUEUE_LOG;
    if ((format && pbx_format_parse(format, &fixed)) || optind == cli->argc) {
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
        if (json) {
            json_t *o =
                json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "file", path, "format",
                          pbx_format_name(f), "lines", (json_int_t)r.lines, "events",
                          (json_int_t)r.events, "bad", (json_int_t)r.bad, "unknown",
                          (json_int_t)r.unknown, "already_imported", (json_int_t)r.skipped_lines);
            char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (s)
                puts(s);
            free(s);
            json_decref(o);
        } else {
            printf("%s (%s): %lld new lines, %lld events, %lld bad, %lld not counted"
                   " (%lld lines imported before)\n",
                   path, pbx_format_name(f), (long long)r.lines, (long long)r.events,
                   (long long)r.bad, (long long)r.unknown, (long long)r.skipped_lines);
        }
    }
    analytics_close(a);
    catalog_close(cat);
    return status;
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
