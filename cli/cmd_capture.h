// cmd_capture.h — `tlsdiag capture` (cmd_capture.c): live capture, verdicts as they happen.
#ifndef TLSDIAG_CLI_CMD_CAPTURE_H
#define TLSDIAG_CLI_CMD_CAPTURE_H

// cli_cmd_capture runs the subcommand (argv[0] is "capture") and returns the exit status.
int cli_cmd_capture(int argc, char **argv) __attribute__((warn_unused_result));

#endif
