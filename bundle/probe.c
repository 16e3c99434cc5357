// probe.c — `tlsdiag report --probe`: CloudFront's handshake with the origin made now (tlsdiag
// probe), its packets saved in a temporary directory so they go through the bundle like any
// capture.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "probe.h"
#include "report.h"

int bundle_probe(const bundle_options *o, const char *target, const char *host, uint16_t port,
                 const char *sni, char *dir, char *pcap, size_t pcaplen, char *env, size_t envlen,
                 char *err, size_t errlen) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, BUNDLE_TMP_LEN, "%s/tlsdiag-report.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        snprintf(err, errlen, "cannot create a temporary directory: %s", strerror(errno));
        return TLSDIAG_EXIT_INTERNAL;
    }
    snprintf(pcap, pcaplen, "%s/probe.pcap", dir);
    pipeline_config plc;
    bundle_pipeline_config(o, &plc);
    plc.now = 0;  // the probe happens now: --now dates the captures, not this handshake
    char e[512] = "";
    analyzer *a = pipeline_analyzer_new(&plc, e, sizeof e);
    if (a == NULL) {
        snprintf(err, errlen, "%s", e);
        rmdir(dir);
        pcap[0] = '\0';
        return TLSDIAG_EXIT_INPUT;
    }
    probe_config pc;
    memset(&pc, 0, sizeof pc);
    pc.host = host;
    pc.port = port;
    pc.sni = sni;
    pc.ca_file = o->ca_file;
    pc.ca_path = o->ca_path;
    pc.pcap_out = pcap;
    pc.limits = o->limits;
    int rc = TLSDIAG_EXIT_OK;
    if (!probe_run_described(a, &pc, env, envlen, e, sizeof e)) {
        snprintf(err, errlen, "--probe %s: %s", target, e[0] ? e : "out of memory");
        unlink(pcap);
        rmdir(dir);
        pcap[0] = '\0';
        rc = e[0] ? TLSDIAG_EXIT_INPUT : TLSDIAG_EXIT_INTERNAL;
    }
    analyzer_free(a);
    return rc;
}
