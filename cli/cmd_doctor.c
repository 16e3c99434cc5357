// cmd_doctor.c — `tlsdiag doctor`: options, then doctor_run and doctor_print (doctor/print.c:
// one verdict per TLS site as text or JSON Lines).
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_doctor.h"
#include "doctor.h"
#include "optable.h"
#include "report.h"

static void doctor_usage(FILE *f) {
    fputs(
        "Usage: tlsdiag doctor [--nginx FILE] [--apache FILE] [--haproxy FILE] [options]\n"
        "\n"
        "On the origin host: read the web server's configuration (following includes), load\n"
        "the certificate and key files of every TLS server block / virtual host / bind, and\n"
        "judge each the way CloudFront would. Each verdict names the cause, the file:line of\n"
        "the directive to change, the change, and the commands that verify the fix.\n"
        "Read-only: never writes a file or reloads a server; prints no key material.\n"
        "\n"
        "Configuration (default: nginx -T when nginx is on PATH, and the usual files of\n"
        "nginx, Apache and HAProxy that exist):\n"
        "      --nginx FILE         nginx's main file (e.g. /etc/nginx/nginx.conf)\n"
        "      --apache FILE        Apache's main file (e.g. /etc/apache2/apache2.conf)\n"
        "      --haproxy FILE       HAProxy's configuration (e.g. /etc/haproxy/haproxy.cfg)\n"
        "\n"
        "Checks:\n"
        "      --ca-file FILE, --ca-path DIR   trust store (default: the system's)\n"
        "      --profile NAME       cloudfront (default), cloudfront-2025 or generic\n"
        "      --now TIME           judge expiry at TIME (RFC 3339) instead of now\n"
        "\n"
        "Output:\n"
        "      --json               JSON Lines: doctor_site objects, then a doctor_summary\n"
        "  -v, --verbose            also the certificates of each site\n"
        "  -h, --help               this help\n"
        "\n"
        "Exit status: 0 every TLS site would work for CloudFront, 1 some site would fail,\n"
        "2 usage error, 3 no configuration could be read, 4 internal error.\n"
        "Files that could not be read are listed on stderr (and as doctor_problem objects).\n"
        "\n"
        "Examples:\n"
        "  tlsdiag doctor\n"
        "  tlsdiag doctor --nginx /etc/nginx/nginx.conf\n"
        "  tlsdiag doctor --apache /etc/apache2/apache2.conf --json\n",
        f);
}

typedef struct doctor_opts {
    doctor_config dc;
    pipeline_config pc;
    bool json;
    int verbosity;
} doctor_opts;

static int usage_error(const char *msg) {
    fprintf(stderr, "tlsdiag: %s\nTry 'tlsdiag doctor --help'.\n", msg);
    return TLSDIAG_EXIT_USAGE;
}

static int parse(int argc, char **argv, doctor_opts *o) {
    memset(o, 0, sizeof *o);
    pipeline_config_default(&o->pc);
    o->dc.discover = true;
    optind = 1;
    opterr = 0;
    cli_getopt g;
    cli_getopt_init(CLI_CMD_DOCTOR, &g);
    char msg[256];
    int c;
    while ((c = getopt_long(argc, argv, g.optstring, g.longopts, NULL)) != -1) {
        switch (c) {
            case CLI_OPT_NGINX:
                o->dc.nginx = optarg;
                break;
            case CLI_OPT_APACHE:
                o->dc.apache = optarg;
                break;
            case CLI_OPT_HAPROXY:
                o->dc.haproxy = optarg;
                break;
            case CLI_OPT_CA_FILE:
                o->pc.ca_file = optarg;
                break;
            case CLI_OPT_CA_PATH:
                o->pc.ca_path = optarg;
                break;
            case CLI_OPT_PROFILE:
                o->pc.profile = optarg;
                break;
            case CLI_OPT_NOW:
                if (!cli_parse_rfc3339(optarg, &o->pc.now)) {
                    snprintf(msg, sizeof msg, "--now: expected RFC 3339, got '%.100s'", optarg);
                    return usage_error(msg);
                }
                break;
            case CLI_OPT_JSON:
                o->json = true;
                break;
            case 'v':
                o->verbosity++;
                break;
            case 'h':
                doctor_usage(stdout);
                return -1;
            case ':':
                snprintf(msg, sizeof msg, "option '%.100s' needs an argument", argv[optind - 1]);
                return usage_error(msg);
            default:
                if (!cli_opt_elsewhere(CLI_CMD_DOCTOR, argv[optind - 1], optopt, msg, sizeof msg)) {
                    snprintf(msg, sizeof msg, "unknown option '%.100s'", argv[optind - 1]);
                }
                return usage_error(msg);
        }
    }
    if (optind < argc) {
        snprintf(msg, sizeof msg,
                 "unexpected argument '%.100s' (give --nginx, --apache or "
                 "--haproxy FILE)",
                 argv[optind]);
        return usage_error(msg);
    }
    return 0;
}

int cli_cmd_doctor(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    doctor_opts o;
    int rc = parse(argc, argv, &o);
    if (rc != 0) {
        return rc == -1 ? TLSDIAG_EXIT_OK : rc;
    }
    char err[1400] = "";
    analyzer *an = pipeline_analyzer_new(&o.pc, err, sizeof err);
    if (!an) {
        fprintf(stderr, "tlsdiag: %s\n", err[0] ? err : "cannot load the analyzer");
        return TLSDIAG_EXIT_INPUT;
    }
    doctor_report *r = doctor_run(an, &o.dc, err, sizeof err);
    if (!r) {
        char e[1600];
        report_escape((const uint8_t *)err, strlen(err), REPORT_ESC_TEXT, e, sizeof e);
        fprintf(stderr, "tlsdiag: doctor: %s\n", e);
        analyzer_free(an);
        return strstr(err, "out of memory") ? TLSDIAG_EXIT_INTERNAL : TLSDIAG_EXIT_INPUT;
    }
    bool ok = doctor_print(r, an, o.json, o.verbosity, stdout);
    size_t failures = doctor_failures(r);
    doctor_report_free(r);
    analyzer_free(an);
    if (!ok || fflush(stdout) != 0 || ferror(stdout)) {
        return TLSDIAG_EXIT_INTERNAL;
    }
    return failures ? TLSDIAG_EXIT_FAILURES : TLSDIAG_EXIT_OK;
}
