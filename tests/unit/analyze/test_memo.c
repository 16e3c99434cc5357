// test_memo.c — a client that does not trust the root of a chain that verifies (TLS 1.2 rule;
// TLS 1.3 through an earlier connection to the same server, memo.c) and the TLS 1.3 server's
// encrypted refusal of an empty client Certificate (client_cert_required), with near misses.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "an_fixtures.h"

static const char *const CHAIN[] = {"leaf", "inter", NULL};
static const char *const LEAF_ONLY[] = {"leaf", NULL};
static const char *const SELF[] = {"selfsigned", NULL};
#define ROOT "O=tlsdiag tests,CN=tlsdiag Test Root CA"

// tls12: a TLS 1.2 handshake with certs; the client's fatal alert desc (0: it completes).
static fx tls12(const char *sni, const char *const *certs, uint8_t desc, uint64_t conn_id) {
    fx x = fx_new();
    x.t->conn_id = conn_id;
    fx_synack(&x);
    fx_client_hello(&x, sni);
    fx_server_flight(&x, certs);
    if (desc) {
        fx_alert(&x, TLS_DIR_C2S, 2, desc);
        fx_close(&x, TLS_DIR_C2S, false, 1);
    } else {
        fx_finish_ok(&x);
    }
    return x;
}

static void tls13_server(fx *x, uint16_t cipher) {
    tls_transcript *t = x->t;
    fx_tls13_hello(x, 1);
    t->sh.cipher = cipher;
    t->sh.key_share_group = 0x001D;
    t->encrypted[0] = t->encrypted[1] = true;
    for (int i = 0; i < 4; i++) {
        fx_event(x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_S2C, 0, 0);
    }
    t->tcp.bytes[TLS_DIR_S2C] += 2500;
}

// tls13_unknown_ca: TLS 1.3, certificate encrypted, the client's cleartext unknown_ca.
static fx tls13_unknown_ca(const char *sni, uint64_t conn_id) {
    fx x = fx_new();
    x.t->conn_id = conn_id;
    fx_synack(&x);
    fx_client_hello(&x, sni);
    tls13_server(&x, 0x1302);
    fx_alert(&x, TLS_DIR_C2S, 2, 48);
    fx_close(&x, TLS_DIR_C2S, false, 1);
    return x;
}

static verdict *run_free(analyzer *a, fx *x) {
    verdict *v = analyzer_run(a, x->t);
    fx_free(x);
    assert_non_null(v);
    return v;
}

// ---------------------------------------------------------------------------------------------
static void test_tls12_verified_chain_refused(void **state) {
    (void)state;
    analyzer *a = fx_analyzer("cloudfront");
    fx x = tls12("origin.example.com", CHAIN, 48, 0);
    verdict *v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_CERT_UNTRUSTED_CA);
    assert_int_equal(v->confidence, CONF_HIGH);
    assert_non_null(strstr(v->summary, ROOT));
    assert_non_null(strstr(v->summary, "CA file given to tlsdiag"));
    assert_non_null(strstr(fx_evidence(v, "trusted_root"), ROOT));
    assert_non_null(strstr(fx_evidence(v, "chain"), "verified: ok"));
    assert_true(v->num_fix > 0);
    assert_non_null(strstr(v->fix[0], ROOT));  // {root} filled for a chain that verified
    verdict_free(v);
    // near misses: the same alert for chains that do not verify names their own cause
    x = tls12("origin.example.com", LEAF_ONLY, 48, 1);
    v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_CERT_MISSING_INTERMEDIATE);
    verdict_free(v);
    x = tls12("origin.example.com", SELF, 48, 2);
    v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_CERT_SELF_SIGNED);
    verdict_free(v);
    // another alert about a chain that verifies: not a trust problem
    x = tls12("origin.example.com", CHAIN, 42, 3);
    v = run_free(a, &x);
    assert_int_not_equal(v->cause, CAUSE_CERT_UNTRUSTED_CA);
    verdict_free(v);
    // the server's unknown_ca (it refused a client certificate): not the server chain's root
    x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    fx_server_flight(&x, CHAIN);
    fx_alert(&x, TLS_DIR_S2C, 2, 48);
    v = run_free(a, &x);
    assert_int_not_equal(v->cause, CAUSE_CERT_UNTRUSTED_CA);
    verdict_free(v);
    // success: no refusal to explain
    x = tls12("origin.example.com", CHAIN, 0, 4);
    v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_OK);
    assert_false(fx_has_finding(v, CAUSE_CERT_UNTRUSTED_CA));
    verdict_free(v);
    analyzer_free(a);
}

