// cmd_probe.h — `tlsdiag probe`: an active handshake that imitates CloudFront (cmd_probe.c).
#ifndef TLSDIAG_CMD_PROBE_H
#define TLSDIAG_CMD_PROBE_H

// cli_cmd_probe runs `tlsdiag probe` (argv[0] is "probe") and returns the exit status.
int cli_cmd_probe(int argc, char **argv) __attribute__((warn_unused_result));

// --probe-origin for `analyze` (run.c) and `capture`: cli_probe_origin_new builds the prober
// from the run's options (same profile and trust store); NULL after a message on stderr.
// cli_probe_origin_attach adds a probe's findings to a failed verdict whose chain was hidden
// (po NULL: nothing). cli_probe_origin_free(NULL) is a no-op.
struct probe_origin;
struct cli_options;
struct verdict;
struct probe_origin *cli_probe_origin_new(const struct cli_options *o);
void cli_probe_origin_attach(struct probe_origin *po, struct verdict *v);
void cli_probe_origin_free(struct probe_origin *po);
// For `capture` (its own options): the same prober from the pieces it needs; and a check of
// --probe-origin's IP:PORT at parse time.
struct probe_origin *cli_probe_origin_new_cfg(const char *target, const char *profile,
                                              const char *ca_file, const char *ca_path,
                                              const char *ranges_file);
_Bool cli_probe_origin_target_ok(const char *target);

#endif
