/* earshot report errors|scores */
#include "scripts-rubric/cli_util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: earshot report errors [--operator X] [--since T] [--until T] [--repeat N] [--json]\n"
    "       earshot report scores [--operator X] [--since T] [--until T] [--json]\n"
    "The window is [--since, --until) over call start times; by default the 30 days up\n"
    "to now. Counts are compared with the window of the same length just before it.\n";

static const char *trend(int64_t now, int64_t before)
{
    return now > before ? "up" : now < before ? "down" : "same";
}

static void errors_text(const struct report_window *w, const struct report_errors *r)
{
    char since[ES_ISO_LEN], until[ES_ISO_LEN];
    es_time_iso(w->since, since);
    es_time_iso(w->until, until);
    printf("Recurring errors %s .. %s%s%s\n\n", since, until, w->operator_ ? ", operator " : "",
           w->operator_ ? w->operator_ : "");
    printf("%-16s  %-28s  %6s  %8s  %-5s  %s\n", "OPERATOR", "ERROR", "COUNT", "PREVIOUS", "TREND",
           "REPEAT");
    for (size_t i = 0; i < r->nrows; i++) {
        const struct report_error_row *e = &r->rows[i];
        if (!e->count && !e->previous_count)
            continue;
        printf("%-16.16s  %-28.28s  %6lld  %8lld  %-5s  %s\n", e->operator_, e->error_tag,
               (long long)e->count, (long long)e->previous_count,
               trend(e->count, e->previous_count),
               e->repeat ? "REPEAT (after acknowledgement)" : "");
    }
    printf("\n%-20s  %-28s  %8s  %6s  %s\n", "RUBRIC", "ITEM", "ANSWERED", "FAILED", "FAIL RATE");
    for (size_t i = 0; i < r->nitems; i++) {
        const struct report_item_row *it = &r->items[i];
        if (!it->answered)
            continue;
        printf("%-20.20s  %-28.28s  %8lld  %6lld  %8.1f%%\n", it->rubric_id, it->item_id,
               (long long)it->answered, (long long)it->failed,
               100.0 * (double)it->failed / (double)it->answered);
    }
    printf("\nTeam: %lld evaluations, %lld errors (previous window %lld, %s)\n",
           (long long)r->evaluations, (long long)r->errors, (long long)r->previous_errors,
           trend(r->errors, r->previous_errors));
}

static void errors_json(const struct report_errors *r)
{
    for (size_t i = 0; i < r->nrows; i++) {
        const struct report_error_row *e = &r->rows[i];
        if (!e->count && !e->previous_count)
            continue;
        json_t *j = json_object();
        json_object_set_new(j, "operator", json_string(e->operator_));
        json_object_set_new(j, "error_tag", json_string(e->error_tag));
        json_object_set_new(j, "count", json_integer(e->count));
        json_object_set_new(j, "previous_count", json_integer(e->previous_count));
        json_object_set_new(j, "repeat", json_boolean(e->repeat));
        json_object_set_new(j, "after_acknowledgement", json_integer(e->repeats_after_ack));
        cli_print_json(j);
    }
}

static int score_row(void *ud, const struct report_score_row *row)
{
    const int *json = ud;
    double rate = row->evaluations
                      ? rubric_round1(100.0 * (double)row->passed / (double)row->evaluations)
                      : 0;
    if (*json) {
        json_t *j = json_object();
        json_object_set_new(j, "operator", json_string(row->operator_));
        json_object_set_new(j, "evaluations", json_integer(row->evaluations));
        json_object_set_new(j, "average", json_real(row->average));
        json_object_set_new(j, "pass_rate", json_real(rate));
        json_object_set_new(j, "passed", json_integer(row->passed));
        cli_print_json(j);
    } else {
        printf("%-16.16s  %11lld  %7.1f  %8.1f%%\n", row->operator_[0] ? row->operator_ : "-",
               (long long)row->evaluations, row->average, rate);
    }
    return 0;
}

int cmd_report(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"operator", required_argument, NULL, 'o'}, {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},    {"repeat", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'J'},           {NULL, 0, NULL, 0},
    };
    if (cli->argc < 2 || !strcmp(cli->argv[1], "--help") || !strcmp(cli->argv[1], "-h")) {
        fputs(usage_text, cli->argc < 2 ? stderr : stdout);
        return cli->argc < 2 ? 2 : 0;
    }
    const char *sub = cli->argv[1];
    if (strcmp(sub, "errors") && strcmp(sub, "scores")) {
        fprintf(stderr, "earshot report: unknown report '%s'\n%s", sub, usage_text);
        return 2;
    }
    const char *since = NULL, *until = NULL;
    struct report_window w = {.repeat_threshold = 3};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(cli->argc - 1, cli->argv + 1, "", lo, NULL)) != -1) {
        switch (c) {
        case 'o':
            w.operator_ = optarg;
            break;
        case 's':
            since = optarg;
            break;
        case 'u':
            until = optarg;
            break;
        case 'r': {
            long long n;
            if (cli_number("report", "--repeat", optarg, 1, 1000000, &n))
                return 2;
            w.repeat_threshold = (int)n;
            break;
        }
        case 'J':
            json = 1;
            break;
        default:
            fputs(usage_text, stderr);
            return 2;
        }
    }
    if (optind != cli->argc - 1) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (cli_window(since, until, &w))
        return 2;
    struct catalog *cat;
    struct rubric_store *st;
    if (cli_open(cli, &cat, &st))
        return 1;
    struct es_err err = {{0}};
    int rc = 0;
    if (!strcmp(sub, "errors")) {
        struct report_errors r;
        rc = report_errors(st, &w, &r, &err);
        if (!rc) {
            if (json)
                errors_json(&r);
            else
                errors_text(&w, &r);
            report_errors_release(&r);
        }
    } else {
        if (!json)
            printf("%-16s  %11s  %7s  %9s\n", "OPERATOR", "EVALUATIONS", "AVERAGE", "PASS RATE");
        rc = report_scores(st, &w, score_row, &json, &err);
    }
    if (rc)
        fprintf(stderr, "earshot report %s: %s\n", sub, err.msg);
    cli_close(cat, st);
    return rc ? 1 : 0;
}
