// test_x509.c — certificate causes from real PEM fixtures: validation at handshake time, the
// precise chain cause, names (RFC 6125 wildcards), purpose, keys and signatures.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

// judge_ex: ClientHello with sni, the server flight with certs (certs[0] replaced by der0 when
// given), then the client's fatal alert (desc) and FIN — or a completed handshake when desc is
// 0 — all moved by shift_s seconds, judged by a.
static verdict *judge_ex(analyzer *a, const char *sni, const char *const *certs, uint8_t desc,
                         const uint8_t *der0, uint32_t len0, int64_t shift_s) {
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, sni);
    fx_server_flight(&x, certs);
    if (der0) {
        uint8_t *copy = malloc(len0);
        assert_non_null(copy);
        memcpy(copy, der0, len0);
        free(x.der[0]);
        x.der[0] = copy;
        x.t->cert.certs[0].der = copy;
        x.t->cert.certs[0].len = len0;
    }
    if (desc) {
        fx_alert(&x, TLS_DIR_C2S, 2, desc);
        fx_close(&x, TLS_DIR_C2S, false, 1);
    } else {
        fx_finish_ok(&x);
    }
    for (uint32_t i = 0; i < x.t->num_events; i++) {
        x.t->events[i].ts_ns += shift_s * NS;
    }
    x.t->first_ts_ns += shift_s * NS;
    x.t->last_ts_ns += shift_s * NS;
    verdict *v = analyzer_run(a, x.t);
    fx_free(&x);
    assert_non_null(v);
    return v;
}

// judge: judge_ex by the shared analyzer, fixtures only, at T0.
static verdict *judge(const char *sni, const char *const *certs, uint8_t desc) {
    return judge_ex(A, sni, certs, desc, NULL, 0, 0);
}

static void test_valid_chain_ok(void **state) {
    (void)state;
    const char *c[] = {"leaf", "inter", NULL};
    verdict *v = judge("origin.example.com", c, 0);
    assert_int_equal(v->outcome, OUTCOME_SUCCEEDED);
    assert_int_equal(v->cause, CAUSE_OK);
    assert_string_equal(v->verify_error, "ok");
    assert_int_equal(v->num_certs, 2);
    assert_string_equal(v->certs[0].subject, "CN=origin.example.com");
    assert_string_equal(v->certs[0].sans, "origin.example.com");
    assert_string_equal(v->certs[0].key_type, "RSA");
    assert_int_equal(v->certs[0].key_bits, 2048);
    assert_string_equal(v->certs[0].sig_alg, "sha256WithRSAEncryption");
    assert_int_equal(strlen(v->certs[0].sha256), 64);
    assert_false(v->certs[0].is_ca);
    assert_true(v->certs[1].is_ca);
    assert_string_equal(v->certs[0].aki, v->certs[1].ski);
    assert_int_equal(v->certs[0].not_before, 1577836800);  // 2020-01-01
    assert_int_equal(strlen(v->chain_sha256), 64);
    assert_int_equal(v->num_findings, 0);
    verdict_free(v);
}

static void test_expired_leaf(void **state) {
    (void)state;
    const char *c[] = {"leaf-expired", "inter", NULL};
    verdict *v = judge("origin.example.com", c, 45);
    assert_int_equal(v->cause, CAUSE_CERT_EXPIRED);
    assert_int_equal(v->confidence, CONF_HIGH);
    assert_int_equal(v->aborted_by, PARTY_CLIENT);
    assert_string_equal(v->failed_step, "after server Certificate");
    assert_int_equal(v->alert_desc, 45);
    assert_non_null(fx_evidence(v, "validity"));
    verdict_free(v);
}

static void test_not_yet_valid_leaf(void **state) {
    (void)state;
    const char *c[] = {"leaf-notyet", "inter", NULL};
    verdict *v = judge("origin.example.com", c, 45);
    assert_int_equal(v->cause, CAUSE_CERT_NOT_YET_VALID);
    // A date a reader can use, not seconds since 1970 (the handshake is on 2026-01-01).
    assert_string_equal(v->summary,
                        "the leaf certificate becomes valid only on 2050-01-01 "
                        "00:00:00 UTC, 8766 day(s) after the handshake");
    verdict_free(v);
}

static void test_expired_intermediate(void **state) {
    (void)state;
    const char *c[] = {"leaf", "inter-expired", NULL};
    verdict *v = judge("origin.example.com", c, 45);
    assert_int_equal(v->cause, CAUSE_CERT_INTERMEDIATE_EXPIRED);
    assert_non_null(strstr(v->summary, "Intermediate CA"));
    // near miss: the leaf itself is fine, so not cert_expired
    assert_false(fx_has_finding(v, CAUSE_CERT_EXPIRED));
    verdict_free(v);
}

