#include "archive/archive.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <ogg/ogg.h>
#include <opus/opus.h>
#include <opus/opus_multistream.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct parsed {
    int channels, preskip, input_rate, family;
    int64_t last_granule;
    int pages, eos;
    char tags[1024];
    float *pcm; /* decoded at 48 kHz, pre-skip removed, trimmed to granule */
    long frames;
};

static void sine(float *pcm, int ch, long n, int rate, double hz, double amp, int which)
{
    for (long i = 0; i < n; i++)
        for (int c = 0; c < ch; c++)
            pcm[i * ch + c] = (which < 0 || which == c)
                                  ? (float)(amp * sin(2 * M_PI * hz * (double)i / rate))
                                  : 0.0f;
}

static void parse_file(const char *path, struct parsed *p)
{
    memset(p, 0, sizeof *p);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    ogg_sync_state oy;
    ogg_stream_state os;
    ogg_sync_init(&oy);
    int stream_ready = 0, npk = 0, err;
    OpusMSDecoder *dec = NULL;
    long cap = 48000 * 60;
    int64_t decoded = 0;
    for (;;) {
        char *buf = ogg_sync_buffer(&oy, 4096);
        size_t n = fread(buf, 1, 4096, f);
        ogg_sync_wrote(&oy, (long)n);
        ogg_page og;
        while (ogg_sync_pageout(&oy, &og) == 1) {
            if (!stream_ready) {
                ogg_stream_init(&os, ogg_page_serialno(&og));
                stream_ready = 1;
            }
            p->pages++;
            if (ogg_page_granulepos(&og) >= 0)
                p->last_granule = ogg_page_granulepos(&og);
            p->eos |= ogg_page_eos(&og);
            ogg_stream_pagein(&os, &og);
            ogg_packet op;
            while (ogg_stream_packetout(&os, &op) == 1) {
                if (npk == 0) {
                    cr_assert_eq(memcmp(op.packet, "OpusHead", 8), 0);
                    p->channels = op.packet[9];
                    p->preskip = op.packet[10] | op.packet[11] << 8;
                    p->input_rate = (int)(op.packet[12] | op.packet[13] << 8 | op.packet[14] << 16 |
                                          (unsigned)op.packet[15] << 24);
                    /* family 0: one stream (coupled if stereo); family 1: the
                     * stream table follows */
                    p->family = op.packet[18];
                    int streams = 1, coupled = p->channels == 2;
                    unsigned char map[2] = {0, 1};
                    if (p->family == 1) {
                        streams = op.packet[19];
                        coupled = op.packet[20];
                        memcpy(map, op.packet + 21, (size_t)p->channels);
                    }
                    dec = opus_multistream_decoder_create(48000, p->channels, streams, coupled, map,
                                                          &err);
                    cr_assert_not_null(dec);
                    p->pcm = calloc((size_t)cap * (size_t)p->channels, sizeof(float));
                } else if (npk == 1) {
                    cr_assert_eq(memcmp(op.packet, "OpusTags", 8), 0);
                    size_t m =
                        (size_t)op.bytes < sizeof p->tags ? (size_t)op.bytes : sizeof p->tags - 1;
                    for (size_t i = 0; i < m; i++)
                        p->tags[i] = op.packet[i] ? (char)op.packet[i] : ' ';
                } else {
                    float out[5760 * 2];
                    int k = opus_multistream_decode_float(dec, op.packet, (opus_int32)op.bytes, out,
                                                          5760, 0);
                    cr_assert_gt(k, 0);
                    for (int i = 0; i < k && decoded < cap; i++, decoded++)
                        memcpy(p->pcm + decoded * p->channels, out + i * p->channels,
                               sizeof(float) * (size_t)p->channels);
                }
                npk++;
            }
        }
        if (n == 0)
            break;
    }
    fclose(f);
    if (stream_ready)
        ogg_stream_clear(&os);
    ogg_sync_clear(&oy);
    opus_multistream_decoder_destroy(dec);
    /* what a player outputs: skip pre-skip, stop at the final granule */
    p->frames = (long)(p->last_granule - p->preskip);
    cr_assert_leq(p->last_granule, decoded, "granule beyond decoded samples");
    memmove(p->pcm, p->pcm + (size_t)p->preskip * p->channels,
            sizeof(float) * (size_t)p->frames * (size_t)p->channels);
}

static double rms(const float *pcm, int ch, int c, long from, long to)
{
    double s = 0;
    for (long i = from; i < to; i++)
        s += (double)pcm[i * ch + c] * pcm[i * ch + c];
    return sqrt(s / (double)(to - from));
}

