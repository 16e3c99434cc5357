// probe.h — an active TLS client that offers what CloudFront offers an origin, captures its own
// connection and judges it through the same dissect → analyze path as a passive capture.
//
// One probe = one TCP connection with OpenSSL configured from the analyzer's client profile
// (versions, cipher suites, groups, signature schemes), the SNI CloudFront would send, and
// verification like CloudFront's (the analyzer's trust store, the name, the chain as sent).
// Its packets come from a live capture of its own 4-tuple when the process may capture, else
// from the bytes OpenSSL wrote and read on the socket, wrapped in synthetic TCP/IP frames (the
// verdict says which). Either way OpenSSL's view is added where the wire hides it: the chain
// (TLS 1.3 encrypts it), decrypted alerts and a CertificateRequest.
//
// Ownership: probe_result, probe_origin are caller-owned (_free, _free(NULL) is a no-op); the
// analyzer passed in is borrowed for the call.
#ifndef TLSDIAG_PROBE_H
#define TLSDIAG_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyze.h"
#include "pipeline.h"

// Protocol versions as a bit set (--origin-protocols, the matrix).
#define PROBE_VERSION_TABLE(X)   \
    X(SSL3, 0x0300, "SSLv3")     \
    X(TLS1, 0x0301, "TLSv1")     \
    X(TLS1_1, 0x0302, "TLSv1.1") \
    X(TLS1_2, 0x0303, "TLSv1.2") \
    X(TLS1_3, 0x0304, "TLSv1.3")

enum {
#define PROBE_V_ENUM(e, code, name) PROBE_V_##e##_BIT,
    PROBE_VERSION_TABLE(PROBE_V_ENUM)
#undef PROBE_V_ENUM
        PROBE_V__COUNT
};

enum {
    PROBE_DEFAULT_PORT = 443,
    PROBE_CONNECT_TIMEOUT_MS = 10000,  // CloudFront's default origin connection timeout
    PROBE_HANDSHAKE_TIMEOUT_MS = 10000,
    PROBE_MATRIX_INTERVAL_MS = 200,  // at most 5 connections a second
    PROBE_MAX_MATRIX = 64,
};

typedef struct probe_config {
    const char *host;               // DNS name or IP literal (never NULL)
    uint16_t port;                  // 0: 443
    const char *sni;                // NULL: host when it is a name, none for an IP; "": none
    const char *connect_ip;         // NULL: resolve host; else connect here (host stays the SNI)
    uint32_t versions;              // bit set of PROBE_V_*_BIT; 0: the profile's versions
    uint32_t connect_timeout_ms;    // 0: PROBE_CONNECT_TIMEOUT_MS
    uint32_t handshake_timeout_ms;  // 0: PROBE_HANDSHAKE_TIMEOUT_MS
    const char *ca_file, *ca_path;  // the trust store (NULL: system default, like analyze)
    bool no_capture;                // do not try libpcap; use the client's view
    const char *pcap_out;           // -w: write the probe's frames here (NULL: none)
    pipeline_limits limits;         // the dissector's bounds for the probe's frames; 0: defaults
} probe_config;

typedef struct probe_result {
    verdict *v;               // caller-owned through probe_result_free
    bool from_packets;        // true: a live capture of the connection; false: client's view
    char capture_why[256];    // why no live capture was used ("" when it was, or nothing was sent)
    bool unresolved;          // the name did not resolve: nothing was sent; v says why
    char resolve_error[256];  // the resolver's error when unresolved
    char iface[64];           // interface captured on
    uint32_t num_chain;       // the chain as sent (DER, leaf first), also under TLS 1.3
    uint8_t *chain_der[TLS_MAX_CERTS];
    uint32_t chain_len[TLS_MAX_CERTS];
} probe_result;

// probe_parse_target splits "HOST", "HOST:PORT", "[V6]:PORT" or "V6". false: malformed.
bool probe_parse_target(const char *s, char *host, size_t hostlen, uint16_t *port)
    __attribute__((warn_unused_result));
// probe_parse_versions reads "TLSv1,TLSv1.1,TLSv1.2" (also SSLv3, TLSv1.3) into a bit set.
bool probe_parse_versions(const char *s, uint32_t *out) __attribute__((warn_unused_result));
const char *probe_version_name(unsigned bit);  // "TLSv1.2"
uint16_t probe_version_code(unsigned bit);     // 0x0303

