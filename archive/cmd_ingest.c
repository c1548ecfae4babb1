/* earshot ingest: archive PBX recordings from files and directories. */
#include "archive/ingest_int.h"

#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: earshot ingest [-j N] [--meta FILE] [--keep | --move-to DIR | --delete]\n"
    "                      [--pattern REGEX] [--legs IN,OUT] [--bitrate BPS]\n"
    "                      [--stereo-bitrate BPS] [--max-rate HZ] [--json] PATH...\n"
    "       earshot ingest --watch DIR [--settle SECONDS] [same options]\n";

struct runner {
    struct ingest_session *s;
    const char *data_dir;
    struct ingest_plan *plan;
    atomic_size_t next;
    pthread_mutex_t out_mu;
    size_t done, archived, skipped, failed;
    int json, progress;
};

static void report(struct runner *r, const struct ingest_job *j, const struct ingest_result *res)
{
    static const char *const names[] = {"archived", "skipped", "failed"};
    pthread_mutex_lock(&r->out_mu);
    r->done++;
    r->archived += res->status == INGEST_ARCHIVED;
    r->skipped += res->status == INGEST_SKIPPED;
    r->failed += res->status == INGEST_FAILED;
    if (r->progress)
        fputs("\r\033[K", stderr);
    char input[4200];
    if (j->nlegs == 2)
        snprintf(input, sizeof input, "%s + %s", j->path[0], j->path[1]);
    else
        snprintf(input, sizeof input, "%s", j->path[0]);
    if (r->json) {
        json_t *o = json_pack("{s:s, s:s}", "input", input, "status", names[res->status]);
        if (res->id[0])
            json_object_set_new(o, "id", json_string(res->id));
        if (res->status == INGEST_ARCHIVED) {
            json_object_set_new(o, "path", json_string(res->path));
            json_object_set_new(o, "duration_ms", json_integer(res->duration_ms));
        } else {
            json_object_set_new(o, "reason", json_string(res->msg));
        }
        char *line = json_dumps(o, JSON_COMPACT);
        if (line)
            printf("%s\n", line);
        free(line);
        json_decref(o);
    } else if (res->status == INGEST_ARCHIVED) {
        printf("archived %s -> %s (%lld.%03lld s)\n", input, res->id,
               (long long)(res->duration_ms / 1000), (long long)(res->duration_ms % 1000));
    } else if (res->status == INGEST_SKIPPED) {
        printf("skipped  %s: %s\n", input, res->msg);
    }
    if (res->status == INGEST_FAILED)
        ES_ERROR("ingest", "%s: %s", input, res->msg);
    if (r->progress)
        fprintf(stderr, "ingest: %zu/%zu done, %zu failed", r->done, r->plan->njobs, r->failed);
    fflush(stdout);
    pthread_mutex_unlock(&r->out_mu);
}

static void *worker(void *arg)
{
    struct runner *r = arg;
    struct catalog *c = NULL;
    struct es_err err = {{0}};
    if (catalog_open(r->data_dir, &c, &err)) {
        ES_ERROR("ingest", "%s", err.msg);
        return (void *)1;
    }
    struct ingest_result res;
    for (;;) {
        size_t i = atomic_fetch_add(&r->next, 1);
        if (i >= r->plan->njobs)
            break;
        ingest_run(r->s, c, &r->plan->jobs[i], &res);
        report(r, &r->plan->jobs[i], &res);
    }
    catalog_close(c);
    return NULL;
}

/* Runs every job of plan on `jobs` threads; 0 if all archived or skipped. */
static int run_plan(struct ingest_session *s, const char *data_dir, struct ingest_plan *plan,
                    int jobs, int json)
{
    struct runner r = {.s = s, .data_dir = data_dir, .plan = plan, .json = json};
    r.progress = isatty(2) && plan->njobs > 1 && es_log_get_level() <= ES_LOG_INFO;
    pthread_mutex_init(&r.out_mu, NULL);
    if ((size_t)jobs > plan->njobs)
        jobs = plan->njobs ? (int)plan->njobs : 1;
    pthread_t th[256];
    int started = 0, worker_failed = 0;
    for (int i = 1; i < jobs; i++)
        started += pthread_create(&th[started], NULL, worker, &r) == 0;
    worker_failed = worker(&r) != NULL;
    for (int i = 0; i < started; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        worker_failed |= ret != NULL;
    }
    if (r.progress)
        fputs("\r\033[K", stderr);
    pthread_mutex_destroy(&r.out_mu);
    if (plan->njobs)
        ES_INFO("ingest", "done: archived=%zu skipped=%zu failed=%zu", r.archived, r.skipped,
                r.failed);
    return r.failed || worker_failed || r.done < plan->njobs ? 1 : 0;
}

