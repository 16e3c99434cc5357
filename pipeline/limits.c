// limits.c — telling the user, once per run, which resource bound engaged and what it cost.
//
// The dissector never fails because of hostile input: it evicts, caps and stops parsing, and
// records that in each transcript. This file counts those facts over a run and states them on
// stderr after the run (and they reach each verdict as capture_incomplete evidence), so a
// bound is never applied silently.
#include <inttypes.h>
#include <stdio.h>

#include "capture.h"
#include "pipeline.h"

// The byte caps, the message cap and the event cap: a line for each non-zero count of b.
void pipeline_bounds_print(const dissect_bounds *b, const dissect_config *dc) {
    if (b->message_cap > 0) {
        fprintf(stderr,
                "tlsdiag: %" PRIu64
                " connection(s) declared a handshake message larger than %" PRIu32
                " bytes: not buffered, the direction was no longer parsed\n",
                b->message_cap, dc->max_message_len);
    }
    if (b->total_cap > 0) {
        fprintf(stderr,
                "tlsdiag: total buffer cap reached (--max-total-bytes %" PRIu64 "): %" PRIu64
                " connection(s) ended early or lost out-of-order bytes (reported as gaps)\n",
                dc->max_total_bytes, b->total_cap);
    }
    if (b->flow_cap > 0) {
        fprintf(stderr,
                "tlsdiag: %" PRIu64
                " connection(s) reached the per-flow buffer cap (--max-flow-bytes %" PRIu32
                "): the rest of their bytes was not analysed\n",
                b->flow_cap, dc->max_flow_bytes);
    }
    if (b->events_dropped > 0) {
        fprintf(stderr,
                "tlsdiag: %" PRIu64
                " connection(s) had more than %d events: the rest were counted, not listed\n",
                b->events_dropped, TLS_MAX_EVENTS);
    }
}

// The count to state for one bound (0: stated before or not engaged); *said remembers it.
void pipeline_flows_full_print(uint32_t max_flows) {
    fprintf(stderr,
            "tlsdiag: flow table full (--max-flows %" PRIu32
            "): evicting the oldest undecided connections (SYN flood or scan?); memory stays "
            "within the caps\n",
            max_flows);
}

void pipeline_threads_fallback_print(uint32_t threads) {
    fprintf(stderr,
            "tlsdiag: --threads %u: could not start the worker threads (out of memory or of "
            "processes); analysing with one thread\n",
            threads);
}

static uint64_t fresh_count(uint64_t *said, uint64_t now) {
    uint64_t n = *said == 0 ? now : 0;
    *said = now > *said ? now : *said;
    return n;
}

bool pipeline_bounds_fresh(dissect_bounds *said, const dissect_bounds *now, dissect_bounds *fresh) {
    fresh->flow_cap = fresh_count(&said->flow_cap, now->flow_cap);
    fresh->total_cap = fresh_count(&said->total_cap, now->total_cap);
    fresh->message_cap = fresh_count(&said->message_cap, now->message_cap);
    fresh->events_dropped = fresh_count(&said->events_dropped, now->events_dropped);
    return fresh->flow_cap || fresh->total_cap || fresh->message_cap || fresh->events_dropped;
}

// The byte caps, the message cap and the event cap are counted by the dissector (per worker
// with --threads, summed), so they are stated whichever way the run went.
void pipeline_limits_print(const pipeline_engaged *l, const dissect_stats *st,
                           const dissect_config *dc) {
    static const dissect_bounds none;
    const dissect_bounds *b = st != NULL ? &st->bounds : &none;
    uint64_t full = st ? st->flows_evicted - st->flows_idle : 0;
    if (l->idle > 0 || (st != NULL && st->flows_idle > 0)) {
        uint64_t n = l->idle > (st ? st->flows_idle : 0) ? l->idle : st->flows_idle;
        fprintf(stderr,
                "tlsdiag: %" PRIu64 " connection(s) had no packet for %" PRIu32
                " s of capture time before their handshake was decided; each is judged on what "
                "it showed until then\n",
                n, dc->idle_timeout_s);
    }
    if (l->evicted > 0 || full > 0) {
        uint64_t n = l->evicted > full ? l->evicted : full;
        fprintf(stderr,
                "tlsdiag: flow table full: %" PRIu64
                " connections evicted before their handshake was decided "
                "(--max-flows %" PRIu32 "); they are reported as incomplete\n",
                n, dc->max_flows);
    }
    pipeline_bounds_print(b, dc);
    if (l->overlaps > 0) {
        fprintf(stderr,
                "tlsdiag: %" PRIu64
                " connection(s) had overlapping retransmissions with different bytes: the first "
                "copy was kept\n",
                l->overlaps);
    }
    if (l->many_records > 0) {
        fprintf(stderr,
                "tlsdiag: %" PRIu64
                " connection(s) sent more than %d TLS records in one "
                "direction before their handshake was decided: reassembled without per-record "
                "memory\n",
                l->many_records, PIPELINE_MANY_RECORDS);
    }
    if (l->chains_dropped > 0) {
        fprintf(stderr,
                "tlsdiag: more than %d distinct certificate chains (chain, SNI, hour): %" PRIu64
                " result(s) dropped from the chain cache (least recently used) and verified "
                "again when seen again; the report is the same\n",
                ANALYZER_CHAIN_RESULTS, l->chains_dropped);
    }
}

void pipeline_undecoded_print(const dissect_stats *st) {
    for (int i = 0; i < DISSECT_UNDECODED_COUNT; i++) {
        const dissect_undecoded *u = &st->undecoded[i];
        if (u->frames == 0) {
            continue;
        }
        char line[400];
        dissect_undecoded_describe((dissect_undecoded_reason)i, u, line, sizeof line);
        fprintf(stderr, "tlsdiag: not decoded: %s, link type %s (%d)\n", line,
                cap_linktype_name(u->linktype), u->linktype);
    }
}
