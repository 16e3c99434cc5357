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
#include "optable.h"
#include "cmd_probe.h"
#include "cmd_capture.h"
#include "dissect.h"
#include "pipeline.h"
#include "report.h"

enum {
    CC_MAX_PORTS = 32,
    CC_V3_MIN_BUFFER = 1u << 20,  // -B below this keeps libpcap's immediate mode (cli_cmd_capture)
};

typedef struct cc_options {
    const char *iface;
    uint16_t ports[CC_MAX_PORTS];
    size_t num_ports;
    // The options capture shares with analyze (-f, --json, -q/-v, --color, the trust store,
    // profile and ranges, the --max-* limits, -c, --probe-origin): cli_pipeline_config reads them.
    cli_options cli;
    bool all_sources, print_filter, handshake_only;
    uint64_t duration_s;
    const char *write_path;
    uint64_t rotate_bytes;
    uint32_t ring_files;
    uint32_t rotate_seconds;  // -G
    bool list_interfaces;     // -D
    const char *user;
    uint32_t buffer_bytes, snaplen;
} cc_options;

typedef struct cc_ctx {
    const cc_options *o;
    report *rep;
    analyzer *an;
    uint64_t handshakes, failed, succeeded;
    bool oom;
    bool status_shown;
    dissect_config dc;        // the caps in force (the flow table's size, cc_say_bounds)
    dissect_bounds said;      // bounds already stated on stderr (each once per run)
    bool said_disk;           // the writer's stop was reported
    struct probe_origin *po;  // --probe-origin (cmd_probe.c), NULL otherwise
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

static void cc_usage(FILE *f) {
    fputs(
        "Usage: tlsdiag capture [options]\n"
        "\n"
        "Capture CloudFront's TLS handshakes with this origin live and name the cause of each\n"
        "failure as it happens. Run as root (or with CAP_NET_RAW+CAP_NET_ADMIN, see README).\n"
        "\n"
        "What to capture:\n"
        "  -i, --interface IFACE  interface, or 'any' (default: any)\n"
        "  -D, --list-interfaces  list the interfaces that can be captured on (as tcpdump -D)\n"
        "  -p, --port PORT        origin TLS port; repeat or comma-separate (default: 443)\n"
        "      --ranges FILE      AWS ip-ranges.json instead of the embedded CloudFront list\n"
        "      --all-sources      no address filter (every client, not only CloudFront)\n"
        "  -f, --filter EXPR      extra BPF filter, and-ed with the generated one\n"
        "      --print-filter     print the generated BPF filter and exit\n"
        "  -B, --buffer-size KIB  kernel buffer size in KiB (default 32768)\n"
        "  -s, --snaplen SNAPLEN  bytes kept per packet (default 262144, at least 65791)\n"
        "When to stop (else Ctrl-C or SIGTERM):\n"
        "      --duration SECS    stop after this many seconds (suffix s, m or h allowed)\n"
        "  -c, --count N          stop after N handshakes\n"
        "Writing packets:\n"
        "  -w, --write FILE       write the captured packets to FILE (pcap)\n"
        "      --handshake-only   write only each connection's packets up to its verdict: TCP\n"
        "                         control and handshake records, no application data\n"
        "  -C, --file-size SIZE   rotate -w files at SIZE (MB = 1,000,000 bytes; k/m/g suffix\n"
        "                         = KiB/MiB/GiB)\n"
        "  -W, --file-count N     keep a ring of N files (FILE0 ... FILE<N-1>)\n"
        "  -G, --rotate-seconds N start a new -w file every N seconds; FILE is a strftime(3)\n"
        "                         name (e.g. edge-%Y%m%d-%H%M%S.pcap), as tcpdump -G\n"
        "  -Z, --user USER        drop to USER once capturing (default: nobody when root)\n"
        "Output and analysis (as analyze):\n"
        "      --json             JSON Lines: one object per handshake, a summary, capture stats\n"
        "      --ecs              Elastic Common Schema events (JSON Lines), one per handshake\n"
        "  -q, --quiet            summary only\n"
        "  -v, --verbose          also succeeded handshakes\n"
        "      --color[=WHEN]     auto, always or never\n"
        "      --ca-file FILE     trust store file instead of the system's\n"
        "      --ca-path DIR      trust store directory instead of the system's\n"
        "      --profile NAME     cloudfront (default) or generic\n"
        "      --probe-origin[=IP:PORT]  probe the origin (default: the connection's server) for\n"
        "                         each failure whose certificate TLS 1.3 hid; findings added\n"
        "      --max-flows N      connections tracked at once (default 65536)\n"
        "      --max-flow-bytes N bytes buffered per connection and direction (default 1M;\n"
        "                         K/M/G suffixes, as --max-total-bytes)\n"
        "      --max-total-bytes N  bytes buffered in total (default 256M)\n"
        "  -h, --help             this help\n"
        "\n"
        "Examples:\n"
        "  tlsdiag capture\n"
        "  tlsdiag capture -i eth0 -p 443,8443 --json | jq 'select(.outcome==\"failed\")'\n"
        "  tlsdiag capture -w /var/tmp/cf.pcap --handshake-only --duration 10m\n"
        "  tlsdiag capture -w /var/tmp/ring.pcap -C 100 -W 5\n"
        "\n"
        "Exit status: 0 no failed handshakes, 1 failed handshakes seen, 2 usage error,\n"
        "3 the capture could not start (no permission, no such interface, bad filter) or\n"
        "stopped on an error, 4 internal/output error.\n",
        f);
}

static int cc_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int cc_usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("tlsdiag: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'tlsdiag capture --help'.\n", stderr);
    return TLSDIAG_EXIT_USAGE;
}

