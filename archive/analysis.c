/* Analysis done on the samples on their way to the encoder, so it costs no
 * second decode: min/max peaks per bucket (10 ms, widened for long calls so a
 * call never stores more than PEAK_BUCKETS_MAX buckets), and an energy voice
 * activity detector per channel giving talk time, silences and overtalk. */
#include "archive/archive.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_MS          10
#define PEAK_BUCKETS_MAX  65536
#define VAD_ABS_FLOOR_DB  -50.0 /* quieter than this is never speech */
#define VAD_MARGIN_DB     12.0  /* speech stands this far above the noise */
#define VAD_HANGOVER      25    /* frames (250 ms) kept active after speech */
#define NOISE_RISE_DB     0.02  /* per frame: the floor follows rising noise */
#define SILENCE_REPORT_MS 2000

struct chan {
    /* current 10 ms frame */
    double sumsq;
    float fmin, fmax;
    /* current peak bucket */
    float bmin, bmax;
    /* voice activity */
    double noise_db;
    int hang;
    int active;
    int64_t silence_start; /* frame index where the current silence began, -1 in speech */
};

struct analyzer {
    int rate, channels, frame_len;
    int nin; /* samples in the current frame */
    int64_t nframes;
    int frames_per_bucket, nbucket_frames;
    int8_t *peaks;
    int nbuckets, cap_buckets; /* grows by doubling up to PEAK_BUCKETS_MAX */
    struct chan ch[2];
    struct archive_analysis res;
};

int analyzer_new(int rate, int channels, int64_t frames_hint, struct analyzer **out)
{
    (void)frames_hint;
    *out = NULL;
    if (channels < 1 || channels > 2 || rate < 100)
        return ES_EINVAL;
    struct analyzer *a = calloc(1, sizeof *a);
    if (!a)
        return ES_ENOMEM;
    a->cap_buckets = 1024; /* ~10 s; a call's memory grows with its length */
    a->peaks = malloc((size_t)a->cap_buckets * (size_t)channels * 2);
    if (!a->peaks) {
        free(a);
        return ES_ENOMEM;
    }
    a->rate = rate;
    a->channels = channels;
    a->frame_len = rate * FRAME_MS / 1000;
    a->frames_per_bucket = 1;
    for (int c = 0; c < 2; c++) {
        a->ch[c].fmin = a->ch[c].bmin = 1;
        a->ch[c].fmax = a->ch[c].bmax = -1;
        a->ch[c].noise_db = -90;
        a->ch[c].silence_start = 0;
    }
    *out = a;
    return 0;
}

