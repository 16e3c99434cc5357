// feed.h — the pipeline one frame at a time, internal to pipeline/: pipeline_run's sources (the
// file and in-memory loops in pipeline.c, the live capture in live.c) push frames through it.
#ifndef TLSDIAG_PIPELINE_FEED_H
#define TLSDIAG_PIPELINE_FEED_H

#include <stdbool.h>

#include "pipeline.h"

typedef struct pipeline pipeline;

// pipeline_new: a dissector configured from c delivering to sinks; an (may be NULL: transcripts
// only) is borrowed for the pipeline's life. NULL when out of memory. Caller-owned:
// pipeline_free.
pipeline *pipeline_new(const pipeline_config *c, analyzer *an, const pipeline_sinks *sinks)
    __attribute__((warn_unused_result));
// pipeline_feed dissects one frame (borrowed for the call): sinks.on_frame before,
// sinks.on_frame_done after. pipeline_more afterwards.
bool pipeline_feed(pipeline *p, const dissect_frame *fr);
// pipeline_more: the run may go on: no -c N reached, no out of memory, no sinks.stop.
bool pipeline_more(const pipeline *p);
// pipeline_count_left: -c N is not reached (or not given).
bool pipeline_count_left(const pipeline *p);
// pipeline_now: the result so far, its stats refreshed from the dissector (owned by p; the
// sources add their own counts to it).
pipeline_result *pipeline_now(pipeline *p);
// pipeline_dissector: p's dissector, for a source's per-run hooks (live.c: dissect_mark_drops).
dissect *pipeline_dissector(pipeline *p);
// pipeline_finish: the connections still open reported (unless !flush) and the final result.
const pipeline_result *pipeline_finish(pipeline *p, bool flush);
void pipeline_free(pipeline *p);

// pipeline_live_read (live.c) reads l->reader until l->stop_flag, sinks.stop, -c N or on_tick
// ends it, then what the kernel had already queued; packets, drops and libpcap's counters go into
// pipeline_now(p). Returns false when -c N was reached: the open connections are not reported.
bool pipeline_live_read(pipeline *p, const pipeline_live *l, void *user);

#endif
