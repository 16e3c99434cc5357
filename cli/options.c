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
#include "report.h"

enum {
    OPT_JSON = 256,
    OPT_COLOR,
    OPT_CA_FILE,
    OPT_CA_PATH,
    OPT_RANGES,
    OPT_PROFILE,
    OPT_NOW,
    OPT_MAX_FLOWS,
    OPT_MAX_FLOW_BYTES,
    OPT_MAX_TOTAL_BYTES,
    OPT_WIRESHARK,
    OPT_PROBE_ORIGIN,
    OPT_THREADS,
};

static const struct option long_options[] = {
    {"read", required_argument, NULL, 'r'},
    {"filter", required_argument, NULL, 'f'},
    {"json", no_argument, NULL, OPT_JSON},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"color", optional_argument, NULL, OPT_COLOR},
    {"colour", optional_argument, NULL, OPT_COLOR},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"ca-path", required_argument, NULL, OPT_CA_PATH},
    {"ranges", required_argument, NULL, OPT_RANGES},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"now", required_argument, NULL, OPT_NOW},
    {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
    {"max-flow-bytes", required_argument, NULL, OPT_MAX_FLOW_BYTES},
    {"max-total-bytes", required_argument, NULL, OPT_MAX_TOTAL_BYTES},
    {"count", required_argument, NULL, 'c'},
    {"no-resolve", no_argument, NULL, 'n'},
    {"wireshark", no_argument, NULL, OPT_WIRESHARK},
    {"probe-origin", optional_argument, NULL, OPT_PROBE_ORIGIN},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

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
            "                       server) with its SNI and add what the probe found\n",
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

// parse_count: a positive decimal integer with an optional K/M/G (×1024) suffix when
// allow_suffix; at most max.
static bool parse_count(const char *s, bool allow_suffix, uint64_t max, uint64_t *out) {
    if (s[0] < '0' || s[0] > '9') {
        return false;  // also rejects "-1", "+1", " 1" and ""
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s) {
        return false;
    }
    uint64_t mul = 1;
    if (allow_suffix && *end != '\0' && end[1] == '\0') {
        switch (*end) {
            case 'k':
            case 'K':
                mul = 1024;
                end++;
                break;
            case 'm':
            case 'M':
                mul = 1024 * 1024;
                end++;
                break;
            case 'g':
            case 'G':
                mul = 1024 * 1024 * 1024;
                end++;
                break;
            default:
                break;
        }
    }
    if (*end != '\0' || v == 0 || v > max / mul) {
        return false;
    }
    *out = (uint64_t)v * mul;
    return true;
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
    uint64_t n;
    int rc = 0;
    // The leading ':' makes getopt report a missing argument as ':' (not '?').
    while (rc == 0 && (c = getopt_long(argc, argv, ":r:f:c:nqvh", long_options, &idx)) != -1) {
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
            case OPT_JSON:
                o.json = true;
                break;
            case 'q':
                o.verbosity = REPORT_QUIET;
                break;
            case 'v':
                o.verbosity = REPORT_VERBOSE;
                break;
            case OPT_COLOR:
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
            case OPT_CA_FILE:
                o.ca_file = arg;
                break;
            case OPT_CA_PATH:
                o.ca_path = arg;
                break;
            case OPT_RANGES:
                o.ranges_file = arg;
                break;
            case OPT_PROFILE:
                if (strcmp(arg, "cloudfront") != 0 && strcmp(arg, "generic") != 0) {
                    rc = usage_error(mode, "--profile: expected cloudfront or generic, got '%s'",
                                     arg);
                }
                o.profile = arg;
                break;
            case OPT_NOW:
                if (!cli_parse_rfc3339(arg, &o.now)) {
                    rc = usage_error(mode,
                                     "--now: expected an RFC 3339 time such as "
                                     "2026-11-26T20:00:00Z, got '%s'",
                                     arg);
                }
                break;
            case OPT_MAX_FLOWS:
                if (!parse_count(arg, false, UINT32_MAX, &n)) {
                    rc = usage_error(mode, "--max-flows: expected a positive integer, got '%s'",
                                     arg);
                }
                o.max_flows = (uint32_t)n;
                break;
            case OPT_MAX_FLOW_BYTES:
                if (!parse_count(arg, true, UINT32_MAX, &n)) {
                    rc = usage_error(mode,
                                     "--max-flow-bytes: expected a positive integer (K/M/G "
                                     "suffix allowed, below 4G), got '%s'",
                                     arg);
                }
                o.max_flow_bytes = (uint32_t)n;
                break;
            case OPT_MAX_TOTAL_BYTES:
                if (!parse_count(arg, true, UINT64_MAX, &n)) {
                    rc = usage_error(mode,
                                     "--max-total-bytes: expected a positive integer (K/M/G "
                                     "suffix allowed), got '%s'",
                                     arg);
                }
                o.max_total_bytes = n;
                break;
            case 'c':
                if (!parse_count(arg, false, UINT64_MAX, &n)) {
                    rc =
                        usage_error(mode, "-c/--count: expected a positive integer, got '%s'", arg);
                }
                o.count = n;
                break;
            case 'n':
                break;  // tlsdiag prints addresses, never names: nothing to turn off
            case OPT_THREADS:
                if (!parse_count(arg, false, 64, &n)) {
                    rc = usage_error(mode, "--threads: expected an integer from 1 to 64, got '%s'",
                                     arg);
                }
                o.threads = (uint32_t)n;
                break;
            case OPT_PROBE_ORIGIN:
                // "--probe-origin IP:PORT" as well as "--probe-origin=IP:PORT": a following
                // argument that names no file and has a port is the target, not a capture.
                if (arg == NULL && optind < argc && argv[optind][0] != '-' &&
                    strchr(argv[optind], ':') && access(argv[optind], F_OK) != 0) {
                    arg = argv[optind++];
                }
                o.probe_origin = true;
                o.probe_origin_target = arg;
                break;
            case OPT_WIRESHARK:
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
    *out = o;
    return 0;
}

void cli_options_free(cli_options *o) {
    free(o->files);
    o->files = NULL;
    o->num_files = 0;
}
