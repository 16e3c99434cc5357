// cmd_capture.c — `tlsdiag capture`: live capture on the origin host, verdicts as they happen.
//
//   analyzer (profile, prefixes, trust store) → kernel BPF from the prefixes and ports →
//   cap_live_open → pcap writer(s) → drop privileges → loop: cap_live_dispatch → dissect_feed_ex →
//   on_transcript → analyzer_run → report_verdict (streamed) → status line, drops, stop flags →
//   dissect_finish → the analyze summary + libpcap's received/dropped counts.
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
    CC_STATS_EVERY = 256,         // frames between drop-counter reads (a getsockopt each)
    CC_DRAIN_MAX = 100000,        // packets read after a stop, at most
    CC_V3_MIN_BUFFER = 1u << 20,  // -B below this keeps libpcap's immediate mode (cli_cmd_capture)
};

typedef struct cc_options {
    const char *iface;
    uint16_t ports[CC_MAX_PORTS];
    size_t num_ports;
    const char *ranges_file, *filter, *ca_file, *ca_path, *profile;
    bool all_sources, print_filter, json, handshake_only;
    int verbosity;
    cli_color color;
    uint32_t max_flows, max_flow_bytes;
    uint64_t max_total_bytes;
    uint64_t duration_s, count;
    const char *write_path;
    uint64_t rotate_bytes;
    uint32_t ring_files;
    const char *user;
    uint32_t buffer_bytes, snaplen;
    bool probe_origin;                // --probe-origin[=IP:PORT] (cmd_probe.c)
    const char *probe_origin_target;  // NULL: each connection's server address
} cc_options;

