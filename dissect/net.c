// net.c — frame bytes → net_pkt: link layer, VLAN/PPPoE, tunnels, IPv4/IPv6, TCP header.
//
// Every byte is read through a cursor. "The capture was cut short" (NET_TRUNCATED: a header
// runs past the captured bytes) is kept apart from "the packet is invalid" (NET_MALFORMED: the
// header's own lengths contradict each other), as tcpdump does with caplen vs len.
#include <string.h>

#include "internal.h"

// Encapsulation limits: DISSECT_MAX_* in dissect.h (a frame beyond them is counted by reason).
enum { GTP_MAX_EXT = 8 };  // GTP-U extension headers followed before calling the packet malformed

// pcap LINKTYPE_* values (https://www.tcpdump.org/linktypes.html).
enum {
    LT_NULL = 0,
    LT_EN10MB = 1,
    LT_RAW_OLD1 = 12,  // DLT_RAW on some BSDs in old files
    LT_RAW_OLD2 = 14,
    LT_RAW = 101,
    LT_LOOP = 108,
    LT_LINUX_SLL = 113,
    LT_IPV4 = 228,
    LT_IPV6 = 229,
    LT_LINUX_SLL2 = 276,
};

enum {
    ETH_IPV4 = 0x0800,
    ETH_IPV6 = 0x86DD,
    ETH_VLAN = 0x8100,
    ETH_QINQ = 0x88A8,
    ETH_QINQ_OLD = 0x9100,
    ETH_PPPOE_SESSION = 0x8864,
    ETH_MPLS = 0x8847,
    ETH_MPLS_MULTICAST = 0x8848,
    ETH_TEB = 0x6558,  // transparent Ethernet bridging (GRE payload)
    PPP_IPV4 = 0x0021,
    PPP_IPV6 = 0x0057,
};

enum {
    IPP_HOPOPTS = 0,
    IPP_ICMP = 1,
    IPP_ICMPV6 = 58,
    IPP_IPIP = 4,
    IPP_TCP = 6,
    IPP_UDP = 17,
    IPP_IPV6 = 41,
    IPP_ROUTING = 43,
    IPP_FRAGMENT = 44,
    IPP_GRE = 47,
    IPP_ESP = 50,
    IPP_AH = 51,
    IPP_NONE = 59,
    IPP_DSTOPTS = 60,
    VXLAN_PORT = 4789,
    GTPU_PORT = 2152,
    GTP_GPDU = 0xff,
};

// Decoding state for one frame. `depth` counts the tunnels followed (DISSECT_MAX_TUNNELS).
typedef struct net_ctx {
    net_pkt pkt;
    unsigned depth;
    bool in_icmp;              // inside the datagram an ICMP error quotes
    uint32_t caplen, wirelen;  // of the whole frame
} net_ctx;

// Bytes the frame had on the wire from the cursor's position on. An IP length beyond this is
// not snaplen truncation but a header that lies (fuzzed or corrupt): it is clamped, so the
// missing bytes are never reported as lost by the capture.
static uint32_t net_wire_left(const net_ctx *x, const cur *c) {
    size_t off = x->caplen - cur_len(c);
    return x->wirelen > off ? (uint32_t)(x->wirelen - off) : 0;
}

static net_status net_ether(net_ctx *x, cur c);
static net_status net_ethertype(net_ctx *x, uint16_t type, cur c);
static net_status net_ip_any(net_ctx *x, cur c);
static net_status net_ipproto(net_ctx *x, uint8_t proto, cur c, uint32_t wire_len);

static bool net_deeper(net_ctx *x) {
    x->depth++;
    return x->depth <= DISSECT_MAX_TUNNELS;
}