static void write_file(const char *path, int rate, int ch, const float *pcm, long n,
                       struct opus_writer_stats *st, const char *const *tags)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(fd, 0);
    struct opus_writer_opts o = {.rate = rate,
                                 .channels = ch,
                                 .source_rate = rate,
                                 .bitrate = ch == 2 ? 24000 : 16000,
                                 .complexity = -1,
                                 .tags = tags};
    struct opus_writer *w;
    struct es_err err;
    cr_assert_eq(opus_writer_new(fd, &o, &w, &err), 0, "%s", err.msg);
    /* odd chunk sizes exercise the partial-frame path */
    for (long off = 0; off < n;) {
        long k = n - off < 333 ? n - off : 333;
        cr_assert_eq(opus_writer_write(w, pcm + off * ch, (size_t)k), 0);
        off += k;
    }
    cr_assert_eq(opus_writer_finish(w, st), 0);
    opus_writer_free(w);
    close(fd);
}

Test(opus_writer, mono_8k_exact_length_and_level)
{
    cr_assert_geq(sodium_init(), 0);
    const long n = 9876; /* 1.2345 s, not a multiple of the 20 ms frame */
    float *pcm = malloc(sizeof(float) * n);
    sine(pcm, 1, n, 8000, 440, 0.5, -1);
    const char *tags[] = {"EARSHOT_CALL_ID=abc", "DATE=2026-11-20T14:30:15.000Z", NULL};
    char path[] = "/tmp/earshot-test-XXXXXX";
    close(mkstemp(path));
    struct opus_writer_stats st;
    write_file(path, 8000, 1, pcm, n, &st, tags);
    struct parsed p;
    parse_file(path, &p);
    cr_assert_eq(p.channels, 1);
    cr_assert_eq(p.input_rate, 8000);
    cr_assert_gt(p.preskip, 0);
    cr_assert(p.eos, "last page must carry end of stream");
    cr_assert_eq(p.frames, n * 6, "trimmed length %ld, want %ld", p.frames, n * 6);
    cr_assert_eq(st.samples, (uint64_t)n);
    cr_assert(strstr(p.tags, "EARSHOT_CALL_ID=abc") != NULL);
    double want = 0.5 / sqrt(2), got = rms(p.pcm, 1, 0, 4800, p.frames - 4800);
    cr_assert_lt(fabs(20 * log10(got / want)), 1.0, "level off: %f vs %f", got, want);
    /* the hash covers exactly the bytes on disk */
    uint8_t h[32];
    uint64_t bytes;
    cr_assert_eq(es_sha256_file(path, h, &bytes), 0);
    cr_assert_eq(bytes, st.file_bytes);
    cr_assert_eq(memcmp(h, st.sha256, 32), 0);
    free(p.pcm);
    free(pcm);
    unlink(path);
}

/* Customer and operator are two uncoupled streams: a silent channel stays
 * silent (coupled stereo let a 48 kHz source leak in at -14 dB). */
Test(opus_writer, stereo_keeps_channels_apart)
{
    cr_assert_geq(sodium_init(), 0);
    static const int rates[] = {8000, 16000, 48000};
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        int rate = rates[r];
        const long n = rate * 2;
        float *pcm = malloc(sizeof(float) * 2 * (size_t)n);
        sine(pcm, 2, n, rate, 300, 0.4, 0); /* customer (left) only */
        char path[] = "/tmp/earshot-test-XXXXXX";
        close(mkstemp(path));
        struct opus_writer_stats st;
        write_file(path, rate, 2, pcm, n, &st, NULL);
        struct parsed p;
        parse_file(path, &p);
        cr_assert_eq(p.channels, 2);
        cr_assert_eq(p.family, 1, "stereo is channel mapping family 1 (two streams)");
        cr_assert_eq(p.frames, n * (48000 / rate));
        double left = rms(p.pcm, 2, 0, 4800, p.frames - 4800);
        double right = rms(p.pcm, 2, 1, 4800, p.frames - 4800);
        cr_assert_lt(fabs(20 * log10(left / (0.4 / sqrt(2)))), 1.0, "%d Hz: left %f", rate, left);
        cr_assert_lt(20 * log10((right + 1e-9) / left), -40.0, "%d Hz: right leaks: %f vs %f", rate,
                     right, left);
        free(p.pcm);
        free(pcm);
        unlink(path);
    }
}

Test(opus_writer, rejects_rates_opus_cannot_take)
{
    struct opus_writer_opts o = {.rate = 44100, .channels = 1, .bitrate = 16000};
    struct opus_writer *w;
    struct es_err err;
    cr_assert_eq(opus_writer_new(1, &o, &w, &err), ES_EINVAL);
    cr_assert_null(w);
    cr_assert_eq(opus_rate_for(44100), 48000);
    cr_assert_eq(opus_rate_for(8000), 8000);
    cr_assert_eq(opus_rate_for(11025), 12000);
    cr_assert_eq(opus_rate_for(22050), 24000);
    cr_assert_eq(opus_rate_for(96000), 48000);
}
