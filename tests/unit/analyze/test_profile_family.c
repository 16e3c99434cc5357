// test_profile_family.c — the CloudFront profiles are data (data/profile-cloudfront*.conf,
// from s2n-tls's CloudFront-Upstream policies) and the wire decides which one judges: a
// ClientHello from a CloudFront address is matched against them; --profile overrides; every
// verdict says which profile judged and why.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "an_fixtures.h"

static const char *const CHAIN[] = {"leaf", "inter", NULL};

// s2nc -c CloudFront-Upstream-2025 (pcaps/field/ok-nginx-s2n-2025-tls13.pcap): TLS 1.3 first,
// the 2025 suites, a P-256 key share, the 20250820 signature schemes.
static void hello_2025(tls_client_hello *ch, bool pq) {
    static const uint16_t versions[] = {0x0304, 0x0303, 0x0302, 0x0301, 0x0300};
    static const uint16_t ciphers[] = {0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C,
                                       0xC030, 0x009C, 0x002F, 0x000A, 0x00FF};
    static const uint16_t sigalgs[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805,
                                       0x0806, 0x0401, 0x0501, 0x0601, 0x0201};
    memcpy(ch->versions, versions, sizeof versions);
    ch->num_versions = sizeof versions / sizeof versions[0];
    memcpy(ch->ciphers, ciphers, sizeof ciphers);
    ch->num_ciphers = sizeof ciphers / sizeof ciphers[0];
    memcpy(ch->sigalgs, sigalgs, sizeof sigalgs);
    ch->num_sigalgs = sizeof sigalgs / sizeof sigalgs[0];
    ch->num_groups = 3;
    ch->groups[0] = 0x0017;
    ch->groups[1] = 0x001D;
    ch->groups[2] = 0x0018;
    ch->num_key_shares = 1;
    ch->key_share_groups[0] = 0x0017;
    if (pq) {
        // s2nc -c CloudFront-Upstream-2025-PQ on AWS-LC (pcaps/field/pq/): the three hybrids
        // first in supported_groups, an X25519MLKEM768 share beside the secp256r1 one, and the
        // 20250821 signature schemes, which put ML-DSA (0x0904-0x0906) before ECDSA.
        static const uint16_t groups[] = {0x11EC, 0x11EB, 0x11ED, 0x0017, 0x001D, 0x0018};
        static const uint16_t sigalgs_pq[] = {0x0904, 0x0905, 0x0906, 0x0403, 0x0503,
                                              0x0603, 0x0804, 0x0805, 0x0806, 0x0401,
                                              0x0501, 0x0601, 0x0201};
        memcpy(ch->groups, groups, sizeof groups);
        ch->num_groups = sizeof groups / sizeof groups[0];
        memcpy(ch->sigalgs, sigalgs_pq, sizeof sigalgs_pq);
        ch->num_sigalgs = sizeof sigalgs_pq / sizeof sigalgs_pq[0];
        ch->num_key_shares = 2;
        ch->key_share_groups[0] = 0x11EC;
        ch->key_share_groups[1] = 0x0017;
    }
}

// ok_tls13 builds a TLS 1.3 handshake that completed, from client address a.b.c.d.
static fx ok_tls13(const uint8_t addr[4], bool pq) {
    fx x = fx_new();
    memcpy(x.t->client.addr, addr, 4);
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    hello_2025(&x.t->ch, pq);
    fx_server_flight(&x, CHAIN);
    x.t->sh.selected_version = 0x0304;
    x.t->sh.cipher = 0x1301;
    x.t->sh.key_share_group = 0x0017;
    x.t->cert.present = false;
    x.t->ske.present = false;
    fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_S2C, 0, 1);
    fx_event(&x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_C2S, 0, 1);
    x.t->app_records[0] = x.t->app_records[1] = 1;
    fx_event(&x, TLS_EV_APPLICATION_DATA, TLS_DIR_C2S, 0, 1);
    fx_event(&x, TLS_EV_APPLICATION_DATA, TLS_DIR_S2C, 0, 1);
    x.t->end_reason = TLS_END_HANDSHAKE_DONE;
    return x;
}

