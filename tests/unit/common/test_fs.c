#include "common/common.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/earshot-fs-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

TestSuite(fs, .init = setup);

static int count_entries(const char *d)
{
    DIR *h = opendir(d);
    int n = 0;
    struct dirent *e;
    while (h && (e = readdir(h)))
        n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
    if (h)
        closedir(h);
    return n;
}

Test(fs, durable_write_copy_and_hash)
{
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/deep/er/a.txt", dir);
    cr_assert_eq(es_mkdir_p(a, 0700), 0); /* makes a directory named a.txt */
    rmdir(a);
    cr_assert_eq(es_write_file_durable(a, "hello", 5), 0);
    snprintf(b, sizeof b, "%s/deep/b.txt", dir);
    cr_assert_eq(es_copy_file_durable(a, b), 0);
    struct es_buf got;
    cr_assert_eq(es_read_file(b, 100, &got), 0);
    cr_assert_eq(got.len, 5);
    cr_assert_eq(memcmp(got.data, "hello", 5), 0);
    es_buf_free(&got);
    cr_assert_eq(es_read_file(b, 4, &got), ES_ETOOBIG, "the cap holds");
    uint8_t h[32], want[32];
    uint64_t n;
    cr_assert_eq(es_sha256_file(b, h, &n), 0);
    crypto_hash_sha256(want, (const unsigned char *)"hello", 5);
    cr_assert_eq(memcmp(h, want, 32), 0);
    cr_assert_eq(n, 5);
    char d[128];
    snprintf(d, sizeof d, "%s/deep", dir);
    cr_assert_eq(count_entries(d), 2, "no temp files left next to the results");
}

Test(fs, failed_copy_leaves_nothing)
{
    char dst[128];
    snprintf(dst, sizeof dst, "%s/x.txt", dir);
    cr_assert_lt(es_copy_file_durable("/nonexistent/src", dst), 0);
    cr_assert_eq(count_entries(dir), 0);
    cr_assert_lt(es_sha256_file("/nonexistent/src", (uint8_t[32]){0}, NULL), 0);
}

Test(fs, path_parts)
{
    char out[64];
    es_dirname("/a/b/c.wav", out, sizeof out);
    cr_assert_str_eq(out, "/a/b");
    es_dirname("c.wav", out, sizeof out);
    cr_assert_str_eq(out, ".");
    es_dirname("/c.wav", out, sizeof out);
    cr_assert_str_eq(out, "/");
    cr_assert_str_eq(es_basename("/a/b/c.wav"), "c.wav");
    char hex[9];
    es_hex((const uint8_t *)"\x01\xab\xff\x00", 4, hex);
    cr_assert_str_eq(hex, "01abff00");
}
