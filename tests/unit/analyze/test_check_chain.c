// test_check_chain.c — analyzer_check_chain: a chain judged from files (doctor/), without a
// capture: the same certificate causes as a handshake, the analyzer's "now", no summary count.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

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

// check_by: analyzer a's verdict on the chain of the named fixtures, in this order, for sni.
static verdict *check_by(analyzer *a, const char *sni, const char *const *names, uint32_t n) {
    uint8_t *der[8];
    uint32_t len[8];
    for (uint32_t i = 0; i < n; i++) {
        der[i] = fx_der(names[i], &len[i]);
    }
    verdict *v = analyzer_check_chain(a, (const uint8_t *const *)der, len, n, sni, NULL);
    for (uint32_t i = 0; i < n; i++) {
        free(der[i]);
    }
    assert_non_null(v);
    assert_int_equal(v->method, METHOD_CONFIG);
    assert_int_equal(v->outcome, OUTCOME_SUCCEEDED);
    return v;
}

// check: the cloudfront analyzer's verdict.
static verdict *check(const char *sni, const char *const *names, uint32_t n) {
    return check_by(A, sni, names, n);
}

static void full_chain_is_ok(void **state) {
    (void)state;
    const char *names[] = {"leaf", "inter"};
    verdict *v = check("origin.example.com", names, 2);
    assert_int_equal(v->cause, CAUSE_OK);
    assert_int_equal(v->num_certs, 2);
    assert_string_equal(verdict_method_name(v->method), "config");
    verdict_free(v);
}

static void leaf_only_misses_the_intermediate(void **state) {
    (void)state;
    const char *names[] = {"leaf"};
    verdict *v = check("origin.example.com", names, 1);
    assert_int_equal(v->cause, CAUSE_CERT_MISSING_INTERMEDIATE);
    assert_true(v->predicted);
    assert_true(v->num_fix > 0);
    verdict_free(v);
}

static void expired_and_wrong_name(void **state) {
    (void)state;
    const char *expired[] = {"leaf-expired", "inter"};
    verdict *v = check("origin.example.com", expired, 2);
    assert_int_equal(v->cause, CAUSE_CERT_EXPIRED);
    verdict_free(v);
    const char *names[] = {"leaf", "inter"};
    v = check("www.other.example", names, 2);
    assert_int_equal(v->cause, CAUSE_CERT_NAME_MISMATCH);
    verdict_free(v);
    v = check(NULL, names, 2);  // no name known: no name check
    assert_int_equal(v->cause, CAUSE_OK);
    verdict_free(v);
}

static void misordered_and_weak(void **state) {
    (void)state;
    const char *names[] = {"inter", "leaf"};
    verdict *v = check("origin.example.com", names, 2);
    assert_int_not_equal(v->cause, CAUSE_OK);
    verdict_free(v);
    // The same certificates judged for any client (generic): NIST's 2048 bits, SHA-256 or better,
    // strict order.
    analyzer *g = fx_analyzer("generic");
    const char *weak[] = {"leaf-rsa1024", "inter"};
    v = check_by(g, "origin.example.com", weak, 2);
    assert_int_equal(v->cause, CAUSE_CERT_WEAK_KEY);
    verdict_free(v);
    analyzer_free(g);
}

// What s2n-tls under the CloudFront-Upstream policies accepts, though OpenSSL at its default
// security level refuses it: an RSA-1024 leaf, a SHA-1 signature, intermediates out of order
// after the leaf (tls/s2n_x509_validator.c:479, :642, :649, :872; the s2nc captures
// pcaps/field/s2ncert/ok-nginx-rsa1024-s2n.pcap, ok-nginx-sha1-s2n.pcap,
// ok-nginx-misordered-chain-s2n.pcap).
static void what_s2n_accepts(void **state) {
    (void)state;
    const char *rsa1024[] = {"leaf-rsa1024", "inter"};
    verdict *v = check("origin.example.com", rsa1024, 2);
    assert_int_equal(v->cause, CAUSE_OK);
    assert_int_equal(v->num_findings, 0);
    verdict_free(v);
    const char *sha1[] = {"leaf-sha1", "inter"};
    v = check("origin.example.com", sha1, 2);
    assert_int_equal(v->cause, CAUSE_OK);
    assert_int_equal(v->num_findings, 0);
    verdict_free(v);
    const char *out_of_order[] = {"leaf", "root", "inter"};
    v = check("origin.example.com", out_of_order, 3);
    assert_int_equal(v->cause, CAUSE_OK);
    // Still said, as a finding that does not claim CloudFront would refuse: AWS's guide and s2n
    // disagree.
    assert_int_equal(v->num_findings, 1);
    assert_int_equal(v->findings[0].cause, CAUSE_CERT_CHAIN_MISORDERED);
    assert_null(strstr(v->findings[0].text, "would refuse"));
    assert_non_null(strstr(v->findings[0].text, "AWS's guide"));
    verdict_free(v);
}

static void not_counted_in_the_summary(void **state) {
    (void)state;
    const char *names[] = {"leaf"};
    verdict *v = check("origin.example.com", names, 1);
    verdict_free(v);
    assert_int_equal(analyzer_summary(A)->connections, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_chain_is_ok),
        cmocka_unit_test(leaf_only_misses_the_intermediate),
        cmocka_unit_test(expired_and_wrong_name),
        cmocka_unit_test(misordered_and_weak),
        cmocka_unit_test(what_s2n_accepts),
        cmocka_unit_test(not_counted_in_the_summary),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