typedef struct cc_ctx {
    const cc_options *o;
    report *rep;
    analyzer *an;
    uint64_t handshakes, failed, succeeded;
    bool oom;
    bool status_shown;
    uint32_t max_flows;        // the flow table's capacity (dissect_config)
    const dissect_config *dc;  // the caps, for cc_say_bounds
    dissect_bounds said;       // bounds already stated on stderr (each once per run)
    bool said_disk;            // the writer's stop was reported
    uint64_t drops_marked;     // the kernel drop count when the open flows were last marked
    uint64_t marked_at;        // packets read then (marks are amortized: cc_mark_drops)
    struct probe_origin *po;   // --probe-origin (cmd_probe.c), NULL otherwise
    pipeline *pl;              // its analyzer's out-of-memory is ours
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
        "  -Z, --user USER        drop to USER once capturing (default: nobody when root)\n"
        "Output and analysis (as analyze):\n"
        "      --json             JSON Lines: one object per handshake, a summary, capture stats\n"
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
                o->ranges_file = arg;
                break;
            case CLI_OPT_ALL_SOURCES:
                o->all_sources = true;
                break;
            case 'f':
                o->filter = arg;
                break;
            case CLI_OPT_PRINT_FILTER:
                o->print_filter = true;
                break;
            case CLI_OPT_JSON:
                o->json = true;
                break;
            case 'q':
                o->verbosity = REPORT_QUIET;
                break;
            case 'v':
                o->verbosity = REPORT_VERBOSE;
                break;
            case CLI_OPT_COLOR:
                if (!arg || strcmp(arg, "always") == 0) {
                    o->color = CLI_COLOR_ALWAYS;
                } else if (strcmp(arg, "never") == 0) {
                    o->color = CLI_COLOR_NEVER;
                } else if (strcmp(arg, "auto") == 0) {
                    o->color = CLI_COLOR_AUTO;
                } else {
                    return cc_usage_error("--color: expected auto, always or never, got '%s'", arg);
                }
                break;
            case CLI_OPT_CA_FILE:
                o->ca_file = arg;
                break;
            case CLI_OPT_CA_PATH:
                o->ca_path = arg;
                break;
            case CLI_OPT_PROFILE:
                o->profile = arg;
                break;
            case CLI_OPT_PROBE_ORIGIN:
                // capture takes no operands: a following word is --probe-origin's IP:PORT
                if (!arg && optind < argc && argv[optind][0] != '-') {
                    arg = argv[optind++];
                }
                if (!cli_probe_origin_target_ok(arg)) {
                    return cc_usage_error("--probe-origin: expected IP:PORT, got '%s'", arg);
                }
                o->probe_origin = true;
                o->probe_origin_target = arg;
                break;
            case CLI_OPT_MAX_FLOWS:
            case CLI_OPT_MAX_FLOW_BYTES:
            case CLI_OPT_MAX_TOTAL_BYTES:
                if (!cli_parse_limit(c, arg, &limits, msg, sizeof msg)) {
                    return cc_usage_error("%s", msg);
                }
                o->max_flows = limits.max_flows;
                o->max_flow_bytes = (uint32_t)limits.max_flow_bytes;  // below 4G
                o->max_total_bytes = limits.max_total_bytes;
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
                if (!cc_plain(arg, UINT64_MAX, &o->count) || o->count == 0) {
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

// cc_oom: we or the pipeline (its analyzer) ran out of memory.
static bool cc_oom(const cc_ctx *c) {
    return c->oom || (c->pl != NULL && pipeline_result_so_far(c->pl)->oom);
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

// cc_build_filter: the kernel filter from the analyzer's prefixes (unless --all-sources).
static char *cc_build_filter(const cc_options *o, const analyzer *an) {
    size_t n = o->all_sources ? 0 : analyzer_num_prefixes(an);
    char(*txt)[64] = calloc(n ? n : 1, sizeof *txt);
    const char **nets = calloc(n ? n : 1, sizeof *nets);
    char *bpf = NULL;
    if (txt && nets) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (analyzer_prefix_at(an, i, txt[k], sizeof txt[k])) {
                nets[k] = txt[k];
                k++;
            }
        }
        bpf = cap_live_filter(nets, k, o->ports, o->num_ports, o->filter);
    }
    free(txt);
    free(nets);
    return bpf;
}

static void cc_status(cc_ctx *c, uint64_t packets, const dissect *d, uint64_t drops) {
    const summary *s = analyzer_summary(c->an);
    const dissect_stats *st = dissect_get_stats(d);
    fprintf(stderr,
            "\r\x1b[Ktlsdiag: %" PRIu64 " packets, %" PRIu64 " connections, %" PRIu64
            " ok / %" PRIu64 " failed, top cause %s, %" PRIu64 " dropped",
            packets, st->flows_created, s->succeeded, s->failed,
            s->failed ? cause_name(s->dominant) : "-", drops);
    fflush(stderr);
    c->status_shown = true;
}

// cc_capture_stats: libpcap's counters after the summary (text) or as one JSON object.
static void cc_capture_stats(const cc_options *o, const char *iface, const char *bpf,
                             uint64_t packets, bool have, uint64_t received, uint64_t dropped,
                             const dissect_stats *st, uint64_t written) {
    if (o->json) {
        char rx[24] = "null", dr[24] = "null";
        if (have) {
            snprintf(rx, sizeof rx, "%" PRIu64, received);
            snprintf(dr, sizeof dr, "%" PRIu64, dropped);
        }
        printf("{\"schema_version\":%d,\"type\":\"capture\",\"packets\":%" PRIu64
               ",\"received\":%s,\"dropped\":%s,\"flows_evicted\":%" PRIu64
               ",\"peak_flows\":%" PRIu32 ",\"peak_buffered_bytes\":%" PRIu64
               ",\"written\":%" PRIu64 "}\n",
               REPORT_SCHEMA_VERSION, packets, rx, dr, st->flows_evicted, st->peak_flows,
               st->peak_buffered_bytes, written);
        return;
    }
    if (o->verbosity < REPORT_NORMAL) {
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
    if (o->verbosity >= REPORT_VERBOSE) {
        printf("         filter: %s\n", bpf);
    }
}

static void cc_summary(cc_ctx *c, const dissect_stats *st) {
    cli_undecoded_print(st);
    report_run_info info = {
        .profile_name = analyzer_profile_name(c->an),
        .profile_version = analyzer_profile_version(c->an),
        .prefix_source = analyzer_prefix_source(c->an),
        .trust_store = analyzer_trust_store(c->an),
        .undecoded = st->undecoded,
    };
    (void)report_summary(c->rep, analyzer_summary(c->an), &info);
}

// cc_pipeline_config: the pipeline's configuration from capture's options.
static void cc_pipeline_config(const cc_options *o, pipeline_config *pc) {
    pipeline_config_default(pc);
    pc->limits = (pipeline_limits){o->max_flows, o->max_flow_bytes, o->max_total_bytes};
    pc->profile = o->profile;
    pc->ca_file = o->ca_file;
    pc->ca_path = o->ca_path;
    pc->ranges_file = o->ranges_file;
    pc->count = o->count;
}

static analyzer *cc_analyzer(const pipeline_config *pc) {
    char err[512] = "";
    analyzer *a = pipeline_analyzer_new(pc, false, err, sizeof err);
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

// cc_frame: one captured frame through the dissector, and into the file if it is to be kept.
static void cc_frame(cc_ctx *c, dissect *d, cap_writer *w, const dissect_frame *fr) {
    dissect_frame_info info;
    dissect_feed_ex(d, fr, &info);
    bool keep = !c->o->handshake_only || (info.tcp && info.undecided && !info.app_data);
    if (w && keep && !cap_writer_write(w, fr)) {
        cc_said_disk(c, w);
    }
}

// cc_mark_drops stamps the open flows when the kernel reported new drops. The stamp walks every
// open flow, so under sustained drops it runs at most once per max(CC_STATS_EVERY, peak flows)
// packets (amortized O(1) per packet; `force` on an idle wake-up and at the end): marking after
// each 256-packet drop read cost more than the packets themselves and made a burst of drops
// snowball (bench/LIVE.md). A flow that opens and is decided between a drop and the next mark
// is not stamped; its own gaps still say what it lost.
static void cc_mark_drops(cc_ctx *c, dissect *d, uint64_t drops, uint64_t packets, bool force) {
    if (drops <= c->drops_marked) {
        return;
    }
    uint64_t every = dissect_get_stats(d)->peak_flows;
    if (!force && packets - c->marked_at < (every > CC_STATS_EVERY ? every : CC_STATS_EVERY)) {
        return;
    }
    c->drops_marked = drops;
    c->marked_at = packets;
    dissect_mark_drops(d);  // the open flows may miss packets: say so in their verdicts
}

// One dispatch batch: cc_loop's state for cc_batch_frame (called by capture/ per packet).
typedef struct cc_batch {
    cc_ctx *c;
    dissect *d;
    cap_writer *w;
    uint64_t frames;  // frames analysed in this batch
} cc_batch;

static void cc_batch_frame(void *user, const dissect_frame *f) {
    cc_batch *b = user;
    cc_ctx *c = b->c;
    if (cc_oom(c) || report_write_failed(c->rep) || (c->o->count && c->handshakes >= c->o->count)) {
        return;  // stopping: the rest of the batch is not analysed (as when the loop ends)
    }
    b->frames++;
    cc_frame(c, b->d, b->w, f);
}

// cc_say_bounds: a byte, message or event cap that engaged since the last call, said once.
static void cc_say_bounds(cc_ctx *c, const dissect *d) {
    dissect_bounds fresh;
    if (cli_limits_fresh(&c->said, &dissect_get_stats(d)->bounds, &fresh)) {
        cc_status_erase(c);
        cli_limits_print_bounds(&fresh, c->dc);
    }
}

// cc_loop reads until a stop condition; returns false when the capture stopped on an error.
static bool cc_loop(cc_ctx *c, cap_reader *cr, dissect *d, cap_writer *w, uint64_t *packets,
                    uint64_t *drops) {
    const cc_options *o = c->o;
    bool tty = isatty(STDERR_FILENO) == 1;
    int64_t start = cc_now_ns(), last_status = start, last_flush = start;
    uint64_t evicted_seen = 0;
    bool said_evicting = false;
    for (;;) {
        if (cc_signal || cc_oom(c) || report_write_failed(c->rep) ||
            (o->count && c->handshakes >= o->count)) {
            return true;
        }
        // Batches of CC_STATS_EVERY frames, analysed in place in the kernel's ring.
        cc_batch b = {.c = c, .d = d, .w = w};
        uint64_t before = *packets;
        int n = cap_live_dispatch(cr, CC_STATS_EVERY, cc_batch_frame, &b);
        if (n < 0) {
            return cc_signal != 0 || cap_live_error(cr)[0] == '\0';
        }
        *packets += b.frames;
        if (n == 0 || *packets / CC_STATS_EVERY != before / CC_STATS_EVERY) {
            uint64_t rx, dr;
            if (cap_live_stats(cr, &rx, &dr) && dr > *drops) {
                *drops = dr;
            }
            cc_mark_drops(c, d, *drops, *packets, n == 0);
            const dissect_stats *st = dissect_get_stats(d);
            // Idle flows are evicted too (normal); a full table is what a flood or scan causes.
            if (st->flows_evicted > evicted_seen) {
                evicted_seen = st->flows_evicted;
                if (!said_evicting && st->peak_flows >= c->max_flows) {
                    said_evicting = true;
                    cc_status_erase(c);
                    fprintf(stderr,
                            "tlsdiag: flow table full (--max-flows %" PRIu32
                            "): evicting the oldest undecided connections (SYN flood or scan?); "
                            "memory stays within the caps\n",
                            c->max_flows);
                }
            }
            cc_say_bounds(c, d);
            int64_t now = cc_now_ns();
            if (o->duration_s && now - start >= (int64_t)o->duration_s * 1000000000) {
                return true;
            }
            if (w && now - last_flush >= 1000000000) {
                last_flush = now;
                if (!cap_writer_flush(w) && cap_writer_error(w)) {
                    cc_said_disk(c, w);
                }
            }
            if (tty && o->verbosity >= REPORT_NORMAL && now - last_status >= 1000000000) {
                last_status = now;
                cc_status(c, *packets, d, *drops);
            }
        }
    }
}

int cli_cmd_capture(int argc, char **argv) {
    cc_options o;
    int rc = cc_parse(argc, argv, &o);
    if (rc != 0) {
        return rc < 0 ? TLSDIAG_EXIT_OK : rc;
    }
    const char *iface = o.iface ? o.iface : "any";
    int status = TLSDIAG_EXIT_OK;
    cc_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.o = &o;
    cap_reader *cr = NULL;
    cap_writer *w = NULL;
    dissect *d = NULL;
    char err[1024] = "";

    pipeline_config pc;
    cc_pipeline_config(&o, &pc);
    pipeline *pl = NULL;
    ctx.an = cc_analyzer(&pc);
    if (!ctx.an) {
        return TLSDIAG_EXIT_INPUT;
    }
    char *bpf = cc_build_filter(&o, ctx.an);
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
        .format = o.json ? REPORT_JSON : REPORT_TEXT,
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
            .rotate_bytes = o.rotate_bytes,
            .ring_files = o.ring_files,
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
    // The live reader feeds the pipeline's dissector itself (dissect_feed_ex: --handshake-only
    // asks each frame's role; drops are stamped on the open flows).
    pipeline_sinks sinks = {.user = &ctx, .on_verdict = cc_on_verdict, .stop = cc_stop};
    pl = pipeline_new(&pc, ctx.an, &sinks);
    if (!pl) {
        ctx.oom = true;
        goto out;
    }
    d = pipeline_live_dissector(pl);
    ctx.pl = pl;
    ctx.max_flows = pipeline_dissect_config_used(pl)->max_flows;
    ctx.dc = pipeline_dissect_config_used(pl);
    cc_reader = cr;
    cc_signals();
    if (o.verbosity >= REPORT_NORMAL) {
        fprintf(stderr, "tlsdiag: listening on %s (%s), %s; Ctrl-C to stop\n", iface,
                cap_linktype_name(cap_live_linktype(cr)),
                o.all_sources ? "all sources"
                              : (analyzer_num_prefixes(ctx.an) ? analyzer_prefix_source(ctx.an)
                                                               : "all sources"));
    }
    uint64_t packets = 0, drops = 0;
    bool clean = cc_loop(&ctx, cr, d, w, &packets, &drops);
    cc_reader = NULL;
    // Stopped by a signal or --duration: what the kernel had already captured is analyzed too
    // (bounded: one ring's worth at most, the kernel adds no more once we stop reading fast).
    dissect_frame fr;
    for (uint32_t n = 0; clean && !cc_oom(&ctx) && (!o.count || ctx.handshakes < o.count) &&
                         n < CC_DRAIN_MAX && cap_live_next_queued(cr, &fr) == 1;
         n++) {
        packets++;
        cc_frame(&ctx, d, w, &fr);
    }
    cc_status_erase(&ctx);
    if (!clean) {
        fprintf(stderr, "tlsdiag: %s\n", cap_live_error(cr));
        status = TLSDIAG_EXIT_INPUT;
    }
    uint64_t rx = 0, dr = 0;
    bool have = cap_live_stats(cr, &rx, &dr);
    cc_mark_drops(&ctx, d, have && dr > drops ? dr : drops, packets, true);
    if (!o.count || ctx.handshakes < o.count) {
        (void)pipeline_finish(pl);  // the open handshakes, as "capture ended"
        cc_say_bounds(&ctx, d);
    }
    uint64_t written = w ? cap_writer_frames(w) : 0;
    if (w) {
        char werr[600] = "";
        if (!cap_writer_close(w, werr, sizeof werr)) {
            fprintf(stderr, "tlsdiag: %s\n", werr);
        }
        w = NULL;
    }
    cc_summary(&ctx, dissect_get_stats(d));
    cc_capture_stats(&o, iface, bpf, packets, have, rx, dr, dissect_get_stats(d), written);
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
    if (cc_oom(&ctx)) {
        fputs("tlsdiag: out of memory\n", stderr);
        status = TLSDIAG_EXIT_INTERNAL;
    }
    pipeline_free(pl);
    cap_close(cr);
    report_free(ctx.rep);
    analyzer_free(ctx.an);
    cli_probe_origin_free(ctx.po);
    free(bpf);
    return status;
}
