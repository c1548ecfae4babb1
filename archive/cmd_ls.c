/* earshot ls, show, hold, unhold: reading the catalog. */
#include "archive/archive.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int open_catalog(struct es_cli *cli, struct catalog **c)
{
    struct es_err err = {{0}};
    int rc = catalog_open(cli->data_dir, c, &err);
    if (rc)
        ES_ERROR(cli->argv[0], "%s", err.msg);
    return rc;
}

/* Local wall-clock time for people; JSON always carries UTC. */
static void local_time(int64_t ms, char *out, size_t outlen)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, outlen, "?");
}

static void print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

struct ls_ctx {
    int json;
    size_t n;
};

static int ls_row(void *ud, const struct archive_call *k, const struct archive_recording *r)
{
    struct ls_ctx *x = ud;
    x->n++;
    if (x->json) {
        print_json(archive_call_json(k, r));
        return 0;
    }
    char when[32];
    local_time(k->started_at, when, sizeof when);
    long long d = (long long)(k->duration_ms / 1000);
    char outcome[160];
    snprintf(outcome, sizeof outcome, "%s%s%s", k->disposition, k->reason[0] ? ": " : "",
             k->reason);
    printf("%-36s  %s  %3lld:%02lld  %-8s  %-16.16s  %-16.16s  %-10.10s  %s%s\n", k->id, when,
           d / 60, d % 60, k->direction, k->caller[0] ? k->caller : "-",
           k->callee[0] ? k->callee : "-", k->operator_[0] ? k->operator_ : "-",
           k->purged_at ? "purged"
           : r          ? r->path
                        : outcome,
           k->legal_hold ? "  [hold]" : "");
    return 0;
}

static int parse_time_arg(const char *opt, const char *v, int64_t *out)
{
    if (es_time_parse(v, strlen(v), out) == 0)
        return 0;
    fprintf(stderr, "earshot: %s %s: expected YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM]\n", opt, v);
    return ES_EINVAL;
}

int cmd_ls(struct es_cli *cli)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'J'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"operator", required_argument, NULL, 'o'},
        {"limit", required_argument, NULL, 'n'},
        {"disposition", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    struct catalog_filter f = {0};
    struct ls_ctx x = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'J':
            x.json = 1;
            break;
        case 's':
            if (parse_time_arg("--since", optarg, &f.since))
                return 2;
            break;
        case 'u':
            if (parse_time_arg("--until", optarg, &f.until))
                return 2;
            break;
        case 'o':
            f.operator_ = optarg;
            break;
        case 'n':
            f.limit = (int)strtol(optarg, NULL, 10);
            break;
        case 'd':
            if (strcmp(optarg, "answered") && strcmp(optarg, "missed") &&
                strcmp(optarg, "rejected")) {
                fprintf(stderr, "earshot ls: --disposition %s: answered, missed or rejected\n",
                        optarg);
                return 2;
            }
            f.disposition = optarg;
            break;
        default:
            fputs("usage: earshot ls [--json] [--since T] [--until T] [--operator X] [--limit N]\n"
                  "                 [--disposition answered|missed|rejected]\n",
                  stderr);
            return 2;
        }
    }
    if (optind < cli->argc) {
        fprintf(stderr, "earshot ls: unexpected argument %s\n", cli->argv[optind]);
        return 2;
    }
    struct catalog *cat;
    if (open_catalog(cli, &cat))
        return 1;
    if (!x.json)
        printf("%-36s  %-19s  %6s  %-8s  %-16s  %-16s  %-10s  %s\n", "ID", "STARTED", "LENGTH",
               "DIR", "CALLER", "CALLEE", "OPERATOR", "FILE");
    int rc = catalog_list(cat, &f, ls_row, &x);
    if (rc)
        ES_ERROR("ls", "%s", catalog_strerror(cat, rc));
    catalog_close(cat);
    return rc ? 1 : 0;
}