struct watch_ctx {
    const struct ingest_opts *o;
};

static void watch_batch(void *ud, struct ingest_session *s, char **paths, size_t n, int jobs,
                        int json)
{
    struct watch_ctx *x = ud;
    struct ingest_plan plan;
    struct es_err err = {{0}};
    if (ingest_plan_build(x->o, paths, (int)n, &plan, &err)) {
        ES_ERROR("watch", "%s", err.msg);
        return;
    }
    run_plan(s, x->o->data_dir, &plan, jobs, json);
    ingest_plan_free(&plan);
}

static int parse_legs(char *arg, struct ingest_opts *o)
{
    char *comma = strchr(arg, ',');
    if (!comma || comma == arg || !comma[1])
        return ES_EINVAL;
    *comma = '\0';
    o->leg_suffix[0] = arg;
    o->leg_suffix[1] = comma + 1;
    return 0;
}

static int parse_tenths(const char *s, int *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= 0 && v <= 3600))
        return ES_EINVAL;
    *out = (int)(v * 10 + 0.5);
    return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return ES_EINVAL;
    *out = (int)v;
    return 0;
}

static const struct option opts[] = {
    {"jobs", required_argument, NULL, 'j'},
    {"meta", required_argument, NULL, 'm'},
    {"keep", no_argument, NULL, 'k'},
    {"move-to", required_argument, NULL, 'M'},
    {"delete", no_argument, NULL, 'D'},
    {"pattern", required_argument, NULL, 'p'},
    {"legs", required_argument, NULL, 'l'},
    {"bitrate", required_argument, NULL, 'b'},
    {"stereo-bitrate", required_argument, NULL, 'B'},
    {"max-rate", required_argument, NULL, 'R'},
    {"complexity", required_argument, NULL, 'c'},
    {"json", no_argument, NULL, 'J'},
    {"help", no_argument, NULL, 'h'},
    {"watch", required_argument, NULL, 'w'},
    {"settle", required_argument, NULL, 'S'},
    {NULL, 0, NULL, 0},
};

/* Configuration keys and the option each one stands for. */
static const struct {
    const char *key;
    int opt;
} config_opts[] = {
    {"ingest.jobs", 'j'},    {"ingest.pattern", 'p'},        {"ingest.legs", 'l'},
    {"ingest.bitrate", 'b'}, {"ingest.stereo_bitrate", 'B'}, {"ingest.settle", 'S'},
    {"ingest.move_to", 'M'}, {"ingest.delete", 'D'},         {"ingest.max_rate", 'R'},
};

struct ingest_args {
    struct ingest_opts o;
    int jobs, json, nchoices, settle_ds; /* settle in tenths of a second */
    const char *pattern, *watch;
    char legs[128];
};

/* One option, from the command line or the configuration file. */
static int apply_opt(struct ingest_args *a, int c, const char *v)
{
    switch (c) {
    case 'j':
        return parse_int(v, 1, 256, &a->jobs);
    case 'm':
        a->o.meta_file = v;
        return 0;
    case 'k':
        a->o.disposition = INGEST_KEEP;
        a->nchoices++;
        return 0;
    case 'M':
        a->o.disposition = INGEST_MOVE;
        a->o.move_to = v;
        a->nchoices++;
        return 0;
    case 'D':
        a->o.disposition = INGEST_DELETE;
        a->nchoices++;
        return 0;
    case 'p':
        a->pattern = v;
        return 0;
    case 'l':
        return es_fmt(a->legs, sizeof a->legs, "%s", v) ? ES_EINVAL : parse_legs(a->legs, &a->o);
    case 'b':
        return parse_int(v, 6000, 256000, &a->o.bitrate_mono);
    case 'B':
        return parse_int(v, 6000, 512000, &a->o.bitrate_stereo);
    case 'R':
        return parse_int(v, 8000, 48000, &a->o.max_rate);
    case 'c':
        return parse_int(v, 0, 10, &a->o.complexity);
    case 'J':
        a->json = 1;
        return 0;
    case 'w':
        a->watch = v;
        return 0;
    case 'S':
        return parse_tenths(v, &a->settle_ds);
    }
    return ES_EINVAL;
}

