/* RTP payload decoders. G.711 is decoded here (one table lookup a sample);
 * G.722, G.729, GSM, iLBC and Opus go through libavcodec. Every decoder hands
 * back 16-bit mono samples at its own rate. A codec we cannot decode is an
 * error the caller records on the call; it never stops the capture. */
#include "recorder/recorder.h"

#include <libavcodec/avcodec.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct rtp_decoder {
    enum { DEC_ULAW, DEC_ALAW, DEC_L16, DEC_AV } kind;
    enum { FR_WHOLE, FR_G723, FR_AMR } framing; /* how a payload becomes packets */
    int rate, channels;                         /* channels: L16's interleaved count */
    bool wb, octet_align;                       /* AMR */
    AVCodecContext *ctx;
    AVPacket *pkt;
    AVFrame *frame;
    char name[24];
};

static const struct {
    const char *name; /* canonical name (rtp_codec_name) */
    enum AVCodecID id;
    int rate; /* audio rate; 0: the RTP clock (G.722's clock says 8000 for 16 kHz) */
    int bits; /* G.726: bits per sample */
} av_codecs[] = {
    {"G722", AV_CODEC_ID_ADPCM_G722, 16000, 0},
    {"G729", AV_CODEC_ID_G729, 8000, 0},
    {"GSM", AV_CODEC_ID_GSM, 8000, 0},
    {"iLBC", AV_CODEC_ID_ILBC, 8000, 0},
    {"opus", AV_CODEC_ID_OPUS, 48000, 0},
    {"speex", AV_CODEC_ID_SPEEX, 0, 0},
    {"G723", AV_CODEC_ID_G723_1, 8000, 0},
    {"AMR", AV_CODEC_ID_AMR_NB, 8000, 0},
    {"AMR-WB", AV_CODEC_ID_AMR_WB, 16000, 0},
    /* RFC 3551 packs G.726 from the least significant bit (FFmpeg's "le");
     * the AAL2 variant from the most significant */
    {"G726-16", AV_CODEC_ID_ADPCM_G726LE, 8000, 2},
    {"G726-24", AV_CODEC_ID_ADPCM_G726LE, 8000, 3},
    {"G726-32", AV_CODEC_ID_ADPCM_G726LE, 8000, 4},
    {"G726-40", AV_CODEC_ID_ADPCM_G726LE, 8000, 5},
    {"AAL2-G726-16", AV_CODEC_ID_ADPCM_G726, 8000, 2},
    {"AAL2-G726-24", AV_CODEC_ID_ADPCM_G726, 8000, 3},
    {"AAL2-G726-32", AV_CODEC_ID_ADPCM_G726, 8000, 4},
    {"AAL2-G726-40", AV_CODEC_ID_ADPCM_G726, 8000, 5},
};

/* One vocabulary for codec names: SDP's, in the spelling of the RTP payload
 * format registrations, whatever case a device wrote. */
static const char *const canonical[] = {
    "PCMU",           "PCMA", "G722",   "G729",    "GSM",     "iLBC",    "opus",    "speex", "L16",
    "G723",           "AMR",  "AMR-WB", "G726-16", "G726-24", "G726-32", "G726-40", "G728",  "CN",
    "telephone-event"};

void rtp_codec_name(const char *name, char *out, size_t outlen)
{
    for (size_t i = 0; i < ES_ARRAY_LEN(canonical); i++)
        if (!strcasecmp(name, canonical[i])) {
            snprintf(out, outlen, "%s", canonical[i]);
            return;
        }
    if (!strcasecmp(name, "G729A") || !strcasecmp(name, "G729AB"))
        snprintf(out, outlen, "G729");
    else
        snprintf(out, outlen, "%s", name);
}

static int open_av(struct rtp_decoder *d, size_t i, int clock, struct es_err *err)
{
    const AVCodec *c = avcodec_find_decoder(av_codecs[i].id);
    if (!c)
        return es_seterr(err, ES_EUNSUPP, "no decoder for codec %s in this libavcodec", d->name);
    d->kind = DEC_AV;
    d->rate = av_codecs[i].rate ? av_codecs[i].rate : clock;
    d->ctx = avcodec_alloc_context3(c);
    d->pkt = av_packet_alloc();
    d->frame = av_frame_alloc();
    if (!d->ctx || !d->pkt || !d->frame)
        return ES_ENOMEM;
    d->ctx->sample_rate = d->rate;
    d->ctx->bits_per_coded_sample = av_codecs[i].bits;
    av_channel_layout_default(&d->ctx->ch_layout, 1);
    if (avcodec_open2(d->ctx, c, NULL) < 0)
        return es_seterr(err, ES_ECODEC, "cannot open the %s decoder", d->name);
    if (av_codecs[i].id == AV_CODEC_ID_G723_1)
        d->framing = FR_G723;
    if (av_codecs[i].id == AV_CODEC_ID_AMR_NB || av_codecs[i].id == AV_CODEC_ID_AMR_WB) {
        d->framing = FR_AMR;
        d->wb = av_codecs[i].id == AV_CODEC_ID_AMR_WB;
    }
    return 0;
}

