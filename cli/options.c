// options.c — parsing and help of the `dissect` and `analyze` options (getopt_long).
//
// Every usage error names the offending option and what was expected, and exits 2:
//   tlsdiag: --max-flows: expected a positive integer, got 'x'
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "optable.h"
#include "probe.h"
#include "capture.h"
#include "report.h"

static const char *mode_name(cli_mode m) {
    return m == CLI_DISSECT ? "dissect" : m == CLI_CAPTURE ? "capture" : "analyze";
}

static void capture_usage(FILE *f) {
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
        "      --profile NAME     cloudfront (default), cloudfront-2025 or generic\n"
        "      --probe-origin[=IP:PORT]  probe the origin (default: the connection's server) for\n"
        "                         each failure whose certificate TLS 1.3 hid; findings added\n"
        "      --doctor FILE      an nginx, Apache or HAProxy configuration (repeat for each\n"
        "                         server): a failure's fix names its file:line\n"
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

void cli_usage(cli_mode mode, FILE *f) {
    if (mode == CLI_CAPTURE) {
        capture_usage(f);
        return;
    }
    if (mode == CLI_DISSECT) {
        fputs(
            "Usage: tlsdiag dissect [options] FILE...\n"
            "\n"
            "Print every TCP connection's TLS handshake transcript: a ladder of SYN, each\n"
            "handshake message and alert (who sent it, frame, time), gaps and encrypted records.\n",
            f);
    } else {
        fputs(
            "Usage: tlsdiag analyze [options] FILE...\n"
            "\n"
            "Name why each failed TLS handshake failed: one line per failure as it is found,\n"
            "then a summary with the dominant cause, its evidence, the fix, the openssl command\n"
            "to check it, the dead ends, and tables per SNI, client network and certificate.\n",
            f);
    }
    fputs(
        "\n"
        "Input:\n"
        "  FILE, -r, --read FILE\n"
        "                       pcap or pcapng file(s), merged in time order; - is stdin\n"
        "  -f, --filter EXPR    BPF filter applied to every file (tcpdump syntax)\n"
        "  -c, --count N        stop after N handshakes (connections), as tcpdump -c\n"
        "  -n, --no-resolve     accepted as in tcpdump; tlsdiag never resolves names\n"
        "\n"
        "Output:\n"
        "      --json           JSON Lines (schema_version 1) instead of text\n"
        "  -q, --quiet          summary only\n"
        "  -v, --verbose        also succeeded handshakes, and each failure's evidence\n"
        "      --color[=WHEN]   auto (default: on a terminal, unless NO_COLOR is set),\n"
        "                       always or never\n"
        "      --wireshark      a ready wireshark/tshark command that shows the connection\n"
        "                       (analyze: under each failure; -v shows the display filter)\n",
        f);
    if (mode == CLI_ANALYZE) {
        fputs(
            "      --ecs            JSON Lines in the Elastic Common Schema: one event per\n"
            "                       handshake, for Filebeat / Fluent Bit / Vector\n"
            "\n"
            "Analysis:\n"
            "      --profile NAME   client profile: cloudfront, cloudfront-2025 or generic\n"
            "                       (default: cloudfront, or cloudfront-2025 for the\n"
            "                       handshakes whose ClientHello from a CloudFront\n"
            "                       address shows s2n's 2025 policies)\n"
            "      --ca-file FILE   trust store as a PEM bundle (default: the system store)\n"
            "      --ca-path DIR    trust store as a hashed directory\n"
            "      --ranges FILE    AWS ip-ranges.json for CloudFront's origin-facing prefixes\n"
            "      --now TIME       RFC 3339 time used as \"now\" (for tests and tickets:\n"
            "                       makes the output reproducible), e.g. 2026-11-26T20:00:00Z\n"
            "      --probe-origin [IP:PORT]  for each failure whose certificate was hidden\n"
            "                       (TLS 1.3), probe the origin (default: the connection's\n"
            "                       server) with its SNI and add what the probe found\n"
            "      --doctor FILE    an nginx, Apache or HAProxy configuration (repeat for\n"
            "                       each server): a failure's fix names its file:line\n",
            f);
    } else {
        fputs(
            "\n"
            "Accepted as in analyze, without effect on a transcript:\n"
            "      --profile NAME, --ca-file FILE, --ca-path DIR, --ranges FILE, --now TIME,\n"
            "      --probe-origin[=IP:PORT]\n",
            f);
    }
    fputs(
        "\n"
        "Limits (memory is bounded by these, not by the input):\n"
        "      --max-flows N        connections tracked at once (default 65536)\n"
        "      --max-flow-bytes N   bytes buffered per direction (default 1M; K/M/G suffixes)\n"
        "      --max-total-bytes N  bytes buffered in total (default 256M)\n",
        f);
    if (mode == CLI_ANALYZE) {
        fputs(
            "      --threads N          N worker threads, connections spread by address hash\n"
            "                           (same output as 1; 1-64)\n",
            f);
    }
    fputs(
        "  -h, --help               this help\n"
        "\n"
        "Exit status:\n"
        "  0  ran fine, no failed handshakes\n"
        "  1  failed handshakes found (analyze)\n"
        "  2  usage error\n"
        "  3  input error: a file could not be opened or is damaged, or the filter did not\n"
        "     compile (results before the damage are still printed)\n"
        "  4  internal error: out of memory, or output could not be written\n"
        "\n"
        "Examples:\n",
        f);
    if (mode == CLI_DISSECT) {
        fputs(
            "  tlsdiag dissect origin.pcap\n"
            "  tlsdiag dissect --json -f 'tcp port 443' a.pcapng b.pcap | jq .sni\n"
            "  tcpdump -i eth0 -w - 'tcp port 443' | tlsdiag dissect -\n",
            f);
    } else {
        fputs(
            "  tlsdiag analyze origin.pcap\n"
            "  tlsdiag analyze -q --ca-file private-ca.pem -r capture.pcapng\n"
            "  tlsdiag analyze --json --now 2026-11-26T20:00:00Z origin.pcap > verdicts.jsonl\n",
            f);
    }
}

// parse_rfc3339: "2026-11-26T19:55:01Z", with optional fraction and ±hh:mm offset (RFC 3339
// §5.6). Writes Unix seconds.
bool cli_parse_rfc3339(const char *s, int64_t *out) {
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n != 19) {
        return false;
    }
    const char *p = s + n;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') {
            return false;
        }
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5 || oh > 23 || om > 59) {
            return false;
        }
        offset = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 1 + k;
    } else {
        return false;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
        return false;
    }
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm) - offset;
    return true;
}

