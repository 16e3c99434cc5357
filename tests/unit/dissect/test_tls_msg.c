// test_tls_msg.c — unit tests of the handshake-message parsers in dissect/tls_msg.c.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "internal.h"
#include "tls_fixtures.h"
#include "tls_internal.h"

static tls_client_hello ch;
static tls_server_hello sh;

// A small ClientHello: ciphers as given (byte length `cs_len`, may be odd), then the
// extensions written by `exts` (NULL: none).
static size_t build_ch(bb *x, const uint8_t *cs, size_t cs_len, void (*exts)(bb *)) {
    x->n = 0;
    bb_u16(x, 0x0303);
    bb_fill(x, 0x11, 32);
    bb_u8(x, 0);  // empty session id
    bb_u16(x, (unsigned)cs_len);
    bb_bytes(x, cs, cs_len);
    bb_u8(x, 1);
    bb_u8(x, 0);
    if (exts) {
        bb_open(x, 2);
        exts(x);
        bb_close(x);
    }
    return x->n;
}

static void ext_sni(bb *x, const char *name, size_t len) {
    bb_u16(x, 0x0000);
    bb_open(x, 2);
    bb_open(x, 2);
    bb_u8(x, 0);
    bb_u16(x, (unsigned)len);
    bb_bytes(x, name, len);
    bb_close(x);
    bb_close(x);
}

static void exts_two_sni(bb *x) {
    ext_sni(x, "a.example", 9);
    ext_sni(x, "b.example", 9);
}

static void exts_sni_nul(bb *x) {
    ext_sni(x, "evil.com\0.example.com", 21);
}

static const uint8_t two_suites[] = {0xc0, 0x2f, 0x13, 0x01};

static void test_client_hello_real(void **state) {
    (void)state;
    size_t n;
    const uint8_t *p = chrome_ch_body(&n);
    assert_int_equal(tls_parse_client_hello(cur_make(p, n), &ch), TLS_ERR_OK);
    assert_true(ch.present);
    assert_int_equal(ch.legacy_version, 0x0303);
    assert_int_equal(ch.session_id_len, 32);
    assert_int_equal(ch.num_ciphers, 16);
    assert_true(tls_is_grease(ch.ciphers[0]));  // GREASE kept in the array, recognised
    assert_int_equal(ch.ciphers[1], 0x1301);
    assert_int_equal(ch.num_extensions, 18);
    assert_true(tls_is_grease(ch.extensions[0]));
    assert_true(ch.has_sni);
    assert_string_equal(ch.sni, "edge.microsoft.com");
    assert_false(ch.sni_has_nul_or_ctl);
    assert_int_equal(ch.num_alpn, 2);
    assert_string_equal(ch.alpn[0], "h2");
    assert_string_equal(ch.alpn[1], "http/1.1");
    assert_int_equal(ch.num_groups, 4);
    assert_true(tls_is_grease(ch.groups[0]));
    assert_int_equal(ch.groups[1], 0x001d);
    assert_int_equal(ch.num_versions, 3);
    assert_true(tls_is_grease(ch.versions[0]));
    assert_int_equal(ch.versions[1], 0x0304);
    assert_int_equal(ch.num_key_shares, 2);
    assert_int_equal(ch.key_share_groups[1], 0x001d);
    assert_int_equal(ch.num_sigalgs, 8);
    assert_int_equal(ch.sigalgs[0], 0x0403);
    assert_true(ch.has_psk_modes);
    assert_int_equal(ch.psk_modes, 2);
    assert_true(ch.padding);
    assert_true(ch.extended_master_secret && ch.renegotiation_info && ch.session_ticket);
    assert_true(ch.status_request && ch.sct);
    assert_false(ch.truncated);
}

