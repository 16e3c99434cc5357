// test_verdict.c — verdict_add_evidence and verdict_add_finding, the one way analyze/ and probe/
// add to a verdict: duplicates dropped, fields truncated, full lists left alone.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

static verdict *new_verdict(void) {
    verdict *v = calloc(1, sizeof *v);
    assert_non_null(v);
    return v;
}

static void test_evidence_kept_in_order_without_duplicates(void **state) {
    (void)state;
    verdict *v = new_verdict();
    verdict_add_evidence(v, "alert", 7, "fatal alert unknown_ca(48) from the client");
    verdict_add_evidence(v, "probe_capture", 0, "3 frames");
    verdict_add_evidence(v, "alert", 9, "fatal alert unknown_ca(48) from the client");  // same
    verdict_add_evidence(v, "alert", 9, "warning alert close_notify(0) from the server");
    assert_int_equal(v->num_evidence, 3);
    assert_string_equal(v->evidence[0].key, "alert");
    assert_int_equal(v->evidence[0].frame, 7);
    assert_string_equal(v->evidence[1].key, "probe_capture");
    assert_int_equal(v->evidence[1].frame, 0);
    assert_string_equal(v->evidence[2].value, "warning alert close_notify(0) from the server");
    assert_int_equal(v->evidence[2].frame, 9);
    free(v);
}

static void test_evidence_truncated_and_capped(void **state) {
    (void)state;
    verdict *v = new_verdict();
    char long_key[200], long_value[2 * VERDICT_TEXT];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    memset(long_value, 'v', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    verdict_add_evidence(v, long_key, 1, long_value);
    assert_int_equal(strlen(v->evidence[0].key), sizeof v->evidence[0].key - 1);
    assert_int_equal(strlen(v->evidence[0].value), VERDICT_TEXT - 1);
    // the same long pair again is a duplicate once truncated
    verdict_add_evidence(v, long_key, 2, long_value);
    assert_int_equal(v->num_evidence, 1);
    char key[16];
    for (int i = 1; i < VERDICT_MAX_EVIDENCE + 5; i++) {
        snprintf(key, sizeof key, "k%d", i);
        verdict_add_evidence(v, key, (uint32_t)i, "x");
    }
    assert_int_equal(v->num_evidence, VERDICT_MAX_EVIDENCE);
    assert_string_equal(v->evidence[VERDICT_MAX_EVIDENCE - 1].key, "k23");
    free(v);
}

// Written in place into a slot that holds old bytes (verdict_new leaves the arrays
// uninitialised): the entry reads as its value alone, and a value equal to the first bytes of
// a wire value (value_len, NULs inside) is no duplicate of it.
static void test_evidence_written_over_old_bytes(void **state) {
    (void)state;
    verdict *v = malloc(sizeof *v);
    assert_non_null(v);
    memset(v, 0xA5, sizeof *v);
    v->num_evidence = 1;
    memset(&v->evidence[0], 0, sizeof v->evidence[0]);
    memcpy(v->evidence[0].key, "sni", 4);
    memcpy(v->evidence[0].value, "a\0b", 3);
    v->evidence[0].value_len = 3;
    verdict_add_evidence(v, "sni", 4, "a");
    assert_int_equal(v->num_evidence, 2);
    assert_string_equal(v->evidence[1].key, "sni");
    assert_int_equal(verdict_evidence_len(&v->evidence[1]), 1);
    assert_int_equal(v->evidence[1].frame, 4);
    verdict_add_evidence(v, "sni", 5, "a");  // now a duplicate
    assert_int_equal(v->num_evidence, 2);
    free(v);
}

static void test_findings_truncated_and_capped(void **state) {
    (void)state;
    verdict *v = new_verdict();
    char long_text[2 * VERDICT_TEXT];
    memset(long_text, 't', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    verdict_add_finding(v, CAUSE_CERT_EXPIRED, long_text);
    assert_int_equal(v->num_findings, 1);
    assert_int_equal(v->findings[0].cause, CAUSE_CERT_EXPIRED);
    assert_int_equal(strlen(v->findings[0].text), VERDICT_TEXT - 1);
    for (int i = 1; i < VERDICT_MAX_FINDINGS + 3; i++) {
        verdict_add_finding(v, CAUSE_UNKNOWN, "more");
    }
    assert_int_equal(v->num_findings, VERDICT_MAX_FINDINGS);
    assert_int_equal(v->findings[VERDICT_MAX_FINDINGS - 1].cause, CAUSE_UNKNOWN);
    free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evidence_kept_in_order_without_duplicates),
        cmocka_unit_test(test_evidence_truncated_and_capped),
        cmocka_unit_test(test_findings_truncated_and_capped),
        cmocka_unit_test(test_evidence_written_over_old_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
