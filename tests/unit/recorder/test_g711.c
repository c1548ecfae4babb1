/* G.711 against libsndfile's decoder (an independent implementation of the
 * same ITU tables): all 256 codes of each law must decode identically. */
#include "recorder/recorder.h"

#include <criterion/criterion.h>
#include <sndfile.h>
#include <stdio.h>
#include <unistd.h>

static void compare(bool alaw)
{
    uint8_t codes[256];
    for (int i = 0; i < 256; i++)
        codes[i] = (uint8_t)i;
    char path[] = "/tmp/earshot-g711-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_eq(write(fd, codes, 256), 256);
    close(fd);
    SF_INFO info = {.samplerate = 8000,
                    .channels = 1,
                    .format = SF_FORMAT_RAW | (alaw ? SF_FORMAT_ALAW : SF_FORMAT_ULAW)};
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    cr_assert_not_null(sf);
    short want[256];
    cr_assert_eq(sf_read_short(sf, want, 256), 256);
    sf_close(sf);
    unlink(path);
    int16_t got[256];
    g711_decode(alaw, codes, 256, got);
    for (int i = 0; i < 256; i++)
        cr_assert_eq(got[i], want[i], "%s code 0x%02x: %d, want %d", alaw ? "A-law" : "u-law", i,
                     got[i], want[i]);
}

Test(g711, ulaw_all_codes)
{
    compare(false);
}
Test(g711, alaw_all_codes)
{
    compare(true);
}

Test(g711, known_points)
{
    int16_t v[4];
    g711_decode(false, (const uint8_t *)"\xff\x7f\x80\x00", 4, v);
    cr_assert_eq(v[0], 0);
    cr_assert_eq(v[2], 32124, "u-law 0x80 is the largest positive value");
    cr_assert_eq(v[3], -32124);
    g711_decode(true, (const uint8_t *)"\xd5\x55\xaa\x2a", 4, v);
    cr_assert_eq(v[0], 8, "A-law silence code");
    cr_assert_eq(v[1], -8);
    cr_assert_eq(v[2], 32256, "A-law 0xaa is the largest positive value");
    cr_assert_eq(v[3], -32256);
}