static void test_self_signed(void **state) {
    (void)state;
    const char *c[] = {"selfsigned", NULL};
    // unknown_ca(48), the same alert a missing intermediate gets: the chain decides
    verdict *v = judge("origin.example.com", c, 48);
    assert_int_equal(v->cause, CAUSE_CERT_SELF_SIGNED);
    assert_int_equal(v->confidence, CONF_HIGH);
    assert_true(v->certs[0].self_signed);
    assert_true(v->certs[0].self_issued);
    assert_int_not_equal(v->num_dead_ends, 0);
    assert_non_null(strstr(v->dead_ends[0], "HTTP Only"));
    verdict_free(v);
}

static void test_private_ca(void **state) {
    (void)state;
    const char *c[] = {"privleaf", "privroot", NULL};
    verdict *v = judge("origin.example.com", c, 48);
    assert_int_equal(v->cause, CAUSE_CERT_UNTRUSTED_CA);
    assert_non_null(strstr(v->summary, "Example Corp Internal Root"));
    assert_string_equal(fx_evidence(v, "untrusted_root"),
                        "O=Example Corp,CN=Example Corp Internal Root");
    verdict_free(v);
}

static void test_private_ca_root_not_sent(void **state) {
    (void)state;
    // leaf + private intermediate; the private root is neither sent nor trusted: untrusted CA,
    // not a missing intermediate (the server sent every intermediate there is).
    const char *c[] = {"privleaf2", "privinter", NULL};
    verdict *v = judge("origin.example.com", c, 48);
    assert_int_equal(v->cause, CAUSE_CERT_UNTRUSTED_CA);
    assert_string_equal(fx_evidence(v, "untrusted_root"),
                        "O=Example Corp,CN=Example Corp Internal Root");
    assert_false(fx_has_finding(v, CAUSE_CERT_MISSING_INTERMEDIATE));
    verdict_free(v);
}

static void test_missing_intermediate(void **state) {
    (void)state;
    const char *c[] = {"leaf", NULL};
    verdict *v = judge("origin.example.com", c, 48);
    assert_int_equal(v->cause, CAUSE_CERT_MISSING_INTERMEDIATE);
    assert_string_equal(fx_evidence(v, "missing_issuer"),
                        "O=tlsdiag tests,CN=tlsdiag Test Intermediate CA");
    assert_string_equal(fx_evidence(v, "missing_issuer_keyid"), v->certs[0].aki);
    assert_non_null(strstr(v->fix[0], "fullchain.pem"));
    assert_non_null(strstr(v->fix[0], "tlsdiag Test Intermediate CA"));
    assert_non_null(strstr(v->dead_ends[0], "browser"));
    assert_string_equal(
        v->check_command,
        "openssl s_client -connect 192.0.2.10:443 -servername origin.example.com -showcerts");
    // near miss: not self-signed
    assert_false(v->certs[0].self_signed);
    verdict_free(v);
}

static void test_misordered(void **state) {
    (void)state;
    const char *c[] = {"leaf", "root", "inter", NULL};
    verdict *v = judge("origin.example.com", c, 0);
    // OpenSSL (and this handshake's client) accepts it, and so does s2n, CloudFront's client: the
    // leaf comes first, and s2n hands the rest to X509_verify_cert as an unordered pool
    // (tls/s2n_x509_validator.c:649; pcaps/field/s2ncert/ok-nginx-misordered-chain-s2n.pcap).
    // AWS's guide says CloudFront drops chains in the wrong order: a finding, not a failure.
    assert_int_equal(v->cause, CAUSE_OK);
    assert_true(fx_has_finding(v, CAUSE_CERT_CHAIN_MISORDERED));
    verdict_free(v);
    // The leaf not first: s2n takes the first certificate as the leaf, and refuses.
    const char *leaf_second[] = {"inter", "leaf", NULL};
    v = judge("origin.example.com", leaf_second, 42);
    assert_int_not_equal(v->cause, CAUSE_OK);
    verdict_free(v);
}

static void test_correct_order_with_root_not_misordered(void **state) {
    (void)state;
    const char *c[] = {"leaf", "inter", "root", NULL};
    verdict *v = judge("origin.example.com", c, 0);
    assert_int_equal(v->cause, CAUSE_OK);
    assert_int_equal(v->num_findings, 0);
    verdict_free(v);
}

static void test_extra_cert_is_finding(void **state) {
    (void)state;
    const char *c[] = {"leaf", "inter", "privroot", NULL};
    verdict *v = judge("origin.example.com", c, 0);
    assert_int_equal(v->cause, CAUSE_OK);
    assert_true(fx_has_finding(v, CAUSE_CERT_CHAIN_MISORDERED));
    assert_non_null(strstr(v->findings[0].text, "not part of the chain"));
    verdict_free(v);
}

