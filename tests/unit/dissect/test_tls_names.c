// test_tls_names.c — spot checks of the IANA name tables in dissect/tls_names.c.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static void test_alerts(void **state) {
    (void)state;
    assert_string_equal(tls_alert_name(40), "handshake_failure");
    assert_string_equal(tls_alert_name(48), "unknown_ca");
    assert_string_equal(tls_alert_name(86), "inappropriate_fallback");
    assert_string_equal(tls_alert_name(112), "unrecognized_name");
    assert_string_equal(tls_alert_name(115), "unknown_psk_identity");
    assert_string_equal(tls_alert_name(116), "certificate_required");
    assert_string_equal(tls_alert_name(120), "no_application_protocol");
    assert_string_equal(tls_alert_name(121), "ech_required");
    assert_null(tls_alert_name(122));
    assert_null(tls_alert_name(255));
}

static void test_ciphers(void **state) {
    (void)state;
    assert_string_equal(tls_cipher_name(0x1301), "TLS_AES_128_GCM_SHA256");
    assert_string_equal(tls_cipher_name(0xC02F), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    assert_string_equal(tls_cipher_name(0x0000), "TLS_NULL_WITH_NULL_NULL");
    assert_string_equal(tls_cipher_name(0x0003), "TLS_RSA_EXPORT_WITH_RC4_40_MD5");
    assert_string_equal(tls_cipher_name(0x00FF), "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
    assert_string_equal(tls_cipher_name(0x5600), "TLS_FALLBACK_SCSV");
    assert_string_equal(tls_cipher_name(0xCCA8), "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    assert_string_equal(tls_cipher_name(0x1A1A), "GREASE");
    assert_null(tls_cipher_name(0x1306));
    assert_true(tls_cipher_is_ecdhe(0xC02F));
    assert_false(tls_cipher_is_dhe(0xC02F));
    assert_true(tls_cipher_is_dhe(0x009E));
    assert_false(tls_cipher_is_ecdhe(0x002F));
    assert_false(tls_cipher_is_dhe(0x1301));
}

static void test_groups_sigalgs_exts(void **state) {
    (void)state;
    assert_string_equal(tls_group_name(0x001D), "x25519");
    assert_string_equal(tls_group_name(0x0017), "secp256r1");
    assert_string_equal(tls_group_name(0x0100), "ffdhe2048");
    assert_string_equal(tls_group_name(0x11EC), "X25519MLKEM768");
    assert_string_equal(tls_group_name(0x11EB), "SecP256r1MLKEM768");
    assert_string_equal(tls_group_name(0x6399), "X25519Kyber768Draft00");
    assert_string_equal(tls_group_name(0x001A), "brainpoolP256r1");
    assert_string_equal(tls_group_name(0xFAFA), "GREASE");
    assert_string_equal(tls_sigalg_name(0x0804), "rsa_pss_rsae_sha256");
    assert_string_equal(tls_sigalg_name(0x0201), "rsa_pkcs1_sha1");
    assert_string_equal(tls_sigalg_name(0x0807), "ed25519");
    assert_string_equal(tls_extension_name(0x0000), "server_name");
    assert_string_equal(tls_extension_name(0x002B), "supported_versions");
    assert_string_equal(tls_extension_name(0xFF01), "renegotiation_info");
    assert_string_equal(tls_extension_name(0xFE0D), "encrypted_client_hello");
    assert_string_equal(tls_extension_name(0x0A0A), "GREASE");
    assert_null(tls_extension_name(0x7777));
}

static void test_versions_types_grease(void **state) {
    (void)state;
    assert_string_equal(tls_version_name(0x0002), "SSLv2");
    assert_string_equal(tls_version_name(0x0300), "SSLv3");
    assert_string_equal(tls_version_name(0x0301), "TLSv1.0");
    assert_string_equal(tls_version_name(0x0304), "TLSv1.3");
    assert_string_equal(tls_version_name(0x7F0E), "TLSv1.3-draft14");
    assert_string_equal(tls_version_name(0x7F1C), "TLSv1.3-draft28");
    assert_string_equal(tls_version_name(0x7A7A), "GREASE");
    assert_null(tls_version_name(0x0305));
    assert_string_equal(tls_handshake_name(1), "ClientHello");
    assert_string_equal(tls_handshake_name(11), "Certificate");
    assert_string_equal(tls_handshake_name(14), "ServerHelloDone");
    assert_null(tls_handshake_name(99));
    assert_string_equal(tls_content_type_name(22), "handshake");
    assert_string_equal(tls_content_type_name(24), "heartbeat");
    assert_null(tls_content_type_name(19));
    // RFC 8701 §2: all sixteen 0x?A?A values, nothing else.
    for (unsigned i = 0; i < 16; i++) {
        assert_true(tls_is_grease((uint16_t)(i << 12 | 0x0a00 | i << 4 | 0x0a)));
    }
    assert_false(tls_is_grease(0x0a1a));
    assert_false(tls_is_grease(0x1301));
}

// Key shares as the ladder and the analyzer print them: the post-quantum hybrid by name, GREASE
// skipped, an unregistered group as its code point, and a short buffer cut, not overrun.
static void test_key_share_names(void **state) {
    (void)state;
    tls_client_hello ch;
    memset(&ch, 0, sizeof ch);
    char out[64];
    assert_int_equal(tls_key_share_names(&ch, out, sizeof out), 0);
    assert_string_equal(out, "");
    ch.num_key_shares = 4;
    ch.key_share_groups[0] = 0x0A0A;  // GREASE
    ch.key_share_groups[1] = 0x11EC;
    ch.key_share_groups[2] = 0x0017;
    ch.key_share_groups[3] = 0x11FF;  // unassigned
    assert_int_equal(tls_key_share_names(&ch, out, sizeof out), 3);
    assert_string_equal(out, "X25519MLKEM768 + secp256r1 + 0x11ff");
    char small[10];
    tls_key_share_names(&ch, small, sizeof small);
    assert_string_equal(small, "X25519MLK");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alerts),
        cmocka_unit_test(test_ciphers),
        cmocka_unit_test(test_groups_sigalgs_exts),
        cmocka_unit_test(test_versions_types_grease),
        cmocka_unit_test(test_key_share_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
