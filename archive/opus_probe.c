/* Reading an Ogg Opus file back: header fields, the OpusTags earshot writes,
 * the playable length, and whether every page is intact (CRC, sequence, end of
 * stream). verify --repair uses it to re-catalogue orphans it can trust. */
#include "archive/archive.h"

#include <ogg/ogg.h>
#include <string.h>

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void take_tag(struct opus_probe *o, const unsigned char *c, uint32_t n)
{
    static const struct {
        const char *key;
        size_t off, len;
    } keys[] = {
        {"EARSHOT_CALL_ID=", offsetof(struct opus_probe, call_id), ES_ID_LEN},
        {"DATE=", offsetof(struct opus_probe, date), sizeof((struct opus_probe *)0)->date},
        {"EARSHOT_OPERATOR=", offsetof(struct opus_probe, operator_), ARCHIVE_FIELD_LEN},
        {"EARSHOT_CALLER=", offsetof(struct opus_probe, caller), ARCHIVE_FIELD_LEN},
        {"EARSHOT_CALLEE=", offsetof(struct opus_probe, callee), ARCHIVE_FIELD_LEN},
        {"EARSHOT_RATE=", offsetof(struct opus_probe, rate), sizeof((struct opus_probe *)0)->rate},
    };
    for (size_t k = 0; k < ES_ARRAY_LEN(keys); k++) {
        size_t kl = strlen(keys[k].key);
        if (n <= kl || memcmp(c, keys[k].key, kl))
            continue;
        size_t vl = n - kl;
        if (vl >= keys[k].len)
            return;
        char *dst = (char *)o + keys[k].off;
        memcpy(dst, c + kl, vl);
        dst[vl] = '\0';
        return;
    }
}

static int parse_tags(struct opus_probe *o, const unsigned char *p, long n, struct es_err *err)
{
    if (n < 16 || memcmp(p, "OpusTags", 8))
        return es_seterr(err, ES_EFORMAT, "second packet is not OpusTags");
    uint64_t off = 8;
    uint32_t vendor = rd32(p + off);
    off += 4 + (uint64_t)vendor;
    if (off + 4 > (uint64_t)n)
        return es_seterr(err, ES_EFORMAT, "OpusTags vendor string runs past the packet");
    uint32_t count = rd32(p + off);
    off += 4;
    for (uint32_t i = 0; i < count; i++) {
        if (off + 4 > (uint64_t)n)
            return es_seterr(err, ES_EFORMAT, "OpusTags comment %u runs past the packet", i);
        uint32_t len = rd32(p + off);
        off += 4;
        if (off + len > (uint64_t)n)
            return es_seterr(err, ES_EFORMAT, "OpusTags comment %u runs past the packet", i);
        take_tag(o, p + off, len);
        off += len;
    }
    return 0;
}

static int take_packet(struct opus_probe *o, ogg_packet *op, struct es_err *err)
{
    if (o->packets == 0) {
        if (op->bytes < 19 || memcmp(op->packet, "OpusHead", 8) || op->packet[8] != 1)
            return es_seterr(err, ES_EFORMAT, "not an Ogg Opus stream (no OpusHead)");
        o->channels = op->packet[9];
        o->preskip = op->packet[10] | op->packet[11] << 8;
        o->input_rate = (int)rd32(op->packet + 12);
        /* family 0 (mono, coupled stereo: older archives), or family 1 with
         * one uncoupled stream per channel (what the writer makes) */
        int family = op->packet[18];
        bool ok = family == 0 && o->channels >= 1 && o->channels <= 2;
        if (family == 1 && op->bytes >= 21 + o->channels && o->channels >= 1 && o->channels <= 2)
            ok = op->packet[19] == o->channels && op->packet[20] == 0;
        if (!ok)
            return es_seterr(err, ES_EFORMAT, "unsupported channel layout (%d channels, family %d)",
                             o->channels, family);
    } else if (o->packets == 1) {
        int rc = parse_tags(o, op->packet, op->bytes, err);
        if (rc)
            return rc;
    }
    o->packets++;
    return 0;
}

int opus_probe(const uint8_t *p, size_t len, struct opus_probe *o, struct es_err *err)
{
    memset(o, 0, sizeof *o);
    ogg_sync_state oy;
    ogg_stream_state os;
    int have_stream = 0, rc = 0;
    ogg_sync_init(&oy);
    size_t off = 0;
    while (!rc && off < len) {
        size_t chunk = ES_MIN(len - off, (size_t)65536);
        char *buf = ogg_sync_buffer(&oy, (long)chunk);
        if (!buf) {
            rc = ES_ENOMEM;
            break;
        }
        memcpy(buf, p + off, chunk);
        ogg_sync_wrote(&oy, (long)chunk);
        off += chunk;
        ogg_page og;
        int r;
        while (!rc && (r = ogg_sync_pageout(&oy, &og)) != 0) {
            if (r < 0) { /* skipped bytes: a damaged page or garbage */
                rc = es_seterr(err, ES_ECORRUPT, "damaged Ogg page near byte %zu", off);
                break;
            }
            if (!have_stream) {
                if (ogg_stream_init(&os, ogg_page_serialno(&og))) {
                    rc = ES_ENOMEM;
                    break;
                }
                have_stream = 1;
            } else if (ogg_page_serialno(&og) != os.serialno) {
                rc = es_seterr(err, ES_EFORMAT, "more than one logical stream");
                break;
            }
            if (o->eos) {
                rc = es_seterr(err, ES_EFORMAT, "data after the end of stream");
                break;
            }
            if (ogg_stream_pagein(&os, &og)) {
                rc = es_seterr(err, ES_ECORRUPT, "page out of sequence");
                break;
            }
            if (ogg_page_granulepos(&og) >= 0)
                o->last_granule = ogg_page_granulepos(&og);
            o->eos = ogg_page_eos(&og);
            o->pages++;
            ogg_packet op;
            int pr;
            while (!rc && (pr = ogg_stream_packetout(&os, &op)) != 0) {
                if (pr < 0)
                    rc = es_seterr(err, ES_ECORRUPT, "missing data between pages");
                else
                    rc = take_packet(o, &op, err);
            }
        }
    }
    if (!rc && o->packets < 2)
        rc = es_seterr(err, ES_EFORMAT, "no Ogg Opus headers");
    if (!rc && !o->eos)
        rc = es_seterr(err, ES_ECORRUPT, "no end of stream: the file is cut short");
    if (!rc && o->last_granule < o->preskip)
        rc = es_seterr(err, ES_EFORMAT, "final granule before the pre-skip");
    if (!rc)
        o->duration_ms = (o->last_granule - o->preskip) / 48;
    if (have_stream)
        ogg_stream_clear(&os);
    ogg_sync_clear(&oy);
    return rc;
}