static void test_wildcard_rules(void **state) {
    (void)state;
    const char *c[] = {"leaf-wildcard", "inter", NULL};
    verdict *v = judge("a.example.com", c, 0);
    assert_int_equal(v->num_findings, 0);
    verdict_free(v);
    v = judge("a.b.example.com", c, 42);
    assert_int_equal(v->cause, CAUSE_CERT_NAME_MISMATCH);
    assert_null(fx_evidence(v, "default_certificate"));  // same site: not a default cert
    verdict_free(v);
    v = judge("example.com", c, 42);
    assert_int_equal(v->cause, CAUSE_CERT_NAME_MISMATCH);
    assert_non_null(strstr(v->dead_ends[0], "DNS"));
    verdict_free(v);
}

static void test_name_mismatch_and_cn_fallback(void **state) {
    (void)state;
    const char *c[] = {"leaf-wrongname", "inter", NULL};
    verdict *v = judge("origin.example.com", c, 42);
    assert_int_equal(v->cause, CAUSE_CERT_NAME_MISMATCH);
    assert_string_equal(fx_evidence(v, "sni"), "origin.example.com");
    assert_non_null(strstr(fx_evidence(v, "default_certificate"), "default certificate"));
    verdict_free(v);
    const char *cn[] = {"leaf-cnonly", "inter", NULL};
    v = judge("origin.example.com", cn, 0);  // CN used: no DNS SAN
    assert_int_equal(v->num_findings, 0);
    verdict_free(v);
}

static void test_sni_missing(void **state) {
    (void)state;
    const char *c[] = {"leaf-wrongname", "inter", NULL};
    verdict *v = judge(NULL, c, 42);
    assert_int_equal(v->cause, CAUSE_SNI_MISSING);
    assert_false(v->has_sni);
    assert_non_null(strstr(v->check_command, "-noservername"));
    verdict_free(v);
}

static void test_eku_client_only(void **state) {
    (void)state;
    const char *c[] = {"leaf-clientauth", "inter", NULL};
    verdict *v = judge("origin.example.com", c, 43);
    assert_int_equal(v->cause, CAUSE_CERT_WRONG_PURPOSE);
    assert_int_equal(v->confidence, CONF_HIGH);
    verdict_free(v);
}

static void test_rsa1024(void **state) {
    (void)state;
    const char *c[] = {"leaf-rsa1024", "inter", NULL};
    verdict *v = judge("origin.example.com", c, 43);
    assert_int_equal(v->cause, CAUSE_CERT_WEAK_KEY);
    assert_non_null(strstr(v->summary, "RSA-1024"));
    verdict_free(v);
}

static void test_p521_refused_p256_fine(void **state) {
    (void)state;
    const char *c[] = {"leaf-p521", "inter", NULL};
    verdict *v = judge("origin.example.com", c, 0);
    assert_int_equal(v->cause, CAUSE_OK);
    assert_true(fx_has_finding(v, CAUSE_CERT_WEAK_KEY));
    assert_string_equal(v->certs[0].curve, "secp521r1");
    verdict_free(v);
    const char *p256[] = {"leaf-p256", "inter", NULL};
    v = judge("origin.example.com", p256, 0);
    assert_false(fx_has_finding(v, CAUSE_CERT_WEAK_KEY));
    assert_string_equal(v->certs[0].key_type, "EC");
    verdict_free(v);
}

static void test_sha1(void **state) {
    (void)state;
    const char *c[] = {"leaf-sha1", "inter", NULL};
    verdict *v = judge("origin.example.com", c, 42);
    assert_int_equal(v->cause, CAUSE_CERT_WEAK_SIGNATURE);
    assert_non_null(strstr(v->summary, "sha1WithRSAEncryption"));
    verdict_free(v);
}

static void test_expires_soon_finding(void **state) {
    (void)state;
    // "now" 2059-12-20: the leaf (notAfter 2060-01-01) is valid at handshake time, expiring soon.
    analyzer_config c;
    analyzer_config_default(&c);
    c.ca_file = CERT_DIR "root.pem";
    c.now = 2840140800LL - 12 * 86400;  // 2060-01-01 minus 12 days
    char err[256];
    analyzer *a = analyzer_new(&c, err, sizeof err);
    assert_non_null(a);
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    const char *chain[] = {"leaf", "inter", NULL};
    fx_server_flight(&x, chain);
    fx_finish_ok(&x);
    verdict *v = analyzer_run(a, x.t);
    assert_int_equal(v->cause, CAUSE_OK);
    assert_true(fx_has_finding(v, CAUSE_CERT_EXPIRED));
    assert_non_null(strstr(v->findings[0].text, "expires in 12 days"));
    verdict_free(v);
    fx_free(&x);
    analyzer_free(a);
}