/* "ID [--json]": exactly one id, optionally --json. */
static const char *parse_id_args(struct es_cli *cli, const char *usage, int *json)
{
    const char *id = NULL;
    *json = 0;
    for (int i = 1; i < cli->argc; i++) {
        if (!strcmp(cli->argv[i], "--json") && json) {
            *json = 1;
        } else if (!id && cli->argv[i][0] != '-') {
            id = cli->argv[i];
        } else {
            id = NULL;
            break;
        }
    }
    if (!id)
        fprintf(stderr, "usage: earshot %s\n", usage);
    return id;
}

static void show_text(const struct archive_call *k, const struct archive_recording *r,
                      const struct archive_analysis *an)
{
    char when[32];
    local_time(k->started_at, when, sizeof when);
    printf("id:           %s\nstarted:      %s\nduration:     %lld.%03lld s\n", k->id, when,
           (long long)(k->duration_ms / 1000), (long long)(k->duration_ms % 1000));
    printf("direction:    %s\ncaller:       %s\ncallee:       %s\noperator:     %s\n", k->direction,
           k->caller, k->callee, k->operator_);
    printf("customer:     %s\nqueue:        %s\nexternal id:  %s\ntags:         %s\n", k->customer,
           k->queue, k->external_id, k->tags);
    printf("disposition:  %s%s%s\nsource:       %s %s\nmetadata:     %s\n", k->disposition,
           k->reason[0] ? " / " : "", k->reason, k->source, k->source_ref, k->meta_sources);
    printf("legal hold:   %s\n", k->legal_hold ? "yes" : "no");
    if (k->purged_at)
        printf("audio:        purged by retention\n");
    else if (r)
        printf("audio:        %s\n              %d ch, %d Hz (source %d Hz), %d b/s, %lld bytes\n"
               "sha256:       %s\n",
               r->path, r->channels, r->sample_rate, r->source_rate, r->bitrate,
               (long long)r->bytes, r->sha256);
    if (!an)
        return;
    for (int c = 0; c < an->channels; c++)
        printf("talk %-8s  %lld.%01lld s, longest silence %lld.%01lld s, %d silences >= 2 s\n",
               an->channels == 2 ? (c ? "operator" : "customer") : "",
               (long long)(an->ch[c].talk_ms / 1000), (long long)(an->ch[c].talk_ms % 1000 / 100),
               (long long)(an->ch[c].longest_silence_ms / 1000),
               (long long)(an->ch[c].longest_silence_ms % 1000 / 100), an->ch[c].nsilences);
    if (an->channels == 2)
        printf("overtalk:     %lld.%01lld s\ntalk ratio:   %.0f%% operator\n",
               (long long)(an->overtalk_ms / 1000), (long long)(an->overtalk_ms % 1000 / 100),
               an->talk_ratio >= 0 ? an->talk_ratio * 100 : 0.0);
}

int cmd_show(struct es_cli *cli)
{
    int json;
    const char *id = parse_id_args(cli, "show ID [--json]", &json);
    if (!id)
        return 2;
    struct catalog *cat;
    if (open_catalog(cli, &cat))
        return 1;
    struct archive_call *k = malloc(sizeof *k);
    struct archive_recording r;
    struct archive_analysis an;
    bool has_rec = false;
    int rc = k ? catalog_get(cat, id, k, &r, &has_rec) : ES_ENOMEM;
    if (rc) {
        ES_ERROR("show", "%s: %s", id,
                 rc == ES_ENOTFOUND ? "no such call" : catalog_strerror(cat, rc));
        goto out;
    }
    int has_an = catalog_get_analysis(cat, id, &an) == 0;
    if (json) {
        json_t *o = archive_call_json(k, has_rec ? &r : NULL);
        json_object_set_new(o, "analysis", has_an ? archive_analysis_json(&an) : json_null());
        print_json(o);
    } else {
        show_text(k, has_rec ? &r : NULL, has_an ? &an : NULL);
    }
    if (has_an)
        archive_analysis_release(&an);
out:
    free(k);
    catalog_close(cat);
    return rc ? 1 : 0;
}

