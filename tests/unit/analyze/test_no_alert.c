// test_no_alert.c — failures CloudFront's client (s2n-tls) and real origins produce without an
// alert, or after the handshake (issue 16 items 2 and 3): a silent drop after a too-old
// ServerHello, a close after Finished with a certificate fault, an unanswered HelloRequest, an
// empty client Certificate the origin let through, and a client certificate the origin refused.
// Each with a near miss that must keep its old verdict. pcaps/field/ holds the real captures.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "an_fixtures.h"

static analyzer *A;

static int setup(void **state) {
    (void)state;
    A = fx_analyzer("cloudfront");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    analyzer_free(A);
    return 0;
}

static verdict *run(fx *x) {
    verdict *v = analyzer_run(A, x->t);
    assert_non_null(v);
    return v;
}

static const char *const CHAIN[] = {"leaf", "inter", NULL};
static const char *const WRONG_NAME[] = {"leaf-wrongname", "inter", NULL};

// started: the TCP handshake, a CloudFront ClientHello and the server's TLS 1.2 flight with chain.
static fx started(const char *const *chain) {
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    fx_server_flight(&x, chain);
    return x;
}

// finish_protected: the TLS 1.2 end of the handshake (an_fixtures.h), with the client's request
// when `request`.
static void finish_protected(fx *x, bool request) {
    fx_finish_protected(x, request);
}

static void served(fx *x) {
    x->t->app_records[TLS_DIR_S2C]++;
    fx_event(x, TLS_EV_APPLICATION_DATA, TLS_DIR_S2C, 0, 1);
}

// ---------------------------------------------------------------------------------------------
// s2n drops a ServerHello below its minimum with a bare RST (tls/s2n_server_hello.c).
static void test_version_reset_without_alert(void **state) {
    (void)state;
    fx x = started(CHAIN);
    x.t->sh.legacy_version = 0x0301;  // TLS 1.0
    fx_close(&x, TLS_DIR_C2S, true, 1);
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_int_equal(v->cause, CAUSE_PROTOCOL_VERSION_MISMATCH);
    assert_int_equal(v->confidence, CONF_MEDIUM);  // TLS 1.0 is in the profile: the client's own
    assert_string_equal(fx_evidence(v, "server_version"), "TLSv1.0");
    verdict_free(v);
    fx_free(&x);
    // near miss: the same drop after a TLS 1.0 hello with a wrong-name certificate is the name
    x = started(WRONG_NAME);
    x.t->sh.legacy_version = 0x0301;
    fx_close(&x, TLS_DIR_C2S, true, 1);
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_CERT_NAME_MISMATCH);
    verdict_free(v);
    fx_free(&x);
    // near miss: the server chose the client's best version: not a version refusal
    x = started(CHAIN);
    fx_close(&x, TLS_DIR_C2S, true, 1);
    v = run(&x);
    assert_int_not_equal(v->cause, CAUSE_PROTOCOL_VERSION_MISMATCH);
    verdict_free(v);
    fx_free(&x);
}

// Below the profile's own minimum the version is the cause with certainty.
static void test_version_below_profile_minimum(void **state) {
    (void)state;
    fx x = started(CHAIN);
    x.t->sh.legacy_version = 0x0300;  // SSLv3: cloudfront offers TLSv1 and up
    fx_close(&x, TLS_DIR_C2S, true, 1);
    verdict *v = run(&x);
    assert_int_equal(v->cause, CAUSE_PROTOCOL_VERSION_MISMATCH);
    assert_int_equal(v->confidence, CONF_HIGH);
    assert_non_null(strstr(v->summary, "below the profile's minimum"));
    verdict_free(v);
    fx_free(&x);
}

