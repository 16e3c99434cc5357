// test_rules_wire.c — the causes read from real captures' failures (issue 16 item 6):
// client_hello_rejected, handshake_integrity_failure, client_closed, mid-stream captures and the
// "closest rules" of what stays unknown; each with a near miss that must not choose it.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "an_fixtures.h"

FX_SHARED_ANALYZER("cloudfront")

static const char *const CHAIN[] = {"leaf", "inter", NULL};

// fx_hello_size sets the wire length of the ClientHello message (its HANDSHAKE event).
static void fx_hello_size(fx *x, uint32_t message_len) {
    for (uint32_t i = 0; i < x->t->num_events; i++) {
        tls_event *e = &x->t->events[i];
        if (e->kind == TLS_EV_HANDSHAKE && e->dir == TLS_DIR_C2S && e->hs_type == 1) {
            e->length = message_len;
        }
    }
}

// Corpus: mercury__top_100_fingerprints.pcap streams 11, 34, 64, 70 (decode_error after the
// ClientHello), formerly `unknown`.
static void test_client_hello_rejected_by_alert(void **state) {
    (void)state;
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    fx_alert(&x, TLS_DIR_S2C, 2, 50);  // decode_error
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_int_equal(v->cause, CAUSE_CLIENT_HELLO_REJECTED);
    assert_int_equal(v->confidence, CONF_HIGH);
    assert_non_null(strstr(v->summary, "decode_error"));
    verdict_free(v);
    x.t->events[x.t->num_events - 1].alert_desc = 47;  // illegal_parameter
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_CLIENT_HELLO_REJECTED);
    verdict_free(v);
    // near miss: handshake_failure is a refusal of the offer, not of the hello
    x.t->events[x.t->num_events - 1].alert_desc = 40;
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_NO_SHARED_CIPHER);
    verdict_free(v);
    fx_free(&x);
}

// A reset right after a ClientHello larger than one full-size segment (post-quantum key
// shares): client_hello_rejected; the same reset after a small one stays server_reset.
static void test_client_hello_rejected_large_hello(void **state) {
    (void)state;
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    fx_hello_size(&x, 1800);
    fx_close(&x, TLS_DIR_S2C, true, 2);
    verdict *v = run(&x);
    assert_int_equal(v->cause, CAUSE_CLIENT_HELLO_REJECTED);
    assert_int_equal(v->confidence, CONF_MEDIUM);
    assert_non_null(strstr(v->summary, "1809-byte ClientHello"));
    assert_non_null(fx_evidence(v, "client_hello_size"));
    verdict_free(v);
    fx_hello_size(&x, 500);  // near miss: fits one segment
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_SERVER_RESET);
    verdict_free(v);
    fx_free(&x);
    x = fx_new();  // a FIN instead of the RST: the same refusal, told as a close
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    fx_hello_size(&x, 1800);
    fx_close(&x, TLS_DIR_S2C, false, 2);
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_CLIENT_HELLO_REJECTED);
    assert_non_null(strstr(v->summary, "closed"));
    verdict_free(v);
    fx_free(&x);
}

// pcaps/field/pq/client_hello_rejected-firstseg-split-s2n-2025-pq.pcap: the reset follows a
// hello that the capture shows in two segments. The evidence names the segments and the
// post-quantum key share; and on a path with a small MSS a 700-byte hello in two segments is
// the same failure, which the 1460-byte rule of thumb alone called server_reset.
static void test_client_hello_rejected_split_segments(void **state) {
    (void)state;
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    fx_hello_size(&x, 1547);  // 1556 bytes on the wire, as s2n's CloudFront-Upstream-2025-PQ
    x.t->ch.segments = 2;
    x.t->ch.num_key_shares = 2;
    x.t->ch.key_share_groups[0] = 0x11EC;
    x.t->ch.key_share_groups[1] = 0x0017;
    fx_close(&x, TLS_DIR_S2C, true, 2);
    verdict *v = run(&x);
    assert_int_equal(v->cause, CAUSE_CLIENT_HELLO_REJECTED);
    assert_non_null(strstr(v->summary, "1556-byte ClientHello that spanned 2 TCP segments"));
    assert_string_equal(fx_evidence(v, "client_hello_size"),
                        "1556 bytes in 2 TCP segments, 0 extensions, key shares X25519MLKEM768 + "
                        "secp256r1");
    verdict_free(v);
    fx_hello_size(&x, 691);  // a small MSS: 700 bytes, still two segments
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_CLIENT_HELLO_REJECTED);
    assert_non_null(strstr(v->summary, "700-byte ClientHello that spanned 2 TCP segments"));
    verdict_free(v);
    x.t->ch.segments = 1;  // near miss: the same hello in one segment
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_SERVER_RESET);
    verdict_free(v);
    fx_free(&x);
}

