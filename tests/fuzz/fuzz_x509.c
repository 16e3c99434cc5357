// fuzz_x509.c — libFuzzer target: the certificate analysis path (OpenSSL parse, chain
// validation at the handshake time, name checks, key and signature checks, the rules) on a
// "server Certificate" whose DER blobs come from the input.
//
// Input: [sni length u8][sni][alert u8][then repeated: len u16, DER bytes].
#include <string.h>

#include "analyze.h"
#include "dissect.h"
#include "fuzz_util.h"

static analyzer *an;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (an == NULL) {
        analyzer_config ac;
        analyzer_config_default(&ac);
        ac.now = 1790000000;
        char err[256];
        an = analyzer_new(&ac, err, sizeof err);
        if (an == NULL) {
            __builtin_trap();
        }
    }
    static tls_transcript t;
    memset(&t, 0, sizeof t);
    fz f = {data, size};
    size_t sni_n;
    const uint8_t *sni = fz_take(&f, fz_u8(&f), &sni_n);
    t.client.family = t.server.family = 4;
    t.client.addr[0] = 15, t.client.addr[1] = 158;  // inside a CloudFront prefix
    t.server.port = 443;
    t.is_tls = true;
    t.ch.present = true;
    t.ch.legacy_version = 0x0303;
    t.ch.has_sni = sni_n > 0;
    memcpy(t.ch.sni, sni, sni_n);
    t.ch.sni_len = (uint16_t)sni_n;
    t.sh.present = true;
    t.sh.legacy_version = 0x0303;
    t.sh.cipher = 0xC02F;
    t.first_ts_ns = t.last_ts_ns = 1700000000LL * 1000000000;
    uint8_t alert = fz_u8(&f);
    t.cert.present = true;
    while (f.n > 0 && t.cert.num_stored < TLS_MAX_CERTS) {
        size_t n;
        const uint8_t *der = fz_take(&f, fz_u16(&f), &n);
        t.cert.certs[t.cert.num_stored].der = der;
        t.cert.certs[t.cert.num_stored].len = (uint32_t)n;
        t.cert.num_stored++;
        t.cert.num_certs++;
    }
    tls_event e[3] = {
        {.kind = TLS_EV_HANDSHAKE,
         .dir = TLS_DIR_C2S,
         .content_type = 22,
         .hs_type = 1,
         .frame = 4},
        {.kind = TLS_EV_HANDSHAKE,
         .dir = TLS_DIR_S2C,
         .content_type = 22,
         .hs_type = 11,
         .frame = 6},
        {.kind = TLS_EV_ALERT,
         .dir = TLS_DIR_C2S,
         .content_type = 21,
         .alert_level = 2,
         .alert_desc = alert,
         .frame = 8},
    };
    memcpy(t.events, e, sizeof e);
    t.num_events = 3;
    t.end_reason = TLS_END_ALERT;
    verdict *v = analyzer_run(an, &t);
    verdict_free(v);
    return 0;
}
