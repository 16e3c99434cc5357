// segment.c — dissect_decode_segment: one frame's TCP segment for callers that rebuild packets.
#include <string.h>

#include "internal.h"

bool dissect_decode_segment(const dissect_frame *f, dissect_segment *out) {
    if (f == NULL || f->data == NULL || out == NULL) {
        return false;
    }
    net_pkt p;
    if (net_decode(f->linktype, f->data, f->caplen, f->len, &p) != NET_OK) {
        return false;
    }
    dissect_segment s;
    memset(&s, 0, sizeof s);
    s.family = p.family;
    memcpy(s.src, p.src, sizeof s.src);
    memcpy(s.dst, p.dst, sizeof s.dst);
    s.sport = p.sport;
    s.dport = p.dport;
    s.seq = p.seq;
    s.ack = p.ack;
    s.flags = p.flags;
    s.window = p.window;
    // The payload pointer is borrowed from f->data (net_decode never copies), so the offset
    // is within [0, caplen].
    s.payload_off = p.payload_len > 0 ? (uint32_t)(p.payload - f->data) : 0;
    s.payload_len = p.payload_len;
    s.wire_payload_len = p.wire_payload_len;
    *out = s;
    return true;
}
