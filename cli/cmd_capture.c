// cmd_capture.c — `tlsdiag capture`: live capture on the origin host, verdicts as they happen.
//
//   analyzer (profile, prefixes, trust store) → kernel BPF from the prefixes and ports →
//   cap_live_open → pcap writer(s) → drop privileges → pipeline_run with the live reader as its
//   source (pipeline/live.c) → report_verdict (streamed); on each tick: status line, writer
//   flush, --duration → the analyze summary + libpcap's received/dropped counts.
//
// Stops on SIGINT/SIGTERM (the handler only sets flags: cap_breakloop is async-signal-safe),
// --duration, or --count handshakes. Exit status as analyze; 3 when the capture cannot start
// (no permission, no such interface, bad filter) or stops on an error.
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"
#include "capture.h"
#include "cli.h"
#include "doctor.h"
#include "optable.h"
#include "dissect.h"
#include "pipeline.h"
#include "probe.h"
#include "report.h"

enum {
    CC_V3_MIN_BUFFER = 1u << 20,  // -B below this keeps libpcap's immediate mode (cli_cmd_capture)
};

typedef struct cc_ctx {
    const cli_options *o;
    report *rep;
    analyzer *an;
    uint64_t handshakes, failed, succeeded;
    bool oom;
    report_progress status;   // the status line (stderr is a terminal); erased before each result
    dissect_config dc;        // the caps in force (the flow table's size, cc_say_bounds)
    dissect_bounds said;      // bounds already stated on stderr (each once per run)
    bool said_disk;           // the writer's stop was reported
    struct probe_origin *po;  // --probe-origin (probe/origin.c), NULL otherwise
    doctor_report *doctor;    // --doctor (doctor/print.c), NULL otherwise
    cap_writer *w;            // -w, NULL otherwise
    bool tty;                 // stderr is a terminal: the status line
    int64_t start, last_status, last_flush;  // monotonic ns
    uint64_t evicted_seen;                   // flows_evicted at the last tick
    bool said_evicting;                      // the full flow table was reported
} cc_ctx;

static volatile sig_atomic_t cc_signal;  // the signal that asked us to stop (0: none)
static cap_reader *volatile cc_reader;   // for cap_breakloop in the handler

static void cc_on_signal(int sig) {
    cc_signal = sig;
    cap_reader *r = cc_reader;
    if (r) {
        cap_breakloop(r);
    }
}

// cc_stop: the pipeline's stop sink (output failed).
static bool cc_stop(void *user) {
    const cc_ctx *c = user;
    return c->oom || report_write_failed(c->rep);
}

// cc_on_verdict: the pipeline's verdict sink (the first --count handshakes); printed at once.
static bool cc_on_verdict(void *user, verdict *v, const tls_transcript *t) {
    cc_ctx *c = user;
    (void)t;
    c->handshakes++;
    probe_origin_attach(c->po, v);
    if (c->po != NULL) {
        analyzer_summary_refresh(c->an, v);  // the summary's fix names what the probe found
    }
    doctor_attach(c->doctor, v);
    c->failed += verdict_is_failure(v);
    c->succeeded += v->outcome == OUTCOME_SUCCEEDED;
    report_progress_end(&c->status);
    (void)report_verdict(c->rep, v);
    fflush(stdout);  // a pipe or a file sees each verdict as it is found
    return false;
}

static void cc_summary(cc_ctx *c, const dissect_stats *st) {
    pipeline_undecoded_print(st);
    report_run_info info = report_run_info_of(c->an);
    info.undecoded = st->undecoded;
    (void)report_summary(c->rep, analyzer_summary(c->an), &info);
}

static void cc_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cc_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: poll() returns EINTR at once
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void cc_said_disk(cc_ctx *c, const cap_writer *w) {
    if (!c->said_disk) {
        c->said_disk = true;
        report_progress_end(&c->status);
        fprintf(stderr,
                "tlsdiag: %s — the file keeps every packet written before; analysis "
                "goes on without writing\n",
                cap_writer_error(w));
    }
}

// cc_frame_done: each frame after the pipeline dissected it, into the file if it is to be kept.
static void cc_frame_done(void *user, const dissect_frame *fr, const dissect_frame_info *info) {
    cc_ctx *c = user;
    bool keep = !c->o->cap.handshake_only || (info->tcp && info->undecided && !info->app_data);
    if (c->w && keep && !cap_writer_write(c->w, fr)) {
        cc_said_disk(c, c->w);
    }
}

// cc_say_bounds: a byte, message or event cap that engaged since the last call, said once.
static void cc_say_bounds(cc_ctx *c, const dissect_stats *st) {
    dissect_bounds fresh;
    if (pipeline_bounds_fresh(&c->said, &st->bounds, &fresh)) {
        report_progress_end(&c->status);
        pipeline_bounds_print(&fresh, &c->dc);
    }
}

