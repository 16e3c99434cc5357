// test_render.c — report/render.c: a verdict rendered ahead (a --threads worker) and written with
// its conn_id (the merge) gives the bytes report_verdict writes, in every format that renders
// ahead; bytes from the wire that spell the placeholder make it decline, never misplace conn_id.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"

typedef struct out {
    FILE *f;
    char *buf;
    size_t len;
} out;

static report *open_out(out *o, const report_options *base) {
    o->buf = NULL;
    o->len = 0;
    o->f = open_memstream(&o->buf, &o->len);
    assert_non_null(o->f);
    report_options ro = *base;
    ro.out = o->f;
    report *r = report_new(&ro);
    assert_non_null(r);
    report_set_file(r, "capture \"one\".pcap");
    return r;
}

static void close_out(out *o, report *r) {
    assert_false(report_write_failed(r));
    report_free(r);
    assert_int_equal(fclose(o->f), 0);
}

static verdict *failed_verdict(const char *sni) {
    verdict *v = calloc(1, sizeof *v);
    assert_non_null(v);
    v->client = (tls_endpoint){.family = 4, .addr = {15, 158, 1, 2}, .port = 40000};
    v->server = (tls_endpoint){.family = 4, .addr = {203, 0, 113, 9}, .port = 443};
    v->has_sni = true;
    snprintf(v->sni, sizeof v->sni, "%s", sni);
    v->sni_len = (uint16_t)strlen(v->sni);
    v->outcome = OUTCOME_FAILED;
    v->aborted_by = PARTY_CLIENT;
    v->has_alert = true;
    v->alert_sender = PARTY_CLIENT;
    v->alert_level = 2;
    v->alert_desc = 45;
    v->cause = CAUSE_CERT_EXPIRED;
    v->confidence = CONF_HIGH;
    v->first_frame = 3;
    v->last_frame = 9;
    snprintf(v->summary, sizeof v->summary, "leaf certificate expired");
    return v;
}

// check_same: v rendered by a renderer of r's options, written with conn_id, is what
// report_verdict writes for v numbered conn_id.
static void check_same(const report_options *o, verdict *v, uint64_t conn_id) {
    out direct, ahead;
    report *rd = open_out(&direct, o);
    v->conn_id = conn_id;
    assert_true(report_verdict(rd, v));
    close_out(&direct, rd);

    report *ra = open_out(&ahead, o);
    report_renderer *m = report_renderer_new(ra);
    assert_non_null(m);
    v->conn_id = 7;  // what the worker has: not the merge's number
    report_rendered *b = report_render(m, v);
    assert_non_null(b);
    assert_int_equal(v->conn_id, 7);  // restored
    assert_true(report_write_rendered(ra, b, conn_id));
    report_rendered_free(b);
    report_renderer_free(m);
    close_out(&ahead, ra);

    assert_true(direct.len > 0);
    assert_int_equal(ahead.len, direct.len);
    assert_memory_equal(ahead.buf, direct.buf, direct.len);
    free(direct.buf);
    free(ahead.buf);
}

static void test_json_text_ecs_as_report_verdict(void **state) {
    (void)state;
    const report_options opts[] = {
        {.format = REPORT_JSON, .stream_is_tcp_stream = true},
        {.format = REPORT_JSON, .stream_is_tcp_stream = false},
        {.format = REPORT_ECS, .stream_is_tcp_stream = true},
        {.format = REPORT_TEXT, .verbosity = REPORT_NORMAL},
        {.format = REPORT_TEXT, .verbosity = REPORT_NORMAL, .color = true},
    };
    const uint64_t ids[] = {0, 9, 42, 1234567890123ULL};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
            verdict *v = failed_verdict("origin.example.com");
            check_same(&opts[i], v, ids[k]);
            free(v);
        }
    }
}

// Text prints nothing for a succeeded handshake by default: nothing rendered, nothing written.
static void test_text_success_is_empty(void **state) {
    (void)state;
    report_options o = {.format = REPORT_TEXT};
    out x;
    report *r = open_out(&x, &o);
    report_renderer *m = report_renderer_new(r);
    assert_non_null(m);
    verdict *v = failed_verdict("ok.example.com");
    v->outcome = OUTCOME_SUCCEEDED;
    v->cause = CAUSE_OK;
    v->has_alert = false;
    report_rendered *b = report_render(m, v);
    assert_non_null(b);
    assert_int_equal(b->len, 0);
    assert_int_equal(b->nholes, 0);
    report_rendered *b2 = report_render(m, v);  // (nothing is allocated for it: both the same)
    assert_ptr_equal(b2, b);
    assert_true(report_write_rendered(r, b, 5));
    report_rendered_free(b);
    report_rendered_free(b2);
    // The renderer kept its buffer for the next verdict: a failure after successes is whole.
    verdict *f = failed_verdict("bad.example.com");
    report_rendered *fb = report_render(m, f);
    assert_non_null(fb);
    assert_true(fb != b && fb->len > 0 && fb->nholes == 1);
    assert_true(report_write_rendered(r, fb, 6));
    report_rendered_free(fb);
    report_renderer_free(m);
    close_out(&x, r);
    out direct;
    report *rd = open_out(&direct, &o);
    f->conn_id = 6;
    assert_true(report_verdict(rd, f));
    close_out(&direct, rd);
    assert_int_equal(x.len, direct.len);
    assert_memory_equal(x.buf, direct.buf, direct.len);
    free(direct.buf);
    free(x.buf);
    free(f);
    free(v);
}

// An SNI that spells the placeholder's digits (after ':' as in JSON, after '#' as in text) is
// not taken for conn_id: the renderer declines and the merge writes the verdict itself.
static void test_placeholder_in_hostile_bytes_declines(void **state) {
    (void)state;
    const char *const snis[] = {"9223372036854775807", "x:9223372036854775807",
                                "a #9223372036854775807 b", "\":9223372036854775807,"};
    const report_options opts[] = {
        {.format = REPORT_JSON, .stream_is_tcp_stream = true},
        {.format = REPORT_ECS},
        {.format = REPORT_TEXT},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        for (size_t k = 0; k < sizeof snis / sizeof snis[0]; k++) {
            out x;
            report *r = open_out(&x, &opts[i]);
            report_renderer *m = report_renderer_new(r);
            assert_non_null(m);
            verdict *v = failed_verdict(snis[k]);
            assert_null(report_render(m, v));
            report_renderer_free(m);
            close_out(&x, r);
            free(x.buf);
            free(v);
        }
    }
}

// Outputs whose bytes depend on more than the verdict (the terminal's width) or that print
// conn_id in many places are not rendered ahead.
static void test_no_renderer_for_verbose_wireshark_terminal(void **state) {
    (void)state;
    const report_options opts[] = {
        {.format = REPORT_TEXT, .verbosity = REPORT_VERBOSE},
        {.format = REPORT_TEXT, .verbosity = REPORT_QUIET},
        {.format = REPORT_TEXT, .wireshark_commands = true},
        {.format = REPORT_TEXT, .columns = 80},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        out x;
        report *r = open_out(&x, &opts[i]);
        assert_null(report_renderer_new(r));
        close_out(&x, r);
        free(x.buf);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_text_ecs_as_report_verdict),
        cmocka_unit_test(test_text_success_is_empty),
        cmocka_unit_test(test_placeholder_in_hostile_bytes_declines),
        cmocka_unit_test(test_no_renderer_for_verbose_wireshark_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