// CloudFront completes the handshake and leaves before any request: the chain's fault is why.
static void test_close_after_finished_names_the_certificate(void **state) {
    (void)state;
    fx x = started(WRONG_NAME);
    finish_protected(&x, false);
    fx_event(&x, TLS_EV_ENCRYPTED_ALERT, TLS_DIR_C2S, 0, 1);  // close_notify
    fx_close(&x, TLS_DIR_S2C, false, 1);
    fx_close(&x, TLS_DIR_C2S, false, 1);
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_int_equal(v->aborted_by, PARTY_CLIENT);
    assert_int_equal(v->cause, CAUSE_CERT_NAME_MISMATCH);
    assert_false(v->predicted);
    verdict_free(v);
    fx_free(&x);
    // near miss: the client sent its request: the wire wins, ok with the finding
    x = started(WRONG_NAME);
    finish_protected(&x, true);
    served(&x);
    fx_close(&x, TLS_DIR_C2S, false, 1);
    v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_SUCCEEDED);
    assert_int_equal(v->cause, CAUSE_OK);
    assert_true(fx_has_finding(v, CAUSE_CERT_NAME_MISMATCH));
    verdict_free(v);
    fx_free(&x);
    // near miss: leaving before a request with a sound chain is not a failure
    x = started(CHAIN);
    finish_protected(&x, false);
    fx_close(&x, TLS_DIR_C2S, false, 1);
    v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_SUCCEEDED);
    verdict_free(v);
    fx_free(&x);
}

// The origin's HelloRequest (its second protected handshake record), then a refusal or silence.
static void test_hello_request_unanswered(void **state) {
    (void)state;
    fx x = started(CHAIN);
    finish_protected(&x, true);
    x.t->renegotiation_attempt = true;
    fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_S2C, 0, 1);  // HelloRequest
    uint32_t hello_request = x.frame;
    fx_event(&x, TLS_EV_ENCRYPTED_ALERT, TLS_DIR_C2S, 0, 1);  // no_renegotiation (warning)
    served(&x);                                               // the origin's error page
    fx_close(&x, TLS_DIR_C2S, false, 1);
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_int_equal(v->cause, CAUSE_RENEGOTIATION_REFUSED);
    assert_int_equal(v->confidence, CONF_HIGH);
    assert_non_null(strstr(v->summary, "the origin asked to renegotiate"));
    assert_int_equal(v->evidence[0].frame, hello_request);
    verdict_free(v);
    fx_free(&x);
    // a stall: the HelloRequest and nothing after it until the capture ends
    x = started(CHAIN);
    finish_protected(&x, true);
    x.t->renegotiation_attempt = true;
    fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_S2C, 0, 1);
    x.t->end_reason = TLS_END_CAPTURE_END;
    v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_int_equal(v->cause, CAUSE_RENEGOTIATION_REFUSED);
    verdict_free(v);
    fx_free(&x);
    // near miss: the client renegotiated (a protected ClientHello) and was served: ok
    x = started(CHAIN);
    finish_protected(&x, true);
    x.t->renegotiation_attempt = true;
    fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_S2C, 0, 1);
    fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_C2S, 0, 1);
    served(&x);
    v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_SUCCEEDED);
    verdict_free(v);
    fx_free(&x);
}

// nginx `ssl_verify_client on`: empty client Certificate, handshake completed, HTTP 400 after.
static void test_empty_client_certificate_let_through(void **state) {
    (void)state;
    fx x = started(CHAIN);
    x.t->cert_req.present = true;
    x.t->cert_req.frame = x.frame;
    x.t->client_cert.present = true;  // empty
    finish_protected(&x, true);
    served(&x);
    fx_close(&x, TLS_DIR_S2C, false, 1);
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_int_equal(v->aborted_by, PARTY_SERVER);
    assert_int_equal(v->cause, CAUSE_CLIENT_CERT_REQUIRED);
    assert_non_null(strstr(v->summary, "CloudFront will see 400s"));
    assert_non_null(strstr(v->fix[0], "enable origin mTLS on the distribution"));
    assert_non_null(strstr(v->fix[0], "stop requiring client certificates"));
    verdict_free(v);
    // near miss: the same handshake from a client that is not CloudFront: a finding only (a
    // server that merely asks for a certificate serves such clients)
    x.t->client.addr[0] = 198;
    v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_SUCCEEDED);
    assert_true(fx_has_finding(v, CAUSE_CLIENT_CERT_REQUIRED));
    verdict_free(v);
    fx_free(&x);
}

