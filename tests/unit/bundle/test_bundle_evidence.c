// test_bundle_evidence.c — evidence.pcap frames: application data cut out, sequence and
// acknowledgment numbers shifted to match, empty segments dropped, valid IPv4/IPv6/TCP
// checksums, anonymized addresses in the IP headers.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bundle_internal.h"

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint16_t be16(const uint8_t *p) {
    return (uint16_t)(p[0] << 8 | p[1]);
}

// RFC 1071 sum over the pseudo-header and the segment; 0 when the checksum field is right.
static uint16_t fold(uint32_t s) {
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}
static uint32_t add(uint32_t s, const uint8_t *p, size_t n) {
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += be16(p + i);
    }
    if (n % 2) {
        s += (uint32_t)p[n - 1] << 8;
    }
    return s;
}

typedef struct pkt {
    uint8_t family;
    uint8_t src[16];
    uint32_t seq, ack;
    uint8_t flags;
    uint32_t plen;
    const uint8_t *payload;
} pkt;

// parse_all reads every frame of the pcap in b, checking every checksum on the way.
static size_t parse_all(const bbuf *b, pkt *out, size_t max) {
    const uint8_t *p = (const uint8_t *)b->p;
    size_t off = 24, n = 0;
    uint32_t magic;
    memcpy(&magic, p, 4);
    assert_int_equal(magic, 0xa1b23c4d);
    while (off + 16 <= b->n && n < max) {
        uint32_t caplen, len;
        memcpy(&caplen, p + off + 8, 4);
        memcpy(&len, p + off + 12, 4);
        assert_int_equal(caplen, len);
        const uint8_t *f = p + off + 16;
        pkt *k = &out[n++];
        memset(k, 0, sizeof *k);
        uint16_t et = be16(f + 12);
        const uint8_t *ip = f + 14, *tcp;
        uint32_t tcplen, sum = 0;
        if (et == 0x0800) {
            k->family = 4;
            assert_int_equal(fold(add(0, ip, 20)), 0);  // IPv4 header checksum
            memcpy(k->src, ip + 12, 4);
            tcp = ip + 20;
            tcplen = be16(ip + 2) - 20u;
            sum = add(sum, ip + 12, 8);
        } else {
            assert_int_equal(et, 0x86dd);
            k->family = 6;
            memcpy(k->src, ip + 8, 16);
            tcp = ip + 40;
            tcplen = be16(ip + 4);
            sum = add(sum, ip + 8, 32);
        }
        sum += 6 + tcplen;
        assert_int_equal(fold(add(sum, tcp, tcplen)), 0);  // TCP checksum
        assert_int_equal(tcp[12] >> 4, 5);                 // no options
        k->seq = be32(tcp + 4);
        k->ack = be32(tcp + 8);
        k->flags = tcp[13];
        k->plen = tcplen - 20;
        k->payload = tcp + 20;
        off += 16 + caplen;
    }
    assert_int_equal(off, b->n);
    return n;
}

static bundle_seg seg(uint8_t dir, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len,
                      uint8_t fill) {
    bundle_seg g;
    memset(&g, 0, sizeof g);
    g.dir = dir;
    g.flags = flags;
    g.seq = seq;
    g.ack = ack;
    g.window = 512;
    g.payload_len = g.wire_payload_len = len;
    if (len) {
        g.payload = malloc(len);
        for (uint32_t i = 0; i < len; i++) {
            g.payload[i] = (uint8_t)(fill + i);  // byte i of a segment = fill + i
        }
    }
    return g;
}

