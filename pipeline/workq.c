// workq.c — `--threads N`: the workers, each dissecting and analyzing its shard of the
// connections, and the bounded work queue that feeds them when only one thread can read the input
// (several inputs, one of them stdin or a pipe).
//
// Worker (every mode): thr_feed_own dissects each frame of its shard; each transcript goes
// through the worker's own analyzer (thr_worker_transcript). The verdict is tagged with the frame
// whose processing produced it (`emit`) and the connection's first frame; the frames at which
// this worker created flows are recorded. The worker hands them to the merge (thr_publish, merge.c)
// with its mark = the last frame it has seen.
//
// Queued mode (thr_run_queued): the calling thread reads: cap_next → dissect_frame_flow_hash →
// copy the frame into the batch of worker hash % N (both directions of a connection hash alike,
// so a connection lives on one worker), and the frame's number and time into every other
// worker's batch (its capture clock: idle connections are reported at the same frame as with one
// thread). A batch is handed over when full, and every THR_TICK_FRAMES frames all batches are
// handed over (empty ones too) so that every worker's mark advances. Queues are bounded
// (THR_QUEUE_DEPTH batches per worker): the reader waits, memory does not grow; while it waits
// it merges (thr_merge_ready).
#include <stdlib.h>
#include <string.h>

#include "thr.h"

static void finish_flush(thr_worker *w);

// on_transcript (worker thread): analyze and keep the verdict until the batch is published.
void thr_worker_transcript(void *user, const tls_transcript *t) {
    thr_worker *w = user;
    if (w->oom) {
        return;
    }
    thr_item *it = w->spare;
    if (it) {
        w->spare = it->next;
        w->nspare--;
    } else {
        it = malloc(sizeof *it);
    }
    verdict *v = it ? analyzer_judge(w->an, t) : NULL;
    if (!v) {
        free(it);
        w->oom = true;
        return;
    }
    // The output is rendered here, in parallel, unless the merge's analyzer_account may still
    // change the verdict (then the merge renders it).
    const pipeline_render *rd = w->ctx->sinks->render;
    void *rendered =
        w->renderer != NULL && !analyzer_account_may_change(v) ? rd->render(w->renderer, v) : NULL;
    *it = (thr_item){NULL, v, rendered, w->emit, t->first_frame, t->last_frame, t->conn_id};
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
    thr_publish(w, w->finish_mark, false);
    if (one_pass) {
        thr_merge_turn(c);
    } else if (c->main_waiting) {
        pthread_cond_signal(&c->cv_main);
    }
    while (w->npending >= THR_MAX_PENDING && !c->stop) {
        pthread_cond_wait(&c->cv_room, &c->mu);
        if (one_pass) {
            thr_merge_turn(c);
        }
    }
    thr_item *ret = w->ret_head;
    w->ret_head = NULL;
    pthread_mutex_unlock(&c->mu);
    thr_recycle_items(w, ret);
}

// thr_finish: dissect_finish with the verdicts published as they come (finish_flush); mark is the
// last frame this worker has seen.
void thr_finish(thr_worker *w, uint32_t mark) {
    w->finish_mark = mark;
    w->finishing = true;
    dissect_finish(w->d);
    w->finishing = false;
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

void thr_batch_free(thr_batch *b) {
    if (b) {
        free(b->buf);
        free(b);
    }
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
            thr_feed_own(w, &b->fr[i]);
        }
        for (; k < b->nclock; k++) {
            w->emit = b->clock[k].frame_no;
            dissect_clock_only(w->d, b->clock[k].ts_ns);
        }
        bool last = b->last;
        if (last) {
            w->emit = THR_EMIT_END;
            thr_finish(w, b->upto);
        }

        pthread_mutex_lock(&c->mu);
        thr_publish(w, b->upto, last);
        b->next = c->pool;
        c->pool = b;
        thr_item *ret = w->ret_head;
        w->ret_head = NULL;
        if (c->main_waiting || last) {
            pthread_cond_signal(&c->cv_main);
        }
        pthread_mutex_unlock(&c->mu);
        thr_recycle_items(w, ret);
        if (last) {
            return NULL;
        }
    }
}