// RFC 9293 §3.1:
//   Source Port(16) Destination Port(16) Sequence Number(32) Acknowledgment Number(32)
//   Data Offset(4) Reserved(4) Flags(8) Window(16) Checksum(16) Urgent Pointer(16) Options
// `wire_len` is the segment length according to the IP header; `c` holds what was captured
// of it (never more).
static net_status net_tcp(net_ctx *x, cur c, uint32_t wire_len) {
    uint8_t off_byte, flags;
    uint16_t csum, urg;
    net_pkt *p = &x->pkt;
    if (x->in_icmp) {
        // RFC 792 quotes only the first 64 bits: the ports and the sequence number.
        if (!cur_get_u16(&c, &p->sport) || !cur_get_u16(&c, &p->dport) ||
            !cur_get_u32(&c, &p->seq)) {
            return NET_TRUNCATED;
        }
        return NET_ICMP_QUOTE;
    }
    if (!cur_get_u16(&c, &p->sport) || !cur_get_u16(&c, &p->dport) || !cur_get_u32(&c, &p->seq) ||
        !cur_get_u32(&c, &p->ack) || !cur_get_u8(&c, &off_byte) || !cur_get_u8(&c, &flags) ||
        !cur_get_u16(&c, &p->window) || !cur_get_u16(&c, &csum) || !cur_get_u16(&c, &urg)) {
        return wire_len < 20 ? NET_MALFORMED : NET_TRUNCATED;
    }
    uint32_t hlen = (uint32_t)(off_byte >> 4) * 4u;
    if (hlen < 20 || hlen > wire_len) {
        return NET_MALFORMED;
    }
    if (!cur_skip(&c, hlen - 20)) {  // options
        return NET_TRUNCATED;
    }
    p->flags = flags;
    p->wire_payload_len = wire_len - hlen;
    size_t have = cur_len(&c);
    p->payload_len = have < p->wire_payload_len ? (uint32_t)have : p->wire_payload_len;
    p->payload = p->payload_len ? cur_data(&c) : NULL;
    p->truncated = p->payload_len < p->wire_payload_len;
    return NET_OK;
}

// 3GPP TS 29.281 §5.1 GTP-U: Version(3) PT(1) (*)(1) E(1) S(1) PN(1) Message Type(8)
// Length(16) TEID(32) [Sequence(16) N-PDU(8) Next Extension Type(8)] then extension headers
// (Length(8) in 4-octet units ... Next Extension Type(8)). Only G-PDUs carry user IP packets.
static net_status net_gtpu(net_ctx *x, cur c) {
    uint8_t flags, type, next = 0;
    uint16_t len;
    uint32_t teid;
    if (!cur_get_u8(&c, &flags) || !cur_get_u8(&c, &type) || !cur_get_u16(&c, &len) ||
        !cur_get_u32(&c, &teid)) {
        return NET_TRUNCATED;
    }
    if ((flags >> 5) != 1 || type != GTP_GPDU) {
        return NET_NOT_TCP;
    }
    if (flags & 0x07) {
        if (!cur_skip(&c, 3) || !cur_get_u8(&c, &next)) {
            return NET_TRUNCATED;
        }
    }
    for (unsigned i = 0; next != 0; i++) {
        uint8_t units;
        if (i >= GTP_MAX_EXT) {
            return NET_MALFORMED;
        }
        if (!cur_get_u8(&c, &units)) {
            return NET_TRUNCATED;
        }
        if (units == 0) {
            return NET_MALFORMED;
        }
        if (!cur_skip(&c, (size_t)units * 4 - 2) || !cur_get_u8(&c, &next)) {
            return NET_TRUNCATED;
        }
    }
    if (!net_deeper(x)) {
        return NET_DEEP_TUNNEL;
    }
    return net_ip_any(x, c);
}

// RFC 768: Source Port(16) Destination Port(16) Length(16) Checksum(16). Followed: VXLAN
// (RFC 7348 §5: Flags(8) Reserved(24) VNI(24) Reserved(8), then an Ethernet frame) and GTP-U
// (mobile core captures); any other UDP is not ours.
static net_status net_udp(net_ctx *x, cur c) {
    uint16_t sport, dport, len, csum;
    if (!cur_get_u16(&c, &sport) || !cur_get_u16(&c, &dport) || !cur_get_u16(&c, &len) ||
        !cur_get_u16(&c, &csum)) {
        return NET_TRUNCATED;
    }
    if (dport == GTPU_PORT || sport == GTPU_PORT) {
        return net_gtpu(x, c);
    }
    if (dport != VXLAN_PORT) {
        return NET_NOT_TCP;
    }
    if (!cur_skip(&c, 8)) {
        return NET_TRUNCATED;
    }
    if (!net_deeper(x)) {
        return NET_DEEP_TUNNEL;
    }
    return net_ether(x, c);
}

