// options.c — the one parser of every subcommand's options (getopt_long over optable.h's rows).
//
// Every usage error names the offending option and what was expected, and exits 2:
//   tlsdiag: --max-flows: expected a positive integer, got 'x'
// How a subcommand words a missing value or an unknown option is its row of cli_msgs (their
// wording predates the one parser and scripts match it).
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"
#include "cli.h"
#include "optable.h"
#include "capture.h"
#include "report.h"

// How each subcommand words the two errors getopt finds.
static const struct cli_msgs {
    const char *missing_pre, *missing_post;  // an option without its value: pre OPTION post
    const char *unknown;                     // before an unknown option, as typed, and "'"
    bool letter_alone;  // an unknown short option alone (-x), not as typed (-qx)
    bool no_value;      // a known long option given =VALUE it does not take: said so
} cli_msgs[] = {
    [CLI_ANALYZE] = {"", ": missing argument", "unknown option '", true, true},
    [CLI_DISSECT] = {"", ": missing argument", "unknown option '", true, true},
    [CLI_CAPTURE] = {"option '", "' needs a value", "unknown option '", false, false},
    [CLI_PROBE] = {"missing argument for '", "'", "unknown option '", false, false},
    [CLI_REPORT] = {"missing argument of '", "'",
                    "unknown option, or an argument it does not take: '", true, false},
    [CLI_DOCTOR] = {"option '", "' needs an argument", "unknown option '", false, false},
};

