// shard.c — the flow hash of one frame, for callers that spread flows over several dissectors:
// the frames dissect_frame_flow_hash's inline path (dissect.h: Ethernet, IPv4 without options,
// TCP, not a fragment) declines.
//
// Both directions of a TCP connection give the same value (a symmetric mix of both endpoints,
// dissect_hash_pair), so a caller that routes each frame by it (pipeline/workq.c,
// pipeline/selfread.c) keeps every connection on one dissector. IPv4 with options takes a second
// short path; anything else goes through the full decoder. All build the same key, so a
// connection lands on the same shard whichever path its frames take.
#include <string.h>

#include "cursor.h"
#include "dissect.h"
#include "internal.h"

enum { LINKTYPE_ETHERNET = 1, ETHERTYPE_IPV4 = 0x0800, IPPROTO_TCP_ = 6 };

// endpoint_word: address and port in one word; IPv4 as (address << 16 | port), IPv6 folded.
static uint64_t endpoint_word(uint8_t family, const uint8_t addr[16], uint16_t port) {
    if (family == 4) {
        uint32_t a =
            (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 | (uint32_t)addr[2] << 8 | addr[3];
        return (uint64_t)a << 16 | port;
    }
    uint64_t w[2];
    memcpy(w, addr, 16);
    return (w[0] ^ w[1]) * 0x9e3779b97f4a7c15ull + port;
}

// fast_ipv4_tcp: the hash of an Ethernet/IPv4/TCP frame that is not a fragment; false for any
// other frame (left to net_decode). The same value as shard_hash of net_decode's result.
static bool fast_ipv4_tcp(const dissect_frame *f, uint32_t *out) {
    if (f->linktype != LINKTYPE_ETHERNET) {
        return false;
    }
    // Ethernet: dst(6) src(6) type(2) | IPv4 at 14: Version+IHL(1) TOS(1) Total Length(2)
    // Identification(2) Flags+Offset(2) TTL(1) Protocol(1) Checksum(2) Source(4) Destination(4)
    // | TCP at 14 + IHL: source port(2) destination port(2)
    cur c = cur_make(f->data, f->caplen);
    uint16_t ethertype, frag, sport, dport;
    uint8_t vihl, proto;
    uint32_t src, dst;
    if (!cur_peek_u16(&c, 12, &ethertype) || ethertype != ETHERTYPE_IPV4 ||
        !cur_peek_u8(&c, 14, &vihl) || (vihl >> 4) != 4 || (vihl & 15) < 5 ||
        !cur_peek_u16(&c, 20, &frag) || (frag & 0x3fff) != 0 || !cur_peek_u8(&c, 23, &proto) ||
        proto != IPPROTO_TCP_ || !cur_peek_u32(&c, 26, &src) || !cur_peek_u32(&c, 30, &dst)) {
        return false;
    }
    size_t tcp = 14 + (size_t)(vihl & 15) * 4;
    if (!cur_peek_u16(&c, tcp, &sport) || !cur_peek_u16(&c, tcp + 2, &dport)) {
        return false;
    }
    *out = dissect_hash_pair((uint64_t)src << 16 | sport, (uint64_t)dst << 16 | dport, 4);
    return true;
}

bool dissect_frame_flow_hash_rest(const dissect_frame *f, uint32_t *out) {
    if (fast_ipv4_tcp(f, out)) {
        return true;
    }
    net_pkt p;
    net_status st = net_decode(f->linktype, f->data, f->caplen, f->len, &p);
    if (st != NET_OK && st != NET_ICMP_QUOTE) {
        return false;
    }
    // Not the flow table's hash (that one needs the 38-byte canonical key): only the same for
    // both directions and for both decoding paths.
    *out = dissect_hash_pair(endpoint_word(p.family, p.src, p.sport),
                             endpoint_word(p.family, p.dst, p.dport), p.family);
    return true;
}