static const uint8_t EDGE[4] = {15, 158, 1, 2}, OTHER[4] = {198, 51, 100, 7};

// The embedded 2025 profile holds what s2n's policy offers (tls/s2n_security_policies.c).
static void test_2025_profile_is_the_s2n_policy(void **state) {
    (void)state;
    an_profile p;
    char err[200] = "";
    assert_true(an_profile_parse((const char *)an_embedded_profile_2025,
                                 an_embedded_profile_2025_len, &p, err, sizeof err));
    assert_string_equal(p.name, "cloudfront-2025");
    assert_string_equal(p.policy, "CloudFront-Upstream-2025");
    assert_true(p.cloudfront);
    assert_true(an_list_has(p.versions, p.num_versions, 0x0304));
    assert_int_equal(p.ciphers[0], 0x1301);                      // TLS 1.3 suites first
    assert_true(an_list_has(p.sigalgs, p.num_sigalgs, 0x0804));  // RSA-PSS
    assert_true(an_list_has(p.groups, p.num_groups, 0x11EC));    // X25519MLKEM768 (-PQ)
    an_profile c;
    assert_true(an_profile_parse((const char *)an_embedded_profile, an_embedded_profile_len, &c,
                                 err, sizeof err));
    assert_string_equal(c.policy, "CloudFront-Upstream");
    assert_false(an_list_has(c.versions, c.num_versions, 0x0304));
    assert_false(an_list_has(c.sigalgs, c.num_sigalgs, 0x0804));
    // what a hello fits: the 2025 one only the 2025 profile, a 2014-style one both
    tls_client_hello ch;
    memset(&ch, 0, sizeof ch);
    ch.present = true;
    ch.legacy_version = 0x0303;
    hello_2025(&ch, true);
    assert_true(an_profile_fits(&p, &ch));
    assert_false(an_profile_fits(&c, &ch));
    char why[200];
    an_profile_why(&p, &ch, why, sizeof why);
    assert_string_equal(why,
                        "ClientHellos match s2n CloudFront-Upstream-2025-PQ: TLS 1.3 first, "
                        "X25519MLKEM768 + secp256r1 key shares, RSA-PSS offered");
    hello_2025(&ch, false);  // the same policy family without ML-KEM: not the -PQ variant
    an_profile_why(&p, &ch, why, sizeof why);
    assert_string_equal(why,
                        "ClientHellos match s2n CloudFront-Upstream-2025: TLS 1.3 first, "
                        "secp256r1 key share, RSA-PSS offered");
    ch.num_versions = 0;  // TLS 1.2 at most, PKCS#1 only: CloudFront-Upstream's offer
    ch.num_ciphers = 2;
    ch.ciphers[0] = 0xC02F;
    ch.ciphers[1] = 0x009D;
    ch.num_sigalgs = 1;
    ch.sigalgs[0] = 0x0401;
    ch.num_groups = 1;
    ch.num_key_shares = 0;
    assert_true(an_profile_fits(&c, &ch));
    ch.ciphers[1] = 0xCCA8;  // ECDHE-RSA-CHACHA20-POLY1305: in neither policy
    assert_false(an_profile_fits(&c, &ch));
    assert_false(an_profile_fits(&p, &ch));
}

