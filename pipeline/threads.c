// threads.c — `--threads N` (pipeline_run): N dissect+analyze workers, one ordered merge.
//
// One capture file (the usual case): one-pass mode. The file is mapped whole (cap_retain) and
// read once, a chunk of THR_CHUNK_FRAMES frames at a time, by whichever worker is closest to the
// end of what has been read; reading a chunk means hashing each frame's connection to its shard
// (dissect_frame_flow_hash). Every worker goes through every chunk: it dissects its shard's
// frames straight from the mapping and only moves its clock for the others. The workers also
// merge and report in turns (merge_turn). Nothing is copied, no thread waits for another in the
// common case, and the calling thread only joins them. Pages every worker is past are given
// back (cap_release), so the resident size stays bounded (bench/NOTES.md, round 3).
//
// Several files: shared-read mode. Each worker reads the inputs through its own cap_reader (the
// k-way merge of the files) and dissects the frames of its shard; the calling thread merges.
//
// Otherwise (stdin, a pipe) one reader feeds the workers:
// Reader (the calling thread): cap_next → dissect_frame_flow_hash → copy the frame into the
// batch of worker hash % N (both directions of a connection hash alike, so a connection lives
// on one worker), and the frame's number and time into every other worker's batch (its capture
// clock: idle connections are reported at the same frame as with one thread). A batch is handed
// over when full, and every THR_TICK_FRAMES frames all batches are handed over (empty ones too)
// so that every worker's progress mark advances.
// Queues are bounded (THR_QUEUE_DEPTH batches per worker): the reader waits, memory does not grow.
//
// Worker: dissect_feed each frame (of its shard); each transcript goes through the worker's own
// analyzer. The verdict is tagged with the frame whose processing produced it (`emit`) and the
// connection's first frame; the frames at which this worker created flows are recorded. At the end
// of each batch the worker publishes, under the one lock, its verdicts, its flow-creation frames
// and its mark = the last frame number the reader had read when it sent the batch.
//
// Merge (one-pass mode: the workers in turns after each chunk; otherwise the calling thread,
// between batches and at the end): the next verdict is the first (by emit, then as one thread
// orders one frame's verdicts: item_before) among the workers' first pending verdicts, once every
// worker without a pending verdict has a mark ≥ its emit (nothing smaller can still come). One
// thread reports in emit order too, so the order is the one-thread order. The global conn_id of a
// connection is the number of flows any worker created before its first frame (one thread numbers
// flows in creation order); the creation frames are kept per worker, 4 bytes per connection, and
// those below the first frame of every verdict still to come are dropped (compact_created): each
// worker's bound is its oldest connection not yet reported, so the arrays follow the open
// connections, not the length of the capture.
#include <assert.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "threads.h"

enum {
    THR_MAX_WORKERS = 64,         // --threads at most (cli/options.c)
    THR_CHUNK_FRAMES = 256,       // one-pass mode: frames per chunk, at most
    THR_CHUNK_BYTES = 256 << 10,  // one-pass mode: file bytes per chunk, about (its last frame
                                  // may end past it): bounds the mapped pages the ring holds
    THR_CHUNKS = 32,              // one-pass mode: chunks read ahead of the slowest worker
    THR_LOOKAHEAD = 4,            // one-pass mode: a worker reads on when fewer are ahead of it
    THR_RELEASE_BYTES = 4 << 20,  // one-pass mode: pages given back in steps of this much
    THR_COMPACT_MIN = 64,         // compact_created: the smallest array that asks for a compaction
    THR_MAX_PENDING = 96,      // shared-read, one-pass: verdicts a worker may hold before the merge
    THR_PUBLISH_FRAMES = 256,  // shared-read mode: frames read between two publications
    THR_WAKE_VERDICTS = 64,    // shared-read mode: published verdicts that wake the merger
    THR_BATCH_FRAMES = 256,
    THR_BATCH_BYTES = 256 * 1024,  // grown for a single larger frame
    THR_QUEUE_DEPTH = 4,
    THR_TICK_FRAMES = 2048,
};

#define THR_EMIT_END UINT32_MAX  // dissect_finish: after every frame

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

typedef struct thr_item {
    struct thr_item *next;
    verdict *v;
    uint32_t emit;
    uint32_t first_frame;
    uint32_t last_frame;  // the connection's last frame (item_before: ties at one emit)
} thr_item;

// One-pass mode: frames of the input, read once, in order; the bytes stay in the mapped file.
// Every worker goes through every frame's shard, time and number (13 bytes a frame); the rest
// is grouped by shard, so that a worker reads only its own frames' lines (each line read here was
// written on another core: the first layout, a whole dissect_frame per frame for everyone, cost
// two line transfers a frame).
typedef struct thr_frame {
    const uint8_t *data;
    uint32_t caplen, len;
    int32_t linktype;
} thr_frame;

typedef struct thr_chunk {
    uint32_t n;
    uint32_t left;                    // workers that have not finished it (ctx->mu)
    uint64_t mark;                    // cap_mark after its last frame
    bool last;                        // the input ended after these frames
    uint16_t start[THR_MAX_WORKERS];  // shard s's frames: fr[start[s] ...], in input order
    uint8_t shard[THR_CHUNK_FRAMES];
    uint32_t frame_no[THR_CHUNK_FRAMES];
    int64_t ts_ns[THR_CHUNK_FRAMES];
    thr_frame fr[THR_CHUNK_FRAMES];
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
    uint64_t next;   // one-pass mode: sequence number of the next chunk to dissect
    dissect_stats stats;   // one-pass mode: the dissector's, kept when the worker frees it
    uint32_t npending;     // verdicts published and not yet merged (ctx->mu)
    uint32_t nloc;         // verdicts in loc_head..loc_tail (the worker's own thread)
    uint32_t finish_mark;  // during dissect_finish: the mark its interim publications carry
    bool finishing;        // in dissect_finish (the worker's own thread; read under ctx->mu)
    thr_item *ret_head;    // merged items, handed back to be freed by this worker (ctx->mu)
    dissect *d;
    analyzer *an;
    // shared (ctx->mu)
    thr_batch *in_head, *in_tail;
    uint32_t in_depth;
    thr_item *out_head, *out_tail;
    uint32_t mark;  // every frame ≤ mark was processed and its results published
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
    // worker-private
    thr_batch *cur;   // the reader's batch being filled (reader-private)
    thr_batch *endb;  // preallocated end-of-input batch, so stopping a worker cannot fail
    thr_item *loc_head, *loc_tail;
    uint32_t *loc_created;
    size_t nloc_created, caploc_created;
    uint32_t emit;
    bool oom;
} thr_worker;