static void test_chain_root(void **state) {
    (void)state;
    x509_info c[3];
    memset(c, 0, sizeof c);
    snprintf(c[0].subject, sizeof c[0].subject, "CN=leaf");
    snprintf(c[0].issuer, sizeof c[0].issuer, "CN=int");
    snprintf(c[1].subject, sizeof c[1].subject, "CN=root");
    snprintf(c[1].issuer, sizeof c[1].issuer, "CN=root");
    c[1].self_signed = true;
    snprintf(c[2].subject, sizeof c[2].subject, "CN=int");
    snprintf(c[2].issuer, sizeof c[2].issuer, "CN=root");
    char out[64];
    an_chain_root(c, 3, out, sizeof out);  // sent out of order, root included
    assert_string_equal(out, "CN=root");
    an_chain_root(c, 1, out, sizeof out);  // leaf only: its issuer
    assert_string_equal(out, "CN=int");
    an_chain_root(c, 0, out, sizeof out);
    assert_string_equal(out, "");
}

static void test_tls13_after_verified_chain(void **state) {
    (void)state;
    analyzer *a = fx_analyzer("cloudfront");
    // alone: TLS 1.3 unknown_ca cannot tell a missing intermediate from an untrusted root
    fx x = tls13_unknown_ca("origin.example.com", 0);
    verdict *v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_CERT_MISSING_INTERMEDIATE);
    assert_int_equal(v->confidence, CONF_LOW);
    verdict_free(v);
    // an earlier TLS 1.2 connection to the same server and SNI showed a chain that verifies
    x = tls12("origin.example.com", CHAIN, 0, 7);
    v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_OK);
    verdict_free(v);
    x = tls13_unknown_ca("origin.example.com", 8);
    v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_CERT_UNTRUSTED_CA);
    assert_int_equal(v->confidence, CONF_MEDIUM);
    assert_non_null(strstr(v->summary, "conn 7"));
    assert_non_null(strstr(v->summary, ROOT));
    const char *same = fx_evidence(v, "same_server_chain");
    assert_non_null(same);
    assert_non_null(strstr(same, "conn 7"));
    assert_string_equal(v->evidence[0].key, "same_server_chain");
    assert_int_not_equal(v->evidence[0].frame, 0);
    assert_non_null(fx_evidence(v, "alert"));  // the verdict's own evidence stays
    assert_true(fx_has_finding(v, CAUSE_CERT_MISSING_INTERMEDIATE));  // and what it shows alone
    assert_non_null(strstr(v->findings[v->num_findings - 1].text, "on its own: "));
    assert_non_null(strstr(fx_evidence(v, "trusted_root"), ROOT));
    assert_true(v->num_fix > 0);
    assert_non_null(strstr(v->fix[0], ROOT));
    assert_true(v->num_dead_ends > 0);
    assert_int_equal(analyzer_summary(a)->by_cause[CAUSE_CERT_UNTRUSTED_CA], 1);
    verdict_free(v);
    // near misses: another SNI, another port
    x = tls13_unknown_ca("static.example.com", 9);
    v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_CERT_MISSING_INTERMEDIATE);
    verdict_free(v);
    x = tls13_unknown_ca("origin.example.com", 10);
    x.t->server.port = 8443;
    v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_CERT_MISSING_INTERMEDIATE);
    verdict_free(v);
    // another alert in TLS 1.3 (certificate_expired): not refined
    x = tls13_unknown_ca("origin.example.com", 11);
    x.t->events[x.t->num_events - 2].alert_desc = 45;
    v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_CERT_EXPIRED);
    verdict_free(v);
    // the server now sends a chain that does not verify: forgotten
    x = tls12("origin.example.com", LEAF_ONLY, 48, 12);
    v = run_free(a, &x);
    verdict_free(v);
    x = tls13_unknown_ca("origin.example.com", 13);
    v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_CERT_MISSING_INTERMEDIATE);
    verdict_free(v);
    analyzer_free(a);
}

// judge_free: analyzer_judge (a --threads worker), fixture freed.
static verdict *judge_free(analyzer *a, fx *x) {
    verdict *v = analyzer_judge(a, x->t);
    fx_free(x);
    assert_non_null(v);
    return v;
}

