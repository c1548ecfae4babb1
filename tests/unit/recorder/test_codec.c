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
    cr_assert_eq(
        rtp_decoder_new(&(struct sdp_rtpmap){.name = "G722", .clock = 8000, .channels = 1}, &d, &e),
        0, "%s", e.msg);
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
    cr_assert_eq(rtp_decoder_new(&(struct sdp_rtpmap){.name = "PCMA", .clock = 8000}, &d, &e), 0);
    int16_t out[4];
    cr_assert_eq(rtp_decoder_run(d, (const uint8_t *)"\xd5\xd5\xaa\x2a", 4, out, 4), 4);
    cr_assert_eq(out[2], 32256);
    rtp_decoder_free(d);
    cr_assert_eq(rtp_decoder_new(&(struct sdp_rtpmap){.name = "pcmu", .clock = 8000}, &d, &e), 0);
    rtp_decoder_free(d);
    cr_assert_eq(
        rtp_decoder_new(&(struct sdp_rtpmap){.name = "X-NOT-A-CODEC", .clock = 8000}, &d, &e),
        ES_EUNSUPP);
    cr_assert(strstr(e.msg, "X-NOT-A-CODEC") != NULL, "%s", e.msg);
}

/* RFC 4867: the same two frames in both payload formats give the same
 * storage-format frames; every cut and every reserved frame type is refused. */
Test(codec, amr_payload_formats)
{
    uint8_t speech[2][31];
    for (int f = 0; f < 2; f++)
        for (int i = 0; i < 31; i++)
            speech[f][i] = (uint8_t)(i * 37 + f * 11);
    speech[0][30] &= 0xf0; /* 244 bits: the last byte's low 4 bits are padding */
    speech[1][30] &= 0xf0;
    /* octet-aligned: CMR byte, ToC (F=1, FT 7, Q), ToC (F=0, FT 7, Q), frames */
    uint8_t oa2[3 + 62];
    oa2[0] = 0xf0, oa2[1] = 0x80 | 7 << 3 | 4, oa2[2] = 7 << 3 | 4;
    memcpy(oa2 + 3, speech[0], 31);
    memcpy(oa2 + 34, speech[1], 31);
    /* bandwidth-efficient: 4 + 6 + 6 bits of header, then 244 + 244 bits */
    uint8_t be[64] = {0};
    size_t bit = 0;
#define PUT(v, n)                                                                                  \
    for (int k = (n)-1; k >= 0; k--, bit++)                                                        \
        be[bit / 8] |= (uint8_t)((((v) >> k) & 1) << (7 - bit % 8));
    PUT(15, 4);
    PUT(1, 1);
    PUT(7, 4);
    PUT(1, 1);
    PUT(0, 1);
    PUT(7, 4);
    PUT(1, 1);
    for (int f = 0; f < 2; f++)
        for (int i = 0; i < 244; i++)
            PUT(speech[f][i / 8] >> (7 - i % 8) & 1, 1);
    size_t be_len = (bit + 7) / 8;
    struct amr_frame a[AMR_MAX_FRAMES], b[AMR_MAX_FRAMES];
    cr_assert_eq(amr_depacketize(oa2, sizeof oa2, false, true, a, AMR_MAX_FRAMES), 2);
    cr_assert_eq(amr_depacketize(be, be_len, false, false, b, AMR_MAX_FRAMES), 2);
    for (int f = 0; f < 2; f++) {
        cr_assert_eq(a[f].len, 32);
        cr_assert_eq(a[f].data[0], 7 << 3 | 4);
        cr_assert_eq(memcmp(a[f].data + 1, speech[f], 31), 0, "frame %d (octet-aligned)", f);
        cr_assert_eq(b[f].len, a[f].len);
        cr_assert_eq(memcmp(a[f].data, b[f].data, a[f].len), 0, "frame %d: formats agree", f);
    }
    for (size_t cut = 0; cut < sizeof oa2; cut++)
        cr_assert_eq(amr_depacketize(oa2, cut, false, true, a, AMR_MAX_FRAMES), -1, "cut %zu", cut);
    for (size_t cut = 0; cut + 1 < be_len; cut++)
        cr_assert_eq(amr_depacketize(be, cut, false, false, a, AMR_MAX_FRAMES), -1, "cut %zu", cut);
    uint8_t reserved[] = {0xf0, 12 << 3 | 4, 0, 0, 0, 0};
    cr_assert_eq(amr_depacketize(reserved, sizeof reserved, false, true, a, AMR_MAX_FRAMES), -1);
    uint8_t nodata[] = {0xf0, 15 << 3};
    cr_assert_eq(amr_depacketize(nodata, sizeof nodata, true, true, a, AMR_MAX_FRAMES), 1);
    cr_assert_eq(a[0].len, 1, "NO_DATA carries no speech");
    uint8_t many[20];
    memset(many, 0x80 | 15 << 3, sizeof many); /* F set on every entry: more than max */
    many[0] = 0xf0;
    cr_assert_eq(amr_depacketize(many, sizeof many, false, true, a, 4), -1);
}