// send hands worker i its current batch (waiting for queue space, merging meanwhile).
static bool send_batch(thr_ctx *c, uint32_t i, uint32_t upto, bool last) {
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
    thr_merge_ready(c);
    while (w->in_depth >= THR_QUEUE_DEPTH) {
        c->main_waiting = true;
        pthread_cond_wait(&c->cv_main, &c->mu);
        c->main_waiting = false;
        thr_merge_ready(c);
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
static bool add_frame(thr_ctx *c, uint32_t i, const dissect_frame *fr) {
    thr_worker *w = &c->w[i];
    if (w->cur && (w->cur->n == THR_BATCH_FRAMES || w->cur->cap - w->cur->used < fr->caplen)) {
        if (!send_batch(c, i, fr->frame_no - 1, false)) {
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
static bool add_clock(thr_ctx *c, uint32_t i, const dissect_frame *fr) {
    thr_worker *w = &c->w[i];
    // (the reader hands every batch over each THR_TICK_FRAMES frames: this is a backstop)
    if (w->cur && w->cur->nclock == THR_TICK_FRAMES && !send_batch(c, i, fr->frame_no - 1, false)) {
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

// thr_run_queued: start the workers on their queues and read cr on this thread (see the top);
// false, before anything was read, when the workers could not be started.
bool thr_run_queued(thr_ctx *c, const pipeline_config *cfg, cap_reader *cr, pipeline_result *out) {
    bool ok = true;
    for (uint32_t i = 0; i < c->n && ok; i++) {
        c->w[i].main = worker_main;
        ok = pthread_create(&c->w[i].tid, NULL, thr_worker_entry, &c->w[i]) == 0;
        c->w[i].started = ok;
    }
    if (!ok) {
        // Stop the workers that did start: the empty end batch each (it cannot fail).
        for (uint32_t i = 0; i < c->n; i++) {
            if (c->w[i].started && send_batch(c, i, 0, true)) {
                pthread_join(c->w[i].tid, NULL);
            }
        }
        return false;  // nothing was read (the driver drops what the workers reported)
    }

    dissect_frame fr;
    uint32_t last_frame = 0, since_tick = 0;
    bool oom = false;
    int r;
    while (!oom && !c->oom && !thr_stopping(c->sinks) &&
           (cfg->count == 0 || out->transcripts < cfg->count) && (r = cap_next(cr, &fr)) != 0) {
        if (r == 1) {
            uint32_t h = 0;
            uint32_t i = dissect_frame_flow_hash(&fr, &h) ? thr_shard(c, h) : 0;
            oom = !add_frame(c, i, &fr);
            for (uint32_t j = 0; j < c->n && !oom; j++) {
                oom = j != i && !add_clock(c, j, &fr);
            }
            last_frame = fr.frame_no;
            since_tick++;
        }
        if (r == 2 || since_tick >= THR_TICK_FRAMES) {
            since_tick = 0;
            for (uint32_t i = 0; i < c->n && !oom; i++) {
                oom = !send_batch(c, i, last_frame, false);
            }
        }
        thr_progress(c, cap_bytes_read(cr), cap_bytes_total(cr), out->transcripts);
    }
    for (uint32_t i = 0; i < c->n; i++) {
        // With no batch being filled this sends the preallocated end batch: it cannot fail.
        if (!send_batch(c, i, last_frame, true)) {
            oom = true;
        }
    }
    pthread_mutex_lock(&c->mu);
    for (;;) {
        thr_merge_ready(c);
        if (thr_all_merged(c)) {
            break;
        }
        c->main_waiting = true;
        pthread_cond_wait(&c->cv_main, &c->mu);
        c->main_waiting = false;
    }
    pthread_mutex_unlock(&c->mu);
    thr_join(c, out);
    out->oom = oom || c->oom;
    return true;
}
