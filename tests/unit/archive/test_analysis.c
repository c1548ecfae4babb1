#include "archive/archive.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* rate 8 kHz; segments of tone (1) or silence (0) per channel, 100 ms units */
static void run(int ch, const char *left, const char *right, struct archive_analysis *out)
{
    struct analyzer *a;
    cr_assert_eq(analyzer_new(8000, ch, -1, &a), 0);
    size_t units = strlen(left);
    float *pcm = calloc(800 * (size_t)ch, sizeof(float));
    unsigned seed = 1;
    for (size_t u = 0; u < units; u++) {
        for (int i = 0; i < 800; i++) {
            for (int c = 0; c < ch; c++) {
                const char *pat = c ? right : left;
                float noise = ((float)(rand_r(&seed) % 2001) - 1000.0f) * 1e-6f; /* -60 dBFS */
                pcm[i * ch + c] = noise + (pat[u] == '1' ? 0.3f * sinf((float)i * 0.35f) : 0.0f);
            }
        }
        analyzer_feed(a, pcm, 800);
    }
    cr_assert_eq(analyzer_finish(a, out), 0);
    analyzer_free(a);
    free(pcm);
}

Test(analysis, talk_and_silences_mono)
{
    struct archive_analysis r;
    /* 1 s talk, 3 s silence, 1 s talk, 2.5 s silence */
    run(1, "1111111111000000000000000000000000000000111111111100000000000000000000000000", NULL,
        &r);
    cr_assert_eq(r.channels, 1);
    /* talk = 2 s plus up to two hangovers of 250 ms */
    cr_assert(r.ch[0].talk_ms >= 2000 && r.ch[0].talk_ms <= 2550, "talk %lld",
              (long long)r.ch[0].talk_ms);
    cr_assert_eq(r.ch[0].nsilences, 2, "silences: %d", r.ch[0].nsilences);
    cr_assert(r.ch[0].silences[0][0] >= 1000 && r.ch[0].silences[0][0] <= 1300);
    cr_assert(r.ch[0].silences[0][1] >= 3900 && r.ch[0].silences[0][1] <= 4100);
    cr_assert(r.ch[0].silences[1][0] >= 5000 && r.ch[0].silences[1][0] <= 5300);
    cr_assert_eq(r.ch[0].silences[1][1], 7600);
    cr_assert(r.ch[0].longest_silence_ms >= 2700 && r.ch[0].longest_silence_ms <= 3000);
    cr_assert_eq(r.bucket_ms, 10);
    cr_assert_eq(r.nbuckets, 760);
    /* peaks follow the signal: loud in talk, near zero in silence */
    cr_assert_gt(r.peaks[2 * 50 + 1], 30);
    cr_assert_leq(abs(r.peaks[2 * 200 + 1]), 1);
    archive_analysis_release(&r);
}

Test(analysis, overtalk_and_ratio_stereo)
{
    struct archive_analysis r;
    run(2, "1111111111000000000000000000", "0000011111111111111111111100", &r);
    cr_assert_eq(r.channels, 2);
    cr_assert(r.overtalk_ms >= 500 && r.overtalk_ms <= 800, "overtalk %lld",
              (long long)r.overtalk_ms);
    cr_assert(r.talk_ratio > 0.6 && r.talk_ratio < 0.75, "ratio %f", r.talk_ratio);
    archive_analysis_release(&r);
}

Test(analysis, long_calls_keep_peaks_bounded)
{
    struct analyzer *a;
    cr_assert_eq(analyzer_new(8000, 1, -1, &a), 0);
    float *pcm = calloc(8000, sizeof(float));
    for (int s = 0; s < 2 * 3600; s++) /* two hours */
        analyzer_feed(a, pcm, 8000);
    struct archive_analysis r;
    analyzer_finish(a, &r);
    analyzer_free(a);
    cr_assert_leq(r.nbuckets, 65536);
    cr_assert_geq(r.nbuckets, 32768);
    cr_assert_eq((int64_t)r.nbuckets * r.bucket_ms, 7200000);
    cr_assert_eq(r.peak, 0.0f);
    free(pcm);
    archive_analysis_release(&r);
}