static void run_case(uint8_t family, bool anonymize) {
    verdict *v = calloc(1, sizeof *v);
    assert_non_null(v);
    v->outcome = OUTCOME_FAILED;
    v->client.family = v->server.family = family;
    v->client.port = 40000;
    v->server.port = 443;
    const uint8_t c4[16] = {192, 0, 2, 1}, s4[16] = {192, 0, 2, 2};
    const uint8_t c6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x10};
    const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x20};
    memcpy(v->client.addr, family == 4 ? c4 : c6, 16);
    memcpy(v->server.addr, family == 4 ? s4 : s6, 16);
    bundle_conn c;
    memset(&c, 0, sizeof c);
    c.v = v;
    c.have_base[0] = c.have_base[1] = true;
    c.base[TLS_DIR_C2S] = 101;                   // client ISN 100
    c.base[TLS_DIR_S2C] = 501;                   // server ISN 500
    bundle_range app[2] = {{10, 10}, {35, 10}};  // client bytes 10..19 and 35..44
    c.app[TLS_DIR_C2S] = app;
    c.num_app[TLS_DIR_C2S] = 2;
    bundle_seg segs[] = {
        seg(0, 0x02, 100, 0, 0, 0),      // SYN
        seg(1, 0x12, 500, 101, 0, 0),    // SYN-ACK
        seg(0, 0x18, 101, 501, 30, 0),   // bytes 0..29: 10..19 removed
        seg(1, 0x10, 501, 131, 0, 0),    // acks 30 → 20
        seg(0, 0x18, 131, 501, 5, 100),  // bytes 30..34 → 20..24
        seg(0, 0x18, 136, 501, 10, 0),   // bytes 35..44: application data only → dropped
        seg(1, 0x11, 501, 146, 0, 0),    // FIN, acks 45 → 25 (20 bytes removed before it)
    };
    bundle_run r;
    memset(&r, 0, sizeof r);
    r.conns = &c;
    r.num_conns = 1;
    r.segs = segs;
    r.num_segs = sizeof segs / sizeof segs[0];
    uint8_t key[BUNDLE_KEY_LEN] = {7};
    anon *an = anon_new(anonymize, false, key);
    assert_non_null(an);
    bbuf out = {0};
    uint32_t packets = 0;
    char err[256] = "";
    assert_true(bundle_evidence(&r, an, &out, &packets, NULL, err, sizeof err));
    assert_int_equal(packets, 6);
    pkt k[8];
    assert_int_equal(parse_all(&out, k, 8), 6);
    assert_int_equal(k[0].flags, 0x02);
    assert_int_equal(k[0].seq, 100);
    assert_int_equal(k[1].ack, 101);
    assert_int_equal(k[2].seq, 101);
    assert_int_equal(k[2].plen, 20);
    for (uint32_t i = 0; i < 20; i++) {  // kept: bytes 0..9 and 20..29
        assert_int_equal(k[2].payload[i], i < 10 ? i : i + 10);
    }
    assert_int_equal(k[3].ack, 121);
    assert_int_equal(k[4].seq, 121);
    assert_int_equal(k[4].plen, 5);
    assert_int_equal(k[4].payload[0], 100);
    assert_int_equal(k[5].flags, 0x11);
    assert_int_equal(k[5].ack, 101 + 25);
    size_t alen = family == 4 ? 4 : 16;
    if (anonymize) {
        assert_memory_not_equal(k[0].src, v->client.addr, alen);
        assert_memory_not_equal(k[1].src, v->server.addr, alen);
        // the two addresses share all but the last byte: so do their pseudonyms
        assert_memory_equal(k[0].src, k[1].src, alen - 1);
    } else {
        assert_memory_equal(k[0].src, v->client.addr, alen);
        assert_memory_equal(k[1].src, v->server.addr, alen);
    }
    bbuf_free(&out);
    anon_free(an);
    for (size_t i = 0; i < r.num_segs; i++) {
        free(segs[i].payload);
    }
    free(v);
}

static void test_ipv4(void **state) {
    (void)state;
    run_case(4, false);
}
static void test_ipv6(void **state) {
    (void)state;
    run_case(6, false);
}
static void test_ipv4_anonymized(void **state) {
    (void)state;
    run_case(4, true);
}
static void test_ipv6_anonymized(void **state) {
    (void)state;
    run_case(6, true);
}

// --redact-names: a Certificate message split across two records and two segments, then a
// CertificateStatus: every certificate and OCSP byte is zero in evidence.pcap, every header and
// length and the other messages are untouched.
typedef struct hs_builder {
    uint8_t b[256];
    bool zero[256];  // bytes that must come out as zeros
    size_t n;
} hs_builder;

static void hb_put(hs_builder *h, const uint8_t *p, size_t n, bool zero) {
    memcpy(h->b + h->n, p, n);
    for (size_t i = 0; i < n; i++) {
        h->zero[h->n + i] = zero;
    }
    h->n += n;
}

static void hb_u(hs_builder *h, uint32_t v, size_t width) {
    for (size_t i = width; i-- > 0;) {
        uint8_t byte = (uint8_t)(v >> (8 * i));
        hb_put(h, &byte, 1, false);
    }
}

