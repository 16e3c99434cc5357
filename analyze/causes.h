// causes.h — the cause table: one row per cause id, the only place a cause is declared.
//
// Each row generates the cause_id enum and the name and meaning strings (analyze.h, cause.c),
// the rule array (rules.c), the text table (texts.c) and doc/causes.md (tests/unit/analyze/
// test_causes.c), in the manner of s2n-tls's error/s2n_errno.c. Adding a cause is adding a row
// here, its rule function in rules.c, its texts in texts.c and its fixtures.
//
//   X(ENUM, number, "id", "one-line meaning", rule function, flags, "references", texts)
//
// - number: the cause's stable position (enum value): reports list causes in this order
//   (by_cause in JSON, the causes table). A new cause takes the next free number.
// - Rows are in rule priority order: the first rule that matches a failed handshake names its
//   primary cause. Capture first (never blame a peer for lost bytes), then transport, then the
//   server's refusals of the ClientHello, then the client's refusal of the server's choices.
// - rule function: rules.c, NULL for the causes the analyzer names without a rule.
// - flags: CAUSE_F_PREDICTS (the rule also runs on handshakes that succeeded: a refusal the
//   profile's client would make), CAUSE_F_FALLBACK (a last resort: the rule runs only when no
//   earlier rule matched, so it is never a secondary finding), CAUSE_F_CERT (the cause depends only
//   on the certificate the server sent, so it is certain for any client of the profile and a
//   prediction may be the primary cause).
// - references: the RFC sections and documents the rule rests on (listed in doc/causes.md).
// - texts: the fix steps and dead ends in texts.c.
//
// The ids are stable: scripts, dashboards and tickets key on the strings; never rename one.
// doc/causes.md lists them (generated; test_causes fails when it is out of date).
#ifndef TLSDIAG_CAUSES_H
#define TLSDIAG_CAUSES_H

