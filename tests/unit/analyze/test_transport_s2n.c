// test_transport_s2n.c — transport-level and no-alert failures as real origins produced them for
// CloudFront's client (pcaps/field/s2nnet/): a load balancer that gives up on a ClientHello
// spanning several segments before it has all arrived, an abortive close (FIN then the server's
// own RST), and a refusal of a hello without SNI. Each with a near miss that keeps its verdict.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "an_fixtures.h"

FX_SHARED_ANALYZER("cloudfront")

// hello: the TCP handshake and a CloudFront ClientHello (sni NULL: none).
static fx hello(const char *sni) {
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, sni);
    return x;
}

// partial_hello: the TCP handshake, then the first 216 bytes of a 322-byte ClientHello record
// (no complete record: the dissector reports the partial hello, no HANDSHAKE event).
static fx partial_hello(void) {
    fx x = fx_new();
    fx_synack(&x);
    x.t->ch_partial_declared = 322;
    x.t->ch_partial_seen = 216;
    x.t->tcp.bytes[TLS_DIR_C2S] = 216;
    return x;
}

// client_hello_rejected-haproxy-sni-split-s2n-2025.pcap conn 1 (formerly unknown, incomplete):
// haproxy closes after the hello's first segment, then resets the second.
static void test_hello_cut_by_server(void **state) {
    (void)state;
    fx x = partial_hello();
    fx_close(&x, TLS_DIR_S2C, false, 1);
    fx_close(&x, TLS_DIR_S2C, true, 200);
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_int_equal(v->cause, CAUSE_CLIENT_HELLO_REJECTED);
    assert_int_equal(v->confidence, CONF_MEDIUM);
    assert_non_null(strstr(v->summary, "closed the connection before the 322-byte ClientHello"));
    assert_non_null(strstr(v->summary, "216 bytes"));
    assert_string_equal(fx_evidence(v, "client_hello_size"), "322 bytes declared, 216 seen");
    verdict_free(v);
    fx_free(&x);
    // Near miss: the client gave up first (its FIN) — nothing says the server refused.
    x = partial_hello();
    fx_close(&x, TLS_DIR_C2S, false, 1);
    v = run(&x);
    assert_int_not_equal(v->cause, CAUSE_CLIENT_HELLO_REJECTED);
    verdict_free(v);
    fx_free(&x);
    // Near miss: the capture ends mid-hello, nobody closed: the capture is what is incomplete.
    x = partial_hello();
    x.t->end_reason = TLS_END_CAPTURE_END;
    x.t->quality.capture_ended = true;
    v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_INCOMPLETE);
    assert_int_not_equal(v->cause, CAUSE_CLIENT_HELLO_REJECTED);
    verdict_free(v);
    fx_free(&x);
}

// server_reset-haproxy-sni-reject-nolinger-s2n.pcap (formerly server_closed): haproxy's
// `option nolinger` sends FIN and, unprovoked, RST.
static void test_fin_then_own_reset(void **state) {
    (void)state;
    fx x = hello("origin.example.com");
    fx_close(&x, TLS_DIR_S2C, false, 1);
    fx_close(&x, TLS_DIR_S2C, true, 0);
    verdict *v = run(&x);
    assert_int_equal(v->cause, CAUSE_SERVER_RESET);
    verdict_free(v);
    fx_free(&x);
    // Near miss (pcaps/server_closed.pcap): the client's alert after the FIN draws the RST.
    x = hello("origin.example.com");
    fx_close(&x, TLS_DIR_S2C, false, 1);
    fx_alert(&x, TLS_DIR_C2S, 2, 50);
    fx_close(&x, TLS_DIR_S2C, true, 0);
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_SERVER_CLOSED);
    verdict_free(v);
    fx_free(&x);
    // Near miss: the client's FIN after the server's, then the RST: a close, answered.
    x = hello("origin.example.com");
    fx_close(&x, TLS_DIR_S2C, false, 1);
    fx_close(&x, TLS_DIR_C2S, false, 1);
    fx_close(&x, TLS_DIR_S2C, true, 0);
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_SERVER_CLOSED);
    verdict_free(v);
    fx_free(&x);
}

// server_closed-haproxy-backend-down-s2n.pcap: haproxy in TCP mode retries its dead backend for
// 3 s, then closes. The summary says a balancer waited; an immediate close keeps the old text;
// both fixes name the load balancer.
static void test_slow_close_names_the_balancer(void **state) {
    (void)state;
    fx x = hello("origin.example.com");
    fx_close(&x, TLS_DIR_S2C, false, 3000);
    verdict *v = run(&x);
    assert_int_equal(v->cause, CAUSE_SERVER_CLOSED);
    assert_non_null(strstr(v->summary, "(FIN) 3.0 s after the ClientHello"));
    assert_non_null(strstr(v->summary, "load balancer"));
    assert_string_equal(fx_evidence(v, "wait"), "3.0 s after the ClientHello");
    bool lb = false;
    for (uint32_t i = 0; i < v->num_fix; i++) {
        lb |= strstr(v->fix[i], "TCP load balancer") != NULL;
    }
    assert_true(lb);
    verdict_free(v);
    fx_free(&x);
    // Near miss: a close at once is the TLS server's own refusal.
    x = hello("origin.example.com");
    fx_close(&x, TLS_DIR_S2C, true, 5);
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_SERVER_RESET);
    assert_string_equal(v->summary,
                        "the server reset the connection after the ClientHello, without an alert");
    assert_null(fx_evidence(v, "wait"));
    verdict_free(v);
    fx_free(&x);
}

// sni_missing-haproxy-strict-sni-s2n.pcap (formerly sni_rejected "refused the SNI '(none)'").
static void test_no_sni_unrecognized_name(void **state) {
    (void)state;
    fx x = hello(NULL);
    fx_alert(&x, TLS_DIR_S2C, 2, 112);
    verdict *v = run(&x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_int_equal(v->cause, CAUSE_SNI_MISSING);
    assert_int_equal(v->confidence, CONF_HIGH);
    assert_non_null(strstr(v->summary, "no SNI"));
    assert_null(strstr(v->summary, "(none)"));
    verdict_free(v);
    fx_free(&x);
    // Near miss: a name was sent and refused.
    x = hello("other.example.net");
    fx_alert(&x, TLS_DIR_S2C, 2, 112);
    v = run(&x);
    assert_int_equal(v->cause, CAUSE_SNI_REJECTED);
    assert_non_null(strstr(v->summary, "other.example.net"));
    verdict_free(v);
    fx_free(&x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_cut_by_server),
        cmocka_unit_test(test_fin_then_own_reset),
        cmocka_unit_test(test_slow_close_names_the_balancer),
        cmocka_unit_test(test_no_sni_unrecognized_name),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
