/* AMR and AMR-WB RTP payloads (RFC 4867) into frames in the storage format
 * (RFC 4867 section 5: a header byte with the frame type and quality bit,
 * then the speech bits, padded to a byte), which is what the decoders take.
 *
 * Both payload formats: octet-aligned (a CMR byte, a ToC byte per frame, each
 * frame padded to a byte) and bandwidth-efficient (a 4-bit CMR, 6-bit ToC
 * entries, the frames' bits back to back). Interleaving and CRCs, which no
 * PBX here sends, are refused rather than misread. Every length is checked
 * against the payload; a lie ends the packet. */
#include "recorder/recorder.h"

#include <string.h>

/* Bits per frame type (TS 26.101 / 26.201); -1 for reserved types. 15 is
 * NO_DATA, and AMR-WB's 14 is SPEECH_LOST: frames without bits. */
static const int16_t nb_bits[16] = {95, 103, 118, 134, 148, 159, 204, 244,
                                    39, 43,  38,  37,  -1,  -1,  -1,  0};
static const int16_t wb_bits[16] = {132, 177, 253, 285, 317, 365, 397, 461,
                                    477, 40,  -1,  -1,  -1,  -1,  0,   0};

struct bits {
    const uint8_t *p;
    size_t len, pos; /* pos in bits */
};

static int take(struct bits *b, unsigned n, unsigned *out)
{
    if (b->pos + n > b->len * 8)
        return -1;
    unsigned v = 0;
    for (unsigned i = 0; i < n; i++, b->pos++)
        v = v << 1 | (unsigned)(b->p[b->pos / 8] >> (7 - b->pos % 8) & 1);
    *out = v;
    return 0;
}

int amr_bits(bool wb, unsigned ft)
{
    return ft < 16 ? (wb ? wb_bits : nb_bits)[ft] : -1;
}

int amr_depacketize(const uint8_t *p, size_t len, bool wb, bool octet_aligned,
                    struct amr_frame *out, int max)
{
    struct bits b = {p, len, 0};
    unsigned cmr, f = 1, ft, q;
    if (take(&b, 4, &cmr) || (octet_aligned && take(&b, 4, &cmr)))
        return -1;
    /* the table of contents: one entry a frame, F set while more follow */
    int n = 0;
    while (f) {
        if (n == max || take(&b, 1, &f) || take(&b, 4, &ft) || take(&b, 1, &q))
            return -1;
        if (octet_aligned && take(&b, 2, &cmr))
            return -1;
        out[n].ft = (uint8_t)ft;
        out[n].q = q != 0;
        n++;
    }
    for (int i = 0; i < n; i++) {
        int nbits = amr_bits(wb, out[i].ft);
        if (nbits < 0)
            return -1;
        unsigned bits = (unsigned)nbits;
        out[i].data[0] = (uint8_t)(out[i].ft << 3 | (out[i].q ? 4 : 0));
        memset(out[i].data + 1, 0, sizeof out[i].data - 1);
        for (unsigned k = 0; k < bits; k++) {
            unsigned bit;
            if (take(&b, 1, &bit))
                return -1;
            out[i].data[1 + k / 8] |= (uint8_t)(bit << (7 - k % 8));
        }
        out[i].len = 1 + (bits + 7) / 8;
        if (octet_aligned)
            b.pos = (b.pos + 7) / 8 * 8;
    }
    return n;
}