// --threads: workers only judge (analyzer_judge); the merge refines and counts in
// analyzer_account, in output order.
static void test_worker_leaves_it_to_the_merge(void **state) {
    (void)state;
    analyzer *w = fx_analyzer("cloudfront");
    analyzer *main_an = fx_analyzer("cloudfront");
    fx x = tls12("origin.example.com", CHAIN, 0, 0);
    verdict *v1 = judge_free(w, &x);
    x = tls13_unknown_ca("origin.example.com", 1);
    verdict *v2 = judge_free(w, &x);
    assert_int_equal(v2->cause, CAUSE_CERT_MISSING_INTERMEDIATE);  // the worker did not refine
    assert_int_equal(analyzer_summary(w)->by_cause[CAUSE_CERT_MISSING_INTERMEDIATE], 0);
    assert_int_equal(analyzer_summary(w)->by_cause[CAUSE_CERT_UNTRUSTED_CA], 0);  // nor count
    analyzer_account(main_an, v1);
    analyzer_account(main_an, v2);
    assert_int_equal(v2->cause, CAUSE_CERT_UNTRUSTED_CA);  // the merge did, in order
    assert_int_equal(v2->confidence, CONF_MEDIUM);
    const summary *s = analyzer_summary(main_an);
    assert_int_equal(s->by_cause[CAUSE_CERT_UNTRUSTED_CA], 1);
    assert_int_equal(s->by_cause[CAUSE_CERT_MISSING_INTERMEDIATE], 0);
    verdict_free(v1);
    verdict_free(v2);
    analyzer_free(w);
    analyzer_free(main_an);
}

// same_verdict: a and b say the same (what verdict_new clears, bytewise; the strings and the
// counted arrays up to their NULs and counts: their tails are never read).
static void same_verdict(const verdict *a, const verdict *b) {
    assert_memory_equal(a, b, offsetof(verdict, summary));
    assert_string_equal(a->summary, b->summary);
    assert_int_equal(a->num_evidence, b->num_evidence);
    for (uint32_t i = 0; i < a->num_evidence; i++) {
        assert_string_equal(a->evidence[i].key, b->evidence[i].key);
        assert_int_equal(a->evidence[i].value_len, b->evidence[i].value_len);
        assert_int_equal(a->evidence[i].frame, b->evidence[i].frame);
        if (a->evidence[i].value_len) {
            assert_memory_equal(a->evidence[i].value, b->evidence[i].value,
                                a->evidence[i].value_len);
        } else {
            assert_string_equal(a->evidence[i].value, b->evidence[i].value);
        }
    }
    assert_int_equal(a->num_fix, b->num_fix);
    for (uint32_t i = 0; i < a->num_fix; i++) {
        assert_string_equal(a->fix[i], b->fix[i]);
    }
    assert_int_equal(a->num_dead_ends, b->num_dead_ends);
    for (uint32_t i = 0; i < a->num_dead_ends; i++) {
        assert_string_equal(a->dead_ends[i], b->dead_ends[i]);
    }
    assert_string_equal(a->check_command, b->check_command);
    assert_int_equal(a->num_findings, b->num_findings);
    for (uint32_t i = 0; i < a->num_findings; i++) {
        assert_int_equal(a->findings[i].cause, b->findings[i].cause);
        assert_string_equal(a->findings[i].text, b->findings[i].text);
    }
    assert_int_equal(a->num_certs, b->num_certs);
    assert_memory_equal(a->certs, b->certs, a->num_certs * sizeof a->certs[0]);
    assert_memory_equal(&a->num_certs_sent, &b->num_certs_sent,
                        offsetof(verdict, trust_store) - offsetof(verdict, num_certs_sent));
    assert_string_equal(a->trust_store, b->trust_store);
    assert_memory_equal(
        a->trust_store + sizeof a->trust_store, b->trust_store + sizeof b->trust_store,
        offsetof(verdict, capture_note) - offsetof(verdict, trust_store) - sizeof a->trust_store);
    assert_string_equal(a->capture_note, b->capture_note);
    size_t tail = offsetof(verdict, capture_note) + sizeof a->capture_note;
    assert_memory_equal((const char *)a + tail, (const char *)b + tail, sizeof *a - tail);
}