// A TLS 1.3 handshake from CloudFront that shows the 2025 policy is judged by it: no "CloudFront
// does not offer TLS 1.3" finding, and the verdict says why.
static void test_wire_picks_the_2025_profile(void **state) {
    (void)state;
    analyzer *a = fx_analyzer(NULL);
    fx x = ok_tls13(EDGE, true);
    verdict *v = analyzer_run(a, x.t);
    assert_non_null(v);
    assert_int_equal(v->cause, CAUSE_OK);
    assert_string_equal(v->profile, "cloudfront-2025");
    assert_non_null(strstr(v->profile_why, "CloudFront-Upstream-2025-PQ: TLS 1.3 first"));
    assert_false(fx_has_finding(v, CAUSE_PROTOCOL_VERSION_MISMATCH));
    verdict_free(v);
    const summary *s = analyzer_summary(a);
    assert_int_equal(s->num_judged, 1);
    assert_string_equal(s->judged[0].profile, "cloudfront-2025");
    assert_int_equal(s->judged[0].connections, 1);
    fx_free(&x);
    // not from a CloudFront address: the default profile, which does not offer TLS 1.3
    x = ok_tls13(OTHER, false);
    v = analyzer_run(a, x.t);
    assert_string_equal(v->profile, "cloudfront");
    assert_string_equal(v->profile_why,
                        "the default profile (the client is not a CloudFront address)");
    assert_true(fx_has_finding(v, CAUSE_PROTOCOL_VERSION_MISMATCH));
    verdict_free(v);
    assert_int_equal(analyzer_summary(a)->num_judged, 2);
    fx_free(&x);
    analyzer_free(a);
}

// One capture, two policies of the same family (pcaps/field/pq/client_hello_rejected-firstseg-
// split-s2n-2025-pq.pcap: a CloudFront-Upstream-2025 hello, then a -PQ one): the summary keeps
// both reasons, so the -PQ variant is not hidden behind the first connection's.
static void test_summary_keeps_each_variant(void **state) {
    (void)state;
    analyzer *a = fx_analyzer(NULL);
    fx x = ok_tls13(EDGE, false), y = ok_tls13(EDGE, true), z = ok_tls13(EDGE, true);
    verdict_free(analyzer_run(a, x.t));
    verdict_free(analyzer_run(a, y.t));
    verdict_free(analyzer_run(a, z.t));
    const summary *s = analyzer_summary(a);
    assert_int_equal(s->num_judged, 2);
    assert_string_equal(s->judged[0].profile, "cloudfront-2025");
    assert_non_null(strstr(s->judged[0].why, "CloudFront-Upstream-2025: "));
    assert_int_equal(s->judged[0].connections, 1);
    assert_string_equal(s->judged[1].profile, "cloudfront-2025");
    assert_non_null(strstr(s->judged[1].why, "CloudFront-Upstream-2025-PQ: "));
    assert_int_equal(s->judged[1].connections, 2);
    fx_free(&x);
    fx_free(&y);
    fx_free(&z);
    analyzer_free(a);
}

// --profile decides for every handshake, and says so.
static void test_profile_option_overrides_the_wire(void **state) {
    (void)state;
    analyzer *a = fx_analyzer("cloudfront");
    fx x = ok_tls13(EDGE, false);
    verdict *v = analyzer_run(a, x.t);
    assert_string_equal(v->profile, "cloudfront");
    assert_string_equal(v->profile_why, "set by --profile");
    assert_true(fx_has_finding(v, CAUSE_PROTOCOL_VERSION_MISMATCH));
    verdict_free(v);
    analyzer_free(a);
    a = fx_analyzer("cloudfront-2025");
    v = analyzer_run(a, x.t);
    assert_string_equal(v->profile, "cloudfront-2025");
    assert_false(fx_has_finding(v, CAUSE_PROTOCOL_VERSION_MISMATCH));
    assert_true(v->client_is_cloudfront);  // the prefixes come with every CloudFront profile
    verdict_free(v);
    analyzer_free(a);
    fx_free(&x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_2025_profile_is_the_s2n_policy),
        cmocka_unit_test(test_wire_picks_the_2025_profile),
        cmocka_unit_test(test_profile_option_overrides_the_wire),
        cmocka_unit_test(test_summary_keeps_each_variant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
