// main.c — tlsdiag's entry point: picks the subcommand, prints --version and the top-level help.
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "analyze.h"
#include "cli.h"
#include "pipeline.h"
#include "capture.h"
#include "optable.h"
#include "report.h"

static void usage(FILE *f) {
    fputs(
        "Usage: tlsdiag COMMAND [options] FILE...\n"
        "\n"
        "Why do TLS handshakes between CloudFront and an origin fail? tlsdiag reads\n"
        "pcap/pcapng captures, rebuilds every handshake and names the cause.\n"
        "\n"
        "Commands:\n"
        "  analyze   one line per failed handshake, then each cause and its fix\n"
        "  dissect   every connection's handshake transcript (ladder or JSON)\n"
        "  capture   live, on the origin (root): each failed handshake as it happens\n"
        "  probe     one handshake with an origin made the way CloudFront makes it\n"
        "  report    one support-ticket archive: HTML, Markdown, JSON, evidence pcap\n"
        "  doctor    on the origin: the configuration file and line that breaks the handshake\n"
        "\n"
        "  tlsdiag COMMAND --help   options and examples of a command\n"
        "  tlsdiag --version        versions of tlsdiag, OpenSSL, libpcap and the profile\n"
        "  man tlsdiag              the manual: every command, option, output and example\n"
        "\n"
        "Exit status: 0 no failed handshakes, 1 failed handshakes found, 2 usage error,\n"
        "3 input error (unreadable/damaged file, bad filter), 4 internal/output error\n"
        "(a reader closing the pipe early, as | head does, is not one).\n",
        f);
}

static int version(void) {
    printf("tlsdiag %s\n", TLSDIAG_VERSION);
    printf("OpenSSL: %s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("libpcap: %s\n", cap_lib_version());
    pipeline_config c;
    pipeline_config_default(&c);
    char err[256] = "";
    analyzer *a = pipeline_analyzer_new(&c, err, sizeof err);
    if (a != NULL) {
        printf("profile: %s %s (prefixes: %s)\n", analyzer_profile_name(a),
               analyzer_profile_version(a), analyzer_prefix_source(a));
        analyzer_free(a);
    } else {
        printf("profile: unavailable (%s)\n", err);
    }
    return fflush(stdout) == 0 && !ferror(stdout) ? TLSDIAG_EXIT_OK : TLSDIAG_EXIT_INTERNAL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return TLSDIAG_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        return version();
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return TLSDIAG_EXIT_OK;
    }
    if (strcmp(cmd, "--list-options") == 0) {
        // For the bash completion: the options of a command, from the one option table.
        if (argc != 3 || !cli_opt_list(argv[2], stdout)) {
            fputs(
                "tlsdiag: --list-options needs one COMMAND (analyze, dissect, capture, probe, "
                "report or doctor)\n",
                stderr);
            return TLSDIAG_EXIT_USAGE;
        }
        return fflush(stdout) == 0 && !ferror(stdout) ? TLSDIAG_EXIT_OK : TLSDIAG_EXIT_INTERNAL;
    }
    if (strcmp(cmd, "capture") == 0) {
        return cli_cmd_capture(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "report") == 0) {
        return cli_cmd_report(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "probe") == 0) {
        return cli_cmd_probe(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "doctor") == 0) {
        return cli_cmd_doctor(argc - 1, argv + 1);
    }
    cli_mode mode;
    if (strcmp(cmd, "dissect") == 0) {
        mode = CLI_DISSECT;
    } else if (strcmp(cmd, "analyze") == 0 || strcmp(cmd, "analyse") == 0) {
        mode = CLI_ANALYZE;
    } else {
        cli_unknown_command(cmd, stderr);
        return TLSDIAG_EXIT_USAGE;
    }
    cli_options o;
    int rc = cli_parse(mode, argc - 1, argv + 1, &o);
    if (rc == -1) {
        return TLSDIAG_EXIT_OK;  // help was printed
    }
    if (rc != 0) {
        return rc;
    }
    rc = cli_run(&o);
    cli_options_free(&o);
    return rc;
}
