// merge.c — `--threads N`: the ordered merge. Workers publish their verdicts (thr_publish);
// the merge reports them in the order one thread would have, conn_ids renumbered.
//
// The next verdict is the first (by emit, then as one thread orders one frame's verdicts:
// item_before) among the workers' first pending verdicts, once every worker without a pending
// verdict has a mark ≥ its emit (nothing smaller can still come). One thread reports in emit
// order too, so the order is the one-thread order. The global conn_id of a connection is the
// number of flows any worker created before its first frame (one thread numbers flows in creation
// order); the creation frames are kept per worker, 4 bytes per connection, and those below the
// first frame of every verdict still to come are dropped (compact_created): each worker's bound
// is its oldest connection not yet reported, so the arrays follow the open connections, not the
// length of the capture.
//
// What the merge does per verdict is kept small, since no second thread can share it: number it,
// count it, analyzer_account (the summary and the memo, in output order), and write the bytes the
// worker rendered (sinks->render) — or call on_verdict for a verdict rendered here. Verdicts are
// taken off the workers' lists THR_MERGE_BATCH at a time, the lock held once for the batch.
//
// Who merges: in one-pass mode the workers, in turns (thr_merge_turn); otherwise the calling
// thread (thr_merge_to_end, or workq.c's reader between batches). Everything here runs with
// ctx->mu held, except the sinks, called with it released (thr_merge_ready).
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "thr.h"