struct thr_ctx {
    pthread_mutex_t mu;
    pthread_cond_t cv_work;  // a batch was queued
    pthread_cond_t cv_main;  // a worker published or freed queue space
    bool main_waiting;       // the reader waits on cv_main (workers signal only then)
    uint32_t unmerged;       // shared-read mode: verdicts published since the merger last woke
    thr_worker *w;
    uint32_t n;
    thr_batch *pool;  // free batches
    bool oom;
    bool stop;               // the merger asks the workers to stop (write error, out of memory)
    bool go;                 // shared-read mode: every worker started (cv_work), reading may begin
    pthread_cond_t cv_room;  // shared-read mode: the merge took verdicts (a worker may go on)
    uint64_t bytes_read;     // shared-read mode: worker 0's reader, for the progress line
    const pipeline_source *src;  // on_progress, and the paths workers reopen
    // One-pass mode (ctx->mu): chunk k is ring[k % THR_CHUNKS]; chunks [freed, indexed) are in use.
    cap_reader *cr;
    thr_chunk *ring;
    uint64_t indexed, freed;
    bool reading;        // a worker is reading the next chunk (only it touches cr)
    bool input_end;      // the last chunk was read
    uint64_t free_mark;  // cap_mark after the newest chunk every worker finished
    uint64_t released;   // the mark last handed to cap_release (the reading worker's)
    bool merging;        // a worker is merging and reporting (merge_turn)
    bool merge_again;    // another worker published while one was merging: merge once more
    uint32_t compact_seq, compact_done;  // compaction requests made / carried out (ctx->mu)
    uint32_t created_floor;              // the last compaction's cut: no verdict comes from below
    analyzer *main_an;
    const pipeline_sinks *sinks;
    pipeline_result *out;
};

// stopping: the sinks asked the run to stop (their output failed).
static bool stopping(const pipeline_sinks *s) {
    return s->stop != NULL && s->stop(s->user);
}

// progress_tick: the source's progress callback, if any (lock not held).
static void progress_tick(const thr_ctx *c, uint64_t bytes_read, uint64_t bytes_total,
                          uint64_t handshakes) {
    if (c->src->on_progress != NULL) {
        c->src->on_progress(c->sinks->user, bytes_read, bytes_total, handshakes);
    }
}

static thr_batch *batch_get(thr_ctx *c) {
    pthread_mutex_lock(&c->mu);
    thr_batch *b = c->pool;
    if (b) {
        c->pool = b->next;
    }
    pthread_mutex_unlock(&c->mu);
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) {
            return NULL;
        }
        b->buf = malloc(THR_BATCH_BYTES);
        if (!b->buf) {
            free(b);
            return NULL;
        }
        b->cap = THR_BATCH_BYTES;
    }
    b->next = NULL;
    b->n = 0;
    b->nclock = 0;
    b->used = 0;
    b->last = false;
    return b;
}

static void batch_free(thr_batch *b) {
    if (b) {
        free(b->buf);
        free(b);
    }
}

static bool push_u32(uint32_t **a, size_t *n, size_t *cap, uint32_t v) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        uint32_t *p = realloc(*a, nc * sizeof *p);
        if (!p) {
            return false;
        }
        *a = p;
        *cap = nc;
    }
    (*a)[(*n)++] = v;
    return true;
}

// free_items frees a list of merged items (verdict and item).
static void free_items(thr_item *it) {
    while (it) {
        thr_item *next = it->next;
        verdict_free(it->v);
        free(it);
        it = next;
    }
}

static void finish_flush(thr_worker *w);
static void finish(thr_worker *w, uint32_t mark);

// on_transcript (worker thread): analyze and keep the verdict until the batch is published.
static void worker_transcript(void *user, const tls_transcript *t) {
    thr_worker *w = user;
    if (w->oom) {
        return;
    }
    thr_item *it = malloc(sizeof *it);
    verdict *v = it ? analyzer_run(w->an, t) : NULL;
    if (!v) {
        free(it);
        w->oom = true;
        return;
    }
    *it = (thr_item){NULL, v, w->emit, t->first_frame, t->last_frame};
    if (w->loc_tail) {
        w->loc_tail->next = it;
    } else {
        w->loc_head = it;
    }
    w->loc_tail = it;
    if (++w->nloc >= THR_MAX_PENDING && w->finishing) {
        finish_flush(w);
    }
}

