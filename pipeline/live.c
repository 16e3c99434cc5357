// live.c — a live capture as the pipeline's source (`tlsdiag capture`): the same frames → dissect
// → analyze → sinks as a file, read in batches straight from the kernel's ring.
//
//   loop: cap_live_dispatch (≤ PIPELINE_LIVE_BATCH packets, analysed in place) → pipeline_feed →
//         every batch and poll timeout: the kernel's drop count, drop marks, source.on_tick
//   after a stop: what the kernel had already captured (cap_live_next_queued), drop marks with
//         libpcap's final counters; the open connections are reported unless -c N was reached.
#include <signal.h>
#include <stdlib.h>

#include "feed.h"

enum {
    LIVE_DRAIN_MAX = 100000,  // packets read after a stop, at most
};

// live_mark_drops stamps the open flows when the kernel reported new drops. The stamp walks every
// open flow, so under sustained drops it runs at most once per max(PIPELINE_LIVE_BATCH, peak
// flows) packets (amortized O(1) per packet; `force` on an idle wake-up and at the end): marking
// after each 256-packet drop read cost more than the packets themselves and made a burst of drops
// snowball (bench/LIVE.md). A flow that opens and is decided between a drop and the next mark is
// not stamped; its own gaps still say what it lost.
typedef struct live_marks {
    uint64_t drops_marked;  // the kernel drop count when the open flows were last marked
    uint64_t marked_at;     // packets read then
} live_marks;

static void live_mark_drops(pipeline *p, live_marks *m, bool force) {
    const pipeline_result *r = pipeline_now(p);
    if (r->drops <= m->drops_marked) {
        return;
    }
    uint64_t every = r->stats.peak_flows;
    if (!force &&
        r->packets - m->marked_at < (every > PIPELINE_LIVE_BATCH ? every : PIPELINE_LIVE_BATCH)) {
        return;
    }
    m->drops_marked = r->drops;
    m->marked_at = r->packets;
    dissect_mark_drops(
        pipeline_dissector(p));  // the open flows may miss packets: their verdicts say so
}

typedef struct live_batch {
    pipeline *p;
    uint64_t frames;  // frames analysed in this batch
} live_batch;

// live_frame: one packet of a dispatch batch (called by capture/ while it is in the ring).
static void live_frame(void *user, const dissect_frame *f) {
    live_batch *b = user;
    if (!pipeline_more(b->p)) {
        return;  // stopping: the rest of the batch is not analysed (as when the loop ends)
    }
    b->frames++;
    (void)pipeline_feed(b->p, f);
}

// live_loop reads until a stop condition; false when the capture stopped on an error.
static bool live_loop(pipeline *p, const pipeline_live *l, void *user, live_marks *m) {
    pipeline_result *r = pipeline_now(p);
    for (;;) {
        if (*l->stop_flag || !pipeline_more(p)) {
            return true;
        }
        live_batch b = {.p = p};
        uint64_t before = r->packets;
        int n = cap_live_dispatch(l->reader, PIPELINE_LIVE_BATCH, live_frame, &b);
        if (n < 0) {
            return *l->stop_flag != 0 || cap_live_error(l->reader)[0] == '\0';
        }
        r->packets += b.frames;
        if (n == 0 || r->packets / PIPELINE_LIVE_BATCH != before / PIPELINE_LIVE_BATCH) {
            uint64_t rx, dr;
            if (cap_live_stats(l->reader, &rx, &dr) && dr > r->drops) {
                r->drops = dr;
            }
            live_mark_drops(p, m, n == 0);
            if (l->on_tick != NULL && !l->on_tick(user, pipeline_now(p))) {
                return true;
            }
        }
    }
}

// pipeline_live_read: see feed.h.
bool pipeline_live_read(pipeline *p, const pipeline_live *l, void *user) {
    live_marks m = {0};
    pipeline_result *r = pipeline_now(p);
    bool clean = live_loop(p, l, user, &m);
    // Stopped by a signal or on_tick: what the kernel had already captured is analyzed too
    // (bounded: one ring's worth at most, the kernel adds no more once we stop reading fast).
    dissect_frame fr;
    for (uint32_t n = 0; clean && pipeline_more(p) && n < LIVE_DRAIN_MAX &&
                         cap_live_next_queued(l->reader, &fr) == 1;
         n++) {
        r->packets++;
        (void)pipeline_feed(p, &fr);
    }
    r->live_error = !clean;
    r->have_counts = cap_live_stats(l->reader, &r->received, &r->dropped);
    if (r->have_counts && r->dropped > r->drops) {
        r->drops = r->dropped;
    }
    live_mark_drops(p, &m, true);
    return pipeline_count_left(p);  // -c N reached: the open connections are not reported
}

char *pipeline_live_filter(const analyzer *an, bool all_sources, const uint16_t *ports,
                           size_t num_ports, const char *extra) {
    size_t n = all_sources ? 0 : analyzer_num_prefixes(an);
    char(*txt)[64] = calloc(n ? n : 1, sizeof *txt);
    const char **nets = calloc(n ? n : 1, sizeof *nets);
    char *bpf = NULL;
    if (txt && nets) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (analyzer_prefix_at(an, i, txt[k], sizeof txt[k])) {
                nets[k] = txt[k];
                k++;
            }
        }
        bpf = cap_live_filter(nets, k, ports, num_ports, extra);
    }
    free(txt);
    free(nets);
    return bpf;
}
