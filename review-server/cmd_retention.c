/* earshot retention --policy: the configuration's retention by category
 * applied to the archive, each deletion audited with its rule. (The plain
 * `--older-than DAYS` is archive's.) Here because a rule may ask whether a
 * call was evaluated, and deletions go to the audit log. */
#include "review-server/review_int.h"
#include "scripts-rubric/rubric.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: earshot retention --policy [--dry-run] [--json]\n"
    "       earshot retention --older-than DAYS [--dry-run]\n"
    "--policy applies `retention = tag:b2b 1095d, queue:sales 730d, disposition:missed 90d,\n"
    "evaluated 730d, default 365d` from the configuration: the first rule a call matches says\n"
    "how long its audio is kept; calls under legal hold are listed and kept. Each deletion is\n"
    "audited (retention.delete) with its rule; evaluations outlive the audio.\n";

struct doomed {
    char id[ES_ID_LEN];
    char *path;
    int rule;
    int64_t started_at;
};

struct walk {
    const struct retention_policy *p;
    struct rubric_store *rs;
    int64_t now;
    int json;
    struct doomed *v;
    size_t n, cap;
    int64_t matched[RETENTION_MAX_RULES], expired[RETENTION_MAX_RULES], held[RETENTION_MAX_RULES],
        unmatched;
    int rc;
};

static int found(void *ud, json_t *summary)
{
    (void)summary;
    *(bool *)ud = true;
    return 1;
}

static void print_call(const struct walk *w, const char *id, int64_t started_at, int rule,
                       const char *action)
{
    const struct retention_rule *r = &w->p->rules[rule];
    char when[ES_ISO_LEN];
    es_time_iso(started_at, when);
    long long age = (long long)((w->now - started_at) / 86400000);
    if (w->json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "id", id, "started_at", when,
                              "rule", r->text, "keep_days", (json_int_t)(r->keep_ms / 86400000),
                              "age_days", (json_int_t)age, "action", action);
        char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (t)
            puts(t);
        free(t);
        json_decref(o);
    } else {
        printf("%-14s %s  %s  %lld days old  (%s)\n", action, id, when, age, r->text);
    }
}

static int one(void *ud, const struct retention_call *c)
{
    struct walk *w = ud;
    struct retention_call call = *c;
    bool needs_eval = false;
    for (int i = 0; i < w->p->n; i++)
        needs_eval |= w->p->rules[i].kind == RET_EVALUATED;
    if (needs_eval) {
        struct eval_filter f = {.call_id = c->id, .status = -1, .limit = 1};
        eval_list(w->rs, &f, found, &call.evaluated);
    }
    int r = archive_retention_match(w->p, &call);
    if (r < 0) {
        w->unmatched++;
        return 0;
    }
    w->matched[r]++;
    const struct retention_rule *rule = &w->p->rules[r];
    if (rule->keep_ms < 0 || c->started_at >= w->now - rule->keep_ms)
        return 0;
    if (c->legal_hold) { /* legal hold always wins */
        w->held[r]++;
        print_call(w, c->id, c->started_at, r, "held");
        return 0;
    }
    w->expired[r]++;
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 1024;
        struct doomed *g = realloc(w->v, nc * sizeof *g);
        if (!g) {
            w->rc = ES_ENOMEM;
            return 1;
        }
        w->v = g;
        w->cap = nc;
    }
    struct doomed *d = &w->v[w->n];
    snprintf(d->id, sizeof d->id, "%s", c->id);
    d->path = strdup(c->path);
    d->rule = r;
    d->started_at = c->started_at;
    if (!d->path) {
        w->rc = ES_ENOMEM;
        return 1;
    }
    w->n++;
    return 0;
}

#define BATCH 500

