// fuzz_tls_conn.c — libFuzzer target: the TLS record layer, handshake reassembly and every
// message parser, fed as two byte streams cut into chunks chosen by the input.
//
// Input: a sequence of [control byte][chunk]: bit 0 of the control byte is the direction,
// bits 1..7 + 1 the chunk length (1..128). Control byte 0xFF declares a gap instead.
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tls_transcript t;
    memset(&t, 0, sizeof t);
    dissect_config cfg;
    dissect_config_default(&cfg);
    cfg.max_flow_bytes = 1u << 16;
    cfg.max_message_len = 1u << 16;
    tls_conn *c = tls_conn_new(&t, &cfg);
    if (c == NULL) {
        return 0;
    }
    fz f = {data, size};
    uint32_t frame = 1;
    while (f.n > 0) {
        uint8_t ctl = fz_u8(&f);
        tls_meta m = {frame, (int64_t)frame * 1000};
        frame++;
        tls_dir dir = (ctl & 1) ? TLS_DIR_S2C : TLS_DIR_C2S;
        if (ctl == 0xFF) {
            tls_conn_gap(c, dir, fz_u8(&f), &m);
            continue;
        }
        size_t n;
        const uint8_t *p = fz_take(&f, (size_t)(ctl >> 1) + 1, &n);
        tls_conn_feed(c, dir, p, n, &m);
        tls_end_reason r;
        (void)tls_conn_decided(c, &r);
    }
    tls_conn_free(c);
    tls_certificate_clear(&t.cert);
    tls_certificate_clear(&t.client_cert);
    return 0;
}
