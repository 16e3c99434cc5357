// test_tls_fp.c — JA3 / JA3S / JA4 of known hellos (dissect/tls_fp.c).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "tls_fixtures.h"

static tls_client_hello ch;

static void parse_chrome(void) {
    size_t n;
    const uint8_t *p = chrome_ch_body(&n);
    assert_int_equal(tls_parse_client_hello(cur_make(p, n), &ch), TLS_ERR_OK);
}

// tshark 4.0 tls.handshake.ja3_full / tls.handshake.ja3 of the same packet.
static void test_ja3_matches_tshark(void **state) {
    (void)state;
    parse_chrome();
    char s[4096];
    size_t n = tls_fp_ja3_string(&ch, s, sizeof s);
    assert_int_equal(n, strlen(CHROME_CH_JA3_STRING));
    assert_string_equal(s, CHROME_CH_JA3_STRING);
    char ja3[33];
    tls_fp_ja3(&ch, ja3);
    assert_string_equal(ja3, CHROME_CH_JA3);
}

// The example of FoxIO's JA4.md is this very hello.
static void test_ja4_known_hello(void **state) {
    (void)state;
    parse_chrome();
    char ja4[40];
    tls_fp_ja4(&ch, ja4);
    assert_string_equal(ja4, CHROME_CH_JA4);
}

// JA4.md: no ALPN gives "00", no SNI 'i', no cipher gives 000000000000; a first ALPN whose
// first or last byte is not alphanumeric is printed as the first/last hex digits instead.
static void test_ja4_edge_rules(void **state) {
    (void)state;
    parse_chrome();
    ch.has_sni = false;
    ch.num_alpn = 0;
    char ja4[40];
    tls_fp_ja4(&ch, ja4);
    assert_memory_equal(ja4, "t13i151600_8daaf6152771_", 24);
    ch.num_alpn = 1;
    memcpy(ch.alpn[0], "\xab\x01\xcd", 4);
    ch.alpn_len[0] = 3;
    tls_fp_ja4(&ch, ja4);
    assert_memory_equal(ja4, "t13i1516ad_", 11);
    ch.num_ciphers = 1;  // only the GREASE value left
    ch.num_extensions = 0;
    ch.num_sigalgs = 0;
    tls_fp_ja4(&ch, ja4);
    assert_string_equal(ja4, "t13i0000ad_000000000000_000000000000");
}

static void test_ja3s(void **state) {
    (void)state;
    tls_server_hello sh;
    memset(&sh, 0, sizeof sh);
    sh.legacy_version = 0x0303;
    sh.cipher = 0xc02f;
    sh.num_extensions = 3;
    sh.extensions[0] = 0xff01;
    sh.extensions[1] = 0x0a0a;  // GREASE is dropped
    sh.extensions[2] = 0x000b;
    char ja3s[33];
    tls_fp_ja3s(&sh, ja3s);
    // md5("771,49199,65281-11")
    assert_string_equal(ja3s, "303951d4c50efb2e991652225a6f02b1");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ja3_matches_tshark),
        cmocka_unit_test(test_ja4_known_hello),
        cmocka_unit_test(test_ja4_edge_rules),
        cmocka_unit_test(test_ja3s),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