// RFC 2784 §2.1 / RFC 2890 §2:
//   C(1) R(1) K(1) S(1) Reserved0(9) Ver(3) Protocol Type(16)
//   [Checksum(16) Reserved1(16)] [Key(32)] [Sequence Number(32)]
static net_status net_gre(net_ctx *x, cur c) {
    uint16_t fl, proto;
    if (!cur_get_u16(&c, &fl) || !cur_get_u16(&c, &proto)) {
        return NET_TRUNCATED;
    }
    // Version 1 is PPTP's enhanced GRE (PPP inside), routing (R) is deprecated: not followed.
    if ((fl & 0x0007) != 0 || (fl & 0x4000) != 0) {
        return NET_NOT_TCP;
    }
    size_t opt = ((fl & 0x8000) ? 4u : 0u) + ((fl & 0x2000) ? 4u : 0u) + ((fl & 0x1000) ? 4u : 0u);
    if (!cur_skip(&c, opt)) {
        return NET_TRUNCATED;
    }
    if (!net_deeper(x)) {
        return NET_DEEP_TUNNEL;
    }
    if (proto == ETH_TEB) {
        return net_ether(x, c);
    }
    if (proto == ETH_IPV4 || proto == ETH_IPV6) {
        return net_ethertype(x, proto, c);
    }
    return NET_NOT_TCP;
}

// RFC 791 §3.1:
//   Version(4) IHL(4) TOS(8) Total Length(16) Identification(16) Flags(3) Fragment Offset(13)
//   TTL(8) Protocol(8) Header Checksum(16) Source(32) Destination(32) Options
static net_status net_ipv4(net_ctx *x, cur c) {
    uint8_t vihl, tos, ttl, proto;
    uint16_t total, id, frag, csum;
    uint8_t src[4], dst[4];
    size_t captured = cur_len(&c);
    if (!cur_get_u8(&c, &vihl) || !cur_get_u8(&c, &tos) || !cur_get_u16(&c, &total) ||
        !cur_get_u16(&c, &id) || !cur_get_u16(&c, &frag) || !cur_get_u8(&c, &ttl) ||
        !cur_get_u8(&c, &proto) || !cur_get_u16(&c, &csum) || !cur_copy(&c, src, 4) ||
        !cur_copy(&c, dst, 4)) {
        return NET_TRUNCATED;
    }
    uint32_t hlen = (uint32_t)(vihl & 0x0f) * 4u;
    if ((vihl >> 4) != 4 || hlen < 20) {
        return NET_MALFORMED;
    }
    // Linux captures of TSO/GSO output carry Total Length 0: trust the captured length then.
    uint32_t wire_total = total ? total : (uint32_t)(captured > UINT16_MAX ? UINT16_MAX : captured);
    uint32_t on_wire = net_wire_left(x, &c) + 20;
    if (wire_total > on_wire && wire_total >= hlen && on_wire >= hlen) {
        wire_total = on_wire;
    }
    if (wire_total < hlen) {
        return NET_MALFORMED;
    }
    if (!cur_skip(&c, hlen - 20)) {  // options (RFC 791 §3.1: IHL counts them)
        return NET_TRUNCATED;
    }
    // MF set or a non-zero offset: a fragment; not reassembled (RFC 791 §3.2).
    if ((frag & 0x2000) != 0 || (frag & 0x1fff) != 0) {
        return NET_FRAGMENT;
    }
    x->pkt.family = 4;
    memset(x->pkt.src, 0, sizeof x->pkt.src);
    memset(x->pkt.dst, 0, sizeof x->pkt.dst);
    memcpy(x->pkt.src, src, 4);
    memcpy(x->pkt.dst, dst, 4);
    uint32_t wire_payload = wire_total - hlen;
    // Ethernet padding beyond Total Length is not payload; a shorter capture is truncation.
    cur body = c;
    if (cur_len(&c) > wire_payload) {
        body = cur_make(cur_data(&c), wire_payload);
    }
    return net_ipproto(x, proto, body, wire_payload);
}

