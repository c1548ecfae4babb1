#include "archive/archive.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sndfile.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], data[96], input[128];

static void write_wav(const char *p, double seconds, double amp)
{
    SF_INFO info = {.samplerate = 8000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *sf = sf_open(p, SFM_WRITE, &info);
    cr_assert_not_null(sf);
    long n = (long)(seconds * 8000);
    float *pcm = malloc(sizeof(float) * (size_t)n);
    for (long i = 0; i < n; i++)
        pcm[i] = (float)(amp * sin(0.3 * (double)i) * (i % 8000 < 4000));
    sf_writef_float(sf, pcm, n);
    sf_close(sf);
    free(pcm);
}

static void setup(void)
{
    cr_assert_geq(sodium_init(), 0);
    setenv("TZ", "UTC", 1);
    snprintf(dir, sizeof dir, "/tmp/earshot-ingest-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(input, sizeof input, "%s/out-5551234-101-20261120-143015-1.2.wav", dir);
}


static struct ingest_session *sess;
static struct catalog *cat;

/* Archives `input` once with the given disposition. */
static void run_once(enum ingest_disposition d, struct ingest_result *r)
{
    struct ingest_opts o = {.data_dir = data,
                            .bitrate_mono = 16000,
                            .bitrate_stereo = 24000,
                            .complexity = -1,
                            .leg_suffix = {"-in", "-out"},
                            .source = "ingest",
                            .disposition = d};
    struct es_err e;
    if (!sess) {
        cr_assert_eq(ingest_session_open(&o, &sess, &e), 0, "%s", e.msg);
        cr_assert_eq(catalog_open(data, &cat, &e), 0, "%s", e.msg);
    }
    struct ingest_job job = {.path = {input}, .nlegs = 1};
    ingest_run(sess, cat, &job, r);
}

static void teardown(void)
{
    catalog_close(cat);
    ingest_session_close(sess);
    cat = NULL;
    sess = NULL;
}

TestSuite(ingest, .init = setup, .fini = teardown);

Test(ingest, archives_then_skips_the_same_content)
{
    write_wav(input, 3.0, 0.3);
    struct ingest_result r;
    run_once(INGEST_KEEP, &r);
    struct catalog *c = cat;
    cr_assert_eq(r.status, INGEST_ARCHIVED, "%s", r.msg);
    cr_assert_eq(r.duration_ms, 3000);
    cr_assert_str_eq(strstr(r.path, "archive/2026/11/20/") ? "ok" : r.path, "ok");
    struct archive_call k;
    struct archive_recording rec;
    bool has;
    cr_assert_eq(catalog_get(c, r.id, &k, &rec, &has), 0);
    cr_assert_str_eq(k.direction, "outbound");
    cr_assert_str_eq(k.operator_, "101");
    cr_assert_eq(rec.channels, 1);
    cr_assert_eq(rec.sample_rate, 8000);
    cr_assert(strstr(k.meta_sources, "\"operator\":\"filename\"") != NULL, "%s", k.meta_sources);
    struct archive_analysis an;
    cr_assert_eq(catalog_get_analysis(c, r.id, &an), 0);
    /* three 0.5 s bursts, each followed by the detector's 250 ms hangover */
    cr_assert(an.ch[0].talk_ms >= 2100 && an.ch[0].talk_ms <= 2300, "talk %lld",
              (long long)an.ch[0].talk_ms);
    archive_analysis_release(&an);
    struct ingest_result again;
    run_once(INGEST_KEEP, &again);
    cr_assert_eq(again.status, INGEST_SKIPPED);
    cr_assert_str_eq(again.id, r.id);
    cr_assert(access(input, F_OK) == 0, "kept by default");
}

Test(ingest, failure_goes_to_failed_dir_and_input_stays)
{
    write_wav(input, 2.0, 0.0); /* digital silence */
    struct ingest_result r;
    run_once(INGEST_DELETE, &r);
    cr_assert_eq(r.status, INGEST_FAILED);
    cr_assert(strstr(r.msg, "silent") != NULL, "%s", r.msg);
    char failed[256];
    snprintf(failed, sizeof failed, "%s/failed/%s.reason", data, es_basename(input));
    cr_assert(access(failed, F_OK) == 0, "reason file");
    /* with --delete the input may go only because its copy is safe in failed/ */
    failed[strlen(failed) - 7] = '\0';
    cr_assert(access(failed, F_OK) == 0, "copy in failed/");
}

Test(ingest, delete_only_after_commit)
{
    write_wav(input, 1.0, 0.3);
    struct ingest_result r;
    run_once(INGEST_DELETE, &r);
    cr_assert_eq(r.status, INGEST_ARCHIVED, "%s", r.msg);
    cr_assert(access(input, F_OK) != 0, "input deleted after archiving");
    char full[1024];
    snprintf(full, sizeof full, "%s/%s", data, r.path);
    struct stat st;
    cr_assert_eq(stat(full, &st), 0);
    cr_assert_gt(st.st_size, 1000);
}
