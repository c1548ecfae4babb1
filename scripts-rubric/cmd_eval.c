/* earshot eval add|edit|submit|ack|dispute|resolve|comment|show|list|sample */
#include "scripts-rubric/cli_util.h"

#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: earshot eval add CALL_ID --rubric ID [--version N] --reviewer NAME [--draft]\n"
    "                        [--comment TEXT] [--tags T1,T2] [--json] ANSWERS.json\n"
    "       earshot eval edit EVAL_ID --by NAME [--comment TEXT] ANSWERS.json\n"
    "       earshot eval submit|ack EVAL_ID --by NAME\n"
    "       earshot eval dispute EVAL_ID --by NAME --reason TEXT\n"
    "       earshot eval resolve EVAL_ID --by NAME [--note TEXT]\n"
    "       earshot eval comment EVAL_ID --by NAME [--item ID] [--at MS] TEXT\n"
    "       earshot eval show EVAL_ID [--history] [--json]\n"
    "       earshot eval list [--call ID] [--operator X] [--reviewer X] [--rubric ID]\n"
    "                         [--status S] [--since T] [--until T] [--limit N] [--json]\n"
    "       earshot eval sample N [--operator X] [--since T] [--until T] [--seed S] [--json]\n"
    "ANSWERS.json is {\"item-id\": \"yes\" | \"no\" | \"na\" | number}, or\n"
    "{\"answers\": {...}, \"comment\": TEXT, \"tags\": [...],\n"
    " \"comments\": [{\"item\": ID, \"at_ms\": N, \"text\": TEXT}]}; '-' reads standard input.\n";

struct opts {
    const char *rubric, *reviewer, *by, *comment, *tags, *reason, *note, *item;
    const char *call, *operator_, *status, *since, *until;
    int version, draft, json, history, limit;
    int64_t at_ms;
    uint64_t seed;
    int seed_set;
};

static int number(const char *opt, const char *v, long long lo, long long hi, long long *out)
{
    return cli_number("eval", opt, v, lo, hi, out);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"rubric", required_argument, NULL, 'r'},
        {"version", required_argument, NULL, 'V'},
        {"reviewer", required_argument, NULL, 'R'},
        {"by", required_argument, NULL, 'b'},
        {"comment", required_argument, NULL, 'c'},
        {"tags", required_argument, NULL, 't'},
        {"reason", required_argument, NULL, 'x'},
        {"note", required_argument, NULL, 'N'},
        {"item", required_argument, NULL, 'i'},
        {"at", required_argument, NULL, 'a'},
        {"call", required_argument, NULL, 'C'},
        {"operator", required_argument, NULL, 'o'},
        {"status", required_argument, NULL, 's'},
        {"since", required_argument, NULL, 'S'},
        {"until", required_argument, NULL, 'U'},
        {"limit", required_argument, NULL, 'l'},
        {"seed", required_argument, NULL, 'e'},
        {"draft", no_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'J'},
        {"history", no_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    long long n;
    int c;
    optind = 1;
    o->at_ms = -1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->rubric = optarg;
            break;
        case 'R':
            o->reviewer = optarg;
            break;
        case 'b':
            o->by = optarg;
            break;
        case 'c':
            o->comment = optarg;
            break;
        case 't':
            o->tags = optarg;
            break;
        case 'x':
            o->reason = optarg;
            break;
        case 'N':
            o->note = optarg;
            break;
        case 'i':
            o->item = optarg;
            break;
        case 'C':
            o->call = optarg;
            break;
        case 'o':
            o->operator_ = optarg;
            break;
        case 's':
            o->status = optarg;
            break;
        case 'S':
            o->since = optarg;
            break;
        case 'U':
            o->until = optarg;
            break;
        case 'd':
            o->draft = 1;
            break;
        case 'J':
            o->json = 1;
            break;
        case 'H':
            o->history = 1;
            break;
        case 'V':
            if (number("--version", optarg, 1, 1000000, &n))
                return -1;
            o->version = (int)n;
            break;
        case 'l':
            if (number("--limit", optarg, 1, 1000000000, &n))
                return -1;
            o->limit = (int)n;
            break;
        case 'a':
            if (number("--at", optarg, 0, 1000LL * 86400 * 7, &n))
                return -1;
            o->at_ms = n;
            break;
        case 'e': {
            char *end;
            o->seed = strtoull(optarg, &end, 10);
            if (!optarg[0] || *end) {
                fprintf(stderr, "earshot eval: --seed %s: expected a number\n", optarg);
                return -1;
            }
            o->seed_set = 1;
            break;
        }
        default:
            fputs(usage_text, stderr);
            return -1;
        }
    }
    return optind;
}

