// pipeline.h — source → dissect → analyze → sinks: the loop every subcommand runs.
//
//   pipeline_config ──▶ pipeline_analyzer_new (analyzer_config filled here, and only here)
//                   └─▶ pipeline_new          (dissect_config filled here, and only here)
//   source (files + BPF, a live reader, in-memory frames) ──frame──▶ dissect → transcript
//     → [-c N] → sinks.on_transcript → analyzer_run → sinks.on_verdict
//   end of the source → the open connections → pipeline_result (counts, stats, bounds engaged)
//
// pipeline_run is the whole loop over any source: analyze, dissect, report, probe and capture
// all run it. Every limit in pipeline_config applies to every subcommand because every
// subcommand builds its dissector here.
#ifndef TLSDIAG_PIPELINE_H
#define TLSDIAG_PIPELINE_H

#include <signal.h>
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

// pipeline_render: verdicts rendered by the --threads workers, in parallel, so that the merge
// (the part no second thread shares) only writes bytes. libuv's pool in small: `render` runs on a
// worker, `on_rendered` gets the result in the merge, in the one-thread order.
typedef struct pipeline_render {
    // renderer_new (the calling thread, once per worker before it starts): that worker's own
    // renderer, or NULL (out of memory, an output that cannot be rendered ahead): on_verdict
    // writes its verdicts then. renderer_free frees it (NULL is a no-op).
    void *(*renderer_new)(void *user);
    void (*renderer_free)(void *renderer);
    // render (the worker's thread): v's output without its conn_id (the merge numbers it), or
    // NULL: on_verdict writes v. Not called for a verdict analyzer_account may still change.
    void *(*render)(void *renderer, verdict *v);
    void (*rendered_free)(void *rendered);  // any thread; NULL is a no-op
    // on_rendered (the merge, instead of on_verdict): v counted and numbered, its output in
    // `rendered` (still the pipeline's: it frees both after the call).
    void (*on_rendered)(void *user, const verdict *v, const void *rendered);
} pipeline_render;

// pipeline_sinks: where results go. Every callback may be NULL; all get user.
typedef struct pipeline_sinks {
    void *user;
    // on_frame: each frame, before it is dissected (frame counts, segments kept by bundle/).
    void (*on_frame)(void *user, const dissect_frame *fr);
    // on_frame_done: each frame, after it was dissected, with what dissect learned about it
    // (a live capture's --handshake-only writer keeps a connection's packets up to its verdict).
    void (*on_frame_done)(void *user, const dissect_frame *fr, const dissect_frame_info *info);
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
    // and each delivery (pipeline_run reading a capture asks again only after a frame that
    // reached a sink: the answer may change only when a sink ran).
    bool (*stop)(void *user);
    // render (may be NULL): --threads workers render verdicts ahead of the merge.
    const pipeline_render *render;
} pipeline_sinks;

// pipeline_engaged: connections a bound cut short, counted from the transcripts (all of them,
// also those past -c N), so a bound is never applied silently.
enum { PIPELINE_MANY_RECORDS = 1000 };  // records one way before the handshake was decided
typedef struct pipeline_engaged {
    uint64_t evicted, idle, overlaps, many_records;
    uint64_t chains_dropped;  // certificate-chain results dropped (ANALYZER_CHAIN_RESULTS)
} pipeline_engaged;

typedef struct pipeline_result {
    uint64_t transcripts;  // every transcript dissected (also past -c N)
    uint64_t verdicts;     // verdicts delivered
    uint64_t failed;       // of which failures (verdict_is_failure)
    bool oom;              // out of memory: the run stopped
    pipeline_engaged engaged;
    dissect_stats stats;  // at the end (a live source's on_tick: now)
    // A live source: packets analysed, the kernel's drop count as last read (the open flows are
    // marked as missing packets when it grows), libpcap's counters at the end when it can tell
    // (have_counts), and whether reading stopped on an error (cap_live_error says which).
    uint64_t packets, drops;
    bool have_counts;
    uint64_t received, dropped;
    bool live_error;
} pipeline_result;

// pipeline_live: a live capture as the source. Read in batches of up to PIPELINE_LIVE_BATCH
// packets analysed in place in the kernel's ring until *stop_flag, sinks.stop, -c N or on_tick
// ends it; then what the kernel had already captured is analysed too, and the open connections
// are reported (unless -c N was reached).
enum { PIPELINE_LIVE_BATCH = 256 };  // packets between two drop-counter reads (a getsockopt each)
typedef struct pipeline_live {
    cap_reader *reader;                      // cap_live_open's, borrowed
    const volatile sig_atomic_t *stop_flag;  // nonzero: stop (a signal handler sets it and calls
                                             // cap_breakloop)
    // on_tick (may be NULL): after every PIPELINE_LIVE_BATCH packets and each poll timeout, with
    // the result so far (stats, packets, drops); false: stop reading (e.g. --duration).
    bool (*on_tick)(void *user, const pipeline_result *now);
} pipeline_live;

// pipeline_live_filter: the kernel filter (BPF text) of a live source: TCP to one of `ports`
// from the analyzer's address prefixes (CloudFront's, or --ranges) and the replies; every source
// when all_sources or the profile has no prefixes; "and (extra)" when extra is given.
// Caller-owned (free); NULL when out of memory.
char *pipeline_live_filter(const analyzer *an, bool all_sources, const uint16_t *ports,
                           size_t num_ports, const char *extra) __attribute__((warn_unused_result));

// pipeline_source: what is read. Exactly one of reader (files + BPF from cap_open, borrowed),
// live, or frames (in memory, e.g. the probe's own connection) is set.
typedef struct pipeline_source {
    cap_reader *reader;
    // The paths and filter reader was opened with: with several regular files, --threads
    // workers open their own readers of them (pipeline/threads.c).
    const char *const *files;
    size_t num_files;
    const char *filter;
    const pipeline_live *live;
    const dissect_frame *frames;
    size_t num_frames;
    // on_progress (may be NULL): every few frames from reader (64; --threads: per chunk): bytes
    // read, total, transcripts.
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

// limits.c — resource bounds that engaged during a run, stated on stderr (a bound is never
// applied silently). pipeline_limits_print: once, at the end of a run.
void pipeline_limits_print(const pipeline_engaged *l, const dissect_stats *st,
                           const dissect_config *dc);
void pipeline_bounds_print(const dissect_bounds *b, const dissect_config *dc);
// pipeline_flows_full_print: a live capture's flow table is full and evicts (said once).
void pipeline_flows_full_print(uint32_t max_flows);
// pipeline_threads_fallback_print: --threads N could not start its workers (out of memory or
// of processes); nothing was read and the run goes on with one thread.
void pipeline_threads_fallback_print(uint32_t threads);
// pipeline_bounds_fresh: a live capture states each bound once, when it first engages: *fresh
// gets the counts of the bounds not stated yet (others 0), *said is updated; false: nothing new.
bool pipeline_bounds_fresh(dissect_bounds *said, const dissect_bounds *now, dissect_bounds *fresh);
// pipeline_undecoded_print: one stderr line per reason frames could not be decoded (count, first
// frame, link type, the limit exceeded), so "0 connections" never comes without a word.
void pipeline_undecoded_print(const dissect_stats *st);

#endif
