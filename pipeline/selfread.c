// selfread.c — `--threads N` when the workers read the input themselves.
//
// One input (a file or stdin; the usual case): one-pass mode. The input is read once, a chunk of
// THR_CHUNK_FRAMES frames at a time, by whichever worker is closest to the end of what has been
// read; reading a chunk means copying each frame's bytes into the chunk's buffer, hashing its
// connection to its shard (dissect_frame_flow_hash) and running the capture clock
// (dissect_clock_step: each frame's clock is noted). Every worker goes through every chunk: it
// dissects its shard's frames from the chunk and only moves its clock for the others — a run of
// them in one step, unless one of its connections goes idle inside the run (pass_others). The
// workers also merge and report in turns (thr_merge_turn). No thread waits for another in the
// common case, and the calling thread only joins them. The ring of chunks bounds what is held.
//
// Several files: shared-read mode. Each worker reads the inputs through its own cap_reader (the
// k-way merge of the files) and dissects the frames of its shard; the calling thread merges
// (merge_to_end).
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "thr.h"

// worker_read_main (shared-read mode): read everything, dissect this worker's shard, thr_publish
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
        uint32_t i = dissect_frame_flow_hash(&fr, &h) ? thr_shard(c, h) : 0;
        if (i == w->idx) {
            thr_feed_own(w, &fr);
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
        thr_publish(w, last_frame, false);
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
        thr_recycle_items(w, ret);
    }
    w->emit = THR_EMIT_END;
    if (!stop) {
        thr_finish(w, last_frame);
    }
    pthread_mutex_lock(&c->mu);
    thr_publish(w, last_frame, true);
    if (w->idx == 0) {
        c->bytes_read = cap_bytes_read(w->cr);
    }
    pthread_cond_signal(&c->cv_main);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