/* The answers file: plain answers, or the extended form with comments and tags. */
struct answers_file {
    json_t *root;
    const json_t *answers, *tags;
    const char *comment;
    struct eval_comment comments[64];
    int ncomments;
};

static int read_answers(const char *path, struct answers_file *f)
{
    struct es_buf b;
    memset(f, 0, sizeof *f);
    if (cli_read("eval", path, 1 << 20, &b))
        return 1;
    json_error_t je;
    f->root = json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, &je);
    es_buf_free(&b);
    if (!f->root) {
        fprintf(stderr, "earshot eval: %s: line %d column %d: %s\n", path, je.line, je.column,
                je.text);
        return 1;
    }
    f->answers = f->root;
    const json_t *a = json_object_get(f->root, "answers");
    if (!json_is_object(a))
        return 0;
    f->answers = a;
    f->comment = json_string_value(json_object_get(f->root, "comment"));
    f->tags = json_object_get(f->root, "tags");
    if (f->tags && !json_is_array(f->tags)) {
        fprintf(stderr, "earshot eval: %s: tags must be a list of strings\n", path);
        return 1;
    }
    const json_t *cs = json_object_get(f->root, "comments");
    for (size_t i = 0; i < json_array_size(cs); i++) {
        const json_t *c = json_array_get(cs, i);
        if (f->ncomments == (int)ES_ARRAY_LEN(f->comments) ||
            !json_is_string(json_object_get(c, "text"))) {
            fprintf(stderr, "earshot eval: %s: comments[%zu]: %s\n", path, i,
                    f->ncomments == (int)ES_ARRAY_LEN(f->comments) ? "at most 64 comments"
                                                                   : "needs \"text\"");
            return 1;
        }
        const json_t *at = json_object_get(c, "at_ms");
        f->comments[f->ncomments++] = (struct eval_comment){
            .item_id = json_string_value(json_object_get(c, "item")),
            .at_ms = json_is_integer(at) ? json_integer_value(at) : -1,
            .text = json_string_value(json_object_get(c, "text")),
        };
    }
    return 0;
}

static int add(struct rubric_store *st, int argc, char **argv, const struct opts *o)
{
    if (argc != 2 || !o->rubric || !o->reviewer) {
        fputs(usage_text, stderr);
        return 2;
    }
    struct answers_file f;
    json_t *tags = NULL;
    int rc = 1;
    if (read_answers(argv[1], &f))
        goto out;
    if (o->tags) {
        tags = cli_tags("eval add", o->tags);
        if (!tags)
            goto out;
    }
    struct eval_new e = {
        .call_id = argv[0],
        .reviewer = o->reviewer,
        .rubric_id = o->rubric,
        .rubric_version = o->version,
        .answers = f.answers,
        .comment = o->comment ? o->comment : f.comment,
        .comments = f.comments,
        .ncomments = f.ncomments,
        .tags = tags ? tags : f.tags,
        .submit = !o->draft,
    };
    char id[ES_ID_LEN];
    struct es_err err = {{0}};
    if (eval_create(st, &e, id, &err)) {
        fprintf(stderr, "earshot eval add: %s: %s\n", argv[1], err.msg);
        goto out;
    }
    rc = 0;
    json_t *full;
    if (!o->json) {
        puts(id);
    } else if (!eval_get_json(st, id, false, &full, &err)) {
        cli_print_json(full);
    }
out:
    json_decref(tags);
    json_decref(f.root);
    return rc;
}

static int edit(struct rubric_store *st, int argc, char **argv, const struct opts *o)
{
    if (argc != 2 || !o->by) {
        fputs(usage_text, stderr);
        return 2;
    }
    struct answers_file f;
    int rc = 1;
    if (!read_answers(argv[1], &f)) {
        struct es_err err = {{0}};
        if (eval_edit(st, argv[0], f.answers, o->comment ? o->comment : f.comment, o->by, &err))
            fprintf(stderr, "earshot eval edit: %s\n", err.msg);
        else
            rc = 0;
    }
    json_decref(f.root);
    return rc;
}

