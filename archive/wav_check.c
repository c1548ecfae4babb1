/* A strict look at RIFF/WAVE headers before libsndfile, which is lenient:
 * it plays truncated files and believes fmt chunks whose fields contradict
 * each other. Recordings like that are refused with the reason instead. */
#include "archive/archive.h"

#include <string.h>

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned rd16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static int check_fmt(const uint8_t *p, uint32_t n, struct wav_facts *w, struct es_err *err)
{
    if (n < 16)
        return es_seterr(err, ES_EFORMAT, "fmt chunk too short (%u bytes)", n);
    w->format = rd16(p);
    w->channels = (int)rd16(p + 2);
    w->rate = (int)rd32(p + 4);
    uint32_t byte_rate = rd32(p + 8);
    unsigned align = rd16(p + 12);
    w->bits = (int)rd16(p + 14);
    unsigned fmt = w->format;
    if (fmt == 0xFFFE && n >= 26) /* WAVE_FORMAT_EXTENSIBLE: the sub-format decides */
        fmt = rd16(p + 24);
    if (w->channels < 1 || w->channels > 8)
        return es_seterr(err, ES_EFORMAT, "lying header: %d channels", w->channels);
    if (w->rate < 1000 || w->rate > 384000)
        return es_seterr(err, ES_EFORMAT, "lying header: sample rate %d Hz", w->rate);
    if (align == 0 || byte_rate == 0)
        return es_seterr(err, ES_EFORMAT, "lying header: zero block size or byte rate");
    if (fmt == 1 || fmt == 3 || fmt == 6 || fmt == 7) { /* PCM, float, A-law, u-law */
        unsigned want = (unsigned)w->channels * (((unsigned)w->bits + 7) / 8);
        if (w->bits < 8 || w->bits > 64 || align != want)
            return es_seterr(err, ES_EFORMAT,
                             "lying header: %d channels of %d bits need %u-byte frames, header "
                             "says %u",
                             w->channels, w->bits, want, align);
        if (byte_rate != (uint32_t)w->rate * align)
            return es_seterr(err, ES_EFORMAT,
                             "lying header: byte rate %u does not match %d Hz x %u bytes",
                             byte_rate, w->rate, align);
    }
    w->block_align = align;
    w->byte_rate = byte_rate;
    return 0;
}

int wav_check(const uint8_t *p, size_t len, uint64_t file_size, struct wav_facts *w,
              struct es_err *err)
{
    memset(w, 0, sizeof *w);
    if (len < 12 || memcmp(p, "RIFF", 4) || memcmp(p + 8, "WAVE", 4))
        return ES_ENOTFOUND;
    if (file_size < len)
        file_size = len;
    size_t off = 12;
    int have_fmt = 0;
    while (off + 8 <= len) {
        uint32_t n = rd32(p + off + 4);
        const uint8_t *body = p + off + 8;
        size_t avail = len - off - 8;
        if (!memcmp(p + off, "fmt ", 4)) {
            if (n > avail)
                return es_seterr(err, ES_EFORMAT, "truncated: fmt chunk cut short");
            int rc = check_fmt(body, n, w, err);
            if (rc)
                return rc;
            have_fmt = 1;
        } else if (!memcmp(p + off, "fact", 4) && n >= 4 && avail >= 4) {
            w->fact_frames = rd32(body); /* true length of block-coded audio (GSM) */
        } else if (!memcmp(p + off, "data", 4)) {
            if (!have_fmt)
                return es_seterr(err, ES_EFORMAT, "data chunk before fmt chunk");
            w->data_offset = off + 8;
            uint64_t held = file_size - w->data_offset;
            w->data_bytes = n;
            /* 0 and 0xFFFFFFFF mean "still being written / unknown" */
            if (n != 0 && n != 0xFFFFFFFFu && n > held + w->block_align) {
                w->truncated = 1;
                return es_seterr(err, ES_EFORMAT,
                                 "truncated: header declares %u bytes of audio (%.2f s), file "
                                 "holds %llu (%.2f s)",
                                 n, (double)n / w->byte_rate, (unsigned long long)held,
                                 (double)held / w->byte_rate);
            }
            return 0;
        }
        uint64_t next = (uint64_t)off + 8 + n + (n & 1);
        if (next > file_size)
            return es_seterr(err, ES_EFORMAT, "truncated: chunk '%.4s' runs past the end",
                             (const char *)(p + off));
        if (next > len)
            break; /* beyond what we read; let the decoder find the data */
        off = (size_t)next;
    }
    if (!have_fmt && off + 8 > file_size)
        return es_seterr(err, ES_EFORMAT, "WAV file without a fmt chunk");
    return 0;
}
