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
        ch->groups[ch->num_groups++] = 0x11EC;  // X25519MLKEM768, first share of the -PQ policies
        ch->key_share_groups[0] = 0x11EC;
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
                        "ClientHellos match s2n CloudFront-Upstream-2025: TLS 1.3 first, "
                        "X25519MLKEM768 key share, RSA-PSS offered");
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
    assert_non_null(strstr(v->profile_why, "CloudFront-Upstream-2025: TLS 1.3 first"));
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