static void test_redact_certificates(void **state) {
    (void)state;
    // The handshake messages, as one stream of bodies.
    hs_builder m = {0};
    const uint8_t sh[4] = {'S', 'H', 'S', 'H'},
                  c1[10] = {0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1};
    const uint8_t c2[6] = {0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2},
                  ocsp[5] = {0xd1, 0xd1, 0xd1, 0xd1, 0xd1};
    hb_u(&m, 2, 1);
    hb_u(&m, 4, 3);
    hb_put(&m, sh, 4, false);  // ServerHello
    hb_u(&m, 11, 1);
    hb_u(&m, 3 + 13 + 9, 3);
    hb_u(&m, 13 + 9, 3);  // Certificate, list
    hb_u(&m, 10, 3);
    hb_put(&m, c1, 10, true);
    hb_u(&m, 6, 3);
    hb_put(&m, c2, 6, true);
    hb_u(&m, 22, 1);
    hb_u(&m, 1 + 3 + 5, 3);
    hb_u(&m, 1, 1);
    hb_u(&m, 5, 3);  // CertificateStatus
    hb_put(&m, ocsp, 5, true);
    hb_u(&m, 14, 1);
    hb_u(&m, 0, 3);  // ServerHelloDone
    // Two records: the first ends inside the first certificate.
    size_t split = 8 + 4 + 3 + 3 + 4;
    hs_builder st = {0};
    hb_u(&st, 0x160303, 3);
    hb_u(&st, (uint32_t)split, 2);
    hb_put(&st, m.b, split, false);
    memcpy(st.zero + 5, m.zero, split);
    hb_u(&st, 0x160303, 3);
    hb_u(&st, (uint32_t)(m.n - split), 2);
    hb_put(&st, m.b + split, m.n - split, false);
    memcpy(st.zero + 5 + split + 5, m.zero + split, m.n - split);

    verdict *v = calloc(1, sizeof *v);
    assert_non_null(v);
    v->outcome = OUTCOME_FAILED;
    v->client.family = v->server.family = 4;
    bundle_conn c;
    memset(&c, 0, sizeof c);
    c.v = v;
    c.have_base[0] = c.have_base[1] = true;
    c.base[TLS_DIR_C2S] = 101;
    c.base[TLS_DIR_S2C] = 501;
    assert_true(bundle_range_add(&c.hs[1], &c.num_hs[1], &c.cap_hs[1], 0, 5 + split));
    assert_true(bundle_range_add(&c.hs[1], &c.num_hs[1], &c.cap_hs[1], 5 + split, 5 + m.n - split));
    uint32_t cut = 20;  // the segments split the stream elsewhere than the records
    bundle_seg segs[] = {seg(1, 0x18, 501, 101, cut, 0),
                         seg(1, 0x18, 501 + cut, 101, (uint32_t)st.n - cut, 0)};
    memcpy(segs[0].payload, st.b, cut);
    memcpy(segs[1].payload, st.b + cut, st.n - cut);
    bundle_run r;
    memset(&r, 0, sizeof r);
    r.conns = &c;
    r.num_conns = 1;
    r.segs = segs;
    r.num_segs = 2;
    assert_true(bundle_redact_certs(&r));
    uint8_t key[BUNDLE_KEY_LEN] = {7};
    anon *an = anon_new(false, true, key);
    assert_non_null(an);
    bbuf out = {0};
    uint32_t packets = 0;
    char err[256] = "";
    assert_true(bundle_evidence(&r, an, &out, &packets, NULL, err, sizeof err));
    pkt k[4];
    assert_int_equal(parse_all(&out, k, 4), 2);
    uint8_t got[256];
    memcpy(got, k[0].payload, k[0].plen);
    memcpy(got + k[0].plen, k[1].payload, k[1].plen);
    assert_int_equal(k[0].plen + k[1].plen, st.n);
    size_t zeros = 0;
    for (size_t i = 0; i < st.n; i++) {
        assert_int_equal(got[i], st.zero[i] ? 0 : st.b[i]);
        zeros += st.zero[i];
    }
    assert_int_equal(zeros, 10 + 6 + 5);
    bbuf_free(&out);
    anon_free(an);
    free(segs[0].payload);
    free(segs[1].payload);
    free(c.hs[1]);
    free(c.zero[1]);
    free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_ipv4_anonymized),
        cmocka_unit_test(test_ipv6_anonymized),
        cmocka_unit_test(test_redact_certificates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
