// thr.h — `--threads N`, internal to pipeline/: the state the driver (threads.c), the workers
// (workq.c, onepass.c) and the ordered merge (merge.c) share, and who may touch it when.
//
// The lock rules, in one place (each field below says which rule holds for it):
//   ctx->mu     guards every field marked (mu): the queues, the published verdicts, the marks,
//               the creation frames, the chunk ring's indices and the stop/oom flags.
//   (own)       a worker's own thread only, no lock: its dissector, analyzer and local lists.
//   (reader)    the calling thread only (the reader of workq.c's queued mode).
//   (role)      whoever holds a role taken under mu: `reading` (one-pass: only the reading
//               worker touches ctx->cr) or `merging` (one-pass: only the merging worker reports).
//   ctx->chains_mu  guards what ctx->shared's chain results hold (analyze/x509.c): taken by the
//               workers' analyzers only, through analyzer_lock, around one lookup or one insert
//               (a copy of one result); never together with mu, and nothing else is done under it.
//               Its condition variable cv_chains: a worker that misses a chain another worker is
//               verifying waits on it (holding no other lock) until that one stores the result
//               or gives up (x509.c's shared_put broadcasts either way).
// Three condition variables, all with ctx->mu:
//   cv_work  workers wait on it for input: a batch queued (workq.c, the reader broadcasts),
//            `go` (threads.c), a chunk read or ring space freed (onepass.c), or `stop`.
//   cv_main  the calling thread waits on it (for queue space, for verdicts to merge, for the end);
//            workers signal it after publishing or taking a batch, only when main_waiting is
//            set (a signal costs two context switches) and always with their last publication.
//   cv_room  a worker with THR_MAX_PENDING verdicts unmerged waits on it; merge_ready broadcasts
//            when it takes that worker below the bound, and `stop` and a finished one-pass worker
//            broadcast too.
#ifndef TLSDIAG_PIPELINE_THR_H
#define TLSDIAG_PIPELINE_THR_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "threads.h"

enum {
    THR_MAX_WORKERS = 64,         // --threads at most (cli/options.c)
    THR_CHUNK_FRAMES = 256,       // one-pass mode: frames per chunk, at most
    THR_READ_BATCH = 16,          // one-pass mode: records read per call (~4.4 KB)
    THR_CHUNK_BYTES = 256 << 10,  // one-pass mode: file bytes per chunk, about (its last batch
                                  // of records may end past it): its copy of the frames' bytes
    // one-pass mode: chunks read ahead of the slowest worker. Each holds its frames' bytes (a
    // buffer of its own, reused), so the ring bounds the input held in memory: ~3 MiB. (With the
    // file mapped, round 8 measured 16 and 32 chunks at the same speed as 12; bench/NOTES.md.)
    THR_CHUNKS = 12,
    THR_LOOKAHEAD = 8,     // one-pass mode: a worker reads on when fewer are ahead of it
    THR_OWN_PREFETCH = 4,  // one-pass mode: own frames' bytes prefetched this many ahead
    THR_COMPACT_MIN = 64,  // compact_created: the smallest array that asks for a compaction
    // shared-read, one-pass: verdicts a worker may hold before the merge. Each is a ~52 KB verdict
    // (and its rendered bytes): 96 kept ~5 MiB more resident with two workers past the plateau
    // (--threads 2 on a 600 MB handshake file: 66 MiB, 61 MiB with 48; bench/NOTES.md, round 4).
    THR_MAX_PENDING = 48,
    THR_MERGE_BATCH = 32,      // verdicts the merge takes per hold of the lock
    THR_PUBLISH_FRAMES = 256,  // shared-read mode: frames read between two publications
    THR_WAKE_VERDICTS = 64,    // shared-read mode: published verdicts that wake the merger
    THR_BATCH_FRAMES = 256,
    THR_BATCH_BYTES = 256 * 1024,  // grown for a single larger frame
    THR_QUEUE_DEPTH = 4,
    THR_TICK_FRAMES = 2048,
    THR_SPARE_ITEMS = 2 * THR_MAX_PENDING,  // merged thr_items a worker keeps for reuse
};

