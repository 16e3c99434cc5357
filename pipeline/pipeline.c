// pipeline.c — the one loop: frames into the dissector, transcripts to the analyzer, results to
// the sinks; and the one place dissect_config and analyzer_config are filled from settings.
#include "feed.h"
#include "threads.h"

#include <stdlib.h>
#include <string.h>

enum { PIPELINE_PROGRESS_FRAMES = 64 };

struct pipeline {
    pipeline_config cfg;
    analyzer *an;  // borrowed; NULL: transcripts only
    pipeline_sinks sinks;
    dissect_config dc;
    dissect *d;
    pipeline_result res;
};

void pipeline_config_default(pipeline_config *c) {
    memset(c, 0, sizeof *c);
}

analyzer *pipeline_analyzer_new(const pipeline_config *c, char *err, size_t errlen) {
    return pipeline_analyzer_new_shared(c, NULL, err, errlen);
}

analyzer *pipeline_analyzer_new_shared(const pipeline_config *c, analyzer_shared *shared, char *err,
                                       size_t errlen) {
    analyzer_config ac;
    analyzer_config_default(&ac);
    if (c->profile != NULL) {
        ac.profile = c->profile;
    }
    ac.ca_file = c->ca_file;
    ac.ca_path = c->ca_path;
    ac.ranges_file = c->ranges_file;
    ac.quiet_successes = c->quiet_successes;
    if (c->now != 0) {
        ac.now = c->now;
    }
    ac.shared = shared;
    ac.judge_only = shared != NULL;  // a worker's: the merge's analyzer accounts
    return analyzer_new(&ac, err, errlen);
}

void pipeline_dissect_config(const pipeline_config *c, dissect_config *out) {
    dissect_config_default(out);
    if (c->limits.max_flows != 0) {
        out->max_flows = c->limits.max_flows;
    }
    if (c->limits.max_flow_bytes != 0) {
        out->max_flow_bytes =
            c->limits.max_flow_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)c->limits.max_flow_bytes;
    }
    if (c->limits.max_total_bytes != 0) {
        out->max_total_bytes = c->limits.max_total_bytes;
    }
}

static bool stopping(const pipeline *p) {
    return p->res.oom || (p->sinks.stop != NULL && p->sinks.stop(p->sinks.user));
}

// note_engaged counts the bounds a transcript shows were applied to its connection.
static void note_engaged(pipeline_engaged *e, const tls_transcript *t) {
    e->evicted += t->quality.evicted && !t->quality.idle;
    e->idle += t->quality.idle;
    e->overlaps += t->quality.overlap_conflicts > 0;
    e->many_records +=
        t->records[0] > PIPELINE_MANY_RECORDS || t->records[1] > PIPELINE_MANY_RECORDS;
}

// on_transcript is dissect's callback: t is valid only during the call.
static void on_transcript(void *user, const tls_transcript *t) {
    pipeline *p = user;
    p->res.transcripts++;
    note_engaged(&p->res.engaged, t);
    if (p->cfg.count != 0 && p->res.transcripts > p->cfg.count) {
        return;  // -c N: the first N transcripts only
    }
    if (stopping(p)) {
        return;  // the run is stopping; the caller reports why once at the end
    }
    if (p->sinks.on_transcript != NULL) {
        p->sinks.on_transcript(p->sinks.user, t);
    }
    if (p->an == NULL) {
        return;
    }
    verdict *v = analyzer_run(p->an, t);
    if (v == NULL) {
        p->res.oom = true;
        return;
    }
    p->res.verdicts++;
    p->res.failed += verdict_is_failure(v);
    if (p->sinks.on_verdict == NULL || !p->sinks.on_verdict(p->sinks.user, v, t)) {
        verdict_free(v);
    }
}

static void on_record(void *user, uint64_t conn_id, uint8_t dir, uint64_t stream_off, uint32_t len,
                      uint8_t content_type, bool app_data) {
    pipeline *p = user;
    p->sinks.on_record(p->sinks.user, conn_id, dir, stream_off, len, content_type, app_data);
}

pipeline *pipeline_new(const pipeline_config *c, analyzer *an, const pipeline_sinks *sinks) {
    pipeline *p = calloc(1, sizeof *p);
    if (p == NULL) {
        return NULL;
    }
    p->cfg = *c;
    p->an = an;
    p->sinks = *sinks;
    pipeline_dissect_config(c, &p->dc);
    p->dc.on_transcript = on_transcript;
    p->dc.on_record = sinks->on_record != NULL ? on_record : NULL;
    p->dc.user = p;
    p->d = dissect_new(&p->dc);
    if (p->d == NULL) {
        free(p);
        return NULL;
    }
    return p;
}