// Origin mTLS: a client certificate sent, then the origin's unknown_ca.
static void test_client_certificate_rejected(void **state) {
    (void)state;
    fx x = started(CHAIN);
    x.t->cert_req.present = true;
    x.t->cert_req.frame = x.frame;
    uint32_t len = 0;
    x.der[x.ndr] = fx_der("leaf-clientauth", &len);
    x.t->client_cert.present = true;
    x.t->client_cert.num_certs = x.t->client_cert.num_stored = 1;
    x.t->client_cert.certs[0].der = x.der[x.ndr++];
    x.t->client_cert.certs[0].len = len;
    fx_event(&x, TLS_EV_HANDSHAKE, TLS_DIR_C2S, 11, 1);
    x.t->client_cert.frame = x.frame;
    x.t->client_key_exchange = true;
    fx_event(&x, TLS_EV_HANDSHAKE, TLS_DIR_C2S, 16, 0);
    fx_alert(&x, TLS_DIR_S2C, 2, 48);  // unknown_ca
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_int_equal(v->cause, CAUSE_CLIENT_CERT_REJECTED);
    assert_int_equal(v->confidence, CONF_HIGH);
    const char *c = fx_evidence(v, "client_certificate");
    assert_non_null(c);
    assert_non_null(strstr(c, "CN=origin.example.com"));
    assert_non_null(strstr(c, "issuer O=tlsdiag tests,CN=tlsdiag Test Intermediate CA"));
    assert_non_null(fx_evidence(v, "client_certificate_validity"));
    assert_non_null(strstr(v->summary, "unknown_ca"));
    assert_non_null(strstr(v->fix[0], "tlsdiag Test Intermediate CA"));
    assert_non_null(strstr(v->fix[1], "clientAuth"));
    verdict_free(v);
    // near miss: an empty Certificate refused (handshake_failure) is client_cert_required
    x.t->client_cert.num_certs = x.t->client_cert.num_stored = 0;
    x.t->events[x.t->num_events - 1].alert_desc = 40;
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_CLIENT_CERT_REQUIRED);
    verdict_free(v);
    fx_free(&x);
}

// TLS 1.3 hides the request, the certificate and the alert: the client flight's size tells
// whether a certificate was sent (pcaps/field/client_cert_rejected-apache-tls13-s2n.pcap).
static void test_client_certificate_rejected_tls13(void **state) {
    (void)state;
    for (int with_cert = 1; with_cert >= 0; with_cert--) {
        fx x = fx_new();
        fx_synack(&x);
        fx_client_hello(&x, "origin.example.com");
        x.t->ch.num_versions = 2;  // supported_versions: TLS 1.3, TLS 1.2
        x.t->ch.versions[0] = 0x0304;
        x.t->ch.versions[1] = 0x0303;
        x.t->sh.present = true;
        x.t->sh.legacy_version = 0x0303;
        x.t->sh.selected_version = 0x0304;
        x.t->sh.cipher = 0x1301;
        fx_event(&x, TLS_EV_HANDSHAKE, TLS_DIR_S2C, 2, 1);
        x.t->sh.frame = x.frame;
        fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_S2C, 0, 0);  // EE..Finished
        // Certificate (1.3 KB or an empty 25-byte one), [CertificateVerify,] Finished
        fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_C2S, 0, 1);
        x.t->events[x.t->num_events - 1].length = with_cert ? 1300 : 25;
        if (with_cert) {
            fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_C2S, 0, 0);
        }
        fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_C2S, 0, 0);
        fx_event(&x, TLS_EV_ENCRYPTED_ALERT, TLS_DIR_S2C, 0, 1);
        fx_close(&x, TLS_DIR_S2C, false, 1);
        verdict *v = run(&x);
        assert_int_equal(v->outcome, OUTCOME_FAILED);
        // near miss (no certificate): the empty Certificate refused is client_cert_required
        assert_int_equal(v->cause,
                         with_cert ? CAUSE_CLIENT_CERT_REJECTED : CAUSE_CLIENT_CERT_REQUIRED);
        assert_int_equal(v->confidence, CONF_MEDIUM);
        verdict_free(v);
        fx_free(&x);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_reset_without_alert),
        cmocka_unit_test(test_version_below_profile_minimum),
        cmocka_unit_test(test_close_after_finished_names_the_certificate),
        cmocka_unit_test(test_hello_request_unanswered),
        cmocka_unit_test(test_empty_client_certificate_let_through),
        cmocka_unit_test(test_client_certificate_rejected),
        cmocka_unit_test(test_client_certificate_rejected_tls13),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
