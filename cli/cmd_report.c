// cmd_report.c — `tlsdiag report -o FILE.tar.gz INPUT...`: options (cli_parse), then
// bundle_probe() for --probe and bundle_write().
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "cli.h"
#include "report.h"

int cli_cmd_report(int argc, char **argv) {
    cli_options co;
    int rc = cli_parse(CLI_REPORT, argc, argv, &co);
    if (rc != 0) {
        cli_options_free(&co);
        return rc == -1 ? TLSDIAG_EXIT_OK : rc;
    }
    struct cli_report *r = &co.report;
    bundle_options *o = &r->bo;
    o->filter = co.filter;
    o->ca_file = co.ca_file;
    o->ca_path = co.ca_path;
    o->ranges_file = co.ranges_file;
    o->profile = co.profile;
    o->now = co.now;
    o->limits = (pipeline_limits){co.max_flows, co.max_flow_bytes, co.max_total_bytes};
    char *cmdline = NULL;
    char probe_dir[BUNDLE_TMP_LEN] = "";
    char probe_pcap[BUNDLE_TMP_LEN + 16] = "", probe_env[4096] = "";
    char err[1024] = "";
    if (r->probe_target != NULL) {
        rc = bundle_probe(o, r->probe_target, r->probe_host, r->probe_port, r->probe_sni, probe_dir,
                          probe_pcap, sizeof probe_pcap, probe_env, sizeof probe_env, err,
                          sizeof err);
        if (rc != TLSDIAG_EXIT_OK) {
            fprintf(stderr, "tlsdiag: %s\n", err);
            goto out;
        }
        o->extra_env = probe_env;
        if (!cli_options_add_file(&co, probe_pcap)) {
            fputs("tlsdiag: out of memory\n", stderr);
            rc = TLSDIAG_EXIT_INTERNAL;
            goto out;
        }
    }
    cmdline = bundle_command_line(argc, argv);
    o->inputs = co.files;
    o->num_inputs = co.num_files;
    o->command_line = cmdline;
    bundle_result res;
    rc = bundle_write(o, &res, err, sizeof err);
    if (rc == TLSDIAG_EXIT_OK || rc == TLSDIAG_EXIT_FAILURES ||
        (rc == TLSDIAG_EXIT_INPUT && res.chosen + res.connections + res.input_errors > 0)) {
        printf("%s: %u connection(s) of %llu, %u evidence packet(s)%s\n", o->out_path, res.chosen,
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
    cli_options_free(&co);
    return rc;
}
