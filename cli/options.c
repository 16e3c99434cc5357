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
#include "report.h"

static const char *mode_name(cli_mode m) {
    return m == CLI_DISSECT ? "dissect" : "analyze";
}

void cli_usage(cli_mode mode, FILE *f) {
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
            "      --profile NAME   client profile: cloudfront (default) or generic\n"
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
        "      --max-total-bytes N  bytes buffered in total (default 256M)\n"
        "      --threads N          analyze with N worker threads, connections spread by\n"
        "                           address hash (same output as 1; analyze only, 1-64)\n"
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

static bool add_file(cli_options *o, const char *path) {
    const char **f = realloc(o->files, (o->num_files + 1) * sizeof *f);
    if (f == NULL) {
        return false;
    }
    f[o->num_files++] = path;
    o->files = f;
    return true;
}

int cli_parse(cli_mode mode, int argc, char **argv, cli_options *out) {
    cli_options o;
    memset(&o, 0, sizeof o);
    o.mode = mode;
    o.profile = "cloudfront";
    optind = 1;
    opterr = 0;
    int c, idx;
    uint64_t n = 0;
    int rc = 0;
    cli_getopt g;
    cli_getopt_init(mode == CLI_DISSECT ? CLI_CMD_DISSECT : CLI_CMD_ANALYZE, &g);
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
                if (strcmp(arg, "cloudfront") != 0 && strcmp(arg, "generic") != 0) {
                    rc = usage_error(mode, "--profile: expected cloudfront or generic, got '%s'",
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
                    rc =
                        usage_error(mode, "-c/--count: expected a positive integer, got '%s'", arg);
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
            case 'h':
                cli_usage(mode, stdout);
                rc = -1;
                break;
            case ':': {
                // optopt is the short option, or the long option's val; name it as typed.
                const char *typed = argv[optind - 1];
                rc = usage_error(mode, "%s: missing argument", typed);
                break;
            }
            default: {
                const char *typed = argv[optind - 1];
                if (optopt != 0 && strncmp(typed, "--", 2) == 0) {
                    // A known long option given "=VALUE" although it takes none (--json=x).
                    int len = (int)strcspn(typed, "=");
                    rc = usage_error(mode, "%.*s: takes no argument, got '%s'", len, typed,
                                     typed + len + (typed[len] == '=' ? 1 : 0));
                    break;
                }
                if (cli_opt_elsewhere(mode == CLI_DISSECT ? CLI_CMD_DISSECT : CLI_CMD_ANALYZE,
                                      typed, optopt, msg, sizeof msg)) {
                    rc = usage_error(mode, "%s", msg);
                    break;
                }
                char shortopt[3] = {'-', (char)optopt, '\0'};
                rc = usage_error(mode, "unknown option '%s'", optopt ? shortopt : typed);
                break;
            }
        }
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