// clang-format off
#define CAUSE_TABLE(X)                                                                             \
    X(OK, 0, "ok", "the handshake completed",                                                      \
      NULL, 0, "", text_ok)                                                                        \
    X(CAPTURE_INCOMPLETE, 28, "capture_incomplete",                                                \
      "the capture lacks the bytes needed to decide",                                              \
      rule_capture_incomplete, 0, "STYLE.md §4; RFC 793 §3.3", text_capture_incomplete)            \
    X(CONNECTION_REFUSED, 26, "connection_refused", "nothing listening: SYN answered by RST",      \
      rule_connection_refused, 0, "RFC 9293 §3.10.7.1", text_connection_refused)                   \
    X(CONNECT_TIMEOUT, 27, "connect_timeout", "SYN never answered (CloudFront reports 504)",       \
      rule_connect_timeout, 0, "RFC 6298 §5; AWS DG-504", text_connect_timeout)                    \
    X(NOT_TLS, 21, "not_tls", "the server answered with something that is not TLS",                \
      rule_not_tls, 0, "RFC 8446 §5.1", text_not_tls)                                              \
    X(SERVER_FLIGHT_LOST, 25, "server_flight_lost",                                                \
      "the server's flight was retransmitted and never acknowledged (path MTU black hole)",        \
      rule_server_flight_lost, 0, "RFC 4821; RFC 1191", text_server_flight_lost)                   \
    X(CLIENT_HELLO_REJECTED, 30, "client_hello_rejected",                                        \
      "the server rejected the ClientHello itself (decode_error, illegal_parameter, or a reset "   \
      "of a ClientHello that spans several TCP segments)",                                         \
      rule_client_hello_rejected, 0, "RFC 8446 §6.2, §4.1.2; RFC 9293 §3.7.1",                     \
      text_client_hello_rejected)                                                                  \
    X(SERVER_RESET, 22, "server_reset", "the server reset the connection after the ClientHello",   \
      rule_server_reset, 0, "RFC 9293 §3.5.2", text_server_reset)                                  \
    X(SERVER_CLOSED, 23, "server_closed",                                                          \
      "the server closed the connection after the ClientHello",                                    \
      rule_server_closed, 0, "RFC 8446 §6.1", text_server_closed)                                  \
    X(SERVER_TIMEOUT, 24, "server_timeout", "the server never answered the ClientHello",           \
      rule_server_timeout, 0, "AWS DG-values (origin response timeout)", text_server_timeout)      \
    X(PROTOCOL_VERSION_MISMATCH, 14, "protocol_version_mismatch",                                  \
      "client and server have no protocol version in common",                                      \
      rule_protocol_version, CAUSE_F_PREDICTS, "RFC 8446 §4.2.1, §6.2",                            \
      text_protocol_version_mismatch)                                                              \
    X(SNI_REJECTED, 13, "sni_rejected", "the server refused the SNI (unrecognized_name)",          \
      rule_sni_rejected, 0, "RFC 6066 §3", text_sni_rejected)                                      \
    X(CLIENT_CERT_REQUIRED, 19, "client_cert_required",                                            \
      "the server demanded a client certificate the client did not give",                          \
      rule_client_cert_required, CAUSE_F_PREDICTS, "RFC 5246 §7.4.4; RFC 8446 §4.4.2.4",           \
      text_client_cert_required)                                                                   \
    X(CLIENT_CERT_REJECTED, 33, "client_cert_rejected",                                            \
      "the server refused the client certificate the client sent (origin mTLS)",                   \
      rule_client_cert_rejected, 0, "RFC 5246 §7.4.6; RFC 8446 §4.4.2.4; AWS origin-mtls",         \
      text_client_cert_rejected)                                                                   \
    X(NO_SHARED_SIGNATURE_ALGORITHM, 17, "no_shared_signature_algorithm",                          \
      "no signature scheme in common",                                                             \
      rule_no_shared_sigalg, CAUSE_F_PREDICTS, "RFC 5246 §7.4.1.4.1",                              \
      text_no_shared_signature_algorithm)                                                          \
    X(NO_SHARED_CIPHER, 15, "no_shared_cipher", "client and server have no cipher suite in common",\
      rule_no_shared_cipher, CAUSE_F_PREDICTS, "RFC 5246 §7.4.1.3; AWS DG-origin-ciphers",         \
      text_no_shared_cipher)                                                                       \
    X(NO_SHARED_GROUP, 16, "no_shared_group", "no key-exchange group in common",                   \
      rule_no_shared_group, CAUSE_F_PREDICTS, "RFC 8422 §5.1.1; RFC 8446 §4.2.7",                  \
      text_no_shared_group)                                                                        \
    X(DH_TOO_SMALL, 18, "dh_too_small", "the server's (EC)DHE parameters are too weak",            \
      rule_dh_too_small, CAUSE_F_PREDICTS, "RFC 7919 §1; Logjam", text_dh_too_small)               \
    X(RENEGOTIATION_REFUSED, 20, "renegotiation_refused",                                          \
      "a renegotiation was attempted and refused",                                                 \
      rule_renegotiation, CAUSE_F_PREDICTS, "RFC 5746; AWS using-https",                           \
      text_renegotiation_refused)                                                                  \
    X(HANDSHAKE_INTEGRITY_FAILURE, 31, "handshake_integrity_failure",                            \
      "the handshake's integrity check failed (bad_record_mac / decrypt_error around Finished)",   \
      rule_handshake_integrity, 0, "RFC 5246 §7.4.9, §7.2.2; RFC 8446 §4.4.4",                     \
      text_handshake_integrity_failure)                                                            \
    X(CERT_SELF_SIGNED, 4, "cert_self_signed", "the leaf certificate is self-signed",              \
      rule_cert_self_signed, CAUSE_F_PREDICTS | CAUSE_F_CERT,                                      \
      "RFC 5280 §6.1; AWS DG-https-origin", text_cert_self_signed)                                 \
    X(CERT_UNTRUSTED_CA, 5, "cert_untrusted_ca",                                                   \
      "the chain ends at a CA that is not in the trust store",                                     \
      rule_cert_untrusted_ca, CAUSE_F_PREDICTS | CAUSE_F_CERT, "RFC 5280 §6.1; Mozilla CA list",   \
      text_cert_untrusted_ca)                                                                      \
    X(CERT_MISSING_INTERMEDIATE, 6, "cert_missing_intermediate",                                   \
      "the server did not send the intermediate needed to reach a trusted root",                   \
      rule_cert_missing_intermediate, CAUSE_F_PREDICTS | CAUSE_F_CERT,                             \
      "RFC 5246 §7.4.2; AWS DG-502", text_cert_missing_intermediate)                               \
    X(CERT_CHAIN_MISORDERED, 7, "cert_chain_misordered",                                           \
      "the server sent the right certificates in the wrong order",                                 \
      rule_cert_misordered, CAUSE_F_PREDICTS | CAUSE_F_CERT, "RFC 5246 §7.4.2; AWS DG-502",        \
      text_cert_chain_misordered)                                                                  \
    X(CERT_EXPIRED, 1, "cert_expired", "the leaf certificate had expired at handshake time",       \
      rule_cert_expired, CAUSE_F_PREDICTS | CAUSE_F_CERT, "RFC 5280 §4.1.2.5", text_cert_expired)  \
    X(CERT_NOT_YET_VALID, 2, "cert_not_yet_valid", "the leaf certificate was not yet valid",       \
      rule_cert_not_yet_valid, CAUSE_F_PREDICTS | CAUSE_F_CERT, "RFC 5280 §4.1.2.5",               \
      text_cert_not_yet_valid)                                                                     \
    X(CERT_INTERMEDIATE_EXPIRED, 3, "cert_intermediate_expired",                                   \
      "an intermediate certificate the server sent is expired or not yet valid",                   \
      rule_cert_intermediate_expired, CAUSE_F_PREDICTS | CAUSE_F_CERT, "RFC 5280 §6.1.3",          \
      text_cert_intermediate_expired)                                                              \
    X(SNI_MISSING, 12, "sni_missing", "no SNI was sent and the default certificate does not fit",  \
      rule_sni_missing, CAUSE_F_PREDICTS | CAUSE_F_CERT, "RFC 6066 §3", text_sni_missing)          \
    X(CERT_NAME_MISMATCH, 8, "cert_name_mismatch",                                                 \
      "no name in the certificate matches the SNI the client sent",                                \
      rule_cert_name_mismatch, CAUSE_F_PREDICTS | CAUSE_F_CERT, "RFC 6125 §6.4",                   \
      text_cert_name_mismatch)                                                                     \
    X(CERT_WRONG_PURPOSE, 9, "cert_wrong_purpose",                                                 \
      "key usage / extended key usage does not allow TLS server authentication",                   \
      rule_cert_wrong_purpose, CAUSE_F_PREDICTS | CAUSE_F_CERT, "RFC 5280 §4.2.1.12",              \
      text_cert_wrong_purpose)                                                                     \
    X(CERT_WEAK_KEY, 10, "cert_weak_key", "the certificate key is too small or of a refused type", \
      rule_cert_weak_key, CAUSE_F_PREDICTS | CAUSE_F_CERT, "NIST SP 800-131A; AWS DG-cert-req",    \
      text_cert_weak_key)                                                                          \
    X(CERT_WEAK_SIGNATURE, 11, "cert_weak_signature",                                              \
      "the certificate is signed with SHA-1 or MD5",                                               \
      rule_cert_weak_signature, CAUSE_F_PREDICTS | CAUSE_F_CERT, "RFC 9155; SHAttered",            \
      text_cert_weak_signature)                                                                    \
    X(CLIENT_CLOSED, 32, "client_closed",                                                        \
      "the client closed the connection without an alert and no server fault is visible",          \
      rule_client_closed, CAUSE_F_FALLBACK, "RFC 8446 §6; RFC 9293 §3.6", text_client_closed)      \
    X(UNKNOWN, 29, "unknown", "failed, cause not determined",                                      \
      NULL, 0, "", text_unknown)
// clang-format on

#endif
