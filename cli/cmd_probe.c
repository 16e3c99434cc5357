// cmd_probe.c — `tlsdiag probe HOST[:PORT]`: options, the probe and the matrix (probe/), output.
//
// Output: the probe's verdict (text line with evidence, or one JSON "handshake" object with
// method "probe"), then with --matrix the matrix (text table, or one "probe_matrix" object),
// then the summary, so a JSON stream always ends with its summary, also when the probe failed.
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "cli.h"
#include "optable.h"
#include "cmd_probe.h"
#include "probe.h"
#include "report.h"

static void probe_usage(FILE *f) {
    fputs(
        "Usage: tlsdiag probe [options] HOST[:PORT]\n"
        "\n"
        "Make one TLS handshake with the origin the way CloudFront would (its protocol\n"
        "versions, cipher suites, groups, signature schemes, SNI and certificate checks),\n"
        "capture it, and name the cause when CloudFront would fail (method: probe).\n"
        "Without permission to capture, the bytes the client sent and received are analyzed\n"
        "instead, and the verdict says so.\n"
        "\n"
        "Target:\n"
        "  HOST[:PORT]              origin domain name (default port 443); [IPv6]:PORT\n"
        "      --sni NAME           SNI to send (the forwarded Host header), default HOST\n"
        "      --connect IP         connect to IP instead of resolving HOST\n"
        "      --origin-protocols L like the distribution's Origin SSL Protocols, e.g.\n"
        "                           TLSv1,TLSv1.1,TLSv1.2 (default: the profile's; SSLv3, "
        "TLSv1.3)\n"
        "      --connect-timeout S  seconds to wait for the TCP connection (default 10)\n"
        "      --timeout S          seconds to wait for the handshake (default 10)\n"
        "\n"
        "Checks:\n"
        "      --matrix             also one handshake per protocol version and per cipher\n"
        "                           suite (rate-limited): which settings would work\n"
        "      --cert-file FILE     compare the served certificate with the server's file\n"
        "      --key-file FILE      and check that this key belongs to the --cert-file\n"
        "      --save-chain FILE    write the chain as sent (PEM), also under TLS 1.3\n"
        "  -w, --write FILE         write the probe's packets as a pcap\n"
        "      --no-capture         do not capture; analyze the client's view\n"
        "      --ca-file FILE, --ca-path DIR   trust store (default: the system's)\n"
        "      --profile NAME       cloudfront (default), cloudfront-2025 or generic\n"
        "\n"
        "Limits (as analyze; the probe's own capture is one connection):\n"
        "      --max-flows N        connections tracked at once (default 65536)\n"
        "      --max-flow-bytes N   bytes buffered per direction (default 1M; K/M/G suffixes)\n"
        "      --max-total-bytes N  bytes buffered in total (default 256M)\n"
        "\n"
        "Output:\n"
        "      --json               JSON Lines: handshake, probe_matrix, summary objects\n"
        "  -q, --quiet              summary only\n"
        "  -v, --verbose            more\n"
        "      --color[=WHEN]       auto, always or never\n"
        "  -h, --help               this help\n"
        "\n"
        "Exit status: 0 CloudFront's handshake would succeed, 1 it would fail, 2 usage\n"
        "error, 3 a file or trust store could not be used, 4 internal error.\n"
        "\n"
        "Examples:\n"
        "  tlsdiag probe origin.example.com\n"
        "  tlsdiag probe --connect 203.0.113.10 --sni www.example.com origin.example.com\n"
        "  tlsdiag probe --matrix --json origin.example.com:8443\n"
        "  tlsdiag probe --cert-file /etc/nginx/cert.pem --key-file /etc/nginx/key.pem localhost\n",
        f);
}

typedef struct probe_opts {
    probe_config pc;
    const char *target, *save_chain, *cert_file, *key_file, *profile;
    bool matrix, json;
    int verbosity;
    cli_color color;
    char host[256];
} probe_opts;

static int probe_usage_error(const char *msg, const char *arg) {
    fprintf(stderr, "tlsdiag: %s%s%s%s\nTry 'tlsdiag probe --help'.\n", msg, arg ? " '" : "",
            arg ? arg : "", arg ? "'" : "");
    return TLSDIAG_EXIT_USAGE;
}

static bool parse_seconds(const char *s, uint32_t *ms) {
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || v > 3600) {
        return false;
    }
    *ms = (uint32_t)(v * 1000);
    return *ms > 0;
}

