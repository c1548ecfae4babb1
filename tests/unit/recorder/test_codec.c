#include "recorder/recorder.h"

#include <criterion/criterion.h>
#include <libavcodec/avcodec.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 1 s of 16 kHz tone encoded to G.722 by libavcodec's encoder. */
static size_t g722_bytes(uint8_t *out, size_t cap)
{
    const AVCodec *c = avcodec_find_encoder(AV_CODEC_ID_ADPCM_G722);
    cr_assert_not_null(c);
    AVCodecContext *x = avcodec_alloc_context3(c);
    x->sample_rate = 16000;
    x->sample_fmt = AV_SAMPLE_FMT_S16;
    av_channel_layout_default(&x->ch_layout, 1);
    cr_assert_geq(avcodec_open2(x, c, NULL), 0);
    AVFrame *f = av_frame_alloc();
    AVPacket *p = av_packet_alloc();
    size_t n = 0;
    for (int blk = 0; blk < 50; blk++) {
        f->nb_samples = 320;
        f->format = AV_SAMPLE_FMT_S16;
        av_channel_layout_default(&f->ch_layout, 1);
        cr_assert_geq(av_frame_get_buffer(f, 0), 0);
        int16_t *s = (int16_t *)f->data[0];
        for (int i = 0; i < 320; i++)
            s[i] = (int16_t)(16000 * sin(2 * M_PI * 1000 * (blk * 320 + i) / 16000.0));
        cr_assert_geq(avcodec_send_frame(x, f), 0);
        while (avcodec_receive_packet(x, p) == 0) {
            cr_assert_leq(n + (size_t)p->size, cap);
            memcpy(out + n, p->data, (size_t)p->size);
            n += (size_t)p->size;
            av_packet_unref(p);
        }
        av_frame_unref(f);
    }
    av_frame_free(&f);
    av_packet_free(&p);
    avcodec_free_context(&x);
    return n;
}

Test(codec, g722_packets_decode_to_16k)
{
    static uint8_t enc[16000];
    size_t n = g722_bytes(enc, sizeof enc);
    cr_assert_eq(n, 8000, "64 kb/s for one second");
    struct rtp_decoder *d;
    struct es_err e;
    cr_assert_eq(rtp_decoder_new("G722", 8000, &d, &e), 0, "%s", e.msg);
    cr_assert_eq(rtp_decoder_rate(d), 16000, "G.722 audio is 16 kHz whatever its RTP clock");
    static int16_t pcm[20000];
    long total = 0;
    for (size_t off = 0; off < n; off += 160) /* 20 ms packets */
        total += rtp_decoder_run(d, enc + off, 160, pcm + total, sizeof pcm / 2 - (size_t)total);
    cr_assert_eq(total, 16000);
    double s = 0;
    for (long i = 1600; i < total; i++)
        s += (double)pcm[i] * pcm[i];
    double rms = sqrt(s / (double)(total - 1600));
    cr_assert(fabs(20 * log10(rms / (16000 / sqrt(2)))) < 1.0, "level %f", rms);
    cr_assert_eq(rtp_decoder_run(d, enc, 0, pcm, 10), 0, "empty payload");
    rtp_decoder_free(d);
}

Test(codec, g711_and_unknown)
{
    struct rtp_decoder *d;
    struct es_err e;
    cr_assert_eq(rtp_decoder_new("PCMA", 8000, &d, &e), 0);
    int16_t out[4];
    cr_assert_eq(rtp_decoder_run(d, (const uint8_t *)"\xd5\xd5\xaa\x2a", 4, out, 4), 4);
    cr_assert_eq(out[2], 32256);
    rtp_decoder_free(d);
    cr_assert_eq(rtp_decoder_new("g711U", 8000, &d, &e), 0);
    rtp_decoder_free(d);
    cr_assert_eq(rtp_decoder_new("X-NOT-A-CODEC", 8000, &d, &e), ES_EUNSUPP);
    cr_assert(strstr(e.msg, "X-NOT-A-CODEC") != NULL, "%s", e.msg);
}
