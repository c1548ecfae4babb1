/* RTP payloads of every codec the recorder decodes: the RFC 4867 AMR parser
 * in both formats, G.723.1 frame splitting, L16 channel mixing, and the
 * libavcodec decoders behind them, fed bytes from the wire. The first byte
 * picks the codec; the rest is cut into payloads at each 0xff 0x00 pair. */
#include "recorder/recorder.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sdp_rtpmap maps[] = {
        {.name = "AMR", .clock = 8000, .channels = 1, .octet_align = true},
        {.name = "AMR", .clock = 8000, .channels = 1},
        {.name = "AMR-WB", .clock = 16000, .channels = 1, .octet_align = true},
        {.name = "AMR-WB", .clock = 16000, .channels = 1},
        {.name = "G723", .clock = 8000, .channels = 1},
        {.name = "L16", .clock = 44100, .channels = 2},
        {.name = "L16", .clock = 16000, .channels = 1},
        {.name = "speex", .clock = 16000, .channels = 1},
        {.name = "G726-32", .clock = 8000, .channels = 1},
        {.name = "AAL2-G726-16", .clock = 8000, .channels = 1},
        {.name = "G726-40", .clock = 8000, .channels = 1},
        {.name = "PCMA", .clock = 8000, .channels = 1},
    };
    if (size < 1)
        return 0;
    const struct sdp_rtpmap *m = &maps[data[0] % (sizeof maps / sizeof maps[0])];
    struct rtp_decoder *d;
    struct es_err err;
    if (rtp_decoder_new(m, &d, &err))
        abort(); /* every map above names a codec we decode */
    static int16_t pcm[16384];
    const uint8_t *p = data + 1, *end = data + size;
    while (p < end) {
        const uint8_t *cut = p;
        while (cut + 1 < end && !(cut[0] == 0xff && cut[1] == 0x00))
            cut++;
        size_t n = cut + 1 < end ? (size_t)(cut - p) : (size_t)(end - p);
        struct amr_frame fr[AMR_MAX_FRAMES];
        int k = amr_depacketize(p, n, m->clock == 16000, m->octet_align, fr, AMR_MAX_FRAMES);
        for (int i = 0; i < k; i++)
            if (fr[i].len > sizeof fr[i].data)
                abort();
        long got = rtp_decoder_run(d, p, n, pcm, sizeof pcm / sizeof pcm[0]);
        if (got > (long)(sizeof pcm / sizeof pcm[0]))
            abort();
        p += n + 2;
    }
    rtp_decoder_free(d);
    return 0;
}
