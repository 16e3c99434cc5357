// test_text.c — an_text, the line builder of the verdict prose: every line it writes must equal
// what one snprintf of the whole line wrote before it, truncation included, so that replacing
// snprintf changed no byte of any report.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "an_fixtures.h"

// For every capacity from 1 to past the whole line: "ClientHello %s, %u ciphers, SNI %.Ns".
static void test_text_truncates_like_snprintf(void **state) {
    (void)state;
    const char *name = "TLS 1.2", *sni = "www.example.com";
    const uint64_t nums[] = {0, 7, 10, 65535, 4294967295u, UINT64_MAX};
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
        for (size_t cap = 1; cap < 80; cap++) {
            char want[96], got[96];
            memset(got, 'x', sizeof got);
            snprintf(want, cap, "ClientHello %s, %llu ciphers, SNI %.9s", name,
                     (unsigned long long)nums[k], sni);
            an_text t = an_text_at(got, cap);
            an_text_str(&t, "ClientHello ");
            an_text_str(&t, name);
            an_text_str(&t, ", ");
            an_text_u64(&t, nums[k]);
            an_text_str(&t, " ciphers, SNI ");
            an_text_strn(&t, sni, 9);
            assert_string_equal(got, want);
            assert_int_equal(t.w, strlen(want));
            assert_int_equal(got[t.w + 1], 'x');  // nothing written past the terminator
        }
    }
}

// Appending to a full line writes nothing, and the line stays terminated.
static void test_text_full_stays_full(void **state) {
    (void)state;
    char buf[4];
    an_text t = an_text_at(buf, sizeof buf);
    an_text_str(&t, "abcdef");
    an_text_u64(&t, 12);
    an_text_mem(&t, "zz", 2);
    assert_string_equal(buf, "abc");
    assert_int_equal(t.w, 3);
    an_text e = an_text_at(buf, 1);
    an_text_str(&e, "a");
    assert_string_equal(buf, "");
}

// an_texts_any decides whether fill_texts builds its variables: it must be true for every cause
// whose table row has a line (else its fix steps would vanish) and false for ok.
static void test_texts_any(void **state) {
    (void)state;
    assert_false(an_texts_any(CAUSE_OK));
    assert_false(an_texts_any((cause_id)CAUSE__COUNT));
    for (int c = 0; c < CAUSE__COUNT; c++) {
        verdict v;
        an_text_vars vars = {.sni = "a.example", .server = "192.0.2.1", .port = "443"};
        v.num_fix = v.num_dead_ends = 0;
        an_texts_fill((cause_id)c, &vars, &v);
        assert_int_equal(an_texts_any((cause_id)c), v.num_fix + v.num_dead_ends > 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_truncates_like_snprintf),
        cmocka_unit_test(test_text_full_stays_full),
        cmocka_unit_test(test_texts_any),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
