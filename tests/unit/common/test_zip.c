/* The ZIP writer: the CRC-32 of the standard check value, and an archive whose
 * every header points where it says (read back by walking the central
 * directory, as unzip does). The browser test opens one with Python's zipfile. */
#include "common/common.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static unsigned le16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

Test(zip, crc32_check_value)
{
    cr_assert_eq(es_crc32(0, "123456789", 9), 0xCBF43926u);
    cr_assert_eq(es_crc32(es_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u, "incremental");
    cr_assert_eq(es_crc32(0, "", 0), 0);
}

Test(zip, entries_are_where_the_directory_says)
{
    int fd = memfd_create("zip-test", 0);
    cr_assert(fd >= 0);
    struct es_zip *z;
    cr_assert_eq(es_zip_open(fd, &z), 0);
    static char big[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 31);
    cr_assert_eq(es_zip_add(z, "calls.json", "[1,2]", 5), 0);
    cr_assert_eq(es_zip_add(z, "a.opus", big, sizeof big), 0);
    cr_assert_eq(es_zip_add(z, "empty.txt", "", 0), 0);
    cr_assert_eq(es_zip_add(z, "", "x", 1), ES_ETOOBIG, "a name is required");
    cr_assert_eq(es_zip_close(z), ES_ETOOBIG, "the first error is reported at the end");

    /* a clean one */
    cr_assert_eq(ftruncate(fd, 0), 0);
    lseek(fd, 0, SEEK_SET);
    cr_assert_eq(es_zip_open(fd, &z), 0);
    cr_assert_eq(es_zip_add(z, "calls.json", "[1,2]", 5), 0);
    cr_assert_eq(es_zip_add(z, "a.opus", big, sizeof big), 0);
    cr_assert_eq(es_zip_add(z, "empty.txt", "", 0), 0);
    cr_assert_eq(es_zip_close(z), 0);
    off_t n = lseek(fd, 0, SEEK_END);
    uint8_t *b = malloc((size_t)n);
    cr_assert_eq(pread(fd, b, (size_t)n, 0), n);
    const uint8_t *end = b + n - 22;
    cr_assert_eq(le32(end), 0x06054b50u);
    cr_assert_eq(le16(end + 10), 3);
    const uint8_t *cd = b + le32(end + 16);
    const char *names[] = {"calls.json", "a.opus", "empty.txt"};
    const void *data[] = {"[1,2]", big, ""};
    size_t sizes[] = {5, sizeof big, 0};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(le32(cd), 0x02014b50u);
        unsigned nl = le16(cd + 28);
        cr_assert_eq(nl, strlen(names[i]));
        cr_assert_eq(memcmp(cd + 46, names[i], nl), 0);
        uint32_t crc = le32(cd + 16), size = le32(cd + 24);
        cr_assert_eq(size, sizes[i]);
        cr_assert_eq(crc, es_crc32(0, data[i], sizes[i]));
        const uint8_t *lh = b + le32(cd + 42);
        cr_assert_eq(le32(lh), 0x04034b50u);
        cr_assert_eq(le32(lh + 14), crc);
        cr_assert_eq(memcmp(lh + 30 + le16(lh + 26), data[i], sizes[i]), 0);
        cd += 46 + nl;
    }
    free(b);
    close(fd);
}
