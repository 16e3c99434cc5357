// optable.h — the one table of tlsdiag's command-line options: each row names its subcommands.
//
// Every subcommand's getopt_long table and optstring, `tlsdiag --list-options COMMAND` (which
// bash completion reads) and the "not valid for this subcommand" messages come from this table;
// each subcommand's --help lists exactly its rows (tests/scripts/test_options.sh checks it).
// Adding an option is one row here plus its case in cli/options.c (the one parser) and its line
// in the subcommand's help (help.c).
#ifndef TLSDIAG_CLI_OPTABLE_H
#define TLSDIAG_CLI_OPTABLE_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

// The subcommands, as bits of a row's set.
enum {
    CLI_CMD_ANALYZE = 1u << 0,
    CLI_CMD_DISSECT = 1u << 1,
    CLI_CMD_CAPTURE = 1u << 2,
    CLI_CMD_PROBE = 1u << 3,
    CLI_CMD_REPORT = 1u << 4,
    CLI_CMD_DOCTOR = 1u << 5,
};

// X(ID, long name, short letter or 0, argument, subcommands, ID whose getopt value it shares)
// The getopt value of a row is its short letter, else 256 + the index of the row it shares.
#define CLI_AD (CLI_CMD_ANALYZE | CLI_CMD_DISSECT)
#define CLI_ADC (CLI_AD | CLI_CMD_CAPTURE)
#define CLI_ADCP (CLI_ADC | CLI_CMD_PROBE)
#define CLI_ALL (CLI_ADCP | CLI_CMD_REPORT | CLI_CMD_DOCTOR)
#define CLI_LIMITS (CLI_ADC | CLI_CMD_PROBE | CLI_CMD_REPORT)
#define CLI_OPTION_TABLE(X)                                                                        \
    /* input */                                                                                    \
    X(READ, "read", 'r', required_argument, CLI_AD | CLI_CMD_REPORT, READ)                         \
    X(FILTER, "filter", 'f', required_argument, CLI_ADC | CLI_CMD_REPORT, FILTER)                  \
    X(COUNT, "count", 'c', required_argument, CLI_ADC, COUNT)                                      \
    X(NO_RESOLVE, "no-resolve", 'n', no_argument, CLI_AD, NO_RESOLVE)                              \
    /* output */                                                                                   \
    X(JSON, "json", 0, no_argument, CLI_ADCP | CLI_CMD_DOCTOR, JSON)                               \
    X(QUIET, "quiet", 'q', no_argument, CLI_ADCP, QUIET)                                           \
    X(VERBOSE, "verbose", 'v', no_argument, CLI_ADCP | CLI_CMD_DOCTOR, VERBOSE)                    \
    X(COLOR, "color", 0, optional_argument, CLI_ADCP, COLOR)                                       \
    X(COLOUR, "colour", 0, optional_argument, CLI_ADCP, COLOR)                                     \
    X(WIRESHARK, "wireshark", 0, no_argument, CLI_AD, WIRESHARK)                                   \
    X(ECS, "ecs", 0, no_argument, CLI_CMD_ANALYZE | CLI_CMD_CAPTURE, ECS)                          \
    /* analysis */                                                                                 \
    X(CA_FILE, "ca-file", 0, required_argument, CLI_ALL, CA_FILE)                                  \
    X(CA_PATH, "ca-path", 0, required_argument, CLI_ALL, CA_PATH)                                  \
    X(RANGES, "ranges", 0, required_argument, CLI_ADC | CLI_CMD_REPORT, RANGES)                    \
    X(PROFILE, "profile", 0, required_argument, CLI_ALL, PROFILE)                                  \
    X(NOW, "now", 0, required_argument, CLI_AD | CLI_CMD_REPORT | CLI_CMD_DOCTOR, NOW)             \
    X(PROBE_ORIGIN, "probe-origin", 0, optional_argument, CLI_ADC, PROBE_ORIGIN)                   \
    X(DOCTOR, "doctor", 0, required_argument, CLI_CMD_ANALYZE | CLI_CMD_CAPTURE, DOCTOR)           \
    /* limits: the same everywhere the pipeline runs */                                            \
    X(MAX_FLOWS, "max-flows", 0, required_argument, CLI_LIMITS, MAX_FLOWS)                         \
    X(MAX_FLOW_BYTES, "max-flow-bytes", 0, required_argument, CLI_LIMITS, MAX_FLOW_BYTES)          \
    X(MAX_TOTAL_BYTES, "max-total-bytes", 0, required_argument, CLI_LIMITS, MAX_TOTAL_BYTES)       \
    X(THREADS, "threads", 0, required_argument, CLI_CMD_ANALYZE, THREADS)                          \
    /* capture */                                                                                  \
    X(INTERFACE, "interface", 'i', required_argument, CLI_CMD_CAPTURE, INTERFACE)                  \
    X(PORT, "port", 'p', required_argument, CLI_CMD_CAPTURE, PORT)                                 \
    X(ALL_SOURCES, "all-sources", 0, no_argument, CLI_CMD_CAPTURE, ALL_SOURCES)                    \
    X(PRINT_FILTER, "print-filter", 0, no_argument, CLI_CMD_CAPTURE, PRINT_FILTER)                 \
    X(DURATION, "duration", 0, required_argument, CLI_CMD_CAPTURE, DURATION)                       \
    X(WRITE, "write", 'w', required_argument, CLI_CMD_CAPTURE | CLI_CMD_PROBE, WRITE)              \
    X(HANDSHAKE_ONLY, "handshake-only", 0, no_argument, CLI_CMD_CAPTURE, HANDSHAKE_ONLY)           \
    X(FILE_SIZE, "file-size", 'C', required_argument, CLI_CMD_CAPTURE, FILE_SIZE)                  \
    X(FILE_COUNT, "file-count", 'W', required_argument, CLI_CMD_CAPTURE, FILE_COUNT)               \
    X(USER, "user", 'Z', required_argument, CLI_CMD_CAPTURE, USER)                                 \
    X(BUFFER_SIZE, "buffer-size", 'B', required_argument, CLI_CMD_CAPTURE, BUFFER_SIZE)            \
    X(SNAPLEN, "snaplen", 's', required_argument, CLI_CMD_CAPTURE, SNAPLEN)                        \
    X(LIST_IFACES, "list-interfaces", 'D', no_argument, CLI_CMD_CAPTURE, LIST_IFACES)              \
    X(ROTATE_SECONDS, "rotate-seconds", 'G', required_argument, CLI_CMD_CAPTURE, ROTATE_SECONDS)   \
    /* probe */                                                                                    \
    X(SNI, "sni", 0, required_argument, CLI_CMD_PROBE, SNI)                                        \
    X(CONNECT, "connect", 0, required_argument, CLI_CMD_PROBE, CONNECT)                            \
    X(ORIGIN_PROTOCOLS, "origin-protocols", 0, required_argument, CLI_CMD_PROBE, ORIGIN_PROTOCOLS) \
    X(MATRIX, "matrix", 0, no_argument, CLI_CMD_PROBE, MATRIX)                                     \
    X(SAVE_CHAIN, "save-chain", 0, required_argument, CLI_CMD_PROBE, SAVE_CHAIN)                   \
    X(CERT_FILE, "cert-file", 0, required_argument, CLI_CMD_PROBE, CERT_FILE)                      \
    X(KEY_FILE, "key-file", 0, required_argument, CLI_CMD_PROBE, KEY_FILE)                         \
    X(CONNECT_TIMEOUT, "connect-timeout", 0, required_argument, CLI_CMD_PROBE, CONNECT_TIMEOUT)    \
    X(TIMEOUT, "timeout", 0, required_argument, CLI_CMD_PROBE, TIMEOUT)                            \
    X(NO_CAPTURE, "no-capture", 0, no_argument, CLI_CMD_PROBE, NO_CAPTURE)                         \
    /* report */                                                                                   \
    X(OUTPUT, "output", 'o', required_argument, CLI_CMD_REPORT, OUTPUT)                            \
    X(MAX_CONNECTIONS, "max-connections", 0, required_argument, CLI_CMD_REPORT, MAX_CONNECTIONS)   \
    X(ANONYMIZE, "anonymize", 0, no_argument, CLI_CMD_REPORT, ANONYMIZE)                           \
    X(ANONYMISE, "anonymise", 0, no_argument, CLI_CMD_REPORT, ANONYMIZE)                           \
    X(ANONYMIZE_KEY, "anonymize-key", 0, required_argument, CLI_CMD_REPORT, ANONYMIZE_KEY)         \
    X(REDACT_NAMES, "redact-names", 0, no_argument, CLI_CMD_REPORT, REDACT_NAMES)                  \
    X(PROBE, "probe", 0, required_argument, CLI_CMD_REPORT, PROBE)                                 \
    X(PROBE_SNI, "probe-sni", 0, required_argument, CLI_CMD_REPORT, PROBE_SNI)                     \
    /* doctor */                                                                                   \
    X(NGINX, "nginx", 0, required_argument, CLI_CMD_DOCTOR, NGINX)                                 \
    X(APACHE, "apache", 0, required_argument, CLI_CMD_DOCTOR, APACHE)                              \
    X(HAPROXY, "haproxy", 0, required_argument, CLI_CMD_DOCTOR, HAPROXY)                           \
    X(HELP, "help", 'h', no_argument, CLI_ALL, HELP)

