// threads.c — `--threads N` (pipeline_run): N dissect+analyze workers, one ordered merge. This
// file is the driver: it builds the workers (a dissector and an analyzer each) and picks the way
// the input reaches them; the parts are small files of their own, and thr.h states which lock
// guards what.
//
//   selfread.c  the workers read the input themselves: one-pass (one input, read once in chunks
//               by the worker in front) or shared-read (several files, a reader each)
//   workq.c     the workers (dissect + analyze a shard), and the bounded queue that feeds them
//               when only the calling thread can read (several inputs, one of them stdin or a pipe)
//   merge.c     the ordered merge: the one-thread order restored, conn_ids renumbered
//
// A connection lives on one worker (its 5-tuple hash modulo N); every worker also sees the time
// of every frame, so idle connections are reported at the frame where one thread reports them.
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "thr.h"

// thr_stopping: the sinks asked the run to stop (their output failed).
bool thr_stopping(const pipeline_sinks *s) {
    return s->stop != NULL && s->stop(s->user);
}

// thr_progress: the source's progress callback, if any (lock not held).
void thr_progress(const thr_ctx *c, uint64_t bytes_read, uint64_t bytes_total,
                  uint64_t handshakes) {
    if (c->src->on_progress != NULL) {
        c->src->on_progress(c->sinks->user, bytes_read, bytes_total, handshakes);
    }
}

void thr_sum_stats(dissect_stats *s, const dissect_stats *w) {
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

void thr_join(thr_ctx *c, pipeline_result *out) {
    for (uint32_t i = 0; i < c->n; i++) {
        pthread_join(c->w[i].tid, NULL);
        thr_sum_stats(&out->stats, dissect_get_stats(c->w[i].d));
    }
}

static void ctx_free(thr_ctx *c) {
    for (uint32_t i = 0; i < c->n; i++) {
        thr_worker *w = &c->w[i];
        thr_batch_free(w->cur);
        thr_batch_free(w->endb);
        for (thr_batch *b = w->in_head; b;) {
            thr_batch *next = b->next;
            thr_batch_free(b);
            b = next;
        }
        thr_free_items(c, w->out_head);
        thr_free_items(c, w->ret_head);
        thr_free_items(c, w->spare);
        if (c->sinks->render != NULL) {
            c->sinks->render->renderer_free(w->renderer);
        }
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
        thr_batch_free(b);
        b = next;
    }
    free(c->w);
    for (uint32_t i = 0; c->ring != NULL && i < THR_CHUNKS; i++) {
        free(c->ring[i].bytes);
    }
    free(c->ring);
    analyzer_shared_free(c->shared);
    pthread_cond_destroy(&c->cv_chains);
    pthread_mutex_destroy(&c->chains_mu);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv_work);
    pthread_cond_destroy(&c->cv_main);
    pthread_cond_destroy(&c->cv_room);
}

// print_cpu_stats (TLSDIAG_THREAD_STATS): where the CPU time went, on stderr, after the run.
// The merge (reporting, in one thread's order) runs in whichever thread holds the role: its
// time is counted inside the threads' and is the part no second thread can share.
static void print_cpu_stats(const thr_ctx *c) {
    int64_t calling = thr_cpu_ns(), all = calling;
    fprintf(stderr, "tlsdiag: --threads %u CPU ms: calling thread %.1f (start-up included);", c->n,
            calling / 1e6);
    for (uint32_t i = 0; i < c->n; i++) {
        fprintf(stderr, " worker %u %.1f;", i, c->w[i].cpu_ns / 1e6);
        all += c->w[i].cpu_ns;
    }
    fprintf(stderr, " merging (serial) %.1f = %.1f %% of %.1f\n", c->merge_cpu_ns / 1e6,
            all > 0 ? 100.0 * (double)c->merge_cpu_ns / (double)all : 0.0, all / 1e6);
    // What the shared chain results saved: each reuse is a chain one worker did not verify again.
    analyzer_shared_counts k;
    analyzer_shared_counts_get(c->shared, &k);
    fprintf(stderr,
            "tlsdiag: --threads %u chain results: %llu verified, %llu reused, %llu waited for\n",
            c->n, (unsigned long long)k.verified, (unsigned long long)k.answered,
            (unsigned long long)k.waited);
    // Time a worker slept, not working: for input (a chunk being read by another, or the ring
    // full) and for room (its verdicts wait for a worker behind it to reach them).
    fprintf(stderr, "tlsdiag: --threads %u waits (one-pass mode), count/ms:", c->n);
    for (uint32_t i = 0; i < c->n; i++) {
        const thr_worker *w = &c->w[i];
        fprintf(stderr, " worker %u input %u/%.1f room %u/%.1f;", i, w->waits[0],
                w->wait_ns[0] / 1e6, w->waits[1], w->wait_ns[1] / 1e6);
    }
    fputc('\n', stderr);
}

