#include "recorder/recorder.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static float *outbuf;
static size_t nout;

static int collect(void *ud, const float *pcm, size_t frames)
{
    (void)ud;
    outbuf = realloc(outbuf, (nout + frames) * 2 * sizeof(float));
    memcpy(outbuf + nout * 2, pcm, frames * 2 * sizeof(float));
    nout += frames;
    return 0;
}

static void packet(struct mixer *m, int side, int64_t arrival_us, uint32_t ssrc, uint16_t seq,
                   uint32_t ts, int16_t value)
{
    int16_t pcm[160];
    for (int i = 0; i < 160; i++)
        pcm[i] = value;
    cr_assert_eq(mixer_put(m, side, arrival_us, ssrc, seq, ts, 8000, pcm, 160, 8000, collect, NULL),
                 0);
}

static void setup(void)
{
    free(outbuf);
    outbuf = NULL;
    nout = 0;
}

TestSuite(mixer, .init = setup);

Test(mixer, jitter_loss_reorder_and_alignment)
{
    struct mixer *m;
    cr_assert_eq(mixer_new(8000, 200, &m), 0);
    /* customer: 50 packets from t = 0, +-5 ms jitter, #10 lost, #20/#21 swapped */
    int order[50];
    for (int i = 0; i < 50; i++)
        order[i] = i;
    order[20] = 21, order[21] = 20;
    for (int k = 0; k < 50; k++) {
        int i = order[k];
        if (i == 10)
            continue;
        int64_t jitter = (k % 3 - 1) * 5000 * (k > 0);
        packet(m, 0, (int64_t)k * 20000 + jitter, 0x1111, (uint16_t)(65500 + i),
               1000u + (uint32_t)i * 160, 16384);
        /* the operator starts one second later */
        if (k >= 50 - 1)
            break;
    }
    for (int i = 0; i < 50; i++)
        packet(m, 1, 1000000 + (int64_t)i * 20000, 0x2222, (uint16_t)i, 5u + (uint32_t)i * 160,
               -8192);
    cr_assert_eq(mixer_drain(m, 0, true, collect, NULL), 0);
    cr_assert_eq(nout, 16000, "two seconds at 8 kHz, got %zu", nout);
    for (size_t i = 0; i < 8000; i++) {
        float want = i >= 1600 && i < 1760 ? 0.0f : 0.5f; /* the lost packet is silence */
        cr_assert_float_eq(outbuf[2 * i], want, 1e-6, "customer sample %zu", i);
        cr_assert_float_eq(outbuf[2 * i + 1], 0.0f, 1e-6, "operator silent before 1 s (%zu)", i);
    }
    for (size_t i = 8000; i < 16000; i++) {
        cr_assert_float_eq(outbuf[2 * i], 0.0f, 1e-6);
        cr_assert_float_eq(outbuf[2 * i + 1], -0.25f, 1e-6, "operator sample %zu", i);
    }
    cr_assert_eq(mixer_stats(m)->late, 0);
    mixer_free(m);
}

Test(mixer, late_packets_and_ssrc_change)
{
    struct mixer *m;
    cr_assert_eq(mixer_new(8000, 200, &m), 0);
    /* drained as the pipeline does, as capture time passes */
    for (int i = 0; i < 75; i++) {
        packet(m, 0, (int64_t)i * 20000, 7, (uint16_t)i, (uint32_t)i * 160, 1000);
        cr_assert_eq(mixer_drain(m, (int64_t)i * 20000, false, collect, NULL), 0);
    }
    cr_assert_eq(mixer_drain(m, 1500000, false, collect, NULL), 0);
    cr_assert_eq(mixer_position(m), 10400, "handed out up to 1.3 s");
    for (int i = 75; i < 100; i++) {
        packet(m, 0, (int64_t)i * 20000, 7, (uint16_t)i, (uint32_t)i * 160, 1000);
        cr_assert_eq(mixer_drain(m, (int64_t)i * 20000, false, collect, NULL), 0);
    }
    cr_assert_eq(mixer_drain(m, 2500000, false, collect, NULL), 0);
    cr_assert_eq(mixer_position(m), 16000, "but never past the last audio (2 s)");
    packet(m, 0, 2500000, 7, 25, 25u * 160, 1000);   /* audio for t = 0.5 s arrives at 2.5 s */
    packet(m, 0, 2510000, 7, 100, 100u * 160, 1000); /* the next packet in order */
    cr_assert_eq(mixer_stats(m)->late, 1);
    /* a timestamp jump in sequence re-anchors to the clock too */
    packet(m, 0, 2600000, 7, 101, 900000u, 1500);
    cr_assert_eq(mixer_stats(m)->resyncs, 1);
    /* a new SSRC with an unrelated timestamp lands where the clock says: 3 s */
    packet(m, 0, 3000000, 8, 9999, 123456789u, 2000);
    cr_assert_eq(mixer_stats(m)->resyncs, 2);
    cr_assert_eq(mixer_drain(m, 0, true, collect, NULL), 0);
    cr_assert_eq(nout, 24160);
    cr_assert_float_eq(outbuf[2 * 20800], 1500.0f / 32768.0f, 1e-6, "jump placed at 2.6 s");
    cr_assert_float_eq(outbuf[2 * 24000], 2000.0f / 32768.0f, 1e-6);
    cr_assert_float_eq(outbuf[2 * 23999], 0.0f, 1e-6);
    mixer_free(m);
}

Test(mixer, other_rates_are_resampled)
{
    struct mixer *m;
    cr_assert_eq(mixer_new(8000, 0, &m), 0);
    int16_t pcm[320];
    for (int k = 0; k < 50; k++) {
        for (int i = 0; i < 320; i++)
            pcm[i] = (int16_t)(10000 * sin(2 * M_PI * 400 * (k * 320 + i) / 16000.0));
        cr_assert_eq(mixer_put(m, 1, (int64_t)k * 20000, 1, (uint16_t)k, (uint32_t)k * 160, 8000,
                               pcm, 320, 16000, collect, NULL),
                     0);
    }
    cr_assert_eq(mixer_drain(m, 0, true, collect, NULL), 0);
    cr_assert(labs((long)nout - 8000) <= 40, "one second at 8 kHz: %zu", nout);
    double s = 0;
    for (size_t i = 800; i < 7000; i++)
        s += (double)outbuf[2 * i + 1] * outbuf[2 * i + 1];
    double rms = sqrt(s / 6200);
    cr_assert(fabs(20 * log10(rms / (10000 / 32768.0 / sqrt(2)))) < 1.0, "level %f", rms);
    mixer_free(m);
}

Test(mixer, a_late_first_packet_does_not_shift_the_side)
{
    struct mixer *m;
    cr_assert_eq(mixer_new(8000, 200, &m), 0);
    /* the other side starts the clock at t = 0 */
    packet(m, 1, 0, 2, 0, 0, -1000);
    /* the first customer packet is 15 ms late; the next ones are on time */
    packet(m, 0, 100000 + 15000, 1, 0, 0, 4000);
    for (int i = 1; i < 20; i++)
        packet(m, 0, 100000 + (int64_t)i * 20000, 1, (uint16_t)i, (uint32_t)i * 160, 4000);
    cr_assert_eq(mixer_drain(m, 0, true, collect, NULL), 0);
    cr_assert_float_eq(outbuf[2 * 799], 0.0f, 1e-6, "nothing before 100 ms");
    cr_assert_float_eq(outbuf[2 * 800], 4000.0f / 32768.0f, 1e-6,
                       "the side starts at 100 ms, where its on-time packets put it");
    mixer_free(m);
}
