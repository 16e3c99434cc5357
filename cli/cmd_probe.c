// cmd_probe.c — `tlsdiag probe HOST[:PORT]`: the probe and the matrix (probe/), output.
//
// Output: the probe's verdict (text line with evidence, or one JSON "handshake" object with
// method "probe"), then with --matrix the matrix (text table, or one "probe_matrix" object),
// then the summary, so a JSON stream always ends with its summary, also when the probe failed.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "cli.h"
#include "probe.h"
#include "report.h"

int cli_cmd_probe(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);  // a closed pipe ends quietly (report_flush), not by SIGPIPE
    cli_options co;
    int rc = cli_parse(CLI_PROBE, argc, argv, &co);
    cli_options_free(&co);  // probe reads no files
    if (rc != 0) {
        return rc == -1 ? TLSDIAG_EXIT_OK : rc;
    }
    struct cli_probe *o = &co.probe;
    o->pc.host = o->host;
    o->pc.ca_file = co.ca_file;
    o->pc.ca_path = co.ca_path;
    o->pc.pcap_out = co.write_path;
    o->pc.limits = (pipeline_limits){co.max_flows, co.max_flow_bytes, co.max_total_bytes};
    pipeline_config plc;
    pipeline_config_default(&plc);
    plc.limits = o->pc.limits;
    plc.profile = co.profile;
    plc.ca_file = o->pc.ca_file;
    plc.ca_path = o->pc.ca_path;
    char err[512] = "";
    analyzer *an = cli_analyzer_new(&plc);
    if (!an) {
        return TLSDIAG_EXIT_INPUT;
    }
    report_options ro = {
        .format = co.json ? REPORT_JSON : REPORT_TEXT,
        .color = cli_use_color(co.json, co.color),
        // one probe: its line (and evidence) is the answer, whether it failed or not
        .verbosity = co.verbosity == REPORT_QUIET ? REPORT_QUIET : REPORT_VERBOSE,
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
    probe_result *res = probe_run(an, &o->pc, err, sizeof err);
    // The matrix runs before the verdict is printed: what it proves refines the verdict. A
    // name that does not resolve gets no matrix (it would resolve the same name again).
    probe_matrix *m = NULL;
    if (res && o->matrix && !res->unresolved) {
        m = calloc(1, sizeof *m);
        if (!m || !probe_matrix_run(an, &o->pc, m, err, sizeof err)) {
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
        report_input_error re = {o->target, 0, 0, err};
        (void)report_error(rep, &re);
        status = strcmp(err, "out of memory") == 0 ? TLSDIAG_EXIT_INTERNAL : TLSDIAG_EXIT_INPUT;
    } else {
        if (o->cert_file &&
            !probe_check_cert_file(res, o->cert_file, o->key_file, err, sizeof err)) {
            fprintf(stderr, "tlsdiag: %s\n", err);
            status = TLSDIAG_EXIT_INPUT;
        }
        if (o->save_chain) {
            if (res->num_chain == 0) {
                fprintf(stderr, "tlsdiag: --save-chain: the server sent no certificate\n");
            } else if (!probe_save_chain(res, o->save_chain, err, sizeof err)) {
                fprintf(stderr, "tlsdiag: %s\n", err);
                status = TLSDIAG_EXIT_INPUT;
            }
        }
        if (!res->from_packets && res->capture_why[0] && co.verbosity >= REPORT_NORMAL &&
            !co.json) {
            fprintf(stderr, "tlsdiag: probe: %s; analyzing the client's view\n", res->capture_why);
        }
        report_set_file(rep, NULL);
        if (res->unresolved && !co.json) {
            // one line says it all: no connection, no tables, no summary of nothing
            char line[1400];
            probe_unresolved_text(res, &o->pc, line, sizeof line);
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
        if (!co.json) {
            probe_matrix_text(m, an, o->target, stdout);  // asked for: shown under -q too
        } else if (!probe_matrix_json(m, an, o->target, o->pc.sni ? o->pc.sni : o->host, stdout)) {
            status = TLSDIAG_EXIT_INTERNAL;
        }
        free(m);
    }
    const char *files[1] = {o->target};
    report_run_info info = report_run_info_of(an);
    info.files = files;
    info.num_files = 1;
    if (!(res && res->unresolved && !co.json)) {
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
