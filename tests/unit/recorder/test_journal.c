/* The journal of calls in progress: BEGIN and END per call, a rewrite that
 * keeps only the calls still in progress, and the takeover that archives
 * those from their checkpointed temp files, marked interrupted. */
#include "recorder/record_int.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], spill[96];
static struct ingest_session *sess;
static struct catalog *cat;

static void setup(void)
{
    cr_assert_geq(sodium_init(), 0);
    es_log_set_level(ES_LOG_QUIET);
    snprintf(dir, sizeof dir, "/tmp/earshot-journal-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(spill, sizeof spill, "%s/spill-test", dir);
    cr_assert_eq(mkdir(spill, 0700), 0);
    struct ingest_opts o = ingest_opts_default(dir, "recorder");
    struct es_err e;
    cr_assert_eq(ingest_session_open(&o, &sess, &e), 0, "%s", e.msg);
    cr_assert_eq(catalog_open(dir, &cat, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
    catalog_close(cat);
    ingest_session_close(sess);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(journal, .init = setup, .fini = teardown);

/* A call with `seconds` of a tone per side, encoded and checkpointed. */
static struct archive_writer *call(struct archive_call *k, int n, double seconds)
{
    memset(k, 0, sizeof *k);
    k->started_at = 1700000000000 + n * 1000;
    es_uuid7(k->started_at, k->id);
    snprintf(k->direction, sizeof k->direction, "inbound");
    snprintf(k->caller, sizeof k->caller, "+4930%d", n);
    snprintf(k->source, sizeof k->source, "recorder");
    snprintf(k->sip_call_id, sizeof k->sip_call_id, "journal-%d", n);
    snprintf(k->source_sha256, sizeof k->source_sha256, "%064d", n);
    struct archive_format f = {
        .rate = 8000, .channels = 2, .source_rate = 8000, .frames_hint = -1, .tmp_dir = spill};
    struct archive_writer *w;
    struct es_err e;
    cr_assert_eq(archive_writer_open(sess, k, &f, &w, &e), 0, "%s", e.msg);
    size_t frames = (size_t)(seconds * 8000);
    float *pcm = malloc(frames * 2 * sizeof *pcm);
    for (size_t i = 0; i < frames; i++) {
        pcm[2 * i] = 0.3f * sinf(2 * 3.14159265f * 400 * (float)i / 8000);
        pcm[2 * i + 1] = 0.3f * sinf(2 * 3.14159265f * 1000 * (float)i / 8000);
    }
    cr_assert_eq(archive_writer_write(w, pcm, frames, &e), 0, "%s", e.msg);
    free(pcm);
    cr_assert_eq(archive_writer_checkpoint(w, &e), 0, "%s", e.msg);
    return w;
}

/* The BEGINs left in the journal with no END, by call id order of writing. */
static int open_entries(char ids[][ES_ID_LEN], int max)
{
    char path[160];
    snprintf(path, sizeof path, "%s/calls-0.journal", spill);
    struct spool_reader *r;
    struct es_err e;
    cr_assert_eq(spool_reader_open(path, 0, &r, &e), 0, "%s", e.msg);
    int n = 0;
    uint16_t type;
    const void *p;
    size_t len;
    while (spool_next(r, &type, &p, &len) == 0) {
        json_t *o = json_loadb(p, len, 0, NULL);
        const char *id = json_string_value(json_object_get(o, "id"));
        cr_assert_not_null(id);
        if (type == 1 && n < max) {
            snprintf(ids[n++], ES_ID_LEN, "%s", id);
        } else if (type == 2) {
            for (int i = 0; i < n; i++)
                if (!strcmp(ids[i], id)) {
                    memmove(ids[i], ids[i + 1], (size_t)(n - i - 1) * ES_ID_LEN);
                    n--;
                    break;
                }
        }
        json_decref(o);
    }
    spool_reader_close(r);
    return n;
}

Test(journal, a_rewrite_keeps_the_calls_in_progress_and_the_takeover_archives_them)
{
    struct rec_journal *j;
    struct es_err e;
    cr_assert_eq(rec_journal_open(spill, 0, &j, &e), 0, "%s", e.msg);
    static struct archive_call k[3];
    struct archive_writer *w[3];
    for (int i = 0; i < 3; i++) {
        w[i] = call(&k[i], i, 2.0 + i);
        rec_journal_begin(j, &k[i], w[i]);
    }
    rec_journal_end(j, k[0].id); /* the first one was committed */
    uint64_t before = rec_journal_bytes(j);
    cr_assert_eq(rec_journal_rewrite_begin(j, &e), 0, "%s", e.msg);
    for (int i = 1; i < 3; i++)
        rec_journal_begin(j, &k[i], w[i]);
    cr_assert_eq(rec_journal_rewrite_end(j, &e), 0, "%s", e.msg);
    cr_assert_lt(rec_journal_bytes(j), before, "smaller: only what is still in progress");
    char ids[4][ES_ID_LEN];
    cr_assert_eq(open_entries(ids, 4), 2);
    cr_assert_str_eq(ids[0], k[1].id);
    cr_assert_str_eq(ids[1], k[2].id);
    char path[160];
    snprintf(path, sizeof path, "%s/calls-0.journal.new", spill);
    cr_assert_neq(access(path, F_OK), 0, "renamed into place");
    /* the recorder dies here: the next one takes over */
    rec_journal_close(j);
    struct rec_recovery rr = {0};
    cr_assert_eq(rec_journal_recover(spill, sess, cat, &rr), 0);
    cr_assert_eq(rr.recovered, 2, "%llu", (unsigned long long)rr.recovered);
    cr_assert_eq(rr.failed, 0);
    for (int i = 1; i < 3; i++) {
        struct archive_call got;
        struct archive_recording rec;
        bool has;
        cr_assert_eq(catalog_get(cat, k[i].id, &got, &rec, &has), 0);
        cr_assert(has);
        cr_assert(strstr(got.details, "\"interrupted\":true"), "%s", got.details);
        cr_assert_str_eq(got.sip_call_id, k[i].sip_call_id);
        /* checkpointed: all of it, to the Opus frame */
        cr_assert_geq(got.duration_ms, (2 + i) * 1000 - 20, "%lld", (long long)got.duration_ms);
        cr_assert_leq(got.duration_ms, (2 + i) * 1000, "%lld", (long long)got.duration_ms);
    }
    struct archive_call none;
    struct archive_recording rec;
    bool has;
    cr_assert_eq(catalog_get(cat, k[0].id, &none, &rec, &has), ES_ENOTFOUND,
                 "a call the journal ended is not taken over");
    for (int i = 0; i < 3; i++)
        archive_writer_free(w[i]);
}