// A verdict handed back with analyzer_verdict_free (a --threads worker, once the merge is done
// with it) is the memory of that analyzer's next verdict: it must read as a fresh analyzer's
// verdict does, nothing of the old one left (here: every byte of it overwritten first).
static void test_spare_verdict_reads_fresh(void **state) {
    (void)state;
    analyzer *a = fx_analyzer("cloudfront");
    analyzer *fresh = fx_analyzer("cloudfront");
    for (int round = 0; round < 2; round++) {
        fx x = round == 0 ? tls13_unknown_ca("old.example.com", 1)
                          : tls12("old.example.com", CHAIN, 0, 1);
        verdict *old = judge_free(a, &x);
        memset(old, 0x5A, sizeof *old);
        analyzer_verdict_free(a, old);
        x = round == 0 ? tls12("origin.example.com", CHAIN, 0, 2)
                       : tls13_unknown_ca("origin.example.com", 2);
        verdict *v = judge_free(a, &x);
#if !defined(__SANITIZE_ADDRESS__)
        assert_ptr_equal(v, old);  // (sanitizer builds free every verdict: a use after free shows)
#endif
        x = round == 0 ? tls12("origin.example.com", CHAIN, 0, 2)
                       : tls13_unknown_ca("origin.example.com", 2);
        verdict *w = judge_free(fresh, &x);
        same_verdict(v, w);
        analyzer_verdict_free(a, v);
        verdict_free(w);
    }
    analyzer_free(a);  // frees the spare (leak-checked under ASan)
    analyzer_free(fresh);
}

static void no_lock(void *user) {
    (void)user;
}

// A --threads worker's analyzer (made with the run's shared state, judge-only) takes the
// profiles and the CloudFront prefix table of the analyzer the state was made from, whatever its
// own configuration says, and judges as that one does; freeing it leaves that table alone (ASan:
// the main analyzer judges again after).
static void test_judge_only_worker_judges_as_main(void **state) {
    (void)state;
    analyzer *main_an = fx_analyzer("cloudfront");
    analyzer_shared *s =
        analyzer_shared_new(main_an, &(analyzer_lock){no_lock, no_lock, NULL, NULL, NULL});
    assert_non_null(s);
    analyzer_config c;
    analyzer_config_default(&c);
    c.profile = "generic";                  // ignored: the shared state's profiles
    c.ranges_file = "/nonexistent/ranges";  // ignored: its prefix table
    c.shared = s;
    c.judge_only = true;
    char err[256] = "";
    analyzer *w = analyzer_new(&c, err, sizeof err);
    assert_non_null(w);
    for (int i = 0; i < 2; i++) {
        fx x = tls13_unknown_ca("origin.example.com", 1);
        memcpy(x.t->client.addr, (const uint8_t[]){15, 158, 1, 2}, 4);  // a CloudFront edge
        verdict *v = judge_free(i == 0 ? w : main_an, &x);
        assert_string_equal(v->client_network, "15.158.0.0/16");
        assert_string_equal(v->profile, "cloudfront");
        assert_int_equal(v->cause, CAUSE_CERT_MISSING_INTERMEDIATE);
        verdict_free(v);
        if (i == 0) {
            analyzer_free(w);
        }
    }
    analyzer_shared_free(s);
    analyzer_free(main_an);
}

// The table is bounded: after AN_MEMO_SERVERS other servers the first one is forgotten.
static void test_lru_bound(void **state) {
    (void)state;
    analyzer *a = fx_analyzer("cloudfront");
    fx x = tls12("origin.example.com", CHAIN, 0, 0);
    verdict_free(run_free(a, &x));
    for (int i = 0; i < AN_MEMO_SERVERS - 1; i++) {
        x = tls12("origin.example.com", CHAIN, 0, (uint64_t)i + 1);
        x.t->server.port = (uint16_t)(10000 + i);
        verdict_free(run_free(a, &x));
    }
    x = tls13_unknown_ca("origin.example.com", 1000);  // still among the last 256
    verdict *v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_CERT_UNTRUSTED_CA);
    verdict_free(v);
    for (int i = 0; i < AN_MEMO_SERVERS; i++) {
        x = tls12("origin.example.com", CHAIN, 0, (uint64_t)i + 2000);
        x.t->server.port = (uint16_t)(20000 + i);
        verdict_free(run_free(a, &x));
    }
    x = tls13_unknown_ca("origin.example.com", 3000);
    v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_CERT_MISSING_INTERMEDIATE);
    verdict_free(v);
    analyzer_free(a);
}

