// shard.c — the flow hash of one frame, for callers that spread flows over several dissectors.
//
// Both directions of a TCP connection give the same value (the canonical 5-tuple is hashed), so
// a caller that routes each frame by it (cli/threads.c) keeps every connection on one dissector.
#include "dissect.h"
#include "flow.h"

bool dissect_frame_flow_hash(const dissect_frame *f, uint32_t *out) {
    net_pkt p;
    net_status st = net_decode(f->linktype, f->data, f->caplen, f->len, &p);
    if (st != NET_OK && st != NET_ICMP_QUOTE) {
        return false;
    }
    flow_key k;
    int side;
    flow_key_make(&k, &p, &side);
    uint32_t h = flow_hash(&k);
    // The low bits pick the flow table's bucket; give shards the mixed high bits.
    *out = (h >> 16) | (h << 16);
    return true;
}