static int step(struct rubric_store *st, const char *sub, int argc, char **argv,
                const struct opts *o)
{
    static const struct {
        const char *name;
        enum eval_status to;
    } steps[] = {{"submit", EVAL_SUBMITTED},
                 {"ack", EVAL_ACKNOWLEDGED},
                 {"acknowledge", EVAL_ACKNOWLEDGED},
                 {"dispute", EVAL_DISPUTED},
                 {"resolve", EVAL_RESOLVED}};
    size_t k = 0;
    while (strcmp(steps[k].name, sub))
        k++;
    if (argc != 1 || !o->by) {
        fputs(usage_text, stderr);
        return 2;
    }
    struct es_err err = {{0}};
    const char *note = steps[k].to == EVAL_DISPUTED ? o->reason : o->note;
    if (eval_transition(st, argv[0], steps[k].to, o->by, note, &err)) {
        fprintf(stderr, "earshot eval %s: %s\n", sub, err.msg);
        return 1;
    }
    return 0;
}

static int comment(struct rubric_store *st, int argc, char **argv, const struct opts *o)
{
    if (argc != 2 || !o->by) {
        fputs(usage_text, stderr);
        return 2;
    }
    struct eval_comment cm = {.item_id = o->item, .at_ms = o->at_ms, .text = argv[1]};
    struct es_err err = {{0}};
    if (eval_comment_add(st, argv[0], &cm, o->by, &err)) {
        fprintf(stderr, "earshot eval comment: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static void print_history(json_t *h)
{
    size_t i;
    json_t *e;
    json_array_foreach(h, i, e)
    {
        const char *note = json_string_value(json_object_get(e, "note"));
        printf("  %s  rev %lld  %-12s by %s  score %.1f%s%s\n",
               json_string_value(json_object_get(e, "at")),
               (long long)json_integer_value(json_object_get(e, "revision")),
               json_string_value(json_object_get(e, "action")),
               json_string_value(json_object_get(e, "by")),
               json_real_value(json_object_get(e, "score")), note ? "  " : "", note ? note : "");
    }
}

static int show(struct rubric_store *st, int argc, char **argv, const struct opts *o)
{
    if (argc != 1) {
        fputs(usage_text, stderr);
        return 2;
    }
    json_t *j;
    struct es_err err = {{0}};
    if (eval_get_json(st, argv[0], o->history, &j, &err)) {
        fprintf(stderr, "earshot eval show: %s\n", err.msg);
        return 1;
    }
    if (o->json) {
        cli_print_json(j);
        return 0;
    }
#define S(k) json_string_value(json_object_get(j, k))
    printf("evaluation %s  (%s, revision %lld)\ncall       %s  operator %s  at %s\n"
           "rubric     %s version %lld, reviewer %s\n",
           S("id"), S("status"), (long long)json_integer_value(json_object_get(j, "revision")),
           S("call_id"), S("operator"), S("call_started_at"), S("rubric_id"),
           (long long)json_integer_value(json_object_get(j, "rubric_version")), S("reviewer"));
    printf("score      %.1f  %s%s\n", json_real_value(json_object_get(j, "score")),
           json_is_true(json_object_get(j, "passed")) ? "passed" : "not passed",
           json_is_true(json_object_get(j, "critical_failed")) ? " (critical item failed)" : "");
    char *errs = json_dumps(json_object_get(j, "errors"), JSON_COMPACT);
    printf("errors     %s\n", errs ? errs : "[]");
    free(errs);
    if (S("comment") && S("comment")[0])
        printf("comment    %s\n", S("comment"));
#undef S
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(j, "comments"), i, c)
    {
        json_t *at = json_object_get(c, "at_ms");
        const char *item = json_string_value(json_object_get(c, "item_id"));
        printf("  [%s%s", item ? item : "call", json_is_integer(at) ? " @" : "");
        if (json_is_integer(at))
            printf("%lld:%02lld", (long long)json_integer_value(at) / 60000,
                   (long long)json_integer_value(at) / 1000 % 60);
        printf("] %s: %s\n", json_string_value(json_object_get(c, "author")),
               json_string_value(json_object_get(c, "text")));
    }
    if (o->history) {
        printf("history\n");
        print_history(json_object_get(j, "history"));
    }
    json_decref(j);
    return 0;
}

static int list_row(void *ud, json_t *s)
{
    const struct opts *o = ud;
    if (o->json) {
        cli_print_json(json_incref(s));
        return 0;
    }
#define S(k) json_string_value(json_object_get(s, k))
    printf("%-36s  %-36s  %-12.12s  %-12.12s  %-16.16s %3lld  %5.1f  %-4s  %s\n", S("id"),
           S("call_id"), S("operator"), S("reviewer"), S("rubric_id"),
           (long long)json_integer_value(json_object_get(s, "rubric_version")),
           json_real_value(json_object_get(s, "score")),
           json_is_true(json_object_get(s, "passed")) ? "pass" : "FAIL", S("status"));
#undef S
    return 0;
}

static int list(struct rubric_store *st, int argc, const struct opts *o)
{
    struct eval_filter f = {.call_id = o->call,
                            .operator_ = o->operator_,
                            .reviewer = o->reviewer,
                            .rubric_id = o->rubric,
                            .status = -1,
                            .limit = o->limit};
    if (argc) {
        fputs(usage_text, stderr);
        return 2;
    }
    enum eval_status s;
    if (o->status) {
        if (eval_status_parse(o->status, &s)) {
            fprintf(stderr,
                    "earshot eval list: --status %s: expected draft, submitted,"
                    " acknowledged, disputed or resolved\n",
                    o->status);
            return 2;
        }
        f.status = (int)s;
    }
    if ((o->since && es_time_parse(o->since, strlen(o->since), &f.since)) ||
        (o->until && es_time_parse(o->until, strlen(o->until), &f.until))) {
        fprintf(stderr, "earshot eval list: --since/--until: expected YYYY-MM-DD[THH:MM]\n");
        return 2;
    }
    if (!o->json)
        printf("%-36s  %-36s  %-12s  %-12s  %-16s %3s  %5s  %-4s  %s\n", "ID", "CALL", "OPERATOR",
               "REVIEWER", "RUBRIC", "V", "SCORE", "", "STATUS");
    return eval_list(st, &f, list_row, (void *)o) ? 1 : 0;
}

static int sample_row(void *ud, const char *op, const char *call_id, int64_t started_at)
{
    const struct opts *o = ud;
    char when[ES_ISO_LEN];
    es_time_iso(started_at, when);
    if (o->json) {
        json_t *j = json_object();
        json_object_set_new(j, "operator", json_string(op));
        json_object_set_new(j, "call_id", json_string(call_id));
        json_object_set_new(j, "started_at", json_string(when));
        cli_print_json(j);
    } else {
        printf("%-16s  %s  %s\n", op, call_id, when);
    }
    return 0;
}

static int sample(struct rubric_store *st, int argc, char **argv, struct opts *o)
{
    long long n;
    struct report_window w = {.operator_ = o->operator_};
    if (argc != 1) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (number("N", argv[0], 1, 10000, &n) || cli_window(o->since, o->until, &w))
        return 2;
    if (!o->seed_set) {
        randombytes_buf(&o->seed, sizeof o->seed);
        o->seed %= 1000000000;
        fprintf(stderr, "earshot eval sample: seed %llu (pass --seed to repeat this sample)\n",
                (unsigned long long)o->seed);
    }
    struct es_err err = {{0}};
    if (report_sample(st, &w, (int)n, o->seed, sample_row, o, &err)) {
        fprintf(stderr, "earshot eval sample: %s\n", err.msg);
        return 1;
    }
    return 0;
}

int cmd_eval(struct es_cli *cli)
{
    static const char *const subs[] = {"add",         "edit",    "submit",  "ack",
                                       "acknowledge", "dispute", "resolve", "comment",
                                       "show",        "list",    "sample",  NULL};
    if (cli->argc < 2 || !strcmp(cli->argv[1], "--help") || !strcmp(cli->argv[1], "-h")) {
        fputs(usage_text, cli->argc < 2 ? stderr : stdout);
        return cli->argc < 2 ? 2 : 0;
    }
    const char *sub = cli->argv[1];
    size_t k = 0;
    while (subs[k] && strcmp(subs[k], sub))
        k++;
    if (!subs[k]) {
        fprintf(stderr, "earshot eval: unknown subcommand '%s'\n%s", sub, usage_text);
        return 2;
    }
    struct opts o = {0};
    int first = parse_opts(cli->argc - 1, cli->argv + 1, &o);
    if (first < 0)
        return 2;
    int argc = cli->argc - 1 - first;
    char **argv = cli->argv + 1 + first;
    struct catalog *cat;
    struct rubric_store *st;
    if (cli_open(cli, &cat, &st))
        return 1;
    int rc;
    if (!strcmp(sub, "add"))
        rc = add(st, argc, argv, &o);
    else if (!strcmp(sub, "edit"))
        rc = edit(st, argc, argv, &o);
    else if (!strcmp(sub, "comment"))
        rc = comment(st, argc, argv, &o);
    else if (!strcmp(sub, "show"))
        rc = show(st, argc, argv, &o);
    else if (!strcmp(sub, "list"))
        rc = list(st, argc, &o);
    else if (!strcmp(sub, "sample"))
        rc = sample(st, argc, argv, &o);
    else
        rc = step(st, sub, argc, argv, &o);
    cli_close(cat, st);
    return rc;
}
