// test_summary.c — counting per cause / SNI / network / certificate, `intermittent`, the
// dominant cause's example verdict, and the key cap ("other").
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "an_fixtures.h"
#include "summary_internal.h"

static const char *const CHAIN[] = {"leaf", "inter", NULL};

// one_conn: a completed handshake (ok) or a server reset after the ClientHello, at T0 + offset.
static void one_conn(analyzer *a, const char *sni, bool ok, int64_t offset_s, uint8_t client_last) {
    fx x = fx_new();
    x.t->client.addr[3] = client_last;
    x.t->first_ts_ns += offset_s * NS;
    fx_synack(&x);
    fx_client_hello(&x, sni);
    if (ok) {
        fx_server_flight(&x, CHAIN);
        fx_finish_ok(&x);
    } else {
        fx_close(&x, TLS_DIR_S2C, true, 2);
    }
    verdict *v = analyzer_run(a, x.t);
    assert_non_null(v);
    assert_int_equal(v->cause, ok ? CAUSE_OK : CAUSE_SERVER_RESET);
    verdict_free(v);
    fx_free(&x);
}

static void test_counts_and_intermittent(void **state) {
    (void)state;
    analyzer *a = fx_analyzer("cloudfront");
    const summary *s = analyzer_summary(a);
    assert_int_equal(s->connections, 0);
    assert_int_equal(s->dominant, CAUSE_OK);
    assert_null(s->dominant_example);
    assert_false(s->intermittent);

    one_conn(a, "b.example.com", true, 0, 2);
    one_conn(a, "a.example.com", false, 10, 2);
    one_conn(a, "a.example.com", false, 20, 3);
    one_conn(a, "c.example.com", false, 30, 2);
    s = analyzer_summary(a);
    assert_int_equal(s->connections, 4);
    assert_int_equal(s->succeeded, 1);
    assert_int_equal(s->failed, 3);
    assert_int_equal(s->by_cause[CAUSE_SERVER_RESET], 3);
    assert_int_equal(s->by_cause[CAUSE_OK], 1);
    assert_int_equal(s->dominant, CAUSE_SERVER_RESET);
    assert_non_null(s->dominant_example);
    assert_int_equal(s->dominant_example->cause, CAUSE_SERVER_RESET);
    assert_int_not_equal(s->dominant_example->num_fix, 0);
    assert_int_equal(s->first_fail_ns, T0 * NS - 20000000LL + 10 * NS);
    assert_int_equal(s->last_fail_ns, T0 * NS - 20000000LL + 30 * NS);
    // per SNI, sorted by failures
    assert_int_equal(s->num_sni, 3);
    assert_string_equal(s->by_sni[0].key, "a.example.com");
    assert_int_equal(s->by_sni[0].failed, 2);
    assert_int_equal(s->by_sni[0].top_cause, CAUSE_SERVER_RESET);
    assert_string_equal(s->by_sni[2].key, "b.example.com");
    assert_int_equal(s->by_sni[2].ok, 1);
    // no SNI both succeeded and failed yet
    assert_false(s->intermittent);
    // per network: all from CloudFront's 15.158.0.0/16
    assert_int_equal(s->num_networks, 1);
    assert_string_equal(s->by_network[0].key, "15.158.0.0/16");
    assert_int_equal(s->by_network[0].failed, 3);
    assert_int_equal(s->by_network[0].ok, 1);
    // per served certificate: only the completed handshake served one
    assert_int_equal(s->num_certs, 1);
    assert_int_equal(strlen(s->by_cert[0].key), 64);

    one_conn(a, "a.example.com", true, 40, 4);
    s = analyzer_summary(a);
    assert_true(s->intermittent);
    assert_string_equal(s->intermittent_sni, "a.example.com");
    analyzer_free(a);
}

// The handshakes without SNI are one bucket, flagged absent (JSON prints its name as null); a
// client that sends the bytes "(no SNI)" as its name gets a bucket of its own.
static void test_no_sni_bucket(void **state) {
    (void)state;
    analyzer *a = fx_analyzer("cloudfront");
    one_conn(a, NULL, false, 0, 2);
    one_conn(a, NULL, true, 10, 2);
    one_conn(a, "(no SNI)", false, 20, 3);
    const summary *s = analyzer_summary(a);
    assert_int_equal(s->num_sni, 2);
    int absent = -1, named = -1;
    for (int i = 0; i < 2; i++) {
        assert_string_equal(s->by_sni[i].key, "(no SNI)");
        if (s->by_sni[i].absent) {
            absent = i;
        } else {
            named = i;
        }
    }
    assert_true(absent >= 0 && named >= 0);
    assert_int_equal(s->by_sni[absent].ok, 1);
    assert_int_equal(s->by_sni[absent].failed, 1);
    assert_int_equal(s->by_sni[named].failed, 1);
    assert_true(s->intermittent);
    assert_true(s->intermittent_no_sni);
    analyzer_free(a);
}

static void test_non_cloudfront_network_is_slash24(void **state) {
    (void)state;
    analyzer *a = fx_analyzer("cloudfront");
    fx x = fx_new();
    const uint8_t viewer[4] = {198, 51, 100, 77};
    memcpy(x.t->client.addr, viewer, 4);
    fx_synack(&x);
    fx_client_hello(&x, "a.example.com");
    fx_close(&x, TLS_DIR_S2C, false, 2);
    verdict *v = analyzer_run(a, x.t);
    assert_int_equal(v->cause, CAUSE_SERVER_CLOSED);
    assert_false(v->client_is_cloudfront);
    assert_string_equal(v->client_network, "");
    verdict_free(v);
    fx_free(&x);
    const summary *s = analyzer_summary(a);
    assert_string_equal(s->by_network[0].key, "198.51.100.0/24");
    analyzer_free(a);
}

static void test_key_cap_other_bucket(void **state) {
    (void)state;
    an_summary *s = an_summary_new();
    assert_non_null(s);
    verdict *v = calloc(1, sizeof *v);
    v->outcome = OUTCOME_FAILED;
    v->cause = CAUSE_CERT_EXPIRED;
    v->has_sni = true;
    v->client.family = 4;
    for (int i = 0; i < AN_SUMMARY_MAX_KEYS + 10; i++) {
        snprintf(v->sni, sizeof v->sni, "h%d.example.com", i);
        an_summary_add(s, v);
    }
    const summary *p = an_summary_get(s);
    assert_int_equal(p->num_sni, AN_SUMMARY_MAX_KEYS + 1);
    assert_string_equal(p->by_sni[0].key, "other");  // 10 failures, the most
    assert_int_equal(p->by_sni[0].failed, 10);
    assert_int_equal(p->failed, AN_SUMMARY_MAX_KEYS + 10);
    assert_int_equal(p->dominant, CAUSE_CERT_EXPIRED);
    free(v);
    an_summary_free(s);
    an_summary_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_intermittent),
        cmocka_unit_test(test_no_sni_bucket),
        cmocka_unit_test(test_non_cloudfront_network_is_slash24),
        cmocka_unit_test(test_key_cap_other_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