bool pipeline_count_left(const pipeline *p) {
    return p->cfg.count == 0 || p->res.transcripts < p->cfg.count;
}

bool pipeline_more(const pipeline *p) {
    return !stopping(p) && pipeline_count_left(p);
}

// feed_frame is pipeline_feed without the question whether to go on.
static void feed_frame(pipeline *p, const dissect_frame *fr) {
    if (p->sinks.on_frame != NULL) {
        p->sinks.on_frame(p->sinks.user, fr);
    }
    if (p->sinks.on_frame_done != NULL) {
        dissect_frame_info info;
        dissect_feed_ex(p->d, fr, &info);
        p->sinks.on_frame_done(p->sinks.user, fr, &info);
    } else {
        dissect_feed(p->d, fr);
    }
}

bool pipeline_feed(pipeline *p, const dissect_frame *fr) {
    feed_frame(p, fr);
    return pipeline_more(p);
}

pipeline_result *pipeline_now(pipeline *p) {
    p->res.stats = *dissect_get_stats(p->d);
    return &p->res;
}

dissect *pipeline_dissector(pipeline *p) {
    return p->d;
}

const pipeline_result *pipeline_finish(pipeline *p, bool flush) {
    if (flush) {
        dissect_finish(p->d);
    }
    return pipeline_now(p);
}

void pipeline_free(pipeline *p) {
    if (p == NULL) {
        return;
    }
    dissect_free(p->d);
    free(p);
}

bool pipeline_run(const pipeline_config *c, analyzer *an, const pipeline_source *src,
                  const pipeline_sinks *sinks, pipeline_result *out) {
    if (c->threads > 1 && an != NULL && c->count == 0 && src->reader != NULL) {
        dissect_config dc;
        pipeline_dissect_config(c, &dc);
        if (pipeline_threads_run(c, src, &dc, an, sinks, out)) {
            return true;
        }
        pipeline_threads_fallback_print(c->threads);
    }
    pipeline *p = pipeline_new(c, an, sinks);
    if (p == NULL) {
        memset(out, 0, sizeof *out);
        out->oom = true;
        return false;
    }
    bool more = pipeline_more(p), flush = true;
    if (src->live != NULL) {
        flush = pipeline_live_read(p, src->live, sinks->user);
    } else if (src->reader != NULL) {
        // Progress once per PIPELINE_PROGRESS_FRAMES frames, not per frame (the byte count sums
        // every file's offset: ~50 instructions a frame with the callback). Whether to go on is
        // asked again only after a frame that reached a sink (a transcript, or a frame or record
        // sink is installed): only then can -c N, out-of-memory or sinks.stop change their
        // answer (~35 instructions a frame through two callbacks). Frames come in batches read
        // in place (cap_next_batch: ~50 instructions a frame less than cap_next); a batch ends
        // where progress is due, so the byte count it shows is the one frame by frame would.
        bool quiet =
            sinks->on_frame == NULL && sinks->on_frame_done == NULL && sinks->on_record == NULL;
        dissect_frame batch[PIPELINE_PROGRESS_FRAMES];
        size_t since = 0, n;
        while (more &&
               (n = cap_next_batch(src->reader, batch, PIPELINE_PROGRESS_FRAMES - since)) > 0) {
            for (size_t i = 0, k; more && i < n; i += k, since += k) {
                uint64_t before = p->res.transcripts;
                if (quiet) {
                    k = dissect_feed_frames(p->d, &batch[i], n - i);  // up to a transcript
                } else {
                    feed_frame(p, &batch[i]);
                    k = 1;
                }
                if (!quiet || p->res.transcripts != before) {
                    more = pipeline_more(p);
                }
            }
            if (since == PIPELINE_PROGRESS_FRAMES) {
                since = 0;
                if (src->on_progress != NULL) {
                    src->on_progress(sinks->user, cap_bytes_read(src->reader),
                                     cap_bytes_total(src->reader), p->res.transcripts);
                }
            }
        }
    } else {
        for (size_t i = 0; more && i < src->num_frames; i++) {
            more = pipeline_feed(p, &src->frames[i]);
        }
    }
    *out = *pipeline_finish(p, flush);
    if (an != NULL) {
        out->engaged.chains_dropped = analyzer_chain_results_dropped(an);
    }
    pipeline_free(p);
    return true;
}
