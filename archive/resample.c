/* Rate conversion for sources Opus cannot take at their own rate (44.1 kHz,
 * 22.05 kHz, 11.025 kHz, 32 kHz ...), through libswresample. */
#include "archive/archive.h"

#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
#include <stdlib.h>

struct resampler {
    SwrContext *swr;
    int channels;
    float *out;
    size_t out_alloc; /* frames */
};

int resampler_new(int in_rate, int out_rate, int channels, struct resampler **out)
{
    *out = NULL;
    struct resampler *r = calloc(1, sizeof *r);
    if (!r)
        return ES_ENOMEM;
    r->channels = channels;
    AVChannelLayout lay;
    av_channel_layout_default(&lay, channels);
    int e = swr_alloc_set_opts2(&r->swr, &lay, AV_SAMPLE_FMT_FLT, out_rate, &lay, AV_SAMPLE_FMT_FLT,
                                in_rate, 0, NULL);
    av_channel_layout_uninit(&lay);
    if (e < 0 || swr_init(r->swr) < 0) {
        resampler_free(r);
        return ES_ECODEC;
    }
    *out = r;
    return 0;
}

long resampler_run(struct resampler *r, const float *in, size_t frames, const float **out)
{
    int cap = swr_get_out_samples(r->swr, (int)frames);
    if (cap < 0)
        return ES_ECODEC;
    if ((size_t)cap > r->out_alloc) {
        float *p = realloc(r->out, (size_t)cap * (size_t)r->channels * sizeof(float));
        if (!p)
            return ES_ENOMEM;
        r->out = p;
        r->out_alloc = (size_t)cap;
    }
    uint8_t *o = (uint8_t *)r->out;
    const uint8_t *i = (const uint8_t *)in;
    int n = swr_convert(r->swr, &o, cap, in ? &i : NULL, (int)frames);
    if (n < 0)
        return ES_ECODEC;
    *out = r->out;
    return n;
}

void resampler_free(struct resampler *r)
{
    if (!r)
        return;
    swr_free(&r->swr);
    free(r->out);
    free(r);
}
