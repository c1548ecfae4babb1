/* The audio store: names relative to the data directory, refused when they
 * would leave it; placing, moving, listing, removing and destroying files. */
#include "archive/archive.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static struct catalog *cat;

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/earshot-store-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    struct es_err e;
    cr_assert_eq(catalog_open(dir, &cat, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
    catalog_close(cat);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* A local file with text in it, at dir/name. */
static void local_file(const char *name, const char *text, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static bool local_exists(const char *rel)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return access(p, F_OK) == 0;
}

TestSuite(store, .init = setup, .fini = teardown);

Test(store, names_outside_the_data_directory_are_refused)
{
    struct es_err e = {{0}};
    int fd;
    const char *bad[] = {"/abs/x.opus", "../x.opus", "archive/../../x", "archive//x", "", "a/.."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(archive_file_open(cat, bad[i], &fd, &e), ES_EINVAL, "%s", bad[i]);
        cr_expect_eq(archive_file_remove(cat, bad[i], &e), ES_EINVAL, "%s", bad[i]);
        cr_expect_not(archive_file_exists(cat, bad[i]), "%s", bad[i]);
    }
    cr_expect(strstr(e.msg, "not a path inside the data directory"), "%s", e.msg);
    /* a name with dots that are not a ".." component is fine */
    char tmp[256];
    local_file("t1", "x", tmp, sizeof tmp);
    cr_assert_eq(archive_file_place(cat, tmp, "archive/2026/12/02/a..b.opus", &e), 0, "%s", e.msg);
}

Test(store, place_read_hash_move_remove)
{
    struct es_err e = {{0}};
    char tmp[256];
    local_file("t1", "hello", tmp, sizeof tmp);
    const char *rel = "archive/2026/12/02/one.opus";
    cr_assert_eq(archive_file_place(cat, tmp, rel, &e), 0, "%s", e.msg);
    cr_expect_neq(access(tmp, F_OK), 0, "the temp file is gone");
    cr_assert(archive_file_exists(cat, rel));
    struct es_buf b;
    es_buf_init(&b, 0);
    cr_assert_eq(archive_file_read(cat, rel, 1 << 20, &b, &e), 0, "%s", e.msg);
    cr_expect_eq(b.len, 5);
    cr_expect_eq(memcmp(b.data, "hello", 5), 0);
    es_buf_free(&b);
    uint8_t h[32];
    uint64_t n = 0;
    cr_assert_eq(archive_file_hash(cat, rel, h, &n), 0);
    cr_expect_eq(n, 5);
    int fd = -1;
    cr_assert_eq(archive_file_open(cat, rel, &fd, &e), 0, "%s", e.msg);
    char got[8] = {0};
    cr_expect_eq(read(fd, got, sizeof got), 5);
    close(fd);
    cr_assert_eq(archive_file_move(cat, rel, "quarantine/one.opus", &e), 0, "%s", e.msg);
    cr_expect_not(archive_file_exists(cat, rel));
    cr_expect(local_exists("quarantine/one.opus"));
    cr_assert_eq(archive_file_remove(cat, "quarantine/one.opus", &e), 0, "%s", e.msg);
    cr_expect_not(local_exists("quarantine/one.opus"));
    cr_expect_eq(archive_file_remove(cat, "quarantine/one.opus", &e), 0, "already gone: fine");
    cr_expect_eq(archive_file_hash(cat, rel, h, &n), -ENOENT);
    cr_expect_neq(archive_file_open(cat, rel, &fd, &e), 0);
    cr_expect(strstr(e.msg, rel), "the message names the file: %s", e.msg);
}

Test(store, a_failed_place_leaves_nothing)
{
    struct es_err e = {{0}};
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s/no-such-temp", dir);
    cr_expect_neq(archive_file_place(cat, tmp, "archive/2026/12/02/x.opus", &e), 0);
    cr_expect_not(archive_file_exists(cat, "archive/2026/12/02/x.opus"));
    cr_expect(e.msg[0]);
}

Test(store, destroy_overwrites_then_removes)
{
    struct es_err e = {{0}};
    char tmp[256], keep[256];
    local_file("t1", "secret audio", tmp, sizeof tmp);
    cr_assert_eq(archive_file_place(cat, tmp, "archive/2026/12/02/plain.opus", &e), 0);
    /* a second name for the same inode shows what the first held when removed */
    snprintf(keep, sizeof keep, "%s/keep", dir);
    char full[256];
    snprintf(full, sizeof full, "%s/archive/2026/12/02/plain.opus", dir);
    cr_assert_eq(link(full, keep), 0);
    cr_assert_eq(archive_file_destroy(cat, "archive/2026/12/02/plain.opus", &e), 0, "%s", e.msg);
    cr_expect_not(archive_file_exists(cat, "archive/2026/12/02/plain.opus"));
    FILE *f = fopen(keep, "rb");
    cr_assert_not_null(f);
    char got[16];
    size_t n = fread(got, 1, sizeof got, f);
    fclose(f);
    cr_expect_eq(n, 12);
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(got[i], 0, "byte %zu was not overwritten", i);
}

struct seen {
    char names[8][128];
    int n;
};

static int collect(void *ud, const char *rel)
{
    struct seen *s = ud;
    if (s->n < 8)
        snprintf(s->names[s->n++], sizeof s->names[0], "%s", rel);
    return 0;
}

Test(store, list_gives_the_entries_at_a_depth)
{
    struct es_err e = {{0}};
    char tmp[256];
    local_file("t1", "a", tmp, sizeof tmp);
    cr_assert_eq(archive_file_place(cat, tmp, "archive/2026/12/02/a.opus", &e), 0);
    local_file("t2", "b", tmp, sizeof tmp);
    cr_assert_eq(archive_file_place(cat, tmp, "archive/2026/11/30/b.opus", &e), 0);
    local_file("t3", "c", tmp, sizeof tmp);
    cr_assert_eq(archive_file_place(cat, tmp, "archive/2026/stray.opus", &e), 0);
    local_file("t4", "d", tmp, sizeof tmp);
    cr_assert_eq(archive_file_place(cat, tmp, "archive/.tmp/writer-1.tmp", &e), 0);
    struct seen s = {0};
    cr_assert_eq(archive_file_list(cat, "archive", 4, collect, &s), 0);
    cr_assert_eq(s.n, 2, "only the dated files: %d", s.n);
    bool a = false, b = false;
    for (int i = 0; i < s.n; i++) {
        a |= !strcmp(s.names[i], "archive/2026/12/02/a.opus");
        b |= !strcmp(s.names[i], "archive/2026/11/30/b.opus");
    }
    cr_expect(a && b);
}