// Cutting the body at every length must give TRUNCATED or BAD_LENGTH — except exactly after
// legacy_compression_methods, where RFC 5246 §7.4.1.2 allows a hello without extensions.
static void test_client_hello_truncated_everywhere(void **state) {
    (void)state;
    size_t n;
    const uint8_t *p = chrome_ch_body(&n);
    const size_t no_ext = 2 + 32 + 1 + 32 + 2 + 32 + 1 + 1;
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc(len ? len : 1);  // exact size: ASan catches any over-read
        memcpy(copy, p, len);
        tls_err err = tls_parse_client_hello(cur_make(copy, len), &ch);
        if (len == no_ext) {
            assert_int_equal(err, TLS_ERR_OK);
            assert_false(ch.has_extensions_block);
        } else if (err != TLS_ERR_TRUNCATED && err != TLS_ERR_BAD_LENGTH) {
            fail_msg("length %zu: %s", len, tls_err_name(err));
        }
        free(copy);
    }
}

static void test_client_hello_trailing(void **state) {
    (void)state;
    size_t n;
    const uint8_t *p = chrome_ch_body(&n);
    uint8_t buf[600];
    memcpy(buf, p, n);
    buf[n] = 0;
    assert_int_equal(tls_parse_client_hello(cur_make(buf, n + 1), &ch), TLS_ERR_TRAILING);
    assert_string_equal(ch.sni, "edge.microsoft.com");  // fields before the error are kept
}

static void test_client_hello_dup_extension(void **state) {
    (void)state;
    static bb x;
    size_t n = build_ch(&x, two_suites, sizeof two_suites, exts_two_sni);
    assert_int_equal(tls_parse_client_hello(cur_make(x.b, n), &ch), TLS_ERR_DUP_EXTENSION);
    assert_int_equal(ch.num_extensions, 2);
}

// Empty extensions whose types share a low byte (0x000d/0xfe0d... and 0x0001/0xff01): not
// duplicates, each found in the table (ech, renegotiation_info set their flags); then a real
// duplicate after them is still caught.
static void exts_same_low_byte(bb *x) {
    static const unsigned types[] = {0x0001, 0xff01, 0xfe0d, 0x0017, 0x1717, 0x0d0d};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        bb_u16(x, types[i]);
        bb_u16(x, 0);
    }
}

static void exts_same_low_byte_then_dup(bb *x) {
    exts_same_low_byte(x);
    bb_u16(x, 0xff01);
    bb_u16(x, 0);
}

static void test_client_hello_extension_types(void **state) {
    (void)state;
    static bb x;
    size_t n = build_ch(&x, two_suites, sizeof two_suites, exts_same_low_byte);
    assert_int_equal(tls_parse_client_hello(cur_make(x.b, n), &ch), TLS_ERR_OK);
    assert_int_equal(ch.num_extensions, 6);
    assert_true(ch.ech);
    assert_true(ch.renegotiation_info);
    assert_true(ch.extended_master_secret);
    assert_false(ch.status_request);
    n = build_ch(&x, two_suites, sizeof two_suites, exts_same_low_byte_then_dup);
    assert_int_equal(tls_parse_client_hello(cur_make(x.b, n), &ch), TLS_ERR_DUP_EXTENSION);
    assert_int_equal(ch.num_extensions, 7);
}

// Duplicates are looked for among the first 256 extension types of a block (the list a hostile
// hello could make long is bounded): a pair that both come after them is not reported, a type
// among them seen again later is — below 64 (a bit set) and above (a list) alike.
static unsigned late_pair_type;
static void exts_first_then_256_then_again(bb *x) {
    bb_u16(x, late_pair_type);
    bb_u16(x, 0);
    for (unsigned i = 0; i < 256; i++) {
        bb_u16(x, 0x1000 + i);
        bb_u16(x, 0);
    }
    bb_u16(x, late_pair_type);
    bb_u16(x, 0);
}
static void exts_256_then_pair(bb *x) {
    for (unsigned i = 0; i < 256; i++) {
        bb_u16(x, 0x1000 + i);
        bb_u16(x, 0);
    }
    for (int k = 0; k < 2; k++) {
        bb_u16(x, late_pair_type);
        bb_u16(x, 0);
    }
}

