// threads.h — `analyze --threads N`: flows sharded by 5-tuple hash over N dissect+analyze workers.
//
// Each worker runs its own dissector and analyzer on its shard of the connections. When every
// input is a regular file, each worker reads the input itself and skips other shards' frames
// (worker 0 through the caller's reader, so damage is reported as usual); otherwise (stdin) the
// calling thread reads frames and copies them into per-worker batches. Either way the calling
// thread merges the verdicts back into the order one thread would have produced them: by the frame
// that decided each connection, the connections still open at the end by conn_id. conn_ids are
// renumbered to the global first-frame order, so the output (lines, JSON, summary) is the same as
// with one thread.
#ifndef TLSDIAG_CLI_THREADS_H
#define TLSDIAG_CLI_THREADS_H

#include <stdbool.h>
#include <stdint.h>

#include "analyze.h"
#include "capture.h"
#include "cli.h"
#include "dissect.h"
#include "report.h"

enum { CLI_MAX_THREADS = 64 };

typedef struct cli_threads_result {
    uint64_t transcripts;  // verdicts reported
    uint64_t failed;       // of which OUTCOME_FAILED
    bool oom;              // a worker or the merger ran out of memory
    dissect_stats stats;   // the workers' statistics, summed (peaks: the largest worker's)
} cli_threads_result;

// cli_threads_run reads every frame of cr, analyzes with o->threads workers (each with its own
// analyzer made by new_analyzer), reports each verdict through rep and adds it to
// main_an's summary (the caller prints the summary). dc is the dissect configuration for each
// worker (its callback is replaced). Returns false when the workers could not be started (out of
// memory / no thread): nothing was read then, the caller may run single-threaded.
bool cli_threads_run(const cli_options *o, cap_reader *cr, const dissect_config *dc,
                     analyzer *(*new_analyzer)(const cli_options *o), analyzer *main_an,
                     report *rep, cli_progress *progress, cli_threads_result *out)
    __attribute__((warn_unused_result));

#endif