// The row indexes, then the getopt values the parsers' switches use (CLI_OPT_JSON, ...).
enum cli_opt_index {
#define CLI_OPT_X(id, name, sh, arg, cmds, same) CLI_OPT_I_##id,
    CLI_OPTION_TABLE(CLI_OPT_X)
#undef CLI_OPT_X
        CLI_OPT_ROWS,
};
enum cli_opt_value {
#define CLI_OPT_X(id, name, sh, arg, cmds, same) \
    CLI_OPT_##id = (sh) ? (sh) : 256 + CLI_OPT_I_##same,
    CLI_OPTION_TABLE(CLI_OPT_X)
#undef CLI_OPT_X
};

// The getopt_long table and optstring of one subcommand (a CLI_CMD_* bit).
typedef struct cli_getopt {
    struct option longopts[CLI_OPT_ROWS + 1];
    char optstring[2 * CLI_OPT_ROWS + 2];  // ":" then each short letter, with ':' for an argument
} cli_getopt;
void cli_getopt_init(unsigned cmd, cli_getopt *g);

// cli_cmd_name: the name of a subcommand (a CLI_CMD_* bit), "?" for none.
const char *cli_cmd_name(unsigned cmd);

// cli_opt_elsewhere: when `typed` (the argv word; letter: getopt's optopt, the short letter it
// rejected, or 0) names an option of other subcommands, writes "option '--x' is not valid for
// CMD (it is for: a, b)" to msg and returns true; for an option of another tool that people
// type (-Y, tshark's display filter), writes what tlsdiag offers instead and returns true;
// false for an option no subcommand has.
bool cli_opt_elsewhere(unsigned cmd, const char *typed, int letter, char *msg, size_t n);

// cli_unknown_command says on f that word is no command: when it looks like a capture file
// (it exists, or ends in .pcap/.pcapng/.cap), every command that reads one, ready to copy;
// otherwise the list of commands.
void cli_unknown_command(const char *word, FILE *f);

// cli_opt_list prints the options of one subcommand, one per line, in the table's order
// (`tlsdiag --list-options COMMAND`, read by the bash completion); a row that shares an
// earlier row's value (--colour) is an accepted spelling, not listed. false: no such command.
bool cli_opt_list(const char *command, FILE *f);

// cli_parse_count: a positive decimal integer, with an optional K/M/G (×1024) suffix when
// allow_suffix; at most max. *out untouched on failure.
bool cli_parse_count(const char *s, bool allow_suffix, uint64_t max, uint64_t *out)
    __attribute__((warn_unused_result));

// cli_parse_limit parses the value of --max-flows, --max-flow-bytes or --max-total-bytes (val:
// CLI_OPT_MAX_*) into l, the same way for every subcommand; false: msg says what was expected.
bool cli_parse_limit(int val, const char *arg, pipeline_limits *l, char *msg, size_t n)
    __attribute__((warn_unused_result));

#endif
