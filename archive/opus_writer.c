/* Ogg Opus muxing on libogg (RFC 7845): OpusHead and OpusTags pages, audio
 * pages with granule positions on the 48 kHz scale, pre-skip from the encoder
 * lookahead and an end granule that trims the padding of the last frame. The
 * file bytes are hashed as they are written, so the archive never re-reads.
 *
 * Stereo is two uncoupled mono streams (channel mapping family 1, RFC 7845
 * 5.1.1.2), not Opus's coupled stereo: customer and operator are two
 * different signals, and joint stereo coding at speech bitrates let one leak
 * into the other's channel at about -14 dB. Uncoupled, a silent channel stays
 * below -90 dB whatever the source rate or bitrate; every decoder that plays
 * Ogg Opus (libopus, FFmpeg, browsers) supports family 1. */
#include "archive/sealed.h"

#include <errno.h>
#include <ogg/ogg.h>
#include <opus/opus.h>
#include <opus/opus_multistream.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PACKET 1500
#define OUTBUF     ARCHIVE_SEAL_CHUNK /* small: a recorder holds one writer per active call */

struct opus_writer {
    int fd;
    OpusMSEncoder *enc; /* one mono stream per channel, none coupled */
    ogg_stream_state os;
    int rate, channels, frame; /* frame: samples per channel per 20 ms */
    int scale;                 /* 48000 / rate */
    int preskip;               /* 48 kHz samples */
    float *pend;               /* partial frame, frame * channels */
    int npend;
    uint64_t samples; /* input samples per channel */
    int64_t granule;  /* 48 kHz samples in packets so far */
    int64_t packetno;
    struct opus_writer_stats st;
    crypto_hash_sha256_state hash;
    /* sealed: each full buffer is one chunk, sealed in place */
    bool sealed;
    uint8_t key[32], header[ARCHIVE_SEAL_HEADER];
    uint64_t chunk;
    unsigned char out[OUTBUF + ARCHIVE_SEAL_TAG];
    size_t nout;
    int failed; /* sticky error */
};

int opus_rate_for(int rate)
{
    static const int rates[] = {8000, 12000, 16000, 24000, 48000};
    for (size_t i = 0; i < ES_ARRAY_LEN(rates); i++)
        if (rate <= rates[i])
            return rates[i];
    return 48000;
}

/* Writes bytes as stored: hashed and counted here. */
static int write_all(struct opus_writer *w, const unsigned char *p, size_t len)
{
    crypto_hash_sha256_update(&w->hash, p, len);
    w->st.file_bytes += len;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(w->fd, p + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return w->failed = -errno;
        off += (size_t)n;
    }
    return 0;
}

/* The buffer out: as it is, or sealed as the next chunk (final: the last). */
static int flush_out(struct opus_writer *w, bool final)
{
    size_t n = w->nout;
    w->nout = 0;
    if (!w->sealed)
        return n ? write_all(w, w->out, n) : 0;
    if (w->chunk == 0) {
        int rc = write_all(w, w->header, sizeof w->header);
        if (rc)
            return rc;
    }
    seal_chunk(w->key, w->header, w->chunk++, final, w->out, n, w->out);
    return write_all(w, w->out, n + ARCHIVE_SEAL_TAG);
}

static int emit(struct opus_writer *w, const unsigned char *p, size_t n)
{
    while (n) {
        size_t k = ES_MIN(n, OUTBUF - w->nout);
        memcpy(w->out + w->nout, p, k);
        w->nout += k;
        p += k;
        n -= k;
        if (w->nout == OUTBUF && flush_out(w, false))
            return w->failed;
    }
    return 0;
}

static int emit_page(struct opus_writer *w, ogg_page *og)
{
    int rc = emit(w, og->header, (size_t)og->header_len);
    return rc ? rc : emit(w, og->body, (size_t)og->body_len);
}

static int write_pages(struct opus_writer *w, int flush);

int opus_writer_checkpoint(struct opus_writer *w)
{
    if (w->failed)
        return w->failed;
    int rc = write_pages(w, 1);
    /* a sealed file's chunks are all ARCHIVE_SEAL_CHUNK but the last: the
     * buffer waits until it is full */
    if (!rc && !w->sealed)
        rc = flush_out(w, false);
    return rc;
}

