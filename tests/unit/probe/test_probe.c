// test_probe.c — unit tests of probe/: target and version parsing, the profile as OpenSSL
// strings, the socket log rebuilt as frames (through the real dissector), and a whole probe
// against a closed loopback port.
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
// cmocka after the standard headers it needs
#include <cmocka.h>

#include "dissect/tls_fixtures.h"
#include "probe_internal.h"

static void test_parse_target(void **state) {
    (void)state;
    char host[64];
    uint16_t port = 0;
    assert_true(probe_parse_target("origin.example.com", host, sizeof host, &port));
    assert_string_equal(host, "origin.example.com");
    assert_int_equal(port, 443);
    assert_true(probe_parse_target("origin.example.com:8443", host, sizeof host, &port));
    assert_string_equal(host, "origin.example.com");
    assert_int_equal(port, 8443);
    assert_true(probe_parse_target("[2001:db8::1]:4433", host, sizeof host, &port));
    assert_string_equal(host, "2001:db8::1");
    assert_int_equal(port, 4433);
    assert_true(probe_parse_target("2001:db8::1", host, sizeof host, &port));
    assert_string_equal(host, "2001:db8::1");
    assert_int_equal(port, 443);
    const char *bad[] = {"", ":443", "a:", "a:0", "a:65536", "a:12x", "[::1", "[::1]x", "[]:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        port = 7;
        assert_false(probe_parse_target(bad[i], host, sizeof host, &port));
        assert_int_equal(port, 7);  // untouched on failure
    }
    char tiny[4];
    assert_false(probe_parse_target("toolong", tiny, sizeof tiny, &port));
}

static void test_parse_versions(void **state) {
    (void)state;
    uint32_t m = 0;
    assert_true(probe_parse_versions("TLSv1,TLSv1.1,TLSv1.2", &m));
    assert_int_equal(
        m, (1u << PROBE_V_TLS1_BIT) | (1u << PROBE_V_TLS1_1_BIT) | (1u << PROBE_V_TLS1_2_BIT));
    assert_true(probe_parse_versions("SSLv3, tlsv1.3", &m));
    assert_int_equal(m, (1u << PROBE_V_SSL3_BIT) | (1u << PROBE_V_TLS1_3_BIT));
    assert_true(probe_parse_versions("TLSv1.0", &m));
    assert_int_equal(m, 1u << PROBE_V_TLS1_BIT);
    m = 99;
    assert_false(probe_parse_versions("TLSv9", &m));
    assert_false(probe_parse_versions("", &m));
    assert_false(probe_parse_versions(",", &m));
    assert_int_equal(m, 99);
    assert_string_equal(probe_version_name(PROBE_V_TLS1_2_BIT), "TLSv1.2");
    assert_int_equal(probe_version_code(PROBE_V_TLS1_3_BIT), 0x0304);
}

static analyzer *new_analyzer(void) {
    analyzer_config c;
    analyzer_config_default(&c);
    char err[256];
    analyzer *a = analyzer_new(&c, err, sizeof err);
    assert_non_null(a);
    return a;
}

static void test_profile_strings(void **state) {
    (void)state;
    analyzer *a = new_analyzer();
    analyzer_offer o;
    analyzer_profile_offer(a, &o);
    assert_int_equal(o.num_ciphers, 19);  // s2n's CloudFront-Upstream: the DG's 16 and 3 more
    assert_int_equal(pc_offer_versions(&o), (1u << PROBE_V_TLS1_BIT) | (1u << PROBE_V_TLS1_1_BIT) |
                                                (1u << PROBE_V_TLS1_2_BIT));
    char buf[2048];
    pc_cipher_list(&o, buf, sizeof buf);
    assert_non_null(strstr(buf, "ECDHE-ECDSA-AES256-GCM-SHA384:"));  // the profile's first
    assert_non_null(strstr(buf, "AES128-SHA"));
    assert_null(strstr(buf, "RC4"));  // not in this OpenSSL: left out, not guessed
    pc_group_list(&o, false, buf, sizeof buf);
    assert_string_equal(buf, "P-256:P-384:X25519");
    pc_sigalg_list(&o, false, buf, sizeof buf);
    assert_true(strncmp(buf, "RSA+SHA256:RSA+SHA384:RSA+SHA512:RSA+SHA224:ECDSA+SHA256", 56) == 0);
    assert_null(strstr(buf, "rsa_pss"));  // CloudFront offers no RSA-PSS
    pc_sigalg_list(&o, true, buf, sizeof buf);
    assert_non_null(strstr(buf, "rsa_pss_rsae_sha256"));  // TLS 1.3 cannot sign RSA without it
    char small[12];
    pc_group_list(&o, false, small, sizeof small);
    assert_string_equal(small, "P-256:P-384");  // never cut inside a name
    analyzer_free(a);
}

