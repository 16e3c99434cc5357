// shard.c — the flow hash of one frame, for callers that spread flows over several dissectors.
//
// Both directions of a TCP connection give the same value (a symmetric mix of both endpoints), so
// a caller that routes each frame by it (cli/threads.c) keeps every connection on one dissector.
// Every worker of `analyze --threads N` hashes every frame of the input, so the common frame
// (Ethernet, IPv4, TCP, not a fragment) takes a short path; anything else goes through the full
// decoder. Both build the same key, so a connection lands on the same shard either way.
#include <string.h>

#include "cursor.h"
#include "dissect.h"
#include "internal.h"

enum { LINKTYPE_ETHERNET = 1, ETHERTYPE_IPV4 = 0x0800, IPPROTO_TCP_ = 6 };

// fast_ipv4_tcp fills p's family, addresses and ports from an Ethernet/IPv4/TCP frame; false
// for any other frame (left to net_decode).
static bool fast_ipv4_tcp(const dissect_frame *f, net_pkt *p) {
    if (f->linktype != LINKTYPE_ETHERNET) {
        return false;
    }
    cur c = cur_make(f->data, f->caplen);
    uint16_t ethertype, frag, sport, dport;
    uint8_t vihl, proto;
    if (!cur_skip(&c, 12) || !cur_get_u16(&c, &ethertype) || ethertype != ETHERTYPE_IPV4 ||
        !cur_get_u8(&c, &vihl) || (vihl >> 4) != 4 || (vihl & 15) < 5) {
        return false;
    }
    cur ip = c;  // after the version/IHL byte
    size_t ihl = (size_t)(vihl & 15) * 4;
    // TOS(1) Total Length(2) Identification(2) | Flags+Offset(2) | TTL(1) | Protocol(1) |
    // Checksum(2) | Source(4) Destination(4)
    if (!cur_skip(&ip, 5) || !cur_get_u16(&ip, &frag) || (frag & 0x3fff) != 0 ||
        !cur_skip(&ip, 1) || !cur_get_u8(&ip, &proto) || proto != IPPROTO_TCP_ ||
        !cur_skip(&ip, 2) || !cur_copy(&ip, p->src, 4) || !cur_copy(&ip, p->dst, 4)) {
        return false;
    }
    cur tcp = c;
    if (!cur_skip(&tcp, ihl - 1) || !cur_get_u16(&tcp, &sport) || !cur_get_u16(&tcp, &dport)) {
        return false;
    }
    memset(p->src + 4, 0, 12);
    memset(p->dst + 4, 0, 12);
    p->family = 4;
    p->sport = sport;
    p->dport = dport;
    return true;
}

// shard_hash: a direction-independent mix of the addresses and ports. Not the flow table's hash
// (that one needs the 38-byte canonical key): only the same for both directions and for both
// decoding paths. Sums and xors of the two endpoints are symmetric.
static uint32_t shard_hash(const net_pkt *p) {
    uint64_t a[2], b[2];
    memcpy(a, p->src, 16);
    memcpy(b, p->dst, 16);
    uint64_t x = (a[0] ^ a[1]) * 0x9e3779b97f4a7c15ull + p->sport;
    uint64_t y = (b[0] ^ b[1]) * 0x9e3779b97f4a7c15ull + p->dport;
    uint64_t h = ((x + y) ^ ((x ^ y) * 0xff51afd7ed558ccdull)) + p->family;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)(h >> 16);
}

bool dissect_frame_flow_hash(const dissect_frame *f, uint32_t *out) {
    net_pkt p;
    if (!fast_ipv4_tcp(f, &p)) {
        net_status st = net_decode(f->linktype, f->data, f->caplen, f->len, &p);
        if (st != NET_OK && st != NET_ICMP_QUOTE) {
            return false;
        }
    }
    *out = shard_hash(&p);
    return true;
}
