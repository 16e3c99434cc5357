// test_pipeline.c — the one loop: limits reach the dissector, -c N bounds what the sinks get,
// the stop sink ends the read, and in-memory frames (the probe's source) give what a file does.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline.h"

#define PCAP(name) TLSDIAG_SOURCE_DIR "/pcaps/" name
#define CA TLSDIAG_SOURCE_DIR "/pcaps/ca/root.pem"

enum { MAX_SEEN = 16 };

typedef struct seen {
    size_t transcripts, verdicts;
    cause_id causes[MAX_SEEN];
    size_t stop_after;  // stop sink: true once this many verdicts arrived (0: never)
} seen;

static void on_transcript(void *user, const tls_transcript *t) {
    seen *s = user;
    assert_non_null(t);
    s->transcripts++;
}

static bool on_verdict(void *user, verdict *v, const tls_transcript *t) {
    seen *s = user;
    assert_non_null(t);
    if (s->verdicts < MAX_SEEN) {
        s->causes[s->verdicts] = v->cause;
    }
    s->verdicts++;
    return false;
}

static bool stop(void *user) {
    const seen *s = user;
    return s->stop_after != 0 && s->verdicts >= s->stop_after;
}

static analyzer *new_analyzer(const pipeline_config *c) {
    char err[512] = "";
    analyzer *a = pipeline_analyzer_new(c, err, sizeof err);
    assert_non_null(a);
    return a;
}

static void config(pipeline_config *c) {
    pipeline_config_default(c);
    c->ca_file = CA;
    c->now = 1795651200;  // 2026-11-26T00:00:00Z
}

// run: path through a pipeline_config c with every sink installed; returns the result.
static pipeline_result run(const pipeline_config *c, const char *path, seen *s) {
    analyzer *a = new_analyzer(c);
    char err[512] = "";
    const char *paths[] = {path};
    cap_reader *cr = cap_open(paths, 1, NULL, err, sizeof err);
    assert_non_null(cr);
    pipeline_sinks sinks = {
        .user = s, .on_transcript = on_transcript, .on_verdict = on_verdict, .stop = stop};
    pipeline_source src = {.reader = cr};
    pipeline_result res;
    assert_true(pipeline_run(c, a, &src, &sinks, &res));
    cap_close(cr);
    analyzer_free(a);
    return res;
}

// pipeline_limits fill dissect_config; 0 keeps dissect's defaults; a per-flow cap larger than
// dissect can hold is clamped, not wrapped.
static void test_limits_fill_dissect_config(void **state) {
    (void)state;
    dissect_config def, dc;
    dissect_config_default(&def);
    pipeline_config c;
    pipeline_config_default(&c);
    pipeline_dissect_config(&c, &dc);
    assert_int_equal(dc.max_flows, def.max_flows);
    assert_int_equal(dc.max_flow_bytes, def.max_flow_bytes);
    assert_int_equal(dc.max_total_bytes, def.max_total_bytes);
    c.limits = (pipeline_limits){7, 300, 5000};
    pipeline_dissect_config(&c, &dc);
    assert_int_equal(dc.max_flows, 7);
    assert_int_equal(dc.max_flow_bytes, 300);
    assert_int_equal(dc.max_total_bytes, 5000);
    c.limits.max_flow_bytes = (uint64_t)UINT32_MAX + 5;
    pipeline_dissect_config(&c, &dc);
    assert_int_equal(dc.max_flow_bytes, UINT32_MAX);
}

// A limit applies to the run: mixed.pcap's chains cut at 200 bytes per flow are
// capture_incomplete, and the cap is counted in the result's dissect stats.
static void test_limits_apply(void **state) {
    (void)state;
    pipeline_config c;
    config(&c);
    seen whole = {0}, cut = {0};
    pipeline_result r1 = run(&c, PCAP("mixed.pcap"), &whole);
    c.limits.max_flow_bytes = 200;
    pipeline_result r2 = run(&c, PCAP("mixed.pcap"), &cut);
    assert_int_equal(r1.transcripts, r2.transcripts);
    assert_int_equal(r1.stats.bounds.flow_cap, 0);
    assert_true(r2.stats.bounds.flow_cap > 0);
    size_t incomplete1 = 0, incomplete2 = 0;
    for (size_t i = 0; i < whole.verdicts && i < MAX_SEEN; i++) {
        incomplete1 += whole.causes[i] == CAUSE_CAPTURE_INCOMPLETE;
    }
    for (size_t i = 0; i < cut.verdicts && i < MAX_SEEN; i++) {
        incomplete2 += cut.causes[i] == CAUSE_CAPTURE_INCOMPLETE;
    }
    assert_int_equal(incomplete1, 0);
    assert_int_equal(incomplete2, 2);
}

