// run.c — the pipeline of `dissect` and `analyze`: capture → dissect → (analyze) → report.
//
//   cap_open → loop cap_next → dissect_feed → on_transcript → analyzer_run → report_verdict
//   → verdict_free; dissect_finish at the end; input errors; then the summary.
//
// Exit status (report.h): write errors and out-of-memory (4) win over input errors (3), which
// win over failed handshakes (1). Results read before damage are always printed, and a JSON
// stream always ends with its summary (analyze), so scripts never see half a document.
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "capture.h"
#include "cli.h"
#include "doctor.h"
#include "dissect.h"
#include "pipeline.h"
#include "probe.h"
#include "report.h"

typedef struct run_ctx {
    const cli_options *opt;
    report *rep;
    analyzer *an;  // NULL for `dissect`
    uint64_t transcripts;
    uint64_t failed;
    bool oom;
    report_progress progress;  // erased before each result so the two never share a line
    struct probe_origin *po;   // --probe-origin (probe/origin.c), NULL otherwise
    doctor_report *doctor;     // --doctor (doctor/print.c), NULL otherwise
    pipeline_engaged limits;   // bounds that engaged (stated on stderr at the end)
    dissect_undecoded undecoded[DISSECT_UNDECODED_COUNT];  // frames not decoded, for the summary
} run_ctx;

// The sinks of `dissect` (on_transcript) and `analyze` (on_verdict).
static bool stop(void *user) {
    const run_ctx *c = user;
    return report_write_failed(c->rep);
}

static void on_transcript(void *user, const tls_transcript *t) {
    run_ctx *c = user;
    report_progress_end(&c->progress);
    if (c->an == NULL) {
        (void)report_transcript(c->rep, t);
    }
}

static bool on_verdict(void *user, verdict *v, const tls_transcript *t) {
    run_ctx *c = user;
    (void)t;
    report_progress_end(&c->progress);  // (--threads: no on_transcript before)
    probe_origin_attach(c->po, v);
    doctor_attach(c->doctor, v);
    if (c->po != NULL) {
        analyzer_summary_refresh(c->an, v);  // the summary's fix names what the probe found
    }
    (void)report_verdict(c->rep, v);
    return false;
}

// --threads: each worker renders its own verdicts (report_render), the merge writes the bytes.
// --doctor changes a verdict in on_verdict: the merge renders them all then.
static void *renderer_new(void *user) {
    const run_ctx *c = user;
    return c->doctor == NULL ? report_renderer_new(c->rep) : NULL;
}
static void renderer_free(void *m) {
    report_renderer_free(m);
}
static void *render(void *m, verdict *v) {
    return report_render(m, v);
}
static void rendered_free(void *b) {
    report_rendered_free(b);
}
static void on_rendered(void *user, const verdict *v, const void *b) {
    run_ctx *c = user;
    report_progress_end(&c->progress);
    (void)report_write_rendered(c->rep, b, v->conn_id);
}
static const pipeline_render render_ops = {renderer_new, renderer_free, render, rendered_free,
                                           on_rendered};

static void on_progress(void *user, uint64_t bytes_read, uint64_t bytes_total,
                        uint64_t transcripts) {
    run_ctx *c = user;
    report_progress_tick(&c->progress, bytes_read, bytes_total, transcripts);
}

void cli_pipeline_config(const cli_options *o, pipeline_config *pc) {
    pipeline_config_default(pc);
    pc->limits = (pipeline_limits){o->max_flows, o->max_flow_bytes, o->max_total_bytes};
    pc->profile = o->profile;
    pc->ca_file = o->ca_file;
    pc->ca_path = o->ca_path;
    pc->ranges_file = o->ranges_file;
    pc->now = o->now;
    // The default text report prints failures only: succeeded handshakes need no prose.
    pc->quiet_successes = !o->json && o->verbosity < REPORT_VERBOSE && !o->probe_origin;
    pc->count = o->count;
    pc->threads = o->threads;
}

struct probe_origin *cli_probe_origin_new(const pipeline_config *pc, const char *target) {
    char err[512] = "";
    probe_origin *po = probe_origin_new(pc, target, err, sizeof err);
    if (!po) {
        fprintf(stderr, "tlsdiag: %s\n", err[0] ? err : "--probe-origin: cannot start");
    }
    return po;
}