static void test_client_hello_dup_window(void **state) {
    (void)state;
    static bb x;
    static const unsigned kinds[] = {0x0017, 0x3374};  // extended_master_secret; NPN (>= 64)
    for (size_t i = 0; i < 2; i++) {
        late_pair_type = kinds[i];
        size_t n = build_ch(&x, two_suites, sizeof two_suites, exts_first_then_256_then_again);
        assert_int_equal(tls_parse_client_hello(cur_make(x.b, n), &ch), TLS_ERR_DUP_EXTENSION);
        assert_int_equal(ch.num_extensions_sent, 258);
        n = build_ch(&x, two_suites, sizeof two_suites, exts_256_then_pair);
        assert_int_equal(tls_parse_client_hello(cur_make(x.b, n), &ch), TLS_ERR_OK);
        assert_int_equal(ch.num_extensions_sent, 258);
        assert_true(ch.truncated);  // more than TLS_MAX_EXTENSIONS types
    }
}

static void test_client_hello_odd_and_empty_ciphers(void **state) {
    (void)state;
    static bb x;
    size_t n = build_ch(&x, two_suites, 3, NULL);
    assert_int_equal(tls_parse_client_hello(cur_make(x.b, n), &ch), TLS_ERR_ODD_LENGTH);
    n = build_ch(&x, two_suites, 0, NULL);
    assert_int_equal(tls_parse_client_hello(cur_make(x.b, n), &ch), TLS_ERR_EMPTY_VECTOR);
    n = build_ch(&x, two_suites, sizeof two_suites, NULL);
    assert_int_equal(tls_parse_client_hello(cur_make(x.b, n), &ch), TLS_ERR_OK);
    assert_int_equal(ch.num_ciphers, 2);
    assert_false(ch.has_extensions_block);
}

static void test_client_hello_sni_nul(void **state) {
    (void)state;
    static bb x;
    size_t n = build_ch(&x, two_suites, sizeof two_suites, exts_sni_nul);
    assert_int_equal(tls_parse_client_hello(cur_make(x.b, n), &ch), TLS_ERR_OK);
    assert_true(ch.has_sni);
    assert_int_equal(ch.sni_len, 21);
    assert_true(ch.sni_has_nul_or_ctl);
    assert_memory_equal(ch.sni, "evil.com\0.example.com", 21);
}

// The SNI byte check (8 bytes at a time in ch_server_name) against its definition, one byte at
// a time: every byte value at every position of names of 1..24 bytes, then random names.
static char sni_name[64];
static size_t sni_name_len;
static void exts_sni_name(bb *x) {
    ext_sni(x, sni_name, sni_name_len);
}
static bool sni_bad_by_bytes(const char *p, size_t n) {
    bool bad = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)p[i];
        bad |= b <= 0x20 || b >= 0x7f;
    }
    return bad;
}
static void check_sni_name(bb *x) {
    size_t n = build_ch(x, two_suites, sizeof two_suites, exts_sni_name);
    assert_int_equal(tls_parse_client_hello(cur_make(x->b, n), &ch), TLS_ERR_OK);
    assert_true(ch.has_sni);
    if (ch.sni_has_nul_or_ctl != sni_bad_by_bytes(sni_name, sni_name_len)) {
        fail_msg("SNI of %zu bytes: the check says %d", sni_name_len, ch.sni_has_nul_or_ctl);
    }
}
static void test_client_hello_sni_bytes(void **state) {
    (void)state;
    static bb x;
    for (size_t len = 1; len <= 24; len++) {
        sni_name_len = len;
        memset(sni_name, 'a', len);
        check_sni_name(&x);
        for (size_t pos = 0; pos < len; pos++) {
            for (unsigned v = 0; v < 256; v++) {
                sni_name[pos] = (char)v;
                check_sni_name(&x);
            }
            sni_name[pos] = 'a';
        }
    }
    uint32_t r = 12345;
    for (int k = 0; k < 20000; k++) {
        r = r * 1103515245u + 12345u;
        sni_name_len = 1 + (r >> 16) % sizeof sni_name;
        for (size_t i = 0; i < sni_name_len; i++) {
            r = r * 1103515245u + 12345u;
            // mostly printable, sometimes one of the edges or any byte
            unsigned c = (r >> 16) % 100;
            sni_name[i] = (char)(c < 90   ? 0x21 + (r >> 8) % 0x5e
                                 : c < 95 ? (c & 1 ? 0x20 : 0x7f)
                                          : (r >> 8) & 0xff);
        }
        check_sni_name(&x);
    }
}