// merge_to_end merges and reports until every worker is done, then joins them (the workers read
// the input themselves: shared-read and one-pass modes).
static void merge_to_end(thr_ctx *c, cap_reader *cr, pipeline_result *out) {
    pthread_mutex_lock(&c->mu);
    for (;;) {
        thr_merge_ready(c);
        if ((c->oom || thr_stopping(c->sinks)) && !c->stop) {
            c->stop = true;
            pthread_cond_broadcast(&c->cv_room);
            pthread_cond_broadcast(&c->cv_work);
        }
        if (thr_all_merged(c)) {
            break;
        }
        c->main_waiting = true;
        pthread_cond_wait(&c->cv_main, &c->mu);
        c->main_waiting = false;
        c->unmerged = 0;
        uint64_t bytes = c->bytes_read;
        pthread_mutex_unlock(&c->mu);
        thr_progress(c, bytes, cap_bytes_total(cr), out->transcripts);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    thr_join(c, out);
    out->oom = c->oom;
}

// thr_run_shared_read: the workers read the input themselves, each its own reader; this thread
// merges (see the top).
bool thr_run_shared_read(thr_ctx *c, const pipeline_source *o, cap_reader *cr,
                         pipeline_result *out) {
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
    if (!thr_start_workers(c, worker_read_main)) {
        return false;
    }
    merge_to_end(c, cr, out);
    return true;
}

// copy_bytes copies the bytes of frames [from, to) of in[] into k's buffer (after `*used` bytes)
// and points them there: the reader's buffer is reused by its next call. Frames that lie in
// order in the reader's buffer with at most a record header between them (a batch of pcap
// records: cap_next_batch) are copied as one span, headers included: one call a batch, not one a
// frame (~20 cycles each, a third of the copy's time on the handshake file). When a batch of
// large frames does not fit, the buffer grows and the frames copied before are pointed into the
// new one. false when out of memory.
static bool copy_bytes(thr_chunk *k, dissect_frame *in, uint32_t from, uint32_t to, size_t *used) {
    enum { SPAN_GAP = 64 };  // bytes between two frames of one span, at most
    const uint8_t *lo = in[from].data, *hi = lo;
    size_t sum = 0;
    bool span = true;
    for (uint32_t i = from; i < to; i++) {
        uintptr_t at = (uintptr_t)in[i].data, end = (uintptr_t)hi;  // (maybe two objects)
        span = span && at >= end && at - end <= SPAN_GAP;
        if (span) {
            hi = in[i].data + in[i].caplen;
        }
        sum += in[i].caplen;
    }
    size_t need = *used + (span ? (size_t)(hi - lo) : sum);
    if (need > k->cap) {
        size_t cap = need > 2 * k->cap ? need : 2 * k->cap;
        uint8_t *p = malloc(cap);
        if (!p) {
            return false;
        }
        memcpy(p, k->bytes, *used);
        for (uint32_t i = 0; i < from; i++) {
            in[i].data = p + (in[i].data - k->bytes);
        }
        free(k->bytes);
        k->bytes = p;
        k->cap = cap;
    }
    if (span) {
        uint8_t *to_at = k->bytes + *used;
        memcpy(to_at, lo, (size_t)(hi - lo));
        for (uint32_t i = from; i < to; i++) {
            in[i].data = to_at + (in[i].data - lo);
        }
        *used += (size_t)(hi - lo);
        return true;
    }
    for (uint32_t i = from; i < to; i++) {
        memcpy(k->bytes + *used, in[i].data, in[i].caplen);
        in[i].data = k->bytes + *used;
        *used += in[i].caplen;
    }
    return true;
}

// read_chunk fills chunk k from the reader: each frame's bytes copied into the chunk, its
// connection hashed to its shard (a connection's frames all go to one worker) and the capture
// clock run over it; then the frames are grouped by shard (the caller holds the reading role, not
// the lock). The records are read THR_READ_BATCH at a time (cap_next_batch: a call a frame cost
// ~75 instructions a frame, bench/NOTES.md, round 6) into one array, hashed and clocked in a
// tight loop, and their entries copied once, to their place. false when out of memory (the chunk
// then ends the input).
static bool read_chunk(thr_ctx *c, thr_chunk *k) {
    dissect_frame in[THR_CHUNK_FRAMES];
    uint16_t count[THR_MAX_WORKERS] = {0};
    const uint32_t nw = c->n, mask = nw - 1;
    const bool pow2 = (nw & mask) == 0;
    const uint64_t end = cap_bytes_read(c->cr) + THR_CHUNK_BYTES;
    dissect_clock clk = c->clk;
    bool steady = clk.set && !clk.jump_pending;
    uint32_t n = 0;
    size_t used = 0;
    bool ok = true;
    k->last = false;
    while (n < THR_CHUNK_FRAMES) {
        size_t want = THR_CHUNK_FRAMES - n < THR_READ_BATCH ? THR_CHUNK_FRAMES - n : THR_READ_BATCH;
        size_t got = cap_next_batch(c->cr, in + n, want);
        if (got == 0) {
            k->last = true;
            break;
        }
        if (!copy_bytes(k, in, n, n + (uint32_t)got, &used)) {
            k->last = true;
            ok = false;
            break;
        }
        for (uint32_t i = n; i < n + got; i++) {
            uint32_t h = 0;
            uint8_t s = 0;
            if (dissect_frame_flow_hash(&in[i], &h)) {
                s = (uint8_t)(pow2 ? h & mask : h % nw);  // thr_shard, its test out of the loop
            }
            k->shard[i] = s;
            count[s]++;
            steady &= dissect_clock_step(&clk, in[i].ts_ns) == DISSECT_CLOCK_STEADY;
            k->clock_ns[i] = clk.now_ns;
        }
        n += (uint32_t)got;
        if (cap_bytes_read(c->cr) >= end) {
            break;
        }
    }
    c->clk = clk;
    uint16_t next[THR_MAX_WORKERS];
    uint32_t sum = 0;
    for (uint32_t s = 0; s < nw; s++) {
        k->start[s] = next[s] = (uint16_t)sum;
        sum += count[s];
    }
    k->start[nw] = (uint16_t)sum;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t j = next[k->shard[i]]++;
        k->fr[j] = in[i];
        k->at[j] = (uint16_t)i;
        k->pos[i] = j;
    }
    k->n = n;
    k->steady = steady;
    k->left = nw;
    return ok;
}

// thr_wait: pthread_cond_wait(cv, &ctx->mu), counted and timed as `kind` (0: input, 1: room) for
// TLSDIAG_THREAD_STATS.
static void thr_wait(thr_worker *w, pthread_cond_t *cv, int kind) {
    thr_ctx *c = w->ctx;
    int64_t t0 = c->cpu_stats ? thr_mono_ns() : 0;
    pthread_cond_wait(cv, &c->mu);
    if (c->cpu_stats) {
        w->waits[kind]++;
        w->wait_ns[kind] += thr_mono_ns() - t0;
    }
}

