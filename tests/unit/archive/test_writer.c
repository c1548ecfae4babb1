/* The archive writer's protocol: a committed recording is in its dated place
 * and catalogued with no pending mark or temp file left; one freed before its
 * commit leaves nothing; a second recording of an archived source is refused
 * by the catalog and its file removed. */
#include "archive/archive.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static struct ingest_session *sess;
static struct catalog *cat;

static void setup(void)
{
    cr_assert_geq(sodium_init(), 0);
    snprintf(dir, sizeof dir, "/tmp/earshot-writer-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    struct ingest_opts o = ingest_opts_default(dir, "test");
    struct es_err e;
    cr_assert_eq(ingest_session_open(&o, &sess, &e), 0, "%s", e.msg);
    cr_assert_eq(catalog_open(dir, &cat, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
    catalog_close(cat);
    ingest_session_close(sess);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* A writer with two seconds of two voices written and finished. */
static struct archive_writer *recorded(struct archive_call *k, const char *sha)
{
    memset(k, 0, sizeof *k);
    k->started_at = 1763650215000; /* 2025-11-20 */
    es_uuid7(k->started_at, k->id);
    snprintf(k->direction, sizeof k->direction, "inbound");
    snprintf(k->source, sizeof k->source, "test");
    snprintf(k->source_sha256, sizeof k->source_sha256, "%s", sha);
    snprintf(k->disposition, sizeof k->disposition, "answered");
    snprintf(k->meta_sources, sizeof k->meta_sources, "{}");
    snprintf(k->tags, sizeof k->tags, "[]");
    snprintf(k->details, sizeof k->details, "{}");
    k->ring_ms = k->talk_ms = -1;
    struct archive_format f = {.rate = 8000, .channels = 2, .source_rate = 8000, .frames_hint = -1};
    struct archive_writer *w;
    struct es_err e;
    cr_assert_eq(archive_writer_open(sess, k, &f, &w, &e), 0, "%s", e.msg);
    static float pcm[2 * 16000];
    for (int i = 0; i < 16000; i++) {
        pcm[2 * i] = (float)(0.3 * sin(0.2 * i));
        pcm[2 * i + 1] = (float)(0.2 * sin(0.05 * i)) * (i > 8000);
    }
    cr_assert_eq(archive_writer_write(w, pcm, 16000, &e), 0, "%s", e.msg);
    const struct archive_recording *rec;
    const struct archive_analysis *an;
    cr_assert_eq(archive_writer_finish(w, &rec, &an, &e), 0, "%s", e.msg);
    cr_assert_eq(rec->channels, 2);
    cr_assert(rec->duration_ms >= 1990 && rec->duration_ms <= 2010, "%lld",
              (long long)rec->duration_ms);
    return w;
}

/* Regular files whose name ends with suffix under path (recursively). */
static int count_files(const char *path, const char *suffix)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        struct stat st;
        if (stat(p, &st))
            continue;
        size_t l = strlen(e->d_name), s = strlen(suffix);
        if (S_ISDIR(st.st_mode))
            n += count_files(p, suffix);
        else if (l >= s && !strcmp(e->d_name + l - s, suffix))
            n++;
    }
    closedir(d);
    return n;
}

static int64_t pending_marks(void)
{
    struct db_stmt *st;
    cr_assert_eq(db_prepare(catalog_db(cat), "SELECT count(*) FROM pending_files", &st), 0);
    cr_assert_eq(db_step(st), DB_ROW);
    int64_t n = db_column_int64(st, 0);
    db_finalize(st);
    return n;
}

Test(writer, commit_places_and_catalogues, .init = setup, .fini = teardown)
{
    struct archive_call k;
    struct archive_writer *w = recorded(&k, "aa");
    char path[512];
    struct es_err e;
    cr_assert_eq(archive_writer_commit(w, cat, &k, path, sizeof path, &e), 0, "%s", e.msg);
    archive_writer_free(w);
    char want[512];
    snprintf(want, sizeof want, "archive/2025/11/20/%s.opus", k.id);
    cr_assert_str_eq(path, want, "dated by the call's start");
    char full[600];
    snprintf(full, sizeof full, "%s/%s", dir, path);
    cr_assert_eq(access(full, R_OK), 0);
    cr_assert_eq(catalog_has_path(cat, path), 1);
    cr_assert(k.duration_ms >= 1990 && k.ended_at == k.started_at + k.duration_ms);
    cr_assert_eq(pending_marks(), 0, "the commit cleared the mark");
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s/archive/.tmp", dir);
    cr_assert_eq(count_files(tmp, ".tmp"), 0);
    struct archive_call back;
    struct archive_recording rec;
    bool has;
    cr_assert_eq(catalog_get(cat, k.id, &back, &rec, &has), 0);
    cr_assert(has);
    cr_assert_str_eq(rec.path, path);
    cr_assert_eq(rec.channels, 2);
}

Test(writer, freed_before_commit_leaves_nothing, .init = setup, .fini = teardown)
{
    struct archive_call k;
    archive_writer_free(recorded(&k, "bb"));
    char arch[128];
    snprintf(arch, sizeof arch, "%s/archive", dir);
    cr_assert_eq(count_files(arch, ".tmp") + count_files(arch, ".opus"), 0);
    cr_assert_eq(pending_marks(), 0);
    struct archive_call back;
    struct archive_recording rec;
    bool has;
    cr_assert_eq(catalog_get(cat, k.id, &back, &rec, &has), ES_ENOTFOUND);
}

Test(writer, a_source_archived_twice_is_refused, .init = setup, .fini = teardown)
{
    struct archive_call a, b;
    struct es_err e;
    struct archive_writer *w = recorded(&a, "cc");
    cr_assert_eq(archive_writer_commit(w, cat, &a, NULL, 0, &e), 0, "%s", e.msg);
    archive_writer_free(w);
    w = recorded(&b, "cc"); /* another id, the same source */
    cr_assert_eq(archive_writer_commit(w, cat, &b, NULL, 0, &e), ES_EEXIST);
    archive_writer_free(w);
    char arch[128];
    snprintf(arch, sizeof arch, "%s/archive", dir);
    cr_assert_eq(count_files(arch, ".opus"), 1, "the loser's file is gone");
    cr_assert_eq(pending_marks(), 0);
}