// RFC 8200 §3: Version(4) Traffic Class(8) Flow Label(20) Payload Length(16) Next Header(8)
// Hop Limit(8) Source(128) Destination(128), then the extension-header chain (§4).
static net_status net_ipv6(net_ctx *x, cur c) {
    uint32_t vtf;
    uint16_t plen;
    uint8_t next, hop;
    uint8_t src[16], dst[16];
    size_t captured;
    if (!cur_get_u32(&c, &vtf) || !cur_get_u16(&c, &plen) || !cur_get_u8(&c, &next) ||
        !cur_get_u8(&c, &hop) || !cur_copy(&c, src, 16) || !cur_copy(&c, dst, 16)) {
        return NET_TRUNCATED;
    }
    if ((vtf >> 28) != 6) {
        return NET_MALFORMED;
    }
    captured = cur_len(&c);
    // Payload Length 0 is a jumbogram or TSO output: use what was captured.
    uint32_t wire = plen ? plen : (uint32_t)(captured > UINT32_MAX ? UINT32_MAX : captured);
    if (wire > net_wire_left(x, &c)) {
        wire = net_wire_left(x, &c);
    }
    if (cur_len(&c) > wire) {
        c = cur_make(cur_data(&c), wire);
    }
    memcpy(x->pkt.src, src, 16);
    memcpy(x->pkt.dst, dst, 16);
    x->pkt.family = 6;
    for (unsigned i = 0; i < DISSECT_MAX_IPV6_EXT + 1; i++) {  // the headers, then the payload
        uint8_t nh, len8;
        size_t hdr;
        switch (next) {
            case IPP_HOPOPTS:
            case IPP_ROUTING:
            case IPP_DSTOPTS:
                // §4.3-4.6: Next Header(8) Hdr Ext Len(8) in 8-octet units, not counting the
                // first 8.
                if (!cur_peek_u8(&c, 0, &nh) || !cur_peek_u8(&c, 1, &len8)) {
                    return NET_TRUNCATED;
                }
                hdr = ((size_t)len8 + 1) * 8;
                break;
            case IPP_AH:
                // RFC 4302 §2.2: Payload Len is in 4-octet units, minus 2.
                if (!cur_peek_u8(&c, 0, &nh) || !cur_peek_u8(&c, 1, &len8)) {
                    return NET_TRUNCATED;
                }
                hdr = ((size_t)len8 + 2) * 4;
                break;
            case IPP_FRAGMENT: {
                // §4.5: Next Header(8) Reserved(8) Fragment Offset(13) Res(2) M(1)
                // Identification(32)
                uint64_t offm;
                if (!cur_peek_u8(&c, 0, &nh) || !cur_peek_be(&c, 2, 2, &offm) || cur_len(&c) < 8) {
                    return wire < 8 ? NET_MALFORMED : NET_TRUNCATED;
                }
                if ((offm & 0xfff9) != 0) {  // offset or M set: a real fragment (atomic ones pass)
                    return NET_FRAGMENT;
                }
                hdr = 8;
                break;
            }
            case IPP_ESP:
            case IPP_NONE:
                return NET_NOT_TCP;
            default:
                return net_ipproto(x, next, c, wire);
        }
        if (hdr > wire) {
            return NET_MALFORMED;
        }
        if (!cur_skip(&c, hdr)) {
            return NET_TRUNCATED;
        }
        wire -= (uint32_t)hdr;
        next = nh;
    }
    return NET_DEEP_IPV6_EXT;  // more extension headers than any sane packet carries
}

// RFC 792 (Destination Unreachable 3, Time Exceeded 11, Parameter Problem 12) and RFC 4443 §3
// (ICMPv6 types 1-4): Type(8) Code(8) Checksum(16) Unused/MTU/Pointer(32), then as much of the
// offending datagram as fits. Wireshark gives the quoted TCP segment a tcp.stream number, so
// its 5-tuple is reported (NET_ICMP_QUOTE) for conn_id parity; its bytes are never data.
static net_status net_icmp(net_ctx *x, cur c, bool v6) {
    uint8_t type, code;
    if (!cur_get_u8(&c, &type) || !cur_get_u8(&c, &code) || !cur_skip(&c, 6)) {
        return NET_TRUNCATED;
    }
    bool error = v6 ? (type >= 1 && type <= 4) : (type == 3 || type == 11 || type == 12);
    if (!error || x->in_icmp) {
        return NET_NOT_TCP;  // echo & co., and never an error about an error
    }
    if (!net_deeper(x)) {
        return NET_DEEP_TUNNEL;
    }
    x->in_icmp = true;
    return net_ip_any(x, c);
}

