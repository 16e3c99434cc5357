// test_field_clients.c — what clients other than CloudFront's put on the wire for a fault, as
// the `clients` field set (pcaps/field/clients/: curl, GnuTLS, Python, Go, openssl against
// nginx, apache2, haproxy) showed it: OpenSSL's internal_error after a TLS 1.0 server flight,
// curl leaving after its Finished when the name does not match, and Go's and GnuTLS's dummy
// ChangeCipherSpec before an encrypted alert in TLS 1.3. Each with its near miss.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "an_fixtures.h"

FX_SHARED_ANALYZER("cloudfront")

static const char *const CHAIN[] = {"leaf", "inter", NULL};
static const char *const WRONG_NAME[] = {"leaf-wrongname", "inter", NULL};
static const char *const PRIVATE[] = {"privleaf", "privinter", NULL};

// started: a client at 198.51.100.20 (not CloudFront) offering TLS 1.0-1.3 (supported_versions,
// as curl and openssl s_client do), and the server's TLS 1.2 flight with chain.
static fx started(const char *const *chain) {
    fx x = fx_new();
    x.t->client.addr[0] = 198;
    x.t->client.addr[1] = 51;
    x.t->client.addr[2] = 100;
    x.t->client.addr[3] = 20;
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    static const uint16_t versions[] = {0x0304, 0x0303, 0x0302, 0x0301};
    memcpy(x.t->ch.versions, versions, sizeof versions);
    x.t->ch.num_versions = 4;
    fx_server_flight(&x, chain);
    return x;
}

// curl and openssl s_client (OpenSSL 3) against a TLS-1.0-only origin: the ServerHello says
// TLS 1.0, the client refuses the MD5+SHA-1 signed key exchange with internal_error.
static void test_tls10_refused_with_internal_error(void **state) {
    (void)state;
    fx x = started(CHAIN);
    x.t->sh.legacy_version = 0x0301;
    fx_alert(&x, TLS_DIR_C2S, 2, 80);  // internal_error
    fx_close(&x, TLS_DIR_C2S, false, 1);
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_int_equal(v->cause, CAUSE_PROTOCOL_VERSION_MISMATCH);
    assert_int_equal(v->confidence, CONF_MEDIUM);
    assert_string_equal(fx_evidence(v, "server_version"), "TLSv1.0");
    assert_non_null(strstr(v->summary, "internal_error"));
    assert_non_null(strstr(v->summary, "enable TLS 1.2 on the origin"));
    verdict_free(v);
    fx_free(&x);
    // near miss: the server chose TLS 1.2: the alert is not about the version
    x = started(CHAIN);
    fx_alert(&x, TLS_DIR_C2S, 2, 80);
    fx_close(&x, TLS_DIR_C2S, false, 1);
    v = run(&x);
    assert_int_not_equal(v->cause, CAUSE_PROTOCOL_VERSION_MISMATCH);
    verdict_free(v);
    fx_free(&x);
    // near miss: at TLS 1.0 a wrong-name certificate refused with bad_certificate is the name
    x = started(WRONG_NAME);
    x.t->sh.legacy_version = 0x0301;
    fx_alert(&x, TLS_DIR_C2S, 2, 42);
    fx_close(&x, TLS_DIR_C2S, false, 1);
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_CERT_NAME_MISMATCH);
    verdict_free(v);
    fx_free(&x);
}

// finish_no_request: ClientKeyExchange, CCS and Finished both ways, the client's encrypted
// close_notify and its FIN: no request.
static void finish_no_request(fx *x) {
    fx_finish_protected(x, false);
    fx_event(x, TLS_EV_ENCRYPTED_ALERT, TLS_DIR_C2S, 0, 1);
    fx_close(x, TLS_DIR_C2S, false, 1);
}

// curl checks the name after the handshake: it completes it, sends close_notify and leaves.
static void test_curl_leaves_on_wrong_name(void **state) {
    (void)state;
    fx x = started(WRONG_NAME);
    finish_no_request(&x);
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_int_equal(v->cause, CAUSE_CERT_NAME_MISMATCH);
    assert_int_equal(v->confidence, CONF_MEDIUM);
    assert_false(v->predicted);
    assert_non_null(strstr(fx_evidence(v, "client_left"), "without a request"));
    verdict_free(v);
    fx_free(&x);
    // near miss: a health check that only handshakes, with a private CA it trusts: the
    // handshake succeeded; CloudFront's refusal stays a prediction
    x = started(PRIVATE);
    finish_no_request(&x);
    v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_SUCCEEDED);
    verdict_free(v);
    fx_free(&x);
}