#define THR_EMIT_END UINT32_MAX  // dissect_finish: after every frame

// thr_batch (queued mode): frames the reader copied for one worker. Filled by the reader
// (reader), owned by the worker once queued, back in ctx->pool (mu) when done.
typedef struct thr_batch {
    struct thr_batch *next;
    uint32_t n;
    uint32_t upto;  // frame number read last when the batch was sent
    bool last;      // the input ended: run dissect_finish after these frames
    size_t used, cap;
    uint8_t *buf;
    dissect_frame fr[THR_BATCH_FRAMES];
    uint32_t nclock;
    struct {
        uint32_t frame_no;
        int64_t ts_ns;
    } clock[THR_TICK_FRAMES];  // the other shards' frames, for dissect_clock_only (ascending)
} thr_batch;

// thr_item: one verdict on its way from a worker to the merge. Made by the worker (own), handed
// to the merge by publish (mu), back to the worker by merge_ready to be freed (ret_head, mu).
typedef struct thr_item {
    struct thr_item *next;
    verdict *v;
    void *rendered;  // v's output, rendered by the worker (sinks->render), or NULL
    uint32_t emit;
    uint32_t first_frame;
    uint32_t last_frame;  // the connection's last frame (item_before: ties at one emit)
    uint64_t rank;        // flows its worker created before it (the worker's own conn_id)
} thr_item;

// One-pass mode: frames of the input, read once, in order; each frame's bytes copied into the
// chunk's own buffer (the reader's buffer is reused as it reads on).
// thr_chunk: written by the reading worker (role) before `indexed` passes it, read-only for
// every worker after, reused once every worker is done with it (`left`, mu). The frames are
// grouped by shard, each a whole dissect_frame that its worker feeds as it is: a worker reads its
// own frames' entries in order and, of the others' (in a steady chunk), only the capture clock at
// the ends of the runs between them. Each line here was written on another core: the first
// layout, every frame's entry read by every worker, cost two line transfers a frame; the next
// chunk's lines are prefetched (selfread.c, prefetch_chunk).
typedef struct thr_chunk {
    uint32_t n;
    uint32_t left;   // workers that have not finished it (mu)
    uint8_t *bytes;  // the frames' bytes (role: reading, while it fills the chunk)
    size_t cap;      // bytes allocated: THR_CHUNK_BYTES and a batch, or what a larger one took
    bool last;       // the input ended after these frames
    // The capture clock only stepped in this chunk (no jump started, confirmed or pending, the
    // clock set before it): a worker may pass a run of other shards' frames in one step
    // (dissect_clock_pass) when nothing of its own goes idle by the run's last clock.
    bool steady;
    uint16_t start[THR_MAX_WORKERS + 1];  // shard s's frames: fr[start[s] .. start[s + 1])
    uint8_t shard[THR_CHUNK_FRAMES];      // in input order
    uint16_t at[THR_CHUNK_FRAMES];        // fr[j] is frame at[j] of the chunk (input order)
    uint16_t pos[THR_CHUNK_FRAMES];       // frame i of the chunk is fr[pos[i]]
    int64_t clock_ns[THR_CHUNK_FRAMES];   // the capture clock after frame i (ctx->clk)
    dissect_frame fr[THR_CHUNK_FRAMES];
} thr_chunk;

typedef struct thr_ctx thr_ctx;