// Dispatch on the IP protocol number: TCP is the goal, IP-in-IP / GRE / VXLAN are followed.
static net_status net_ipproto(net_ctx *x, uint8_t proto, cur c, uint32_t wire_len) {
    switch (proto) {
        case IPP_TCP:
            return net_tcp(x, c, wire_len);
        case IPP_IPIP:  // RFC 2003
        case IPP_IPV6:  // RFC 4213 §3.5 (6in4); also 4in6 via IPP_IPIP
            if (!net_deeper(x)) {
                return NET_DEEP_TUNNEL;
            }
            return proto == IPP_IPIP ? net_ipv4(x, c) : net_ipv6(x, c);
        case IPP_GRE:
            return net_gre(x, c);
        case IPP_ICMP:
        case IPP_ICMPV6:
            return net_icmp(x, c, proto == IPP_ICMPV6);
        case IPP_UDP:
            return net_udp(x, c);
        default:
            return NET_NOT_TCP;
    }
}

// An IP packet whose version is given by its first nibble (raw IP link types).
static net_status net_ip_any(net_ctx *x, cur c) {
    uint8_t v;
    if (!cur_peek_u8(&c, 0, &v)) {
        return NET_TRUNCATED;
    }
    switch (v >> 4) {
        case 4:
            return net_ipv4(x, c);
        case 6:
            return net_ipv6(x, c);
        default:
            return NET_NOT_IP;
    }
}

// RFC 2516 §4: VER(4) TYPE(4) CODE(8) SESSION_ID(16) LENGTH(16), then a PPP protocol (16).
static net_status net_pppoe(net_ctx *x, cur c) {
    uint8_t vt, code;
    uint16_t sid, len, ppp;
    if (!cur_get_u8(&c, &vt) || !cur_get_u8(&c, &code) || !cur_get_u16(&c, &sid) ||
        !cur_get_u16(&c, &len) || !cur_get_u16(&c, &ppp)) {
        return NET_TRUNCATED;
    }
    if (ppp == PPP_IPV4) {
        return net_ipv4(x, c);
    }
    if (ppp == PPP_IPV6) {
        return net_ipv6(x, c);
    }
    return NET_NOT_IP;
}

// RFC 3032 §2.1: a label stack of Label(20) TC(3) S(1) TTL(8) entries; S marks the last. What
// follows has no type field: an IP version nibble, or 0000 for a pseudowire control word and an
// Ethernet frame (RFC 4448 §3, RFC 4385), as Wireshark's heuristic decides.
static net_status net_mpls(net_ctx *x, cur c) {
    for (unsigned labels = 0;; labels++) {
        uint32_t entry;
        if (labels >= DISSECT_MAX_MPLS_LABELS) {
            return NET_DEEP_MPLS;
        }
        if (!cur_get_u32(&c, &entry)) {
            return NET_TRUNCATED;
        }
        if (entry & 0x100) {
            break;
        }
    }
    uint8_t first;
    if (!cur_peek_u8(&c, 0, &first)) {
        return NET_TRUNCATED;
    }
    if ((first >> 4) == 0) {
        if (!cur_skip(&c, 4)) {
            return NET_TRUNCATED;
        }
        if (!net_deeper(x)) {
            return NET_DEEP_TUNNEL;
        }
        return net_ether(x, c);
    }
    return net_ip_any(x, c);
}

// An EtherType and what follows it; 802.1Q/802.1ad tags (TCI(16) then the next EtherType) are
// peeled here so SLL and GRE payloads get them too.
static net_status net_ethertype(net_ctx *x, uint16_t type, cur c) {
    for (unsigned tags = 0; type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD; tags++) {
        uint16_t tci;
        if (tags >= DISSECT_MAX_VLAN_TAGS) {
            return NET_DEEP_VLAN;
        }
        if (!cur_get_u16(&c, &tci) || !cur_get_u16(&c, &type)) {
            return NET_TRUNCATED;
        }
    }
    switch (type) {
        case ETH_IPV4:
            return net_ipv4(x, c);
        case ETH_IPV6:
            return net_ipv6(x, c);
        case ETH_PPPOE_SESSION:
            return net_pppoe(x, c);
        case ETH_MPLS:
        case ETH_MPLS_MULTICAST:
            return net_mpls(x, c);
        default:
            return NET_NOT_IP;
    }
}

