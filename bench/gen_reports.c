/* Builds the data set of bench/reports through the library itself: OPERATORS
 * operators, CALLS calls spread over the last DAYS days, EVALS evaluations of
 * random calls with the inbound-order example rubric, each operator with a
 * habit (an item they fail more often), most evaluations acknowledged, some
 * disputed and resolved. Also measures `rubric score` throughput against a
 * bare jansson parse of the same answers (the anchor).
 *
 * usage: gen_reports DATA_DIR RUBRIC.yaml OPERATORS CALLS EVALS DAYS
 *        gen_reports --score RUBRIC.yaml N
 *        gen_reports --time DATA_DIR SINCE_MS UNTIL_MS [OPERATOR]
 *        gen_reports --progress DATA_DIR SINCE_MS UNTIL_MS OPERATOR
 *        gen_reports --missed DATA_DIR N
 * --missed adds N missed inbound calls from N different numbers over the last
 * 30 days in 6 queues (every tenth number twice) and reads them into the
 * unreturned-calls list: N open entries, for bench/serve.
 */
#include "followup/followup.h"
#include "scripts-rubric/rubric.h"

#include <sodium.h>
#include "common/db.h"
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x5eed;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static double unit(void)
{
    return (double)(next() >> 11) / 9007199254740992.0;
}

static json_t *answers(const struct rubric *r, int op, bool b2b)
{
    json_t *a = json_object();
    int habit = op % r->nitems;
    for (int i = 0; i < r->nitems; i++) {
        const struct rubric_item *it = &r->items[i];
        if (it->napplies && !b2b)
            continue;
        double fail = i == habit ? 0.25 + 0.5 * (op % 7) / 7.0 : 0.04;
        if (it->critical)
            fail = 0.01;
        if (it->type == RUBRIC_SCALE)
            json_object_set_new(
                a, it->id, json_integer(unit() < fail ? it->min : it->max - (int)(next() % 2)));
        else if (it->na_allowed && unit() < 0.1)
            json_object_set_new(a, it->id, json_string("na"));
        else
            json_object_set_new(a, it->id, json_string(unit() < fail ? "no" : "yes"));
    }
    return a;
}

static int score_bench(const char *path, long n)
{
    struct es_buf b;
    struct rubric *r;
    if (es_read_file(path, RUBRIC_MAX_BYTES, &b) ||
        rubric_load((const uint8_t *)b.data, b.len, &r, NULL))
        return 1;
    json_t *a = answers(r, 3, false);
    char *text = json_dumps(a, JSON_COMPACT);
    size_t len = strlen(text);
    static struct rubric_answers ans;
    static struct rubric_result res;
    struct es_err err;
    int64_t t0 = es_mono_us();
    for (long i = 0; i < n; i++) {
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        json_decref(j);
    }
    int64_t t1 = es_mono_us();
    long ok = 0;
    for (long i = 0; i < n; i++) {
        if (rubric_answers_parse(r, (const uint8_t *)text, len, &ans, &err) == 0 &&
            rubric_score(r, &ans, NULL, &res, &err) == 0) {
            json_t *o = rubric_result_json(r, &res);
            ok += json_is_object(o);
            json_decref(o);
        }
    }
    int64_t t2 = es_mono_us();
    double anchor = (double)n / ((double)(t1 - t0) / 1e6),
           ours = (double)n / ((double)(t2 - t1) / 1e6);
    printf("score_per_s=%.0f parse_only_per_s=%.0f ratio=%.2f ok=%ld\n", ours, anchor,
           ours / anchor, ok);
    free(text);
    json_decref(a);
    rubric_free(r);
    es_buf_free(&b);
    return ok == n ? 0 : 1;
}

