// cmd_report.c — `tlsdiag report -o FILE.tar.gz INPUT...`: options, then bundle_write().
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "cli.h"
#include "optable.h"
#include "cmd_report.h"
#include "probe.h"
#include "report.h"

static void report_usage(FILE *f) {
    fputs(
        "Usage: tlsdiag report -o FILE.tar.gz [options] INPUT...\n"
        "\n"
        "Write one archive to attach to a support ticket: report.html (self-contained),\n"
        "report.md, findings.json (the JSON Lines of `analyze --json`), evidence.pcap (the\n"
        "failing connections' packets up to the verdict, application data removed, frames\n"
        "rebuilt with valid checksums), chain-<n>.pem per served chain, environment.txt.\n"
        "\n"
        "INPUT is a pcap/pcapng file or the output directory of a capture run (its captures).\n"
        "\n"
        "Options:\n"
        "  -o, --output FILE        the archive to write (gzip-compressed tar)\n"
        "  -r, --read FILE          read FILE (as in analyze)\n"
        "  -f, --filter EXPR        BPF filter (as in analyze)\n"
        "  --max-connections N      connections shown (default 5; every distinct cause first)\n"
        "  --anonymize              replace addresses by keyed prefix-preserving pseudonyms\n"
        "                           (Crypto-PAn) in every member, the pcap included\n"
        "  --anonymize-key K        the key (64 hex digits, or a passphrase); default random\n"
        "  --redact-names           also replace the SNI and the leaf certificate's names\n"
        "  --ca-file F, --ca-path D, --ranges F, --profile P, --now TIME   as in analyze\n"
        "  --max-flows N, --max-flow-bytes N, --max-total-bytes N   limits, as in analyze\n"
        "  --probe HOST[:PORT]      also make CloudFront's handshake with HOST now (tlsdiag\n"
        "                           probe) and bundle its packets\n"
        "  --probe-sni NAME         the SNI the probe sends (default: HOST when a name)\n"
        "  -h, --help               this help\n"
        "\n"
        "Exit status: 0 no failed handshake, 1 failures found (bundle written), 2 usage\n"
        "error, 3 input error (the bundle, when written, names the damage), 4 internal error.\n"
        "\n"
        "Examples:\n"
        "  tlsdiag report -o ticket.tar.gz --anonymize incident.pcapng\n"
        "  tlsdiag report -o ticket.tar.gz --ca-file private-ca.pem -r a.pcap -r b.pcap\n"
        "  tlsdiag report -o ticket.tar.gz /var/tmp/capture-run/\n",
        f);
}