static int usage_error(cli_mode mode, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(cli_mode mode, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("tlsdiag: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'tlsdiag %s --help'.\n", cli_cmd_name(1u << mode));
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

// parse_seconds: probe's timeouts, "2" or "0.5" (0 < S <= 3600) → milliseconds.
static bool parse_seconds(const char *s, uint32_t *ms) {
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || v > 3600) {
        return false;
    }
    *ms = (uint32_t)(v * 1000);
    return *ms > 0;
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

bool cli_options_add_file(cli_options *o, const char *path) {
    const char **f = realloc(o->files, (o->num_files + 1) * sizeof *f);
    if (f == NULL) {
        return false;
    }
    f[o->num_files++] = path;
    o->files = f;
    return true;
}

// bad_option: getopt's ':' (a value missing) or '?' (an option this subcommand has not), said
// in the subcommand's words; an option of another subcommand is named as such.
static int bad_option(cli_mode mode, int c, const char *typed) {
    const struct cli_msgs *m = &cli_msgs[mode];
    if (c == ':') {
        return usage_error(mode, "%s%s%s", m->missing_pre, typed, m->missing_post);
    }
    bool is_long = strncmp(typed, "--", 2) == 0;
    if (m->no_value && optopt != 0 && is_long) {
        // A known long option given "=VALUE" although it takes none (--json=x).
        int len = (int)strcspn(typed, "=");
        return usage_error(mode, "%.*s: takes no argument, got '%s'", len, typed,
                           typed + len + (typed[len] == '=' ? 1 : 0));
    }
    char msg[200];
    if (cli_opt_elsewhere(1u << mode, typed, optopt, msg, sizeof msg)) {
        return usage_error(mode, "%s", msg);
    }
    char shortopt[3] = {'-', (char)optopt, '\0'};
    bool alone = m->letter_alone && optopt > 0 && optopt < 256 && !is_long;
    return usage_error(mode, "%s%s'", m->unknown, alone ? shortopt : typed);
}

// parse_probe_option: the options of `probe` only. -2: not one of them.
static int parse_probe_option(cli_options *o, int c, const char *arg) {
    struct cli_probe *p = &o->probe;
    switch (c) {
        case CLI_OPT_SNI:
            p->pc.sni = arg;
            return 0;
        case CLI_OPT_CONNECT:
            p->pc.connect_ip = arg;
            return 0;
        case CLI_OPT_ORIGIN_PROTOCOLS:
            if (!probe_parse_versions(arg, &p->pc.versions)) {
                return usage_error(CLI_PROBE,
                                   "--origin-protocols: expected a list of SSLv3, TLSv1, TLSv1.1, "
                                   "TLSv1.2, TLSv1.3, got '%s'",
                                   arg);
            }
            return 0;
        case CLI_OPT_MATRIX:
            p->matrix = true;
            return 0;
        case CLI_OPT_SAVE_CHAIN:
            p->save_chain = arg;
            return 0;
        case CLI_OPT_CERT_FILE:
            p->cert_file = arg;
            return 0;
        case CLI_OPT_KEY_FILE:
            p->key_file = arg;
            return 0;
        case CLI_OPT_CONNECT_TIMEOUT:
            if (!parse_seconds(arg, &p->pc.connect_timeout_ms)) {
                return usage_error(CLI_PROBE,
                                   "--connect-timeout: expected seconds (0 < S <= 3600), got '%s'",
                                   arg);
            }
            return 0;
        case CLI_OPT_TIMEOUT:
            if (!parse_seconds(arg, &p->pc.handshake_timeout_ms)) {
                return usage_error(CLI_PROBE,
                                   "--timeout: expected seconds (0 < S <= 3600), got '%s'", arg);
            }
            return 0;
        case CLI_OPT_NO_CAPTURE:
            p->pc.no_capture = true;
            return 0;
        default:
            return -2;
    }
}

// parse_report_option: the options of `report` only. -2: not one of them.
static int parse_report_option(cli_options *o, int c, const char *arg) {
    struct cli_report *r = &o->report;
    uint64_t n = 0;
    switch (c) {
        case 'o':
            r->bo.out_path = arg;
            return 0;
        case CLI_OPT_MAX_CONNECTIONS:
            if (!cli_parse_count(arg, false, 1000, &n)) {
                return usage_error(CLI_REPORT,
                                   "--max-connections: expected an integer 1..1000, got '%s'", arg);
            }
            r->bo.max_connections = (uint32_t)n;
            return 0;
        case CLI_OPT_ANONYMIZE:
            r->bo.anonymize = true;
            return 0;
        case CLI_OPT_ANONYMIZE_KEY:
            if (!bundle_parse_key(arg, r->bo.key)) {
                return usage_error(CLI_REPORT,
                                   "--anonymize-key: expected 64 hex digits or a passphrase");
            }
            r->bo.have_key = r->bo.anonymize = true;
            return 0;
        case CLI_OPT_REDACT_NAMES:
            r->bo.redact_names = true;
            return 0;
        case CLI_OPT_PROBE:
            r->probe_target = arg;
            return 0;
        case CLI_OPT_PROBE_SNI:
            r->probe_sni = arg;
            return 0;
        default:
            return -2;
    }
}

// parse_capture_option: the options of `capture` only. -2: not one of them.
static int parse_capture_option(cli_options *o, int c, const char *arg) {
    static const char *const dur_units[] = {"s", "m", "h"};
    static const uint64_t dur_mult[] = {1, 60, 3600};
    static const char *const size_units[] = {"k", "K", "m", "M", "g", "G"};
    static const uint64_t size_mult[] = {1u << 10, 1u << 10, 1u << 20,
                                         1u << 20, 1u << 30, 1u << 30};
    struct cli_capture *k = &o->cap;
    uint64_t n = 0;
    switch (c) {
        case 'i':
            k->iface = arg;
            return 0;
        case 'p':
            if (!add_ports(k, arg)) {
                return usage_error(CLI_CAPTURE, "-p: expected port numbers 1-65535, got '%s'", arg);
            }
            return 0;
        case CLI_OPT_ALL_SOURCES:
            k->all_sources = true;
            return 0;
        case CLI_OPT_PRINT_FILTER:
            k->print_filter = true;
            return 0;
        case CLI_OPT_DURATION:
            if (!parse_units(arg, dur_units, dur_mult, 3, 1, &k->duration_s) ||
                k->duration_s == 0) {
                return usage_error(
                    CLI_CAPTURE, "--duration: expected seconds (e.g. 90, 15m, 2h), got '%s'", arg);
            }
            return 0;
        case CLI_OPT_HANDSHAKE_ONLY:
            k->handshake_only = true;
            return 0;
        case 'C':
            if (!parse_units(arg, size_units, size_mult, 6, 1000000, &k->rotate_bytes) ||
                k->rotate_bytes == 0) {
                return usage_error(CLI_CAPTURE,
                                   "-C: expected a size in MB (or with k/m/g), got '%s'", arg);
            }
            return 0;
        case 'W':
            if (!parse_plain(arg, 100000, &n) || n == 0) {
                return usage_error(CLI_CAPTURE, "-W: expected a number of files 1-100000, got '%s'",
                                   arg);
            }
            k->ring_files = (uint32_t)n;
            return 0;
        case 'G':
            if (!parse_plain(arg, 366u * 86400, &n) || n == 0) {
                return usage_error(CLI_CAPTURE, "-G: expected seconds 1-31622400, got '%s'", arg);
            }
            k->rotate_seconds = (uint32_t)n;
            return 0;
        case 'D':
            k->list_interfaces = true;
            return 0;
        case 'Z':
            k->user = arg;
            return 0;
        case 'B':
            if (!parse_plain(arg, UINT32_MAX / 1024, &n) || n == 0) {
                return usage_error(CLI_CAPTURE, "-B: expected a size in KiB, got '%s'", arg);
            }
            k->buffer_bytes = (uint32_t)(n * 1024);
            return 0;
        case 's':
            if (!parse_plain(arg, CAP_LIVE_SNAPLEN, &n)) {
                return usage_error(CLI_CAPTURE,
                                   "-s: expected a snapshot length up to 262144, got '%s'", arg);
            }
            k->snaplen = (uint32_t)n;
            return 0;
        default:
            return -2;
    }
}

// parse_probe_origin: --probe-origin[=IP:PORT] of analyze, dissect and capture. The target may
// also be the next word: for capture (no operands) any word that is no option; for analyze a
// word with a port that names no file.
static int parse_probe_origin(cli_options *o, const char *arg, int argc, char **argv) {
    if (o->mode == CLI_CAPTURE) {
        if (!arg && optind < argc && argv[optind][0] != '-') {
            arg = argv[optind++];
        }
        char host[256];
        uint16_t port;
        if (arg && !probe_parse_target(arg, host, sizeof host, &port)) {
            return usage_error(o->mode, "--probe-origin: expected IP:PORT, got '%s'", arg);
        }
    }
    if (arg == NULL && optind < argc && argv[optind][0] != '-' && strchr(argv[optind], ':') &&
        access(argv[optind], F_OK) != 0) {
        arg = argv[optind++];
    }
    o->probe_origin = true;
    o->probe_origin_target = arg;
    return 0;
}

// parse_shared_option: the options more than one subcommand has (each row says which), in
// the words every subcommand shares, and doctor's three files. -2: not one of them.
static int parse_shared_option(cli_options *o, int c, const char *arg, pipeline_limits *limits) {
    cli_mode mode = o->mode;
    uint64_t n = 0;
    char msg[200];
    switch (c) {
        case 'r':
            return cli_options_add_file(o, arg) ? 0 : TLSDIAG_EXIT_INTERNAL;
        case 'f':
            o->filter = arg;
            return 0;
        case 'w':
            o->write_path = arg;
            return 0;
        case CLI_OPT_JSON:
            o->json = true;
            return 0;
        case CLI_OPT_ECS:
            o->json = o->ecs = true;
            return 0;
        case 'q':
            o->verbosity = REPORT_QUIET;
            return 0;
        case 'v':
            o->verbosity = REPORT_VERBOSE;
            return 0;
        case 'n':
            return 0;  // tlsdiag prints addresses, never names: nothing to turn off
        case CLI_OPT_WIRESHARK:
            o->wireshark = true;
            return 0;
        case CLI_OPT_COLOR:
            if (arg == NULL || strcmp(arg, "always") == 0) {
                o->color = CLI_COLOR_ALWAYS;
            } else if (strcmp(arg, "auto") == 0) {
                o->color = CLI_COLOR_AUTO;
            } else if (strcmp(arg, "never") == 0) {
                o->color = CLI_COLOR_NEVER;
            } else {
                return usage_error(mode, "--color: expected auto, always or never, got '%s'", arg);
            }
            return 0;
        case CLI_OPT_CA_FILE:
            o->ca_file = arg;
            return 0;
        case CLI_OPT_CA_PATH:
            o->ca_path = arg;
            return 0;
        case CLI_OPT_RANGES:
            o->ranges_file = arg;
            return 0;
        case CLI_OPT_PROFILE:
            // capture, report and doctor leave an unknown profile to the analyzer (exit 3)
            if (((1u << mode) & (CLI_AD | CLI_CMD_PROBE)) && strcmp(arg, "cloudfront") != 0 &&
                strcmp(arg, "cloudfront-2025") != 0 && strcmp(arg, "generic") != 0) {
                return usage_error(
                    mode, "--profile: expected cloudfront, cloudfront-2025 or generic, got '%s'",
                    arg);
            }
            o->profile = arg;
            return 0;
        case CLI_OPT_NOW:
            if (!analyze_parse_rfc3339(arg, &o->now)) {
                return usage_error(mode,
                                   "--now: expected an RFC 3339 time such as "
                                   "2026-11-26T20:00:00Z, got '%s'",
                                   arg);
            }
            return 0;
        case CLI_OPT_MAX_FLOWS:
        case CLI_OPT_MAX_FLOW_BYTES:
        case CLI_OPT_MAX_TOTAL_BYTES:
            return cli_parse_limit(c, arg, limits, msg, sizeof msg) ? 0
                                                                    : usage_error(mode, "%s", msg);
        case 'c':
            if (!cli_parse_count(arg, false, UINT64_MAX, &n)) {
                return usage_error(mode, "%s: expected a positive integer, got '%s'",
                                   mode == CLI_CAPTURE ? "--count" : "-c/--count", arg);
            }
            o->count = n;
            return 0;
        case CLI_OPT_THREADS:
            if (!cli_parse_count(arg, false, 64, &n)) {
                return usage_error(mode, "--threads: expected an integer from 1 to 64, got '%s'",
                                   arg);
            }
            o->threads = (uint32_t)n;
            return 0;
        case CLI_OPT_DOCTOR:
            if (o->num_doctor == sizeof o->doctor / sizeof o->doctor[0]) {
                return usage_error(mode, "--doctor: at most one file per server (3)");
            }
            o->doctor[o->num_doctor++] = arg;
            return 0;
        case CLI_OPT_NGINX:
            o->servers.nginx = arg;
            return 0;
        case CLI_OPT_APACHE:
            o->servers.apache = arg;
            return 0;
        case CLI_OPT_HAPROXY:
            o->servers.haproxy = arg;
            return 0;
        default:
            return -2;
    }
}

// capture_operands: capture's operands (none) and the -w options that need each other.
static int capture_operands(const cli_options *o, int argc, char **argv) {
    const struct cli_capture *k = &o->cap;
    if (optind < argc) {
        return usage_error(CLI_CAPTURE,
                           "unexpected argument '%s' (capture reads an interface; use "
                           "'tlsdiag analyze FILE' for files)",
                           argv[optind]);
    }
    if ((k->rotate_bytes || k->ring_files || k->handshake_only) && !o->write_path) {
        return usage_error(CLI_CAPTURE, "%s needs -w FILE",
                           k->handshake_only ? "--handshake-only"
                           : k->rotate_bytes ? "-C"
                                             : "-W");
    }
    if (k->rotate_seconds && (!o->write_path || k->ring_files)) {
        return usage_error(CLI_CAPTURE, k->ring_files ? "-G cannot be combined with -W"
                                                      : "-G needs -w FILE (a strftime(3) name)");
    }
    if (k->ring_files && !k->rotate_bytes) {
        return usage_error(CLI_CAPTURE,
                           "-W needs -C SIZE (the size at which to move to the next file)");
    }
    return 0;
}

// probe_operands: probe's one HOST[:PORT], and --key-file's --cert-file.
static int probe_operands(cli_options *o, int argc, char **argv) {
    struct cli_probe *p = &o->probe;
    if (optind >= argc) {
        return usage_error(CLI_PROBE, "expected one HOST[:PORT]");
    }
    if (optind != argc - 1) {
        return usage_error(CLI_PROBE, "expected one HOST[:PORT], got also '%s'", argv[argc - 1]);
    }
    p->target = argv[optind];
    if (!probe_parse_target(p->target, p->host, sizeof p->host, &p->pc.port)) {
        return usage_error(CLI_PROBE, "expected HOST, HOST:PORT or [IPv6]:PORT, got '%s'",
                           p->target);
    }
    if (p->key_file && !p->cert_file) {
        return usage_error(CLI_PROBE, "--key-file needs --cert-file");
    }
    return 0;
}

// file_operands: the capture files of analyze, dissect and report (-r FILE and operands), and
// report's -o and --probe.
static int file_operands(cli_options *o, int argc, char **argv) {
    for (int i = optind; i < argc; i++) {
        if (!cli_options_add_file(o, argv[i])) {
            return TLSDIAG_EXIT_INTERNAL;
        }
    }
    size_t stdin_count = 0;
    for (size_t i = 0; i < o->num_files; i++) {
        stdin_count += strcmp(o->files[i], "-") == 0;
    }
    if (o->mode != CLI_REPORT) {
        if (stdin_count > 1) {
            return usage_error(o->mode, "-: standard input can be read only once");
        }
        return o->num_files > 0 ? 0
                                : usage_error(o->mode,
                                              "no capture file given (a path, -r FILE, "
                                              "or - for stdin)");
    }
    struct cli_report *r = &o->report;
    if (r->bo.out_path == NULL) {
        return usage_error(CLI_REPORT, "-o FILE.tar.gz is required");
    }
    if (r->probe_target != NULL &&
        !probe_parse_target(r->probe_target, r->probe_host, sizeof r->probe_host, &r->probe_port)) {
        return usage_error(CLI_REPORT, "--probe: expected HOST, HOST:PORT or [IPv6]:PORT, got '%s'",
                           r->probe_target);
    }
    if (o->num_files == 0 && r->probe_target == NULL) {
        return usage_error(CLI_REPORT,
                           "no input: give pcap files, a capture run's directory or --probe");
    }
    if (stdin_count > 0) {
        return usage_error(CLI_REPORT,
                           "standard input cannot be used: the captures are read twice");
    }
    return 0;
}

int cli_parse(cli_mode mode, int argc, char **argv, cli_options *out) {
    cli_options o;
    memset(&o, 0, sizeof o);
    o.mode = mode;
    o.profile = NULL;  // the analyzer's default: cloudfront, recognising the 2025 policies
    o.servers.discover = true;
    optind = 1;
    opterr = 0;  // the messages name the option (':' marks a missing value)
    cli_getopt g;
    cli_getopt_init(1u << mode, &g);
    pipeline_limits limits = {0};
    int c, rc = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, g.optstring, g.longopts, NULL)) != -1) {
        if (c == 'h') {
            cli_usage(mode, stdout);
            rc = -1;
        } else if (c == ':' || c == '?') {
            rc = bad_option(mode, c, argv[optind - 1]);
        } else if (c == CLI_OPT_PROBE_ORIGIN) {
            rc = parse_probe_origin(&o, optarg, argc, argv);
        } else if ((rc = parse_shared_option(&o, c, optarg, &limits)) == -2 &&
                   (rc = parse_capture_option(&o, c, optarg)) == -2 &&
                   (rc = parse_probe_option(&o, c, optarg)) == -2) {
            rc = parse_report_option(&o, c, optarg);
        }
    }
    o.max_flows = limits.max_flows;
    o.max_flow_bytes = (uint32_t)limits.max_flow_bytes;  // below 4G (cli_parse_limit)
    o.max_total_bytes = limits.max_total_bytes;
    if (rc == 0 && mode == CLI_CAPTURE) {
        rc = capture_operands(&o, argc, argv);
    } else if (rc == 0 && mode == CLI_PROBE) {
        rc = probe_operands(&o, argc, argv);
    } else if (rc == 0 && mode == CLI_DOCTOR && optind < argc) {
        rc =
            usage_error(mode, "unexpected argument '%s' (give --nginx, --apache or --haproxy FILE)",
                        argv[optind]);
    } else if (rc == 0 && mode != CLI_DOCTOR) {
        rc = file_operands(&o, argc, argv);
    }
    if (rc == TLSDIAG_EXIT_INTERNAL) {
        fputs("tlsdiag: out of memory\n", stderr);
    }
    if (rc != 0) {
        cli_options_free(&o);  // nothing to run: the callers only return rc
    }
    *out = o;
    return rc;
}

void cli_options_free(cli_options *o) {
    free(o->files);
    o->files = NULL;
    o->num_files = 0;
}

bool cli_use_color(bool json, cli_color c) {
    if (json || c == CLI_COLOR_NEVER) {
        return false;
    }
    if (c == CLI_COLOR_ALWAYS) {
        return true;
    }
    const char *nc = getenv("NO_COLOR");
    return !(nc != NULL && nc[0] != '\0') && isatty(STDOUT_FILENO) == 1;
}
