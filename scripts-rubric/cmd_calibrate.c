/* earshot calibrate: scoring the same call blind with several reviewers. */
#include "scripts-rubric/cli_util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: earshot calibrate create --call ID --reviewers A,B[,...] [--rubric ID] [--version N]\n"
    "                                [--lead NAME] [--json]\n"
    "       earshot calibrate submit SESSION --reviewer NAME ANSWERS.json\n"
    "       earshot calibrate reference SESSION --by NAME ANSWERS.json\n"
    "       earshot calibrate show SESSION [--as NAME] [--json]\n"
    "       earshot calibrate report [--reviewer NAME] [--json]\n"
    "Without --rubric: the rubric of the call's newest evaluation, else the only one stored;\n"
    "without --lead: cli (who then sets the reference with --by cli).\n"
    "Each reviewer scores blind (sees nobody's answers until their own are in);\n"
    "`show` gives the answers side by side, the agreement per item and Krippendorff's\n"
    "alpha; the lead's reference answers measure each reviewer over time (`report`).\n"
    "Calibration answers never count in an operator's scores or errors.\n";

static json_t *read_answers(const char *path)
{
    struct es_buf b;
    if (cli_read("calibrate", path, RUBRIC_MAX_BYTES, &b))
        return NULL;
    json_error_t je;
    json_t *j = json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, &je);
    es_buf_free(&b);
    if (!json_is_object(j)) {
        fprintf(stderr, "earshot calibrate: %s: expected a JSON object of answers (%s)\n", path,
                j ? "not an object" : je.text);
        json_decref(j);
        return NULL;
    }
    /* an answers file may be {"answers": {...}} as for `eval add` */
    json_t *inner = json_object_get(j, "answers");
    if (json_is_object(inner)) {
        json_incref(inner);
        json_decref(j);
        return inner;
    }
    return j;
}

struct guess {
    char id[RUBRIC_ID_LEN];
    int n;
};

static int one_rubric(void *ud, const struct rubric_info *in)
{
    struct guess *g = ud;
    snprintf(g->id, sizeof g->id, "%s", in->id);
    g->n++;
    return 0;
}

static int newest_eval(void *ud, json_t *summary)
{
    snprintf(ud, RUBRIC_ID_LEN, "%s", json_string_value(json_object_get(summary, "rubric_id")));
    return 1;
}

/* Without --rubric: the rubric of the call's newest evaluation, else the only
 * rubric stored. */
static int default_rubric(struct rubric_store *st, const char *call, char out[RUBRIC_ID_LEN],
                          struct es_err *err)
{
    struct eval_filter f = {.call_id = call, .status = -1, .limit = 1};
    if (!eval_list(st, &f, newest_eval, out) && out[0])
        return 0;
    struct guess g = {{0}, 0};
    rubric_list(st, one_rubric, &g);
    if (g.n == 1) {
        snprintf(out, RUBRIC_ID_LEN, "%s", g.id);
        return 0;
    }
    return es_seterr(err, ES_EINVAL, "%s: say which rubric (--rubric ID)",
                     g.n ? "several rubrics and no evaluation of this call" : "no rubric stored");
}

static void print_show(const json_t *o)
{
    printf("calibration %s: call %s, rubric %s v%lld, lead %s%s\n",
           json_string_value(json_object_get(o, "id")),
           json_string_value(json_object_get(o, "call_id")),
           json_string_value(json_object_get(o, "rubric_id")),
           (long long)json_integer_value(json_object_get(o, "rubric_version")),
           json_string_value(json_object_get(o, "lead")),
           json_is_true(json_object_get(o, "blind")) ? " (blind: submit your answers first)" : "");
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(o, "reviewers"), i, r)
    {
        char *a = json_object_get(r, "answers")
                      ? json_dumps(json_object_get(r, "answers"), JSON_COMPACT | JSON_SORT_KEYS)
                      : NULL;
        printf("  %-20s %s %s\n", json_string_value(json_object_get(r, "name")),
               json_is_true(json_object_get(r, "submitted")) ? "submitted" : "waiting  ",
               a ? a : "");
        free(a);
    }
    json_t *ag = json_object_get(o, "agreement");
    if (ag) {
        json_t *alpha = json_object_get(ag, "alpha");
        if (json_is_number(alpha))
            printf("Krippendorff's alpha (nominal): %.3f\n", json_number_value(alpha));
        else
            printf("Krippendorff's alpha: not yet (two reviewers' answers needed)\n");
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(ag, "per_item"), k, v)
            printf("  %-24s %3.0f%% agree\n", k, json_number_value(v) * 100);
    }
}

