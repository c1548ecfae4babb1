#include "archive/archive.h"

#include <criterion/criterion.h>
#include <string.h>

/* A 16-bit mono 8 kHz header followed by `bytes` of declared data. */
static size_t header(uint8_t *p, uint16_t fmt, uint16_t ch, uint32_t rate, uint16_t bits,
                     uint16_t align, uint32_t byte_rate, uint32_t data_bytes)
{
    memcpy(p, "RIFF\0\0\0\0WAVEfmt \x10\0\0\0", 20);
    memcpy(p + 20, &fmt, 2);
    memcpy(p + 22, &ch, 2);
    memcpy(p + 24, &rate, 4);
    memcpy(p + 28, &byte_rate, 4);
    memcpy(p + 32, &align, 2);
    memcpy(p + 34, &bits, 2);
    memcpy(p + 36, "data", 4);
    memcpy(p + 40, &data_bytes, 4);
    return 44;
}

Test(wav_check, accepts_consistent_headers)
{
    uint8_t p[64];
    struct wav_facts w;
    struct es_err e;
    size_t n = header(p, 1, 1, 8000, 16, 2, 16000, 16000);
    cr_assert_eq(wav_check(p, n, n + 16000, &w, &e), 0, "%s", e.msg);
    cr_assert_eq(w.rate, 8000);
    cr_assert_eq(w.data_offset, 44);
    /* "still being written" sizes are not truncation */
    header(p, 1, 1, 8000, 16, 2, 16000, 0);
    cr_assert_eq(wav_check(p, n, n + 100, &w, &e), 0);
    header(p, 1, 1, 8000, 16, 2, 16000, 0xFFFFFFFFu);
    cr_assert_eq(wav_check(p, n, n + 100, &w, &e), 0);
}

Test(wav_check, not_a_wav_is_not_an_error)
{
    struct wav_facts w;
    struct es_err e;
    cr_assert_eq(wav_check((const uint8_t *)"ID3\x04", 4, 4, &w, &e), ES_ENOTFOUND);
    cr_assert_eq(wav_check((const uint8_t *)"", 0, 0, &w, &e), ES_ENOTFOUND);
}

Test(wav_check, refuses_truncated_and_lying)
{
    uint8_t p[64];
    struct wav_facts w;
    struct es_err e;
    size_t n = header(p, 1, 1, 8000, 16, 2, 16000, 16000);
    cr_assert_eq(wav_check(p, n, n + 8000, &w, &e), ES_EFORMAT);
    cr_assert(strstr(e.msg, "truncated") != NULL, "%s", e.msg);
    header(p, 1, 6, 8000, 16, 2, 16000, 100);
    cr_assert_eq(wav_check(p, n, n + 100, &w, &e), ES_EFORMAT);
    cr_assert(strstr(e.msg, "lying header") != NULL, "%s", e.msg);
    header(p, 1, 1, 8000, 16, 2, 44100, 100);
    cr_assert_eq(wav_check(p, n, n + 100, &w, &e), ES_EFORMAT);
    header(p, 1, 1, 4000000000u, 16, 2, 16000, 100);
    cr_assert_eq(wav_check(p, n, n + 100, &w, &e), ES_EFORMAT);
    header(p, 1, 0, 8000, 16, 2, 16000, 100);
    cr_assert_eq(wav_check(p, n, n + 100, &w, &e), ES_EFORMAT);
    /* a chunk that claims to run past the end of the file */
    memcpy(p + 36, "LIST", 4);
    cr_assert_eq(wav_check(p, n, n + 100, &w, &e), ES_EFORMAT);
}
