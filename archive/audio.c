/* Audio sources: raw Asterisk formats are recognised by extension (they have
 * no header), everything else by content: libsndfile first (fast, exact for
 * WAV and its codecs), then libavformat for whatever it opens. */
#include "archive/audio_int.h"

#include <errno.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct sf_src {
    struct audio_src base;
    SNDFILE *sf;
    int file_channels;
    int64_t left; /* frames still to deliver, -1 = until the end */
    float *tmp;   /* for downmixing more than two channels */
    size_t tmp_frames;
};

/* Headerless formats Asterisk writes, by extension. */
static const struct {
    const char *ext;
    int format;
    int rate;
} raw_formats[] = {
    {"ulaw", SF_FORMAT_RAW | SF_FORMAT_ULAW, 8000},
    {"ul", SF_FORMAT_RAW | SF_FORMAT_ULAW, 8000},
    {"pcm", SF_FORMAT_RAW | SF_FORMAT_ULAW, 8000},
    {"alaw", SF_FORMAT_RAW | SF_FORMAT_ALAW, 8000},
    {"al", SF_FORMAT_RAW | SF_FORMAT_ALAW, 8000},
    {"gsm", SF_FORMAT_RAW | SF_FORMAT_GSM610, 8000},
    {"sln", SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 8000},
    {"raw", SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 8000},
    {"sln12", SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 12000},
    {"sln16", SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 16000},
    {"sln24", SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 24000},
    {"sln32", SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 32000},
    {"sln44", SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 44100},
    {"sln48", SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 48000},
};

static long sf_read_some(struct sf_src *s, float *pcm, size_t frames, struct es_err *err);

static long sf_src_read(struct audio_src *base, float *pcm, size_t frames, struct es_err *err)
{
    struct sf_src *s = (struct sf_src *)base;
    if (s->left >= 0 && (int64_t)frames > s->left)
        frames = (size_t)s->left;
    if (frames == 0)
        return 0;
    long got = sf_read_some(s, pcm, frames, err);
    if (got > 0 && s->left >= 0)
        s->left -= got;
    return got;
}

static long sf_read_some(struct sf_src *s, float *pcm, size_t frames, struct es_err *err)
{
    if (s->file_channels <= 2) {
        sf_count_t n = sf_readf_float(s->sf, pcm, (sf_count_t)frames);
        if (n == 0 && sf_error(s->sf))
            return es_seterr(err, ES_EFORMAT, "%s", sf_strerror(s->sf));
        return (long)n;
    }
    /* Fold extra channels: odd ones left, even ones right. */
    if (s->tmp_frames < frames) {
        float *t = realloc(s->tmp, frames * (size_t)s->file_channels * sizeof(float));
        if (!t)
            return ES_ENOMEM;
        s->tmp = t;
        s->tmp_frames = frames;
    }
    sf_count_t n = sf_readf_float(s->sf, s->tmp, (sf_count_t)frames);
    int fc = s->file_channels;
    for (sf_count_t i = 0; i < n; i++) {
        float l = 0, r = 0;
        for (int c = 0; c < fc; c++)
            *(c % 2 ? &r : &l) += s->tmp[i * fc + c];
        pcm[2 * i] = l / (float)((fc + 1) / 2);
        pcm[2 * i + 1] = r / (float)(fc / 2);
    }
    return (long)n;
}

static void sf_src_close(struct audio_src *base)
{
    struct sf_src *s = (struct sf_src *)base;
    sf_close(s->sf);
    free(s->tmp);
    free(s);
}

static void describe(int format, char *out, size_t outlen)
{
    SF_FORMAT_INFO major = {.format = format & SF_FORMAT_TYPEMASK};
    SF_FORMAT_INFO minor = {.format = format & SF_FORMAT_SUBMASK};
    sf_command(NULL, SFC_GET_FORMAT_INFO, &major, sizeof major);
    sf_command(NULL, SFC_GET_FORMAT_INFO, &minor, sizeof minor);
    snprintf(out, outlen, "%s/%s", major.name ? major.name : "?", minor.name ? minor.name : "?");
}

