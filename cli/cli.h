// cli.h — the command line of tlsdiag: every subcommand's options (one parser, cli_parse), and
// the pipeline of analyze and dissect.
#ifndef TLSDIAG_CLI_H
#define TLSDIAG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bundle.h"
#include "doctor.h"
#include "pipeline.h"
#include "probe.h"

// The subcommands, in the order of their bits in the option table (CLI_CMD_* = 1 << mode).
typedef enum cli_mode {
    CLI_ANALYZE = 0,  // verdicts: one line / JSON object per handshake, then a summary
    CLI_DISSECT,      // transcripts: one ladder / JSON object per connection
    CLI_CAPTURE,      // live: verdicts as they happen (cmd_capture.c)
    CLI_PROBE,        // one handshake made the way CloudFront makes it (cmd_probe.c)
    CLI_REPORT,       // a support-ticket archive (cmd_report.c)
    CLI_DOCTOR,       // the web server's configuration judged (cmd_doctor.c)
} cli_mode;

typedef enum cli_color {
    CLI_COLOR_AUTO = 0,  // on when stdout is a TTY and NO_COLOR is unset or empty
    CLI_COLOR_ALWAYS,
    CLI_COLOR_NEVER,
} cli_color;

typedef struct cli_options {
    cli_mode mode;
    const char **files;  // argv strings (borrowed); the array is owned (cli_options_free)
    size_t num_files;
    const char *filter;  // -f EXPR (BPF), NULL when none
    bool json;
    bool ecs;       // --ecs: JSON Lines in the Elastic Common Schema (json is set too)
    int verbosity;  // report_verbosity
    cli_color color;
    const char *ca_file, *ca_path, *ranges_file, *profile;
    int64_t now;                         // --now as Unix seconds, 0 when not given
    uint32_t max_flows, max_flow_bytes;  // 0: dissect's default
    uint64_t max_total_bytes;
    uint64_t count;     // -c N: stop after N handshakes (connections); 0: no limit
    bool wireshark;     // --wireshark: a ready wireshark/tshark command under each failure
    bool probe_origin;  // --probe-origin: probe failures whose chain was hidden (probe/)
    const char *probe_origin_target;  // its IP:PORT, NULL: each connection's server address
    const char *doctor[3];  // --doctor FILE (analyze): web server configurations, one each
    size_t num_doctor;
    uint32_t threads;  // --threads N: analyze with N worker threads (pipeline/threads.c); 0/1: one
    const char *write_path;        // -w FILE: capture's packets, or the probe's
    struct cli_capture {           // `capture` only
        const char *iface, *user;  // -i, -Z
        uint16_t ports[32];        // -p
        size_t num_ports;
        bool all_sources, print_filter, handshake_only, list_interfaces;
        uint64_t duration_s, rotate_bytes;                           // --duration, -C
        uint32_t ring_files, rotate_seconds, buffer_bytes, snaplen;  // -W, -G, -B, -s
    } cap;
    struct cli_probe {       // `probe` only
        probe_config pc;     // --sni, --connect, --origin-protocols, the timeouts, ...
        const char *target;  // HOST[:PORT] as typed; pc.host is its host part
        const char *save_chain, *cert_file, *key_file;
        bool matrix;
        char host[256];
    } probe;
    struct cli_report {                        // `report` only
        bundle_options bo;                     // -o, --max-connections, --anonymize*, ...
        const char *probe_target, *probe_sni;  // --probe HOST[:PORT], --probe-sni NAME
        char probe_host[256];
        uint16_t probe_port;
    } report;
    doctor_config servers;  // `doctor` only: --nginx, --apache, --haproxy
} cli_options;

// cli_parse parses argv of any subcommand (argv[0] is its name). Returns 0 when the command
// should run, 2 after printing a usage error on stderr (4 when out of memory), -1 after printing
// help on stdout (exit 0). After 0, *out needs cli_options_free (a no-op after anything else).
int cli_parse(cli_mode mode, int argc, char **argv, cli_options *out)
    __attribute__((warn_unused_result));
void cli_options_free(cli_options *o);
// cli_options_add_file appends one input (borrowed) to o->files; false: out of memory.
bool cli_options_add_file(cli_options *o, const char *path) __attribute__((warn_unused_result));
void cli_usage(cli_mode mode, FILE *f);  // help.c

// The other subcommands (cmd_capture.c, cmd_probe.c, cmd_report.c, cmd_doctor.c): each parses
// its argv (argv[0] is its name), calls its library and returns the exit status.
int cli_cmd_capture(int argc, char **argv) __attribute__((warn_unused_result));
int cli_cmd_probe(int argc, char **argv) __attribute__((warn_unused_result));
int cli_cmd_report(int argc, char **argv) __attribute__((warn_unused_result));
int cli_cmd_doctor(int argc, char **argv) __attribute__((warn_unused_result));

// cli_run runs the pipeline and returns the process exit status (tlsdiag_exit in report.h).
int cli_run(const cli_options *o) __attribute__((warn_unused_result));

// cli_pipeline_config: the pipeline's configuration from the options of analyze/dissect (run.c).
void cli_pipeline_config(const cli_options *o, pipeline_config *out);

// cli_analyzer_new: pipeline_analyzer_new, NULL after saying why on stderr (run.c).
analyzer *cli_analyzer_new(const pipeline_config *pc) __attribute__((warn_unused_result));

// cli_probe_origin_new: --probe-origin's prober (probe_origin_new) for analyze and capture,
// from the run's pipeline configuration; NULL after a message on stderr (run.c).
struct probe_origin *cli_probe_origin_new(const pipeline_config *pc, const char *target);

// cli_use_color: colour for text on stdout — never with --json; --color=always/never win; auto
// means a terminal and NO_COLOR unset or empty (https://no-color.org). In options.c.
bool cli_use_color(bool json, cli_color c);

#endif
