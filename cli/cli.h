// cli.h — the command line of tlsdiag: options shared by the subcommands, and the pipeline.
#ifndef TLSDIAG_CLI_H
#define TLSDIAG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pipeline.h"

typedef enum cli_mode {
    CLI_DISSECT = 0,  // transcripts: one ladder / JSON object per connection
    CLI_ANALYZE,      // verdicts: one line / JSON object per handshake, then a summary
    CLI_CAPTURE,      // live: verdicts as they happen (cmd_capture.c)
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
    struct cli_capture {                        // `capture` only
        const char *iface, *write_path, *user;  // -i, -w, -Z
        uint16_t ports[32];                     // -p
        size_t num_ports;
        bool all_sources, print_filter, handshake_only, list_interfaces;
        uint64_t duration_s, rotate_bytes;                           // --duration, -C
        uint32_t ring_files, rotate_seconds, buffer_bytes, snaplen;  // -W, -G, -B, -s
    } cap;
} cli_options;

// cli_parse parses argv of dissect, analyze or capture (argv[0] is the subcommand's name). Returns
// 0 when the command should run, 2 after printing a usage error on stderr, -1 after printing help
// on stdout (exit 0).
int cli_parse(cli_mode mode, int argc, char **argv, cli_options *out)
    __attribute__((warn_unused_result));
void cli_options_free(cli_options *o);
void cli_usage(cli_mode mode, FILE *f);

// cli_run runs the pipeline and returns the process exit status (tlsdiag_exit in report.h).
int cli_run(const cli_options *o) __attribute__((warn_unused_result));

// cli_pipeline_config: the pipeline's configuration from the options of analyze/dissect (run.c).
void cli_pipeline_config(const cli_options *o, pipeline_config *out);

// cli_analyzer_new: pipeline_analyzer_new, NULL after saying why on stderr (run.c).
analyzer *cli_analyzer_new(const pipeline_config *pc) __attribute__((warn_unused_result));

// cli_probe_origin_new: --probe-origin's prober (probe_origin_new) for analyze and capture,
// from the run's pipeline configuration; NULL after a message on stderr (run.c).
struct probe_origin *cli_probe_origin_new(const pipeline_config *pc, const char *target);

// cli_parse_rfc3339: "2026-11-26T00:00:00Z" or with a ±hh:mm offset → Unix seconds (options.c).
bool cli_parse_rfc3339(const char *s, int64_t *out) __attribute__((warn_unused_result));

// cli_use_color: colour for text on stdout — never with --json; --color=always/never win; auto
// means a terminal and NO_COLOR unset or empty (https://no-color.org). In progress.c.
bool cli_use_color(bool json, cli_color c);

// progress.c — a status line on stderr for long runs (TTY only, ≤ 4 refreshes a second).
typedef struct cli_progress {
    bool enabled;
    bool shown;
    int64_t start_ns, last_ns;
    uint32_t ticks;
} cli_progress;

void cli_progress_init(cli_progress *p, bool enabled);
// cli_progress_tick: cheap; draws at most every 250 ms and only once the run is > 1 s old.
void cli_progress_tick(cli_progress *p, uint64_t bytes_read, uint64_t bytes_total,
                       uint64_t handshakes);
// cli_progress_end erases the status line (also capture's: shown set by whoever drew it).
void cli_progress_end(cli_progress *p);
int64_t cli_now_ns(void);  // CLOCK_MONOTONIC in ns

#endif