// -c N: the sinks get the first N transcripts and verdicts; reading stops there.
static void test_count(void **state) {
    (void)state;
    pipeline_config c;
    config(&c);
    seen all = {0}, two = {0};
    pipeline_result r1 = run(&c, PCAP("mixed.pcap"), &all);
    assert_true(all.verdicts > 2);
    assert_int_equal(r1.verdicts, all.verdicts);
    c.count = 2;
    pipeline_result r2 = run(&c, PCAP("mixed.pcap"), &two);
    assert_int_equal(two.transcripts, 2);
    assert_int_equal(two.verdicts, 2);
    assert_int_equal(r2.verdicts, 2);
    assert_true(r2.transcripts >= 2);
    assert_memory_equal(two.causes, all.causes, 2 * sizeof all.causes[0]);
}

// The stop sink ends the run: nothing more is delivered once it says so.
static void test_stop(void **state) {
    (void)state;
    pipeline_config c;
    config(&c);
    seen s = {.stop_after = 1};
    pipeline_result r = run(&c, PCAP("mixed.pcap"), &s);
    assert_int_equal(s.verdicts, 1);
    assert_int_equal(r.verdicts, 1);
}

typedef struct frames {
    dissect_frame f[4096];
    size_t n;
} frames;

// In-memory frames (the probe's source) give the same verdicts as the file they came from.
static void test_frames_source(void **state) {
    (void)state;
    pipeline_config c;
    config(&c);
    seen from_file = {0};
    (void)run(&c, PCAP("mixed.pcap"), &from_file);

    frames *fs = calloc(1, sizeof *fs);
    assert_non_null(fs);
    char err[512] = "";
    const char *paths[] = {PCAP("mixed.pcap")};
    cap_reader *cr = cap_open(paths, 1, NULL, err, sizeof err);
    assert_non_null(cr);
    dissect_frame fr;
    while (cap_next(cr, &fr) == 1) {
        assert_true(fs->n < sizeof fs->f / sizeof fs->f[0]);
        uint8_t *copy = malloc(fr.caplen ? fr.caplen : 1);
        assert_non_null(copy);
        memcpy(copy, fr.data, fr.caplen);
        fs->f[fs->n] = fr;
        fs->f[fs->n++].data = copy;
    }
    cap_close(cr);
    assert_true(fs->n > 0);

    analyzer *a = new_analyzer(&c);
    seen from_mem = {0};
    pipeline_sinks sinks = {.user = &from_mem, .on_verdict = on_verdict};
    pipeline_source src = {.frames = fs->f, .num_frames = fs->n};
    pipeline_result res;
    assert_true(pipeline_run(&c, a, &src, &sinks, &res));
    assert_int_equal(from_mem.verdicts, from_file.verdicts);
    assert_memory_equal(from_mem.causes, from_file.causes, sizeof from_file.causes);
    analyzer_free(a);
    for (size_t i = 0; i < fs->n; i++) {
        free((void *)fs->f[i].data);
    }
    free(fs);
}

typedef struct roles {
    size_t frames, handshake, app_data, after;  // after: frames of connections already decided
} roles;

static void on_frame_done(void *user, const dissect_frame *fr, const dissect_frame_info *info) {
    roles *r = user;
    assert_non_null(fr);
    r->frames++;
    r->handshake += info->tcp && info->undecided && !info->app_data;
    r->app_data += info->app_data;
    r->after += !info->undecided;
}

// on_frame_done (a live capture's --handshake-only writer) sees every frame after dissect, with
// its role: in mixed.pcap some frames come before their connection's verdict and some after.
static void test_frame_done(void **state) {
    (void)state;
    pipeline_config c;
    config(&c);
    analyzer *a = new_analyzer(&c);
    char err[512] = "";
    const char *paths[] = {PCAP("mixed.pcap")};
    cap_reader *cr = cap_open(paths, 1, NULL, err, sizeof err);
    assert_non_null(cr);
    roles r = {0};
    pipeline_sinks sinks = {.user = &r, .on_frame_done = on_frame_done};
    pipeline_source src = {.reader = cr};
    pipeline_result res;
    assert_true(pipeline_run(&c, a, &src, &sinks, &res));
    assert_int_equal(r.frames, res.stats.frames);
    assert_true(r.handshake > 0);
    assert_true(r.handshake < r.frames);
    assert_true(r.after > 0);
    cap_close(cr);
    analyzer_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_fill_dissect_config),
        cmocka_unit_test(test_limits_apply),
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_frames_source),
        cmocka_unit_test(test_frame_done),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