int cmd_retention_policy(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"policy", no_argument, NULL, 'p'},
        {"dry-run", no_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'J'},
        {NULL, 0, NULL, 0},
    };
    int dry = 0, json = 0, c;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1) {
        if (c == 'n')
            dry = 1;
        else if (c == 'J')
            json = 1;
        else if (c != 'p') {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != cli->argc) {
        fputs(usage, stderr);
        return 2;
    }
    const char *spec = cli->config ? es_config_get(cli->config, "retention") : NULL;
    struct es_err err = {{0}};
    struct retention_policy p;
    if (!spec) {
        fprintf(stderr, "earshot retention: no policy: set `retention = ...` in the configuration"
                        " (e.g. tag:b2b 1095d, default 365d)\n");
        return 2;
    }
    if (archive_retention_parse(spec, &p, &err)) {
        fprintf(stderr, "earshot: config %s\n", err.msg);
        return 2;
    }
    struct catalog *cat = NULL;
    struct rubric_store *rs = NULL;
    struct review_store *rv = NULL;
    if (catalog_open(cli->data_dir, &cat, &err) || rubric_store_open(cat, &rs, &err) ||
        review_store_open(cat, &rv, &err)) {
        fprintf(stderr, "earshot retention: %s\n", err.msg);
        rubric_store_close(rs);
        catalog_close(cat);
        return 1;
    }
    struct walk w = {.p = &p, .rs = rs, .now = es_now_ms(), .json = json};
    int rc = catalog_audio_calls(cat, one, &w);
    if (!rc)
        rc = w.rc;
    int64_t deleted[RETENTION_MAX_RULES] = {0}, failed = 0;
    for (size_t i = 0; i < w.n && !rc; i += BATCH) {
        size_t end = ES_MIN(w.n, i + BATCH);
        if (dry) {
            for (size_t k = i; k < end; k++)
                print_call(&w, w.v[k].id, w.v[k].started_at, w.v[k].rule, "would delete");
            continue;
        }
        /* marked purged and audited together; the files go once that is committed (a
         * crash in between leaves a stray file verify reports, never a row without audio) */
        bool outer;
        rc = catalog_tx_begin(catalog_db(cat), &outer);
        for (size_t k = i; k < end && !rc; k++) {
            const struct retention_rule *r = &p.rules[w.v[k].rule];
            json_t *d = json_pack("{s:s, s:I, s:I}", "rule", r->text, "keep_days",
                                  (json_int_t)(r->keep_ms / 86400000), "age_days",
                                  (json_int_t)((w.now - w.v[k].started_at) / 86400000));
            char *detail = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
            json_decref(d);
            rc = detail ? catalog_mark_purged(cat, w.v[k].id, w.now) : ES_ENOMEM;
            if (!rc)
                rc = review_audit(rv, "retention", "retention.delete", w.v[k].id, detail, &err);
            free(detail);
        }
        rc = catalog_tx_end(catalog_db(cat), outer, rc);
        if (rc)
            break;
        review_audit_anchor(rv);
        for (size_t k = i; k < end; k++) {
            struct es_err gone = {{0}};
            if (archive_file_remove(cat, w.v[k].path, &gone)) {
                failed++;
                ES_ERROR("retention", "%s (marked purged; remove it by hand)", gone.msg);
            }
            deleted[w.v[k].rule]++;
            print_call(&w, w.v[k].id, w.v[k].started_at, w.v[k].rule, "deleted");
        }
    }
    if (rc) {
        fprintf(stderr, "earshot retention: %s\n", err.msg[0] ? err.msg : es_strerror(rc));
    } else if (json) {
        json_t *rules = json_array();
        for (int i = 0; i < p.n; i++)
            json_array_append_new(
                rules, json_pack("{s:s, s:I, s:I, s:I, s:I}", "rule", p.rules[i].text, "matched",
                                 (json_int_t)w.matched[i], "expired", (json_int_t)w.expired[i],
                                 dry ? "would_delete" : "deleted",
                                 (json_int_t)(dry ? w.expired[i] : deleted[i]), "held",
                                 (json_int_t)w.held[i]));
        json_t *o = json_pack("{s:o, s:I, s:b}", "rules", rules, "unmatched",
                              (json_int_t)w.unmatched, "dry_run", dry);
        char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (t)
            puts(t);
        free(t);
        json_decref(o);
    } else {
        for (int i = 0; i < p.n; i++)
            printf("%-28s matched %lld, past their time %lld, %s %lld, held %lld\n",
                   p.rules[i].text, (long long)w.matched[i], (long long)w.expired[i],
                   dry ? "would delete" : "deleted", (long long)(dry ? w.expired[i] : deleted[i]),
                   (long long)w.held[i]);
        if (w.unmatched)
            printf("%lld recordings match no rule and are kept\n", (long long)w.unmatched);
    }
    for (size_t i = 0; i < w.n; i++)
        free(w.v[i].path);
    free(w.v);
    review_store_close(rv);
    rubric_store_close(rs);
    catalog_close(cat);
    return rc || failed ? 1 : 0;
}
