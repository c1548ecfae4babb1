#include "archive/archive.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[128];

static void write_bytes(const char *ext, const void *p, size_t n)
{
    snprintf(path, sizeof path, "/tmp/earshot-audio-%d.%s", (int)getpid(), ext);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

static long read_all(struct audio_src *s, float *out, size_t cap)
{
    long total = 0, n;
    struct es_err e;
    while ((n = audio_read(s, out + total, cap - (size_t)total, &e)) > 0)
        total += n;
    cr_assert_geq(n, 0, "%s", e.msg);
    return total;
}

Test(audio, raw_ulaw_by_extension)
{
    /* u-law 0xFF is +0, 0x80 is the loudest positive sample */
    unsigned char b[800];
    for (int i = 0; i < 800; i++)
        b[i] = i % 2 ? 0x80 : 0xFF;
    write_bytes("ulaw", b, sizeof b);
    struct audio_src *s;
    struct es_err e;
    cr_assert_eq(audio_open(path, &s, &e), 0, "%s", e.msg);
    cr_assert_eq(audio_info(s)->rate, 8000);
    cr_assert_eq(audio_info(s)->channels, 1);
    float pcm[1000];
    cr_assert_eq(read_all(s, pcm, 1000), 800);
    cr_assert_lt(fabsf(pcm[0]), 0.001f);
    cr_assert_gt(pcm[1], 0.9f);
    audio_close(s);
    unlink(path);
}

Test(audio, raw_slin16_rate_from_extension)
{
    short b[1600] = {0};
    b[10] = 16384;
    write_bytes("sln16", b, sizeof b);
    struct audio_src *s;
    struct es_err e;
    cr_assert_eq(audio_open(path, &s, &e), 0, "%s", e.msg);
    cr_assert_eq(audio_info(s)->rate, 16000);
    float pcm[2000];
    cr_assert_eq(read_all(s, pcm, 2000), 1600);
    cr_assert_float_eq(pcm[10], 0.5f, 1e-4);
    audio_close(s);
    unlink(path);
}

Test(audio, errors_are_explained)
{
    struct audio_src *s;
    struct es_err e;
    write_bytes("wav", "", 0);
    cr_assert_eq(audio_open(path, &s, &e), ES_EEMPTY);
    cr_assert(strstr(e.msg, "empty") != NULL, "%s", e.msg);
    write_bytes("wav", "this is a text file, not a recording", 36);
    cr_assert_eq(audio_open(path, &s, &e), ES_EFORMAT);
    cr_assert(strstr(e.msg, "not a readable audio file") != NULL, "%s", e.msg);
    cr_assert_null(s);
    unlink(path);
    cr_assert_lt(audio_open("/nonexistent.wav", &s, &e), 0);
}

Test(resample, length_and_level)
{
    struct resampler *r;
    cr_assert_eq(resampler_new(44100, 48000, 1, &r), 0);
    float *in = malloc(sizeof(float) * 44100);
    for (int i = 0; i < 44100; i++)
        in[i] = 0.5f * sinf(2 * (float)M_PI * 440 * (float)i / 44100);
    long total = 0;
    double sum = 0;
    for (int off = 0; off < 44100; off += 4410) {
        const float *o;
        long n = resampler_run(r, in + off, 4410, &o);
        cr_assert_geq(n, 0);
        for (long i = 0; i < n; i++)
            sum += (double)o[i] * o[i];
        total += n;
    }
    const float *o;
    long n;
    while ((n = resampler_run(r, NULL, 0, &o)) > 0)
        total += n;
    cr_assert(labs(total - 48000) <= 2, "one second in, one second out: %ld", total);
    double rms = sqrt(sum / (double)total);
    cr_assert_float_eq(rms, 0.5 / sqrt(2), 0.01);
    resampler_free(r);
    free(in);
}
