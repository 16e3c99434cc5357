// bundle.h — `tlsdiag report`: one support-ticket archive (HTML, Markdown, JSON, evidence pcap).
//
// bundle_write runs the analyze pipeline over the inputs, chooses the failing connections to
// show (at most max_connections, every distinct cause first), re-reads the captures for those
// connections' packets, and writes FILE.tar.gz with: report.html, report.md, findings.json,
// evidence.pcap (application data removed, frames rebuilt with libnet), chain-<n>.pem and
// environment.txt. The archive is written to a temporary file beside the target and renamed
// at the end; on any failure the temporary file is removed, so there is never a partial one.
//
// Ownership: every input is borrowed for the call.
#ifndef TLSDIAG_BUNDLE_H
#define TLSDIAG_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline.h"

enum {
    BUNDLE_DEFAULT_MAX_CONNECTIONS = 5,
    BUNDLE_KEY_LEN = 32,    // Crypto-PAn: 16 bytes AES-128 key + 16 bytes pad
    BUNDLE_TMP_LEN = 4096,  // bundle_probe's temporary directory ($TMPDIR/tlsdiag-report.*)
};

typedef struct bundle_options {
    const char *out_path;       // FILE.tar.gz
    const char *const *inputs;  // pcap/pcapng files or directories of a capture run
    size_t num_inputs;
    const char *filter;  // BPF, NULL when none
    const char *ca_file, *ca_path, *ranges_file, *profile;
    int64_t now;               // 0: time(NULL)
    uint32_t max_connections;  // 0: BUNDLE_DEFAULT_MAX_CONNECTIONS
    pipeline_limits limits;    // --max-flows, --max-flow-bytes, --max-total-bytes; 0: defaults
    bool anonymize;            // prefix-preserving pseudonyms for every address
    bool have_key;             // key below given (--anonymize-key), else random
    uint8_t key[BUNDLE_KEY_LEN];
    bool redact_names;         // also replace SNI and certificate names
    const char *command_line;  // as typed (environment.txt); NULL: not recorded
    const char *extra_env;     // more environment.txt lines (the probe's), or NULL
} bundle_options;

typedef struct bundle_result {
    uint64_t connections;       // connections seen
    uint64_t failed;            // of which failed (or would fail for CloudFront)
    uint32_t chosen;            // connections in the bundle
    uint32_t evidence_packets;  // frames written to evidence.pcap
    uint32_t input_errors;      // damaged files (named in the bundle)
} bundle_result;

// bundle_write returns a tlsdiag exit status: 0 no failed handshake, 1 failures found (the
// bundle was written either way), 3 input error (the bundle still says what was damaged,
// unless no input could be opened at all: then no archive), 4 internal/output error (no
// archive). err (errlen bytes) gets one sentence when the status is 3 or 4.
int bundle_write(const bundle_options *o, bundle_result *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

// bundle_pipeline_config: the pipeline's configuration from o (limits, profile, trust store,
// ranges, --now), for the bundle's own run and for the probe `report --probe` adds to it.
void bundle_pipeline_config(const bundle_options *o, pipeline_config *c);

// bundle_probe: `report --probe` — CloudFront's handshake with host:port made now (tlsdiag
// probe; o's trust store, profile and limits, sni or none), its packets written to pcap
// (pcaplen bytes) in a new temporary directory dir (BUNDLE_TMP_LEN bytes); env (envlen) gets
// what the probe saw, for environment.txt. Returns an exit status; on failure err says why
// (target names the probe) and nothing is left behind (pcap[0] is 0 when no file was made).
int bundle_probe(const bundle_options *o, const char *target, const char *host, uint16_t port,
                 const char *sni, char *dir, char *pcap, size_t pcaplen, char *env, size_t envlen,
                 char *err, size_t errlen) __attribute__((warn_unused_result));

// bundle_command_line: "tlsdiag" and argv joined by spaces, as environment.txt records the
// command (bundle_options.command_line); caller-owned (free), NULL when out of memory.
char *bundle_command_line(int argc, char *const *argv) __attribute__((warn_unused_result));

// bundle_parse_key reads --anonymize-key: 64 hex digits (the key itself) or any other text
// (hashed with SHA-256). Returns false for an empty string.
bool bundle_parse_key(const char *s, uint8_t key[BUNDLE_KEY_LEN])
    __attribute__((warn_unused_result));

#endif
