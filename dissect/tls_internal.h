// tls_internal.h — helpers shared by tls_conn.c, tls_msg.c, tls_names.c and tls_fp.c only.
#ifndef TLSDIAG_TLS_INTERNAL_H
#define TLSDIAG_TLS_INTERNAL_H

#include "internal.h"

enum {
    TLS_RECORD_HEADER_LEN = 5,
    // RFC 5246 §6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048.
    TLS_MAX_RECORD_LEN = 16384 + 2048,
    TLS_HS_HEADER_LEN = 4,
    TLS_CT_CHANGE_CIPHER_SPEC = 20,
    TLS_CT_ALERT = 21,
    TLS_CT_HANDSHAKE = 22,
    TLS_CT_APPLICATION_DATA = TLS_CONTENT_APPLICATION_DATA,
    TLS_CT_HEARTBEAT = 24,
    // SSLv2 message types (RFC 6101 App. E / draft-hickman-netscape-ssl-00 §2.5)
    SSL2_MT_CLIENT_HELLO = 1,
    SSL2_MT_SERVER_HELLO = 4,
};

// tls_record_version_ok: a record-layer version tlsdiag accepts as SSL 3.0 / TLS 1.x (drafts
// 0x7fXX and Fizz 0xfbXX included, DTLS-style 0xfeXX tolerated).
static inline bool tls_record_version_ok(uint16_t v) {
    return (v >= 0x0300 && v <= 0x0304) || (v >> 8) == 0x7f || (v >> 8) == 0xfb || (v >> 8) == 0xfe;
}

// tls_version_is_tls13: the negotiated version is TLS 1.3 or one of its drafts.
static inline bool tls_version_is_tls13(uint16_t v) {
    return v == 0x0304 || (v >> 8) == 0x7f || (v >> 8) == 0xfb;
}

// tls_cipher_is_anon: DH_anon / ECDH_anon suites, whose ServerKeyExchange carries no signature.
bool tls_cipher_is_anon(uint16_t cs);

// tls_parse_sslv2_server_hello: body after the SSLv2 msg_type byte (SERVER-HELLO, RFC 6101
// App. E.2 / draft-hickman §2.6). The certificate, when present, is copied like a TLS one.
tls_err tls_parse_sslv2_server_hello(cur body, tls_server_hello *sh,
                                     tls_certificate *cert) TLSDIAG_WUR;

// tls_parse_client_hello_zeroed: tls_parse_client_hello into a struct whose fields read as zero
// but for the lists' arrays, written below their counts only (a fresh transcript's ch: see
// ch_reset in transcript.c) — without clearing its 2.4 KB again (13 % of parsing a ClientHello).
tls_err tls_parse_client_hello_zeroed(cur body, tls_client_hello *out) TLSDIAG_WUR;

// tls_parse_server_hello_zeroed: tls_parse_server_hello into a struct that reads as all-zero
// (a transcript's sh before its first ServerHello) — without clearing its 260 bytes again.
tls_err tls_parse_server_hello_zeroed(cur body, tls_server_hello *out) TLSDIAG_WUR;

// tls_hrr_random is SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
extern const uint8_t tls_hrr_random[32];

#endif
