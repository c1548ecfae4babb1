/* G.711 u-law and A-law (ITU-T G.711), decoded through 256-entry tables built
 * once from the companding rules, so decoding is one lookup per sample. */
#include "recorder/recorder.h"

#include <pthread.h>

static int16_t ulaw_table[256], alaw_table[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int16_t ulaw_to_linear(uint8_t u)
{
    u = (uint8_t)~u;
    int t = ((u & 0x0f) << 3) + 0x84; /* mantissa with the bias */
    t <<= (u & 0x70) >> 4;            /* segment */
    return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

static int16_t alaw_to_linear(uint8_t a)
{
    a ^= 0x55; /* even bits are inverted on the line */
    int t = (a & 0x0f) << 4;
    int seg = (a & 0x70) >> 4;
    if (seg == 0)
        t += 8;
    else
        t = (t + 0x108) << (seg - 1);
    return (int16_t)((a & 0x80) ? t : -t);
}

static void build(void)
{
    for (int i = 0; i < 256; i++) {
        ulaw_table[i] = ulaw_to_linear((uint8_t)i);
        alaw_table[i] = alaw_to_linear((uint8_t)i);
    }
}

void g711_decode(bool alaw, const uint8_t *in, size_t n, int16_t *out)
{
    pthread_once(&once, build);
    const int16_t *t = alaw ? alaw_table : ulaw_table;
    for (size_t i = 0; i < n; i++)
        out[i] = t[in[i]];
}