static int write_pages(struct opus_writer *w, int flush)
{
    ogg_page og;
    while (flush ? ogg_stream_flush(&w->os, &og) : ogg_stream_pageout(&w->os, &og)) {
        int rc = emit_page(w, &og);
        if (rc)
            return rc;
    }
    return 0;
}

static void le16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static int put_packet(struct opus_writer *w, unsigned char *p, long n, int64_t granule, int eos)
{
    ogg_packet op = {.packet = p,
                     .bytes = n,
                     .b_o_s = w->packetno == 0,
                     .e_o_s = eos,
                     .granulepos = granule,
                     .packetno = w->packetno++};
    return ogg_stream_packetin(&w->os, &op) == 0 ? 0 : ES_ENOMEM;
}

static int write_headers(struct opus_writer *w, const struct opus_writer_opts *o)
{
    unsigned char head[23];
    memcpy(head, "OpusHead", 8);
    head[8] = 1;
    head[9] = (unsigned char)w->channels;
    le16(head + 10, (unsigned)w->preskip);
    le32(head + 12, (uint32_t)(o->source_rate > 0 ? o->source_rate : w->rate));
    le16(head + 16, 0); /* output gain */
    long head_len = 19;
    head[18] = 0; /* mapping family 0: mono */
    if (w->channels == 2) {
        head[18] = 1; /* family 1: a stream count and a channel table follow */
        head[19] = 2; /* streams */
        head[20] = 0; /* of which coupled */
        head[21] = 0; /* left (customer): stream 0 */
        head[22] = 1; /* right (operator): stream 1 */
        head_len = 23;
    }
    int rc = put_packet(w, head, head_len, 0, 0);
    if (!rc)
        rc = write_pages(w, 1);
    if (rc)
        return rc;

    struct es_buf t;
    es_buf_init(&t, 1 << 16);
    const char *vendor = opus_get_version_string();
    unsigned char n4[4];
    uint32_t count = 0;
    for (const char *const *tag = o->tags; tag && *tag; tag++)
        count++;
    rc = es_buf_append(&t, "OpusTags", 8);
    le32(n4, (uint32_t)strlen(vendor));
    rc = rc ? rc : es_buf_append(&t, n4, 4);
    rc = rc ? rc : es_buf_append(&t, vendor, strlen(vendor));
    le32(n4, count);
    rc = rc ? rc : es_buf_append(&t, n4, 4);
    for (const char *const *tag = o->tags; tag && *tag && !rc; tag++) {
        le32(n4, (uint32_t)strlen(*tag));
        rc = es_buf_append(&t, n4, 4);
        rc = rc ? rc : es_buf_append(&t, *tag, strlen(*tag));
    }
    if (!rc)
        rc = put_packet(w, (unsigned char *)t.data, (long)t.len, 0, 0);
    es_buf_free(&t);
    /* audio must start on a fresh page */
    return rc ? rc : write_pages(w, 1);
}

