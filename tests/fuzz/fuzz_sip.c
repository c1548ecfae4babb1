/* SIP messages over UDP and TCP, and the SDP bodies they carry. */
#include "recorder/recorder.h"

#include <stdlib.h>
#include <string.h>

static void inside(const struct es_str *s, const uint8_t *p, size_t len)
{
    if (s->p && ((const uint8_t *)s->p < p || (const uint8_t *)s->p + s->len > p + len))
        abort();
}

/* Drives the dialog tracker with every message found in the input (split at
 * NUL bytes), so hostile sequences reach the state machine too. */
static void dialogs_run(const uint8_t *data, size_t size)
{
    struct dialogs *d;
    if (dialogs_new(64, &d))
        return;
    struct pkt p = {.src = {.family = 4}};
    int64_t t = 0;
    for (size_t off = 0; off < size;) {
        const uint8_t *z = memchr(data + off, 0, size - off);
        size_t n = z ? (size_t)(z - data - off) : size - off;
        struct sip_msg m;
        (void)sip_looks_like(data + off, n); /* the any-port pre-check stays within n */
        if (sip_parse(data + off, n, false, &m) == 0) {
            struct sip_call *c = dialogs_on_sip(d, &m, &p, t += 1000);
            int side;
            if (c && c->callee_media.valid)
                dialogs_match_media(d, &c->callee_media.addr, c->callee_media.port, &side);
        }
        off += n + 1;
    }
    dialogs_end_all(d);
    struct sip_call *out[64];
    size_t k = dialogs_take_ended(d, t, 1000, 0, out, 64);
    for (size_t i = 0; i < k; i++)
        free(out[i]);
    dialogs_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sip_msg m;
    struct sdp s;
    dialogs_run(data, size);
    for (int stream = 0; stream < 2; stream++) {
        if (sip_parse(data, size, stream, &m) == 0) {
            const struct es_str *all[] = {&m.method,     &m.call_id,    &m.from_tag,   &m.to_tag,
                                          &m.from_user,  &m.to_user,    &m.via_branch, &m.body,
                                          &m.user_agent, &m.cseq_method};
            for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
                inside(all[i], data, size);
            if (m.msg_len > size)
                abort();
            sdp_parse((const uint8_t *)m.body.p, m.body.len, &s);
        }
    }
    sdp_parse(data, size, &s);
    return 0;
}