static void test_cache_same_chain_same_result(void **state) {
    (void)state;
    const char *c[] = {"leaf", NULL};
    verdict *v1 = judge("origin.example.com", c, 48);
    verdict *v2 = judge("origin.example.com", c, 48);
    assert_int_equal(v1->cause, v2->cause);
    assert_string_equal(v1->chain_sha256, v2->chain_sha256);
    assert_string_equal(fx_evidence(v2, "missing_issuer"), fx_evidence(v1, "missing_issuer"));
    verdict_free(v1);
    verdict_free(v2);
}

// The chain cache is keyed by (chain, SNI, hour), but a certificate can expire inside an hour.
// A self-signed certificate made here ends at H + 30 min (H a whole hour) and is the only trust
// anchor: handshakes at H + 10 min (valid), H + 40 min (expired) and H + 16 min (valid again)
// fall in one hour bucket, and each must get the result of its own second.
// make_cert: a self-signed P-256 certificate for origin.example.com valid until not_after, with
// the subjectAltName value sans (OpenSSL config syntax); written to pem_path unless NULL.
static uint8_t *make_cert(int64_t not_after, const char *pem_path, const char *sans,
                          uint32_t *len) {
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    assert_non_null(k);
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"origin.example.com",
                               -1, -1, 0);
    X509_set_issuer_name(x, n);
    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)1577836800);
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after);
    X509_set_pubkey(x, k);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, sans);
    assert_non_null(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    if (pem_path) {
        FILE *f = fopen(pem_path, "w");
        assert_non_null(f);
        assert_int_equal(PEM_write_X509(f, x), 1);
        fclose(f);
    }
    int l = i2d_X509(x, NULL);
    assert_true(l > 0);
    uint8_t *der = malloc((size_t)l), *p = der;
    assert_non_null(der);
    i2d_X509(x, &p);
    *len = (uint32_t)l;
    X509_free(x);
    EVP_PKEY_free(k);
    return der;
}

static verdict *judge_at(analyzer *a, const uint8_t *der, uint32_t len, int64_t when,
                         uint8_t desc) {
    const char *c[] = {"leaf", NULL};
    return judge_ex(a, "origin.example.com", c, desc, der, len, when - T0);
}

// expiring_anchor: a certificate valid until H + 30 min (make_cert), written into a new
// directory (dir: a mkdtemp template; pem gets the file's path) as the only trust anchor of an
// analyzer whose "now" is H.
static analyzer *expiring_anchor(int64_t H, char *dir, char pem[64], uint8_t **der, uint32_t *len) {
    assert_non_null(mkdtemp(dir));
    snprintf(pem, 64, "%s/anchor.pem", dir);
    *der = make_cert(H + 1800, pem, "DNS:origin.example.com", len);
    analyzer_config cfg;
    analyzer_config_default(&cfg);
    cfg.ca_file = pem;
    cfg.now = H;
    char err[256] = "";
    analyzer *a = analyzer_new(&cfg, err, sizeof err);
    assert_non_null(a);
    return a;
}

static void test_cache_respects_expiry_inside_an_hour(void **state) {
    (void)state;
    const int64_t H = 1640995200;  // 2022-01-01T00:00:00Z, a multiple of 3600
    char dir[] = "/tmp/tlsdiag-x509XXXXXX", pem[64];
    uint32_t len;
    uint8_t *der;
    analyzer *a = expiring_anchor(H, dir, pem, &der, &len);
    verdict *v1 = judge_at(a, der, len, H + 600, 0);
    assert_string_equal(v1->verify_error, "ok");
    assert_int_equal(v1->cause, CAUSE_OK);
    verdict *v2 = judge_at(a, der, len, H + 2400, 45);
    assert_string_equal(v2->verify_error, "certificate has expired");
    assert_int_equal(v2->cause, CAUSE_CERT_EXPIRED);
    verdict *v3 = judge_at(a, der, len, H + 1000, 0);
    assert_string_equal(v3->verify_error, "ok");
    verdict_free(v1);
    verdict_free(v2);
    verdict_free(v3);
    analyzer_free(a);
    free(der);
    unlink(pem);
    rmdir(dir);
}

// The chain results shared by the analyzers of one run (--threads workers): a chain one
// analyzer verified is not verified again by another, which gets the same result (copied
// under the caller's lock, taken around each lookup and insert, never nested); the trust
// store is the shared one (the workers name no CA file of their own).
typedef struct test_lock {
    int depth, taken;
} test_lock;

