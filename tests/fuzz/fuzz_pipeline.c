// fuzz_pipeline.c — libFuzzer target: the whole pipeline from pcap/pcapng bytes: capture/ reads
// the input as a capture file, dissect/ builds transcripts, analyze/ judges them (certificates
// included) and report/ renders each verdict as JSON and as text, and damage as error objects.
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analyze.h"
#include "capture.h"
#include "dissect.h"
#include "fuzz_util.h"
#include "report.h"

static analyzer *an;
static report *rep_json, *rep_text;

static void on_transcript(void *user, const tls_transcript *t) {
    (void)user;
    verdict *v = analyzer_run(an, t);
    if (v != NULL) {
        (void)report_verdict(rep_json, v);
        (void)report_verdict(rep_text, v);
        verdict_free(v);
    }
}

static void init(void) {
    analyzer_config ac;
    analyzer_config_default(&ac);
    ac.now = 1790000000;
    char err[256];
    an = analyzer_new(&ac, err, sizeof err);
    FILE *null = fopen("/dev/null", "w");
    report_options o = {.format = REPORT_JSON, .verbosity = REPORT_VERBOSE, .out = null};
    rep_json = report_new(&o);
    o.format = REPORT_TEXT;
    o.color = true;
    rep_text = report_new(&o);
    if (an == NULL || rep_json == NULL || rep_text == NULL) {
        fprintf(stderr, "fuzz_pipeline: setup failed: %s\n", err);
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (an == NULL) {
        init();
    }
    // The input is a capture file: hand it to capture/ through a memory file, as a user's
    // pcap/pcapng would arrive (our own reader, not libpcap's, parses it).
    int fd = memfd_create("fuzz-capture", 0);
    if (fd < 0) {
        return 0;
    }
    if (size > 0 && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    const char *paths[1] = {path};
    char err[256];
    cap_reader *r = cap_open(paths, 1, NULL, err, sizeof err);
    if (r != NULL) {
        dissect_config cfg;
        dissect_config_default(&cfg);
        cfg.max_flows = 64;
        cfg.on_transcript = on_transcript;
        dissect *d = dissect_new(&cfg);
        if (d != NULL) {
            dissect_frame f, batch[8];
            uint32_t n = 0;
            size_t k;
            if (size & 1) {  // frame by frame (what --threads workers do) ...
                while (n++ < 4096 && cap_next(r, &f) == 1) {
                    dissect_feed(d, &f);
                }
            } else {  // ... or in batches, as the one-thread loop reads and feeds
                while (n < 4096 && (k = cap_next_batch(r, batch, 8)) > 0) {
                    for (size_t i = 0; i < k; i += dissect_feed_frames(d, &batch[i], k - i)) {
                    }
                    n += (uint32_t)k;
                }
            }
            dissect_finish(d);
            dissect_free(d);
        }
        for (size_t i = 0; i < cap_num_errors(r); i++) {
            const cap_error *ce = cap_get_error(r, i);
            report_input_error ie = {ce->file, ce->frame, ce->offset, ce->msg};
            (void)report_error(rep_json, &ie);
        }
        cap_close(r);
    }
    close(fd);
    return 0;
}
