// cmd_probe.h — `tlsdiag probe`: an active handshake that imitates CloudFront (cmd_probe.c).
#ifndef TLSDIAG_CMD_PROBE_H
#define TLSDIAG_CMD_PROBE_H

// cli_cmd_probe runs `tlsdiag probe` (argv[0] is "probe") and returns the exit status.
int cli_cmd_probe(int argc, char **argv) __attribute__((warn_unused_result));

// --probe-origin for `analyze` (run.c) and `capture`: part of their verdict sink.
// cli_probe_origin_new builds the prober from the run's pipeline configuration (same profile,
// trust store and limits; its own analyzer, so the probes stay out of the run's summary); NULL
// after a message on stderr. target: --probe-origin's IP:PORT, NULL: each connection's server.
// cli_probe_origin_attach adds a probe's findings to a failed verdict whose chain was hidden
// (po NULL: nothing). cli_probe_origin_free(NULL) is a no-op. cli_probe_origin_target_ok
// checks --probe-origin's IP:PORT at parse time.
#include "pipeline.h"
struct probe_origin;
struct verdict;
struct probe_origin *cli_probe_origin_new(const pipeline_config *pc, const char *target);
void cli_probe_origin_attach(struct probe_origin *po, struct verdict *v);
void cli_probe_origin_free(struct probe_origin *po);
_Bool cli_probe_origin_target_ok(const char *target);

#endif