static int usage_err(const char *msg, const char *arg) {
    fprintf(stderr, "tlsdiag: %s%s%s%s\n", msg, arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
    fputs("Try 'tlsdiag report --help'.\n", stderr);
    return TLSDIAG_EXIT_USAGE;
}

// parse_now: RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" (the form the reports print).

// command_line joins argv for environment.txt.
static char *command_line(int argc, char **argv) {
    size_t n = 16;
    for (int i = 0; i < argc; i++) {
        n += strlen(argv[i]) + 1;
    }
    char *s = malloc(n);
    if (s == NULL) {
        return NULL;
    }
    strcpy(s, "tlsdiag");
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

// run_probe: report --probe — the target checked here (a usage error), the probe by the bundle.
static int run_probe(const bundle_options *o, const char *target, const char *sni, char *dir,
                     char *pcap, size_t pcaplen, char *env, size_t envlen) {
    char host[256], err[1024] = "";
    uint16_t port = 0;
    if (!probe_parse_target(target, host, sizeof host, &port)) {
        return usage_err("--probe: expected HOST, HOST:PORT or [IPv6]:PORT, got", target);
    }
    int rc =
        bundle_probe(o, target, host, port, sni, dir, pcap, pcaplen, env, envlen, err, sizeof err);
    if (rc != TLSDIAG_EXIT_OK) {
        fprintf(stderr, "tlsdiag: %s\n", err);
    }
    return rc;
}

int cli_cmd_report(int argc, char **argv) {
    bundle_options o;
    memset(&o, 0, sizeof o);
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    if (inputs == NULL) {
        fputs("tlsdiag: out of memory\n", stderr);
        return TLSDIAG_EXIT_INTERNAL;
    }
    size_t ni = 0;
    int c, rc = TLSDIAG_EXIT_USAGE;
    char *cmdline = NULL;
    const char *probe_target = NULL, *probe_sni = NULL;
    char probe_dir[BUNDLE_TMP_LEN] = "";
    char probe_pcap[BUNDLE_TMP_LEN + 16] = "", probe_env[4096] = "";
    optind = 1;
    opterr = 0;  // the messages below name the option (':' marks a missing argument)
    cli_getopt g;
    cli_getopt_init(CLI_CMD_REPORT, &g);
    char msg[200];
    while ((c = getopt_long(argc, argv, g.optstring, g.longopts, NULL)) != -1) {
        switch (c) {
            case 'o':
                o.out_path = optarg;
                break;
            case 'r':
                inputs[ni++] = optarg;
                break;
            case 'f':
                o.filter = optarg;
                break;
            case CLI_OPT_CA_FILE:
                o.ca_file = optarg;
                break;
            case CLI_OPT_CA_PATH:
                o.ca_path = optarg;
                break;
            case CLI_OPT_RANGES:
                o.ranges_file = optarg;
                break;
            case CLI_OPT_PROFILE:
                o.profile = optarg;
                break;
            case CLI_OPT_NOW:
                if (!cli_parse_rfc3339(optarg, &o.now)) {
                    rc = usage_err("--now: expected RFC 3339 UTC like 2026-11-26T19:00:00Z, got",
                                   optarg);
                    goto out;
                }
                break;
            case CLI_OPT_MAX_CONNECTIONS: {
                char *end = NULL;
                errno = 0;
                unsigned long v = strtoul(optarg, &end, 10);
                if (errno || end == optarg || *end || v == 0 || v > 1000 || optarg[0] == '-') {
                    rc = usage_err("--max-connections: expected an integer 1..1000, got", optarg);
                    goto out;
                }
                o.max_connections = (uint32_t)v;
                break;
            }
            case CLI_OPT_MAX_FLOWS:
            case CLI_OPT_MAX_FLOW_BYTES:
            case CLI_OPT_MAX_TOTAL_BYTES:
                if (!cli_parse_limit(c, optarg, &o.limits, msg, sizeof msg)) {
                    rc = usage_err(msg, NULL);
                    goto out;
                }
                break;
            case CLI_OPT_ANONYMIZE:
                o.anonymize = true;
                break;
            case CLI_OPT_ANONYMIZE_KEY:
                if (!bundle_parse_key(optarg, o.key)) {
                    rc = usage_err("--anonymize-key: expected 64 hex digits or a passphrase", NULL);
                    goto out;
                }
                o.have_key = true;
                o.anonymize = true;
                break;
            case CLI_OPT_REDACT_NAMES:
                o.redact_names = true;
                break;
            case CLI_OPT_PROBE:
                probe_target = optarg;
                break;
            case CLI_OPT_PROBE_SNI:
                probe_sni = optarg;
                break;
            case 'h':
                report_usage(stdout);
                rc = TLSDIAG_EXIT_OK;
                goto out;
            case ':':
                rc = usage_err("missing argument of", argv[optind - 1]);
                goto out;
            default: {
                if (cli_opt_elsewhere(CLI_CMD_REPORT, argv[optind - 1], optopt, msg, sizeof msg)) {
                    rc = usage_err(msg, NULL);
                    goto out;
                }
                char shortopt[3] = {'-', (char)optopt, '\0'};
                bool is_short =
                    optopt > 0 && optopt < 256 && strncmp(argv[optind - 1], "--", 2) != 0;
                rc = usage_err("unknown option, or an argument it does not take:",
                               is_short ? shortopt : argv[optind - 1]);
                goto out;
            }
        }
    }
    for (int i = optind; i < argc; i++) {
        inputs[ni++] = argv[i];
    }
    if (o.out_path == NULL) {
        rc = usage_err("-o FILE.tar.gz is required", NULL);
        goto out;
    }
    if (probe_target != NULL) {
        rc = run_probe(&o, probe_target, probe_sni, probe_dir, probe_pcap, sizeof probe_pcap,
                       probe_env, sizeof probe_env);
        if (rc != TLSDIAG_EXIT_OK) {
            goto out;
        }
        inputs[ni++] = probe_pcap;
        o.extra_env = probe_env;
    }
    if (ni == 0) {
        rc = usage_err("no input: give pcap files, a capture run's directory or --probe", NULL);
        goto out;
    }
    for (size_t i = 0; i < ni; i++) {
        if (strcmp(inputs[i], "-") == 0) {
            rc = usage_err("standard input cannot be used: the captures are read twice", NULL);
            goto out;
        }
    }
    cmdline = command_line(argc, argv);
    o.inputs = inputs;
    o.num_inputs = ni;
    o.command_line = cmdline;
    bundle_result res;
    char err[1024] = "";
    rc = bundle_write(&o, &res, err, sizeof err);
    if (rc == TLSDIAG_EXIT_OK || rc == TLSDIAG_EXIT_FAILURES ||
        (rc == TLSDIAG_EXIT_INPUT && res.chosen + res.connections + res.input_errors > 0)) {
        printf("%s: %u connection(s) of %llu, %u evidence packet(s)%s\n", o.out_path, res.chosen,
               (unsigned long long)res.connections, res.evidence_packets,
               res.input_errors ? ", damaged input named in the bundle" : "");
    }
    if (err[0]) {
        fprintf(stderr, "tlsdiag: %s\n", err);
    }
out:
    if (probe_pcap[0]) {
        unlink(probe_pcap);
        rmdir(probe_dir);
    }
    free(cmdline);
    free(inputs);
    return rc;
}