analyzer *cli_analyzer_new(const pipeline_config *pc) {
    char err[512] = "";
    analyzer *a = pipeline_analyzer_new(pc, err, sizeof err);
    if (a == NULL) {
        fprintf(stderr, "tlsdiag: %s\n", err[0] ? err : "cannot load the analyzer");
    }
    return a;
}

// report_input_errors says each damaged file (report_damage).
static void report_input_errors(const cap_reader *cr, report *rep) {
    for (size_t i = 0; i < cap_num_errors(cr); i++) {
        const cap_error *e = cap_get_error(cr, i);
        report_input_error re = {e->file, e->frame, e->offset, e->msg};
        (void)report_damage(rep, &re);
    }
}

// warn_skipped tells why a capture produced nothing, when the reason is in the dissector stats,
// and keeps the undecoded frames for the summary.
static void warn_skipped(run_ctx *c, const dissect_stats *st, const cli_options *o) {
    pipeline_undecoded_print(st);
    memcpy(c->undecoded, st->undecoded, sizeof c->undecoded);
    if (o->verbosity >= 1 && st->frames_truncated > 0) {
        fprintf(stderr, "tlsdiag: %" PRIu64 " frame(s) cut short by the snapshot length\n",
                st->frames_truncated);
    }
}

// run_summary writes the analyze summary (text or JSON), with the input errors it must carry.
static void run_summary(run_ctx *c, const cap_reader *cr, const char *open_error) {
    size_t n = cr ? cap_num_errors(cr) : 0;
    report_input_error *errs = calloc(n + 1, sizeof *errs);
    if (errs == NULL) {
        c->oom = true;
        return;
    }
    size_t k = 0;
    if (open_error != NULL) {
        const char *file = c->opt->num_files == 1 ? c->opt->files[0] : NULL;
        errs[k++] = (report_input_error){file, 0, 0, open_error};
    }
    for (size_t i = 0; i < n; i++) {
        const cap_error *e = cap_get_error(cr, i);
        errs[k++] = (report_input_error){e->file, e->frame, e->offset, e->msg};
    }
    report_run_info info = report_run_info_of(c->an);
    info.files = c->opt->files;
    info.num_files = c->opt->num_files;
    info.num_input_errors = k;
    info.input_errors = errs;
    info.undecoded = c->undecoded;
    (void)report_summary(c->rep, analyzer_summary(c->an), &info);
    free(errs);
}

// finish_output flushes stdout and says once why the output could not be written (a reader
// that closed the pipe early is not an error: see report_flush).
static bool finish_output(run_ctx *c) {
    int saved = 0;
    bool ok = report_flush(c->rep, &saved) != REPORT_OUT_FAILED;
    if (!ok) {
        fprintf(stderr, "tlsdiag: cannot write the results to standard output%s%s\n",
                saved ? ": " : "", saved ? strerror(saved) : "");
    }
    return ok;
}