// cc_tick: the live source's tick (every PIPELINE_LIVE_BATCH packets and each poll timeout):
// the full flow table said once, bounds, the writer's flush, the status line; false at the end
// of --duration.
static bool cc_tick(void *user, const pipeline_result *now) {
    cc_ctx *c = user;
    const cli_options *o = c->o;
    const dissect_stats *st = &now->stats;
    // Idle flows are evicted too (normal); a full table is what a flood or scan causes.
    if (st->flows_evicted > c->evicted_seen) {
        c->evicted_seen = st->flows_evicted;
        if (!c->said_evicting && st->peak_flows >= c->dc.max_flows) {
            c->said_evicting = true;
            report_progress_end(&c->status);
            pipeline_flows_full_print(c->dc.max_flows);
        }
    }
    cc_say_bounds(c, st);
    int64_t t = report_now_ns();
    if (o->cap.duration_s && t - c->start >= (int64_t)o->cap.duration_s * 1000000000) {
        return false;
    }
    if (c->w && t - c->last_flush >= 1000000000) {
        c->last_flush = t;
        if (!cap_writer_flush(c->w) && cap_writer_error(c->w)) {
            cc_said_disk(c, c->w);
        }
    }
    if (c->tty && o->verbosity >= REPORT_NORMAL && t - c->last_status >= 1000000000) {
        c->last_status = t;
        report_capture_status(&c->status, analyzer_summary(c->an), now->packets,
                              now->stats.flows_created, now->drops);
    }
    return true;
}