// Each worker's struct sits on its own cache lines: the workers write theirs for every frame
// (emit) and verdict, and adjacent structs shared lines between the two cores.
typedef struct __attribute__((aligned(128))) thr_worker {
    thr_ctx *ctx;
    pthread_t tid;
    bool started;
    uint32_t idx;
    cap_reader *cr;  // shared-read mode: this worker's own reader of the input (NULL otherwise)
    uint64_t next;   // one-pass mode: sequence number of the next chunk to dissect (mu)
    dissect_stats stats;   // one-pass mode: the dissector's, kept when the worker frees it
    uint32_t npending;     // verdicts published and not yet merged (mu)
    uint32_t nloc;         // verdicts in loc_head..loc_tail (own)
    uint32_t finish_mark;  // during dissect_finish: the mark its interim publications carry (own)
    bool finishing;        // in dissect_finish (own; read under mu by answer_compaction)
    thr_item *ret_head;    // merged items, handed back to be freed by this worker (mu)
    dissect *d;            // (own)
    const dissect_stats *dstats;  // d's counters (own)
    analyzer *an;                 // (own)
    void *renderer;               // sinks->render's renderer for this worker, or NULL (own)
    // (mu)
    thr_batch *in_head, *in_tail;  // queued mode: the bounded queue, THR_QUEUE_DEPTH at most
    uint32_t in_depth;
    thr_item *out_head, *out_tail;  // published verdicts, in this worker's order
    uint32_t mark;                  // every frame ≤ mark was processed and its results published
    bool done;
    uint32_t *created;  // frames at which this worker created a flow, ascending
    size_t ncreated, capcreated;
    size_t created_pos;  // created_before's last answer
    // Entries of `created` no verdict can ask about any more are dropped (compact_created), so
    // the array holds about the connections still open, not every connection of the capture.
    uint64_t created_base;  // entries dropped from the front
    size_t compact_at;      // ask for a compaction when `created` holds this many
    uint32_t bound;         // no verdict of this worker still to come has a first frame below it
    uint32_t bound_seq;     // the compaction request `bound` answers
    thr_batch *cur;         // the reader's batch being filled (reader)
    thr_batch *endb;  // preallocated end-of-input batch, so stopping a worker cannot fail (reader)
    // (own)
    thr_item *loc_head, *loc_tail;
    // Merged items, emptied, for this worker's next verdicts (a malloc and a free per verdict
    // cost ~200 instructions); THR_SPARE_ITEMS at most.
    thr_item *spare;
    uint32_t nspare;
    uint32_t *loc_created;
    size_t nloc_created, caploc_created;
    uint32_t emit;
    bool oom;
    void *(*main)(void *);  // the worker's loop, run by thr_worker_entry (fixed)
    int64_t cpu_ns;         // its thread's CPU time when it ended (own; read after the join)
    // TLSDIAG_THREAD_STATS, one-pass mode: waits for input ([0]) and for room ([1]) (mu)
    uint32_t waits[2];
    int64_t wait_ns[2];
} thr_worker;

struct thr_ctx {
    pthread_mutex_t mu;
    pthread_cond_t cv_work;  // (see the top)
    pthread_cond_t cv_main;
    pthread_cond_t cv_room;
    bool main_waiting;  // the calling thread waits on cv_main (workers signal only then) (mu)
    uint32_t unmerged;  // shared-read mode: verdicts published since the merger last woke (mu)
    thr_worker *w;      // set before the workers start, fixed after
    uint32_t n;
    thr_batch *pool;      // free batches (mu)
    bool oom;             // (mu)
    bool stop;            // the merge asks the workers to stop (write error, out of memory) (mu)
    bool go;              // every worker started (cv_work), reading may begin (mu)
    uint64_t bytes_read;  // worker 0's or the reading worker's reader, for the progress line (mu)
    const pipeline_source *src;  // on_progress, and the paths workers reopen (fixed)
    // One-pass mode (mu): chunk k is ring[k % THR_CHUNKS]; chunks [freed, indexed) are in use.
    cap_reader *cr;     // (role: reading)
    dissect_clock clk;  // (role: reading) the capture clock of every frame read, as each
                        // worker's dissector runs it: one copy of the rules (dissect.h)
    thr_chunk *ring;
    uint64_t indexed, freed;
    bool reading;      // a worker is reading the next chunk (only it touches cr)
    bool input_end;    // the last chunk was read
    bool merging;      // a worker is merging and reporting (merge_turn)
    bool merge_again;  // another worker published while one was merging: merge once more
    // TLSDIAG_THREAD_STATS (fixed before the workers start): CPU time is measured per thread,
    // and the merge's share of it (the serial part, whichever thread holds the role) (mu).
    bool cpu_stats;
    int64_t merge_cpu_ns;
    uint32_t compact_seq, compact_done;  // compaction requests made / carried out (mu)
    uint32_t created_floor;              // the last compaction's cut: no verdict comes from below
    analyzer *main_an;                   // the merge's (fixed)
    // The workers' analyzers share main_an's trust store and one cache of chain results, so a
    // chain is verified once per run, not once per worker (fixed; its contents: chains_mu).
    analyzer_shared *shared;
    pthread_mutex_t chains_mu;
    pthread_cond_t cv_chains;
    const pipeline_sinks *sinks;  // (fixed)
    pipeline_result *out;         // (the merging thread)
};

