// test_command_line.c — bundle_command_line, the command environment.txt records: "tlsdiag" and
// the subcommand's words, as typed, in order.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "bundle.h"

static void test_joined(void **state) {
    (void)state;
    char *const argv[] = {"report", "-o", "ticket.tar.gz", "--anonymize", "a b.pcap"};
    char *s = bundle_command_line(5, argv);
    assert_non_null(s);
    assert_string_equal(s, "tlsdiag report -o ticket.tar.gz --anonymize a b.pcap");
    free(s);
}

static void test_no_words(void **state) {
    (void)state;
    char *s = bundle_command_line(0, NULL);
    assert_non_null(s);
    assert_string_equal(s, "tlsdiag");
    free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_joined),
        cmocka_unit_test(test_no_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
