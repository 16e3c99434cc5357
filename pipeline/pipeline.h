// pipeline.h — source → dissect → analyze → sinks: the loop every subcommand runs.
//
//   pipeline_config ──▶ pipeline_analyzer_new (analyzer_config filled here, and only here)
//                   └─▶ pipeline_new          (dissect_config filled here, and only here)
//   source (files + BPF, a live reader, in-memory frames) ──frame──▶ pipeline_feed
//     → dissect → transcript → [-c N] → sinks.on_transcript → analyzer_run → sinks.on_verdict
//   pipeline_finish → pipeline_result (counts, dissect stats, bounds that engaged)
//
// pipeline_run is the whole loop over a source; a live capture (cli/cmd_capture.c) polls its
// reader itself and feeds frames one by one. Every limit in pipeline_config applies to every
// subcommand because every subcommand builds its dissector here.
#ifndef TLSDIAG_PIPELINE_H
#define TLSDIAG_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze.h"
#include "capture.h"
#include "dissect.h"

// pipeline_limits: the dissector's resource bounds as the user gives them; 0: dissect's default.
typedef struct pipeline_limits {
    uint32_t max_flows;        // --max-flows
    uint64_t max_flow_bytes;   // --max-flow-bytes (clamped to what dissect can hold)
    uint64_t max_total_bytes;  // --max-total-bytes
} pipeline_limits;

typedef struct pipeline_config {
    pipeline_limits limits;
    // The analyzer's settings; NULL/0: the analyzer's defaults.
    const char *profile, *ca_file, *ca_path, *ranges_file;
    int64_t now;           // --now as Unix seconds; 0: each handshake's capture time
    bool quiet_successes;  // no prose for succeeded handshakes (the default text report)
    uint64_t count;        // -c N: only the first N transcripts reach the sinks; 0: all
    uint32_t threads;      // --threads N (pipeline/threads.c); 0/1: one
} pipeline_config;

// pipeline_config_default: no limit given, the analyzer's defaults, every transcript, one thread.
void pipeline_config_default(pipeline_config *c);

// pipeline_analyzer_new: the analyzer for c (profile, prefixes, trust store). NULL on failure
// with the reason in err. Caller-owned: analyzer_free.
analyzer *pipeline_analyzer_new(const pipeline_config *c, char *err, size_t errlen)
    __attribute__((warn_unused_result));

// pipeline_dissect_config: dissect's configuration with c's limits (callbacks left NULL).
void pipeline_dissect_config(const pipeline_config *c, dissect_config *out);

// pipeline_sinks: where results go. Every callback may be NULL; all get user.
typedef struct pipeline_sinks {
    void *user;
    // on_frame: each frame, before it is dissected (frame counts, segments kept by bundle/).
    void (*on_frame)(void *user, const dissect_frame *fr);
    // on_transcript: each of the first config.count transcripts, valid only during the call;
    // with an analyzer, called before the analyzer judges it.
    void (*on_transcript)(void *user, const tls_transcript *t);
    // on_verdict: the analyzer's verdict on t (only with an analyzer), in the order one thread
    // produces them. t is NULL when the verdict comes from --threads workers (their transcripts
    // are gone by the merge). Returns true when the sink keeps v (it frees it later with
    // verdict_free); false: the pipeline frees v after the call.
    bool (*on_verdict)(void *user, verdict *v, const tls_transcript *t);
    // on_record: dissect's record hook (dissect_config.on_record).
    void (*on_record)(void *user, uint64_t conn_id, uint8_t dir, uint64_t stream_off, uint32_t len,
                      uint8_t content_type, bool app_data);
    // stop: true when the run must stop reading (output failed); checked before each frame
    // and each delivery.
    bool (*stop)(void *user);
    // on_single_thread: --threads N could not start its workers (out of memory or of processes);
    // nothing was read and the run goes on with one thread.
    void (*on_single_thread)(void *user, uint32_t threads);
} pipeline_sinks;

// pipeline_engaged: connections a bound cut short, counted from the transcripts (all of them,
// also those past -c N), so a bound is never applied silently.
enum { PIPELINE_MANY_RECORDS = 1000 };  // records one way before the handshake was decided
typedef struct pipeline_engaged {
    uint64_t evicted, idle, overlaps, many_records;
} pipeline_engaged;

typedef struct pipeline_result {
    uint64_t transcripts;  // every transcript dissected (also past -c N)
    uint64_t verdicts;     // verdicts delivered
    uint64_t failed;       // of which failures (verdict_is_failure)
    bool oom;              // out of memory: the run stopped
    pipeline_engaged engaged;
    dissect_stats stats;  // valid after pipeline_finish
} pipeline_result;

typedef struct pipeline pipeline;

// pipeline_new: a dissector configured from c delivering to sinks; an (may be NULL: transcripts
// only) is borrowed for the pipeline's life. NULL when out of memory. Caller-owned:
// pipeline_free.
pipeline *pipeline_new(const pipeline_config *c, analyzer *an, const pipeline_sinks *sinks)
    __attribute__((warn_unused_result));
// pipeline_feed dissects one frame (borrowed for the call). False once the run should stop:
// -c N reached, out of memory, or sinks.stop.
bool pipeline_feed(pipeline *p, const dissect_frame *fr);
// pipeline_finish flushes the connections still open and returns the run's result (owned by p).
const pipeline_result *pipeline_finish(pipeline *p);
// pipeline_result_so_far: the counts now (a live capture's status line); stats not filled.
const pipeline_result *pipeline_result_so_far(const pipeline *p);
// pipeline_dissect_config_used: the dissect configuration in force (messages naming a limit).
const dissect_config *pipeline_dissect_config_used(const pipeline *p);
// pipeline_live_dissector: the pipeline's dissector, for a live reader that needs dissect's
// per-frame hooks (dissect_feed_ex, dissect_mark_drops). Frames fed to it reach the sinks like
// pipeline_feed's (without on_frame). Borrowed: valid until pipeline_free.
dissect *pipeline_live_dissector(pipeline *p);
// pipeline_stats: the dissector's statistics now.
const dissect_stats *pipeline_stats(const pipeline *p);
void pipeline_free(pipeline *p);

// pipeline_source: what is read. Exactly one of reader (files + BPF from cap_open, borrowed)
// or frames (in memory, e.g. the probe's own connection) is set.
typedef struct pipeline_source {
    cap_reader *reader;
    // The paths and filter reader was opened with: with several regular files, --threads
    // workers open their own readers of them (pipeline/threads.c).
    const char *const *files;
    size_t num_files;
    const char *filter;
    const dissect_frame *frames;
    size_t num_frames;
    // on_progress (may be NULL): after each frame from reader: bytes read, total, transcripts.
    void (*on_progress)(void *user, uint64_t bytes_read, uint64_t bytes_total,
                        uint64_t transcripts);
} pipeline_source;

// pipeline_run: pipeline_new, every frame of src through pipeline_feed, pipeline_finish. With
// c->threads > 1, an analyzer, a reader and no -c N, the frames are dissected and analyzed by
// c->threads workers (pipeline/threads.c) and merged back into the one-thread order (t is NULL in
// on_verdict then; on_transcript, on_frame and on_record are not called). The result is copied
// to *out. False only when the pipeline could not be made (out of memory;
// out->oom is set then).
bool pipeline_run(const pipeline_config *c, analyzer *an, const pipeline_source *src,
                  const pipeline_sinks *sinks, pipeline_result *out)
    __attribute__((warn_unused_result));

#endif