// cc_number parses a non-negative integer with an optional unit suffix from `units`
// ("s", "m", … with multipliers). false when malformed or it overflows.
static bool cc_number(const char *s, const char *const *units, const uint64_t *mult,
                      size_t num_units, uint64_t def_mult, uint64_t *out) {
    errno = 0;
    char *end = NULL;
    if (!s || *s < '0' || *s > '9') {
        return false;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0) {
        return false;
    }
    uint64_t m = def_mult;
    if (*end != '\0') {
        size_t i = 0;
        while (i < num_units && strcmp(end, units[i]) != 0) {
            i++;
        }
        if (i == num_units) {
            return false;
        }
        m = mult[i];
    }
    if (m != 0 && v > UINT64_MAX / m) {
        return false;
    }
    *out = (uint64_t)v * m;
    return true;
}

static bool cc_plain(const char *s, uint64_t max, uint64_t *out) {
    uint64_t v;
    if (!cc_number(s, NULL, NULL, 0, 1, &v) || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool cc_add_ports(cc_options *o, const char *arg) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        uint64_t v;
        if (!cc_plain(tok, 65535, &v) || v == 0 || o->num_ports == CC_MAX_PORTS) {
            return false;
        }
        o->ports[o->num_ports++] = (uint16_t)v;
    }
    return true;
}