// 70 distinct extensions, the last one ALPN with 20 ids: more than TLS_MAX_EXTENSIONS and
// TLS_MAX_ALPN.
static void exts_many(bb *x) {
    for (unsigned i = 0; i < 69; i++) {
        bb_u16(x, 0xff00 + i);  // unknown types, empty bodies
        bb_u16(x, 0);
    }
    bb_u16(x, 0x0010);
    bb_open(x, 2);
    bb_open(x, 2);
    for (unsigned i = 0; i < 20; i++) {
        bb_u8(x, 3);
        bb_u8(x, 'p');
        bb_u8(x, '0' + i / 10);
        bb_u8(x, '0' + i % 10);
    }
    bb_close(x);
    bb_close(x);
}

// Lists longer than their caps keep what fits, set `truncated`, and carry the true counts.
static void test_client_hello_true_counts(void **state) {
    (void)state;
    static bb x;
    uint8_t suites[600];
    for (size_t i = 0; i < 300; i++) {
        suites[2 * i] = 0x00;
        suites[2 * i + 1] = (uint8_t)i;
    }
    size_t n = build_ch(&x, suites, sizeof suites, exts_many);
    assert_int_equal(tls_parse_client_hello(cur_make(x.b, n), &ch), TLS_ERR_OK);
    assert_true(ch.truncated);
    assert_int_equal(ch.num_ciphers, TLS_MAX_CIPHERS);
    assert_int_equal(ch.num_ciphers_sent, 300);
    assert_int_equal(ch.num_extensions, TLS_MAX_EXTENSIONS);
    assert_int_equal(ch.num_extensions_sent, 70);
    assert_int_equal(ch.num_alpn, TLS_MAX_ALPN);
    assert_int_equal(ch.num_alpn_sent, 20);
    n = build_ch(&x, two_suites, sizeof two_suites, exts_sni_nul);
    assert_int_equal(tls_parse_client_hello(cur_make(x.b, n), &ch), TLS_ERR_OK);
    assert_int_equal(ch.num_ciphers_sent, 2);  // a list within its cap: the same count
    assert_int_equal(ch.num_extensions_sent, 1);
    assert_false(ch.truncated);
}

// ServerHello (TLS 1.2) and HelloRetryRequest (RFC 8446 §4.1.3).
static size_t build_sh(bb *x, bool hrr) {
    x->n = 0;
    bb_u16(x, 0x0303);
    if (hrr) {
        bb_bytes(x, tls_hrr_random, 32);
    } else {
        bb_fill(x, 0x22, 32);
    }
    bb_u8(x, 0);
    bb_u16(x, hrr ? 0x1301 : 0xc02f);
    bb_u8(x, 0);
    bb_open(x, 2);
    if (hrr) {
        bb_u16(x, 0x002b);  // supported_versions: selected_version
        bb_u16(x, 2);
        bb_u16(x, 0x0304);
        bb_u16(x, 0x0033);  // key_share: selected_group
        bb_u16(x, 2);
        bb_u16(x, 0x0017);
    } else {
        bb_u16(x, 0xff01);  // renegotiation_info, empty
        bb_u16(x, 1);
        bb_u8(x, 0);
        bb_u16(x, 0x0000);  // server_name acknowledgement: empty
        bb_u16(x, 0);
        bb_u16(x, 0x0010);  // ALPN "h2"
        bb_open(x, 2);
        bb_open(x, 2);
        bb_open(x, 1);
        bb_bytes(x, "h2", 2);
        bb_close(x);
        bb_close(x);
        bb_close(x);
    }
    bb_close(x);
    return x->n;
}

