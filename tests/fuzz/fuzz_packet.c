/* Captured packets from the wire: link, tunnels (PPPoE, MPLS, IP in IP, GRE,
 * ERSPAN, VXLAN), IP, UDP/TCP headers and RTP with its
 * statistics. The first byte picks the link type. */
#include "recorder/recorder.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int links[] = {LINK_ETHERNET, LINK_SLL,  LINK_SLL2, LINK_NULL, LINK_RAW,
                                LINK_IPV4,     LINK_IPV6, LINK_LOOP, LINK_PPP};
    static struct rtp_stats st;
    if (size < 1)
        return 0;
    struct pkt p;
    struct rtp_hdr h;
    int link = links[data[0] % (sizeof links / sizeof links[0])];
    if (pkt_decode(link, data + 1, size - 1, &p) == 0) {
        /* slices must stay inside the input */
        if (p.payload && (p.payload < data + 1 || p.payload + p.payload_len > data + size))
            abort();
        if (rtp_parse(p.payload, p.payload_len, &h) == 0) {
            if (h.payload + h.payload_len > p.payload + p.payload_len)
                abort();
            if (!st.started)
                rtp_stats_init(&st, rtp_static_clock(h.pt));
            rtp_stats_add(&st, &h, rtp_static_clock(h.pt), (double)(h.seq * 20));
        }
    }
    return 0;
}