int rtp_decoder_new(const struct sdp_rtpmap *map, struct rtp_decoder **out, struct es_err *err)
{
    *out = NULL;
    struct rtp_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return ES_ENOMEM;
    rtp_codec_name(map->name, d->name, sizeof d->name);
    d->octet_align = map->octet_align;
    int rc = 0;
    if (!strcmp(d->name, "PCMU") || !strcmp(d->name, "PCMA")) {
        d->kind = d->name[3] == 'A' ? DEC_ALAW : DEC_ULAW;
        d->rate = 8000;
    } else if (!strcmp(d->name, "L16")) {
        /* RFC 3551: 16-bit big-endian at the rtpmap's rate and channels */
        if (map->clock < 8000 || map->clock > 48000 || map->channels < 1 || map->channels > 8)
            rc = es_seterr(err, ES_EUNSUPP, "L16/%d/%d: rate or channels out of range", map->clock,
                           map->channels);
        d->kind = DEC_L16;
        d->rate = map->clock;
        d->channels = map->channels;
    } else {
        size_t i = 0;
        while (i < ES_ARRAY_LEN(av_codecs) && strcasecmp(d->name, av_codecs[i].name))
            i++;
        rc = i < ES_ARRAY_LEN(av_codecs)
                 ? open_av(d, i, map->clock, err)
                 : es_seterr(err, ES_EUNSUPP, "no decoder for codec %s", map->name);
    }
    if (rc) {
        rtp_decoder_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

int rtp_decoder_rate(const struct rtp_decoder *d)
{
    return d->rate;
}

/* Appends frame samples (any sample format libavcodec hands out) as int16. */
static long take_frame(const AVFrame *f, int16_t *out, size_t cap)
{
    size_t n = ES_MIN((size_t)f->nb_samples, cap);
    for (size_t i = 0; i < n; i++) {
        float v;
        switch (f->format) {
        case AV_SAMPLE_FMT_S16:
        case AV_SAMPLE_FMT_S16P:
            out[i] = ((const int16_t *)f->extended_data[0])[i];
            continue;
        case AV_SAMPLE_FMT_FLT:
        case AV_SAMPLE_FMT_FLTP:
            v = ((const float *)f->extended_data[0])[f->format == AV_SAMPLE_FMT_FLT
                                                         ? i * (size_t)f->ch_layout.nb_channels
                                                         : i];
            break;
        default:
            return ES_EUNSUPP;
        }
        v = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
        out[i] = (int16_t)(v * 32767.0f);
    }
    return (long)n;
}

/* One packet through libavcodec; a packet it refuses decodes to nothing. */
static long run_av(struct rtp_decoder *d, const uint8_t *p, size_t len, int16_t *out, size_t cap)
{
    d->pkt->data = (uint8_t *)p;
    d->pkt->size = (int)len;
    if (avcodec_send_packet(d->ctx, d->pkt) < 0)
        return 0;
    long total = 0;
    while (avcodec_receive_frame(d->ctx, d->frame) == 0) {
        long n = take_frame(d->frame, out + total, cap - (size_t)total);
        av_frame_unref(d->frame);
        if (n < 0)
            return n;
        total += n;
    }
    return total;
}

/* A frame that could not be decoded still took its 20 ms: silence. */
static long silence(int16_t *out, size_t cap, size_t n)
{
    n = ES_MIN(n, cap);
    memset(out, 0, n * sizeof *out);
    return (long)n;
}

/* Several frames in one payload, each decoded on its own. */
static long run_frames(struct rtp_decoder *d, const uint8_t *p, size_t len, int16_t *out,
                       size_t cap)
{
    long total = 0;
    if (d->framing == FR_AMR) {
        struct amr_frame fr[AMR_MAX_FRAMES];
        int n = amr_depacketize(p, len, d->wb, d->octet_align, fr, AMR_MAX_FRAMES);
        size_t per = d->wb ? 320 : 160;
        for (int i = 0; i < n; i++) {
            long k = fr[i].ft < (d->wb ? 9 : 8) && fr[i].q
                         ? run_av(d, fr[i].data, fr[i].len, out + total, cap - (size_t)total)
                         : 0;
            if (k < 0)
                return k;
            total += k ? k : silence(out + total, cap - (size_t)total, per);
        }
        return total;
    }
    /* G.723.1: the two low bits of each frame's first byte give its size */
    static const size_t g723_size[4] = {24, 20, 4, 1};
    while (len) {
        size_t n = g723_size[p[0] & 3];
        if (n > len)
            break;
        long k = n >= 20 ? run_av(d, p, n, out + total, cap - (size_t)total) : 0;
        if (k < 0)
            return k;
        total += k ? k : silence(out + total, cap - (size_t)total, 240); /* 30 ms */
        p += n;
        len -= n;
    }
    return total;
}

long rtp_decoder_run(struct rtp_decoder *d, const uint8_t *p, size_t len, int16_t *out, size_t cap)
{
    if (d->kind == DEC_ULAW || d->kind == DEC_ALAW) {
        size_t n = ES_MIN(len, cap);
        g711_decode(d->kind == DEC_ALAW, p, n, out);
        return (long)n;
    }
    if (d->kind == DEC_L16) { /* big-endian; several channels mixed down to one */
        size_t step = 2 * (size_t)d->channels, n = ES_MIN(len / step, cap);
        for (size_t i = 0; i < n; i++) {
            int32_t sum = 0;
            for (int c = 0; c < d->channels; c++) {
                const uint8_t *q = p + i * step + 2 * (size_t)c;
                sum += (int16_t)(q[0] << 8 | q[1]);
            }
            out[i] = (int16_t)(sum / d->channels);
        }
        return (long)n;
    }
    if (len == 0 || len > 4096)
        return 0;
    if (d->framing != FR_WHOLE)
        return run_frames(d, p, len, out, cap);
    return run_av(d, p, len, out, cap);
}

const char *rtp_decoder_name(const struct rtp_decoder *d)
{
    return d->name;
}

void rtp_decoder_free(struct rtp_decoder *d)
{
    if (!d)
        return;
    avcodec_free_context(&d->ctx);
    av_packet_free(&d->pkt);
    av_frame_free(&d->frame);
    free(d);
}