static void tl_lock(void *user) {
    test_lock *l = user;
    assert_int_equal(l->depth, 0);
    l->depth++;
    l->taken++;
}

static void tl_unlock(void *user) {
    test_lock *l = user;
    assert_int_equal(l->depth, 1);
    l->depth--;
}

// worker_of: an analyzer with s's store, now and chain results, and no CA file of its own.
static analyzer *worker_of(analyzer_shared *s) {
    analyzer_config c;
    analyzer_config_default(&c);
    c.profile = "cloudfront";
    c.shared = s;
    char err[256] = "";
    analyzer *a = analyzer_new(&c, err, sizeof err);
    assert_non_null(a);
    return a;
}

static void test_shared_chain_verified_once(void **state) {
    (void)state;
    test_lock l = {0, 0};
    analyzer_shared *s =
        analyzer_shared_new(A, &(analyzer_lock){tl_lock, tl_unlock, NULL, NULL, &l});
    assert_non_null(s);
    analyzer *w1 = worker_of(s), *w2 = worker_of(s);
    assert_string_equal(analyzer_trust_store(w1), analyzer_trust_store(A));
    const char *c[] = {"leaf", "inter", NULL};
    analyzer_shared_counts k;
    verdict *v1 = judge_ex(w1, "origin.example.com", c, 0, NULL, 0, 0);
    analyzer_shared_counts_get(s, &k);
    assert_int_equal(k.verified, 1);
    assert_int_equal(k.answered, 0);
    verdict *v2 = judge_ex(w2, "origin.example.com", c, 0, NULL, 0, 0);
    analyzer_shared_counts_get(s, &k);
    assert_int_equal(k.verified, 1);  // w2 took w1's result
    assert_int_equal(k.answered, 1);
    verdict *v3 = judge_ex(w2, "origin.example.com", c, 0, NULL, 0, 0);
    analyzer_shared_counts_get(s, &k);
    assert_int_equal(k.verified + k.answered, 2);  // w2's own cache answered, no lock
    verdict *v4 = judge_ex(A, "origin.example.com", c, 0, NULL, 0, 0);
    for (verdict **v = (verdict *[]){v1, v2, v3, NULL}; *v; v++) {
        assert_int_equal((*v)->cause, CAUSE_OK);
        assert_string_equal((*v)->verify_error, "ok");  // the shared store has the test root
        assert_string_equal((*v)->chain_sha256, v4->chain_sha256);
        assert_string_equal((*v)->summary, v4->summary);
        assert_int_equal((*v)->num_certs, 2);
        assert_memory_equal((*v)->certs, v4->certs, sizeof v4->certs[0] * 2);
        verdict_free(*v);
    }
    verdict_free(v4);
    assert_int_equal(l.depth, 0);
    assert_int_equal(l.taken, 3 + 3);  // lookup and insert by w1, lookup by w2, three counts
    analyzer_free(w1);
    analyzer_free(w2);
    analyzer_shared_free(s);
}

// A shared result holds only for the seconds its own result holds: a certificate that expires
// inside the hour is verified again by the analyzer that sees it after (see the test above).
static void test_shared_chain_respects_expiry(void **state) {
    (void)state;
    const int64_t H = 1640995200;  // 2022-01-01T00:00:00Z
    char dir[] = "/tmp/tlsdiag-x509XXXXXX", pem[64];
    uint32_t len;
    uint8_t *der;
    analyzer *a = expiring_anchor(H, dir, pem, &der, &len);
    test_lock l = {0, 0};
    analyzer_shared *s =
        analyzer_shared_new(a, &(analyzer_lock){tl_lock, tl_unlock, NULL, NULL, &l});
    assert_non_null(s);
    analyzer *w1 = worker_of(s), *w2 = worker_of(s);
    verdict *v1 = judge_at(w1, der, len, H + 600, 0);
    assert_string_equal(v1->verify_error, "ok");
    verdict *v2 = judge_at(w2, der, len, H + 1000, 0);  // w1's result, from the shared cache
    assert_string_equal(v2->verify_error, "ok");
    analyzer_shared_counts k;
    analyzer_shared_counts_get(s, &k);
    assert_int_equal(k.verified, 1);
    assert_int_equal(k.answered, 1);
    verdict *v3 = judge_at(w2, der, len, H + 2400, 45);  // same hour, after the expiry
    assert_string_equal(v3->verify_error, "certificate has expired");
    assert_int_equal(v3->cause, CAUSE_CERT_EXPIRED);
    analyzer_shared_counts_get(s, &k);
    assert_int_equal(k.verified, 2);
    assert_int_equal(k.answered, 1);
    verdict_free(v1);
    verdict_free(v2);
    verdict_free(v3);
    analyzer_free(w1);
    analyzer_free(w2);
    analyzer_shared_free(s);
    analyzer_free(a);
    free(der);
    unlink(pem);
    rmdir(dir);
}

