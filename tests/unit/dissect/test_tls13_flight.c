// test_tls13_flight.c — when a TLS 1.3 handshake is over (dissect/tls_conn.c): a client flight
// that is a plain Finished decides at once; one that carries a Certificate waits for the
// server's answer, so the server's encrypted refusal (certificate_required) stays in view.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "internal.h"
#include "tls_fixtures.h"
#include "tls_internal.h"

static dissect_config cfg;
static uint8_t junk[4096];

typedef struct conn13 {
    tls_transcript *t;
    tls_conn *c;
    uint32_t frame;
} conn13;

static void send_records(conn13 *x, tls_dir dir, unsigned type, const size_t *lens, size_t n) {
    static bb out;
    out.n = 0;
    for (size_t i = 0; i < n; i++) {
        bb_records(&out, type, 0x0303, junk, lens[i], 16384);
    }
    tls_meta m = {++x->frame, (int64_t)x->frame * 1000};
    tls_conn_feed(x->c, dir, out.b, out.n, &m);
}

// start: ClientHello, then ServerHello (TLS 1.3, cipher), CCS and the server's protected flight
// (EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify, Finished).
static conn13 start(uint16_t cipher) {
    conn13 x = {0};
    memset(junk, 0x77, sizeof junk);
    x.t = calloc(1, sizeof *x.t);
    assert_non_null(x.t);
    memset(&cfg, 0, sizeof cfg);
    dissect_config_default(&cfg);
    x.c = tls_conn_new(x.t, &cfg);
    assert_non_null(x.c);
    tls_meta m = {++x.frame, 1000};
    tls_conn_feed(x.c, TLS_DIR_C2S, chrome_ch_record, sizeof chrome_ch_record, &m);
    static bb sh, msg, rec;
    sh.n = msg.n = rec.n = 0;
    bb_u16(&sh, 0x0303);
    bb_fill(&sh, 0x33, 32);
    bb_u8(&sh, 0);
    bb_u16(&sh, cipher);
    bb_u8(&sh, 0);
    bb_open(&sh, 2);
    bb_u16(&sh, 0x002b);
    bb_u16(&sh, 2);
    bb_u16(&sh, 0x0304);
    bb_close(&sh);
    bb_u8(&msg, 2);
    bb_u24(&msg, (unsigned)sh.n);
    bb_bytes(&msg, sh.b, sh.n);
    bb_records(&rec, 22, 0x0303, msg.b, msg.n, 16384);
    bb_records(&rec, 20, 0x0303, (const uint8_t *)"\x01", 1, 16384);
    m.frame = ++x.frame;
    tls_conn_feed(x.c, TLS_DIR_S2C, rec.b, rec.n, &m);
    const size_t flight[] = {42, 62, 1923, 281, 69};
    send_records(&x, TLS_DIR_S2C, 23, flight, 5);
    return x;
}

static void finish(conn13 *x) {
    tls_conn_free(x->c);
    tls_certificate_clear(&x->t->cert);
    tls_certificate_clear(&x->t->client_cert);
    free(x->t);
}

static int count(const tls_transcript *t, tls_dir dir, tls_event_kind kind) {
    int n = 0;
    for (uint32_t i = 0; i < t->num_events; i++) {
        n += t->events[i].dir == dir && t->events[i].kind == kind;
    }
    return n;
}

// A plain Finished (53 bytes for an SHA-256 suite), then the request: decided at once.
static void test_plain_finished_decides(void **state) {
    (void)state;
    conn13 x = start(0x1301);
    const size_t fin[] = {53};
    send_records(&x, TLS_DIR_C2S, 23, fin, 1);
    tls_end_reason r;
    assert_false(tls_conn_decided(x.c, &r));
    const size_t req[] = {254};
    send_records(&x, TLS_DIR_C2S, 23, req, 1);
    assert_true(tls_conn_decided(x.c, &r));
    assert_int_equal(r, TLS_END_HANDSHAKE_DONE);
    assert_int_equal(count(x.t, TLS_DIR_C2S, TLS_EV_ENCRYPTED_HANDSHAKE), 1);
    assert_int_equal(x.t->app_records[TLS_DIR_C2S], 1);
    finish(&x);
}

// An empty Certificate (25 bytes) + Finished (69 bytes, SHA-384 suite), the request, then the
// server's 19-byte encrypted alert: not decided complete; the alert is recorded.
static void test_empty_certificate_then_server_alert(void **state) {
    (void)state;
    conn13 x = start(0x1302);
    const size_t flight[] = {25, 69};
    send_records(&x, TLS_DIR_C2S, 23, flight, 2);
    tls_end_reason r;
    assert_false(tls_conn_decided(x.c, &r));
    const size_t req[] = {254};
    send_records(&x, TLS_DIR_C2S, 23, req, 1);
    assert_false(tls_conn_decided(x.c, &r));
    const size_t alert[] = {19};
    send_records(&x, TLS_DIR_S2C, 23, alert, 1);
    assert_false(tls_conn_decided(x.c, &r));
    assert_int_equal(count(x.t, TLS_DIR_C2S, TLS_EV_ENCRYPTED_HANDSHAKE), 2);
    assert_int_equal(count(x.t, TLS_DIR_S2C, TLS_EV_ENCRYPTED_ALERT), 1);
    assert_int_equal(x.t->app_records[TLS_DIR_C2S], 1);
    assert_int_equal(x.t->app_records[TLS_DIR_S2C], 0);
    finish(&x);
}

// Near miss: Certificate, CertificateVerify, Finished, then NewSessionTickets: completed.
static void test_client_certificate_then_tickets(void **state) {
    (void)state;
    conn13 x = start(0x1301);
    const size_t flight[] = {969, 281, 53};
    send_records(&x, TLS_DIR_C2S, 23, flight, 3);
    tls_end_reason r;
    assert_false(tls_conn_decided(x.c, &r));
    const size_t nst[] = {250};
    send_records(&x, TLS_DIR_S2C, 23, nst, 1);
    assert_true(tls_conn_decided(x.c, &r));
    assert_int_equal(r, TLS_END_HANDSHAKE_DONE);
    assert_int_equal(count(x.t, TLS_DIR_C2S, TLS_EV_ENCRYPTED_HANDSHAKE), 3);
    assert_int_equal(x.t->app_records[TLS_DIR_S2C], 1);
    finish(&x);
}

// Near miss: a Finished of the wrong size for the suite (padded) also waits for the server,
// whose application data then decides.
static void test_unexpected_size_waits_for_server(void **state) {
    (void)state;
    conn13 x = start(0x1301);
    const size_t fin[] = {69, 254};  // 69 is SHA-384-sized, the suite is SHA-256
    send_records(&x, TLS_DIR_C2S, 23, fin, 2);
    tls_end_reason r;
    assert_false(tls_conn_decided(x.c, &r));
    const size_t resp[] = {1200};
    send_records(&x, TLS_DIR_S2C, 23, resp, 1);
    assert_true(tls_conn_decided(x.c, &r));
    assert_int_equal(r, TLS_END_HANDSHAKE_DONE);
    finish(&x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_finished_decides),
        cmocka_unit_test(test_empty_certificate_then_server_alert),
        cmocka_unit_test(test_client_certificate_then_tickets),
        cmocka_unit_test(test_unexpected_size_waits_for_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