// ---------------------------------------------------------------------------------------------
// TLS 1.3 client certificates.
// ---------------------------------------------------------------------------------------------
static void client_record(fx *x, tls_event_kind kind, uint32_t len) {
    fx_event(x, kind, TLS_DIR_C2S, 0, 1);
    x->t->events[x->t->num_events - 1].length = len;
    if (kind == TLS_EV_APPLICATION_DATA) {
        x->t->app_records[TLS_DIR_C2S]++;
    }
}

// mtls13: the client's flight (record sizes), then the server's 19-byte encrypted alert and RST.
static fx mtls13(const uint32_t *flight, uint32_t n) {
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "origin.example.com");
    tls13_server(&x, 0x1302);
    for (uint32_t i = 0; i < n; i++) {
        client_record(&x, TLS_EV_ENCRYPTED_HANDSHAKE, flight[i]);
    }
    fx_event(&x, TLS_EV_ENCRYPTED_ALERT, TLS_DIR_S2C, 0, 1);
    x.t->events[x.t->num_events - 1].length = 19;
    client_record(&x, TLS_EV_APPLICATION_DATA, 254);
    fx_close(&x, TLS_DIR_S2C, true, 1);
    return x;
}

static void test_tls13_empty_client_certificate(void **state) {
    (void)state;
    analyzer *a = fx_analyzer("cloudfront");
    const uint32_t empty[] = {25, 69};
    fx x = mtls13(empty, 2);
    verdict *v = run_free(a, &x);
    assert_int_equal(v->outcome, OUTCOME_FAILED);
    assert_int_equal(v->aborted_by, PARTY_SERVER);
    assert_true(v->alert_encrypted);
    assert_int_equal(v->cause, CAUSE_CLIENT_CERT_REQUIRED);
    assert_int_equal(v->confidence, CONF_MEDIUM);
    assert_non_null(strstr(fx_evidence(v, "client_flight"), "25-byte"));
    assert_non_null(fx_evidence(v, "server_answer"));
    assert_string_equal(v->failed_step, "after client Finished");
    verdict_free(v);
    // near miss: a plain Finished, then the same encrypted alert: no sign of a request
    const uint32_t plain[] = {69};
    x = mtls13(plain, 1);
    v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_UNKNOWN);
    verdict_free(v);
    // near miss: the client sent a certificate (Certificate, CertificateVerify, Finished) and
    // the server refused it: not "none given" but client_cert_rejected (issue 16, origin mTLS)
    const uint32_t full[] = {969, 281, 69};
    x = mtls13(full, 3);
    v = run_free(a, &x);
    assert_int_equal(v->cause, CAUSE_CLIENT_CERT_REJECTED);
    assert_int_equal(v->confidence, CONF_MEDIUM);
    assert_false(fx_has_finding(v, CAUSE_CLIENT_CERT_REQUIRED));
    verdict_free(v);
    // near miss: the server answered with data (tickets, response): it succeeded
    x = mtls13(empty, 2);
    tls_event *e = &x.t->events[x.t->num_events - 3];
    assert_int_equal(e->kind, TLS_EV_ENCRYPTED_ALERT);
    e->kind = TLS_EV_APPLICATION_DATA;
    e->length = 250;
    x.t->app_records[TLS_DIR_S2C] = 1;
    x.t->end_reason = TLS_END_HANDSHAKE_DONE;
    v = run_free(a, &x);
    assert_int_equal(v->outcome, OUTCOME_SUCCEEDED);
    assert_int_equal(v->cause, CAUSE_OK);
    assert_true(fx_has_finding(v, CAUSE_CLIENT_CERT_REQUIRED));  // CloudFront would need mTLS
    verdict_free(v);
    analyzer_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls12_verified_chain_refused),
        cmocka_unit_test(test_chain_root),
        cmocka_unit_test(test_tls13_after_verified_chain),
        cmocka_unit_test(test_worker_leaves_it_to_the_merge),
        cmocka_unit_test(test_spare_verdict_reads_fresh),
        cmocka_unit_test(test_judge_only_worker_judges_as_main),
        cmocka_unit_test(test_lru_bound),
        cmocka_unit_test(test_tls13_empty_client_certificate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