// Several analyzers that miss one chain at the same moment (the --threads workers at the start
// of a run) verify it once: the first marks it as under way, the others wait for its result.
// Made deterministic: the first worker stops right after its lookup (in its first unlock, the
// chain marked) until every other worker either waits for it or has finished; without the
// marker they all verify (verified == N), with it once (verified == 1, waited == N - 1).
enum { CONCURRENT = 4 };

typedef struct mt_lock {
    pthread_mutex_t mu, gate_mu;
    pthread_cond_t cv, gate_cv;
    int parked;     // other workers waiting for the chain or done (gate_mu)
    bool first_in;  // the first worker stopped at its gate (gate_mu)
    int first_unlocks;
} mt_lock;

static _Thread_local bool mt_is_first;

static void mt_lock_fn(void *u) {
    pthread_mutex_lock(&((mt_lock *)u)->mu);
}

static void mt_park(mt_lock *l) {
    pthread_mutex_lock(&l->gate_mu);
    l->parked++;
    pthread_cond_broadcast(&l->gate_cv);
    pthread_mutex_unlock(&l->gate_mu);
}

static void mt_unlock_fn(void *u) {
    mt_lock *l = u;
    pthread_mutex_unlock(&l->mu);
    if (mt_is_first && l->first_unlocks++ == 0) {
        pthread_mutex_lock(&l->gate_mu);
        l->first_in = true;
        pthread_cond_broadcast(&l->gate_cv);
        while (l->parked < CONCURRENT - 1) {
            pthread_cond_wait(&l->gate_cv, &l->gate_mu);
        }
        pthread_mutex_unlock(&l->gate_mu);
    }
}

static void mt_wait_fn(void *u) {
    mt_lock *l = u;
    mt_park(l);  // under l->mu: the first cannot store its result before this one waits
    pthread_cond_wait(&l->cv, &l->mu);
}

static void mt_wake_fn(void *u) {
    pthread_cond_broadcast(&((mt_lock *)u)->cv);
}

typedef struct mt_worker {
    analyzer *an;
    mt_lock *l;
    bool first;
    verdict *v;
} mt_worker;

static void *mt_judge(void *arg) {
    mt_worker *w = arg;
    mt_is_first = w->first;
    const char *c[] = {"leaf", "inter", NULL};
    w->v = judge_ex(w->an, "origin.example.com", c, 0, NULL, 0, 0);
    if (!w->first) {
        mt_park(w->l);  // finished without waiting (what happens without the marker)
    }
    return NULL;
}

static void test_shared_concurrent_misses_verified_once(void **state) {
    (void)state;
    mt_lock l = {.parked = 0};
    pthread_mutex_init(&l.mu, NULL);
    pthread_mutex_init(&l.gate_mu, NULL);
    pthread_cond_init(&l.cv, NULL);
    pthread_cond_init(&l.gate_cv, NULL);
    analyzer_shared *s = analyzer_shared_new(
        A, &(analyzer_lock){mt_lock_fn, mt_unlock_fn, mt_wait_fn, mt_wake_fn, &l});
    assert_non_null(s);
    mt_worker w[CONCURRENT];
    pthread_t t[CONCURRENT];
    for (int i = 0; i < CONCURRENT; i++) {
        w[i] = (mt_worker){worker_of(s), &l, i == 0, NULL};
    }
    assert_int_equal(pthread_create(&t[0], NULL, mt_judge, &w[0]), 0);
    pthread_mutex_lock(&l.gate_mu);
    while (!l.first_in) {
        pthread_cond_wait(&l.gate_cv, &l.gate_mu);
    }
    pthread_mutex_unlock(&l.gate_mu);
    for (int i = 1; i < CONCURRENT; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, mt_judge, &w[i]), 0);
    }
    for (int i = 0; i < CONCURRENT; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
    }
    analyzer_shared_counts k;
    analyzer_shared_counts_get(s, &k);
    assert_int_equal(k.verified, 1);
    assert_int_equal(k.waited, CONCURRENT - 1);
    assert_int_equal(k.answered, CONCURRENT - 1);
    for (int i = 0; i < CONCURRENT; i++) {
        assert_int_equal(w[i].v->cause, CAUSE_OK);
        assert_string_equal(w[i].v->verify_error, "ok");
        assert_string_equal(w[i].v->summary, w[0].v->summary);
    }
    for (int i = 0; i < CONCURRENT; i++) {
        verdict_free(w[i].v);
        analyzer_free(w[i].an);
    }
    analyzer_shared_free(s);
    pthread_cond_destroy(&l.cv);
    pthread_cond_destroy(&l.gate_cv);
    pthread_mutex_destroy(&l.mu);
    pthread_mutex_destroy(&l.gate_mu);
}