// thr_prefetch_frame: the first two cache lines of a frame (its headers, the TLS record's).
static inline void thr_prefetch_frame(const dissect_frame *f) {
    __builtin_prefetch(f->data);
    if (f->caplen > 64) {
        __builtin_prefetch(f->data + 64);
    }
}

// prefetch_chunk: the lines of chunk k that worker `me` will read (its frames' entries, their
// input positions, the clock after each frame), asked for a chunk ahead. They were written on the
// reading worker's core: read as they come, each line was a transfer the worker waited for
// (perf: the loads of the next entry and of a run's last clock were a third of the worker loop).
static inline void prefetch_lines(const void *from, const void *to) {
    for (const char *p = from; p < (const char *)to; p += 64) {
        __builtin_prefetch(p);
    }
}

static inline void prefetch_chunk(const thr_chunk *k, uint32_t me) {
    prefetch_lines(&k->fr[k->start[me]], &k->fr[k->start[me + 1]]);
    prefetch_lines(&k->at[k->start[me]], &k->at[k->start[me + 1]]);
    prefetch_lines(&k->clock_ns[0], &k->clock_ns[k->n]);
}

// pass_others (a steady chunk): frames [from, to) of k are other shards'. When nothing of this
// worker goes idle by the clock after the last of them, its clock moves there in one step;
// otherwise frame by frame, so that each expiry is reported at its frame. Stepping through every
// frame cost each worker a mispredicted branch and a call per frame of the input (two workers:
// half the frames are the other's, in random order).
static inline void pass_others(thr_worker *w, const thr_chunk *k, uint32_t from, uint32_t to) {
    int64_t last = k->clock_ns[to - 1];
    if (dissect_clock_pass(w->d, last)) {
        return;
    }
    for (uint32_t i = from; i < to; i++) {
        const dissect_frame *o = &k->fr[k->pos[i]];
        w->emit = o->frame_no;  // an idle connection reported now belongs here
        dissect_clock_only(w->d, o->ts_ns);
    }
}

// pass_run (a steady chunk): frames [from, to) of k are other shards' (none when from == to:
// the store below then writes the clock the dissector already has, so the caller needs no branch
// on whether a run came first). While the run's last clock is by *deadline (dissect_idle_deadline:
// nothing of this worker goes idle by then) the clock moves there inline; otherwise pass_others,
// and the deadline is asked again.
static inline void pass_run(thr_worker *w, const thr_chunk *k, dissect_clock *clk,
                            int64_t *deadline, uint32_t from, uint32_t to) {
    int64_t last = k->clock_ns[to - 1];
    if (last <= *deadline) {
        assert(clk->set && !clk->jump_pending && last >= clk->now_ns);
        clk->now_ns = last;
        return;
    }
    pass_others(w, k, from, to);
    *deadline = dissect_idle_deadline(w->d);
}