static const char *opt_name(int c)
{
    for (const struct option *o = opts; o->name; o++)
        if (o->val == c)
            return o->name;
    return "?";
}

/* Configuration file defaults; options on the command line win. */
static int apply_config(struct ingest_args *a, const struct es_config *cfg)
{
    for (size_t i = 0; i < ES_ARRAY_LEN(config_opts); i++) {
        const char *v = es_config_get(cfg, config_opts[i].key);
        int c = config_opts[i].opt;
        if (!v || (c == 'D' && !strcmp(v, "no")))
            continue;
        if ((c == 'D' && strcmp(v, "yes")) || apply_opt(a, c, v)) {
            fprintf(stderr, "earshot ingest: config %s: bad value '%s'\n", config_opts[i].key, v);
            return ES_EINVAL;
        }
    }
    a->nchoices = 0; /* one disposition on the command line overrides the file's */
    return 0;
}

int cmd_ingest(struct es_cli *cli)
{
    struct ingest_args a = {.o = ingest_opts_default(cli->data_dir, "ingest"),
                            .jobs = (int)sysconf(_SC_NPROCESSORS_ONLN),
                            .settle_ds = 20};
    struct stat st;
    int c;
    if (apply_config(&a, cli->config))
        return 2;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "j:", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return 0;
        }
        if (c == '?' || c == ':') {
            fputs(usage, stderr);
            return 2;
        }
        if (apply_opt(&a, c, optarg)) {
            fprintf(stderr, "earshot ingest: bad value for --%s: %s\n%s", opt_name(c), optarg,
                    usage);
            return 2;
        }
    }
    struct ingest_opts o = a.o;
    int nchoices = a.nchoices, jobs = a.jobs, json = a.json, settle_ds = a.settle_ds;
    const char *pattern = a.pattern, *watch = a.watch;
    if (nchoices > 1 || (optind >= cli->argc) == !watch) {
        fprintf(stderr, "earshot ingest: %s\n%s",
                nchoices > 1 ? "choose one of --keep, --move-to, --delete"
                : watch      ? "--watch takes one directory and no other paths"
                             : "no input given",
                usage);
        return 2;
    }
    if (watch && (stat(watch, &st) != 0 || !S_ISDIR(st.st_mode))) {
        fprintf(stderr, "earshot ingest: --watch %s: not a directory\n", watch);
        return 2;
    }
    if (o.move_to && (stat(o.move_to, &st) != 0 || !S_ISDIR(st.st_mode))) {
        fprintf(stderr, "earshot ingest: --move-to %s: not a directory\n", o.move_to);
        return 2;
    }
    struct es_err err = {{0}};
    struct meta_pattern *pat = NULL;
    if (pattern && meta_pattern_new(pattern, &pat, &err)) {
        fprintf(stderr, "earshot ingest: --pattern: %s\n", err.msg);
        return 2;
    }
    o.pattern = pat;
    struct ingest_plan plan = {0};
    struct ingest_session *s = NULL;
    int rc = 1;
    if (watch) {
        if (ingest_session_open(&o, &s, &err)) {
            ES_ERROR("ingest", "%s", err.msg);
        } else {
            struct watch_ctx x = {.o = &o};
            rc = ingest_watch(s, watch, jobs, json, settle_ds * 100, watch_batch, &x);
        }
        goto out;
    }
    if (ingest_plan_build(&o, cli->argv + optind, cli->argc - optind, &plan, &err)) {
        ES_ERROR("ingest", "%s", err.msg);
        meta_pattern_free(pat);
        return 1;
    }
    if (ingest_session_open(&o, &s, &err)) {
        ES_ERROR("ingest", "%s", err.msg);
        goto out;
    }
    rc = run_plan(s, o.data_dir, &plan, jobs, json);
out:
    ingest_session_close(s);
    ingest_plan_free(&plan);
    meta_pattern_free(pat);
    return rc;
}
