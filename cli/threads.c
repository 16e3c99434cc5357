// threads.c — `analyze --threads N`: N dissect+analyze workers, one ordered merge.
//
// When every input is a regular file (the usual case), each worker reads the input itself
// through its own cap_reader (the files are mapped: the page cache is shared, nothing is copied),
// decodes every frame only far enough to hash its flow (dissect_frame_flow_hash) and dissects
// the frames of its own shard. Nothing is handed between threads but verdicts; the calling
// thread only merges. This scales better than one reader feeding the workers: on 2 cores the
// reader was a third thread competing for them (bench/NOTES.md).
//
// Otherwise (stdin, a pipe) one reader feeds the workers:
// Reader (the calling thread): cap_next → dissect_frame_flow_hash → copy the frame into the
// batch of worker hash % N (both directions of a connection hash alike, so a connection lives
// on one worker). A batch is handed over when full, and every THR_TICK_FRAMES frames all
// batches are handed over (empty ones too) so that every worker's progress mark advances.
// Queues are bounded (THR_QUEUE_DEPTH batches per worker): the reader waits, memory does not grow.
//
// Worker: dissect_feed each frame (of its shard); each transcript goes through the worker's own
// analyzer. The verdict is tagged with the frame whose processing produced it (`emit`) and the
// connection's first frame; the frames at which this worker created flows are recorded. At the end
// of each batch the worker publishes, under the one lock, its verdicts, its flow-creation frames
// and its mark = the last frame number the reader had read when it sent the batch.
//
// Merge (the calling thread, between batches and at the end): the next verdict is the smallest
// (emit, first frame) among the workers' first pending verdicts, once every worker without a
// pending verdict has a mark ≥ its emit (nothing smaller can still come). One thread reports in
// emit order too, and dissect_finish reports the flows left at the end in conn_id (= first
// frame) order, so the order is the one-thread order. The global conn_id of a connection is the
// number of flows any worker created before its first frame (one thread numbers flows in
// creation order); the creation frames are kept per worker (4 bytes per connection).
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "threads.h"

enum {
    THR_MAX_PENDING = 96,      // shared-read mode: verdicts a worker may hold before the merge
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
} thr_batch;

typedef struct thr_item {
    struct thr_item *next;
    verdict *v;
    uint32_t emit;
    uint32_t first_frame;
} thr_item;

typedef struct thr_ctx thr_ctx;

// Each worker's struct sits on its own cache lines: the workers write theirs for every frame
// (emit) and verdict, and adjacent structs shared lines between the two cores.
typedef struct __attribute__((aligned(128))) thr_worker {
    thr_ctx *ctx;
    pthread_t tid;
    bool started;
    uint32_t idx;
    cap_reader *cr;      // shared-read mode: this worker's own reader of the input (NULL otherwise)
    uint32_t npending;   // verdicts published and not yet merged (ctx->mu)
    thr_item *ret_head;  // merged items, handed back to be freed by this worker (ctx->mu)
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
    cli_progress *progress;
};

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
    *it = (thr_item){NULL, v, w->emit, t->first_frame};
    if (w->loc_tail) {
        w->loc_tail->next = it;
    } else {
        w->loc_head = it;
    }
    w->loc_tail = it;
}

