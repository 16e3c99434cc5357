// fuzz_pipeline.c — libFuzzer target: the whole pipeline from pcap/pcapng bytes: libpcap reads
// the input as a capture file, dissect/ builds transcripts, analyze/ judges them (certificates
// included) and report/ renders each verdict as JSON and as text.
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "analyze.h"
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
    report_options o = {REPORT_JSON, false, REPORT_VERBOSE, null};
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
    FILE *fp = fmemopen((void *)(uintptr_t)data, size, "rb");
    if (fp == NULL) {
        return 0;
    }
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (p == NULL) {
        fclose(fp);
        return 0;
    }
    dissect_config cfg;
    dissect_config_default(&cfg);
    cfg.max_flows = 64;
    cfg.on_transcript = on_transcript;
    dissect *d = dissect_new(&cfg);
    if (d != NULL) {
        struct pcap_pkthdr *h;
        const u_char *bytes;
        uint32_t no = 0;
        int linktype = pcap_datalink(p);
        while (no < 4096 && pcap_next_ex(p, &h, &bytes) == 1) {
            dissect_frame f = {linktype, h->caplen, h->len, bytes,
                               (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec, ++no};
            dissect_feed(d, &f);
        }
        dissect_finish(d);
        (void)report_summary(rep_json, analyzer_summary(an), NULL);
        dissect_free(d);
    }
    pcap_close(p);  // closes fp
    return 0;
}
