/* earshot rubric check|score|import|list|show|export */
#include "scripts-rubric/cli_util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: earshot rubric check [--verbose] FILE...\n"
    "       earshot rubric score [--tags T1,T2] RUBRIC.yaml ANSWERS.json\n"
    "       earshot rubric import [--json] FILE...\n"
    "       earshot rubric list [--json]\n"
    "       earshot rubric show ID [--version N] [--json]\n"
    "       earshot rubric export ID [--version N]\n";

struct opts {
    int json, verbose, version;
    const char *tags;
};

/* Parses the options shared by the subcommands; returns the index of the first operand. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"json", no_argument, NULL, 'J'},
        {"verbose", no_argument, NULL, 'v'},
        {"version", required_argument, NULL, 'n'},
        {"tags", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
        switch (c) {
        case 'J':
            o->json = 1;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case 'n': {
            long long v;
            if (cli_number("rubric", "--version", optarg, 1, 1000000, &v))
                return -1;
            o->version = (int)v;
            break;
        }
        case 't':
            o->tags = optarg;
            break;
        default:
            fputs(usage_text, stderr);
            return -1;
        }
    }
    return optind;
}

static int load_file(const char *path, struct rubric **r)
{
    struct es_buf b;
    if (cli_read("rubric", path, RUBRIC_MAX_BYTES + 1, &b))
        return 1;
    struct rubric_diags *d = malloc(sizeof *d);
    if (!d) {
        es_buf_free(&b);
        return 1;
    }
    int rc = rubric_load((const uint8_t *)b.data, b.len, r, d);
    if (rc)
        cli_print_diags(path, d);
    free(d);
    es_buf_free(&b);
    return rc ? 1 : 0;
}

static int check(int argc, char **argv, const struct opts *o)
{
    int bad = 0;
    for (int i = 0; i < argc; i++) {
        struct rubric *r;
        if (load_file(argv[i], &r)) {
            bad = 1;
            continue;
        }
        if (o->verbose) {
            int critical = 0;
            for (int k = 0; k < r->nitems; k++)
                critical += r->items[k].critical;
            printf("%s: ok: rubric %s \"%s\", %d section%s, %d item%s (%d critical), pass_score "
                   "%g\n",
                   argv[i], r->id, r->title, r->nsections, r->nsections == 1 ? "" : "s", r->nitems,
                   r->nitems == 1 ? "" : "s", critical, r->pass_score);
        }
        rubric_free(r);
    }
    return bad;
}

static int score(int argc, char **argv, const struct opts *o)
{
    if (argc != 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    struct rubric *r;
    if (load_file(argv[0], &r))
        return 1;
    json_t *tags = o->tags ? cli_tags("rubric score", o->tags) : NULL;
    const char *list[65];
    const char *const *call_tags = rubric_tag_list(tags, list, ES_ARRAY_LEN(list));
    struct es_buf b;
    struct rubric_answers *a = malloc(sizeof *a);
    struct rubric_result *res = malloc(sizeof *res);
    struct es_err err = {{0}};
    int rc = 1;
    if (!a || !res || (o->tags && !tags) || cli_read("rubric score", argv[1], 1 << 20, &b))
        goto out;
    if (rubric_answers_parse(r, (const uint8_t *)b.data, b.len, a, &err) ||
        rubric_score(r, a, call_tags, res, &err))
        fprintf(stderr, "earshot rubric score: %s: %s\n", argv[1], err.msg);
    else {
        cli_print_json(rubric_result_json(r, res));
        rc = 0;
    }
    es_buf_free(&b);
out:
    free(a);
    free(res);
    json_decref(tags);
    rubric_free(r);
    return rc;
}

static int import(struct rubric_store *st, int argc, char **argv, const struct opts *o)
{
    static const char *const said[] = {"imported as version", "changed: imported as version",
                                       "unchanged: still version"};
    static const char *const outcome_names[] = {"new", "version", "unchanged"};
    int bad = 0;
    for (int i = 0; i < argc; i++) {
        struct rubric *r;
        if (load_file(argv[i], &r)) { /* prints every problem, as check does */
            bad = 1;
            continue;
        }
        struct es_buf b;
        if (cli_read("rubric import", argv[i], RUBRIC_MAX_BYTES + 1, &b)) {
            rubric_free(r);
            bad = 1;
            continue;
        }
        int version;
        enum rubric_import_outcome out;
        struct es_err err = {{0}};
        if (rubric_import(st, (const uint8_t *)b.data, b.len, &version, &out, &err)) {
            fprintf(stderr, "earshot rubric import: %s: %s\n", argv[i], err.msg);
            bad = 1;
        } else if (o->json) {
            json_t *j = json_object();
            json_object_set_new(j, "file", json_string(argv[i]));
            json_object_set_new(j, "id", json_string(r->id));
            json_object_set_new(j, "version", json_integer(version));
            json_object_set_new(j, "outcome", json_string(outcome_names[out]));
            cli_print_json(j);
        } else {
            printf("%s: %s %s %d\n", argv[i], r->id, said[out], version);
        }
        es_buf_free(&b);
        rubric_free(r);
    }
    return bad;
}