// thr_shard: the worker of a frame whose flow hash is h — h % n, a mask when n is a power of two
// (the same answer without a division per frame of the input).
static inline uint32_t thr_shard(const thr_ctx *c, uint32_t h) {
    return (c->n & (c->n - 1)) == 0 ? h & (c->n - 1) : h % c->n;
}

// threads.c
bool thr_stopping(const pipeline_sinks *s);
void thr_progress(const thr_ctx *c, uint64_t bytes_read, uint64_t bytes_total, uint64_t handshakes);
bool thr_start_workers(thr_ctx *c, void *(*fn)(void *));
// thr_worker_entry: every worker thread's start routine: w->main, then its CPU time noted.
void *thr_worker_entry(void *arg);
// thr_cpu_ns: the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), ns.
int64_t thr_cpu_ns(void);
// thr_mono_ns: CLOCK_MONOTONIC, ns (0 if it cannot be read).
int64_t thr_mono_ns(void);
// thr_join joins every worker and adds its dissector's stats to out (queued, shared-read modes).
void thr_join(thr_ctx *c, pipeline_result *out);
void thr_sum_stats(dissect_stats *s, const dissect_stats *w);

// workq.c: the worker side (dissect and analyze a shard) and the queued mode.
void thr_worker_transcript(void *user, const tls_transcript *t);
void thr_finish(thr_worker *w, uint32_t mark);
bool thr_run_queued(thr_ctx *c, const pipeline_config *cfg, cap_reader *cr, pipeline_result *out);
void thr_batch_free(thr_batch *b);

// onepass.c: the modes in which the workers read the input themselves.
bool thr_run_one_pass(thr_ctx *c, cap_reader *cr, pipeline_result *out);
bool thr_run_shared_read(thr_ctx *c, const pipeline_source *o, cap_reader *cr,
                         pipeline_result *out);

// merge.c: the ordered merge.
bool thr_push_u32(uint32_t **a, size_t *n, size_t *cap, uint32_t v);
void thr_free_items(const thr_ctx *c, thr_item *it);
// thr_recycle_items (the worker's own thread): frees what merged items hold and keeps the items
// themselves in w->spare (up to THR_SPARE_ITEMS; the rest are freed).
void thr_recycle_items(thr_worker *w, thr_item *it);
void thr_publish(thr_worker *w, uint32_t mark, bool last);
void thr_merge_ready(thr_ctx *c);
void thr_merge_turn(thr_ctx *c);
// thr_all_merged: every worker is done and every verdict merged (mu held).
bool thr_all_merged(const thr_ctx *c);

// thr_feed_own: dissect one frame of this worker's shard, noting the flows it creates (inline:
// called for every frame of the shard).
static inline void thr_feed_own(thr_worker *w, const dissect_frame *fr) {
    uint64_t before = w->dstats->flows_created;
    w->emit = fr->frame_no;
    dissect_feed(w->d, fr);
    if (w->dstats->flows_created != before &&
        !thr_push_u32(&w->loc_created, &w->nloc_created, &w->caploc_created, fr->frame_no)) {
        w->oom = true;
    }
}

#endif
