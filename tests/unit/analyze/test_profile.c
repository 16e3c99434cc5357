// test_profile.c — the embedded CloudFront profile, the profile parser's errors, prefix matching
// (IPv4/IPv6, longest match) and the AWS ip-ranges.json loader.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "an_fixtures.h"

#define RANGES TLSDIAG_SOURCE_DIR "/tests/data/analyze/"

static tls_endpoint ep(const char *addr) {
    tls_endpoint e;
    memset(&e, 0, sizeof e);
    e.family = strchr(addr, ':') ? 6 : 4;
    assert_int_equal(inet_pton(e.family == 4 ? AF_INET : AF_INET6, addr, e.addr), 1);
    return e;
}

static void test_embedded_profile(void **state) {
    (void)state;
    an_profile p;
    char err[256] = "";
    assert_true(an_profile_parse((const char *)an_embedded_profile, an_embedded_profile_len, &p,
                                 err, sizeof err));
    assert_string_equal(p.name, "cloudfront");
    assert_string_equal(p.version, "2026-12-07");
    assert_true(p.cloudfront);
    assert_int_equal(p.num_versions, 3);
    assert_false(an_list_has(p.versions, p.num_versions, 0x0300));  // SSLv3 only when selected
    assert_false(an_list_has(p.versions, p.num_versions, 0x0304));
    assert_int_equal(p.num_ciphers, 19);  // the DG's 16, then s2n's 3 more
    assert_int_equal(p.ciphers[0], 0xC02C);
    assert_int_equal(p.ciphers[15], 0x0004);
    assert_int_equal(p.ciphers[18], 0x003C);
    assert_int_equal(p.num_groups, 3);
    assert_true(an_list_has(p.groups, p.num_groups, 0x001D));
    assert_int_equal(p.num_sigalgs, 10);
    assert_false(an_list_has(p.sigalgs, p.num_sigalgs, 0x0804));  // no RSA-PSS
    assert_int_equal(p.rsa_min_bits, 1024);  // what s2n accepts (data/profile-cloudfront.conf)
    assert_int_equal(p.rsa_max_bits, 4096);
    assert_true(p.cert_sha1);
    assert_true(p.leaf_first_only);
    assert_true(an_profile_has_curve(&p, "secp384r1"));
    assert_false(an_profile_has_curve(&p, "secp521r1"));
    assert_false(p.renegotiation);
}

// The two CloudFront profiles share the analyzer's chain cache, which is keyed without the
// profile (analyze_internal.h, an_chain_analyze): they must judge certificates alike.
static void test_family_judges_certificates_alike(void **state) {
    (void)state;
    an_profile a, b;
    char err[256] = "";
    assert_true(an_profile_parse((const char *)an_embedded_profile, an_embedded_profile_len, &a,
                                 err, sizeof err));
    assert_true(an_profile_parse((const char *)an_embedded_profile_2025,
                                 an_embedded_profile_2025_len, &b, err, sizeof err));
    assert_int_equal(a.rsa_min_bits, b.rsa_min_bits);
    assert_int_equal(a.rsa_max_bits, b.rsa_max_bits);
    assert_int_equal(a.cert_sha1, b.cert_sha1);
    assert_int_equal(a.leaf_first_only, b.leaf_first_only);
    assert_int_equal(a.num_curves, b.num_curves);
    for (uint32_t i = 0; i < a.num_curves; i++) {
        assert_string_equal(a.curves[i], b.curves[i]);
    }
}