// The lock of the workers' shared chain results (analyzer_lock), and its condition variable:
// a worker that misses a chain another is verifying waits for that result.
static void chains_lock(void *ctx) {
    pthread_mutex_lock(&((thr_ctx *)ctx)->chains_mu);
}

static void chains_unlock(void *ctx) {
    pthread_mutex_unlock(&((thr_ctx *)ctx)->chains_mu);
}

static void chains_wait(void *ctx) {
    thr_ctx *c = ctx;
    pthread_cond_wait(&c->cv_chains, &c->chains_mu);
}

static void chains_wake(void *ctx) {
    pthread_cond_broadcast(&((thr_ctx *)ctx)->cv_chains);
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

// thr_start_workers starts fn on every worker and lets them go (false, with the started ones
// stopped and joined, when one could not start).
int64_t thr_cpu_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
        return 0;
    }
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t thr_mono_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void *thr_worker_entry(void *arg) {
    thr_worker *w = arg;
    void *r = w->main(arg);
    w->cpu_ns = thr_cpu_ns();
    return r;
}

bool thr_start_workers(thr_ctx *c, void *(*fn)(void *)) {
    bool ok = true;
    for (uint32_t i = 0; i < c->n && ok; i++) {
        c->w[i].main = fn;
        ok = pthread_create(&c->w[i].tid, NULL, thr_worker_entry, &c->w[i]) == 0;
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
    c.main_an = main_an;
    c.out = out;
    dissect_clock_init(&c.clk, dc->idle_timeout_s);
    c.w = aligned_alloc(128, c.n * sizeof *c.w);  // sizeof is a multiple of the alignment
    if (c.w) {
        memset(c.w, 0, c.n * sizeof *c.w);
    }
    if (!c.w) {
        return false;
    }
    // ctx->mu is held for a few µs at a time (a publication, a batch of the merge), by workers
    // on other cores: glibc's adaptive mutex spins a little before it sleeps in the kernel,
    // where an uncontended-by-then lock cost a futex wait and wake each (perf: __lll_lock_wait).
    pthread_mutexattr_t mu_attr;
    pthread_mutexattr_init(&mu_attr);
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    (void)pthread_mutexattr_settype(&mu_attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    pthread_mutex_init(&c.mu, &mu_attr);
    pthread_mutexattr_destroy(&mu_attr);
    pthread_mutex_init(&c.chains_mu, NULL);
    pthread_cond_init(&c.cv_chains, NULL);
    c.shared = analyzer_shared_new(
        main_an, &(analyzer_lock){chains_lock, chains_unlock, chains_wait, chains_wake, &c});
    pthread_cond_init(&c.cv_work, NULL);
    pthread_cond_init(&c.cv_main, NULL);
    pthread_cond_init(&c.cv_room, NULL);
    const char *stats = getenv("TLSDIAG_THREAD_STATS");
    c.cpu_stats = stats != NULL && stats[0] != '\0';
    bool ok = c.shared != NULL;
    for (uint32_t i = 0; i < c.n && ok; i++) {
        thr_worker *w = &c.w[i];
        w->ctx = &c;
        w->compact_at = THR_COMPACT_MIN;
        w->idx = i;
        dissect_config wc = *dc;
        wc.on_transcript = thr_worker_transcript;
        wc.user = w;
        char err[512];
        w->an = pipeline_analyzer_new_shared(cfg, c.shared, err, sizeof err);
        w->d = w->an ? dissect_new(&wc) : NULL;
        w->dstats = w->d != NULL ? dissect_get_stats(w->d) : NULL;
        if (w->d != NULL) {
            dissect_prefault(w->d);  // before the workers run (no flush interrupts between them)
        }
        w->endb = calloc(1, sizeof *w->endb);
        ok = w->d != NULL && w->endb != NULL;
        if (ok && sinks->render != NULL) {
            w->renderer = sinks->render->renderer_new(sinks->user);  // NULL: the merge renders
        }
    }
    bool ran = false;
    if (ok && cap_single_input(cr)) {
        ran = thr_run_one_pass(&c, cr, out);
    } else if (ok && all_regular_files(o)) {
        ran = thr_run_shared_read(&c, o, cr, out);
    } else if (ok) {
        ran = thr_run_queued(&c, cfg, cr, out);
    }
    if (ran && c.cpu_stats) {
        print_cpu_stats(&c);
    }
    if (ran) {
        analyzer_shared_counts k;
        analyzer_shared_counts_get(c.shared, &k);
        out->engaged.chains_dropped = k.dropped;  // (the workers' analyzers are freed by now)
    }
    ctx_free(&c);
    if (!ran) {
        memset(out, 0, sizeof *out);  // nothing was read: the caller runs one thread
    }
    return ran;
}
