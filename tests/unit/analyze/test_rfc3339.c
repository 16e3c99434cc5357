// test_rfc3339.c — analyze_parse_rfc3339, the reading of --now for every subcommand: the forms
// RFC 3339 §5.6 allows (Z, offsets, fractions, 't' and ' ' separators), and what it refuses
// without touching the output.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "analyze.h"

static int64_t parse_ok(const char *s) {
    int64_t t = -1;
    assert_true(analyze_parse_rfc3339(s, &t));
    return t;
}

static void test_forms(void **state) {
    (void)state;
    assert_int_equal(parse_ok("2026-11-26T20:00:00Z"), 1795723200);
    assert_int_equal(parse_ok("2026-11-26t20:00:00z"), 1795723200);
    assert_int_equal(parse_ok("2026-11-26 20:00:00Z"), 1795723200);
    assert_int_equal(parse_ok("2026-11-26T20:00:00.123456Z"), 1795723200);
    assert_int_equal(parse_ok("2026-11-26T21:30:00+01:30"), 1795723200);
    assert_int_equal(parse_ok("2026-11-26T18:00:00-02:00"), 1795723200);
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
}

static void test_refused(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "yesterday",
        "2026-11-26",                 // no time
        "2026-11-26T20:00:00",        // no offset
        "2026-11-26T20:00:00.Z",      // a fraction without digits
        "2026-13-26T20:00:00Z",       // month 13
        "2026-11-26T24:00:00Z",       // hour 24
        "2026-11-26T20:00:00+24:00",  // offset hour 24
        "2026-11-26T20:00:00+01",     // offset without minutes
        "2026-11-26T20:00:00Zjunk",   // trailing bytes
        "2026-11-26X20:00:00Z",       // no T between date and time
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t = 42;
        assert_false(analyze_parse_rfc3339(bad[i], &t));
        assert_int_equal(t, 42);  // untouched on failure
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