static int set_hold(struct es_cli *cli, bool hold)
{
    int json;
    const char *id = parse_id_args(cli, hold ? "hold ID" : "unhold ID", &json);
    if (!id || json)
        return 2;
    struct catalog *cat;
    if (open_catalog(cli, &cat))
        return 1;
    int rc = catalog_set_hold(cat, id, hold);
    if (rc)
        ES_ERROR(cli->argv[0], "%s: %s", id,
                 rc == ES_ENOTFOUND ? "no such call" : catalog_strerror(cat, rc));
    else
        ES_INFO(cli->argv[0], "%s: legal hold %s", id, hold ? "set" : "lifted");
    catalog_close(cat);
    return rc ? 1 : 0;
}

int cmd_hold(struct es_cli *cli)
{
    return set_hold(cli, true);
}

int cmd_unhold(struct es_cli *cli)
{
    return set_hold(cli, false);
}

struct src_ctx {
    int json;
    size_t n;
};

static int source_row(void *ud, const struct catalog_source_count *v)
{
    struct src_ctx *x = ud;
    x->n++;
    char first[40], last[40];
    local_time(v->first_at, first, sizeof first);
    local_time(v->last_at, last, sizeof last);
    if (x->json) {
        print_json(json_pack("{s:s, s:I, s:I, s:I, s:s, s:s}", "address", v->address, "attempts",
                             (json_int_t)v->attempts, "catalogued", (json_int_t)v->catalogued,
                             "untracked", (json_int_t)v->untracked, "first", first, "last", last));
        return 0;
    }
    printf("%-39s  %10llu  %10llu  %10llu  %s  %s\n", v->address, (unsigned long long)v->attempts,
           (unsigned long long)v->catalogued, (unsigned long long)v->untracked, first, last);
    return 0;
}

static bool day_arg(const char *v, char *out)
{
    int64_t ms;
    if (es_time_parse(v, strlen(v), &ms))
        return false;
    struct es_tm tm;
    es_tm_from_ms(ms, &tm);
    snprintf(out, 16, "%04d-%02d-%02d", tm.year % 10000, tm.mon, tm.day);
    return true;
}

/* earshot sources: where the INVITEs that were not calls came from (refused
 * by the PBX, or never tracked by a full call table), busiest first. */
int cmd_sources(struct es_cli *cli)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'J'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"limit", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] =
        "usage: earshot sources [--json] [--since DAY] [--until DAY] [--limit N]\n";
    struct src_ctx x = {0};
    char from[16] = "0000-00-00", to[16] = "9999-99-99";
    int c, limit = 20;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'J':
            x.json = 1;
            break;
        case 's':
        case 'u':
            if (!day_arg(optarg, c == 's' ? from : to)) {
                fprintf(stderr, "earshot sources: %s %s: expected YYYY-MM-DD\n",
                        c == 's' ? "--since" : "--until", optarg);
                return 2;
            }
            break;
        case 'n': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (end == optarg || *end || n < 1 || n > 100000) {
                fprintf(stderr, "earshot sources: bad --limit %s (1 to 100000)\n", optarg);
                return 2;
            }
            limit = (int)n;
            break;
        }
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind < cli->argc) {
        fprintf(stderr, "earshot sources: unexpected argument %s\n%s", cli->argv[optind], usage);
        return 2;
    }
    struct catalog *cat;
    if (open_catalog(cli, &cat))
        return 1;
    if (!x.json)
        printf("%-39s  %10s  %10s  %10s  %-19s  %s\n", "ADDRESS", "ATTEMPTS", "CATALOGUED",
               "UNTRACKED", "FIRST", "LAST");
    int rc = catalog_top_sources(cat, from, to, limit, source_row, &x);
    catalog_close(cat);
    return rc ? 1 : 0;
}
