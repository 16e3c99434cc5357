// cmd_report.h — `tlsdiag report`: the support-ticket bundle (bundle/).
#ifndef TLSDIAG_CMD_REPORT_H
#define TLSDIAG_CMD_REPORT_H

// cli_cmd_report runs the subcommand (argv[0] is "report") and returns the exit status.
int cli_cmd_report(int argc, char **argv) __attribute__((warn_unused_result));

#endif