static void test_server_hello_vs_hrr(void **state) {
    (void)state;
    static bb x;
    size_t n = build_sh(&x, false);
    assert_int_equal(tls_parse_server_hello(cur_make(x.b, n), &sh), TLS_ERR_OK);
    assert_false(sh.is_hrr);
    assert_int_equal(sh.cipher, 0xc02f);
    assert_true(sh.renegotiation_info);
    assert_true(sh.sni_ack);
    assert_string_equal(sh.alpn, "h2");
    assert_int_equal(sh.num_extensions, 3);
    assert_int_equal(sh.selected_version, 0);

    n = build_sh(&x, true);
    assert_int_equal(tls_parse_server_hello(cur_make(x.b, n), &sh), TLS_ERR_OK);
    assert_true(sh.is_hrr);
    assert_int_equal(sh.selected_version, 0x0304);
    assert_int_equal(sh.key_share_group, 0x0017);
    assert_int_equal(tls_parse_server_hello(cur_make(x.b, n - 1), &sh), TLS_ERR_TRUNCATED);
}

// tls_negotiated_version: supported_versions wins over legacy_version (RFC 8446 §4.2.1); the
// legacy field otherwise; 0 without a ServerHello, whatever its fields hold.
static void test_negotiated_version(void **state) {
    (void)state;
    static bb x;
    size_t n = build_sh(&x, false);
    assert_int_equal(tls_parse_server_hello(cur_make(x.b, n), &sh), TLS_ERR_OK);
    assert_int_equal(tls_negotiated_version(&sh), 0x0303);
    n = build_sh(&x, true);
    assert_int_equal(tls_parse_server_hello(cur_make(x.b, n), &sh), TLS_ERR_OK);
    assert_int_equal(sh.legacy_version, 0x0303);
    assert_int_equal(tls_negotiated_version(&sh), 0x0304);
    sh.present = false;
    assert_int_equal(tls_negotiated_version(&sh), 0);
    // a TLS 1.3 draft before -22 names its version in the first field (no supported_versions)
    x.n = 0;
    bb_u16(&x, 0x7f12);
    bb_fill(&x, 0x22, 32);
    bb_u16(&x, 0x1301);
    bb_open(&x, 2);
    bb_close(&x);
    assert_int_equal(tls_parse_server_hello(cur_make(x.b, x.n), &sh), TLS_ERR_OK);
    assert_int_equal(tls_negotiated_version(&sh), 0x7f12);
}

static void test_certificate_tls12_and_tls13(void **state) {
    (void)state;
    static bb x;
    tls_certificate cert;
    x.n = 0;
    bb_open(&x, 3);
    bb_u24(&x, 3);
    bb_bytes(&x, "\x30\x01\x00", 3);
    bb_u24(&x, 4);
    bb_bytes(&x, "\x30\x02\x01\x02", 4);
    bb_close(&x);
    assert_int_equal(tls_parse_certificate(cur_make(x.b, x.n), false, &cert), TLS_ERR_OK);
    assert_int_equal(cert.num_certs, 2);
    assert_int_equal(cert.num_stored, 2);
    assert_int_equal(cert.certs[1].len, 4);
    assert_memory_equal(cert.certs[1].der, "\x30\x02\x01\x02", 4);
    assert_int_equal(cert.message_len, x.n);
    tls_certificate_clear(&cert);
    assert_int_equal(cert.num_stored, 0);

    // TLS 1.3: request context, then entries each followed by extensions (RFC 8446 §4.4.2).
    x.n = 0;
    bb_u8(&x, 0);
    bb_open(&x, 3);
    bb_u24(&x, 3);
    bb_bytes(&x, "\x30\x01\x00", 3);
    bb_u16(&x, 0);
    bb_close(&x);
    assert_int_equal(tls_parse_certificate(cur_make(x.b, x.n), true, &cert), TLS_ERR_OK);
    assert_true(cert.tls13);
    assert_int_equal(cert.num_certs, 1);
    tls_certificate_clear(&cert);

    // An entry longer than the list it sits in.
    x.n = 0;
    bb_u24(&x, 5);
    bb_u24(&x, 9);
    bb_bytes(&x, "\x30\x01", 2);
    assert_int_equal(tls_parse_certificate(cur_make(x.b, x.n), false, &cert), TLS_ERR_BAD_CERT);
    tls_certificate_clear(&cert);
    // Trailing bytes after the list.
    x.n = 0;
    bb_u24(&x, 0);
    bb_u8(&x, 7);
    assert_int_equal(tls_parse_certificate(cur_make(x.b, x.n), false, &cert), TLS_ERR_TRAILING);
    tls_certificate_clear(&cert);
}

