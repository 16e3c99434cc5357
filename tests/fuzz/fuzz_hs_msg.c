// fuzz_hs_msg.c — libFuzzer targets for the handshake-message parsers, plus the fingerprints of
// whatever ClientHello/ServerHello came out (fields parsed before an error are kept, so the
// fingerprint code sees half-filled structs too). Built once per parser with FUZZ_PARSER set
// (fuzz_client_hello, fuzz_server_hello, fuzz_certificate, fuzz_ske, fuzz_cert_request), and
// once with every parser on the same input (fuzz_hs_msg, FUZZ_PARSER 0).
#include <string.h>

#include "fuzz_util.h"
#include "internal.h"

#ifndef FUZZ_PARSER
#define FUZZ_PARSER 0
#endif
#define RUN(n) (FUZZ_PARSER == 0 || FUZZ_PARSER == (n))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4) {
        return 0;
    }
    // First 4 bytes: cipher and version for the parsers that depend on the negotiation.
    uint16_t cipher = (uint16_t)((data[0] << 8) | data[1]);
    uint16_t version = (uint16_t)((data[2] << 8) | data[3]);
    cur body = cur_make(data + 4, size - 4);

    static tls_client_hello ch;
    static tls_server_hello sh;
    char ja3[33], ja3s[33], ja4[40], ja3str[4096];
    tls_err e;  // outcomes are irrelevant here: only crashes and sanitizer reports count
    e = TLS_ERR_OK;
    if (RUN(1)) {
        memset(&ch, 0, sizeof ch);
        e = tls_parse_client_hello(body, &ch);
        tls_fp_ja3(&ch, ja3);
        tls_fp_ja4(&ch, ja4);
        (void)tls_fp_ja3_string(&ch, ja3str, sizeof ja3str);
        memset(&ch, 0, sizeof ch);
        e = tls_parse_sslv2_client_hello(body, &ch);
        tls_fp_ja4(&ch, ja4);
    }
    if (RUN(2)) {
        memset(&sh, 0, sizeof sh);
        e = tls_parse_server_hello(body, &sh);
        tls_fp_ja3s(&sh, ja3s);
    }
    for (int tls13 = 0; RUN(3) && tls13 < 2; tls13++) {
        tls_certificate cert;
        memset(&cert, 0, sizeof cert);
        e = tls_parse_certificate(body, tls13 != 0, &cert);
        tls_certificate_clear(&cert);
    }
    if (RUN(4)) {
        tls_server_key_exchange ske;
        memset(&ske, 0, sizeof ske);
        e = tls_parse_server_key_exchange(body, cipher, version, &ske);
    }
    if (RUN(5)) {
        tls_cert_request cr;
        memset(&cr, 0, sizeof cr);
        e = tls_parse_certificate_request(body, version, &cr);
    }
    (void)e;
    return 0;
}
