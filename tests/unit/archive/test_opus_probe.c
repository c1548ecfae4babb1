#include "archive/archive.h"

#include <criterion/criterion.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes 1.5 s of tone through the real writer into memory (via a file). */
static struct es_buf make_file(void)
{
    cr_assert_geq(sodium_init(), 0);
    char path[] = "/tmp/earshot-probe-XXXXXX";
    int fd = mkstemp(path);
    const char *tags[] = {"EARSHOT_CALL_ID=019aa1ac-4cd8-7000-8000-000000000001",
                          "DATE=2025-11-20T14:30:15.000Z", "EARSHOT_OPERATOR=101", NULL};
    struct opus_writer_opts o = {.rate = 8000,
                                 .channels = 2,
                                 .source_rate = 8000,
                                 .bitrate = 24000,
                                 .complexity = -1,
                                 .tags = tags};
    struct opus_writer *w;
    struct es_err e;
    cr_assert_eq(opus_writer_new(fd, &o, &w, &e), 0);
    float pcm[2 * 12000];
    for (int i = 0; i < 12000; i++)
        pcm[2 * i] = pcm[2 * i + 1] = 0.3f * sinf((float)i * 0.2f);
    cr_assert_eq(opus_writer_write(w, pcm, 12000), 0);
    cr_assert_eq(opus_writer_finish(w, NULL), 0);
    opus_writer_free(w);
    close(fd);
    struct es_buf b;
    cr_assert_eq(es_read_file(path, 1 << 20, &b), 0);
    unlink(path);
    return b;
}

Test(opus_probe, reads_back_what_the_writer_wrote)
{
    struct es_buf b = make_file();
    struct opus_probe o;
    struct es_err e;
    cr_assert_eq(opus_probe((const uint8_t *)b.data, b.len, &o, &e), 0, "%s", e.msg);
    cr_assert_eq(o.channels, 2);
    cr_assert_eq(o.duration_ms, 1500);
    cr_assert(o.eos);
    cr_assert_str_eq(o.call_id, "019aa1ac-4cd8-7000-8000-000000000001");
    cr_assert_str_eq(o.date, "2025-11-20T14:30:15.000Z");
    cr_assert_str_eq(o.operator_, "101");
    es_buf_free(&b);
}

Test(opus_probe, detects_damage)
{
    struct es_buf b = make_file();
    struct opus_probe o;
    struct es_err e;
    cr_assert_neq(opus_probe((const uint8_t *)b.data, b.len - 10, &o, &e), 0, "cut short");
    cr_assert(strstr(e.msg, "end of stream") != NULL, "%s", e.msg);
    b.data[b.len / 2] ^= 0x40; /* one flipped bit fails the page CRC */
    cr_assert_neq(opus_probe((const uint8_t *)b.data, b.len, &o, &e), 0, "bit flip");
    cr_assert_neq(opus_probe((const uint8_t *)"OggS", 4, &o, &e), 0);
    es_buf_free(&b);
}