// probe_run makes one handshake and judges it with `a` (method probe). DNS failures, refused
// connections, timeouts and non-TLS answers are verdicts. NULL only when out of memory; an
// unusable configuration (a bad CA file, -w not writable) is reported in err and NULL.
probe_result *probe_run(analyzer *a, const probe_config *c, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void probe_result_free(probe_result *r);
// probe_run_described: probe_run for a bundle (`tlsdiag report --probe`): the probe's frames go
// to c->pcap_out, and env (envlen bytes) gets the lines environment.txt says about it (target,
// SNI, cause, where the packets came from, the summary). false as probe_run's NULL: err says
// why, "" when out of memory.
bool probe_run_described(analyzer *a, const probe_config *c, char *env, size_t envlen, char *err,
                         size_t errlen) __attribute__((warn_unused_result));
// probe_unresolved_text: the one line that answers a probe of a name that does not resolve:
// the name, the resolver's error and what to check (the dig command shell-quoted).
void probe_unresolved_text(const probe_result *r, const probe_config *c, char *out, size_t n);

// probe_save_chain writes the chain as sent (PEM, leaf first). false + err on failure.
bool probe_save_chain(const probe_result *r, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

// probe_check_cert_file compares the served chain with the certificate (and key) the server
// is configured with, and adds what it finds to r->v (findings + evidence): same leaf, an
// older certificate served than the one on disk (renewed, not reloaded), a different
// certificate (wrong file), a key that does not match the file's certificate.
// false + err when the files cannot be read.
bool probe_check_cert_file(probe_result *r, const char *cert_file, const char *key_file, char *err,
                           size_t errlen) __attribute__((warn_unused_result));

// ---------------------------------------------------------------------------------------------
// Compatibility matrix: one short handshake per version and per profile cipher suite.
// ---------------------------------------------------------------------------------------------
typedef enum probe_state {
    PROBE_ACCEPTED = 0,  // the server completed the handshake
    PROBE_REFUSED,       // the server refused it (alert, close)
    PROBE_UNAVAILABLE,   // this OpenSSL build cannot offer it (SSLv3, RC4, …)
    PROBE_FAILED,        // transport failure (refused, timeout): nothing learned
} probe_state;
const char *probe_state_name(probe_state s);  // "accepted", "refused", ...

typedef struct probe_matrix_row {
    uint16_t code;  // version or cipher code point
    char name[64];
    probe_state state;
    char detail[160];  // OpenSSL's reason / the cause id
} probe_matrix_row;

typedef struct probe_matrix {
    uint32_t num_versions;
    probe_matrix_row versions[PROBE_V__COUNT];
    uint32_t num_ciphers;
    probe_matrix_row ciphers[PROBE_MAX_MATRIX];
    uint32_t connections;  // handshakes made
} probe_matrix;

// probe_matrix_run fills m (rate-limited to PROBE_MATRIX_INTERVAL_MS between connections).
// false + err only for an unusable configuration.
bool probe_matrix_run(analyzer *a, const probe_config *c, probe_matrix *m, char *err, size_t errlen)
    __attribute__((warn_unused_result));

// probe_matrix_offers: whether CloudFront (the analyzer's profile) offers a version to origins,
// and how: "setting" (an Origin SSL Protocols choice), "offered" (always offered, e.g. TLS 1.3
// in a profile whose offer has it), "2025-only" (offered by a later CloudFront policy of
// tlsdiag's data, not by this profile), "never".
const char *probe_matrix_offers(const analyzer *a, uint16_t version);
// probe_matrix_policy_version: the version a CloudFront profile offering `offer` would get from
// this origin: the highest it offers that the matrix saw accepted (NULL: none, a failed handshake).
const char *probe_matrix_policy_version(const probe_matrix *m, const analyzer_offer *offer);
// probe_matrix_refine: what the matrix proved replaces what one handshake could only guess.
// A protocol_version_mismatch whose matrix shows TLS 1.3 accepted and every older version
// refused or unavailable says so without a hedge, and the matrix's findings become evidence.
void probe_matrix_refine(verdict *v, const probe_matrix *m, const analyzer *a);
// probe_matrix_text prints the matrix for people: aligned columns sized to their content, the
// detail never cut (OpenSSL's "error:0A000410:SSL routines::" prefix left out), then the
// settings that would work and the accepted cipher suites. target: what was probed.
void probe_matrix_text(const probe_matrix *m, const analyzer *a, const char *target, FILE *out);
// probe_matrix_json writes the matrix as one JSON Lines "probe_matrix" object (the versions,
// the cipher suites, the settings that would work, the version under each judging profile's
// policy). target: what was probed, sni: the name sent. false: out could not be written.
bool probe_matrix_json(const probe_matrix *m, const analyzer *a, const char *target,
                       const char *sni, FILE *out) TLSDIAG_WUR;

// ---------------------------------------------------------------------------------------------
// --probe-origin: probe the origin of failing passive connections whose chain was not visible.
// ---------------------------------------------------------------------------------------------
typedef struct probe_origin probe_origin;

// probe_origin_new: target "IP:PORT" / "HOST[:PORT]" or NULL (each verdict's server address).
// ac is the passive run's configuration: the probe's own analyzer is made from it (same trust
// store and profile; its own, so the probes' handshakes stay out of the run's summary and
// memory), and its limits bound the probes' dissection.
probe_origin *probe_origin_new(const pipeline_config *ac, const char *target, char *err,
                               size_t errlen) __attribute__((warn_unused_result));
// probe_origin_attach probes (at most once per SNI per minute; later verdicts reuse the
// result) when v failed without a visible chain, and adds the probe's cause, summary and
// evidence to v as findings/evidence. Does nothing for other verdicts.
void probe_origin_attach(probe_origin *po, verdict *v);
void probe_origin_free(probe_origin *po);

#endif