/* In-process median of 5 warm report_errors() calls: what the review server sees. */
/* report_progress for one operator over [since, until): the median of 5 warm runs. */
static int time_progress(const char *dir, int64_t since, int64_t until, const char *op)
{
    struct es_err err = {{0}};
    struct catalog *cat;
    struct rubric_store *st;
    if (catalog_open(dir, &cat, &err) || rubric_store_open(cat, &st, &err)) {
        fprintf(stderr, "gen_reports: %s\n", err.msg);
        return 1;
    }
    int64_t t[6];
    json_int_t n = 0;
    for (int i = 0; i < 6; i++) {
        json_t *p;
        int64_t t0 = es_mono_us();
        if (report_progress(st, op, since, until, es_now_ms(), &p, &err)) {
            fprintf(stderr, "gen_reports: %s\n", err.msg);
            return 1;
        }
        t[i] = es_mono_us() - t0;
        n = json_integer_value(json_object_get(p, "evaluations"));
        json_decref(p);
    }
    for (int i = 1; i < 6; i++)
        for (int j = i; j > 1 && t[j - 1] > t[j]; j--) {
            int64_t x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    printf("%.4f %lld\n", (double)t[3] / 1e6, (long long)n);
    rubric_store_close(st);
    catalog_close(cat);
    return 0;
}

static int time_report(const char *dir, int64_t since, int64_t until, const char *op)
{
    struct es_err err = {{0}};
    struct catalog *cat;
    struct rubric_store *st;
    if (catalog_open(dir, &cat, &err) || rubric_store_open(cat, &st, &err)) {
        fprintf(stderr, "gen_reports: %s\n", err.msg);
        return 1;
    }
    struct report_window w = {
        .since = since, .until = until, .operator_ = op, .repeat_threshold = 3};
    int64_t t[6];
    size_t rows = 0;
    for (int i = 0; i < 6; i++) {
        struct report_errors r;
        int64_t t0 = es_mono_us();
        if (report_errors(st, &w, &r, &err)) {
            fprintf(stderr, "gen_reports: %s\n", err.msg);
            return 1;
        }
        t[i] = es_mono_us() - t0;
        rows = r.nrows;
        report_errors_release(&r);
    }
    for (int i = 1; i < 6; i++) /* sort the 5 warm runs */
        for (int j = i; j > 1 && t[j - 1] > t[j]; j--) {
            int64_t x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    printf("%.4f %zu\n", (double)t[3] / 1e6, rows);
    rubric_store_close(st);
    catalog_close(cat);
    return 0;
}

static int missed(const char *dir, long n)
{
    struct es_err err = {{0}};
    struct catalog *cat;
    struct followup *f;
    if (catalog_open(dir, &cat, &err) || followup_open(cat, &f, &err)) {
        fprintf(stderr, "gen_reports: %s\n", err.msg);
        return 1;
    }
    db_exec(catalog_db(cat), "PRAGMA synchronous = OFF");
    struct archive_call *k = calloc(1, sizeof *k);
    int64_t now = es_now_ms(), span = 30 * 86400000LL;
    bool outer;
    catalog_tx_begin(catalog_db(cat), &outer);
    for (long i = 0; i < n + n / 10; i++) {
        long who = i < n ? i : (i - n) * 10;
        memset(k, 0, sizeof *k);
        k->started_at =
            now - span + (int64_t)((double)span * (double)(i % n) / (double)n) + (i >= n);
        es_uuid7(k->started_at, k->id);
        k->ended_at = k->started_at + 20000;
        snprintf(k->direction, sizeof k->direction, "inbound");
        snprintf(k->caller, sizeof k->caller, "+4930%08ld", who);
        snprintf(k->callee, sizeof k->callee, "600");
        snprintf(k->queue, sizeof k->queue, "q%ld", who % 6);
        snprintf(k->disposition, sizeof k->disposition, "missed");
        snprintf(k->reason, sizeof k->reason, "%s", i % 3 ? "abandoned" : "no-answer");
        snprintf(k->source, sizeof k->source, "queue_log");
        snprintf(k->source_sha256, sizeof k->source_sha256, "%064lx", 0x7000000000L + i);
        snprintf(k->meta_sources, sizeof k->meta_sources, "{}");
        snprintf(k->tags, sizeof k->tags, "[]");
        snprintf(k->details, sizeof k->details, "{}");
        k->ring_ms = k->talk_ms = -1;
        if (catalog_insert_call(cat, k, NULL, NULL)) {
            fprintf(stderr, "gen_reports: inserting missed call %ld failed\n", i);
            return 1;
        }
    }
    catalog_tx_end(catalog_db(cat), outer, 0);
    struct followup_opts o = {.country_code = "49", .emit_after = INT64_MAX};
    int64_t read;
    if (followup_sync(f, &o, &read, &err)) {
        fprintf(stderr, "gen_reports: %s\n", err.msg);
        return 1;
    }
    int64_t open, claimed;
    followup_open_count(f, now, &open, &claimed, &err);
    printf("missed calls=%ld read=%lld open entries=%lld\n", n + n / 10, (long long)read,
           (long long)open);
    free(k);
    followup_close(f);
    catalog_close(cat);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    if (argc == 4 && !strcmp(argv[1], "--missed"))
        return missed(argv[2], strtol(argv[3], NULL, 10));
    if ((argc == 5 || argc == 6) && !strcmp(argv[1], "--time"))
        return time_report(argv[2], strtoll(argv[3], NULL, 10), strtoll(argv[4], NULL, 10),
                           argc == 6 ? argv[5] : NULL);
    if (argc == 6 && !strcmp(argv[1], "--progress"))
        return time_progress(argv[2], strtoll(argv[3], NULL, 10), strtoll(argv[4], NULL, 10),
                             argv[5]);
    if (argc == 4 && !strcmp(argv[1], "--score"))
        return score_bench(argv[2], strtol(argv[3], NULL, 10));
    if (argc != 7) {
        fprintf(stderr, "usage: gen_reports DATA_DIR RUBRIC.yaml OPERATORS CALLS EVALS DAYS\n");
        return 2;
    }
    int nops = (int)strtol(argv[3], NULL, 10);
    long ncalls = strtol(argv[4], NULL, 10), nevals = strtol(argv[5], NULL, 10);
    int64_t span = strtoll(argv[6], NULL, 10) * 86400000LL;
    struct es_err err = {{0}};
    struct catalog *cat;
    struct rubric_store *st;
    struct es_buf yaml;
    if (catalog_open(argv[1], &cat, &err) || rubric_store_open(cat, &st, &err) ||
        es_read_file(argv[2], RUBRIC_MAX_BYTES, &yaml)) {
        fprintf(stderr, "gen_reports: %s\n", err.msg);
        return 1;
    }
    /* a data set for measuring reports, not an archive: durability off while building */
    db_exec(catalog_db(cat), "PRAGMA synchronous = OFF");
    int version;
    enum rubric_import_outcome out;
    struct rubric *r;
    if (rubric_import(st, (const uint8_t *)yaml.data, yaml.len, &version, &out, &err) ||
        rubric_get(st, "inbound-order", 0, &r, NULL, &err)) {
        fprintf(stderr, "gen_reports: %s\n", err.msg);
        return 1;
    }
    int64_t now = es_now_ms(), start = now - span;
    struct archive_call *k = calloc(1, sizeof *k);
    char(*ids)[ES_ID_LEN] = malloc((size_t)ncalls * ES_ID_LEN);
    unsigned char *b2b = calloc((size_t)ncalls, 1);
    for (long i = 0; i < ncalls; i++) {
        memset(k, 0, sizeof *k);
        k->started_at = start + (int64_t)((double)span * (double)i / (double)ncalls);
        es_uuid7(k->started_at, k->id);
        k->duration_ms = 60000 + (int64_t)(next() % 240000);
        k->ended_at = k->started_at + k->duration_ms;
        snprintf(k->operator_, sizeof k->operator_, "op%03d", (int)(next() % (uint64_t)nops));
        snprintf(k->source, sizeof k->source, "api");
        snprintf(k->source_sha256, sizeof k->source_sha256, "%064lx", i + 1);
        b2b[i] = next() % 5 == 0;
        snprintf(k->tags, sizeof k->tags, "%s", b2b[i] ? "[\"b2b\"]" : "[]");
        if (catalog_insert_call(cat, k, NULL, NULL)) {
            fprintf(stderr, "gen_reports: inserting call %ld failed\n", i);
            return 1;
        }
        memcpy(ids[i], k->id, ES_ID_LEN);
        if (i % 100000 == 99999)
            fprintf(stderr, "gen_reports: %ld calls\n", i + 1);
    }
    long made = 0;
    for (long e = 0; e < nevals; e++) {
        long i = (long)(next() % (uint64_t)ncalls);
        struct archive_call *call = k;
        bool has;
        struct archive_recording rec;
        if (catalog_get(cat, ids[i], call, &rec, &has))
            continue;
        int op = (int)strtol(call->operator_ + 2, NULL, 10);
        json_t *a = answers(r, op, b2b[i]);
        struct eval_new en = {.call_id = ids[i],
                              .reviewer = "bench",
                              .rubric_id = r->id,
                              .answers = a,
                              .submit = true};
        char id[ES_ID_LEN];
        if (eval_create(st, &en, id, &err) == 0) {
            made++;
            uint64_t fate = next() % 10;
            if (fate < 7)
                eval_transition(st, id, EVAL_ACKNOWLEDGED, call->operator_, NULL, &err);
            else if (fate == 7 &&
                     !eval_transition(st, id, EVAL_DISPUTED, call->operator_, "disagree", &err))
                eval_transition(st, id, EVAL_RESOLVED, "lead", "upheld", &err);
        }
        json_decref(a);
        if (e % 20000 == 19999)
            fprintf(stderr, "gen_reports: %ld evaluations\n", e + 1);
    }
    printf("calls=%ld evaluations=%ld operators=%d\n", ncalls, made, nops);
    free(ids);
    free(b2b);
    free(k);
    rubric_free(r);
    es_buf_free(&yaml);
    rubric_store_close(st);
    catalog_close(cat);
    return 0;
}
