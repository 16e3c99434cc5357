// cmd_doctor.c — `tlsdiag doctor`: options (cli_parse), then doctor_run and doctor_print
// (doctor/print.c: one verdict per TLS site as text or JSON Lines).
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "doctor.h"
#include "report.h"

int cli_cmd_doctor(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    cli_options o;
    int rc = cli_parse(CLI_DOCTOR, argc, argv, &o);
    cli_options_free(&o);  // doctor reads no capture
    if (rc != 0) {
        return rc == -1 ? TLSDIAG_EXIT_OK : rc;
    }
    pipeline_config pc;
    pipeline_config_default(&pc);
    pc.ca_file = o.ca_file;
    pc.ca_path = o.ca_path;
    pc.profile = o.profile;
    pc.now = o.now;
    char err[1400] = "";
    analyzer *an = pipeline_analyzer_new(&pc, err, sizeof err);
    if (!an) {
        fprintf(stderr, "tlsdiag: %s\n", err[0] ? err : "cannot load the analyzer");
        return TLSDIAG_EXIT_INPUT;
    }
    doctor_report *r = doctor_run(an, &o.servers, err, sizeof err);
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