bool thr_push_u32(uint32_t **a, size_t *n, size_t *cap, uint32_t v) {
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

// item_release frees what a merged item holds (its verdict and rendered output); an (NULL: none)
// is the analyzer that judged it, in its own thread: it keeps the verdict's memory for reuse.
static void item_release(const thr_ctx *c, thr_item *it, analyzer *an) {
    if (it->rendered != NULL) {
        c->sinks->render->rendered_free(it->rendered);
        it->rendered = NULL;
    }
    if (an != NULL) {
        analyzer_verdict_free(an, it->v);
    } else {
        verdict_free(it->v);
    }
    it->v = NULL;
}

// thr_free_items frees a list of merged items (verdict, rendered output and item).
void thr_free_items(const thr_ctx *c, thr_item *it) {
    while (it) {
        thr_item *next = it->next;
        item_release(c, it, NULL);
        free(it);
        it = next;
    }
}

void thr_recycle_items(thr_worker *w, thr_item *it) {
    while (it) {
        thr_item *next = it->next;
        item_release(w->ctx, it, w->an);
        if (w->nspare < THR_SPARE_ITEMS) {
            it->next = w->spare;
            w->spare = it;
            w->nspare++;
        } else {
            free(it);
        }
        it = next;
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

// thr_publish hands the worker's local verdicts and flow-creation frames to the merge, with its
// mark (ctx->mu held; the worker's own thread).
void thr_publish(thr_worker *w, uint32_t mark, bool last) {
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
        if (!thr_push_u32(&w->created, &w->ncreated, &w->capcreated, w->loc_created[i])) {
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

// next_ready takes the next verdict in the one-thread order off its worker's list, if its place is
// settled, and numbers it (ctx->mu held); NULL when none is.
static thr_item *next_ready(thr_ctx *c, thr_worker **owner, uint64_t *conn_id) {
    thr_worker *best = NULL;
    for (uint32_t i = 0; i < c->n; i++) {
        thr_worker *w = &c->w[i];
        if (w->out_head && (!best || item_before(w->out_head, best->out_head))) {
            best = w;
        }
    }
    if (!best) {
        return NULL;
    }
    thr_item *it = best->out_head;
    for (uint32_t i = 0; i < c->n; i++) {
        const thr_worker *w = &c->w[i];
        if (!w->out_head && !w->done && (it->emit == THR_EMIT_END || w->mark < it->emit)) {
            return NULL;  // w may still produce something that comes first
        }
    }
    assert(it->first_frame >= c->created_floor);
    // Its own worker's count is the rank its dissector gave it (one flow created a frame, at
    // most: the frames of `created`); the others' are searched for.
    assert(it->rank == created_before(best, it->first_frame));
    uint64_t id = it->rank;
    for (uint32_t i = 0; i < c->n; i++) {
        if (&c->w[i] != best) {
            id += created_before(&c->w[i], it->first_frame);
        }
    }
    best->out_head = it->next;
    if (!best->out_head) {
        best->out_tail = NULL;
    }
    if (best->npending-- == THR_MAX_PENDING) {
        pthread_cond_broadcast(&c->cv_room);
    }
    *owner = best;
    *conn_id = id;
    return it;
}

// report_item: the merge's part of one verdict (lock not held): numbered, counted, accounted for
// in one thread's order, and written (its rendered bytes, or by on_verdict).
static void report_item(thr_ctx *c, thr_item *it, uint64_t conn_id) {
    const pipeline_sinks *sinks = c->sinks;
    pipeline_result *out = c->out;
    it->v->conn_id = conn_id;
    out->transcripts++;
    out->verdicts++;
    if (verdict_is_failure(it->v)) {
        out->failed++;
    }
    analyzer_account(c->main_an, it->v);
    if (thr_stopping(sinks)) {
        return;
    }
    if (it->rendered != NULL) {
        sinks->render->on_rendered(sinks->user, it->v, it->rendered);
    } else if (sinks->on_verdict != NULL && sinks->on_verdict(sinks->user, it->v, NULL)) {
        it->v = NULL;  // the sink keeps it (the worker frees NULL)
    }
}

// thr_merge_ready reports every verdict whose place in the order is settled (ctx->mu held; the lock
// is released while reporting). The verdicts are taken THR_MERGE_BATCH at a time, so the lock is
// taken twice per batch, not per verdict.
void thr_merge_ready(thr_ctx *c) {
    for (;;) {
        thr_item *batch[THR_MERGE_BATCH];
        thr_worker *owner[THR_MERGE_BATCH];
        uint64_t id[THR_MERGE_BATCH];
        uint32_t n = 0;
        while (n < THR_MERGE_BATCH && (batch[n] = next_ready(c, &owner[n], &id[n])) != NULL) {
            n++;
        }
        if (n == 0) {
            return;
        }
        pthread_mutex_unlock(&c->mu);
        int64_t t0 = c->cpu_stats ? thr_cpu_ns() : 0;
        for (uint32_t i = 0; i < n; i++) {
            report_item(c, batch[i], id[i]);
        }
        int64_t spent = c->cpu_stats ? thr_cpu_ns() - t0 : 0;
        pthread_mutex_lock(&c->mu);
        c->merge_cpu_ns += spent;
        // Back to their workers, which free them in their own threads: freeing here took the
        // lock of the worker's malloc arena while the worker allocated from it (futex waits).
        for (uint32_t i = 0; i < n; i++) {
            batch[i]->next = owner[i]->ret_head;
            owner[i]->ret_head = batch[i];
        }
        // (and look again: a worker may have published while the lock was released)
    }
}

bool thr_all_merged(const thr_ctx *c) {
    bool all = true;
    for (uint32_t i = 0; i < c->n; i++) {
        all &= c->w[i].done && !c->w[i].out_head;
    }
    return all;
}

// thr_merge_turn (one-pass mode, ctx->mu held): report what is ready now. The workers merge in
// turns: a merging thread of its own had to be woken for every few dozen verdicts, each time
// taking a core from a worker (two context switches).
//
// The rule that keeps the workers from waiting on each other in a cycle: every publication is
// followed by a merge that sees it, before its worker may wait for room (cv_room). A worker that
// finds another one merging cannot merge itself, so it leaves a request (merge_again) and the
// merging worker runs thr_merge_ready once more before it gives up the role, in the same hold of
// the lock in which it clears `merging`. Without it the merging worker could be past its last look
// (reporting progress, lock released) when the other published; both then waited for room with
// nobody left to merge (issue 14, item 9: both workers in cv_room, the caller in pthread_join).
// With it, a worker waits for room only when the last merge stopped at a worker X that has
// nothing pending and a mark below the waiting worker's next verdict; X, behind in the chunks,
// has chunks to dissect without reading or waiting for room, and its next publication merges.
void thr_merge_turn(thr_ctx *c) {
    if (c->merging) {
        c->merge_again = true;  // the merging worker looks again before it lets go
        return;
    }
    c->merging = true;
    do {
        c->merge_again = false;
        thr_merge_ready(c);
        if ((c->oom || thr_stopping(c->sinks)) && !c->stop) {
            c->stop = true;
            pthread_cond_broadcast(&c->cv_room);
            pthread_cond_broadcast(&c->cv_work);
        }
        uint64_t bytes = c->bytes_read, handshakes = c->out->transcripts;
        pthread_mutex_unlock(&c->mu);
        thr_progress(c, bytes, cap_bytes_total(c->cr), handshakes);
        pthread_mutex_lock(&c->mu);
    } while (c->merge_again);
    c->merging = false;
}