// ---------------------------------------------------------------------------------------------
// The socket log as frames, through the real dissector.
// ---------------------------------------------------------------------------------------------
typedef struct feed {
    dissect *d;
    uint32_t frames;
    uint32_t max_caplen;
    tls_transcript t;
    uint32_t transcripts;
} feed;

static void on_frame(void *user, const dissect_frame *f) {
    feed *x = user;
    x->frames++;
    x->max_caplen = f->caplen > x->max_caplen ? f->caplen : x->max_caplen;
    assert_int_equal(f->frame_no, x->frames);
    dissect_feed(x->d, f);
}

static void on_transcript(void *user, const tls_transcript *t) {
    feed *x = user;
    x->transcripts++;
    memcpy(&x->t, t, sizeof x->t);
    memset(&x->t.cert, 0, sizeof x->t.cert);  // its DER pointers die with the callback
}

static void endpoints(int family, struct sockaddr_storage *local, struct sockaddr_storage *peer) {
    memset(local, 0, sizeof *local);
    memset(peer, 0, sizeof *peer);
    if (family == AF_INET) {
        struct sockaddr_in *l = (struct sockaddr_in *)local, *p = (struct sockaddr_in *)peer;
        l->sin_family = p->sin_family = AF_INET;
        inet_pton(AF_INET, "192.0.2.1", &l->sin_addr);
        inet_pton(AF_INET, "198.51.100.7", &p->sin_addr);
        l->sin_port = htons(40000);
        p->sin_port = htons(443);
    } else {
        struct sockaddr_in6 *l = (struct sockaddr_in6 *)local, *p = (struct sockaddr_in6 *)peer;
        l->sin6_family = p->sin6_family = AF_INET6;
        inet_pton(AF_INET6, "2001:db8::1", &l->sin6_addr);
        inet_pton(AF_INET6, "2001:db8::7", &p->sin6_addr);
        l->sin6_port = htons(40000);
        p->sin6_port = htons(443);
    }
}

static void run_log(const pw_log *l, int family, feed *x) {
    struct sockaddr_storage local, peer;
    endpoints(family, &local, &peer);
    memset(x, 0, sizeof *x);
    dissect_config c;
    dissect_config_default(&c);
    c.on_transcript = on_transcript;
    c.user = x;
    x->d = dissect_new(&c);
    assert_non_null(x->d);
    assert_true(pw_frames(l, &local, &peer, on_frame, x));
    dissect_finish(x->d);
    dissect_free(x->d);
    assert_int_equal(x->transcripts, 1);
}

static void test_frames_handshake_alert(void **state) {
    int family = *(int *)*state;
    pw_log l;
    memset(&l, 0, sizeof l);
    static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40};  // handshake_failure
    pw_add(&l, PW_SYN, TLS_DIR_C2S, NULL, 0);
    pw_add(&l, PW_SYNACK, TLS_DIR_S2C, NULL, 0);
    pw_add(&l, PW_DATA, TLS_DIR_C2S, chrome_ch_record, sizeof chrome_ch_record);
    pw_add(&l, PW_DATA, TLS_DIR_S2C, alert, sizeof alert);
    pw_add(&l, PW_FIN, TLS_DIR_S2C, NULL, 0);
    pw_add(&l, PW_FIN, TLS_DIR_C2S, NULL, 0);
    feed *x = calloc(1, sizeof *x);
    assert_non_null(x);
    run_log(&l, family, x);
    const tls_transcript *t = &x->t;
    assert_int_equal(t->client.family, family == AF_INET ? 4 : 6);
    assert_int_equal(t->client.port, 40000);
    assert_int_equal(t->server.port, 443);
    assert_true(t->roles_from_syn);
    assert_true(t->tcp.syn && t->tcp.synack);
    assert_int_equal(t->end_reason, TLS_END_ALERT);  // decided by the alert, before the FINs
    assert_true(t->ch.present);
    assert_string_equal(t->ja3, CHROME_CH_JA3);
    assert_int_equal(t->tcp.bytes[TLS_DIR_C2S], sizeof chrome_ch_record);
    assert_int_equal(t->tcp.retransmits[0] + t->tcp.retransmits[1], 0);
    assert_int_equal(t->quality.gaps[0] + t->quality.gaps[1], 0);
    bool alert_seen = false;
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->kind == TLS_EV_ALERT) {
            assert_int_equal(e->dir, TLS_DIR_S2C);
            assert_int_equal(e->alert_desc, 40);
            alert_seen = true;
        }
    }
    assert_true(alert_seen);
    pw_free(&l);
    free(x);
}

