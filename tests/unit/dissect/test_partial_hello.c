// test_partial_hello.c — a ClientHello whose record has not all arrived (dissect/tls_conn.c):
// the transcript keeps the length the record header declares and the bytes seen, so the
// analyzer can tell a server that gave up on a hello spanning several TCP segments
// (pcaps/field/s2nnet/client_hello_rejected-haproxy-sni-split-s2n-2025.pcap, conn 1).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "internal.h"
#include "tls_fixtures.h"
#include "tls_internal.h"

static void feed(tls_conn *c, tls_dir dir, const uint8_t *p, size_t n, uint32_t frame) {
    tls_meta m = {frame, (int64_t)frame * 1000};
    tls_conn_feed(c, dir, p, n, &m);
}

static dissect_config cfg;

static tls_conn *new_conn(tls_transcript *t) {
    memset(&cfg, 0, sizeof cfg);
    dissect_config_default(&cfg);
    tls_conn *c = tls_conn_new(t, &cfg);
    assert_non_null(c);
    return c;
}

static void test_hello_cut_after_first_segment(void **state) {
    (void)state;
    tls_transcript *t = calloc(1, sizeof *t);
    assert_non_null(t);
    tls_conn *c = new_conn(t);
    // The first 108 bytes (one 120-byte MSS minus TCP timestamps), then the second segment.
    feed(c, TLS_DIR_C2S, chrome_ch_record, 108, 1);
    assert_false(t->ch.present);
    assert_int_equal(t->ch_partial_declared, sizeof chrome_ch_record);
    assert_int_equal(t->ch_partial_seen, 108);
    feed(c, TLS_DIR_C2S, chrome_ch_record + 108, 108, 2);
    assert_int_equal(t->ch_partial_seen, 216);
    // The rest arrives: a whole hello is no longer partial.
    feed(c, TLS_DIR_C2S, chrome_ch_record + 216, sizeof chrome_ch_record - 216, 3);
    assert_true(t->ch.present);
    assert_int_equal(t->ch_partial_declared, 0);
    assert_int_equal(t->ch_partial_seen, 0);
    tls_conn_free(c);
    free(t);
}

// Near misses: a partial record that is not a ClientHello (a ServerHello's direction, an
// application-data record) and a record header alone (no handshake type yet) are not noted.
static void test_other_partial_records(void **state) {
    (void)state;
    tls_transcript *t = calloc(1, sizeof *t);
    assert_non_null(t);
    tls_conn *c = new_conn(t);
    feed(c, TLS_DIR_C2S, chrome_ch_record, 5, 1);  // header only
    assert_int_equal(t->ch_partial_declared, 0);
    feed(c, TLS_DIR_S2C, chrome_ch_record, 108, 2);  // the server direction
    assert_int_equal(t->ch_partial_declared, 0);
    tls_conn_free(c);
    memset(t, 0, sizeof *t);
    c = new_conn(t);
    static const uint8_t app[] = {23, 3, 3, 0, 40, 1, 2, 3, 4, 5, 6, 7};
    feed(c, TLS_DIR_C2S, app, sizeof app, 1);
    assert_int_equal(t->ch_partial_declared, 0);
    tls_conn_free(c);
    free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_cut_after_first_segment),
        cmocka_unit_test(test_other_partial_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
