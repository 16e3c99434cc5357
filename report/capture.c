// capture.c — `tlsdiag capture`'s closing counters: after the summary, the packets analysed
// and libpcap's received/dropped counts (text), or one JSON Lines object of type "capture".
#include <inttypes.h>
#include <stdio.h>

#include "report.h"
#include "report_internal.h"

void report_capture_stats(report *r, const report_capture *c) {
    const dissect_stats *st = c->stats;
    FILE *out = r->o.out;
    if (r->o.format == REPORT_ECS) {
        return;  // ECS events only; the counters are on stderr with -v and in --json
    }
    if (r->o.format == REPORT_JSON) {
        char rx[24] = "null", dr[24] = "null";
        if (c->have_counts) {
            snprintf(rx, sizeof rx, "%" PRIu64, c->received);
            snprintf(dr, sizeof dr, "%" PRIu64, c->dropped);
        }
        fprintf(
            out,
            "{\"schema_version\":%d,\"schema_minor\":%d,\"type\":\"capture\",\"packets\":%" PRIu64
            ",\"received\":%s,\"dropped\":%s,\"flows_evicted\":%" PRIu64 ",\"peak_flows\":%" PRIu32
            ",\"peak_buffered_bytes\":%" PRIu64 ",\"written\":%" PRIu64 "}\n",
            REPORT_SCHEMA_VERSION, REPORT_SCHEMA_MINOR, c->packets, rx, dr, st->flows_evicted,
            st->peak_flows, st->peak_buffered_bytes, c->written);
        return;
    }
    if (r->o.verbosity < REPORT_NORMAL) {
        return;
    }
    fprintf(out, "\nCapture: interface %s, %" PRIu64 " packets analysed", c->iface, c->packets);
    if (c->have_counts) {
        fprintf(out, ", libpcap: %" PRIu64 " received, %" PRIu64 " dropped", c->received,
                c->dropped);
    }
    fprintf(out, "\n");
    if (st->flows_evicted) {
        fprintf(out,
                "         %" PRIu64
                " undecided connection(s) evicted to stay within "
                "--max-flows/--max-total-bytes\n",
                st->flows_evicted);
    }
    if (r->o.verbosity >= REPORT_VERBOSE) {
        fprintf(out, "         filter: %s\n", c->filter);
    }
}

void report_capture_status(report_progress *p, const summary *s, uint64_t packets,
                           uint64_t connections, uint64_t dropped) {
    fprintf(stderr,
            "\r\x1b[Ktlsdiag: %" PRIu64 " packets, %" PRIu64 " connections, %" PRIu64
            " ok / %" PRIu64 " failed, top cause %s, %" PRIu64 " dropped",
            packets, connections, s->succeeded, s->failed,
            s->failed ? cause_name(s->dominant) : "-", dropped);
    fflush(stderr);
    p->shown = true;
}
