// test_predictions.c — "CloudFront would refuse" only when the wire proves it (issue 16 item 5):
// a handshake that succeeded with another client shows the server's choice among that client's
// offers, not everything it accepts. A prediction is proven only when no choice the profile's
// client offers could succeed with the server as seen (a key no offered scheme or suite can use,
// a renegotiation the server asks for); otherwise it is hedged, or not made at all.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "an_fixtures.h"

FX_SHARED_ANALYZER("cloudfront")

static const char *const CHAIN[] = {"leaf", "inter", NULL};

// finding_text: the text of v's finding of cause c (NULL: none).
static const char *finding_text(const verdict *v, cause_id c) {
    for (uint32_t i = 0; i < v->num_findings; i++) {
        if (v->findings[i].cause == c) {
            return v->findings[i].text;
        }
    }
    return NULL;
}

// An OpenSSL client (not CloudFront) that offers RSA-PSS and PKCS#1; a server that succeeds.
static fx openssl_client_to(const char *const *certs, uint16_t ske_sigalg) {
    fx x = fx_new();
    const uint8_t viewer[4] = {198, 51, 100, 7};
    memcpy(x.t->client.addr, viewer, 4);
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    static const uint16_t sigalgs[] = {0x0804, 0x0807, 0x0403, 0x0401, 0x0501};
    x.t->ch.num_sigalgs = sizeof sigalgs / sizeof sigalgs[0];
    memcpy(x.t->ch.sigalgs, sigalgs, sizeof sigalgs);
    fx_server_flight(&x, certs);
    x.t->ske.sigalg = ske_sigalg;
    fx_finish_ok(&x);
    return x;
}

// The false finding of before: the server chose RSA-PSS for a client that offered it. Its RSA
// key signs PKCS#1 as well, which CloudFront offers: no prediction at all.
static void test_rsa_pss_choice_is_no_prediction(void **state) {
    (void)state;
    fx x = openssl_client_to(CHAIN, 0x0804);  // rsa_pss_rsae_sha256
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_SUCCEEDED);
    assert_int_equal(v->cause, CAUSE_OK);
    assert_false(v->predicted);
    assert_false(fx_has_finding(v, CAUSE_NO_SHARED_SIGNATURE_ALGORITHM));
    verdict_free(v);
    fx_free(&x);
}

// A true prediction: the server's only key is Ed25519, and CloudFront offers no Ed25519
// scheme: whatever CloudFront offers, the server cannot sign.
static void test_ed25519_key_is_a_proven_refusal(void **state) {
    (void)state;
    static const char *const ED[] = {"leaf-ed25519", NULL};
    fx x = openssl_client_to(ED, 0x0807);  // ed25519
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_SUCCEEDED);
    const char *text = finding_text(v, CAUSE_NO_SHARED_SIGNATURE_ALGORITHM);
    assert_non_null(text);
    assert_non_null(strstr(text, "CloudFront would refuse: "));
    assert_non_null(strstr(text, "Ed25519 key signs only with schemes cloudfront does not offer"));
    verdict_free(v);
    fx_free(&x);
}

// A cipher outside CloudFront's list, chosen by an RSA server: CloudFront offers RSA suites,
// so the choice proves nothing: hedged, never "would refuse".
static void test_cipher_choice_is_hedged(void **state) {
    (void)state;
    fx x = openssl_client_to(CHAIN, 0x0401);
    x.t->sh.cipher = 0xCCA8;  // ECDHE-RSA-CHACHA20-POLY1305
    verdict *v = run(&x);
    const char *text = finding_text(v, CAUSE_NO_SHARED_CIPHER);
    assert_non_null(text);
    assert_null(strstr(text, "would refuse"));
    assert_non_null(strstr(text, "CloudFront might refuse (this handshake does not show it): "));
    assert_false(v->predicted);
    verdict_free(v);
    fx_free(&x);
}

// A 1024-bit DHE prime on a handshake that succeeded: CloudFront offers no DHE suite, so the
// prime can never refuse it: no prediction.
static void test_small_dh_is_no_prediction_without_dhe(void **state) {
    (void)state;
    fx x = openssl_client_to(CHAIN, 0x0401);
    x.t->sh.cipher = 0x009E;  // DHE-RSA-AES128-GCM-SHA256
    x.t->ske.kind = 2;
    x.t->ske.dh_p_bits = 1024;
    verdict *v = run(&x);
    assert_false(fx_has_finding(v, CAUSE_DH_TOO_SMALL));
    verdict_free(v);
    fx_free(&x);
}

// A renegotiation the server asks for (its protected HelloRequest after both Finished) would be
// asked of CloudFront too: proven. One the client started proves nothing about CloudFront.
static void test_server_renegotiation_is_proven(void **state) {
    (void)state;
    fx x = openssl_client_to(CHAIN, 0x0401);
    fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_C2S, 0, 0);   // client Finished
    fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_S2C, 0, 0);   // server Finished
    fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_S2C, 0, 50);  // HelloRequest
    fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_C2S, 0, 1);   // new ClientHello
    x.t->renegotiation_attempt = true;
    x.t->app_records[TLS_DIR_S2C] = 3;
    verdict *v = run(&x);
    const char *text = finding_text(v, CAUSE_RENEGOTIATION_REFUSED);
    assert_non_null(text);
    assert_non_null(strstr(text, "CloudFront would refuse: "));
    assert_non_null(strstr(text, "at the server's request"));
    verdict_free(v);
    // near miss: the client asked (its record comes first): hedged
    x.t->events[x.t->num_events - 2].dir = TLS_DIR_C2S;
    x.t->events[x.t->num_events - 1].dir = TLS_DIR_S2C;
    v = run(&x);
    text = finding_text(v, CAUSE_RENEGOTIATION_REFUSED);
    assert_non_null(text);
    assert_non_null(strstr(text, "CloudFront might refuse"));
    verdict_free(v);
    fx_free(&x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsa_pss_choice_is_no_prediction),
        cmocka_unit_test(test_ed25519_key_is_a_proven_refusal),
        cmocka_unit_test(test_cipher_choice_is_hedged),
        cmocka_unit_test(test_small_dh_is_no_prediction_without_dhe),
        cmocka_unit_test(test_server_renegotiation_is_proven),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