// IEEE 802.3: Destination(48) Source(48) EtherType/Length(16).
static net_status net_ether(net_ctx *x, cur c) {
    uint16_t type;
    if (!cur_skip(&c, 12) || !cur_get_u16(&c, &type)) {
        return NET_TRUNCATED;
    }
    return net_ethertype(x, type, c);  // a length (< 0x600, 802.3/LLC) falls to NOT_IP
}

// Linux cooked v1: packet type(16) ARPHRD(16) addr len(16) addr(64) protocol(16).
static net_status net_sll(net_ctx *x, cur c) {
    uint16_t proto;
    if (!cur_skip(&c, 14) || !cur_get_u16(&c, &proto)) {
        return NET_TRUNCATED;
    }
    return net_ethertype(x, proto, c);
}

// Linux cooked v2: protocol(16) reserved(16) ifindex(32) ARPHRD(16) packet type(8)
// addr len(8) addr(64).
static net_status net_sll2(net_ctx *x, cur c) {
    uint16_t proto;
    if (!cur_get_u16(&c, &proto) || !cur_skip(&c, 18)) {
        return NET_TRUNCATED;
    }
    return net_ethertype(x, proto, c);
}

// BSD loopback: a 4-byte address family, host byte order for NULL, network order for LOOP —
// but files travel between hosts, so both orders are accepted for both.
static net_status net_null(net_ctx *x, cur c) {
    uint32_t af;
    if (!cur_get_u32(&c, &af)) {
        return NET_TRUNCATED;
    }
    if (af > 0xffff) {
        af = ((af & 0xff) << 24) | ((af & 0xff00) << 8) | ((af >> 8) & 0xff00) | (af >> 24);
    }
    switch (af) {
        case 2:
            return net_ipv4(x, c);
        case 24:  // NetBSD/OpenBSD AF_INET6
        case 28:  // FreeBSD
        case 30:  // macOS
            return net_ipv6(x, c);
        default:
            return NET_NOT_IP;
    }
}

// net_wrong_link: a raw-IP or loopback frame with no IP there (NOT_IP: no IP version nibble or
// address family), or one that does not decode as TCP/IP but does as an Ethernet frame carrying
// TCP: the capture was saved under the wrong link type. Said apart, because otherwise every
// frame of such a file vanishes.
static net_status net_wrong_link(net_status st, cur c) {
    if (st == NET_NOT_IP) {
        return NET_WRONG_LINK;
    }
    if (st == NET_OK || st == NET_ICMP_QUOTE || st == NET_TRUNCATED) {
        return st;
    }
    net_ctx y;
    memset(&y, 0, sizeof y);
    y.caplen = y.wirelen = (uint32_t)cur_len(&c);
    return net_ether(&y, c) == NET_OK ? NET_WRONG_LINK : st;
}

net_status net_decode_general(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                              net_pkt *out) {
    net_ctx x;
    memset(&x, 0, sizeof x);
    cur c = cur_make(data, data ? caplen : 0);
    x.caplen = (uint32_t)cur_len(&c);
    x.wirelen = wirelen > x.caplen ? wirelen : x.caplen;
    net_status st;
    switch (linktype) {
        case LT_EN10MB:
            st = net_ether(&x, c);
            break;
        case LT_LINUX_SLL:
            st = net_sll(&x, c);
            break;
        case LT_LINUX_SLL2:
            st = net_sll2(&x, c);
            break;
        case LT_NULL:
        case LT_LOOP:
            st = net_wrong_link(net_null(&x, c), c);
            break;
        case LT_RAW:
        case LT_RAW_OLD1:
        case LT_RAW_OLD2:
            st = net_wrong_link(net_ip_any(&x, c), c);
            break;
        case LT_IPV4:
            st = net_ipv4(&x, c);
            break;
        case LT_IPV6:
            st = net_ipv6(&x, c);
            break;
        default:
            return NET_UNSUPPORTED_LINK;
    }
    if (st == NET_OK || st == NET_ICMP_QUOTE) {
        *out = x.pkt;
    }
    return st;
}