// tls13_refused: Go and GnuTLS refusing the (encrypted) certificate in TLS 1.3: the dummy
// ChangeCipherSpec (RFC 8446 §D.4), an encrypted alert, FIN; `finished` adds the client's
// protected Finished before the alert instead.
static fx tls13_refused(bool finished) {
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    x.t->ch.num_versions = 2;
    x.t->ch.versions[0] = 0x0304;
    x.t->ch.versions[1] = 0x0303;
    x.t->sh.present = true;
    x.t->sh.selected_version = 0x0304;
    x.t->sh.cipher = 0x1302;
    fx_event(&x, TLS_EV_HANDSHAKE, TLS_DIR_S2C, 2, 1);
    x.t->sh.frame = x.frame;
    x.t->ccs[TLS_DIR_S2C] = x.t->encrypted[TLS_DIR_S2C] = true;
    fx_event(&x, TLS_EV_CHANGE_CIPHER_SPEC, TLS_DIR_S2C, 0, 0);
    fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_S2C, 0, 0);
    x.t->ccs[TLS_DIR_C2S] = x.t->encrypted[TLS_DIR_C2S] = true;
    fx_event(&x, TLS_EV_CHANGE_CIPHER_SPEC, TLS_DIR_C2S, 0, 1);
    if (finished) {
        fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_C2S, 0, 0);
    }
    fx_event(&x, TLS_EV_ENCRYPTED_ALERT, TLS_DIR_C2S, 0, 0);
    fx_close(&x, TLS_DIR_C2S, false, 1);
    return x;
}

// The failed step of an unknown must not claim a Finished the client never sent.
static void test_tls13_dummy_ccs_is_not_finished(void **state) {
    (void)state;
    fx x = tls13_refused(false);
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_string_equal(v->failed_step, "after server Certificate");
    verdict_free(v);
    fx_free(&x);
    // near miss: with a protected record before the alert, the client did send its Finished
    x = tls13_refused(true);
    v = run(&x);
    assert_string_equal(v->failed_step, "after client Finished");
    verdict_free(v);
    fx_free(&x);
}

static const char *finding(const verdict *v, cause_id c) {
    for (uint32_t i = 0; i < v->num_findings; i++) {
        if (v->findings[i].cause == c) {
            return v->findings[i].text;
        }
    }
    return "";
}

// nginx `ssl_verify_client on` to curl and Go (not CloudFront): the empty client Certificate
// went through and the request got HTTP 400, encrypted. The handshake succeeded (an origin that
// only asks looks the same); the finding says both.
static void test_empty_client_certificate_generic_client(void **state) {
    (void)state;
    fx x = started(CHAIN);
    x.t->cert_req.present = true;
    x.t->cert_req.frame = x.frame;
    x.t->client_cert.present = true;  // empty
    fx_finish_ok(&x);
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_SUCCEEDED);
    assert_int_equal(v->cause, CAUSE_OK);
    const char *text = finding(v, CAUSE_CLIENT_CERT_REQUIRED);
    assert_non_null(strstr(text, "this client sent none"));
    assert_non_null(strstr(text, "HTTP 400"));
    verdict_free(v);
    // near miss: the client sent a certificate: the request alone is the finding
    x.t->client_cert.num_certs = 1;
    v = run(&x);
    assert_null(strstr(finding(v, CAUSE_CLIENT_CERT_REQUIRED), "sent none"));
    assert_non_null(strstr(finding(v, CAUSE_CLIENT_CERT_REQUIRED), "requests a client cert"));
    verdict_free(v);
    fx_free(&x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls10_refused_with_internal_error),
        cmocka_unit_test(test_curl_leaves_on_wrong_name),
        cmocka_unit_test(test_tls13_dummy_ccs_is_not_finished),
        cmocka_unit_test(test_empty_client_certificate_generic_client),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