// lower_bound: the first index in [lo, hi) of ascending a whose value is ≥ v (hi if none).
static size_t lower_bound(const uint32_t *a, size_t lo, size_t hi, uint32_t v) {
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

// compact_created drops, from every worker's `created`, the frames below the first frame of
// any verdict still to be merged: the pending ones and, per worker, `bound` (ctx->mu held).
static void compact_created(thr_ctx *c) {
    uint32_t t = UINT32_MAX;
    for (uint32_t i = 0; i < c->n; i++) {
        const thr_worker *w = &c->w[i];
        if (!w->done && w->bound < t) {
            t = w->bound;
        }
        for (const thr_item *it = w->out_head; it; it = it->next) {
            if (it->first_frame < t) {
                t = it->first_frame;
            }
        }
    }
    for (uint32_t i = 0; i < c->n; i++) {
        thr_worker *w = &c->w[i];
        size_t lo = lower_bound(w->created, 0, w->ncreated, t);
        memmove(w->created, w->created + lo, (w->ncreated - lo) * sizeof *w->created);
        w->ncreated -= lo;
        w->created_base += lo;
        w->created_pos = w->created_pos > lo ? w->created_pos - lo : 0;
        w->compact_at = w->ncreated * 2 > THR_COMPACT_MIN ? w->ncreated * 2 : THR_COMPACT_MIN;
        if (w->capcreated > 4 * w->compact_at) {  // give back what a burst of connections took
            uint32_t *p = realloc(w->created, w->compact_at * sizeof *p);
            if (p) {
                w->created = p;
                w->capcreated = w->compact_at;
            }
        }
    }
    c->created_floor = t;
    c->compact_done = c->compact_seq;
}

// answer_compaction (the worker's own thread, ctx->mu held): when `created` has grown, ask for a
// compaction; answer an open request with this worker's bound — its oldest connection not yet
// reported, or else the next frame it will read — and carry it out once every worker that is
// not done has answered.
static void answer_compaction(thr_worker *w, uint32_t mark, bool last) {
    thr_ctx *c = w->ctx;
    if (w->ncreated >= w->compact_at && c->compact_seq == c->compact_done) {
        c->compact_seq++;
    }
    if (c->compact_seq == c->compact_done || w->bound_seq == c->compact_seq ||
        (w->finishing && !last)) {
        return;  // (inside dissect_finish the live list is being emptied: answer at the end)
    }
    uint32_t oldest = last ? UINT32_MAX : dissect_oldest_live_frame(w->d);
    w->bound = oldest <= mark ? oldest : mark + 1;
    w->bound_seq = c->compact_seq;
    for (uint32_t i = 0; i < c->n; i++) {
        const thr_worker *o = &c->w[i];
        if (o != w && !o->done && o->bound_seq != c->compact_seq) {
            return;
        }
    }
    compact_created(c);
}

// publish hands the worker's local verdicts and flow-creation frames to the merge, with its
// mark (ctx->mu held; the worker's own thread).
static void publish(thr_worker *w, uint32_t mark, bool last) {
    thr_ctx *c = w->ctx;
    uint32_t added = 0;
    for (thr_item *it = w->loc_head; it; it = it->next) {
        added++;
    }
    if (w->loc_head) {
        if (w->out_tail) {
            w->out_tail->next = w->loc_head;
        } else {
            w->out_head = w->loc_head;
        }
        w->out_tail = w->loc_tail;
        w->loc_head = w->loc_tail = NULL;
    }
    w->npending += added;
    w->nloc = 0;
    c->unmerged += added;
    for (size_t i = 0; i < w->nloc_created; i++) {
        if (!push_u32(&w->created, &w->ncreated, &w->capcreated, w->loc_created[i])) {
            w->oom = true;
            break;
        }
    }
    w->nloc_created = 0;
    w->mark = mark;
    if (w->oom) {
        c->oom = true;
    }
    answer_compaction(w, mark, last);
    if (last) {
        w->done = true;
    }
}

// feed_own: dissect one frame of this worker's shard, noting the flows it creates.
static void feed_own(thr_worker *w, const dissect_frame *fr) {
    const dissect_stats *st = dissect_get_stats(w->d);
    uint64_t before = st->flows_created;
    w->emit = fr->frame_no;
    dissect_feed(w->d, fr);
    if (st->flows_created != before &&
        !push_u32(&w->loc_created, &w->nloc_created, &w->caploc_created, fr->frame_no)) {
        w->oom = true;
    }
}

// worker_read_main (shared-read mode): read everything, dissect this worker's shard, publish
// every THR_TICK_FRAMES frames read; wait while THR_MAX_PENDING verdicts await the merge.
static void *worker_read_main(void *arg) {
    thr_worker *w = arg;
    thr_ctx *c = w->ctx;
    dissect_frame fr;
    uint32_t last_frame = 0, since_tick = 0;
    pthread_mutex_lock(&c->mu);
    while (!c->go) {
        pthread_cond_wait(&c->cv_work, &c->mu);
    }
    bool stop = c->stop;
    pthread_mutex_unlock(&c->mu);
    while (!stop && cap_next(w->cr, &fr) == 1) {
        uint32_t h = 0;
        uint32_t i = dissect_frame_flow_hash(&fr, &h) ? h % c->n : 0;
        if (i == w->idx) {
            feed_own(w, &fr);
        } else {
            w->emit = fr.frame_no;  // an idle connection reported now belongs at this frame
            dissect_clock_only(w->d, fr.ts_ns);
        }
        last_frame = fr.frame_no;
        if (++since_tick < THR_PUBLISH_FRAMES) {
            continue;
        }
        since_tick = 0;
        pthread_mutex_lock(&c->mu);
        publish(w, last_frame, false);
        if (w->idx == 0) {
            c->bytes_read = cap_bytes_read(w->cr);
        }
        // Wake the merger for a handful of verdicts, not for every publication (each wake-up is
        // two context switches), and always before waiting for room.
        if (c->main_waiting &&
            (c->unmerged >= THR_WAKE_VERDICTS || w->npending >= THR_MAX_PENDING)) {
            pthread_cond_signal(&c->cv_main);
        }
        while (w->npending >= THR_MAX_PENDING && !c->stop) {
            pthread_cond_wait(&c->cv_room, &c->mu);
        }
        stop = c->stop;
        thr_item *ret = w->ret_head;
        w->ret_head = NULL;
        pthread_mutex_unlock(&c->mu);
        free_items(ret);
    }
    w->emit = THR_EMIT_END;
    if (!stop) {
        finish(w, last_frame);
    }
    pthread_mutex_lock(&c->mu);
    publish(w, last_frame, true);
    if (w->idx == 0) {
        c->bytes_read = cap_bytes_read(w->cr);
    }
    pthread_cond_signal(&c->cv_main);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void merge_ready(thr_ctx *c, analyzer *main_an, const pipeline_sinks *sinks,
                        pipeline_result *out);

// merge_turn (one-pass mode, ctx->mu held): report what is ready now. The workers merge in
// turns: a merging thread of its own had to be woken for every few dozen verdicts, each time
// taking a core from a worker (two context switches).
//
// The rule that keeps the workers from waiting on each other in a cycle: every publication is
// followed by a merge that sees it, before its worker may wait for room (cv_room). A worker that
// finds another one merging cannot merge itself, so it leaves a request (merge_again) and the
// merging worker runs merge_ready once more before it gives up the role, in the same hold of the
// lock in which it clears `merging`. Without it the merging worker could be past its last look
// (reporting progress, lock released) when the other published; both then waited for room with
// nobody left to merge (issue 14, item 9: both workers in cv_room, the caller in pthread_join).
// With it, a worker waits for room only when the last merge stopped at a worker X that has
// nothing pending and a mark below the waiting worker's next verdict; X, behind in the chunks,
// has chunks to dissect without reading or waiting for room, and its next publication merges.
static void merge_turn(thr_ctx *c) {
    if (c->merging) {
        c->merge_again = true;  // the merging worker looks again before it lets go
        return;
    }
    c->merging = true;
    do {
        c->merge_again = false;
        merge_ready(c, c->main_an, c->sinks, c->out);
        if ((c->oom || stopping(c->sinks)) && !c->stop) {
            c->stop = true;
            pthread_cond_broadcast(&c->cv_room);
            pthread_cond_broadcast(&c->cv_work);
        }
        uint64_t bytes = c->bytes_read, handshakes = c->out->transcripts;
        pthread_mutex_unlock(&c->mu);
        progress_tick(c, bytes, cap_bytes_total(c->cr), handshakes);
        pthread_mutex_lock(&c->mu);
    } while (c->merge_again);
    c->merging = false;
}

// finish_flush (the worker's own thread, inside dissect_finish): at the end of the input every
// connection still open is reported at once; holding all their verdicts until the final
// publication took gigabytes (300,000 open connections: 3 GB with two workers, 54 MB with one
// thread). So every THR_MAX_PENDING verdicts are published (mark unchanged: they come after
// every frame), the merge is run (one-pass) or woken (the calling thread merges), and the
// worker waits for room as it does between chunks. No cycle: an END verdict waits only for a
// worker that has nothing pending and is not done; that worker is dissecting or finishing and
// does not wait for room while it has nothing pending, so its next publication merges.
static void finish_flush(thr_worker *w) {
    thr_ctx *c = w->ctx;
    bool one_pass = c->ring != NULL;
    pthread_mutex_lock(&c->mu);
    publish(w, w->finish_mark, false);
    if (one_pass) {
        merge_turn(c);
    } else if (c->main_waiting) {
        pthread_cond_signal(&c->cv_main);
    }
    while (w->npending >= THR_MAX_PENDING && !c->stop) {
        pthread_cond_wait(&c->cv_room, &c->mu);
        if (one_pass) {
            merge_turn(c);
        }
    }
    thr_item *ret = w->ret_head;
    w->ret_head = NULL;
    pthread_mutex_unlock(&c->mu);
    free_items(ret);
}

// finish: dissect_finish with the verdicts published as they come (finish_flush); mark is the
// last frame this worker has seen.
static void finish(thr_worker *w, uint32_t mark) {
    w->finish_mark = mark;
    w->finishing = true;
    dissect_finish(w->d);
    w->finishing = false;
}

// read_chunk fills chunk k from the reader and hashes each frame to its shard (the caller holds
// the reading role, not the lock).
static void read_chunk(thr_ctx *c, thr_chunk *k) {
    thr_frame tmp[THR_CHUNK_FRAMES];
    uint16_t count[THR_MAX_WORKERS] = {0};
    uint32_t n = 0;
    dissect_frame fr;
    k->last = false;
    uint64_t end = cap_mark(c->cr) + THR_CHUNK_BYTES;
    while (n < THR_CHUNK_FRAMES && cap_mark(c->cr) < end) {
        if (cap_next(c->cr, &fr) != 1) {
            k->last = true;
            break;
        }
        uint32_t h = 0;
        uint8_t s = (uint8_t)(dissect_frame_flow_hash(&fr, &h) ? h % c->n : 0);
        k->shard[n] = s;
        k->frame_no[n] = fr.frame_no;
        k->ts_ns[n] = fr.ts_ns;
        tmp[n++] = (thr_frame){fr.data, fr.caplen, fr.len, fr.linktype};
        count[s]++;
    }
    uint16_t pos[THR_MAX_WORKERS];
    for (uint32_t s = 0, sum = 0; s < c->n; s++) {
        k->start[s] = pos[s] = (uint16_t)sum;
        sum += count[s];
    }
    for (uint32_t i = 0; i < n; i++) {
        k->fr[pos[k->shard[i]]++] = tmp[i];
    }
    k->n = n;
    k->mark = cap_mark(c->cr);
    k->left = c->n;
}

// worker_pass_main (one-pass mode): the input is read once, a chunk of frames at a time, by
// whichever worker has fewer than THR_LOOKAHEAD chunks ahead of it (the one in front: reading
// slows it down, so the role moves between the workers and the work evens out). Every worker
// goes through every chunk in order: it dissects its shard's frames and only moves its clock for
// the others. The frames' bytes are not copied: the file stays mapped until every worker is past
// them (cap_retain); then the reader gives the pages back (cap_release).
static void *worker_pass_main(void *arg) {
    thr_worker *w = arg;
    thr_ctx *c = w->ctx;
    uint32_t last_frame = 0;
    pthread_mutex_lock(&c->mu);
    while (!c->go) {
        pthread_cond_wait(&c->cv_work, &c->mu);
    }
    for (;;) {
        bool have = false;
        while (!c->stop) {
            if (!c->reading && !c->input_end && c->indexed - c->freed < THR_CHUNKS &&
                c->indexed - w->next < THR_LOOKAHEAD) {
                c->reading = true;
                uint64_t seq = c->indexed, free_mark = c->free_mark;
                pthread_mutex_unlock(&c->mu);
                if (free_mark >= c->released + THR_RELEASE_BYTES) {
                    cap_release(c->cr, free_mark);
                    c->released = free_mark;
                }
                thr_chunk *k = &c->ring[seq % THR_CHUNKS];
                read_chunk(c, k);
                uint64_t bytes = cap_bytes_read(c->cr);
                pthread_mutex_lock(&c->mu);
                c->bytes_read = bytes;
                c->indexed = seq + 1;
                c->input_end = k->last;
                c->reading = false;
                pthread_cond_broadcast(&c->cv_work);
                continue;
            }
            if (w->next < c->indexed) {
                have = true;
                break;
            }
            if (c->input_end) {
                break;
            }
            pthread_cond_wait(&c->cv_work, &c->mu);
        }
        if (!have) {
            break;  // every chunk done, or stopped
        }
        thr_chunk *k = &c->ring[w->next % THR_CHUNKS];
        pthread_mutex_unlock(&c->mu);
        const thr_frame *own = &k->fr[k->start[w->idx]];
        for (uint32_t i = 0; i < k->n; i++) {
            if (k->shard[i] == w->idx) {
                dissect_frame fr = {own->linktype, own->caplen, own->len,
                                    own->data,     k->ts_ns[i], k->frame_no[i]};
                own++;
                feed_own(w, &fr);
            } else {
                w->emit = k->frame_no[i];  // an idle connection reported now belongs here
                dissect_clock_only(w->d, k->ts_ns[i]);
            }
        }
        if (k->n) {
            last_frame = k->frame_no[k->n - 1];
        }
        bool last = k->last;
        pthread_mutex_lock(&c->mu);
        w->next++;
        if (--k->left == 0) {
            bool room = c->indexed - c->freed == THR_CHUNKS;
            while (c->freed < c->indexed && c->ring[c->freed % THR_CHUNKS].left == 0) {
                c->free_mark = c->ring[c->freed % THR_CHUNKS].mark;
                c->freed++;
            }
            if (room) {
                pthread_cond_broadcast(&c->cv_work);  // a worker may read on
            }
        }
        if (last) {
            break;
        }
        publish(w, last_frame, false);
        merge_turn(c);
        while (w->npending >= THR_MAX_PENDING && !c->stop) {
            pthread_cond_wait(&c->cv_room, &c->mu);  // the others are behind: they merge
            merge_turn(c);
        }
        thr_item *ret = w->ret_head;
        w->ret_head = NULL;
        pthread_mutex_unlock(&c->mu);
        free_items(ret);
        pthread_mutex_lock(&c->mu);
    }
    bool stop = c->stop;
    pthread_mutex_unlock(&c->mu);
    w->emit = THR_EMIT_END;
    if (!stop) {
        finish(w, last_frame);
    }
    pthread_mutex_lock(&c->mu);
    publish(w, last_frame, true);
    merge_turn(c);
    pthread_cond_broadcast(&c->cv_room);  // a worker waiting for room need not wait for this one
    pthread_mutex_unlock(&c->mu);
    // Verdicts own their memory: the dissector and analyzer go now, in parallel with the others,
    // rather than one after the other once all are joined.
    w->stats = *dissect_get_stats(w->d);
    dissect_free(w->d);
    w->d = NULL;
    analyzer_free(w->an);
    w->an = NULL;
    return NULL;
}

static void *worker_main(void *arg) {
    thr_worker *w = arg;
    thr_ctx *c = w->ctx;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (!w->in_head) {
            pthread_cond_wait(&c->cv_work, &c->mu);
        }
        thr_batch *b = w->in_head;
        w->in_head = b->next;
        if (!w->in_head) {
            w->in_tail = NULL;
        }
        w->in_depth--;
        if (c->main_waiting) {
            pthread_cond_signal(&c->cv_main);
        }
        pthread_mutex_unlock(&c->mu);

        // The two lists, own frames and the others' clock, in frame order.
        uint32_t k = 0;
        for (uint32_t i = 0; i < b->n; i++) {
            for (; k < b->nclock && b->clock[k].frame_no < b->fr[i].frame_no; k++) {
                w->emit = b->clock[k].frame_no;
                dissect_clock_only(w->d, b->clock[k].ts_ns);
            }
            feed_own(w, &b->fr[i]);
        }
        for (; k < b->nclock; k++) {
            w->emit = b->clock[k].frame_no;
            dissect_clock_only(w->d, b->clock[k].ts_ns);
        }
        bool last = b->last;
        if (last) {
            w->emit = THR_EMIT_END;
            finish(w, b->upto);
        }

        pthread_mutex_lock(&c->mu);
        publish(w, b->upto, last);
        b->next = c->pool;
        c->pool = b;
        thr_item *ret = w->ret_head;
        w->ret_head = NULL;
        if (c->main_waiting || last) {
            pthread_cond_signal(&c->cv_main);
        }
        pthread_mutex_unlock(&c->mu);
        free_items(ret);
        if (last) {
            return NULL;
        }
    }
}

// created_before: flows worker w created at frames < frame (ctx->mu held). Verdicts are merged
// in roughly the order their connections began, so the answer is searched for outwards from the
// last one (galloping), not over the whole array (that binary search missed the cache for every
// verdict and was a third of the merge).
static uint64_t created_before(thr_worker *w, uint32_t frame) {
    const uint32_t *a = w->created;
    size_t n = w->ncreated, pos = w->created_pos < n ? w->created_pos : n;
    size_t lo, hi;  // the answer (the first index whose frame is ≥ frame) is in [lo, hi]
    if (pos < n && a[pos] < frame) {
        size_t step = 1;
        lo = pos + 1;
        while (lo + step - 1 < n && a[lo + step - 1] < frame) {
            lo += step;
            step *= 2;
        }
        hi = lo + step - 1 < n ? lo + step - 1 : n;
    } else {
        size_t step = 1;
        hi = pos;
        while (hi >= step && a[hi - step] >= frame) {
            hi -= step;
            step *= 2;
        }
        lo = hi >= step ? hi - step + 1 : 0;
    }
    lo = lower_bound(a, lo, hi, frame);
    w->created_pos = lo;
    return w->created_base + lo;
}

// item_before: a comes before b in one thread's order. By emit first; at one frame, one
// dissector reports the connections that went idle oldest first (its LRU list: the order of
// their last frames), then the frame's own connection (its last frame is that frame); at the end
// (dissect_finish) in conn_id order, which is first-frame order. Ordering idle connections by
// first frame put a long connection before a SYN seen after its last packet (--threads differed
// from one thread when two connections of different workers went idle at one frame).
static bool item_before(const thr_item *a, const thr_item *b) {
    if (a->emit != b->emit) {
        return a->emit < b->emit;
    }
    if (a->emit != THR_EMIT_END && a->last_frame != b->last_frame) {
        return a->last_frame < b->last_frame;
    }
    return a->first_frame < b->first_frame;
}

// merge_ready reports every verdict whose place in the order is settled (ctx->mu held; the lock
// is released while reporting).
static void merge_ready(thr_ctx *c, analyzer *main_an, const pipeline_sinks *sinks,
                        pipeline_result *out) {
    for (;;) {
        thr_worker *best = NULL;
        for (uint32_t i = 0; i < c->n; i++) {
            thr_worker *w = &c->w[i];
            if (w->out_head && (!best || item_before(w->out_head, best->out_head))) {
                best = w;
            }
        }
        if (!best) {
            return;
        }
        thr_item *it = best->out_head;
        for (uint32_t i = 0; i < c->n; i++) {
            const thr_worker *w = &c->w[i];
            if (!w->out_head && !w->done && (it->emit == THR_EMIT_END || w->mark < it->emit)) {
                return;  // w may still produce something that comes first
            }
        }
        assert(it->first_frame >= c->created_floor);
        uint64_t id = 0;
        for (uint32_t i = 0; i < c->n; i++) {
            id += created_before(&c->w[i], it->first_frame);
        }
        best->out_head = it->next;
        if (!best->out_head) {
            best->out_tail = NULL;
        }
        if (best->npending-- == THR_MAX_PENDING) {
            pthread_cond_broadcast(&c->cv_room);
        }
        pthread_mutex_unlock(&c->mu);
        it->v->conn_id = id;
        out->transcripts++;
        out->verdicts++;
        if (verdict_is_failure(it->v)) {
            out->failed++;
        }
        analyzer_summary_add(main_an, it->v);
        if (!stopping(sinks) && sinks->on_verdict != NULL &&
            sinks->on_verdict(sinks->user, it->v, NULL)) {
            it->v = NULL;  // the sink keeps it (the worker frees NULL)
        }
        pthread_mutex_lock(&c->mu);
        // Back to the worker, which frees it in its own thread: freeing here took the lock of
        // the worker's malloc arena while the worker allocated from it (futex waits).
        it->next = best->ret_head;
        best->ret_head = it;
    }
}

// send hands worker i its current batch (waiting for queue space, merging meanwhile).
static bool send_batch(thr_ctx *c, uint32_t i, uint32_t upto, bool last, analyzer *main_an,
                       const pipeline_sinks *sinks, pipeline_result *out) {
    thr_worker *w = &c->w[i];
    thr_batch *b = w->cur;
    if (!b && last) {
        b = w->endb;
        w->endb = NULL;
    }
    if (!b) {
        b = batch_get(c);
        if (!b) {
            return false;
        }
    }
    b->upto = upto;
    b->last = last;
    pthread_mutex_lock(&c->mu);
    merge_ready(c, main_an, sinks, out);
    while (w->in_depth >= THR_QUEUE_DEPTH) {
        c->main_waiting = true;
        pthread_cond_wait(&c->cv_main, &c->mu);
        c->main_waiting = false;
        merge_ready(c, main_an, sinks, out);
    }
    if (w->in_tail) {
        w->in_tail->next = b;
    } else {
        w->in_head = b;
    }
    w->in_tail = b;
    w->in_depth++;
    pthread_cond_broadcast(&c->cv_work);  // (one condition for all workers: they check their queue)
    pthread_mutex_unlock(&c->mu);
    w->cur = NULL;
    return true;
}

// add_frame copies fr into worker i's batch; false when out of memory.
static bool add_frame(thr_ctx *c, uint32_t i, const dissect_frame *fr, analyzer *main_an,
                      const pipeline_sinks *sinks, pipeline_result *out) {
    thr_worker *w = &c->w[i];
    if (w->cur && (w->cur->n == THR_BATCH_FRAMES || w->cur->cap - w->cur->used < fr->caplen)) {
        if (!send_batch(c, i, fr->frame_no - 1, false, main_an, sinks, out)) {
            return false;
        }
    }
    if (!w->cur && !(w->cur = batch_get(c))) {
        return false;
    }
    thr_batch *b = w->cur;
    if (b->cap < fr->caplen) {  // an empty batch (see above) too small for this frame
        size_t cap = fr->caplen > THR_BATCH_BYTES ? fr->caplen : THR_BATCH_BYTES;
        uint8_t *p = realloc(b->buf, cap);
        if (!p) {
            return false;
        }
        b->buf = p;
        b->cap = cap;
    }
    memcpy(b->buf + b->used, fr->data, fr->caplen);
    b->fr[b->n] = *fr;
    b->fr[b->n].data = b->buf + b->used;  // buf is never reallocated once it holds a frame
    b->used += fr->caplen;
    b->n++;
    return true;
}

// add_clock notes a frame of another shard in worker i's batch: its time moves that worker's
// capture clock. false when out of memory.
static bool add_clock(thr_ctx *c, uint32_t i, const dissect_frame *fr, analyzer *main_an,
                      const pipeline_sinks *sinks, pipeline_result *out) {
    thr_worker *w = &c->w[i];
    // (the reader hands every batch over each THR_TICK_FRAMES frames: this is a backstop)
    if (w->cur && w->cur->nclock == THR_TICK_FRAMES &&
        !send_batch(c, i, fr->frame_no - 1, false, main_an, sinks, out)) {
        return false;
    }
    if (!w->cur && !(w->cur = batch_get(c))) {
        return false;
    }
    w->cur->clock[w->cur->nclock].frame_no = fr->frame_no;
    w->cur->clock[w->cur->nclock].ts_ns = fr->ts_ns;
    w->cur->nclock++;
    return true;
}

static void sum_stats(dissect_stats *s, const dissect_stats *w) {
    s->frames += w->frames;
    s->bytes += w->bytes;
    s->frames_not_ip += w->frames_not_ip;
    s->frames_not_tcp += w->frames_not_tcp;
    s->frames_malformed += w->frames_malformed;
    s->frames_truncated += w->frames_truncated;
    if (w->frames_unsupported_link && !s->frames_unsupported_link) {
        s->first_unsupported_linktype = w->first_unsupported_linktype;
    }
    s->frames_unsupported_link += w->frames_unsupported_link;
    dissect_undecoded_merge(s->undecoded, w->undecoded);
    s->flows_created += w->flows_created;
    s->flows_evicted += w->flows_evicted;
    s->flows_idle += w->flows_idle;
    s->flows_decided += w->flows_decided;
    s->transcripts += w->transcripts;
    dissect_bounds_add(&s->bounds, &w->bounds);
    if (w->peak_buffered_bytes > s->peak_buffered_bytes) {
        s->peak_buffered_bytes = w->peak_buffered_bytes;
    }
    if (w->peak_flows > s->peak_flows) {
        s->peak_flows = w->peak_flows;
    }
}

static void ctx_free(thr_ctx *c) {
    for (uint32_t i = 0; i < c->n; i++) {
        thr_worker *w = &c->w[i];
        batch_free(w->cur);
        batch_free(w->endb);
        for (thr_batch *b = w->in_head; b;) {
            thr_batch *next = b->next;
            batch_free(b);
            b = next;
        }
        free_items(w->out_head);
        free_items(w->ret_head);
        free(w->created);
        free(w->loc_created);
        if (w->idx > 0) {
            cap_close(w->cr);  // worker 0 reads the caller's reader
        }
        dissect_free(w->d);
        analyzer_free(w->an);
    }
    for (thr_batch *b = c->pool; b;) {
        thr_batch *next = b->next;
        batch_free(b);
        b = next;
    }
    free(c->w);
    free(c->ring);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv_work);
    pthread_cond_destroy(&c->cv_main);
    pthread_cond_destroy(&c->cv_room);
}