static void test_profile_errors(void **state) {
    (void)state;
    an_profile p;
    memset(&p, 0x5a, sizeof p);
    an_profile before = p;
    char err[256] = "";
    const char bad_version[] = "name = x\nversion = 1\nversions = TLSv1.2 TLSv9\n";
    assert_false(an_profile_parse(bad_version, strlen(bad_version), &p, err, sizeof err));
    assert_string_equal(err, "profile line 3: bad key or value for \"versions\"");
    assert_memory_equal(&p, &before, sizeof p);  // untouched on failure
    const char no_eq[] = "name = x\nciphers 0xC02F\n";
    assert_false(an_profile_parse(no_eq, strlen(no_eq), &p, err, sizeof err));
    assert_string_equal(err, "profile line 2: expected \"key = value\"");
    const char no_version[] = "name = x # comment\n";
    assert_false(an_profile_parse(no_version, strlen(no_version), &p, err, sizeof err));
    assert_non_null(strstr(err, "required"));
    const char bad_hex[] = "name = x\nversion = 1\nciphers = 0xC02F 0x1FFFF\n";
    assert_false(an_profile_parse(bad_hex, strlen(bad_hex), &p, err, sizeof err));
    assert_string_equal(err, "profile line 3: bad key or value for \"ciphers\"");
    const char bad_order[] = "name = x\nversion = 1\nchain_order = any\n";
    assert_false(an_profile_parse(bad_order, strlen(bad_order), &p, err, sizeof err));
    assert_string_equal(err, "profile line 3: bad key or value for \"chain_order\"");
    const char strict[] = "name = x\nversion = 1\nchain_order = strict\ncert_sha1 = no\n";
    assert_true(an_profile_parse(strict, strlen(strict), &p, err, sizeof err));
    assert_false(p.leaf_first_only);
    assert_false(p.cert_sha1);
}

static void test_embedded_prefixes(void **state) {
    (void)state;
    an_prefixes p;
    char err[256] = "", net[64] = "";
    assert_true(an_prefixes_parse_text((const char *)an_embedded_prefixes, an_embedded_prefixes_len,
                                       &p, err, sizeof err));
    assert_int_equal(p.n, 49);  // ORIGIN_FACING: 46 IPv4 + 3 IPv6
    assert_string_equal(p.source, "embedded 2026-08-22");
    tls_endpoint e = ep("15.158.1.2");
    assert_true(an_prefixes_match(&p, &e, net, sizeof net));
    assert_string_equal(net, "15.158.0.0/16");
    e = ep("13.124.199.255");
    assert_true(an_prefixes_match(&p, &e, net, sizeof net));
    assert_string_equal(net, "13.124.199.0/24");
    e = ep("13.124.200.0");  // just past the /24
    assert_false(an_prefixes_match(&p, &e, net, sizeof net));
    e = ep("192.0.2.1");
    assert_false(an_prefixes_match(&p, &e, net, sizeof net));
    e = ep("2600:9000:1fff:ffff::1");
    assert_true(an_prefixes_match(&p, &e, net, sizeof net));
    assert_string_equal(net, "2600:9000:1000::/36");
    e = ep("2600:9000:2000::1");  // CLOUDFRONT but not origin-facing
    assert_false(an_prefixes_match(&p, &e, net, sizeof net));
    an_prefixes_free(&p);
}

static void test_longest_match_and_bad_line(void **state) {
    (void)state;
    an_prefixes p;
    char err[256] = "", net[64] = "";
    const char text[] =
        "# === service=CLOUDFRONT_ORIGIN_FACING ipv4 ===\n10.0.0.0/8\n10.1.0.0/16\n"
        "10.1.2.0/24\n10.1.2.0/24\n2001:db8::/32\n";
    assert_true(an_prefixes_parse_text(text, strlen(text), &p, err, sizeof err));
    assert_int_equal(p.n, 4);  // duplicate removed
    tls_endpoint e = ep("10.1.2.3");
    assert_true(an_prefixes_match(&p, &e, net, sizeof net));
    assert_string_equal(net, "10.1.2.0/24");
    e = ep("10.1.3.3");
    assert_true(an_prefixes_match(&p, &e, net, sizeof net));
    assert_string_equal(net, "10.1.0.0/16");
    e = ep("10.200.0.1");
    assert_true(an_prefixes_match(&p, &e, net, sizeof net));
    assert_string_equal(net, "10.0.0.0/8");
    e = ep("2001:db8:ffff::1");
    assert_true(an_prefixes_match(&p, &e, net, sizeof net));
    assert_string_equal(net, "2001:db8::/32");
    an_prefixes_free(&p);
    const char bad[] = "10.0.0.0/8\n10.0.0.0/33\n";
    assert_false(an_prefixes_parse_text(bad, strlen(bad), &p, err, sizeof err));
    assert_string_equal(err, "prefix list line 2: not a CIDR prefix: \"10.0.0.0/33\"");
}