// publish hands the worker's local verdicts and flow-creation frames to the merge, with its
// mark (ctx->mu held).
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
        dissect_finish(w->d);
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

        for (uint32_t i = 0; i < b->n; i++) {
            feed_own(w, &b->fr[i]);
        }
        bool last = b->last;
        if (last) {
            w->emit = THR_EMIT_END;
            dissect_finish(w->d);
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

// created_before: flows worker w created at frames < frame (ctx->mu held).
static uint64_t created_before(const thr_worker *w, uint32_t frame) {
    size_t lo = 0, hi = w->ncreated;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->created[mid] < frame) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static uint64_t item_key(const thr_item *it) {
    return ((uint64_t)it->emit << 32) | it->first_frame;
}

// merge_ready reports every verdict whose place in the order is settled (ctx->mu held; the lock
// is released while reporting).
static void merge_ready(thr_ctx *c, analyzer *main_an, report *rep, cli_threads_result *out) {
    for (;;) {
        thr_worker *best = NULL;
        for (uint32_t i = 0; i < c->n; i++) {
            thr_worker *w = &c->w[i];
            if (w->out_head && (!best || item_key(w->out_head) < item_key(best->out_head))) {
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
        cli_progress_end(c->progress);  // erased before each result (as run.c does)
        it->v->conn_id = id;
        out->transcripts++;
        if (verdict_is_failure(it->v)) {
            out->failed++;
        }
        analyzer_summary_add(main_an, it->v);
        if (!report_write_failed(rep)) {
            (void)report_verdict(rep, it->v);
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
                       report *rep, cli_threads_result *out) {
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
    merge_ready(c, main_an, rep, out);
    while (w->in_depth >= THR_QUEUE_DEPTH) {
        c->main_waiting = true;
        pthread_cond_wait(&c->cv_main, &c->mu);
        c->main_waiting = false;
        merge_ready(c, main_an, rep, out);
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
                      report *rep, cli_threads_result *out) {
    thr_worker *w = &c->w[i];
    if (w->cur && (w->cur->n == THR_BATCH_FRAMES || w->cur->cap - w->cur->used < fr->caplen)) {
        if (!send_batch(c, i, fr->frame_no - 1, false, main_an, rep, out)) {
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
    s->flows_created += w->flows_created;
    s->flows_evicted += w->flows_evicted;
    s->flows_idle += w->flows_idle;
    s->flows_decided += w->flows_decided;
    s->transcripts += w->transcripts;
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
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv_work);
    pthread_cond_destroy(&c->cv_main);
    pthread_cond_destroy(&c->cv_room);
}

// all_regular_files: every input can be opened again by each worker (not stdin, not a pipe).
static bool all_regular_files(const cli_options *o) {
    for (size_t i = 0; i < o->num_files; i++) {
        struct stat st;
        if (strcmp(o->files[i], "-") == 0 || stat(o->files[i], &st) != 0 || !S_ISREG(st.st_mode)) {
            return false;
        }
    }
    return true;
}

// run_shared_read: the workers read the input themselves; this thread merges (see the top).
static bool run_shared_read(thr_ctx *c, const cli_options *o, cap_reader *cr, analyzer *main_an,
                            report *rep, cli_progress *progress, cli_threads_result *out) {
    bool ok = true;
    for (uint32_t i = 0; i < c->n && ok; i++) {
        thr_worker *w = &c->w[i];
        if (i == 0) {
            w->cr = cr;
        } else {
            char err[512];
            w->cr = cap_open(o->files, o->num_files, o->filter, err, sizeof err);
            ok = w->cr != NULL;
        }
    }
    for (uint32_t i = 0; i < c->n && ok; i++) {
        ok = pthread_create(&c->w[i].tid, NULL, worker_read_main, &c->w[i]) == 0;
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
        return false;
    }
    pthread_mutex_lock(&c->mu);
    for (;;) {
        merge_ready(c, main_an, rep, out);
        if ((c->oom || report_write_failed(rep)) && !c->stop) {
            c->stop = true;
            pthread_cond_broadcast(&c->cv_room);
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
        cli_progress_tick(progress, bytes, cap_bytes_total(cr), out->transcripts);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    for (uint32_t i = 0; i < c->n; i++) {
        pthread_join(c->w[i].tid, NULL);
        sum_stats(&out->stats, dissect_get_stats(c->w[i].d));
    }
    out->oom = c->oom;
    return true;
}

bool cli_threads_run(const cli_options *o, cap_reader *cr, const dissect_config *dc,
                     analyzer *(*new_analyzer)(const cli_options *o), analyzer *main_an,
                     report *rep, cli_progress *progress, cli_threads_result *out) {
    memset(out, 0, sizeof *out);
    // Verdicts are allocated by a worker and freed here: with glibc's default 128 KiB trim
    // threshold the worker arenas shrank and regrew all the time (a third of the CPU time was
    // page faults). 8 MiB keeps them; peak RSS is unchanged (measured, bench/RESULTS.md).
    (void)mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
    thr_ctx c;
    memset(&c, 0, sizeof c);
    c.n = o->threads;
    c.progress = progress;
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
        w->idx = i;
        dissect_config wc = *dc;
        wc.on_transcript = worker_transcript;
        wc.user = w;
        w->an = new_analyzer(o);
        w->d = w->an ? dissect_new(&wc) : NULL;
        w->endb = calloc(1, sizeof *w->endb);
        ok = w->d != NULL && w->endb != NULL;
    }
    if (ok && all_regular_files(o)) {
        bool ran = run_shared_read(&c, o, cr, main_an, rep, progress, out);
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
            if (c.w[i].started && send_batch(&c, i, 0, true, main_an, rep, out)) {
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
    while (!oom && !c.oom && !report_write_failed(rep) &&
           (o->count == 0 || out->transcripts < o->count) && (r = cap_next(cr, &fr)) != 0) {
        if (r == 1) {
            uint32_t h = 0;
            uint32_t i = dissect_frame_flow_hash(&fr, &h) ? h % c.n : 0;
            oom = !add_frame(&c, i, &fr, main_an, rep, out);
            last_frame = fr.frame_no;
            since_tick++;
        }
        if (r == 2 || since_tick >= THR_TICK_FRAMES) {
            since_tick = 0;
            for (uint32_t i = 0; i < c.n && !oom; i++) {
                oom = !send_batch(&c, i, last_frame, false, main_an, rep, out);
            }
        }
        cli_progress_tick(progress, cap_bytes_read(cr), cap_bytes_total(cr), out->transcripts);
    }
    for (uint32_t i = 0; i < c.n; i++) {
        // With no batch being filled this sends the preallocated end batch: it cannot fail.
        if (!send_batch(&c, i, last_frame, true, main_an, rep, out)) {
            oom = true;
        }
    }
    pthread_mutex_lock(&c.mu);
    for (;;) {
        merge_ready(&c, main_an, rep, out);
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
