// test_net.c — net_decode(): one hand-built frame per link type and tunnel, IPv4 options, IPv6
// extension headers, truncation at every header byte, inconsistent lengths.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

typedef struct fb {
    uint8_t b[1024];
    size_t n;
} fb;

static void put(fb *f, const void *p, size_t n) {
    assert_true(f->n + n <= sizeof f->b);
    memcpy(f->b + f->n, p, n);
    f->n += n;
}
static void put8(fb *f, unsigned v) {
    uint8_t b = (uint8_t)v;
    put(f, &b, 1);
}
static void put16(fb *f, unsigned v) {
    put8(f, v >> 8);
    put8(f, v);
}
static void put32(fb *f, uint32_t v) {
    put16(f, v >> 16);
    put16(f, v & 0xffff);
}

static const uint8_t V4A[4] = {10, 0, 0, 1}, V4B[4] = {192, 0, 2, 7};
static const uint8_t V6A[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t V6B[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 2};
static const char PAYLOAD[] = "hello";
enum { PLEN = 5, TCPLEN = 20 + PLEN };

// TCP header (20 bytes + opt_words*4 of NOP options) + PAYLOAD.
static void tcp_seg(fb *f, unsigned opt_words) {
    put16(f, 51000);
    put16(f, 443);
    put32(f, 0xfffffff0u);
    put32(f, 0x01020304u);
    put8(f, (5 + opt_words) << 4);
    put8(f, TCP_ACK | TCP_PSH);
    put16(f, 65535);
    put16(f, 0);
    put16(f, 0);
    for (unsigned i = 0; i < opt_words * 4; i++) {
        put8(f, 1);
    }
    put(f, PAYLOAD, PLEN);
}

static void ipv4(fb *f, unsigned proto, unsigned inner_len, unsigned opt_words, unsigned frag) {
    put8(f, 0x45 + opt_words);
    put8(f, 0);
    put16(f, 20 + opt_words * 4 + inner_len);
    put16(f, 0x1234);
    put16(f, frag);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    put(f, V4A, 4);
    put(f, V4B, 4);
    for (unsigned i = 0; i < opt_words * 4; i++) {
        put8(f, 1);  // NOP options
    }
}

static void ipv6(fb *f, unsigned next, unsigned plen) {
    put32(f, 0x60000000u);
    put16(f, plen);
    put8(f, next);
    put8(f, 64);
    put(f, V6A, 16);
    put(f, V6B, 16);
}

static void ether(fb *f, unsigned type) {
    for (int i = 0; i < 12; i++) {
        put8(f, 0x02);
    }
    put16(f, type);
}

static net_status decode(int lt, const fb *f, net_pkt *p) {
    memset(p, 0xee, sizeof *p);
    return net_decode(lt, f->b, (uint32_t)f->n, (uint32_t)f->n, p);
}

static void assert_v4_tcp(const net_pkt *p) {
    assert_int_equal(p->family, 4);
    assert_memory_equal(p->src, V4A, 4);
    assert_memory_equal(p->dst, V4B, 4);
    assert_int_equal(p->sport, 51000);
    assert_int_equal(p->dport, 443);
    assert_int_equal(p->seq, 0xfffffff0u);
    assert_int_equal(p->ack, 0x01020304u);
    assert_int_equal(p->flags, TCP_ACK | TCP_PSH);
    assert_int_equal(p->window, 65535);
    assert_int_equal(p->payload_len, PLEN);
    assert_int_equal(p->wire_payload_len, PLEN);
    assert_false(p->truncated);
    assert_memory_equal(p->payload, PAYLOAD, PLEN);
}

static void assert_v6_tcp(const net_pkt *p) {
    assert_int_equal(p->family, 6);
    assert_memory_equal(p->src, V6A, 16);
    assert_memory_equal(p->dst, V6B, 16);
    assert_int_equal(p->sport, 51000);
    assert_int_equal(p->dport, 443);
    assert_int_equal(p->payload_len, PLEN);
    assert_memory_equal(p->payload, PAYLOAD, PLEN);
}

static void v4_tcp(fb *f) {
    ipv4(f, 6, TCPLEN, 0, 0);
    tcp_seg(f, 0);
}
static void v6_tcp(fb *f) {
    ipv6(f, 6, TCPLEN);
    tcp_seg(f, 0);
}

static void test_ethernet_ipv4(void **state) {
    (void)state;
    fb f = {0};
    net_pkt p;
    ether(&f, 0x0800);
    v4_tcp(&f);
    for (int i = 0; i < 6; i++) {
        put8(&f, 0);  // Ethernet padding beyond Total Length is not payload
    }
    assert_int_equal(decode(1, &f, &p), NET_OK);
    assert_v4_tcp(&p);
}

static void test_vlan_qinq(void **state) {
    (void)state;
    const unsigned outer[] = {0x8100, 0x88a8, 0x9100};
    for (size_t i = 0; i < 3; i++) {
        fb f = {0};
        net_pkt p;
        ether(&f, outer[i]);
        put16(&f, 100);
        put16(&f, 0x8100);  // inner tag
        put16(&f, 200);
        put16(&f, 0x86dd);
        v6_tcp(&f);
        assert_int_equal(decode(1, &f, &p), NET_OK);
        assert_v6_tcp(&p);
    }
    // Five stacked tags: beyond what tlsdiag follows.
    fb f = {0};
    net_pkt p;
    ether(&f, 0x8100);
    for (int i = 0; i < 5; i++) {
        put16(&f, 1);
        put16(&f, 0x8100);
    }
    put16(&f, 1);
    put16(&f, 0x0800);
    v4_tcp(&f);
    assert_int_equal(decode(1, &f, &p), NET_DEEP_VLAN);  // 6 tags, the limit is 4
}

static void test_pppoe(void **state) {
    (void)state;
    for (int v6 = 0; v6 < 2; v6++) {
        fb f = {0};
        net_pkt p;
        ether(&f, 0x8100);
        put16(&f, 7);
        put16(&f, 0x8864);
        put8(&f, 0x11);
        put8(&f, 0);
        put16(&f, 0x0042);
        put16(&f, 2 + (v6 ? 40 : 20) + TCPLEN);
        put16(&f, v6 ? 0x0057 : 0x0021);
        if (v6) {
            v6_tcp(&f);
        } else {
            v4_tcp(&f);
        }
        assert_int_equal(decode(1, &f, &p), NET_OK);
        if (v6) {
            assert_v6_tcp(&p);
        } else {
            assert_v4_tcp(&p);
        }
    }
    fb f = {0};
    net_pkt p;
    ether(&f, 0x8864);
    put8(&f, 0x11);
    put8(&f, 0);
    put16(&f, 1);
    put16(&f, 2);
    put16(&f, 0xc021);  // LCP
    assert_int_equal(decode(1, &f, &p), NET_NOT_IP);
}

static void test_sll_sll2(void **state) {
    (void)state;
    fb f = {0};
    net_pkt p;
    put16(&f, 0);  // packet type
    put16(&f, 1);  // ARPHRD_ETHER
    put16(&f, 6);
    for (int i = 0; i < 8; i++) {
        put8(&f, 0xaa);
    }
    put16(&f, 0x0800);
    v4_tcp(&f);
    assert_int_equal(decode(113, &f, &p), NET_OK);
    assert_v4_tcp(&p);

    fb g = {0};
    put16(&g, 0x86dd);
    put16(&g, 0);
    put32(&g, 3);
    put16(&g, 1);
    put8(&g, 4);
    put8(&g, 6);
    for (int i = 0; i < 8; i++) {
        put8(&g, 0xaa);
    }
    v6_tcp(&g);
    assert_int_equal(decode(276, &g, &p), NET_OK);
    assert_v6_tcp(&p);
}

static void test_null_loop(void **state) {
    (void)state;
    const struct {
        int lt;
        uint32_t af;
        bool v6;
    } cases[] = {
        {0, 0x02000000u, false},                          // little-endian host wrote AF_INET
        {0, 2, false},                                    // big-endian host
        {108, 2, false},         {0, 0x1e000000u, true},  // macOS AF_INET6 (30), little-endian
        {0, 24, true},           {108, 28, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fb f = {0};
        net_pkt p;
        put32(&f, cases[i].af);
        if (cases[i].v6) {
            v6_tcp(&f);
        } else {
            v4_tcp(&f);
        }
        assert_int_equal(decode(cases[i].lt, &f, &p), NET_OK);
        if (cases[i].v6) {
            assert_v6_tcp(&p);
        } else {
            assert_v4_tcp(&p);
        }
    }
    fb f = {0};
    net_pkt p;
    put32(&f, 7);  // AF 7: not IP where the link type promises it
    v4_tcp(&f);
    assert_int_equal(decode(0, &f, &p), NET_WRONG_LINK);
}

static void test_raw_links(void **state) {
    (void)state;
    const int v4_links[] = {101, 12, 14, 228};
    for (size_t i = 0; i < 4; i++) {
        fb f = {0};
        net_pkt p;
        v4_tcp(&f);
        assert_int_equal(decode(v4_links[i], &f, &p), NET_OK);
        assert_v4_tcp(&p);
    }
    const int v6_links[] = {101, 229};
    for (size_t i = 0; i < 2; i++) {
        fb f = {0};
        net_pkt p;
        v6_tcp(&f);
        assert_int_equal(decode(v6_links[i], &f, &p), NET_OK);
        assert_v6_tcp(&p);
    }
    fb f = {0};
    net_pkt p;
    v4_tcp(&f);
    assert_int_equal(decode(147, &f, &p), NET_UNSUPPORTED_LINK);  // USER0
    assert_int_equal(decode(229, &f, &p), NET_MALFORMED);         // IPv4 bytes on an IPv6 link
    f.b[0] = 0x55;
    assert_int_equal(decode(101, &f, &p), NET_WRONG_LINK);
    // An Ethernet frame under raw IP, its first MAC byte looking like IPv4: it decodes as
    // Ethernet, so the link type is wrong (not "malformed IP").
    fb e = {0};
    put8(&e, 0x45);
    for (int i = 0; i < 11; i++) {
        put8(&e, 0x02);
    }
    put16(&e, 0x0800);
    v4_tcp(&e);
    assert_int_equal(decode(101, &e, &p), NET_WRONG_LINK);
}

static void test_ipv4_options_and_lengths(void **state) {
    (void)state;
    for (unsigned words = 1; words <= 10; words++) {
        fb f = {0};
        net_pkt p;
        ipv4(&f, 6, TCPLEN, words, 0);
        tcp_seg(&f, 0);
        assert_int_equal(decode(101, &f, &p), NET_OK);
        assert_v4_tcp(&p);
    }
    // TCP options too (MSS/SACK space): payload located after them.
    fb o = {0};
    net_pkt p;
    ipv4(&o, 6, TCPLEN + 12, 0, 0);
    tcp_seg(&o, 3);
    assert_int_equal(decode(101, &o, &p), NET_OK);
    assert_v4_tcp(&p);

    // Total Length smaller than the header: malformed, not truncated.
    fb f = {0};
    v4_tcp(&f);
    f.b[2] = 0;
    f.b[3] = 19;
    assert_int_equal(decode(101, &f, &p), NET_MALFORMED);
    // IHL below 5.
    fb g = {0};
    v4_tcp(&g);
    g.b[0] = 0x44;
    assert_int_equal(decode(101, &g, &p), NET_MALFORMED);
    // Total Length larger than captured (snaplen): the payload is truncated, the packet fine.
    fb h = {0};
    ipv4(&h, 6, TCPLEN + 1000, 0, 0);
    tcp_seg(&h, 0);
    assert_int_equal(net_decode(101, h.b, (uint32_t)h.n, (uint32_t)h.n + 1000, &p), NET_OK);
    assert_int_equal(p.payload_len, PLEN);
    assert_int_equal(p.wire_payload_len, PLEN + 1000);
    assert_true(p.truncated);
    // ... but when the frame was that short on the wire too, the IP header lies: clamped,
    // not blamed on the capture.
    assert_int_equal(decode(101, &h, &p), NET_OK);
    assert_int_equal(p.payload_len, PLEN);
    assert_int_equal(p.wire_payload_len, PLEN);
    assert_false(p.truncated);
    fb h6 = {0};
    ipv6(&h6, 6, TCPLEN + 4000);
    tcp_seg(&h6, 0);
    assert_int_equal(decode(229, &h6, &p), NET_OK);
    assert_int_equal(p.wire_payload_len, PLEN);
    assert_int_equal(net_decode(229, h6.b, (uint32_t)h6.n, (uint32_t)h6.n + 4000, &p), NET_OK);
    assert_int_equal(p.wire_payload_len, PLEN + 4000);
    assert_true(p.truncated);
    // Total Length 0 (TSO capture): what was captured is the packet.
    fb t = {0};
    v4_tcp(&t);
    t.b[2] = t.b[3] = 0;
    assert_int_equal(decode(101, &t, &p), NET_OK);
    assert_v4_tcp(&p);
    // TCP data offset below 5, and beyond the segment.
    fb d = {0};
    v4_tcp(&d);
    d.b[20 + 12] = 0x40;
    assert_int_equal(decode(101, &d, &p), NET_MALFORMED);
    d.b[20 + 12] = 0xf0;
    assert_int_equal(decode(101, &d, &p), NET_MALFORMED);
}

static void test_ipv4_fragments(void **state) {
    (void)state;
    const unsigned frags[] = {0x2000, 0x0010, 0x2010};
    for (size_t i = 0; i < 3; i++) {
        fb f = {0};
        net_pkt p;
        ipv4(&f, 6, TCPLEN, 0, frags[i]);
        tcp_seg(&f, 0);
        assert_int_equal(decode(101, &f, &p), NET_FRAGMENT);
    }
    fb f = {0};
    net_pkt p;
    ipv4(&f, 6, TCPLEN, 0, 0x4000);  // DF only: a whole packet
    tcp_seg(&f, 0);
    assert_int_equal(decode(101, &f, &p), NET_OK);
}

static void ext(fb *f, unsigned next, unsigned len8) {
    put8(f, next);
    put8(f, len8);
    for (unsigned i = 0; i < (len8 + 1) * 8 - 2; i++) {
        put8(f, 0);
    }
}

static void test_ipv6_extension_headers(void **state) {
    (void)state;
    fb f = {0};
    net_pkt p;
    // hop-by-hop (8) → routing (24) → fragment, atomic (8) → AH (16) → dest-opts (8) → TCP
    ipv6(&f, 0, 8 + 24 + 8 + 16 + 8 + TCPLEN);
    ext(&f, 43, 0);
    ext(&f, 44, 2);
    put8(&f, 51);
    put8(&f, 0);
    put16(&f, 0);  // offset 0, M 0
    put32(&f, 99);
    put8(&f, 60);
    put8(&f, 2);  // AH: (2+2)*4 = 16 bytes
    for (int i = 0; i < 14; i++) {
        put8(&f, 0);
    }
    ext(&f, 6, 0);
    tcp_seg(&f, 0);
    assert_int_equal(decode(229, &f, &p), NET_OK);
    assert_v6_tcp(&p);
    assert_int_equal(p.wire_payload_len, PLEN);

    // every byte of that chain cut off: truncated
    for (size_t cut = 0; cut < f.n - PLEN; cut++) {
        assert_int_equal(net_decode(229, f.b, (uint32_t)cut, (uint32_t)f.n, &p), NET_TRUNCATED);
    }

    fb g = {0};
    ipv6(&g, 44, 8 + TCPLEN);
    put8(&g, 6);
    put8(&g, 0);
    put16(&g, 0x0001);  // M set
    put32(&g, 5);
    tcp_seg(&g, 0);
    assert_int_equal(decode(229, &g, &p), NET_FRAGMENT);

    const unsigned stop[] = {50, 59};
    for (size_t i = 0; i < 2; i++) {
        fb h = {0};
        ipv6(&h, stop[i], TCPLEN);
        tcp_seg(&h, 0);
        assert_int_equal(decode(229, &h, &p), NET_NOT_TCP);
    }
    // An extension header longer than the payload length says: malformed.
    fb m = {0};
    ipv6(&m, 0, 8);
    ext(&m, 6, 3);
    assert_int_equal(decode(229, &m, &p), NET_MALFORMED);
}

static void test_tunnels(void **state) {
    (void)state;
    net_pkt p;
    // IP-in-IP (4), 6in4 (41), 4in6 (4 in IPv6)
    fb a = {0};
    ipv4(&a, 4, 20 + TCPLEN, 0, 0);
    v4_tcp(&a);
    assert_int_equal(decode(101, &a, &p), NET_OK);
    assert_v4_tcp(&p);
    fb b = {0};
    ipv4(&b, 41, 40 + TCPLEN, 0, 0);
    v6_tcp(&b);
    assert_int_equal(decode(101, &b, &p), NET_OK);
    assert_v6_tcp(&p);
    fb c = {0};
    ipv6(&c, 4, 20 + TCPLEN);
    v4_tcp(&c);
    assert_int_equal(decode(101, &c, &p), NET_OK);
    assert_v4_tcp(&p);
    // GRE: plain, with checksum+key+sequence, and transparent Ethernet bridging
    const unsigned gre_flags[] = {0x0000, 0xb000, 0x2000};
    const unsigned gre_extra[] = {0, 12, 4};
    for (size_t i = 0; i < 3; i++) {
        fb g = {0};
        ipv4(&g, 47, 4 + gre_extra[i] + 40 + TCPLEN, 0, 0);
        put16(&g, gre_flags[i]);
        put16(&g, 0x86dd);
        for (unsigned k = 0; k < gre_extra[i]; k++) {
            put8(&g, 0xcc);
        }
        v6_tcp(&g);
        assert_int_equal(decode(101, &g, &p), NET_OK);
        assert_v6_tcp(&p);
    }
    fb t = {0};
    ipv6(&t, 47, 4 + 14 + 20 + TCPLEN);
    put16(&t, 0);
    put16(&t, 0x6558);
    ether(&t, 0x0800);
    v4_tcp(&t);
    assert_int_equal(decode(229, &t, &p), NET_OK);
    assert_v4_tcp(&p);
    fb pptp = {0};
    ipv4(&pptp, 47, 8, 0, 0);
    put16(&pptp, 0x3001);  // version 1: enhanced GRE (PPTP)
    put16(&pptp, 0x880b);
    put32(&pptp, 0);
    assert_int_equal(decode(101, &pptp, &p), NET_NOT_TCP);
    // VXLAN: UDP to 4789, 8-byte header, Ethernet
    fb v = {0};
    ether(&v, 0x0800);
    ipv4(&v, 17, 8 + 8 + 14 + 20 + TCPLEN, 0, 0);
    put16(&v, 40000);
    put16(&v, 4789);
    put16(&v, 8 + 8 + 14 + 20 + TCPLEN);
    put16(&v, 0);
    put32(&v, 0x08000000u);
    put32(&v, 0x00012300u);
    ether(&v, 0x0800);
    v4_tcp(&v);
    assert_int_equal(decode(1, &v, &p), NET_OK);
    assert_v4_tcp(&p);
    // GTP-U G-PDU with sequence number and one extension header (UDP 2152), then raw IPv4
    fb gt = {0};
    ipv4(&gt, 17, 8 + 12 + 4 + 20 + TCPLEN, 0, 0);
    put16(&gt, 2152);
    put16(&gt, 2152);
    put16(&gt, 8 + 12 + 4 + 20 + TCPLEN);
    put16(&gt, 0);
    put8(&gt, 0x36);  // version 1, PT, E and S
    put8(&gt, 0xff);  // G-PDU
    put16(&gt, 4 + 4 + 20 + TCPLEN);
    put32(&gt, 0x1234);
    put16(&gt, 1);
    put8(&gt, 0);
    put8(&gt, 0x85);  // next: PDU session container
    put8(&gt, 1);     // 4 bytes
    put16(&gt, 0);
    put8(&gt, 0);  // no more
    v4_tcp(&gt);
    assert_int_equal(decode(101, &gt, &p), NET_OK);
    assert_v4_tcp(&p);
    gt.b[20 + 9] = 0x01;  // echo request, not user data
    assert_int_equal(decode(101, &gt, &p), NET_NOT_TCP);
    // other UDP: not ours
    fb u = {0};
    ipv4(&u, 17, 8, 0, 0);
    put16(&u, 53);
    put16(&u, 53);
    put16(&u, 8);
    put16(&u, 0);
    assert_int_equal(decode(101, &u, &p), NET_NOT_TCP);
}

static void test_icmp_quotes(void **state) {
    (void)state;
    net_pkt p;
    // Destination unreachable / fragmentation needed, quoting IPv4 + the first 8 TCP bytes.
    fb f = {0};
    ipv4(&f, 1, 8 + 20 + 8, 0, 0);
    put8(&f, 3);
    put8(&f, 4);
    put16(&f, 0);
    put16(&f, 0);
    put16(&f, 1400);
    ipv4(&f, 6, 1480, 0, 0);  // the quoted header still says the original length
    put16(&f, 51000);
    put16(&f, 443);
    put32(&f, 0xfffffff0u);
    assert_int_equal(decode(101, &f, &p), NET_ICMP_QUOTE);
    assert_int_equal(p.family, 4);
    assert_memory_equal(p.src, V4A, 4);
    assert_int_equal(p.sport, 51000);
    assert_int_equal(p.dport, 443);
    assert_int_equal(p.seq, 0xfffffff0u);
    assert_int_equal(p.payload_len, 0);
    f.b[20] = 8;  // echo request: nothing quoted
    assert_int_equal(decode(101, &f, &p), NET_NOT_TCP);
    f.b[20] = 3;
    assert_int_equal(net_decode(101, f.b, (uint32_t)f.n - 1, (uint32_t)f.n, &p), NET_TRUNCATED);
    // ICMPv6 Packet Too Big quoting IPv6 + TCP
    fb g = {0};
    ipv6(&g, 58, 8 + 40 + TCPLEN);
    put8(&g, 2);
    put8(&g, 0);
    put16(&g, 0);
    put32(&g, 1280);
    v6_tcp(&g);
    assert_int_equal(decode(229, &g, &p), NET_ICMP_QUOTE);
    assert_memory_equal(p.src, V6A, 16);
    assert_int_equal(p.sport, 51000);
}

static void test_nesting_bounded(void **state) {
    (void)state;
    fb f = {0};
    net_pkt p;
    for (unsigned i = 0; i < 12; i++) {
        ipv4(&f, 4, (11 - i) * 20 + 20 + TCPLEN, 0, 0);
    }
    v4_tcp(&f);
    assert_int_equal(decode(101, &f, &p), NET_DEEP_TUNNEL);
    fb g = {0};
    for (unsigned i = 0; i < 3; i++) {
        ipv4(&g, 4, (2 - i) * 20 + 20 + TCPLEN, 0, 0);
    }
    v4_tcp(&g);
    assert_int_equal(decode(101, &g, &p), NET_OK);
    assert_v4_tcp(&p);
}

// net_decode takes a short path for Ethernet/IPv4 (no options)/TCP; a VLAN tag sends the same
// packet through the general decoder. Both must give the same status and the same net_pkt for
// every cut (snaplen), wire length, Total Length, IHL, fragment field, protocol and TCP data
// offset — the short path is only a speed change.
static void cmp_paths(const fb *plain, uint32_t cut, uint32_t wire) {
    fb tagged = {0};
    put(&tagged, plain->b, 12);
    put16(&tagged, 0x8100);
    put16(&tagged, 5);
    put(&tagged, plain->b + 12, plain->n - 12);
    net_pkt a, b;
    memset(&a, 0xee, sizeof a);
    memset(&b, 0xee, sizeof b);
    net_status sa = net_decode(1, plain->b, cut, wire, &a);
    net_status sb = net_decode(1, tagged.b, cut + 4, wire + 4, &b);
    assert_int_equal(sa, sb);
    if (sa != NET_OK) {
        assert_int_equal(a.sport, 0xeeee);  // *out untouched on failure
        return;
    }
    assert_int_equal(a.family, b.family);
    assert_memory_equal(a.src, b.src, 16);
    assert_memory_equal(a.dst, b.dst, 16);
    assert_int_equal(a.sport, b.sport);
    assert_int_equal(a.dport, b.dport);
    assert_int_equal(a.seq, b.seq);
    assert_int_equal(a.ack, b.ack);
    assert_int_equal(a.flags, b.flags);
    assert_int_equal(a.window, b.window);
    assert_int_equal(a.payload_len, b.payload_len);
    assert_int_equal(a.wire_payload_len, b.wire_payload_len);
    assert_int_equal(a.truncated, b.truncated);
    assert_int_equal(a.payload == NULL, b.payload == NULL);
    if (a.payload) {
        assert_int_equal(a.payload - plain->b, b.payload - tagged.b - 4);
    }
}

static void test_fast_path_same_as_general(void **state) {
    (void)state;
    static const unsigned totals[] = {0, 1, 19, 20, 39, 40, 44, 45, 60, 1500, 0xffff};
    static const unsigned frags[] = {0, 0x4000, 0x2000, 0x0001, 0x8000};
    static const unsigned vihls[] = {0x45, 0x46, 0x44, 0x55, 0x65};
    for (unsigned opt = 0; opt <= 15; opt += 1) {
        for (size_t t = 0; t < sizeof totals / sizeof totals[0]; t++) {
            for (size_t fi = 0; fi < sizeof frags / sizeof frags[0]; fi++) {
                for (size_t vi = 0; vi < sizeof vihls / sizeof vihls[0]; vi++) {
                    for (unsigned proto = 6; proto <= 17; proto += 11) {
                        fb f = {0};
                        ether(&f, 0x0800);
                        ipv4(&f, proto, 0, 0, frags[fi]);
                        f.b[14] = (uint8_t)vihls[vi];
                        unsigned total = totals[t] == 1 ? (unsigned)(f.n - 14 + 20 + PLEN)
                                                        : totals[t];  // 1: the exact length
                        f.b[16] = (uint8_t)(total >> 8);
                        f.b[17] = (uint8_t)total;
                        put16(&f, 51000);
                        put16(&f, 443);
                        put32(&f, 7);
                        put32(&f, 9);
                        put8(&f, opt << 4);  // data offsets 0..15 words, 0..4 malformed
                        put8(&f, TCP_ACK | TCP_FIN);
                        put16(&f, 1000);
                        put32(&f, 0);
                        for (unsigned i = 0; i < 48; i++) {
                            put8(&f, i);  // options, payload or padding, as the lengths say
                        }
                        for (uint32_t cut = 0; cut <= f.n; cut++) {
                            cmp_paths(&f, cut, (uint32_t)f.n);
                            cmp_paths(&f, cut, cut);
                            cmp_paths(&f, cut, (uint32_t)f.n + 100);
                        }
                    }
                }
            }
        }
    }
}

static void test_truncation_every_byte(void **state) {
    (void)state;
    fb f = {0};
    net_pkt p;
    ether(&f, 0x8100);
    put16(&f, 5);
    put16(&f, 0x0800);
    ipv4(&f, 6, TCPLEN + 8, 1, 0);
    tcp_seg(&f, 2);
    size_t headers = f.n - PLEN;
    for (size_t cut = 0; cut < headers; cut++) {
        memset(&p, 0xee, sizeof p);
        assert_int_equal(net_decode(1, f.b, (uint32_t)cut, (uint32_t)f.n, &p), NET_TRUNCATED);
        assert_int_equal(p.sport, 0xeeee);  // *out untouched on failure
    }
    // Cut inside the payload: decoded, payload truncated (snaplen), not malformed.
    for (size_t cut = headers; cut <= f.n; cut++) {
        assert_int_equal(net_decode(1, f.b, (uint32_t)cut, (uint32_t)f.n, &p), NET_OK);
        assert_int_equal(p.payload_len, cut - headers);
        assert_int_equal(p.wire_payload_len, PLEN);
        assert_int_equal(p.truncated, cut < f.n);
    }
    assert_int_equal(net_decode(1, NULL, 0, 0, &p), NET_TRUNCATED);
    // ARP: not IP
    fb a = {0};
    ether(&a, 0x0806);
    put32(&a, 0);
    assert_int_equal(decode(1, &a, &p), NET_NOT_IP);
}

// The shard hash (dissect/shard.c) takes a short path for Ethernet/IPv4/TCP; a VLAN tag, a
// raw-IP link, IPv4 options or the reverse direction go through other paths: the hash must be
// the same, or a connection would be split across `--threads` workers. Fragments and non-TCP
// frames have no flow hash.
static uint32_t shard_hash(int lt, const fb *f, bool *ok) {
    dissect_frame fr = {lt, (uint32_t)f->n, (uint32_t)f->n, f->b, 0, 1};
    uint32_t h = 0;
    *ok = dissect_frame_flow_hash(&fr, &h);
    return h;
}
static void test_shard_hash_paths(void **state) {
    (void)state;
    bool ok;
    fb eth = {0};
    ether(&eth, 0x0800);
    v4_tcp(&eth);
    uint32_t h = shard_hash(1, &eth, &ok);
    assert_true(ok);
    fb vlan = {0};
    ether(&vlan, 0x8100);
    put16(&vlan, 7);
    put16(&vlan, 0x0800);
    v4_tcp(&vlan);
    assert_int_equal(shard_hash(1, &vlan, &ok), h);
    assert_true(ok);
    fb raw = {0};
    v4_tcp(&raw);
    assert_int_equal(shard_hash(101, &raw, &ok), h);
    assert_true(ok);
    fb opts = {0};
    ether(&opts, 0x0800);
    ipv4(&opts, 6, TCPLEN, 2, 0);
    tcp_seg(&opts, 0);
    assert_int_equal(shard_hash(1, &opts, &ok), h);
    assert_true(ok);
    // The reverse direction: swap addresses (IPv4 bytes 12..19) and ports.
    fb rev = eth;
    memcpy(rev.b + 14 + 12, V4B, 4);
    memcpy(rev.b + 14 + 16, V4A, 4);
    memcpy(rev.b + 34, eth.b + 36, 2);
    memcpy(rev.b + 36, eth.b + 34, 2);
    assert_int_equal(shard_hash(1, &rev, &ok), h);
    assert_true(ok);
    // Another port: another hash (not a constant).
    fb other = eth;
    other.b[35] ^= 1;
    assert_int_not_equal(shard_hash(1, &other, &ok), h);
    fb frag = {0};
    ether(&frag, 0x0800);
    ipv4(&frag, 6, TCPLEN, 0, 0x2000);
    tcp_seg(&frag, 0);
    (void)shard_hash(1, &frag, &ok);
    assert_false(ok);
    fb udp = {0};
    ether(&udp, 0x0800);
    ipv4(&udp, 17, TCPLEN, 0, 0);
    tcp_seg(&udp, 0);
    (void)shard_hash(1, &udp, &ok);
    assert_false(ok);
}

// RFC 3032 label stacks: IP after the bottom label, a pseudowire control word then Ethernet, and
// more labels than DISSECT_MAX_MPLS_LABELS said as such.
static void test_mpls(void **state) {
    (void)state;
    net_pkt p;
    for (unsigned labels = 1; labels <= DISSECT_MAX_MPLS_LABELS + 1; labels++) {
        fb f = {0};
        ether(&f, 0x8847);
        for (unsigned i = 0; i < labels; i++) {
            put32(&f, (16u + i) << 12 | (i + 1 == labels ? 0x100u : 0u) | 64u);
        }
        v4_tcp(&f);
        if (labels <= DISSECT_MAX_MPLS_LABELS) {
            assert_int_equal(decode(1, &f, &p), NET_OK);
            assert_v4_tcp(&p);
        } else {
            assert_int_equal(decode(1, &f, &p), NET_DEEP_MPLS);
        }
    }
    fb pw = {0};
    ether(&pw, 0x8847);
    put32(&pw, 17u << 12 | 0x100u | 64u);
    put32(&pw, 0);  // control word
    ether(&pw, 0x0800);
    v4_tcp(&pw);
    assert_int_equal(decode(1, &pw, &p), NET_OK);
    assert_v4_tcp(&p);
    fb cut = {0};
    ether(&cut, 0x8847);
    put32(&cut, 17u << 12);  // no bottom of stack, then nothing
    assert_int_equal(decode(1, &cut, &p), NET_TRUNCATED);
}

// Exactly DISSECT_MAX_IPV6_EXT extension headers decode; one more is said as too deep.
static void test_ipv6_extension_limit(void **state) {
    (void)state;
    net_pkt p;
    for (unsigned n = DISSECT_MAX_IPV6_EXT; n <= DISSECT_MAX_IPV6_EXT + 1; n++) {
        fb f = {0};
        ipv6(&f, 60, n * 8 + TCPLEN);
        for (unsigned i = 0; i < n; i++) {
            ext(&f, i + 1 == n ? 6 : 60, 0);
        }
        tcp_seg(&f, 0);
        assert_int_equal(decode(229, &f, &p),
                         n <= DISSECT_MAX_IPV6_EXT ? NET_OK : NET_DEEP_IPV6_EXT);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet_ipv4),
        cmocka_unit_test(test_shard_hash_paths),
        cmocka_unit_test(test_vlan_qinq),
        cmocka_unit_test(test_pppoe),
        cmocka_unit_test(test_sll_sll2),
        cmocka_unit_test(test_null_loop),
        cmocka_unit_test(test_raw_links),
        cmocka_unit_test(test_ipv4_options_and_lengths),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_ipv6_extension_headers),
        cmocka_unit_test(test_tunnels),
        cmocka_unit_test(test_icmp_quotes),
        cmocka_unit_test(test_nesting_bounded),
        cmocka_unit_test(test_truncation_every_byte),
        cmocka_unit_test(test_fast_path_same_as_general),
        cmocka_unit_test(test_mpls),
        cmocka_unit_test(test_ipv6_extension_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