static int8_t q8(float v)
{
    long q = lrintf(v * 127.0f);
    return (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
}

/* Halves the resolution when the buckets run out: pairs merge into one. */
static void halve_peaks(struct analyzer *a)
{
    int ch = a->channels;
    for (int b = 0; b < a->nbuckets / 2; b++) {
        for (int c = 0; c < ch; c++) {
            int8_t *x = a->peaks + ((size_t)(2 * b) * ch + c) * 2;
            int8_t *y = a->peaks + ((size_t)(2 * b + 1) * ch + c) * 2;
            int8_t *o = a->peaks + ((size_t)b * ch + c) * 2;
            int8_t mn = ES_MIN(x[0], y[0]), mx = ES_MAX(x[1], y[1]);
            o[0] = mn;
            o[1] = mx;
        }
    }
    a->nbuckets /= 2;
    a->frames_per_bucket *= 2;
}

static void close_bucket(struct analyzer *a)
{
    if (a->nbuckets == a->cap_buckets) {
        int cap = ES_MIN(a->cap_buckets * 2, PEAK_BUCKETS_MAX);
        int8_t *p = realloc(a->peaks, (size_t)cap * (size_t)a->channels * 2);
        if (!p) { /* keep going at half the resolution rather than fail a call */
            halve_peaks(a);
        } else {
            a->peaks = p;
            a->cap_buckets = cap;
        }
    }
    for (int c = 0; c < a->channels; c++) {
        int8_t *o = a->peaks + ((size_t)a->nbuckets * a->channels + c) * 2;
        o[0] = q8(a->ch[c].bmin);
        o[1] = q8(a->ch[c].bmax);
        a->ch[c].bmin = 1;
        a->ch[c].bmax = -1;
    }
    a->nbuckets++;
    a->nbucket_frames = 0;
    /* halve as soon as full, so the next bucket already has the new width */
    if (a->nbuckets == PEAK_BUCKETS_MAX)
        halve_peaks(a);
}

static void end_silence(struct analyzer *a, int c, int64_t frame)
{
    struct chan *h = &a->ch[c];
    struct archive_channel_stats *cs = &a->res.ch[c];
    int64_t len = (frame - h->silence_start) * FRAME_MS;
    if (len > cs->longest_silence_ms)
        cs->longest_silence_ms = len;
    if (len >= SILENCE_REPORT_MS && cs->nsilences < ANALYSIS_MAX_SILENCES) {
        cs->silences[cs->nsilences][0] = h->silence_start * FRAME_MS;
        cs->silences[cs->nsilences][1] = frame * FRAME_MS;
        cs->nsilences++;
    }
}

static void close_frame(struct analyzer *a)
{
    int n = a->nin;
    int both = 1;
    for (int c = 0; c < a->channels; c++) {
        struct chan *h = &a->ch[c];
        double db = 10.0 * log10(h->sumsq / n + 1e-12);
        if (db < h->noise_db)
            h->noise_db = db;
        else
            h->noise_db += NOISE_RISE_DB;
        double thr = ES_MAX(VAD_ABS_FLOOR_DB, h->noise_db + VAD_MARGIN_DB);
        if (db > thr)
            h->hang = VAD_HANGOVER;
        else if (h->hang > 0)
            h->hang--;
        int active = h->hang > 0;
        if (active && !h->active)
            end_silence(a, c, a->nframes);
        if (!active && h->active)
            h->silence_start = a->nframes;
        h->active = active;
        both &= active;
        if (active)
            a->res.ch[c].talk_ms += (int64_t)n * 1000 / a->rate;
        if (-h->fmin > a->res.peak)
            a->res.peak = -h->fmin;
        if (h->fmax > a->res.peak)
            a->res.peak = h->fmax;
        h->bmin = ES_MIN(h->bmin, h->fmin);
        h->bmax = ES_MAX(h->bmax, h->fmax);
        h->sumsq = 0;
        h->fmin = 1;
        h->fmax = -1;
    }
    if (a->channels == 2 && both)
        a->res.overtalk_ms += (int64_t)n * 1000 / a->rate;
    a->nframes++;
    a->nin = 0;
    if (++a->nbucket_frames == a->frames_per_bucket)
        close_bucket(a);
}

void analyzer_feed(struct analyzer *a, const float *pcm, size_t frames)
{
    int ch = a->channels;
    for (size_t i = 0; i < frames; i++) {
        for (int c = 0; c < ch; c++) {
            float v = pcm[i * (size_t)ch + (size_t)c];
            struct chan *h = &a->ch[c];
            h->sumsq += (double)v * v;
            if (v < h->fmin)
                h->fmin = v;
            if (v > h->fmax)
                h->fmax = v;
        }
        if (++a->nin == a->frame_len)
            close_frame(a);
    }
}

int analyzer_finish(struct analyzer *a, struct archive_analysis *out)
{
    if (a->nin)
        close_frame(a);
    if (a->nbucket_frames)
        close_bucket(a);
    for (int c = 0; c < a->channels; c++)
        if (!a->ch[c].active)
            end_silence(a, c, a->nframes);
    a->res.channels = a->channels;
    a->res.bucket_ms = FRAME_MS * a->frames_per_bucket;
    a->res.nbuckets = a->nbuckets;
    a->res.peaks = a->peaks;
    a->peaks = NULL;
    int64_t all = a->res.ch[0].talk_ms + (a->channels == 2 ? a->res.ch[1].talk_ms : 0);
    a->res.talk_ratio = a->channels == 2 && all > 0 ? (double)a->res.ch[1].talk_ms / all : -1;
    *out = a->res;
    memset(&a->res, 0, sizeof a->res);
    return 0;
}

void analyzer_free(struct analyzer *a)
{
    if (!a)
        return;
    free(a->peaks);
    free(a);
}