// worker_pass_main (one-pass mode): the input is read once, a chunk of frames at a time, by
// whichever worker has fewer than THR_LOOKAHEAD chunks ahead of it (the one in front: reading
// slows it down, so the role moves between the workers and the work evens out). Every worker
// goes through every chunk in order: it dissects its shard's frames and only moves its clock for
// the others.
static void *worker_pass_main(void *arg) {
    thr_worker *w = arg;
    thr_ctx *c = w->ctx;
    uint32_t last_frame = 0;
    thr_item *ret = NULL;  // merged items taken back under the lock, recycled outside it
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
                uint64_t seq = c->indexed;
                pthread_mutex_unlock(&c->mu);
                thr_chunk *k = &c->ring[seq % THR_CHUNKS];
                bool read_ok = read_chunk(c, k);
                uint64_t bytes = cap_bytes_read(c->cr);
                pthread_mutex_lock(&c->mu);
                c->oom |= !read_ok;
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
            thr_wait(w, &c->cv_work, 0);
        }
        if (!have) {
            break;  // every chunk done, or stopped
        }
        thr_chunk *k = &c->ring[w->next % THR_CHUNKS];
        const thr_chunk *after =
            w->next + 1 < c->indexed ? &c->ring[(w->next + 1) % THR_CHUNKS] : NULL;
        pthread_mutex_unlock(&c->mu);
        if (after != NULL) {
            prefetch_chunk(after, w->idx);
        }
        thr_recycle_items(w, ret);
        ret = NULL;
        const uint32_t n = k->n, me = w->idx;
        const dissect_frame *own = &k->fr[k->start[me]], *own_end = &k->fr[k->start[me + 1]];
        // This shard's frames' first bytes were last read on the reading worker's core (or not
        // at all): asked for THR_OWN_PREFETCH frames ahead.
        const dissect_frame *pf = own;
        for (; pf < own_end && pf < own + THR_OWN_PREFETCH; pf++) {
            thr_prefetch_frame(pf);
        }
        if (k->steady) {
            // Own frames only; the others' in runs between them (pass_run). The deadline is
            // asked once a chunk, after a run past it, and after each own frame while nothing
            // was held (a first connection lowers it from INT64_MAX).
            const uint16_t *at = &k->at[k->start[me]];
            dissect_clock *clk = dissect_clock_of(w->d);
            int64_t deadline = dissect_idle_deadline(w->d);
            uint32_t from = 0;
            for (; own < own_end; own++, at++) {
                uint32_t i = *at;
                if (i > 0) {
                    pass_run(w, k, clk, &deadline, from, i);
                }
                if (pf < own_end) {
                    thr_prefetch_frame(pf++);
                }
                thr_feed_own(w, own);
                if (deadline == INT64_MAX) {
                    deadline = dissect_idle_deadline(w->d);
                }
                from = i + 1;
            }
            if (n > from) {
                pass_run(w, k, clk, &deadline, from, n);
            }
        } else {
            for (uint32_t i = 0; i < n; i++) {
                if (k->shard[i] == me) {
                    if (pf < own_end) {
                        thr_prefetch_frame(pf++);
                    }
                    thr_feed_own(w, own++);
                } else {
                    const dissect_frame *o = &k->fr[k->pos[i]];
                    w->emit = o->frame_no;  // an idle connection reported now belongs here
                    dissect_clock_only(w->d, o->ts_ns);
                }
            }
        }
        if (k->n) {
            last_frame = k->fr[k->pos[k->n - 1]].frame_no;
        }
        bool last = k->last;
        pthread_mutex_lock(&c->mu);
        w->next++;
        if (--k->left == 0) {
            bool room = c->indexed - c->freed == THR_CHUNKS;
            while (c->freed < c->indexed && c->ring[c->freed % THR_CHUNKS].left == 0) {
                c->freed++;
            }
            if (room) {
                pthread_cond_broadcast(&c->cv_work);  // a worker may read on
            }
        }
        if (last) {
            break;
        }
        thr_publish(w, last_frame, false);
        thr_merge_turn(c);
        while (w->npending >= THR_MAX_PENDING && !c->stop) {
            thr_wait(w, &c->cv_room, 1);  // the others are behind: they merge
            thr_merge_turn(c);
        }
        // Merged items go back to this worker's spares once it holds its next chunk: one hold of
        // the lock a chunk, not two.
        ret = w->ret_head;
        w->ret_head = NULL;
    }
    bool stop = c->stop;
    pthread_mutex_unlock(&c->mu);
    thr_recycle_items(w, ret);  // (the loop ended holding the lock)
    w->emit = THR_EMIT_END;
    if (!stop) {
        thr_finish(w, last_frame);
    }
    pthread_mutex_lock(&c->mu);
    thr_publish(w, last_frame, true);
    thr_merge_turn(c);
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

// thr_run_one_pass: the workers read the one input in turns (worker_pass_main); this thread
// merges. false before anything was read when the ring cannot be allocated.
bool thr_run_one_pass(thr_ctx *c, cap_reader *cr, pipeline_result *out) {
    c->cr = cr;
    c->ring = calloc(THR_CHUNKS, sizeof *c->ring);
    bool ok = c->ring != NULL;
    for (uint32_t i = 0; ok && i < THR_CHUNKS; i++) {
        c->ring[i].cap = THR_CHUNK_BYTES + THR_READ_BATCH * 2048;  // a chunk of common frames
        c->ring[i].bytes = malloc(c->ring[i].cap);
        ok = c->ring[i].bytes != NULL;
    }
    if (!ok || !thr_start_workers(c, worker_pass_main)) {
        return false;  // nothing was read: the caller reads the input with one thread
    }
    for (uint32_t i = 0; i < c->n; i++) {
        pthread_join(c->w[i].tid, NULL);
        thr_sum_stats(&out->stats, &c->w[i].stats);
    }
    pthread_mutex_lock(&c->mu);
    thr_merge_ready(c);  // every worker is done: the rest is ready
    pthread_mutex_unlock(&c->mu);
    out->oom = c->oom;
    return true;
}
