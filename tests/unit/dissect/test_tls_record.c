// test_tls_record.c — tls_record_header_parse, the record header check bundle/ shares with the
// dissector: every field judged, every short read refused with *out untouched.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dissect.h"

static void test_record_header_fields(void **state) {
    (void)state;
    static const uint8_t app[] = {0x17, 0x03, 0x03, 0x01, 0x02, 0xaa};
    tls_record_header h;
    assert_true(tls_record_header_parse(app, sizeof app, &h));
    assert_int_equal(h.type, TLS_CONTENT_APPLICATION_DATA);
    assert_int_equal(h.version, 0x0303);
    assert_int_equal(h.length, 0x0102);
    // a TLS 1.3 draft record version and the largest length RFC 5246 §6.2.3 allows
    static const uint8_t draft[] = {0x16, 0x7f, 0x17, 0x48, 0x00};
    assert_true(tls_record_header_parse(draft, sizeof draft, &h));
    assert_int_equal(h.type, 22);
    assert_int_equal(h.version, 0x7f17);
    assert_int_equal(h.length, 16384 + 2048);
}

static void test_record_header_truncated_everywhere(void **state) {
    (void)state;
    static const uint8_t app[] = {0x17, 0x03, 0x03, 0x00, 0x20};
    for (size_t n = 0; n < sizeof app; n++) {
        tls_record_header h = {0xee, 0xeeee, 0xeeee};
        assert_false(tls_record_header_parse(app, n, &h));
        assert_int_equal(h.type, 0xee);  // untouched
        assert_int_equal(h.version, 0xeeee);
        assert_int_equal(h.length, 0xeeee);
    }
}

static void test_record_header_refused(void **state) {
    (void)state;
    static const uint8_t bad[][5] = {
        {0x13, 0x03, 0x03, 0x00, 0x20},  // content type below change_cipher_spec
        {0x19, 0x03, 0x03, 0x00, 0x20},  // above heartbeat
        {0x17, 0x03, 0x99, 0x00, 0x20},  // 3.x that is no SSL/TLS version
        {0x17, 0x02, 0x00, 0x00, 0x20},  // SSL 2.0 is not a TLS record
        {0x17, 0x03, 0x03, 0x48, 0x01},  // longer than 2^14 + 2048
        {'G', 'E', 'T', ' ', '/'},       // plain HTTP
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tls_record_header h = {0xee, 0xeeee, 0xeeee};
        assert_false(tls_record_header_parse(bad[i], sizeof bad[i], &h));
        assert_int_equal(h.type, 0xee);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_header_fields),
        cmocka_unit_test(test_record_header_truncated_everywhere),
        cmocka_unit_test(test_record_header_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