static void test_server_key_exchange(void **state) {
    (void)state;
    static bb x;
    tls_server_key_exchange ske;
    // ECDHE named curve x25519, TLS 1.2 signature rsa_pss_rsae_sha256 (RFC 8422 §5.4).
    x.n = 0;
    bb_u8(&x, 3);
    bb_u16(&x, 0x001d);
    bb_u8(&x, 32);
    bb_fill(&x, 0xaa, 32);
    bb_u16(&x, 0x0804);
    bb_u16(&x, 8);
    bb_fill(&x, 0x55, 8);
    assert_int_equal(tls_parse_server_key_exchange(cur_make(x.b, x.n), 0xc02f, 0x0303, &ske),
                     TLS_ERR_OK);
    assert_int_equal(ske.kind, 1);
    assert_int_equal(ske.group, 0x001d);
    assert_int_equal(ske.sigalg, 0x0804);
    // TLS 1.0 has no SignatureAndHashAlgorithm: 0x0804 is read as the signature's length.
    assert_int_equal(tls_parse_server_key_exchange(cur_make(x.b, x.n), 0xc02f, 0x0301, &ske),
                     TLS_ERR_TRUNCATED);
    assert_int_equal(ske.sigalg, 0);

    // DHE: a 1024-bit prime sent with a leading zero byte (RFC 5246 §7.4.3).
    x.n = 0;
    bb_u16(&x, 129);
    bb_u8(&x, 0);
    bb_u8(&x, 0x80);
    bb_fill(&x, 0xff, 127);
    bb_u16(&x, 1);
    bb_u8(&x, 2);
    bb_u16(&x, 4);
    bb_fill(&x, 0x12, 4);
    bb_u16(&x, 0x0401);
    bb_u16(&x, 2);
    bb_u16(&x, 0xbeef);
    assert_int_equal(tls_parse_server_key_exchange(cur_make(x.b, x.n), 0x009e, 0x0303, &ske),
                     TLS_ERR_OK);
    assert_int_equal(ske.kind, 2);
    assert_int_equal(ske.dh_p_bits, 1024);
    assert_int_equal(ske.sigalg, 0x0401);
    assert_int_equal(tls_parse_server_key_exchange(cur_make(x.b, 100), 0x009e, 0x0303, &ske),
                     TLS_ERR_TRUNCATED);
}

