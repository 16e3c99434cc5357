// threads.h — `--threads N` (pipeline_run): flows sharded by 5-tuple hash over N dissect+analyze
// workers.
//
// Each worker runs its own dissector and analyzer on its shard of the connections. When every
// input is a regular file, each worker reads the input itself and skips other shards' frames
// (worker 0 through the caller's reader, so damage is reported as usual); otherwise (stdin) the
// calling thread reads frames and copies them into per-worker batches. Either way the calling
// thread merges the verdicts back into the order one thread would have produced them: by the frame
// that decided each connection, the connections still open at the end by conn_id. conn_ids are
// renumbered to the global first-frame order, so the output (lines, JSON, summary) is the same as
// with one thread.
//
// With sinks->render, each worker also renders its verdicts' output in its own thread (all but
// those analyzer_account may still rewrite), so the merge — the part no second thread shares —
// numbers, counts and writes bytes (pipeline.h, pipeline_render).
#ifndef TLSDIAG_PIPELINE_THREADS_H
#define TLSDIAG_PIPELINE_THREADS_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline.h"

// pipeline_threads_run reads every frame of src->reader, analyzes with c->threads workers (each
// judges its connections with its own analyzer: analyzer_judge), accounts for each verdict in
// main_an (analyzer_account) and hands it to sinks->on_verdict (t NULL) in the one-thread
// order, conn_ids renumbered. dc is each worker's dissect configuration (its callbacks are
// replaced). *out gets the verdicts (transcripts, verdicts), failures, out of memory and the
// workers' summed stats. Returns false when the workers could not be started: nothing was read
// then, the caller may run single-threaded.
bool pipeline_threads_run(const pipeline_config *c, const pipeline_source *src,
                          const dissect_config *dc, analyzer *main_an, const pipeline_sinks *sinks,
                          pipeline_result *out) __attribute__((warn_unused_result));

// pipeline_analyzer_new_shared: pipeline_analyzer_new, with the trust store, "now", profiles,
// prefix table and chain results of shared (NULL: its own), for the workers of one run: with
// shared, a judge-only analyzer (analyzer_config.judge_only).
analyzer *pipeline_analyzer_new_shared(const pipeline_config *c, analyzer_shared *shared, char *err,
                                       size_t errlen) __attribute__((warn_unused_result));

#endif
