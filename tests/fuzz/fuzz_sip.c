/* SIP messages over UDP and TCP, and the SDP bodies they carry. */
#include "recorder/recorder.h"

#include <stdlib.h>

static void inside(const struct es_str *s, const uint8_t *p, size_t len)
{
    if (s->p && ((const uint8_t *)s->p < p || (const uint8_t *)s->p + s->len > p + len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sip_msg m;
    struct sdp s;
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