// all_regular_files: every input can be opened again by each worker (not stdin, not a pipe).
static bool all_regular_files(const pipeline_source *o) {
    for (size_t i = 0; i < o->num_files; i++) {
        struct stat st;
        if (strcmp(o->files[i], "-") == 0 || stat(o->files[i], &st) != 0 || !S_ISREG(st.st_mode)) {
            return false;
        }
    }
    return true;
}

// start_workers starts fn on every worker and lets them go (false, with the started ones
// stopped and joined, when one could not start).
static bool start_workers(thr_ctx *c, void *(*fn)(void *)) {
    bool ok = true;
    for (uint32_t i = 0; i < c->n && ok; i++) {
        ok = pthread_create(&c->w[i].tid, NULL, fn, &c->w[i]) == 0;
        c->w[i].started = ok;
    }
    pthread_mutex_lock(&c->mu);
    c->stop = !ok;  // a worker could not start: the others stop before reading anything
    c->go = true;
    pthread_cond_broadcast(&c->cv_work);
    pthread_mutex_unlock(&c->mu);
    if (!ok) {
        for (uint32_t i = 0; i < c->n; i++) {
            if (c->w[i].started) {
                pthread_join(c->w[i].tid, NULL);
            }
        }
    }
    return ok;
}

// merge_to_end merges and reports until every worker is done, then joins them (the workers read
// the input themselves: shared-read and one-pass modes).
static void merge_to_end(thr_ctx *c, cap_reader *cr, analyzer *main_an, const pipeline_sinks *sinks,
                         pipeline_result *out) {
    pthread_mutex_lock(&c->mu);
    for (;;) {
        merge_ready(c, main_an, sinks, out);
        if ((c->oom || stopping(sinks)) && !c->stop) {
            c->stop = true;
            pthread_cond_broadcast(&c->cv_room);
            pthread_cond_broadcast(&c->cv_work);
        }
        bool all_done = true;
        for (uint32_t i = 0; i < c->n; i++) {
            all_done &= c->w[i].done && !c->w[i].out_head;
        }
        if (all_done) {
            break;
        }
        c->main_waiting = true;
        pthread_cond_wait(&c->cv_main, &c->mu);
        c->main_waiting = false;
        c->unmerged = 0;
        uint64_t bytes = c->bytes_read;
        pthread_mutex_unlock(&c->mu);
        progress_tick(c, bytes, cap_bytes_total(cr), out->transcripts);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    for (uint32_t i = 0; i < c->n; i++) {
        pthread_join(c->w[i].tid, NULL);
        sum_stats(&out->stats, dissect_get_stats(c->w[i].d));
    }
    out->oom = c->oom;
}

// run_shared_read: the workers read the input themselves, each its own reader; this thread
// merges (see the top).
static bool run_shared_read(thr_ctx *c, const pipeline_source *o, cap_reader *cr, analyzer *main_an,
                            const pipeline_sinks *sinks, pipeline_result *out) {
    for (uint32_t i = 0; i < c->n; i++) {
        thr_worker *w = &c->w[i];
        if (i == 0) {
            w->cr = cr;
        } else {
            char err[512];
            w->cr = cap_open(o->files, o->num_files, o->filter, err, sizeof err);
            if (!w->cr) {
                return false;
            }
        }
    }
    if (!start_workers(c, worker_read_main)) {
        return false;
    }
    merge_to_end(c, cr, main_an, sinks, out);
    return true;
}

// run_one_pass: the workers read the one input file in turns (worker_pass_main); this thread
// merges. false before anything was read when the ring cannot be allocated.
static bool run_one_pass(thr_ctx *c, cap_reader *cr, analyzer *main_an, const pipeline_sinks *sinks,
                         pipeline_result *out) {
    c->cr = cr;
    c->main_an = main_an;
    c->sinks = sinks;
    c->out = out;
    c->ring = calloc(THR_CHUNKS, sizeof *c->ring);
    if (!c->ring || !start_workers(c, worker_pass_main)) {
        cap_unretain(cr);  // nothing was read: the caller reads the file with one thread
        return false;
    }
    for (uint32_t i = 0; i < c->n; i++) {
        pthread_join(c->w[i].tid, NULL);
        sum_stats(&out->stats, &c->w[i].stats);
    }
    pthread_mutex_lock(&c->mu);
    merge_ready(c, main_an, sinks, out);  // every worker is done: the rest is ready
    pthread_mutex_unlock(&c->mu);
    out->oom = c->oom;
    return true;
}

bool pipeline_threads_run(const pipeline_config *cfg, const pipeline_source *o,
                          const dissect_config *dc, analyzer *main_an, const pipeline_sinks *sinks,
                          pipeline_result *out) {
    cap_reader *cr = o->reader;
    memset(out, 0, sizeof *out);
    // Verdicts are allocated by a worker and freed here: with glibc's default 128 KiB trim
    // threshold the worker arenas shrank and regrew all the time (a third of the CPU time was
    // page faults). 8 MiB keeps them; peak RSS is unchanged (measured, bench/RESULTS.md).
    (void)mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
    thr_ctx c;
    memset(&c, 0, sizeof c);
    c.n = cfg->threads;
    c.src = o;
    c.sinks = sinks;
    c.w = aligned_alloc(128, c.n * sizeof *c.w);  // sizeof is a multiple of the alignment
    if (c.w) {
        memset(c.w, 0, c.n * sizeof *c.w);
    }
    if (!c.w) {
        return false;
    }
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv_work, NULL);
    pthread_cond_init(&c.cv_main, NULL);
    pthread_cond_init(&c.cv_room, NULL);
    bool ok = true;
    for (uint32_t i = 0; i < c.n && ok; i++) {
        thr_worker *w = &c.w[i];
        w->ctx = &c;
        w->compact_at = THR_COMPACT_MIN;
        w->idx = i;
        dissect_config wc = *dc;
        wc.on_transcript = worker_transcript;
        wc.user = w;
        char err[512];
        w->an = pipeline_analyzer_new(cfg, true, err, sizeof err);
        w->d = w->an ? dissect_new(&wc) : NULL;
        w->endb = calloc(1, sizeof *w->endb);
        ok = w->d != NULL && w->endb != NULL;
    }
    bool one_pass = ok && cap_retain(cr);
    if (one_pass || (ok && all_regular_files(o))) {
        bool ran = one_pass ? run_one_pass(&c, cr, main_an, sinks, out)
                            : run_shared_read(&c, o, cr, main_an, sinks, out);
        ctx_free(&c);
        if (!ran) {
            memset(out, 0, sizeof *out);
        }
        return ran;
    }
    for (uint32_t i = 0; i < c.n && ok; i++) {
        ok = pthread_create(&c.w[i].tid, NULL, worker_main, &c.w[i]) == 0;
        c.w[i].started = ok;
    }
    if (!ok) {
        // Stop the workers that did start: the empty end batch each (it cannot fail).
        for (uint32_t i = 0; i < c.n; i++) {
            if (c.w[i].started && send_batch(&c, i, 0, true, main_an, sinks, out)) {
                pthread_join(c.w[i].tid, NULL);
            }
        }
        // Nothing was read, so whatever the workers reported is nothing.
        ctx_free(&c);
        memset(out, 0, sizeof *out);
        return false;
    }

    dissect_frame fr;
    uint32_t last_frame = 0, since_tick = 0;
    bool oom = false;
    int r;
    while (!oom && !c.oom && !stopping(sinks) &&
           (cfg->count == 0 || out->transcripts < cfg->count) && (r = cap_next(cr, &fr)) != 0) {
        if (r == 1) {
            uint32_t h = 0;
            uint32_t i = dissect_frame_flow_hash(&fr, &h) ? h % c.n : 0;
            oom = !add_frame(&c, i, &fr, main_an, sinks, out);
            for (uint32_t j = 0; j < c.n && !oom; j++) {
                oom = j != i && !add_clock(&c, j, &fr, main_an, sinks, out);
            }
            last_frame = fr.frame_no;
            since_tick++;
        }
        if (r == 2 || since_tick >= THR_TICK_FRAMES) {
            since_tick = 0;
            for (uint32_t i = 0; i < c.n && !oom; i++) {
                oom = !send_batch(&c, i, last_frame, false, main_an, sinks, out);
            }
        }
        progress_tick(&c, cap_bytes_read(cr), cap_bytes_total(cr), out->transcripts);
    }
    for (uint32_t i = 0; i < c.n; i++) {
        // With no batch being filled this sends the preallocated end batch: it cannot fail.
        if (!send_batch(&c, i, last_frame, true, main_an, sinks, out)) {
            oom = true;
        }
    }
    pthread_mutex_lock(&c.mu);
    for (;;) {
        merge_ready(&c, main_an, sinks, out);
        bool all_done = true;
        for (uint32_t i = 0; i < c.n; i++) {
            all_done &= c.w[i].done && !c.w[i].out_head;
        }
        if (all_done) {
            break;
        }
        c.main_waiting = true;
        pthread_cond_wait(&c.cv_main, &c.mu);
        c.main_waiting = false;
    }
    pthread_mutex_unlock(&c.mu);
    for (uint32_t i = 0; i < c.n; i++) {
        pthread_join(c.w[i].tid, NULL);
        sum_stats(&out->stats, dissect_get_stats(c.w[i].d));
    }
    out->oom = oom || c.oom;
    ctx_free(&c);
    return true;
}
