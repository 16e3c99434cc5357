// test_capture_stats.c — report_capture_stats: `tlsdiag capture`'s counters after the summary
// (text by verbosity, one JSON object of type "capture", nothing in an ECS stream).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "report.h"

// out: what report_capture_stats wrote for c with this format and verbosity (caller frees).
static char *stats(report_format fmt, int verbosity, const report_capture *c) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    report_options o = {.format = fmt, .verbosity = verbosity, .out = f};
    report *r = report_new(&o);
    assert_non_null(r);
    report_capture_stats(r, c);
    report_free(r);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static dissect_stats st = {.flows_evicted = 3, .peak_flows = 7, .peak_buffered_bytes = 4096};
static const report_capture counted = {.iface = "eth0",
                                       .filter = "tcp port 443",
                                       .packets = 120,
                                       .have_counts = true,
                                       .received = 125,
                                       .dropped = 5,
                                       .written = 99,
                                       .stats = &st};

static void text_by_verbosity(void **state) {
    (void)state;
    char *s = stats(REPORT_TEXT, REPORT_NORMAL, &counted);
    assert_string_equal(s,
                        "\nCapture: interface eth0, 120 packets analysed, libpcap: 125 received, 5 "
                        "dropped\n         3 undecided connection(s) evicted to stay within "
                        "--max-flows/--max-total-bytes\n");
    free(s);
    s = stats(REPORT_TEXT, REPORT_VERBOSE, &counted);
    assert_non_null(strstr(s, "         filter: tcp port 443\n"));
    free(s);
    s = stats(REPORT_TEXT, REPORT_QUIET, &counted);
    assert_string_equal(s, "");
    free(s);
    report_capture none = counted;  // libpcap gave no counts, nothing evicted
    dissect_stats calm = {0};
    none.have_counts = false;
    none.stats = &calm;
    s = stats(REPORT_TEXT, REPORT_NORMAL, &none);
    assert_string_equal(s, "\nCapture: interface eth0, 120 packets analysed\n");
    free(s);
}

static void json_object_and_ecs_nothing(void **state) {
    (void)state;
    char *s = stats(REPORT_JSON, REPORT_QUIET, &counted);  // JSON whatever the verbosity
    json_error_t err;
    json_t *j = json_loads(s, 0, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "capture");
    assert_int_equal(json_integer_value(json_object_get(j, "packets")), 120);
    assert_int_equal(json_integer_value(json_object_get(j, "received")), 125);
    assert_int_equal(json_integer_value(json_object_get(j, "dropped")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "flows_evicted")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "peak_flows")), 7);
    assert_int_equal(json_integer_value(json_object_get(j, "peak_buffered_bytes")), 4096);
    assert_int_equal(json_integer_value(json_object_get(j, "written")), 99);
    json_decref(j);
    free(s);
    report_capture none = counted;
    none.have_counts = false;
    s = stats(REPORT_JSON, REPORT_NORMAL, &none);
    j = json_loads(s, 0, &err);
    assert_non_null(j);
    assert_true(json_is_null(json_object_get(j, "received")));
    assert_true(json_is_null(json_object_get(j, "dropped")));
    json_decref(j);
    free(s);
    s = stats(REPORT_ECS, REPORT_VERBOSE, &counted);
    assert_string_equal(s, "");
    free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_by_verbosity),
        cmocka_unit_test(json_object_and_ecs_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
