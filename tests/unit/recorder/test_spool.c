/* The spool: records come back in order, byte for byte; a tail torn by a crash
 * or flipped on disk stops the reader at the last whole record; a reader keeps
 * up with a writer that is still appending; the free-space floor refuses
 * appends instead of filling the disk. */
#include "recorder/record_int.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], path[128];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/earshot-spool-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/w0.spool", dir);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(spool, .init = setup, .fini = teardown);

/* Record i: type i % 7, i % 300 bytes of a pattern made from i. */
static size_t record(int i, uint8_t *p)
{
    size_t n = (size_t)(i % 300);
    for (size_t k = 0; k < n; k++)
        p[k] = (uint8_t)(i * 31 + (int)k);
    return n;
}

static void write_records(int count, bool sync)
{
    struct spool_writer *w;
    struct es_err e = {{0}};
    cr_assert_eq(spool_open(path, 0, &w, &e), 0, "%s", e.msg);
    uint8_t p[300];
    for (int i = 0; i < count; i++)
        cr_assert_eq(spool_append(w, (uint16_t)(i % 7), p, record(i, p)), 0);
    if (sync)
        cr_assert_eq(spool_sync(w), 0);
    cr_assert_eq(spool_close(w), 0);
}

/* Reads every whole record; returns how many, checking each; *last: the result that ended it. */
static int read_records(int *last)
{
    struct spool_reader *r;
    struct es_err e = {{0}};
    cr_assert_eq(spool_reader_open(path, 0, &r, &e), 0, "%s", e.msg);
    uint8_t want[300];
    uint16_t type;
    const void *p;
    size_t n;
    int i = 0, rc;
    while ((rc = spool_next(r, &type, &p, &n)) == 0) {
        size_t wn = record(i, want);
        cr_assert_eq(type, i % 7, "record %d", i);
        cr_assert_eq(n, wn, "record %d", i);
        cr_assert_eq(memcmp(p, want, n), 0, "record %d", i);
        i++;
    }
    *last = rc;
    spool_reader_close(r);
    return i;
}

Test(spool, records_come_back_in_order)
{
    write_records(20000, true);
    int last;
    cr_assert_eq(read_records(&last), 20000);
    cr_expect_eq(last, ES_EAGAIN, "the end is 'nothing more yet'");
}

Test(spool, a_torn_tail_stops_at_the_last_whole_record)
{
    write_records(1000, true);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    for (off_t cut = 1; cut <= 40; cut += 13) { /* a crash mid-write, at a few places */
        cr_assert_eq(truncate(path, st.st_size - cut), 0);
        int last, got = read_records(&last);
        cr_expect(got == 999 || got == 998, "cut %ld: %d records", (long)cut, got);
        cr_expect_eq(last, ES_EAGAIN);
        st.st_size -= cut;
    }
}

Test(spool, a_corrupt_record_is_named_not_replayed)
{
    write_records(100, true);
    /* flip one byte inside record 50's payload */
    uint8_t p[300];
    off_t off = 0;
    for (int i = 0; i < 50; i++)
        off += 10 + (off_t)record(i, p);
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    uint8_t b;
    cr_assert_eq(pread(fd, &b, 1, off + 12), 1);
    b ^= 0x40;
    cr_assert_eq(pwrite(fd, &b, 1, off + 12), 1);
    close(fd);
    int last;
    cr_expect_eq(read_records(&last), 50);
    cr_expect_eq(last, ES_ECORRUPT);
}

Test(spool, a_reader_keeps_up_with_a_writer)
{
    struct spool_writer *w;
    struct spool_reader *r;
    struct es_err e = {{0}};
    cr_assert_eq(spool_open(path, 0, &w, &e), 0);
    cr_assert_eq(spool_reader_open(path, 0, &r, &e), 0);
    uint8_t p[300], want[300];
    uint16_t type;
    const void *got;
    size_t n;
    int next = 0;
    for (int i = 0; i < 5000; i++) {
        cr_assert_eq(spool_append(w, (uint16_t)(i % 7), p, record(i, p)), 0);
        if (i % 500 == 499) { /* what the writer has flushed is readable, the rest not yet */
            cr_assert_eq(spool_flush(w), 0);
            while (spool_next(r, &type, &got, &n) == 0) {
                cr_assert_eq(n, record(next, want));
                cr_assert_eq(memcmp(got, want, n), 0);
                next++;
            }
            cr_expect_eq(next, i + 1);
        }
    }
    cr_expect_eq(spool_bytes(w), spool_reader_offset(r));
    spool_reader_close(r);
    cr_assert_eq(spool_close(w), 0);
}

Test(spool, reopening_appends)
{
    write_records(300, false);
    struct spool_writer *w;
    struct es_err e = {{0}};
    cr_assert_eq(spool_open(path, 0, &w, &e), 0);
    uint8_t p[300];
    for (int i = 300; i < 600; i++)
        cr_assert_eq(spool_append(w, (uint16_t)(i % 7), p, record(i, p)), 0);
    cr_assert_eq(spool_close(w), 0);
    int last;
    cr_expect_eq(read_records(&last), 600);
}

Test(spool, the_floor_refuses_appends)
{
    struct spool_writer *w;
    struct es_err e = {{0}};
    /* a floor no disk has: the first append is refused, nothing is written */
    cr_assert_eq(spool_open(path, UINT64_MAX / 2, &w, &e), 0);
    uint8_t p[16] = {0};
    cr_expect_eq(spool_append(w, 1, p, sizeof p), -ENOSPC);
    cr_expect_eq(spool_bytes(w), 0);
    cr_assert_eq(spool_close(w), 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_size, 0);
    cr_assert_eq(spool_open(path, 0, &w, &e), 0);
    size_t n = 2u << 20;
    uint8_t *big = calloc(1, n);
    cr_assert_not_null(big);
    cr_expect_eq(spool_append(w, 1, big, n), ES_ETOOBIG);
    free(big);
    cr_assert_eq(spool_close(w), 0);
}