int cmd_calibrate(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"call", required_argument, NULL, 'c'},
        {"reviewers", required_argument, NULL, 'R'},
        {"lead", required_argument, NULL, 'l'},
        {"rubric", required_argument, NULL, 'r'},
        {"version", required_argument, NULL, 'v'},
        {"reviewer", required_argument, NULL, 'w'},
        {"by", required_argument, NULL, 'b'},
        {"as", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (cli->argc < 2 || !strcmp(cli->argv[1], "--help")) {
        fputs(usage_text, cli->argc < 2 ? stderr : stdout);
        return cli->argc < 2 ? 2 : 0;
    }
    const char *sub = cli->argv[1];
    const char *call = NULL, *reviewers = NULL, *lead = NULL, *rubric = NULL, *reviewer = NULL,
               *by = NULL, *as = NULL;
    long long version = 0;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(cli->argc - 1, cli->argv + 1, "", lo, NULL)) != -1) {
        switch (c) {
        case 'c':
            call = optarg;
            break;
        case 'R':
            reviewers = optarg;
            break;
        case 'l':
            lead = optarg;
            break;
        case 'r':
            rubric = optarg;
            break;
        case 'v':
            if (cli_number("calibrate", "--version", optarg, 1, 1000000, &version))
                return 2;
            break;
        case 'w':
            reviewer = optarg;
            break;
        case 'b':
            by = optarg;
            break;
        case 'a':
            as = optarg;
            break;
        case 'j':
            json = 1;
            break;
        default:
            fputs(usage_text, stderr);
            return 2;
        }
    }
    int argc = cli->argc - 1 - optind;
    char **argv = cli->argv + 1 + optind;
    struct catalog *cat = NULL;
    struct rubric_store *st = NULL;
    struct es_err err = {{0}};
    int rc = 0;
    if (!strcmp(sub, "create")) {
        if (!call || !reviewers || argc) {
            fputs(usage_text, stderr);
            return 2;
        }
        char list[4096], *names[32];
        int n = 0;
        snprintf(list, sizeof list, "%s", reviewers);
        for (char *t = strtok(list, ","); t && n < 32; t = strtok(NULL, ","))
            names[n++] = t;
        if (cli_open(cli, &cat, &st))
            return 1;
        char guessed[RUBRIC_ID_LEN] = "";
        if (!rubric && default_rubric(st, call, guessed, &err)) {
            fprintf(stderr, "earshot calibrate create: %s\n", err.msg);
            cli_close(cat, st);
            return 2;
        }
        char id[ES_ID_LEN];
        rc = calib_create(st, call, rubric ? rubric : guessed, (int)version,
                          (const char *const *)names, n, lead ? lead : "cli", id, &err);
        if (!rc)
            json ? cli_print_json(json_pack("{s:s}", "id", id)) : (void)printf("%s\n", id);
    } else if (!strcmp(sub, "submit") || !strcmp(sub, "reference")) {
        const char *who = !strcmp(sub, "submit") ? reviewer : by;
        if (argc != 2 || !who) {
            fputs(usage_text, stderr);
            return 2;
        }
        json_t *a = read_answers(argv[1]);
        if (!a)
            return 1;
        if (cli_open(cli, &cat, &st)) {
            json_decref(a);
            return 1;
        }
        rc = !strcmp(sub, "submit") ? calib_submit(st, argv[0], who, a, &err)
                                    : calib_reference(st, argv[0], who, a, &err);
        json_decref(a);
        if (!rc)
            printf("%s: %s\n", argv[0], !strcmp(sub, "submit") ? "answers in" : "reference set");
    } else if (!strcmp(sub, "show")) {
        if (argc != 1) {
            fputs(usage_text, stderr);
            return 2;
        }
        if (cli_open(cli, &cat, &st))
            return 1;
        json_t *o;
        rc = calib_get(st, argv[0], as, as == NULL, &o, &err);
        if (!rc) {
            if (json)
                cli_print_json(o);
            else {
                print_show(o);
                json_decref(o);
            }
        }
    } else if (!strcmp(sub, "report")) {
        if (argc) {
            fputs(usage_text, stderr);
            return 2;
        }
        if (cli_open(cli, &cat, &st))
            return 1;
        json_t *o;
        rc = calib_report(st, reviewer, &o, &err);
        if (!rc && json) {
            cli_print_json(o);
        } else if (!rc) {
            const char *name;
            json_t *list;
            json_object_foreach(o, name, list)
            {
                size_t i;
                json_t *e;
                printf("%s:", name);
                json_array_foreach(list, i, e)
                    printf(" %.10s %.0f%%", json_string_value(json_object_get(e, "at")),
                           json_number_value(json_object_get(e, "agreement")) * 100);
                printf("\n");
            }
            json_decref(o);
        }
    } else {
        fprintf(stderr, "earshot calibrate: unknown subcommand '%s'\n%s", sub, usage_text);
        return 2;
    }
    if (rc)
        fprintf(stderr, "earshot calibrate %s: %s\n", sub, err.msg[0] ? err.msg : es_strerror(rc));
    cli_close(cat, st);
    return rc ? 1 : 0;
}