// The shared results are bounded (ANALYZER_CHAIN_RESULTS, least recently used dropped and
// counted, for pipeline/limits.c to state): one chain under more distinct SNIs than that, each
// a key of its own, keeps at most the bound, and a dropped key seen again is verified again
// with the same result.
static void test_shared_chain_results_bounded(void **state) {
    (void)state;
    enum { KEYS = ANALYZER_CHAIN_RESULTS + 200 };
    test_lock l = {0, 0};
    analyzer_shared *s =
        analyzer_shared_new(A, &(analyzer_lock){tl_lock, tl_unlock, NULL, NULL, &l});
    assert_non_null(s);
    analyzer *w1 = worker_of(s), *w2 = worker_of(s);
    const char *c[] = {"leaf", "inter", NULL};
    char sni[64];
    for (int i = 0; i < KEYS; i++) {
        snprintf(sni, sizeof sni, "h%d.example.com", i);
        verdict_free(judge_ex(i % 2 ? w1 : w2, sni, c, 42, NULL, 0, 0));
    }
    analyzer_shared_counts k;
    analyzer_shared_counts_get(s, &k);
    assert_int_equal(k.verified, KEYS);
    assert_true(k.dropped >= KEYS - ANALYZER_CHAIN_RESULTS);  // held: KEYS - dropped ≤ the bound
    assert_true(k.dropped < KEYS);
    assert_int_equal(analyzer_chain_results_dropped(w1), k.dropped);
    verdict *v = judge_ex(w1, "h0.example.com", c, 42, NULL, 0, 0);  // long dropped
    assert_string_equal(v->verify_error, "ok");
    assert_int_equal(v->cause, CAUSE_CERT_NAME_MISMATCH);
    analyzer_shared_counts_get(s, &k);
    assert_int_equal(k.verified, KEYS + 1);
    verdict_free(v);
    analyzer_free(w1);
    analyzer_free(w2);
    analyzer_shared_free(s);
}

// One chain's bytes remember the results of several (SNI, hour) pairs (the cached path of a
// repeated handshake): alternating among more SNIs than it links, each handshake still gets
// its own SNI's name check (named as the cause of the client's bad_certificate only when the
// name does not fit), from the cache after the first.
static void test_cache_links_per_sni(void **state) {
    (void)state;
    analyzer *a = fx_analyzer("cloudfront");
    const char *c[] = {"leaf", "inter", NULL};
    const char *names[] = {"origin.example.com", "a.example.net",      "origin.example.com",
                           "b.example.net",      "c.example.net",      "d.example.net",
                           "e.example.net",      "origin.example.com", "a.example.net"};
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            verdict *v = judge_ex(a, names[i], c, 42, NULL, 0, 0);  // bad_certificate
            bool ok = strcmp(names[i], "origin.example.com") == 0;
            assert_int_equal(v->cause == CAUSE_CERT_NAME_MISMATCH, !ok);
            verdict_free(v);
        }
    }
    analyzer_free(a);
}

// The memo of chain bytes picks its slot from a sample of the bytes (lengths and each
// certificate's last 32 bytes) and compares all of them: a certificate that differs from the
// one before only in its middle gets its own digest and result, not the first one's.
static void test_cache_same_tail_other_bytes(void **state) {
    (void)state;
    uint32_t len;
    uint8_t *der = make_cert(1893456000, NULL, "DNS:origin.example.com", &len);  // 2030
    uint8_t *other = malloc(len);
    assert_non_null(other);
    memcpy(other, der, len);
    other[len / 2] ^= 0x01;  // same length, same last 32 bytes
    verdict *v1 = judge_at(A, der, len, T0, 0);
    verdict *v2 = judge_at(A, other, len, T0, 0);
    verdict *v3 = judge_at(A, der, len, T0, 0);
    assert_string_not_equal(v2->chain_sha256, v1->chain_sha256);
    assert_string_equal(v3->chain_sha256, v1->chain_sha256);
    assert_string_equal(v3->verify_error, v1->verify_error);
    verdict_free(v1);
    verdict_free(v2);
    verdict_free(v3);
    free(der);
    free(other);
}