int cli_run(const cli_options *o) {
    // A closed pipe ends the run quietly with the status found so far, not a death by SIGPIPE.
    signal(SIGPIPE, SIG_IGN);
    // A file or pipe gets the report in 256 KiB writes, not stdio's st_blksize (4 KiB):
    // `analyze --json > FILE` of the 200 MiB benchmark capture made ~25,000 write(2) calls,
    // a quarter of its CPU time. A terminal keeps stdio's line buffering.
    static char outbuf[256 * 1024];
    if (!isatty(STDOUT_FILENO)) {
        (void)setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    }

    run_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.opt = o;
    report_options ro = {
        .format = o->ecs    ? REPORT_ECS
                  : o->json ? REPORT_JSON
                            : REPORT_TEXT,
        .color = cli_use_color(o->json, o->color),
        .verbosity = o->verbosity,
        .out = stdout,
        // conn_id is Wireshark's tcp.stream only when one capture is read whole.
        .stream_is_tcp_stream = o->num_files == 1 && o->filter == NULL,
        .wireshark_commands = o->wireshark,
        .columns = o->verbosity >= REPORT_VERBOSE ? 0 : report_terminal_columns(stdout),
        .files = o->files,
        .num_files = o->num_files,
    };
    ctx.rep = report_new(&ro);
    if (ctx.rep == NULL) {
        fputs("tlsdiag: out of memory\n", stderr);
        return TLSDIAG_EXIT_INTERNAL;
    }
    report_set_file(ctx.rep, o->num_files == 1 ? o->files[0] : NULL);
    if (o->mode == CLI_ANALYZE) {
        pipeline_config poc;
        cli_pipeline_config(o, &poc);
        ctx.an = cli_analyzer_new(&poc);
        if (ctx.an == NULL) {
            report_free(ctx.rep);
            return TLSDIAG_EXIT_INPUT;
        }
        if (o->probe_origin &&
            (ctx.po = cli_probe_origin_new(&poc, o->probe_origin_target)) == NULL) {
            analyzer_free(ctx.an);
            report_free(ctx.rep);
            return TLSDIAG_EXIT_USAGE;
        }
        int st = TLSDIAG_EXIT_OK;
        ctx.doctor = doctor_load(o->doctor, o->num_doctor, ctx.an, &st);
        if (st != TLSDIAG_EXIT_OK) {
            probe_origin_free(ctx.po);
            analyzer_free(ctx.an);
            report_free(ctx.rep);
            return st;
        }
    }

    int status = TLSDIAG_EXIT_OK;
    char err[768] = "";
    cap_reader *cr = cap_open(o->files, o->num_files, o->filter, err, sizeof err);
    if (cr == NULL) {
        fprintf(stderr, "tlsdiag: %s\n", err[0] ? err : "cannot open the input");
        report_input_error re = {o->num_files == 1 ? o->files[0] : NULL, 0, 0, err};
        (void)report_error(ctx.rep, &re);
        // JSON keeps its promise of a summary at the end; text says it once, on stderr, and
        // prints no summary of nothing read.
        if (ctx.an != NULL && o->json) {
            run_summary(&ctx, NULL, err);
        }
        status = TLSDIAG_EXIT_INPUT;
        goto out;
    }

    pipeline_config pc;
    cli_pipeline_config(o, &pc);
    dissect_config dc;
    pipeline_dissect_config(&pc, &dc);
    report_progress_init(&ctx.progress, isatty(STDERR_FILENO) == 1);
    if (ctx.po != NULL) {
        pc.threads = 1;  // --probe-origin probes from the verdict sink, in one thread
    }
    pipeline_sinks sinks = {.user = &ctx,
                            .on_transcript = on_transcript,
                            .on_verdict = on_verdict,
                            .stop = stop,
                            .render = ctx.an != NULL ? &render_ops : NULL};
    pipeline_source src = {.reader = cr,
                           .files = o->files,
                           .num_files = o->num_files,
                           .filter = o->filter,
                           .on_progress = on_progress};
    pipeline_result res;
    bool ran = pipeline_run(&pc, ctx.an, &src, &sinks, &res);
    ctx.transcripts = res.transcripts;
    ctx.failed = res.failed;
    ctx.oom = res.oom;
    report_progress_end(&ctx.progress);
    if (ran) {
        ctx.limits = res.engaged;
        warn_skipped(&ctx, &res.stats, o);
        pipeline_limits_print(&ctx.limits, &res.stats, &dc);
    }
    if (cap_num_errors(cr) > 0) {
        report_input_errors(cr, ctx.rep);
        status = TLSDIAG_EXIT_INPUT;
    }
    if (ctx.an != NULL) {
        run_summary(&ctx, cr, NULL);
        if (status == TLSDIAG_EXIT_OK && ctx.failed > 0) {
            status = TLSDIAG_EXIT_FAILURES;
        }
    }

out:
    if (!finish_output(&ctx)) {
        status = TLSDIAG_EXIT_INTERNAL;
    }
    if (ctx.oom) {
        fputs("tlsdiag: out of memory\n", stderr);
        status = TLSDIAG_EXIT_INTERNAL;
    }
    cap_close(cr);
    analyzer_free(ctx.an);
    probe_origin_free(ctx.po);
    doctor_report_free(ctx.doctor);
    report_free(ctx.rep);
    return status;
}
