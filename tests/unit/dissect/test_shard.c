// test_shard.c — dissect_frame_flow_hash (dissect/shard.c) against the function it was before its
// IHL-5 fast path (round 6 of issue 20), kept here as the oracle: the same answer (accepted or
// not, and the value) for every frame, so no connection moves to another --threads worker.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cursor.h"
#include "dissect.h"
#include "internal.h"

// ---- the oracle: shard.c as of f9dd452 ----

static uint32_t o_mix_pair(uint64_t x, uint64_t y, uint8_t family) {
    uint64_t h = ((x + y) ^ ((x ^ y) * 0xff51afd7ed558ccdull)) + family;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)(h >> 16);
}

static uint64_t o_endpoint_word(uint8_t family, const uint8_t addr[16], uint16_t port) {
    if (family == 4) {
        uint32_t a =
            (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 | (uint32_t)addr[2] << 8 | addr[3];
        return (uint64_t)a << 16 | port;
    }
    uint64_t w[2];
    memcpy(w, addr, 16);
    return (w[0] ^ w[1]) * 0x9e3779b97f4a7c15ull + port;
}

static bool o_fast(const dissect_frame *f, uint32_t *out) {
    if (f->linktype != 1) {
        return false;
    }
    cur c = cur_make(f->data, f->caplen);
    uint16_t ethertype, frag, sport, dport;
    uint8_t vihl, proto;
    uint32_t src, dst;
    if (!cur_peek_u16(&c, 12, &ethertype) || ethertype != 0x0800 || !cur_peek_u8(&c, 14, &vihl) ||
        (vihl >> 4) != 4 || (vihl & 15) < 5 || !cur_peek_u16(&c, 20, &frag) ||
        (frag & 0x3fff) != 0 || !cur_peek_u8(&c, 23, &proto) || proto != 6 ||
        !cur_peek_u32(&c, 26, &src) || !cur_peek_u32(&c, 30, &dst)) {
        return false;
    }
    size_t tcp = 14 + (size_t)(vihl & 15) * 4;
    if (!cur_peek_u16(&c, tcp, &sport) || !cur_peek_u16(&c, tcp + 2, &dport)) {
        return false;
    }
    *out = o_mix_pair((uint64_t)src << 16 | sport, (uint64_t)dst << 16 | dport, 4);
    return true;
}

static bool oracle(const dissect_frame *f, uint32_t *out) {
    if (o_fast(f, out)) {
        return true;
    }
    net_pkt p;
    net_status st = net_decode(f->linktype, f->data, f->caplen, f->len, &p);
    if (st != NET_OK && st != NET_ICMP_QUOTE) {
        return false;
    }
    *out = o_mix_pair(o_endpoint_word(p.family, p.src, p.sport),
                      o_endpoint_word(p.family, p.dst, p.dport), p.family);
    return true;
}

// ---- frames ----

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static unsigned compared, accepted;

// same: both functions on data[0..caplen), caplen and wire length as given.
static void same(int linktype, const uint8_t *data, uint32_t caplen, uint32_t len) {
    dissect_frame fr = {linktype, caplen, len, data, 0, 1};
    uint32_t want = 0x5a5a5a5a, got = 0x5a5a5a5a;
    bool want_ok = oracle(&fr, &want);
    bool got_ok = dissect_frame_flow_hash(&fr, &got);
    assert_int_equal(got_ok, want_ok);
    assert_int_equal(got, want);  // (untouched alike when refused)
    compared++;
    accepted += got_ok;
}

// frame: Ethernet + IPv4 (version/IHL vihl, fragment field frag, protocol proto, options to fill
// the header) + TCP with data offset 5 and some payload; returns its length.
static size_t frame(uint8_t *b, uint16_t ethertype, uint8_t vihl, uint16_t frag, uint8_t proto) {
    memset(b, 0, 128);
    b[12] = (uint8_t)(ethertype >> 8);
    b[13] = (uint8_t)ethertype;
    uint8_t *ip = b + 14;
    ip[0] = vihl;
    size_t ihl = (size_t)(vihl & 15) * 4;
    size_t hl = ihl < 20 ? 20 : ihl;
    ip[2] = 0;
    ip[3] = (uint8_t)(hl + 20 + 10);
    ip[6] = (uint8_t)(frag >> 8);
    ip[7] = (uint8_t)frag;
    ip[8] = 64;
    ip[9] = proto;
    for (size_t i = 20; i < hl; i++) {
        ip[i] = 1;  // NOP options
    }
    memcpy(ip + 12, (const uint8_t[]){10, 0, 0, 1, 192, 0, 2, 7}, 8);
    uint8_t *tcp = ip + hl;
    memcpy(tcp, (const uint8_t[]){0xc7, 0x38, 0x01, 0xbb}, 4);  // 51000 → 443
    tcp[12] = 5 << 4;
    tcp[13] = 0x10;
    return 14 + hl + 20 + 10;
}

// The grid: every ethertype, version/IHL, fragment field and protocol that matter to either
// path, each cut at every length, and the reverse direction.
static void test_shard_same_as_before(void **state) {
    (void)state;
    static const uint16_t types[] = {0x0800, 0x0801, 0x86dd, 0x8100, 0x0000};
    static const uint16_t frags[] = {0, 0x4000, 0x8000, 0x2000, 0x0001, 0x1fff, 0xc000};
    static const uint8_t protos[] = {6, 17, 1, 0};
    uint8_t b[128];
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        for (unsigned vihl = 0x40; vihl <= 0x5f; vihl++) {
            for (size_t fi = 0; fi < sizeof frags / sizeof frags[0]; fi++) {
                for (size_t pi = 0; pi < sizeof protos / sizeof protos[0]; pi++) {
                    size_t n = frame(b, types[t], (uint8_t)vihl, frags[fi], protos[pi]);
                    for (size_t cut = 0; cut <= n; cut++) {
                        same(1, b, (uint32_t)cut, (uint32_t)n);
                        same(101, b + 14, cut > 14 ? (uint32_t)(cut - 14) : 0, (uint32_t)(n - 14));
                    }
                    // The reverse direction hashes alike wherever the oracle accepts it.
                    uint8_t r[128];
                    memcpy(r, b, sizeof r);
                    size_t ihl = (size_t)(vihl & 15) * 4, hl = ihl < 20 ? 20 : ihl;
                    memcpy(r + 26, b + 30, 4);
                    memcpy(r + 30, b + 26, 4);
                    memcpy(r + 14 + hl, b + 14 + hl + 2, 2);
                    memcpy(r + 14 + hl + 2, b + 14 + hl, 2);
                    same(1, r, (uint32_t)n, (uint32_t)n);
                    dissect_frame f1 = {1, (uint32_t)n, (uint32_t)n, b, 0, 1};
                    dissect_frame f2 = {1, (uint32_t)n, (uint32_t)n, r, 0, 2};
                    uint32_t h1, h2;
                    if (dissect_frame_flow_hash(&f1, &h1)) {
                        assert_true(dissect_frame_flow_hash(&f2, &h2));
                        assert_int_equal(h1, h2);
                    }
                }
            }
        }
    }
    assert_true(accepted > 1000);  // the grid reaches the accepting paths, not only refusals
}

// Random mutations of a plain frame: a byte or two of the headers changed, any cut.
static void test_shard_random_frames(void **state) {
    (void)state;
    uint8_t base[128], b[128];
    size_t n = frame(base, 0x0800, 0x45, 0x4000, 6);
    for (unsigned round = 0; round < 200000; round++) {
        memcpy(b, base, sizeof b);
        unsigned k = 1 + next_rand() % 3;
        for (unsigned i = 0; i < k; i++) {
            b[next_rand() % 60] = (uint8_t)next_rand();
        }
        uint32_t cut = next_rand() % (uint32_t)(n + 1);
        same(1, b, cut, (uint32_t)n);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shard_same_as_before),
        cmocka_unit_test(test_shard_random_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