static int parse(int argc, char **argv, probe_opts *o) {
    memset(o, 0, sizeof *o);
    o->profile = NULL;  // the analyzer's default profile
    optind = 1;
    opterr = 0;
    int c;
    cli_getopt g;
    cli_getopt_init(CLI_CMD_PROBE, &g);
    char msg[200];
    while ((c = getopt_long(argc, argv, g.optstring, g.longopts, NULL)) != -1) {
        const char *arg = optarg;
        switch (c) {
            case CLI_OPT_SNI:
                o->pc.sni = arg;
                break;
            case CLI_OPT_CONNECT:
                o->pc.connect_ip = arg;
                break;
            case CLI_OPT_ORIGIN_PROTOCOLS:
                if (!probe_parse_versions(arg, &o->pc.versions)) {
                    return probe_usage_error(
                        "--origin-protocols: expected a list of SSLv3, TLSv1, TLSv1.1, TLSv1.2, "
                        "TLSv1.3, got",
                        arg);
                }
                break;
            case CLI_OPT_MATRIX:
                o->matrix = true;
                break;
            case CLI_OPT_SAVE_CHAIN:
                o->save_chain = arg;
                break;
            case 'w':
                o->pc.pcap_out = arg;
                break;
            case CLI_OPT_CERT_FILE:
                o->cert_file = arg;
                break;
            case CLI_OPT_KEY_FILE:
                o->key_file = arg;
                break;
            case CLI_OPT_CA_FILE:
                o->pc.ca_file = arg;
                break;
            case CLI_OPT_CA_PATH:
                o->pc.ca_path = arg;
                break;
            case CLI_OPT_PROFILE:
                if (strcmp(arg, "cloudfront") != 0 && strcmp(arg, "cloudfront-2025") != 0 &&
                    strcmp(arg, "generic") != 0) {
                    return probe_usage_error(
                        "--profile: expected cloudfront, cloudfront-2025 or generic, got", arg);
                }
                o->profile = arg;
                break;
            case CLI_OPT_JSON:
                o->json = true;
                break;
            case CLI_OPT_COLOR:
                if (!arg || strcmp(arg, "always") == 0) {
                    o->color = CLI_COLOR_ALWAYS;
                } else if (strcmp(arg, "never") == 0) {
                    o->color = CLI_COLOR_NEVER;
                } else if (strcmp(arg, "auto") != 0) {
                    return probe_usage_error("--color: expected auto, always or never, got", arg);
                }
                break;
            case CLI_OPT_CONNECT_TIMEOUT:
            case CLI_OPT_TIMEOUT:
                if (!parse_seconds(arg, c == CLI_OPT_TIMEOUT ? &o->pc.handshake_timeout_ms
                                                             : &o->pc.connect_timeout_ms)) {
                    return probe_usage_error(
                        c == CLI_OPT_TIMEOUT
                            ? "--timeout: expected seconds (0 < S <= 3600), got"
                            : "--connect-timeout: expected seconds (0 < S <= 3600), got",
                        arg);
                }
                break;
            case CLI_OPT_MAX_FLOWS:
            case CLI_OPT_MAX_FLOW_BYTES:
            case CLI_OPT_MAX_TOTAL_BYTES:
                if (!cli_parse_limit(c, arg, &o->pc.limits, msg, sizeof msg)) {
                    return probe_usage_error(msg, NULL);
                }
                break;
            case CLI_OPT_NO_CAPTURE:
                o->pc.no_capture = true;
                break;
            case 'q':
                o->verbosity = REPORT_QUIET;
                break;
            case 'v':
                o->verbosity = REPORT_VERBOSE;
                break;
            case 'h':
                probe_usage(stdout);
                return -1;
            case ':':
                return probe_usage_error("missing argument for", argv[optind - 1]);
            default:
                if (cli_opt_elsewhere(CLI_CMD_PROBE, argv[optind - 1], optopt, msg, sizeof msg)) {
                    return probe_usage_error(msg, NULL);
                }
                return probe_usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) {
        return probe_usage_error(
            optind >= argc ? "expected one HOST[:PORT]" : "expected one HOST[:PORT], got also",
            optind >= argc ? NULL : argv[argc - 1]);
    }
    o->target = argv[optind];
    if (!probe_parse_target(o->target, o->host, sizeof o->host, &o->pc.port)) {
        return probe_usage_error("expected HOST, HOST:PORT or [IPv6]:PORT, got", o->target);
    }
    o->pc.host = o->host;
    if (o->key_file && !o->cert_file) {
        return probe_usage_error("--key-file needs --cert-file", NULL);
    }
    return 0;
}

int cli_cmd_probe(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);  // a closed pipe ends quietly (report_flush), not by SIGPIPE
    probe_opts o;
    int rc = parse(argc, argv, &o);
    if (rc != 0) {
        return rc == -1 ? TLSDIAG_EXIT_OK : rc;
    }
    pipeline_config plc;
    pipeline_config_default(&plc);
    plc.limits = o.pc.limits;
    plc.profile = o.profile;
    plc.ca_file = o.pc.ca_file;
    plc.ca_path = o.pc.ca_path;
    char err[512] = "";
    analyzer *an = cli_analyzer_new(&plc);
    if (!an) {
        return TLSDIAG_EXIT_INPUT;
    }
    report_options ro = {
        .format = o.json ? REPORT_JSON : REPORT_TEXT,
        .color = cli_use_color(o.json, o.color),
        // one probe: its line (and evidence) is the answer, whether it failed or not
        .verbosity = o.verbosity == REPORT_QUIET ? REPORT_QUIET : REPORT_VERBOSE,
        .out = stdout,
        .one_connection = true,
    };
    report *rep = report_new(&ro);
    if (!rep) {
        analyzer_free(an);
        fputs("tlsdiag: out of memory\n", stderr);
        return TLSDIAG_EXIT_INTERNAL;
    }
    int status = TLSDIAG_EXIT_OK;
    probe_result *res = probe_run(an, &o.pc, err, sizeof err);
    // The matrix runs before the verdict is printed: what it proves refines the verdict. A
    // name that does not resolve gets no matrix (it would resolve the same name again).
    probe_matrix *m = NULL;
    if (res && o.matrix && !res->unresolved) {
        m = calloc(1, sizeof *m);
        if (!m || !probe_matrix_run(an, &o.pc, m, err, sizeof err)) {
            fprintf(stderr, "tlsdiag: --matrix: %s\n", m ? err : "out of memory");
            status = TLSDIAG_EXIT_INTERNAL;
            free(m);
            m = NULL;
        } else {
            probe_matrix_refine(res->v, m, an);
        }
    }
    if (!res) {
        fprintf(stderr, "tlsdiag: probe: %s\n", err);
        report_input_error re = {o.target, 0, 0, err};
        (void)report_error(rep, &re);
        status = strcmp(err, "out of memory") == 0 ? TLSDIAG_EXIT_INTERNAL : TLSDIAG_EXIT_INPUT;
    } else {
        if (o.cert_file && !probe_check_cert_file(res, o.cert_file, o.key_file, err, sizeof err)) {
            fprintf(stderr, "tlsdiag: %s\n", err);
            status = TLSDIAG_EXIT_INPUT;
        }
        if (o.save_chain) {
            if (res->num_chain == 0) {
                fprintf(stderr, "tlsdiag: --save-chain: the server sent no certificate\n");
            } else if (!probe_save_chain(res, o.save_chain, err, sizeof err)) {
                fprintf(stderr, "tlsdiag: %s\n", err);
                status = TLSDIAG_EXIT_INPUT;
            }
        }
        if (!res->from_packets && res->capture_why[0] && o.verbosity >= REPORT_NORMAL && !o.json) {
            fprintf(stderr, "tlsdiag: probe: %s; analyzing the client's view\n", res->capture_why);
        }
        report_set_file(rep, NULL);
        if (res->unresolved && !o.json) {
            // one line says it all: no connection, no tables, no summary of nothing
            char line[1400];
            probe_unresolved_text(res, &o.pc, line, sizeof line);
            printf("FAIL %s\n", line);
        } else {
            (void)report_verdict(rep, res->v);
        }
        if (status == TLSDIAG_EXIT_OK &&
            (res->v->outcome != OUTCOME_SUCCEEDED || res->v->cause != CAUSE_OK)) {
            status = TLSDIAG_EXIT_FAILURES;
        }
    }
    if (m != NULL) {
        fflush(stdout);
        if (!o.json) {
            probe_matrix_text(m, an, o.target, stdout);  // asked for: shown under -q too
        } else if (!probe_matrix_json(m, an, o.target, o.pc.sni ? o.pc.sni : o.host, stdout)) {
            status = TLSDIAG_EXIT_INTERNAL;
        }
        free(m);
    }
    const char *files[1] = {o.target};
    report_run_info info = {
        .profile_name = analyzer_profile_name(an),
        .profile_version = analyzer_profile_version(an),
        .prefix_source = analyzer_prefix_source(an),
        .trust_store = analyzer_trust_store(an),
        .files = files,
        .num_files = 1,
    };
    if (!(res && res->unresolved && !o.json)) {
        (void)report_summary(rep, analyzer_summary(an), &info);
    }
    if (report_flush(rep, NULL) == REPORT_OUT_FAILED) {
        fputs("tlsdiag: cannot write the results to standard output\n", stderr);
        status = TLSDIAG_EXIT_INTERNAL;
    }
    probe_result_free(res);
    report_free(rep);
    analyzer_free(an);
    return status;
}
