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
    enum { DEC_ULAW, DEC_ALAW, DEC_AV } kind;
    int rate;
    AVCodecContext *ctx;
    AVPacket *pkt;
    AVFrame *frame;
    char name[24];
};

static const struct {
    const char *name; /* rtpmap encoding name, case-insensitive */
    enum AVCodecID id;
    int rate; /* audio rate (G.722's RTP clock says 8000 but it is 16 kHz audio) */
} av_codecs[] = {
    {"G722", AV_CODEC_ID_ADPCM_G722, 16000}, {"G729", AV_CODEC_ID_G729, 8000},
    {"G729A", AV_CODEC_ID_G729, 8000},       {"GSM", AV_CODEC_ID_GSM, 8000},
    {"iLBC", AV_CODEC_ID_ILBC, 8000},        {"opus", AV_CODEC_ID_OPUS, 48000},
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

int rtp_decoder_new(const char *name, int clock, struct rtp_decoder **out, struct es_err *err)
{
    *out = NULL;
    struct rtp_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return ES_ENOMEM;
    snprintf(d->name, sizeof d->name, "%s", name);
    if (!strcasecmp(name, "PCMU") || !strcasecmp(name, "g711U")) {
        d->kind = DEC_ULAW;
        d->rate = 8000;
    } else if (!strcasecmp(name, "PCMA") || !strcasecmp(name, "g711A")) {
        d->kind = DEC_ALAW;
        d->rate = 8000;
    } else {
        size_t i = 0;
        while (i < ES_ARRAY_LEN(av_codecs) && strcasecmp(name, av_codecs[i].name))
            i++;
        const AVCodec *c =
            i < ES_ARRAY_LEN(av_codecs) ? avcodec_find_decoder(av_codecs[i].id) : NULL;
        if (!c) {
            free(d);
            return es_seterr(err, ES_EUNSUPP, "no decoder for codec %s", name);
        }
        d->kind = DEC_AV;
        d->rate = av_codecs[i].rate;
        d->ctx = avcodec_alloc_context3(c);
        d->pkt = av_packet_alloc();
        d->frame = av_frame_alloc();
        if (!d->ctx || !d->pkt || !d->frame) {
            rtp_decoder_free(d);
            return ES_ENOMEM;
        }
        d->ctx->sample_rate = d->rate;
        av_channel_layout_default(&d->ctx->ch_layout, 1);
        (void)clock;
        if (avcodec_open2(d->ctx, c, NULL) < 0) {
            rtp_decoder_free(d);
            return es_seterr(err, ES_ECODEC, "cannot open the %s decoder", name);
        }
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

long rtp_decoder_run(struct rtp_decoder *d, const uint8_t *p, size_t len, int16_t *out, size_t cap)
{
    if (d->kind != DEC_AV) {
        size_t n = ES_MIN(len, cap);
        g711_decode(d->kind == DEC_ALAW, p, n, out);
        return (long)n;
    }
    if (len == 0 || len > 4096)
        return 0;
    d->pkt->data = (uint8_t *)p;
    d->pkt->size = (int)len;
    if (avcodec_send_packet(d->ctx, d->pkt) < 0)
        return 0; /* a damaged packet decodes to nothing; the gap becomes silence */
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