static void test_certificate_request(void **state) {
    (void)state;
    static bb x;
    tls_cert_request cr;
    // TLS 1.2 (RFC 5246 §7.4.4).
    x.n = 0;
    bb_u8(&x, 2);
    bb_u8(&x, 1);
    bb_u8(&x, 64);
    bb_u16(&x, 4);
    bb_u16(&x, 0x0401);
    bb_u16(&x, 0x0403);
    bb_open(&x, 2);
    bb_u16(&x, 3);
    bb_bytes(&x, "\x30\x01\x00", 3);
    bb_u16(&x, 2);
    bb_bytes(&x, "\x30\x00", 2);
    bb_close(&x);
    assert_int_equal(tls_parse_certificate_request(cur_make(x.b, x.n), 0x0303, &cr), TLS_ERR_OK);
    assert_int_equal(cr.num_cert_types, 2);
    assert_int_equal(cr.cert_types[1], 64);
    assert_int_equal(cr.num_sigalgs, 2);
    assert_int_equal(cr.sigalgs[1], 0x0403);
    assert_int_equal(cr.num_ca_names, 2);
    // Empty certificate_types<1..2^8-1>.
    x.b[0] = 0;
    assert_int_equal(tls_parse_certificate_request(cur_make(x.b, 1), 0x0303, &cr),
                     TLS_ERR_EMPTY_VECTOR);

    // TLS 1.3 (RFC 8446 §4.3.2): context + extensions.
    x.n = 0;
    bb_u8(&x, 0);
    bb_open(&x, 2);
    bb_u16(&x, 0x000d);
    bb_open(&x, 2);
    bb_open(&x, 2);
    bb_u16(&x, 0x0804);
    bb_close(&x);
    bb_close(&x);
    bb_u16(&x, 0x002f);
    bb_open(&x, 2);
    bb_open(&x, 2);
    bb_u16(&x, 2);
    bb_bytes(&x, "\x30\x00", 2);
    bb_close(&x);
    bb_close(&x);
    bb_close(&x);
    assert_int_equal(tls_parse_certificate_request(cur_make(x.b, x.n), 0x0304, &cr), TLS_ERR_OK);
    assert_int_equal(cr.num_sigalgs, 1);
    assert_int_equal(cr.sigalgs[0], 0x0804);
    assert_int_equal(cr.num_ca_names, 1);
}

static void test_sslv2_client_hello(void **state) {
    (void)state;
    static bb x;
    static const uint8_t specs[] = {0x01, 0x00, 0x80, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x35};
    x.n = 0;
    bb_u16(&x, 0x0301);
    bb_u16(&x, sizeof specs);
    bb_u16(&x, 0);
    bb_u16(&x, 16);
    bb_bytes(&x, specs, sizeof specs);
    bb_fill(&x, 0xcc, 16);
    assert_int_equal(tls_parse_sslv2_client_hello(cur_make(x.b, x.n), &ch), TLS_ERR_OK);
    assert_true(ch.sslv2);
    assert_int_equal(ch.legacy_version, 0x0301);
    assert_int_equal(ch.num_ciphers, 2);
    assert_int_equal(ch.ciphers[0], 0x002f);
    assert_int_equal(ch.ciphers[1], 0x0035);
    assert_int_equal(ch.num_sslv2_kinds, 1);
    assert_int_equal(ch.random[15], 0);  // challenge right-aligned (RFC 5246 E.2)
    assert_int_equal(ch.random[16], 0xcc);
    // cipher_spec_length not a multiple of 3
    x.b[3] = 8;
    assert_int_equal(tls_parse_sslv2_client_hello(cur_make(x.b, x.n - 1), &ch), TLS_ERR_ODD_LENGTH);
    assert_int_equal(tls_parse_sslv2_client_hello(cur_make(x.b, 7), &ch), TLS_ERR_TRUNCATED);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_hello_real),
        cmocka_unit_test(test_client_hello_truncated_everywhere),
        cmocka_unit_test(test_client_hello_true_counts),
        cmocka_unit_test(test_client_hello_trailing),
        cmocka_unit_test(test_client_hello_dup_extension),
        cmocka_unit_test(test_client_hello_dup_window),
        cmocka_unit_test(test_client_hello_extension_types),
        cmocka_unit_test(test_client_hello_odd_and_empty_ciphers),
        cmocka_unit_test(test_client_hello_sni_nul),
        cmocka_unit_test(test_client_hello_sni_bytes),
        cmocka_unit_test(test_server_hello_vs_hrr),
        cmocka_unit_test(test_certificate_tls12_and_tls13),
        cmocka_unit_test(test_server_key_exchange),
        cmocka_unit_test(test_certificate_request),
        cmocka_unit_test(test_negotiated_version),
        cmocka_unit_test(test_sslv2_client_hello),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