int cli_cmd_capture(int argc, char **argv) {
    cli_options o;
    int rc = cli_parse(CLI_CAPTURE, argc, argv, &o);
    if (rc != 0) {
        return rc < 0 ? TLSDIAG_EXIT_OK : rc;
    }
    if (o.cap.list_interfaces) {  // -D: as tcpdump -D, then exit
        char lerr[512];
        if (!cap_live_list(stdout, lerr, sizeof lerr)) {
            fprintf(stderr, "tlsdiag: %s\n", lerr);
            return TLSDIAG_EXIT_INPUT;
        }
        return fflush(stdout) == 0 ? TLSDIAG_EXIT_OK : TLSDIAG_EXIT_INTERNAL;
    }
    const char *iface = o.cap.iface ? o.cap.iface : "any";
    int status = TLSDIAG_EXIT_OK;
    cc_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.o = &o;
    cap_reader *cr = NULL;
    cap_writer *w = NULL;
    char err[1024] = "";

    pipeline_config pc;
    cli_pipeline_config(&o, &pc);
    ctx.an = cli_analyzer_new(&pc);
    if (!ctx.an) {
        return TLSDIAG_EXIT_INPUT;
    }
    char *bpf =
        pipeline_live_filter(ctx.an, o.cap.all_sources, o.cap.ports, o.cap.num_ports, o.filter);
    if (!bpf) {
        fputs("tlsdiag: out of memory\n", stderr);
        analyzer_free(ctx.an);
        return TLSDIAG_EXIT_INTERNAL;
    }
    if (o.cap.print_filter) {
        printf("%s\n", bpf);
        free(bpf);
        analyzer_free(ctx.an);
        return fflush(stdout) == 0 ? TLSDIAG_EXIT_OK : TLSDIAG_EXIT_INTERNAL;
    }
    int dst = TLSDIAG_EXIT_OK;
    ctx.doctor = doctor_load(o.doctor, o.num_doctor, ctx.an, &dst);
    if (dst != TLSDIAG_EXIT_OK) {
        free(bpf);
        analyzer_free(ctx.an);
        return dst;
    }
    report_options ro = {
        .format = o.ecs    ? REPORT_ECS
                  : o.json ? REPORT_JSON
                           : REPORT_TEXT,
        .color = cli_use_color(o.json, o.color),
        .verbosity = o.verbosity,
        .out = stdout,
        .columns = o.verbosity >= REPORT_VERBOSE ? 0 : report_terminal_columns(stdout),
    };
    ctx.rep = report_new(&ro);
    if (!ctx.rep) {
        fputs("tlsdiag: out of memory\n", stderr);
        status = TLSDIAG_EXIT_INTERNAL;
        goto out;
    }
    // --probe-origin: its analyzer reads the trust store now, before privileges are dropped.
    if (o.probe_origin && !(ctx.po = cli_probe_origin_new(&pc, o.probe_origin_target))) {
        status = TLSDIAG_EXIT_INPUT;
        goto out;
    }

    cap_live_options lo;
    cap_live_options_default(&lo);
    lo.iface = iface;
    lo.bpf = bpf;
    // Not immediate mode: libpcap then uses TPACKET_V3, a ring of 256 KiB blocks packed with
    // packets and handed over when full or after timeout_ms (250 ms: verdicts come at most that
    // much later), one wake-up per block. Immediate mode uses TPACKET_V2: one wake-up per packet
    // and one frame slot per packet sized for the snaplen, so 32 MiB held only 128 packets on
    // "any" (512 on Ethernet); it dropped a quarter of a 370 kpps veth replay where V3 dropped
    // none (bench/LIVE.md). A -B below 4 blocks keeps immediate mode: one or two V3 blocks would
    // stop the whole ring while the reader works through a block, and V2 honours small sizes.
    lo.immediate = o.cap.buffer_bytes != 0 && o.cap.buffer_bytes < CC_V3_MIN_BUFFER;
    if (o.cap.buffer_bytes) {
        lo.buffer_bytes = o.cap.buffer_bytes;
    }
    if (o.cap.snaplen) {
        lo.snaplen = o.cap.snaplen;
    }
    cap_live_status ls;
    cr = cap_live_open(&lo, &ls, err, sizeof err);
    if (!cr && ls == CAP_LIVE_BAD_FILTER) {
        fprintf(stderr, "tlsdiag: bad filter %s%s%s: %s\n", o.filter ? "-f \"" : "",
                o.filter ? o.filter : "(see --print-filter)", o.filter ? "\"" : "", err);
        status = TLSDIAG_EXIT_INPUT;
        goto out;
    }
    if (!cr) {
        fprintf(stderr, "tlsdiag: %s\n", err);
        status = TLSDIAG_EXIT_INPUT;
        goto out;
    }
    if (o.write_path) {
        cap_writer_options wo = {
            .path = o.write_path,
            .linktype = cap_live_linktype(cr),
            .snaplen = cap_live_snaplen(cr),
            .rotate_bytes = o.cap.rotate_bytes,
            .ring_files = o.cap.ring_files,
            .rotate_seconds = o.cap.rotate_seconds,
        };
        w = cap_writer_open(&wo, err, sizeof err);
        if (!w) {
            fprintf(stderr, "tlsdiag: %s\n", err);
            status = TLSDIAG_EXIT_INPUT;
            goto out;
        }
    }
    // Everything that needs privileges is open: the capture socket, the output files, the
    // trust store. From here on the process is an ordinary user with no capabilities.
    if (!cap_drop_privileges(o.cap.user, err, sizeof err)) {
        fprintf(stderr, "tlsdiag: %s\n", err);
        status = TLSDIAG_EXIT_INPUT;
        goto out;
    }
    // The live reader is the pipeline's source (pipeline/live.c): drops are stamped on the open
    // flows there; --handshake-only asks each frame's role after it was dissected.
    pipeline_dissect_config(&pc, &ctx.dc);
    ctx.w = w;
    ctx.tty = isatty(STDERR_FILENO) == 1;
    ctx.start = ctx.last_status = ctx.last_flush = report_now_ns();
    pipeline_sinks sinks = {.user = &ctx,
                            .on_verdict = cc_on_verdict,
                            .on_frame_done = w ? cc_frame_done : NULL,
                            .stop = cc_stop};
    pipeline_live live = {.reader = cr, .stop_flag = &cc_signal, .on_tick = cc_tick};
    pipeline_source src = {.live = &live};
    cc_reader = cr;
    cc_signals();
    if (o.verbosity >= REPORT_NORMAL) {
        fprintf(stderr, "tlsdiag: listening on %s (%s), %s; Ctrl-C to stop\n", iface,
                cap_linktype_name(cap_live_linktype(cr)),
                o.cap.all_sources ? "all sources"
                                  : (analyzer_num_prefixes(ctx.an) ? analyzer_prefix_source(ctx.an)
                                                                   : "all sources"));
    }
    pipeline_result res;
    if (!pipeline_run(&pc, ctx.an, &src, &sinks, &res)) {
        ctx.oom = true;
        goto out;
    }
    cc_reader = NULL;
    ctx.oom |= res.oom;
    report_progress_end(&ctx.status);
    if (res.live_error) {
        fprintf(stderr, "tlsdiag: %s\n", cap_live_error(cr));
        status = TLSDIAG_EXIT_INPUT;
    }
    if (!o.count || ctx.handshakes < o.count) {
        cc_say_bounds(&ctx, &res.stats);  // also those the open handshakes' end showed
    }
    uint64_t written = w ? cap_writer_frames(w) : 0;
    if (w) {
        char werr[600] = "";
        if (!cap_writer_close(w, werr, sizeof werr)) {
            fprintf(stderr, "tlsdiag: %s\n", werr);
        }
        w = NULL;
    }
    cc_summary(&ctx, &res.stats);
    report_capture cs = {.iface = iface,
                         .filter = bpf,
                         .packets = res.packets,
                         .have_counts = res.have_counts,
                         .received = res.received,
                         .dropped = res.dropped,
                         .written = written,
                         .stats = &res.stats};
    report_capture_stats(ctx.rep, &cs);
    if (status == TLSDIAG_EXIT_OK && ctx.failed > 0) {
        status = TLSDIAG_EXIT_FAILURES;
    }

out:
    if (w) {
        cap_writer_close(w, NULL, 0);
    }
    if (ctx.rep && report_flush(ctx.rep, NULL) == REPORT_OUT_FAILED) {
        fputs("tlsdiag: cannot write the results to standard output\n", stderr);
        status = TLSDIAG_EXIT_INTERNAL;
    }
    if (ctx.oom) {
        fputs("tlsdiag: out of memory\n", stderr);
        status = TLSDIAG_EXIT_INTERNAL;
    }
    cap_close(cr);
    report_free(ctx.rep);
    analyzer_free(ctx.an);
    probe_origin_free(ctx.po);
    doctor_report_free(ctx.doctor);
    free(bpf);
    return status;
}
