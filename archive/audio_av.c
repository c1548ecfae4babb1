/* libavformat/libavcodec source: MP3, Ogg, FLAC, raw G.722 and anything else
 * libavformat opens. Output goes through libswresample to interleaved float at
 * the stream's own rate, folded to at most two channels. */
#include "archive/audio_int.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <stdlib.h>
#include <string.h>

struct av_src {
    struct audio_src base;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    SwrContext *swr;
    AVPacket *pkt;
    AVFrame *frame;
    int stream;
    int in_fmt, in_rate, in_channels; /* what swr was built for */
    float *buf;                       /* converted samples not yet handed out */
    size_t buf_frames, buf_off, buf_alloc;
    int eof, drained;
};

static int averr(struct es_err *err, int code, const char *what, int averror)
{
    char msg[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(averror, msg, sizeof msg);
    return es_seterr(err, code, "%s: %s", what, msg);
}

/* (Re)builds the converter for frames shaped like this one. Damaged or
 * odd streams change format, rate or channel count mid-way; the output stays
 * the same (float, the stream's first rate, one or two channels). */
static int setup_swr(struct av_src *s, int fmt, int rate, const AVChannelLayout *layout)
{
    AVChannelLayout in, out;
    if (layout->order == AV_CHANNEL_ORDER_UNSPEC || !av_channel_layout_check(layout))
        av_channel_layout_default(&in, layout->nb_channels > 0 ? layout->nb_channels : 1);
    else if (av_channel_layout_copy(&in, layout) < 0)
        return ES_ENOMEM;
    av_channel_layout_default(&out, s->base.info.channels);
    swr_free(&s->swr);
    int r = swr_alloc_set_opts2(&s->swr, &out, AV_SAMPLE_FMT_FLT, s->base.info.rate, &in,
                                (enum AVSampleFormat)fmt, rate, 0, NULL);
    av_channel_layout_uninit(&in);
    av_channel_layout_uninit(&out);
    if (r < 0 || swr_init(s->swr) < 0)
        return ES_ECODEC;
    s->in_fmt = fmt;
    s->in_rate = rate;
    s->in_channels = layout->nb_channels;
    return 0;
}

/* Converts one decoded frame (or drains swr when f is NULL) into s->buf. */
static int convert(struct av_src *s, const AVFrame *f)
{
    if (f && (f->format != s->in_fmt || f->sample_rate != s->in_rate ||
              f->ch_layout.nb_channels != s->in_channels)) {
        if (f->sample_rate < 1000 || f->sample_rate > 384000 || f->ch_layout.nb_channels < 1 ||
            f->format < 0)
            return ES_EFORMAT;
        int rc = setup_swr(s, f->format, f->sample_rate, &f->ch_layout);
        if (rc)
            return rc;
    }
    int in = f ? f->nb_samples : 0;
    int cap = swr_get_out_samples(s->swr, in);
    if (cap < 0)
        return ES_ECODEC;
    size_t ch = (size_t)s->base.info.channels;
    size_t need = (size_t)cap * ch;
    if (need > s->buf_alloc) {
        float *b = realloc(s->buf, need * sizeof(float));
        if (!b)
            return ES_ENOMEM;
        s->buf = b;
        s->buf_alloc = need;
    }
    uint8_t *outp = (uint8_t *)s->buf;
    int n = swr_convert(s->swr, &outp, cap, f ? (const uint8_t **)f->extended_data : NULL, in);
    if (n < 0)
        return ES_ECODEC;
    s->buf_frames = (size_t)n;
    s->buf_off = 0;
    return 0;
}

/* Produces the next batch of converted samples; 0 with buf_frames == 0 at end. */
static int refill(struct av_src *s, struct es_err *err)
{
    for (;;) {
        int r = avcodec_receive_frame(s->dec, s->frame);
        if (r == 0) {
            int rc = convert(s, s->frame);
            av_frame_unref(s->frame);
            if (rc)
                return es_seterr(err, rc, "undecodable audio frame");
            if (s->buf_frames)
                return 0;
            continue;
        }
        if (r == AVERROR_EOF) {
            if (s->drained)
                return 0;
            s->drained = 1;
            return convert(s, NULL);
        }
        if (r != AVERROR(EAGAIN))
            return averr(err, ES_EFORMAT, "decoding", r);
        if (s->eof)
            return 0;
        r = av_read_frame(s->fmt, s->pkt);
        if (r == AVERROR_EOF) {
            s->eof = 1;
            avcodec_send_packet(s->dec, NULL);
            continue;
        }
        if (r < 0)
            return averr(err, ES_EFORMAT, "reading", r);
        if (s->pkt->stream_index == s->stream) {
            r = avcodec_send_packet(s->dec, s->pkt);
            /* a damaged packet is skipped, as players do; the rest still decodes */
            if (r < 0 && r != AVERROR(EAGAIN) && r != AVERROR_INVALIDDATA) {
                av_packet_unref(s->pkt);
                return averr(err, ES_EFORMAT, "decoding", r);
            }
        }
        av_packet_unref(s->pkt);
    }
}

static long av_src_read(struct audio_src *base, float *pcm, size_t frames, struct es_err *err)
{
    struct av_src *s = (struct av_src *)base;
    size_t ch = (size_t)base->info.channels, done = 0;
    while (done < frames) {
        if (s->buf_off == s->buf_frames) {
            s->buf_frames = s->buf_off = 0;
            int rc = refill(s, err);
            if (rc)
                return rc;
            if (!s->buf_frames)
                break;
        }
        size_t k = ES_MIN(frames - done, s->buf_frames - s->buf_off);
        memcpy(pcm + done * ch, s->buf + s->buf_off * ch, k * ch * sizeof(float));
        s->buf_off += k;
        done += k;
    }
    return (long)done;
}

static void av_src_close(struct audio_src *base)
{
    struct av_src *s = (struct av_src *)base;
    swr_free(&s->swr);
    avcodec_free_context(&s->dec);
    avformat_close_input(&s->fmt);
    av_packet_free(&s->pkt);
    av_frame_free(&s->frame);
    free(s->buf);
    free(s);
}

static int open_decoder(struct av_src *s, struct es_err *err)
{
    const AVCodec *codec = NULL;
    int idx = av_find_best_stream(s->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    if (idx < 0 || !codec)
        return es_seterr(err, ES_EFORMAT, "no decodable audio stream");
    s->stream = idx;
    AVStream *st = s->fmt->streams[idx];
    s->dec = avcodec_alloc_context3(codec);
    if (!s->dec)
        return ES_ENOMEM;
    int r = avcodec_parameters_to_context(s->dec, st->codecpar);
    if (r >= 0)
        r = avcodec_open2(s->dec, codec, NULL);
    if (r < 0)
        return averr(err, ES_ECODEC, codec->name, r);
    int rate = s->dec->sample_rate, nch = s->dec->ch_layout.nb_channels;
    if (rate < 1000 || rate > 384000 || nch < 1)
        return es_seterr(err, ES_EFORMAT, "implausible stream: %d channels at %d Hz", nch, rate);
    s->base.info.rate = rate;
    s->base.info.channels = nch >= 2 ? 2 : 1;
    s->base.info.frames = -1;
    if (st->duration > 0 && st->time_base.den > 0)
        s->base.info.frames = av_rescale_q(st->duration, st->time_base, (AVRational){1, rate});
    snprintf(s->base.info.format, sizeof s->base.info.format, "%s/%s", s->fmt->iformat->name,
             codec->name);
    if (setup_swr(s, s->dec->sample_fmt, rate, &s->dec->ch_layout))
        return es_seterr(err, ES_ECODEC, "cannot convert %s samples", codec->name);
    return 0;
}

int audio_open_av(const char *path, const char *force_format, struct audio_src **out,
                  struct es_err *err)
{
    *out = NULL;
    av_log_set_level(AV_LOG_QUIET);
    struct av_src *s = calloc(1, sizeof *s);
    if (!s)
        return ES_ENOMEM;
    s->base.read = av_src_read;
    s->base.close = av_src_close;
    s->pkt = av_packet_alloc();
    s->frame = av_frame_alloc();
    int rc;
    if (!s->pkt || !s->frame) {
        rc = ES_ENOMEM;
        goto fail;
    }
    const AVInputFormat *ifmt = force_format ? av_find_input_format(force_format) : NULL;
    int r = avformat_open_input(&s->fmt, path, ifmt, NULL);
    if (r < 0) {
        rc = averr(err, ES_EFORMAT, "cannot open", r);
        goto fail;
    }
    r = avformat_find_stream_info(s->fmt, NULL);
    if (r < 0) {
        rc = averr(err, ES_EFORMAT, "cannot read stream info", r);
        goto fail;
    }
    rc = open_decoder(s, err);
    if (rc)
        goto fail;
    *out = &s->base;
    return 0;
fail:
    av_src_close(&s->base);
    return rc;
}