int audio_open_sndfile(const char *path, const char *ext, int64_t limit, struct audio_src **out,
                       struct es_err *err)
{
    SF_INFO info = {0};
    for (size_t i = 0; ext && i < ES_ARRAY_LEN(raw_formats); i++) {
        if (strcasecmp(ext, raw_formats[i].ext) == 0) {
            info.format = raw_formats[i].format;
            info.samplerate = raw_formats[i].rate;
            info.channels = 1;
        }
    }
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf)
        return es_seterr(err, ES_EFORMAT, "%s", sf_strerror(NULL));
    if (info.channels < 1 || info.samplerate < 1000 || info.samplerate > 384000) {
        sf_close(sf);
        return es_seterr(err, ES_EFORMAT, "implausible header: %d channels at %d Hz", info.channels,
                         info.samplerate);
    }
    struct sf_src *s = calloc(1, sizeof *s);
    if (!s) {
        sf_close(sf);
        return ES_ENOMEM;
    }
    s->sf = sf;
    s->file_channels = info.channels;
    s->left = limit > 0 && limit < info.frames ? limit : -1;
    s->base.read = sf_src_read;
    s->base.close = sf_src_close;
    s->base.info.rate = info.samplerate;
    s->base.info.channels = info.channels >= 2 ? 2 : 1;
    s->base.info.frames = info.frames > 0 ? (s->left >= 0 ? s->left : info.frames) : -1;
    describe(info.format, s->base.info.format, sizeof s->base.info.format);
    /* Clip float sources instead of letting out-of-range values wrap. */
    sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    *out = &s->base;
    return 0;
}

static const char *extension(const char *path)
{
    const char *base = es_basename(path);
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot + 1 : NULL;
}

/* WAV headers are checked strictly before any decoder sees the file. */
static int check_header(const char *path, uint64_t size, struct wav_facts *w, struct es_err *err)
{
    uint8_t head[65536];
    FILE *f = fopen(path, "rb");
    if (!f)
        return es_seterr(err, -errno, "%s", strerror(errno));
    size_t n = fread(head, 1, sizeof head, f);
    int failed = ferror(f);
    fclose(f);
    if (failed)
        return es_seterr(err, -EIO, "read error");
    int rc = wav_check(head, n, size, w, err);
    return rc == ES_ENOTFOUND ? 0 : rc;
}

int audio_open(const char *path, struct audio_src **out, struct es_err *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return es_seterr(err, -errno, "%s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return es_seterr(err, ES_EFORMAT, "not a regular file");
    if (st.st_size == 0)
        return es_seterr(err, ES_EEMPTY, "empty file (0 bytes)");
    const char *ext = extension(path);
    struct wav_facts w;
    int rc = check_header(path, (uint64_t)st.st_size, &w, err);
    /* the fact chunk is the true length only for block-coded formats */
    int64_t limit = w.format != 0 && w.format != 1 && w.format != 3 ? w.fact_frames : 0;
    if (rc)
        return rc;
    if (ext && strcasecmp(ext, "g722") == 0)
        return audio_open_av(path, "g722", out, err);
    struct es_err sferr = {{0}};
    rc = audio_open_sndfile(path, ext, limit, out, &sferr);
    if (rc == 0 || rc == ES_ENOMEM)
        return rc;
    struct es_err averr = {{0}};
    rc = audio_open_av(path, NULL, out, &averr);
    if (rc == 0 || rc == ES_ENOMEM)
        return rc;
    return es_seterr(err, rc, "not a readable audio file (%s)", averr.msg);
}

const struct audio_info *audio_info(const struct audio_src *s)
{
    return &s->info;
}

long audio_read(struct audio_src *s, float *pcm, size_t frames, struct es_err *err)
{
    return s->read(s, pcm, frames, err);
}

void audio_close(struct audio_src *s)
{
    if (s)
        s->close(s);
}