// A certificate with 10,000 SANs: the list keeps whole names only, in order, and says how many
// it left out (it used to show 65 of them, the last cut mid-name, with no count).
static void test_many_sans_whole_names_and_count(void **state) {
    (void)state;
    enum { N = 10000 };
    char *conf = malloc((size_t)N * 24);
    assert_non_null(conf);
    size_t w = 0;
    for (int i = 0; i < N; i++) {
        w += (size_t)sprintf(conf + w, "%sDNS:n%04d.example.com", i ? "," : "", i);
    }
    uint32_t len;
    uint8_t *der = make_cert(4102444800, NULL, conf, &len);  // until 2100
    const char *c[] = {"leaf", NULL};
    verdict *v = judge_ex(A, "other.example.com", c, 42, der, len, 0);
    const x509_info *x = &v->certs[0];
    assert_int_equal(x->num_sans, N);
    assert_true(x->sans_truncated);
    assert_true(x->num_sans_listed > 0 && x->num_sans_listed < N);
    // every listed entry is a whole name, the i-th is n<i>.example.com
    uint32_t k = 0;
    for (const char *p = x->sans; *p; k++) {
        char want[32];
        snprintf(want, sizeof want, "n%04u.example.com", k);
        assert_memory_equal(p, want, strlen(want));
        p += strlen(want);
        assert_true(*p == ',' || *p == '\0');
        p += *p == ',';
    }
    assert_int_equal(k, x->num_sans_listed);
    // prose: whole names within the budget, then the true number left out
    char out[200], tail[48];
    an_sans_fit(x, 100, out, sizeof out);
    assert_memory_equal(out, "n0000.example.com,n0001.example.com", 35);
    snprintf(tail, sizeof tail, ",n0004.example.com \xe2\x80\xa6 and %u more", N - 5);
    assert_non_null(strstr(out, tail));
    // and in the verdict's texts: the name-mismatch finding's SAN list ends with a whole name
    // and the count
    assert_int_equal(v->cause, CAUSE_CERT_SELF_SIGNED);
    assert_true(fx_has_finding(v, CAUSE_CERT_NAME_MISMATCH));
    const char *text = NULL;
    for (uint32_t i = 0; i < v->num_findings; i++) {
        if (v->findings[i].cause == CAUSE_CERT_NAME_MISMATCH) {
            text = v->findings[i].text;
        }
    }
    const char *more = strstr(text, " \xe2\x80\xa6 and ");
    assert_non_null(more);
    assert_memory_equal(more - 12, ".example.com", 12);
    assert_non_null(strstr(more, " more)"));
    verdict_free(v);
    free(der);
    free(conf);
}

// A SAN list that fits is shown whole, with no count.
static void test_sans_fit_whole_list(void **state) {
    (void)state;
    x509_info x;
    memset(&x, 0, sizeof x);
    snprintf(x.sans, sizeof x.sans, "a.example,b.example");
    x.num_sans = x.num_sans_listed = 2;
    char out[64];
    an_sans_fit(&x, 100, out, sizeof out);
    assert_string_equal(out, "a.example,b.example");
    an_sans_fit(&x, 12, out, sizeof out);  // only the first fits
    assert_string_equal(out, "a.example \xe2\x80\xa6 and 1 more");
    an_sans_fit(&x, 5, out, sizeof out);  // none fits
    assert_string_equal(out, "\xe2\x80\xa6 and 2 more");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_chain_ok),
        cmocka_unit_test(test_expired_leaf),
        cmocka_unit_test(test_not_yet_valid_leaf),
        cmocka_unit_test(test_expired_intermediate),
        cmocka_unit_test(test_self_signed),
        cmocka_unit_test(test_private_ca),
        cmocka_unit_test(test_private_ca_root_not_sent),
        cmocka_unit_test(test_missing_intermediate),
        cmocka_unit_test(test_misordered),
        cmocka_unit_test(test_correct_order_with_root_not_misordered),
        cmocka_unit_test(test_extra_cert_is_finding),
        cmocka_unit_test(test_wildcard_rules),
        cmocka_unit_test(test_name_mismatch_and_cn_fallback),
        cmocka_unit_test(test_sni_missing),
        cmocka_unit_test(test_eku_client_only),
        cmocka_unit_test(test_rsa1024),
        cmocka_unit_test(test_p521_refused_p256_fine),
        cmocka_unit_test(test_sha1),
        cmocka_unit_test(test_expires_soon_finding),
        cmocka_unit_test(test_cache_same_chain_same_result),
        cmocka_unit_test(test_cache_respects_expiry_inside_an_hour),
        cmocka_unit_test(test_shared_chain_verified_once),
        cmocka_unit_test(test_shared_chain_respects_expiry),
        cmocka_unit_test(test_shared_concurrent_misses_verified_once),
        cmocka_unit_test(test_shared_chain_results_bounded),
        cmocka_unit_test(test_cache_links_per_sni),
        cmocka_unit_test(test_cache_same_tail_other_bytes),
        cmocka_unit_test(test_many_sans_whole_names_and_count),
        cmocka_unit_test(test_sans_fit_whole_list),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