static int list_row(void *ud, const struct rubric_info *in)
{
    const struct opts *o = ud;
    if (o->json) {
        json_t *j = json_object();
        char when[ES_ISO_LEN];
        es_time_iso(in->imported_at, when);
        json_object_set_new(j, "id", json_string(in->id));
        json_object_set_new(j, "version", json_integer(in->version));
        json_object_set_new(j, "title", json_string(in->title));
        json_object_set_new(j, "imported_at", json_string(when));
        json_object_set_new(j, "evaluations", json_integer(in->evaluations));
        cli_print_json(j);
    } else {
        printf("%-24s  %7d  %11lld  %s\n", in->id, in->version, (long long)in->evaluations,
               in->title);
    }
    return 0;
}

static void show_text(const struct rubric *r)
{
    printf("%s (version %d): %s\n", r->id, r->version, r->title);
    if (r->description[0])
        printf("%s\n", r->description);
    printf("pass score: %g\n", r->pass_score);
    for (int si = 0; si < r->nsections; si++) {
        const struct rubric_section *s = &r->sections[si];
        printf("\n[%s] %s  (weight %g)\n", s->id, s->title, s->weight);
        for (int i = s->first_item; i < s->first_item + s->nitems; i++) {
            const struct rubric_item *it = &r->items[i];
            printf("  %-24s %s\n", it->id, it->text);
            if (it->type == RUBRIC_SCALE)
                printf("  %-24s scale %d-%d, below %g is an error", "", it->min, it->max,
                       it->fail_below);
            else
                printf("  %-24s yes/no", "");
            printf(", weight %g%s%s", it->weight, it->na_allowed ? ", n/a allowed" : "",
                   it->critical ? ", CRITICAL" : "");
            if (strcmp(it->error_tag, it->id))
                printf(", error tag %s", it->error_tag);
            for (int k = 0; k < it->napplies; k++)
                printf("%s%s", k ? "," : ", only for ", it->applies_to[k]);
            printf("\n");
        }
    }
}

static int show(struct rubric_store *st, const char *id, const struct opts *o, bool raw)
{
    struct rubric *r = NULL;
    char *yaml = NULL;
    struct es_err err = {{0}};
    if (rubric_get(st, id, o->version, raw ? NULL : &r, raw ? &yaml : NULL, &err)) {
        fprintf(stderr, "earshot rubric: %s\n", err.msg);
        return 1;
    }
    if (raw)
        fputs(yaml, stdout);
    else if (o->json)
        cli_print_json(rubric_json(r));
    else
        show_text(r);
    free(yaml);
    rubric_free(r);
    return 0;
}

int cmd_rubric(struct es_cli *cli)
{
    if (cli->argc < 2 || !strcmp(cli->argv[1], "--help") || !strcmp(cli->argv[1], "-h")) {
        fputs(usage_text, cli->argc < 2 ? stderr : stdout);
        return cli->argc < 2 ? 2 : 0;
    }
    const char *sub = cli->argv[1];
    struct opts o = {0};
    int first = parse_opts(cli->argc - 1, cli->argv + 1, &o);
    if (first < 0)
        return 2;
    int argc = cli->argc - 1 - first;
    char **argv = cli->argv + 1 + first;
    if (!strcmp(sub, "check") || !strcmp(sub, "score")) {
        if (argc < 1) {
            fputs(usage_text, stderr);
            return 2;
        }
        return sub[0] == 'c' ? check(argc, argv, &o) : score(argc, argv, &o);
    }
    bool needs_id = !strcmp(sub, "show") || !strcmp(sub, "export");
    if (!needs_id && strcmp(sub, "import") && strcmp(sub, "list")) {
        fprintf(stderr, "earshot rubric: unknown subcommand '%s'\n%s", sub, usage_text);
        return 2;
    }
    if ((needs_id && argc != 1) || (!strcmp(sub, "import") && argc < 1) ||
        (!strcmp(sub, "list") && argc)) {
        fputs(usage_text, stderr);
        return 2;
    }
    struct catalog *cat;
    struct rubric_store *st;
    if (cli_open(cli, &cat, &st))
        return 1;
    int rc;
    if (!strcmp(sub, "import")) {
        rc = import(st, argc, argv, &o);
    } else if (!strcmp(sub, "list")) {
        if (!o.json)
            printf("%-24s  %7s  %11s  %s\n", "ID", "VERSION", "EVALUATIONS", "TITLE");
        rc = rubric_list(st, list_row, &o) ? 1 : 0;
    } else {
        rc = show(st, argv[0], &o, sub[0] == 'e');
    }
    cli_close(cat, st);
    return rc;
}