// Corpus: tls-breaker__Sample5.pcapng (bad_record_mac from the server after the client's
// Finished, RSA key exchange), formerly `unknown`.
static void test_handshake_integrity_failure(void **state) {
    (void)state;
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    fx_server_flight(&x, CHAIN);
    x.t->ske.present = false;  // RSA key exchange
    x.t->client_key_exchange = true;
    fx_event(&x, TLS_EV_HANDSHAKE, TLS_DIR_C2S, 16, 1);
    x.t->ccs[TLS_DIR_C2S] = true;
    fx_event(&x, TLS_EV_CHANGE_CIPHER_SPEC, TLS_DIR_C2S, 0, 0);
    fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_C2S, 0, 0);
    fx_alert(&x, TLS_DIR_S2C, 2, 20);  // bad_record_mac
    verdict *v = run(&x);
    assert_int_equal(v->cause, CAUSE_HANDSHAKE_INTEGRITY_FAILURE);
    assert_int_equal(v->confidence, CONF_HIGH);
    assert_int_equal(v->aborted_by, PARTY_SERVER);
    assert_non_null(strstr(v->summary, "private key that does not match"));
    assert_non_null(fx_evidence(v, "client_finished"));
    verdict_free(v);
    x.t->events[x.t->num_events - 1].alert_desc = 51;  // decrypt_error: the same
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_HANDSHAKE_INTEGRITY_FAILURE);
    verdict_free(v);
    fx_free(&x);
    // near miss: bad_record_mac before the client sent its Finished is not about Finished
    x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    fx_server_flight(&x, CHAIN);
    fx_alert(&x, TLS_DIR_C2S, 2, 20);
    v = run(&x);
    assert_int_not_equal(v->cause, CAUSE_HANDSHAKE_INTEGRITY_FAILURE);
    verdict_free(v);
    fx_free(&x);
}

// Corpus: mercury__top_100_fingerprints.pcap (TLS 1.3 ServerHello from www.google.com, then a
// RST from the scanner), formerly `unknown`.
static void test_client_closed(void **state) {
    (void)state;
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    x.t->ch.num_versions = 2;  // TLS 1.3 and 1.2
    x.t->ch.versions[0] = 0x0304;
    x.t->ch.versions[1] = 0x0303;
    x.t->sh.present = true;
    x.t->sh.legacy_version = 0x0303;
    x.t->sh.selected_version = 0x0304;
    x.t->sh.cipher = 0x1301;
    fx_event(&x, TLS_EV_HANDSHAKE, TLS_DIR_S2C, 2, 10);
    x.t->sh.frame = x.frame;
    x.t->encrypted[TLS_DIR_S2C] = true;
    fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_S2C, 0, 0);
    fx_close(&x, TLS_DIR_C2S, true, 1);
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_int_equal(v->cause, CAUSE_CLIENT_CLOSED);
    assert_int_equal(v->confidence, CONF_LOW);  // TLS 1.3: a silent certificate refusal too
    assert_non_null(strstr(v->summary, "s2n-tls"));
    verdict_free(v);
    fx_free(&x);
    // TLS 1.2 with a chain that verifies: medium, the client's own policy
    x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    fx_server_flight(&x, CHAIN);
    fx_close(&x, TLS_DIR_C2S, false, 5);
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_CLIENT_CLOSED);
    assert_int_equal(v->confidence, CONF_MEDIUM);
    verdict_free(v);
    fx_free(&x);
    // near miss: the same close after a certificate with a fault is that fault
    x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "other.example.net");
    fx_server_flight(&x, CHAIN);
    fx_close(&x, TLS_DIR_C2S, false, 5);
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_CERT_NAME_MISMATCH);
    assert_false(fx_has_finding(v, CAUSE_CLIENT_CLOSED));  // a last resort, never a finding
    verdict_free(v);
    fx_free(&x);
    // near miss: a client that waited 4 s for an answer that never came is server_timeout
    x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    fx_close(&x, TLS_DIR_C2S, false, 4000);
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_SERVER_TIMEOUT);
    verdict_free(v);
    fx_free(&x);
}