int opus_writer_new(int fd, const struct opus_writer_opts *o, struct opus_writer **out,
                    struct es_err *err)
{
    *out = NULL;
    if ((o->channels != 1 && o->channels != 2) || opus_rate_for(o->rate) != o->rate)
        return es_seterr(err, ES_EINVAL, "opus writer: unsupported layout %d Hz x %d", o->rate,
                         o->channels);
    struct opus_writer *w = calloc(1, sizeof *w);
    if (!w)
        return ES_ENOMEM;
    w->fd = fd;
    w->rate = o->rate;
    w->channels = o->channels;
    w->frame = o->rate / 50;
    w->scale = 48000 / o->rate;
    crypto_hash_sha256_init(&w->hash);
    if (o->seal_key) {
        w->sealed = true;
        memcpy(w->key, o->seal_key, sizeof w->key);
        seal_header(w->header);
    }
    int oe, rc;
    static const unsigned char mapping[2] = {0, 1};
    w->enc = opus_multistream_encoder_create(o->rate, o->channels, o->channels, 0, mapping,
                                             OPUS_APPLICATION_VOIP, &oe);
    w->pend = malloc(sizeof(float) * (size_t)w->frame * (size_t)w->channels);
    if (!w->enc || !w->pend) {
        rc = es_seterr(err, ES_ECODEC, "opus encoder: %s", opus_strerror(oe));
        goto fail;
    }
    /* the bitrate is the file's: the streams share it */
    opus_multistream_encoder_ctl(w->enc, OPUS_SET_BITRATE(o->bitrate));
    opus_multistream_encoder_ctl(w->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    if (o->complexity >= 0)
        opus_multistream_encoder_ctl(w->enc, OPUS_SET_COMPLEXITY(o->complexity));
    opus_int32 lookahead = 0;
    opus_multistream_encoder_ctl(w->enc, OPUS_GET_LOOKAHEAD(&lookahead));
    w->preskip = (int)lookahead * w->scale;
    uint32_t serial;
    randombytes_buf(&serial, sizeof serial);
    if (ogg_stream_init(&w->os, (int)(serial & 0x7fffffff)) != 0) {
        rc = ES_ENOMEM;
        goto fail;
    }
    rc = write_headers(w, o);
    if (rc) {
        es_seterr(err, rc, "opus writer: headers: %s", es_strerror(rc));
        goto fail;
    }
    *out = w;
    return 0;
fail:
    opus_writer_free(w);
    return rc;
}

static int encode_frame(struct opus_writer *w, const float *pcm, int eos_after)
{
    unsigned char pkt[MAX_PACKET];
    opus_int32 n = opus_multistream_encode_float(w->enc, pcm, w->frame, pkt, MAX_PACKET);
    if (n < 0)
        return w->failed = ES_ECODEC;
    w->granule += (int64_t)w->frame * w->scale;
    int64_t gp = w->granule;
    if (eos_after) /* end trimming: the last granule is the true length */
        gp = w->preskip + (int64_t)w->samples * w->scale;
    w->st.packets++;
    w->st.packet_bytes += (uint64_t)n;
    int rc = put_packet(w, pkt, n, gp, eos_after);
    return rc ? rc : write_pages(w, eos_after);
}

int opus_writer_write(struct opus_writer *w, const float *pcm, size_t frames)
{
    if (w->failed)
        return w->failed;
    size_t ch = (size_t)w->channels;
    w->samples += frames;
    while (frames) {
        if (w->npend == 0 && frames >= (size_t)w->frame) {
            int rc = encode_frame(w, pcm, 0);
            if (rc)
                return rc;
            pcm += (size_t)w->frame * ch;
            frames -= (size_t)w->frame;
            continue;
        }
        size_t k = ES_MIN(frames, (size_t)(w->frame - w->npend));
        memcpy(w->pend + (size_t)w->npend * ch, pcm, k * ch * sizeof(float));
        w->npend += (int)k;
        pcm += k * ch;
        frames -= k;
        if (w->npend == w->frame) {
            w->npend = 0;
            int rc = encode_frame(w, w->pend, 0);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int opus_writer_finish(struct opus_writer *w, struct opus_writer_stats *st)
{
    if (w->failed)
        return w->failed;
    size_t ch = (size_t)w->channels;
    /* Pad with silence until the decoder, after dropping pre-skip, has every
     * input sample; the final granule then trims the padding away. */
    int64_t need = w->preskip + (int64_t)w->samples * w->scale;
    do {
        memset(w->pend + (size_t)w->npend * ch, 0,
               (size_t)(w->frame - w->npend) * ch * sizeof(float));
        w->npend = 0;
        int last = w->granule + (int64_t)w->frame * w->scale >= need;
        int rc = encode_frame(w, w->pend, last);
        if (rc)
            return rc;
    } while (w->granule < need);
    int rc = flush_out(w, true);
    if (rc)
        return rc;
    w->st.samples = w->samples;
    crypto_hash_sha256_final(&w->hash, w->st.sha256);
    if (st)
        *st = w->st;
    return 0;
}

void opus_writer_free(struct opus_writer *w)
{
    if (!w)
        return;
    if (w->enc)
        opus_multistream_encoder_destroy(w->enc);
    ogg_stream_clear(&w->os);
    free(w->pend);
    sodium_memzero(w->key, sizeof w->key);
    free(w);
}