static int usage_error(cli_mode mode, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(cli_mode mode, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("tlsdiag: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'tlsdiag %s --help'.\n", mode_name(mode));
    return TLSDIAG_EXIT_USAGE;
}

// parse_units parses a non-negative integer with an optional unit suffix from `units`
// ("s", "m", … with multipliers). false when malformed or it overflows.
static bool parse_units(const char *s, const char *const *units, const uint64_t *mult,
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

static bool parse_plain(const char *s, uint64_t max, uint64_t *out) {
    uint64_t v;
    if (!parse_units(s, NULL, NULL, 0, 1, &v) || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool add_ports(struct cli_capture *o, const char *arg) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        uint64_t v;
        if (!parse_plain(tok, 65535, &v) || v == 0 ||
            o->num_ports == sizeof o->ports / sizeof o->ports[0]) {
            return false;
        }
        o->ports[o->num_ports++] = (uint16_t)v;
    }
    return true;
}

static bool add_file(cli_options *o, const char *path) {
    const char **f = realloc(o->files, (o->num_files + 1) * sizeof *f);
    if (f == NULL) {
        return false;
    }
    f[o->num_files++] = path;
    o->files = f;
    return true;
}

// capture_check: capture's operands (none) and the -w options that need each other.
static int capture_check(const cli_options *o, int argc, char **argv) {
    const struct cli_capture *k = &o->cap;
    if (optind < argc) {
        return usage_error(CLI_CAPTURE,
                           "unexpected argument '%s' (capture reads an interface; use "
                           "'tlsdiag analyze FILE' for files)",
                           argv[optind]);
    }
    if ((k->rotate_bytes || k->ring_files || k->handshake_only) && !k->write_path) {
        return usage_error(CLI_CAPTURE, "%s needs -w FILE",
                           k->handshake_only ? "--handshake-only"
                           : k->rotate_bytes ? "-C"
                                             : "-W");
    }
    if (k->rotate_seconds && (!k->write_path || k->ring_files)) {
        return usage_error(CLI_CAPTURE, k->ring_files ? "-G cannot be combined with -W"
                                                      : "-G needs -w FILE (a strftime(3) name)");
    }
    if (k->ring_files && !k->rotate_bytes) {
        return usage_error(CLI_CAPTURE,
                           "-W needs -C SIZE (the size at which to move to the next file)");
    }
    return 0;
}

int cli_parse(cli_mode mode, int argc, char **argv, cli_options *out) {
    static const char *const dur_units[] = {"s", "m", "h"};
    static const uint64_t dur_mult[] = {1, 60, 3600};
    static const char *const size_units[] = {"k", "K", "m", "M", "g", "G"};
    static const uint64_t size_mult[] = {1u << 10, 1u << 10, 1u << 20,
                                         1u << 20, 1u << 30, 1u << 30};
    cli_options o;
    memset(&o, 0, sizeof o);
    o.mode = mode;
    o.profile = NULL;  // the analyzer's default: cloudfront, recognising the 2025 policies
    optind = 1;
    opterr = 0;
    int c, idx;
    uint64_t n = 0;
    int rc = 0;
    unsigned cmd = mode == CLI_DISSECT   ? CLI_CMD_DISSECT
                   : mode == CLI_CAPTURE ? CLI_CMD_CAPTURE
                                         : CLI_CMD_ANALYZE;
    bool capture = mode == CLI_CAPTURE;
    struct cli_capture *k = &o.cap;
    cli_getopt g;
    cli_getopt_init(cmd, &g);
    pipeline_limits limits = {0};
    char msg[200];
    while (rc == 0 && (c = getopt_long(argc, argv, g.optstring, g.longopts, &idx)) != -1) {
        const char *arg = optarg;
        switch (c) {
            case 'r':
                if (!add_file(&o, arg)) {
                    rc = TLSDIAG_EXIT_INTERNAL;
                }
                break;
            case 'f':
                o.filter = arg;
                break;
            case CLI_OPT_JSON:
                o.json = true;
                break;
            case CLI_OPT_ECS:
                o.json = o.ecs = true;
                break;
            case 'q':
                o.verbosity = REPORT_QUIET;
                break;
            case 'v':
                o.verbosity = REPORT_VERBOSE;
                break;
            case CLI_OPT_COLOR:
                if (arg == NULL || strcmp(arg, "always") == 0) {
                    o.color = CLI_COLOR_ALWAYS;
                } else if (strcmp(arg, "auto") == 0) {
                    o.color = CLI_COLOR_AUTO;
                } else if (strcmp(arg, "never") == 0) {
                    o.color = CLI_COLOR_NEVER;
                } else {
                    rc =
                        usage_error(mode, "--color: expected auto, always or never, got '%s'", arg);
                }
                break;
            case CLI_OPT_CA_FILE:
                o.ca_file = arg;
                break;
            case CLI_OPT_CA_PATH:
                o.ca_path = arg;
                break;
            case CLI_OPT_RANGES:
                o.ranges_file = arg;
                break;
            case CLI_OPT_PROFILE:
                if (!capture && strcmp(arg, "cloudfront") != 0 &&
                    strcmp(arg, "cloudfront-2025") != 0 && strcmp(arg, "generic") != 0) {
                    rc = usage_error(
                        mode,
                        "--profile: expected cloudfront, cloudfront-2025 or generic, got '%s'",
                        arg);
                }
                o.profile = arg;
                break;
            case CLI_OPT_NOW:
                if (!cli_parse_rfc3339(arg, &o.now)) {
                    rc = usage_error(mode,
                                     "--now: expected an RFC 3339 time such as "
                                     "2026-11-26T20:00:00Z, got '%s'",
                                     arg);
                }
                break;
            case CLI_OPT_MAX_FLOWS:
            case CLI_OPT_MAX_FLOW_BYTES:
            case CLI_OPT_MAX_TOTAL_BYTES:
                if (!cli_parse_limit(c, arg, &limits, msg, sizeof msg)) {
                    rc = usage_error(mode, "%s", msg);
                }
                break;
            case 'c':
                if (!cli_parse_count(arg, false, UINT64_MAX, &n)) {
                    rc = usage_error(mode, "%s: expected a positive integer, got '%s'",
                                     capture ? "--count" : "-c/--count", arg);
                }
                o.count = n;
                break;
            case 'n':
                break;  // tlsdiag prints addresses, never names: nothing to turn off
            case CLI_OPT_THREADS:
                if (!cli_parse_count(arg, false, 64, &n)) {
                    rc = usage_error(mode, "--threads: expected an integer from 1 to 64, got '%s'",
                                     arg);
                }
                o.threads = (uint32_t)n;
                break;
            case CLI_OPT_PROBE_ORIGIN:
                if (capture) {  // capture takes no operands: a following word is the IP:PORT
                    if (!arg && optind < argc && argv[optind][0] != '-') {
                        arg = argv[optind++];
                    }
                    char host[256];
                    uint16_t port;
                    if (arg && !probe_parse_target(arg, host, sizeof host, &port)) {
                        rc = usage_error(mode, "--probe-origin: expected IP:PORT, got '%s'",
                                         arg ? arg : "");
                    }
                }
                // "--probe-origin IP:PORT" as well as "--probe-origin=IP:PORT": a following
                // argument that names no file and has a port is the target, not a capture.
                if (arg == NULL && optind < argc && argv[optind][0] != '-' &&
                    strchr(argv[optind], ':') && access(argv[optind], F_OK) != 0) {
                    arg = argv[optind++];
                }
                o.probe_origin = true;
                o.probe_origin_target = arg;
                break;
            case CLI_OPT_DOCTOR:
                if (o.num_doctor == sizeof o.doctor / sizeof o.doctor[0]) {
                    rc = usage_error(mode, "--doctor: at most one file per server (3)");
                    break;
                }
                o.doctor[o.num_doctor++] = arg;
                break;
            case CLI_OPT_WIRESHARK:
                o.wireshark = true;
                break;
            case 'i':
                k->iface = arg;
                break;
            case 'p':
                if (!add_ports(k, arg)) {
                    rc = usage_error(mode, "-p: expected port numbers 1-65535, got '%s'", arg);
                }
                break;
            case CLI_OPT_ALL_SOURCES:
                k->all_sources = true;
                break;
            case CLI_OPT_PRINT_FILTER:
                k->print_filter = true;
                break;
            case CLI_OPT_DURATION:
                if (!parse_units(arg, dur_units, dur_mult, 3, 1, &k->duration_s) ||
                    k->duration_s == 0) {
                    rc = usage_error(
                        mode, "--duration: expected seconds (e.g. 90, 15m, 2h), got '%s'", arg);
                }
                break;
            case 'w':
                k->write_path = arg;
                break;
            case CLI_OPT_HANDSHAKE_ONLY:
                k->handshake_only = true;
                break;
            case 'C':
                if (!parse_units(arg, size_units, size_mult, 6, 1000000, &k->rotate_bytes) ||
                    k->rotate_bytes == 0) {
                    rc = usage_error(mode, "-C: expected a size in MB (or with k/m/g), got '%s'",
                                     arg);
                }
                break;
            case 'W':
                if (!parse_plain(arg, 100000, &n) || n == 0) {
                    rc =
                        usage_error(mode, "-W: expected a number of files 1-100000, got '%s'", arg);
                }
                k->ring_files = (uint32_t)n;
                break;
            case 'G':
                if (!parse_plain(arg, 366u * 86400, &n) || n == 0) {
                    rc = usage_error(mode, "-G: expected seconds 1-31622400, got '%s'", arg);
                }
                k->rotate_seconds = (uint32_t)n;
                break;
            case 'D':
                k->list_interfaces = true;
                break;
            case 'Z':
                k->user = arg;
                break;
            case 'B':
                if (!parse_plain(arg, UINT32_MAX / 1024, &n) || n == 0) {
                    rc = usage_error(mode, "-B: expected a size in KiB, got '%s'", arg);
                }
                k->buffer_bytes = (uint32_t)(n * 1024);
                break;
            case 's':
                if (!parse_plain(arg, CAP_LIVE_SNAPLEN, &n)) {
                    rc = usage_error(mode, "-s: expected a snapshot length up to 262144, got '%s'",
                                     arg);
                }
                k->snaplen = (uint32_t)n;
                break;
            case 'h':
                cli_usage(mode, stdout);
                rc = -1;
                break;
            case ':': {
                // optopt is the short option, or the long option's val; name it as typed.
                const char *typed = argv[optind - 1];
                rc = usage_error(
                    mode, capture ? "option '%s' needs a value" : "%s: missing argument", typed);
                break;
            }
            default: {
                const char *typed = argv[optind - 1];
                if (!capture && optopt != 0 && strncmp(typed, "--", 2) == 0) {
                    // A known long option given "=VALUE" although it takes none (--json=x).
                    int len = (int)strcspn(typed, "=");
                    rc = usage_error(mode, "%.*s: takes no argument, got '%s'", len, typed,
                                     typed + len + (typed[len] == '=' ? 1 : 0));
                    break;
                }
                if (cli_opt_elsewhere(cmd, typed, optopt, msg, sizeof msg)) {
                    rc = usage_error(mode, "%s", msg);
                    break;
                }
                char shortopt[3] = {'-', (char)optopt, '\0'};
                rc =
                    usage_error(mode, "unknown option '%s'", optopt && !capture ? shortopt : typed);
                break;
            }
        }
    }
    if (capture && rc == 0) {
        rc = capture_check(&o, argc, argv);
        o.max_flows = limits.max_flows;
        o.max_flow_bytes = (uint32_t)limits.max_flow_bytes;  // below 4G (cli_parse_limit)
        o.max_total_bytes = limits.max_total_bytes;
        *out = o;
        return rc;
    }
    for (int i = optind; rc == 0 && i < argc; i++) {
        if (!add_file(&o, argv[i])) {
            rc = TLSDIAG_EXIT_INTERNAL;
        }
    }
    size_t stdin_count = 0;
    for (size_t i = 0; rc == 0 && i < o.num_files; i++) {
        stdin_count += strcmp(o.files[i], "-") == 0;
    }
    if (rc == 0 && stdin_count > 1) {
        rc = usage_error(mode, "-: standard input can be read only once");
    }
    if (rc == 0 && o.num_files == 0) {
        rc = usage_error(mode, "no capture file given (a path, -r FILE, or - for stdin)");
    }
    if (rc != 0) {
        free(o.files);
        if (rc == TLSDIAG_EXIT_INTERNAL) {
            fputs("tlsdiag: out of memory\n", stderr);
        }
        return rc;
    }
    o.max_flows = limits.max_flows;
    o.max_flow_bytes = (uint32_t)limits.max_flow_bytes;  // below 4G (cli_parse_limit)
    o.max_total_bytes = limits.max_total_bytes;
    *out = o;
    return 0;
}

void cli_options_free(cli_options *o) {
    free(o->files);
    o->files = NULL;
    o->num_files = 0;
}