// The IPv4 first-octet index gives the same answers as the binary searches it replaced (the
// fallback when the index is absent), prefixes shorter than /8 and /0 included.
static void test_v4_index_same_as_search(void **state) {
    (void)state;
    an_prefixes p;
    char err[256] = "";
    const char text[] =
        "# === service=CLOUDFRONT_ORIGIN_FACING ipv4 ===\n8.0.0.0/7\n9.128.0.0/9\n"
        "9.130.0.0/16\n9.130.5.0/24\n9.130.5.7/32\n200.0.0.0/6\n54.0.0.0/8\n"
        "54.239.0.0/17\n2001:db8::/32\n";
    assert_true(an_prefixes_parse_text(text, strlen(text), &p, err, sizeof err));
    assert_non_null(p.v4_list);
    an_prefixes slow = p;
    slow.v4_list = NULL;
    uint32_t x = 12345;
    unsigned hits = 0;
    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        tls_endpoint e = {.family = 4};
        uint32_t a = x;
        if (i % 4 == 0) {
            a = (x & 0x00ffffffu) | (i % 8 == 0 ? 0x09000000u : 0x36000000u);  // 9.x, 54.x
        }
        e.addr[0] = (uint8_t)(a >> 24), e.addr[1] = (uint8_t)(a >> 16);
        e.addr[2] = (uint8_t)(a >> 8), e.addr[3] = (uint8_t)a;
        char n1[64] = "", n2[64] = "";
        bool m1 = an_prefixes_match(&p, &e, n1, sizeof n1);
        bool m2 = an_prefixes_match(&slow, &e, n2, sizeof n2);
        assert_int_equal(m1, m2);
        assert_string_equal(n1, n2);
        hits += m1;
    }
    assert_true(hits > 20000);
    char net[64];
    tls_endpoint e = ep("9.130.5.7");
    assert_true(an_prefixes_match(&p, &e, net, sizeof net));
    assert_string_equal(net, "9.130.5.7/32");
    e = ep("203.1.2.3");
    assert_true(an_prefixes_match(&p, &e, net, sizeof net));
    assert_string_equal(net, "200.0.0.0/6");
    an_prefixes_free(&p);
}

static void test_ranges_json(void **state) {
    (void)state;
    an_prefixes p;
    char err[256] = "", net[64] = "";
    assert_true(an_prefixes_load_json(RANGES "ip-ranges-small.json", &p, err, sizeof err));
    assert_int_equal(p.n, 2);  // only CLOUDFRONT_ORIGIN_FACING, IPv4 and IPv6
    assert_non_null(strstr(p.source, "2026-08-22-15-17-05"));
    tls_endpoint e = ep("15.158.9.9");
    assert_true(an_prefixes_match(&p, &e, net, sizeof net));
    e = ep("13.32.0.1");  // CLOUDFRONT only: not taken while ORIGIN_FACING exists
    assert_false(an_prefixes_match(&p, &e, net, sizeof net));
    e = ep("2600:9000:1000::5");
    assert_true(an_prefixes_match(&p, &e, net, sizeof net));
    an_prefixes_free(&p);
    // fallback: a file from before CLOUDFRONT_ORIGIN_FACING existed
    assert_true(
        an_prefixes_load_json(RANGES "ip-ranges-no-origin-facing.json", &p, err, sizeof err));
    assert_int_equal(p.n, 1);
    e = ep("13.33.1.1");
    assert_true(an_prefixes_match(&p, &e, net, sizeof net));
    assert_string_equal(net, "13.32.0.0/15");
    an_prefixes_free(&p);
    assert_false(an_prefixes_load_json(RANGES "ip-ranges-broken.json", &p, err, sizeof err));
    assert_non_null(strstr(err, "--ranges " RANGES "ip-ranges-broken.json:2: not JSON"));
    assert_false(an_prefixes_load_json(RANGES "missing.json", &p, err, sizeof err));
    assert_non_null(strstr(err, "--ranges " RANGES "missing.json: does not exist; give AWS's "
                                "ip-ranges.json"));
}