static void test_frames_segmented(void **state) {
    (void)state;
    pw_log l;
    memset(&l, 0, sizeof l);
    static uint8_t big[5000];
    memset(big, 'A', sizeof big);  // not TLS: kept as the server's preview
    memcpy(big, "HTTP/1.1 400 Bad Request\r\n", 26);
    pw_add(&l, PW_SYN, TLS_DIR_C2S, NULL, 0);
    pw_add(&l, PW_SYNACK, TLS_DIR_S2C, NULL, 0);
    pw_add(&l, PW_DATA, TLS_DIR_C2S, chrome_ch_record, sizeof chrome_ch_record);
    pw_add(&l, PW_DATA, TLS_DIR_S2C, big, sizeof big);
    pw_add(&l, PW_FIN, TLS_DIR_S2C, NULL, 0);
    feed *x = calloc(1, sizeof *x);
    assert_non_null(x);
    run_log(&l, AF_INET, x);
    assert_true(x->max_caplen <= 40 + 1448);  // segmented like a real path
    // SYN, SYN-ACK, ACK, ClientHello, 4 server segments and the client's ACK, server FIN
    assert_int_equal(x->frames, 10);
    assert_int_equal(x->t.end_reason, TLS_END_NOT_TLS);
    assert_int_equal(x->t.quality.gaps[TLS_DIR_S2C], 0);
    assert_true(x->t.preview_len[TLS_DIR_S2C] > 0);
    assert_memory_equal(x->t.preview[TLS_DIR_S2C], "HTTP/1.1 400", 12);
    pw_free(&l);
    free(x);
}

static void test_frames_refused(void **state) {
    (void)state;
    pw_log l;
    memset(&l, 0, sizeof l);
    pw_add(&l, PW_SYN, TLS_DIR_C2S, NULL, 0);
    pw_add(&l, PW_RST, TLS_DIR_S2C, NULL, 0);
    feed *x = calloc(1, sizeof *x);
    assert_non_null(x);
    run_log(&l, AF_INET, x);
    assert_int_equal(x->frames, 2);
    assert_true(x->t.tcp.syn);
    assert_false(x->t.tcp.synack);
    assert_true(x->t.tcp.rst[TLS_DIR_S2C]);
    pw_free(&l);
    free(x);
}

// closed_port: a loopback port that was free a moment ago and that nothing listens on.
static uint16_t closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);  // the port is free again and nothing listens on it
    return ntohs(sa.sin_port);
}

// A whole probe against a loopback port nobody listens on: a verdict, not an error.
static void test_probe_refused(void **state) {
    (void)state;
    analyzer *a = new_analyzer();
    probe_config c;
    memset(&c, 0, sizeof c);
    c.host = "origin.example.com";
    c.connect_ip = "127.0.0.1";
    c.port = closed_port();
    c.no_capture = true;
    char err[256] = "";
    probe_result *r = probe_run(a, &c, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->v->cause, CAUSE_CONNECTION_REFUSED);
    assert_int_equal(r->v->outcome, OUTCOME_FAILED);
    assert_int_equal(r->v->method, METHOD_PROBE);
    assert_false(r->from_packets);
    assert_int_equal(r->num_chain, 0);
    assert_string_equal(r->v->sni, "");  // no ClientHello was sent
    probe_result_free(r);
    probe_result_free(NULL);
    analyzer_free(a);
}

// --probe-origin never sends a wire SNI that is not a host name as its own (OpenSSL would cut
// "a\0b.example.com" to "a"): the verdict gets no probe finding. A valid SNI to the same closed
// port does get one, so the check is live.
static void test_probe_origin_skips_invalid_sni(void **state) {
    (void)state;
    char target[32], err[256] = "";
    snprintf(target, sizeof target, "127.0.0.1:%u", closed_port());
    pipeline_config pc;
    pipeline_config_default(&pc);
    probe_origin *po = probe_origin_new(&pc, target, err, sizeof err);
    assert_non_null(po);
    verdict *v = calloc(1, sizeof *v);
    assert_non_null(v);
    v->outcome = OUTCOME_FAILED;
    v->cause = CAUSE_UNKNOWN;
    v->has_sni = true;
    memcpy(v->sni, "a\0b.example.com", 15);
    v->sni_len = 15;
    v->sni_problem = analyze_host_name_problem(v->sni, 15);
    assert_non_null(v->sni_problem);
    probe_origin_attach(po, v);
    assert_int_equal(v->num_findings, 0);
    snprintf(v->sni, sizeof v->sni, "origin.example.com");
    v->sni_len = 18;
    v->sni_problem = NULL;
    probe_origin_attach(po, v);
    assert_int_equal(v->num_findings, 1);
    free(v);
    probe_origin_free(po);
}

int main(void) {
    static int v4 = AF_INET, v6 = AF_INET6;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_target),
        cmocka_unit_test(test_parse_versions),
        cmocka_unit_test(test_profile_strings),
        cmocka_unit_test_prestate(test_frames_handshake_alert, &v4),
        cmocka_unit_test_prestate(test_frames_handshake_alert, &v6),
        cmocka_unit_test(test_frames_segmented),
        cmocka_unit_test(test_frames_refused),
        cmocka_unit_test(test_probe_refused),
        cmocka_unit_test(test_probe_origin_skips_invalid_sni),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
