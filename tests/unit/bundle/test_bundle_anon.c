// test_bundle_anon.c — Crypto-PAn pseudonyms (prefix preservation, keys) and text rewriting.
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bundle_internal.h"

static const uint8_t key1[BUNDLE_KEY_LEN] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                             12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                             23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t key2[BUNDLE_KEY_LEN] = {32, 31, 30, 29};

static unsigned common_prefix(const uint8_t *a, const uint8_t *b, unsigned bits) {
    unsigned n = 0;
    while (n < bits && ((a[n / 8] >> (7 - n % 8)) & 1) == ((b[n / 8] >> (7 - n % 8)) & 1)) {
        n++;
    }
    return n;
}

static void v4(const char *s, uint8_t out[16]) {
    memset(out, 0, 16);
    assert_int_equal(inet_pton(AF_INET, s, out), 1);
}

// Two addresses sharing exactly k leading bits share exactly k after the mapping.
static void test_prefix_preserved_v4(void **state) {
    (void)state;
    anon *a = anon_new(true, false, key1);
    assert_non_null(a);
    const char *pairs[][2] = {{"10.251.0.1", "10.251.0.2"}, {"192.0.2.1", "192.0.2.200"},
                              {"10.0.0.1", "11.0.0.1"},     {"203.0.113.7", "198.51.100.7"},
                              {"127.0.0.1", "127.0.0.1"},   {"0.0.0.0", "255.255.255.255"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        uint8_t x[16], y[16], px[16], py[16];
        v4(pairs[i][0], x);
        v4(pairs[i][1], y);
        anon_addr(a, 4, x, px);
        anon_addr(a, 4, y, py);
        assert_int_equal(common_prefix(x, y, 32), common_prefix(px, py, 32));
        if (strcmp(pairs[i][0], pairs[i][1]) != 0) {
            assert_memory_not_equal(px, x, 4);
        }
    }
    // same /24 before → same /24 after (the case the bundle test checks on the raw pcap)
    uint8_t x[16], y[16], px[16], py[16];
    v4("10.251.0.1", x);
    v4("10.251.0.2", y);
    anon_addr(a, 4, x, px);
    anon_addr(a, 4, y, py);
    assert_memory_equal(px, py, 3);
    anon_free(a);
}

static void test_prefix_preserved_v6(void **state) {
    (void)state;
    anon *a = anon_new(true, false, key1);
    assert_non_null(a);
    uint8_t x[16], y[16], px[16], py[16];
    assert_int_equal(inet_pton(AF_INET6, "2001:db8:1::10", x), 1);
    assert_int_equal(inet_pton(AF_INET6, "2001:db8:1::20", y), 1);
    anon_addr(a, 6, x, px);
    anon_addr(a, 6, y, py);
    assert_int_equal(common_prefix(x, y, 128), common_prefix(px, py, 128));
    assert_memory_not_equal(x, px, 16);
    anon_free(a);
}

// The key decides the mapping; the same key gives the same pseudonym (consistency).
static void test_keyed(void **state) {
    (void)state;
    anon *a = anon_new(true, false, key1), *b = anon_new(true, false, key1),
         *c = anon_new(true, false, key2);
    uint8_t x[16], pa[16], pb[16], pc[16];
    v4("198.51.100.23", x);
    anon_addr(a, 4, x, pa);
    anon_addr(b, 4, x, pb);
    anon_addr(c, 4, x, pc);
    assert_memory_equal(pa, pb, 4);
    assert_memory_not_equal(pa, pc, 4);
    anon_free(a);
    anon_free(b);
    anon_free(c);
}

static void pseudo(anon *a, const char *s, char out[INET_ADDRSTRLEN]) {
    uint8_t x[16], p[16];
    v4(s, x);
    anon_addr(a, 4, x, p);
    assert_non_null(inet_ntop(AF_INET, p, out, INET_ADDRSTRLEN));
}

// Text forms are replaced as whole addresses, never inside a longer one; every IPv4 address
// in the text is mapped (also those of no connection, e.g. in a filter); other dotted numbers
// (OIDs, versions) stay.
static void test_text_boundaries(void **state) {
    (void)state;
    anon *a = anon_new(true, false, key1);
    char p1[INET_ADDRSTRLEN], p10[INET_ADDRSTRLEN], p110[INET_ADDRSTRLEN];
    pseudo(a, "10.0.0.1", p1);
    pseudo(a, "10.0.0.10", p10);
    pseudo(a, "110.0.0.1", p110);
    bbuf b = {0};
    bbuf_puts(&b,
              "a 10.0.0.1:443 b 10.0.0.10 c 110.0.0.1 d \"10.0.0.1\" "
              "oid 1.3.6.1.5.5.7.3.1 v3.0.19 256.1.1.1 1.2.3");
    anon_text(a, &b);
    char expect[512];
    snprintf(expect, sizeof expect,
             "a %s:443 b %s c %s d \"%s\" oid 1.3.6.1.5.5.7.3.1 v3.0.19 256.1.1.1 1.2.3", p1, p10,
             p110, p1);
    assert_string_equal(b.p, expect);
    bbuf_free(&b);
    anon_free(a);
}

// Names: same length, same shape, replaced in text and in binary data.
static void test_names(void **state) {
    (void)state;
    anon *a = anon_new(false, true, key1);
    anon_name(a, "origin.example.com");
    uint8_t bin[] = "\x00\x12origin.example.com\x00";
    anon_bytes(a, bin, sizeof bin - 1);
    assert_memory_not_equal(bin + 2, "origin.example.com", 18);
    assert_int_equal(bin[2 + 6], '.');
    assert_int_equal(bin[2 + 14], '.');
    bbuf b = {0};
    bbuf_puts(&b, "SNI origin.example.com.");
    anon_text(a, &b);
    assert_int_equal(b.n, strlen("SNI origin.example.com."));
    assert_null(strstr(b.p, "origin"));
    assert_memory_equal(b.p + 4, bin + 2, 18);  // consistent across members
    bbuf_free(&b);
    // addresses stay when only names are hidden
    uint8_t x[16], px[16];
    v4("192.0.2.1", x);
    anon_addr(a, 4, x, px);
    assert_memory_equal(x, px, 16);
    anon_free(a);
}

static void test_parse_key(void **state) {
    (void)state;
    uint8_t k[BUNDLE_KEY_LEN], k2[BUNDLE_KEY_LEN];
    assert_true(
        bundle_parse_key("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", k));
    assert_int_equal(k[0], 0);
    assert_int_equal(k[31], 0x1f);
    assert_true(bundle_parse_key("a passphrase", k));
    assert_true(bundle_parse_key("a passphrase", k2));
    assert_memory_equal(k, k2, sizeof k);
    assert_false(bundle_parse_key("", k));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_preserved_v4),
        cmocka_unit_test(test_prefix_preserved_v6),
        cmocka_unit_test(test_keyed),
        cmocka_unit_test(test_text_boundaries),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_parse_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