static void test_analyzer_config(void **state) {
    (void)state;
    analyzer_config c;
    analyzer_config_default(&c);
    assert_null(c.profile);  // cloudfront, recognising the 2025 policies from the wire
    c.ca_file = CERT_DIR "root.pem";
    c.ranges_file = RANGES "ip-ranges-small.json";
    char err[256] = "";
    analyzer *a = analyzer_new(&c, err, sizeof err);
    assert_non_null(a);
    assert_string_equal(analyzer_profile_version(a), "2026-12-07");
    assert_non_null(strstr(analyzer_prefix_source(a), "ip-ranges-small.json"));
    assert_non_null(strstr(analyzer_trust_store(a), "root.pem: 1 certificate, sha256 "));
    analyzer_free(a);
    c.ca_file = CERT_DIR "make.sh";  // not PEM
    assert_null(analyzer_new(&c, err, sizeof err));
    assert_non_null(strstr(err, "--ca-file " CERT_DIR "make.sh: is not a PEM file of CA"));
    c.ca_file = CERT_DIR "no-such.pem";  // missing: said so, not "not PEM"
    assert_null(analyzer_new(&c, err, sizeof err));
    assert_non_null(strstr(err, "no-such.pem: does not exist; give a PEM file"));
    c.ca_file = CERT_DIR;  // a directory: that is --ca-path
    assert_null(analyzer_new(&c, err, sizeof err));
    assert_non_null(strstr(err, ": is a directory; give a PEM file"));
    assert_non_null(strstr(err, "(a directory is --ca-path)"));
    c.ca_file = CERT_DIR "root.pem";
    c.profile = "akamai";
    assert_null(analyzer_new(&c, err, sizeof err));
    assert_string_equal(err,
                        "unknown profile \"akamai\" (use cloudfront, cloudfront-2025 or generic)");
    c.profile = "generic";
    c.ca_file = NULL;  // the system store
    a = analyzer_new(&c, err, sizeof err);
    assert_non_null(a);
    assert_non_null(strstr(analyzer_trust_store(a), "system "));
    analyzer_free(a);
    analyzer_free(NULL);
}

static void test_networks_and_texts(void **state) {
    (void)state;
    char net[64];
    tls_endpoint e = ep("198.51.100.77");
    an_endpoint_network(&e, net, sizeof net);
    assert_string_equal(net, "198.51.100.0/24");
    e = ep("2001:db8:1:2:3::9");
    an_endpoint_network(&e, net, sizeof net);
    assert_string_equal(net, "2001:db8:1::/48");
    an_text_vars v = {.sni = "a.example.com", .server = "192.0.2.1", .port = "443"};
    char out[128];
    an_text_expand("connect {server}:{port} -servername {sni} {nope} {issuer}", &v, out,
                   sizeof out);
    assert_string_equal(out, "connect 192.0.2.1:443 -servername a.example.com {nope} ?");
    // A shell word is never cut: the line ends before a word that does not fit.
    an_text_expand("{sni}{sni}", &v, out, 10);
    assert_string_equal(out, "");
    an_text_expand("x {sni}{sni}", &v, out, 16);
    assert_string_equal(out, "x a.example.com");
    // {sni} {server} {port} are quoted where they are substituted; prose placeholders are not.
    an_text_vars q = {.sni = "o$(touch X).example",
                      .server = "[2001:db8::1]",
                      .port = "443",
                      .issuer = "CN=it's"};
    an_text_expand("s_client -connect {server}:{port} -servername {sni} ({issuer})", &q, out,
                   sizeof out);
    assert_string_equal(out,
                        "s_client -connect '[2001:db8::1]':443 -servername "
                        "'o$(touch X).example' (CN=it's)");
    // A value no shell word can carry prints as "?".
    an_text_vars nl = {.sni = "a\nb", .server = "192.0.2.1", .port = "443"};
    an_text_expand("-servername {sni}", &nl, out, sizeof out);
    assert_string_equal(out, "-servername ?");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_profile),
        cmocka_unit_test(test_profile_errors),
        cmocka_unit_test(test_family_judges_certificates_alike),
        cmocka_unit_test(test_embedded_prefixes),
        cmocka_unit_test(test_longest_match_and_bad_line),
        cmocka_unit_test(test_v4_index_same_as_search),
        cmocka_unit_test(test_ranges_json),
        cmocka_unit_test(test_analyzer_config),
        cmocka_unit_test(test_networks_and_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