// Corpus: ndpi__KakaoTalk_chat.pcap streams 6 and 17, ndpi__tls_alert.pcap stream 1: the
// capture starts mid-connection and the only TLS seen is an encrypted alert (most often a
// close_notify): nothing was judged, so the outcome is incomplete, not failed.
static void test_midstream_encrypted_alert(void **state) {
    (void)state;
    fx x = fx_new();
    x.t->quality.midstream = true;
    x.t->tcp.syn = false;
    x.t->is_tls = true;
    fx_event(&x, TLS_EV_ENCRYPTED_ALERT, TLS_DIR_S2C, 0, 1);
    fx_close(&x, TLS_DIR_S2C, false, 1);
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_INCOMPLETE);
    assert_int_equal(v->cause, CAUSE_CAPTURE_INCOMPLETE);
    verdict_free(v);
    fx_free(&x);
}

// Corpus: zeek__tls1.2-protocol-violation.pcap: the server direction stopped being parsed at a
// message that declared more than the message cap, so its Finished and data were never read.
static void test_message_cap_is_incomplete(void **state) {
    (void)state;
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    fx_server_flight(&x, CHAIN);
    x.t->quality.message_cap_hit = true;
    fx_event(&x, TLS_EV_ENCRYPTED_ALERT, TLS_DIR_C2S, 0, 3000);
    fx_close(&x, TLS_DIR_C2S, false, 0);
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_INCOMPLETE);
    assert_int_equal(v->cause, CAUSE_CAPTURE_INCOMPLETE);
    assert_non_null(strstr(v->summary, "message-length cap"));
    verdict_free(v);
    fx_free(&x);
}

// What stays unknown names the rules it came closest to and what each one missed.
static void test_unknown_lists_closest_rules(void **state) {
    (void)state;
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    fx_server_flight(&x, CHAIN);
    fx_close(&x, TLS_DIR_S2C, false, 5);  // the server closes after its own flight, no alert
    verdict *v = run(&x);
    assert_int_equal(v->cause, CAUSE_UNKNOWN);
    bool found = false;
    for (uint32_t i = 0; i < v->num_findings; i++) {
        if (v->findings[i].cause == CAUSE_UNKNOWN &&
            strstr(v->findings[i].text, "closest rules: ") == v->findings[i].text) {
            found = true;
            assert_non_null(strstr(v->findings[i].text, "server_closed / server_reset"));
            assert_non_null(strstr(v->findings[i].text, "certificate rules"));
        }
    }
    assert_true(found);
    verdict_free(v);
    fx_free(&x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_hello_rejected_by_alert),
        cmocka_unit_test(test_client_hello_rejected_large_hello),
        cmocka_unit_test(test_client_hello_rejected_split_segments),
        cmocka_unit_test(test_handshake_integrity_failure),
        cmocka_unit_test(test_client_closed),
        cmocka_unit_test(test_midstream_encrypted_alert),
        cmocka_unit_test(test_message_cap_is_incomplete),
        cmocka_unit_test(test_unknown_lists_closest_rules),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
