// cmd_probe.h — `tlsdiag probe`: an active handshake that imitates CloudFront (cmd_probe.c).
#ifndef TLSDIAG_CMD_PROBE_H
#define TLSDIAG_CMD_PROBE_H

// cli_cmd_probe runs `tlsdiag probe` (argv[0] is "probe") and returns the exit status.
int cli_cmd_probe(int argc, char **argv) __attribute__((warn_unused_result));

#endif