// cc_parse: 0 run, -1 help printed, 2 usage error printed.
static int cc_parse(int argc, char **argv, cc_options *o) {
    static const char *const dur_units[] = {"s", "m", "h"};
    static const uint64_t dur_mult[] = {1, 60, 3600};
    static const char *const size_units[] = {"k", "K", "m", "M", "g", "G"};
    static const uint64_t size_mult[] = {1u << 10, 1u << 10, 1u << 20,
                                         1u << 20, 1u << 30, 1u << 30};
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    int c;
    cli_getopt g;
    cli_getopt_init(CLI_CMD_CAPTURE, &g);
    pipeline_limits limits = {0};
    char msg[200];
    while ((c = getopt_long(argc, argv, g.optstring, g.longopts, NULL)) != -1) {
        uint64_t v = 0;
        const char *arg = optarg;
        switch (c) {
            case 'i':
                o->iface = arg;
                break;
            case 'p':
                if (!cc_add_ports(o, arg)) {
                    return cc_usage_error("-p: expected port numbers 1-65535, got '%s'", arg);
                }
                break;
            case CLI_OPT_RANGES:
                o->cli.ranges_file = arg;
                break;
            case CLI_OPT_ALL_SOURCES:
                o->all_sources = true;
                break;
            case 'f':
                o->cli.filter = arg;
                break;
            case CLI_OPT_PRINT_FILTER:
                o->print_filter = true;
                break;
            case CLI_OPT_JSON:
                o->cli.json = true;
                break;
            case CLI_OPT_ECS:
                o->cli.json = o->cli.ecs = true;
                break;
            case 'q':
                o->cli.verbosity = REPORT_QUIET;
                break;
            case 'v':
                o->cli.verbosity = REPORT_VERBOSE;
                break;
            case CLI_OPT_COLOR:
                if (!arg || strcmp(arg, "always") == 0) {
                    o->cli.color = CLI_COLOR_ALWAYS;
                } else if (strcmp(arg, "never") == 0) {
                    o->cli.color = CLI_COLOR_NEVER;
                } else if (strcmp(arg, "auto") == 0) {
                    o->cli.color = CLI_COLOR_AUTO;
                } else {
                    return cc_usage_error("--color: expected auto, always or never, got '%s'", arg);
                }
                break;
            case CLI_OPT_CA_FILE:
                o->cli.ca_file = arg;
                break;
            case CLI_OPT_CA_PATH:
                o->cli.ca_path = arg;
                break;
            case CLI_OPT_PROFILE:
                o->cli.profile = arg;
                break;
            case CLI_OPT_PROBE_ORIGIN:
                // capture takes no operands: a following word is --probe-origin's IP:PORT
                if (!arg && optind < argc && argv[optind][0] != '-') {
                    arg = argv[optind++];
                }
                if (!cli_probe_origin_target_ok(arg)) {
                    return cc_usage_error("--probe-origin: expected IP:PORT, got '%s'", arg);
                }
                o->cli.probe_origin = true;
                o->cli.probe_origin_target = arg;
                break;
            case CLI_OPT_MAX_FLOWS:
            case CLI_OPT_MAX_FLOW_BYTES:
            case CLI_OPT_MAX_TOTAL_BYTES:
                if (!cli_parse_limit(c, arg, &limits, msg, sizeof msg)) {
                    return cc_usage_error("%s", msg);
                }
                o->cli.max_flows = limits.max_flows;
                o->cli.max_flow_bytes = (uint32_t)limits.max_flow_bytes;  // below 4G
                o->cli.max_total_bytes = limits.max_total_bytes;
                break;
            case CLI_OPT_DURATION:
                if (!cc_number(arg, dur_units, dur_mult, 3, 1, &o->duration_s) ||
                    o->duration_s == 0) {
                    return cc_usage_error(
                        "--duration: expected seconds (e.g. 90, 15m, 2h), got "
                        "'%s'",
                        arg);
                }
                break;
            case 'c':
                if (!cc_plain(arg, UINT64_MAX, &o->cli.count) || o->cli.count == 0) {
                    return cc_usage_error("--count: expected a positive integer, got '%s'", arg);
                }
                break;
            case 'w':
                o->write_path = arg;
                break;
            case CLI_OPT_HANDSHAKE_ONLY:
                o->handshake_only = true;
                break;
            case 'C':
                if (!cc_number(arg, size_units, size_mult, 6, 1000000, &o->rotate_bytes) ||
                    o->rotate_bytes == 0) {
                    return cc_usage_error("-C: expected a size in MB (or with k/m/g), got '%s'",
                                          arg);
                }
                break;
            case 'W':
                if (!cc_plain(arg, 100000, &v) || v == 0) {
                    return cc_usage_error("-W: expected a number of files 1-100000, got '%s'", arg);
                }
                o->ring_files = (uint32_t)v;
                break;
            case 'G':
                if (!cc_plain(arg, 366u * 86400, &v) || v == 0) {
                    return cc_usage_error("-G: expected seconds 1-31622400, got '%s'", arg);
                }
                o->rotate_seconds = (uint32_t)v;
                break;
            case 'D':
                o->list_interfaces = true;
                break;
            case 'Z':
                o->user = arg;
                break;
            case 'B':
                if (!cc_plain(arg, UINT32_MAX / 1024, &v) || v == 0) {
                    return cc_usage_error("-B: expected a size in KiB, got '%s'", arg);
                }
                o->buffer_bytes = (uint32_t)(v * 1024);
                break;
            case 's':
                if (!cc_plain(arg, CAP_LIVE_SNAPLEN, &v)) {
                    return cc_usage_error("-s: expected a snapshot length up to 262144, got '%s'",
                                          arg);
                }
                o->snaplen = (uint32_t)v;
                break;
            case 'h':
                cc_usage(stdout);
                return -1;
            case ':':
                return cc_usage_error("option '%s' needs a value", argv[optind - 1]);
            default:
                if (cli_opt_elsewhere(CLI_CMD_CAPTURE, argv[optind - 1], optopt, msg, sizeof msg)) {
                    return cc_usage_error("%s", msg);
                }
                return cc_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cc_usage_error(
            "unexpected argument '%s' (capture reads an interface; use "
            "'tlsdiag analyze FILE' for files)",
            argv[optind]);
    }
    if ((o->rotate_bytes || o->ring_files || o->handshake_only) && !o->write_path) {
        return cc_usage_error("%s needs -w FILE", o->handshake_only ? "--handshake-only"
                                                  : o->rotate_bytes ? "-C"
                                                                    : "-W");
    }
    if (o->rotate_seconds && (!o->write_path || o->ring_files)) {
        return cc_usage_error(o->ring_files ? "-G cannot be combined with -W"
                                            : "-G needs -w FILE (a strftime(3) name)");
    }
    if (o->ring_files && !o->rotate_bytes) {
        return cc_usage_error("-W needs -C SIZE (the size at which to move to the next file)");
    }
    return 0;
}

static int64_t cc_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void cc_status_erase(cc_ctx *c) {
    if (c->status_shown) {
        fputs("\r\x1b[K", stderr);
        fflush(stderr);
        c->status_shown = false;
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
    cli_probe_origin_attach(c->po, v);
    if (c->po != NULL) {
        analyzer_summary_refresh(c->an, v);  // the summary's fix names what the probe found
    }
    c->failed += verdict_is_failure(v);
    c->succeeded += v->outcome == OUTCOME_SUCCEEDED;
    cc_status_erase(c);
    (void)report_verdict(c->rep, v);
    fflush(stdout);  // a pipe or a file sees each verdict as it is found
    return false;
}

static void cc_status(cc_ctx *c, const pipeline_result *now) {
    const summary *s = analyzer_summary(c->an);
    const dissect_stats *st = &now->stats;
    fprintf(stderr,
            "\r\x1b[Ktlsdiag: %" PRIu64 " packets, %" PRIu64 " connections, %" PRIu64
            " ok / %" PRIu64 " failed, top cause %s, %" PRIu64 " dropped",
            now->packets, st->flows_created, s->succeeded, s->failed,
            s->failed ? cause_name(s->dominant) : "-", now->drops);
    fflush(stderr);
    c->status_shown = true;
}

// cc_capture_stats: libpcap's counters after the summary (text) or as one JSON object.
static void cc_capture_stats(const cc_options *o, const char *iface, const char *bpf,
                             const pipeline_result *r, uint64_t written) {
    const dissect_stats *st = &r->stats;
    uint64_t packets = r->packets, received = r->received, dropped = r->dropped;
    bool have = r->have_counts;
    if (o->cli.ecs) {
        return;  // ECS events only; the counters are on stderr with -v and in --json
    }
    if (o->cli.json) {
        char rx[24] = "null", dr[24] = "null";
        if (have) {
            snprintf(rx, sizeof rx, "%" PRIu64, received);
            snprintf(dr, sizeof dr, "%" PRIu64, dropped);
        }
        printf(
            "{\"schema_version\":%d,\"schema_minor\":%d,\"type\":\"capture\",\"packets\":%" PRIu64
            ",\"received\":%s,\"dropped\":%s,\"flows_evicted\":%" PRIu64 ",\"peak_flows\":%" PRIu32
            ",\"peak_buffered_bytes\":%" PRIu64 ",\"written\":%" PRIu64 "}\n",
            REPORT_SCHEMA_VERSION, REPORT_SCHEMA_MINOR, packets, rx, dr, st->flows_evicted,
            st->peak_flows, st->peak_buffered_bytes, written);
        return;
    }
    if (o->cli.verbosity < REPORT_NORMAL) {
        return;
    }
    printf("\nCapture: interface %s, %" PRIu64 " packets analysed", iface, packets);
    if (have) {
        printf(", libpcap: %" PRIu64 " received, %" PRIu64 " dropped", received, dropped);
    }
    printf("\n");
    if (st->flows_evicted) {
        printf("         %" PRIu64
               " undecided connection(s) evicted to stay within "
               "--max-flows/--max-total-bytes\n",
               st->flows_evicted);
    }
    if (o->cli.verbosity >= REPORT_VERBOSE) {
        printf("         filter: %s\n", bpf);
    }
}

static void cc_summary(cc_ctx *c, const dissect_stats *st) {
    pipeline_undecoded_print(st);
    report_run_info info = {
        .profile_name = analyzer_profile_name(c->an),
        .profile_version = analyzer_profile_version(c->an),
        .prefix_source = analyzer_prefix_source(c->an),
        .trust_store = analyzer_trust_store(c->an),
        .undecoded = st->undecoded,
    };
    (void)report_summary(c->rep, analyzer_summary(c->an), &info);
}

static analyzer *cc_analyzer(const pipeline_config *pc) {
    char err[512] = "";
    analyzer *a = pipeline_analyzer_new(pc, err, sizeof err);
    if (!a) {
        fprintf(stderr, "tlsdiag: %s\n", err[0] ? err : "cannot load the analyzer");
    }
    return a;
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
        cc_status_erase(c);
        fprintf(stderr,
                "tlsdiag: %s — the file keeps every packet written before; analysis "
                "goes on without writing\n",
                cap_writer_error(w));
    }
}

// cc_frame_done: each frame after the pipeline dissected it, into the file if it is to be kept.
static void cc_frame_done(void *user, const dissect_frame *fr, const dissect_frame_info *info) {
    cc_ctx *c = user;
    bool keep = !c->o->handshake_only || (info->tcp && info->undecided && !info->app_data);
    if (c->w && keep && !cap_writer_write(c->w, fr)) {
        cc_said_disk(c, c->w);
    }
}

// cc_say_bounds: a byte, message or event cap that engaged since the last call, said once.
static void cc_say_bounds(cc_ctx *c, const dissect_stats *st) {
    dissect_bounds fresh;
    if (pipeline_bounds_fresh(&c->said, &st->bounds, &fresh)) {
        cc_status_erase(c);
        pipeline_bounds_print(&fresh, &c->dc);
    }
}

// cc_tick: the live source's tick (every PIPELINE_LIVE_BATCH packets and each poll timeout):
// the full flow table said once, bounds, the writer's flush, the status line; false at the end
// of --duration.
static bool cc_tick(void *user, const pipeline_result *now) {
    cc_ctx *c = user;
    const cc_options *o = c->o;
    const dissect_stats *st = &now->stats;
    // Idle flows are evicted too (normal); a full table is what a flood or scan causes.
    if (st->flows_evicted > c->evicted_seen) {
        c->evicted_seen = st->flows_evicted;
        if (!c->said_evicting && st->peak_flows >= c->dc.max_flows) {
            c->said_evicting = true;
            cc_status_erase(c);
            fprintf(stderr,
                    "tlsdiag: flow table full (--max-flows %" PRIu32
                    "): evicting the oldest undecided connections (SYN flood or scan?); "
                    "memory stays within the caps\n",
                    c->dc.max_flows);
        }
    }
    cc_say_bounds(c, st);
    int64_t t = cc_now_ns();
    if (o->duration_s && t - c->start >= (int64_t)o->duration_s * 1000000000) {
        return false;
    }
    if (c->w && t - c->last_flush >= 1000000000) {
        c->last_flush = t;
        if (!cap_writer_flush(c->w) && cap_writer_error(c->w)) {
            cc_said_disk(c, c->w);
        }
    }
    if (c->tty && o->cli.verbosity >= REPORT_NORMAL && t - c->last_status >= 1000000000) {
        c->last_status = t;
        cc_status(c, now);
    }
    return true;
}

int cli_cmd_capture(int argc, char **argv) {
    cc_options o;
    int rc = cc_parse(argc, argv, &o);
    if (rc != 0) {
        return rc < 0 ? TLSDIAG_EXIT_OK : rc;
    }
    if (o.list_interfaces) {  // -D: as tcpdump -D, then exit
        char lerr[512];
        if (!cap_live_list(stdout, lerr, sizeof lerr)) {
            fprintf(stderr, "tlsdiag: %s\n", lerr);
            return TLSDIAG_EXIT_INPUT;
        }
        return fflush(stdout) == 0 ? TLSDIAG_EXIT_OK : TLSDIAG_EXIT_INTERNAL;
    }
    const char *iface = o.iface ? o.iface : "any";
    int status = TLSDIAG_EXIT_OK;
    cc_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.o = &o;
    cap_reader *cr = NULL;
    cap_writer *w = NULL;
    char err[1024] = "";

    pipeline_config pc;
    cli_pipeline_config(&o.cli, &pc);
    ctx.an = cc_analyzer(&pc);
    if (!ctx.an) {
        return TLSDIAG_EXIT_INPUT;
    }
    char *bpf = pipeline_live_filter(ctx.an, o.all_sources, o.ports, o.num_ports, o.cli.filter);
    if (!bpf) {
        fputs("tlsdiag: out of memory\n", stderr);
        analyzer_free(ctx.an);
        return TLSDIAG_EXIT_INTERNAL;
    }
    if (o.print_filter) {
        printf("%s\n", bpf);
        free(bpf);
        analyzer_free(ctx.an);
        return fflush(stdout) == 0 ? TLSDIAG_EXIT_OK : TLSDIAG_EXIT_INTERNAL;
    }
    report_options ro = {
        .format = o.cli.ecs    ? REPORT_ECS
                  : o.cli.json ? REPORT_JSON
                               : REPORT_TEXT,
        .color = cli_use_color(o.cli.json, o.cli.color),
        .verbosity = o.cli.verbosity,
        .out = stdout,
        .columns = o.cli.verbosity >= REPORT_VERBOSE ? 0 : report_terminal_columns(stdout),
    };
    ctx.rep = report_new(&ro);
    if (!ctx.rep) {
        fputs("tlsdiag: out of memory\n", stderr);
        status = TLSDIAG_EXIT_INTERNAL;
        goto out;
    }
    // --probe-origin: its analyzer reads the trust store now, before privileges are dropped.
    if (o.cli.probe_origin && !(ctx.po = cli_probe_origin_new(&pc, o.cli.probe_origin_target))) {
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
    lo.immediate = o.buffer_bytes != 0 && o.buffer_bytes < CC_V3_MIN_BUFFER;
    if (o.buffer_bytes) {
        lo.buffer_bytes = o.buffer_bytes;
    }
    if (o.snaplen) {
        lo.snaplen = o.snaplen;
    }
    cap_live_status ls;
    cr = cap_live_open(&lo, &ls, err, sizeof err);
    if (!cr && ls == CAP_LIVE_BAD_FILTER) {
        fprintf(stderr, "tlsdiag: bad filter %s%s%s: %s\n", o.cli.filter ? "-f \"" : "",
                o.cli.filter ? o.cli.filter : "(see --print-filter)", o.cli.filter ? "\"" : "",
                err);
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
            .rotate_bytes = o.rotate_bytes,
            .ring_files = o.ring_files,
            .rotate_seconds = o.rotate_seconds,
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
    if (!cap_drop_privileges(o.user, err, sizeof err)) {
        fprintf(stderr, "tlsdiag: %s\n", err);
        status = TLSDIAG_EXIT_INPUT;
        goto out;
    }
    // The live reader is the pipeline's source (pipeline/live.c): drops are stamped on the open
    // flows there; --handshake-only asks each frame's role after it was dissected.
    pipeline_dissect_config(&pc, &ctx.dc);
    ctx.w = w;
    ctx.tty = isatty(STDERR_FILENO) == 1;
    ctx.start = ctx.last_status = ctx.last_flush = cc_now_ns();
    pipeline_sinks sinks = {.user = &ctx,
                            .on_verdict = cc_on_verdict,
                            .on_frame_done = w ? cc_frame_done : NULL,
                            .stop = cc_stop};
    pipeline_live live = {.reader = cr, .stop_flag = &cc_signal, .on_tick = cc_tick};
    pipeline_source src = {.live = &live};
    cc_reader = cr;
    cc_signals();
    if (o.cli.verbosity >= REPORT_NORMAL) {
        fprintf(stderr, "tlsdiag: listening on %s (%s), %s; Ctrl-C to stop\n", iface,
                cap_linktype_name(cap_live_linktype(cr)),
                o.all_sources ? "all sources"
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
    cc_status_erase(&ctx);
    if (res.live_error) {
        fprintf(stderr, "tlsdiag: %s\n", cap_live_error(cr));
        status = TLSDIAG_EXIT_INPUT;
    }
    if (!o.cli.count || ctx.handshakes < o.cli.count) {
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
    cc_capture_stats(&o, iface, bpf, &res, written);
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
    cli_probe_origin_free(ctx.po);
    free(bpf);
    return status;
}
