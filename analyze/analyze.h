// analyze.h — transcripts in, one verdict per connection out (public API of analyze/).
//
// The analyzer reads immutable tls_transcripts (never raw bytes), decides each connection's
// outcome, validates the server's certificate chain with OpenSSL exactly as sent at the
// handshake's time, checks the server's choices against a client profile (CloudFront by
// default), and runs a table of rules that each name one cause id from causes.md.
// It also aggregates verdicts into a run summary (per cause, per SNI, per client network,
// per served certificate).
//
// Ownership: a verdict is caller-owned (verdict_free); it copies everything it needs from the
// transcript, so it outlives the transcript. The analyzer is caller-owned (analyzer_free).
#ifndef TLSDIAG_ANALYZE_H
#define TLSDIAG_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "causes.h"
#include "dissect.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------------------------------
// Cause ids (doc/causes.md), generated from the one table in causes.h. Stable: scripts and
// tickets key on the strings.
// ---------------------------------------------------------------------------------------------
enum {
    CAUSE_F_PREDICTS = 1 << 0,  // the rule also judges handshakes that succeeded
    CAUSE_F_CERT = 1 << 1,      // depends only on the certificate the server sent
    CAUSE_F_FALLBACK = 1 << 2,  // a last resort: runs only when no earlier rule matched
};

// cause__numbers: its size is one past the highest cause number (a member per row).
union cause__numbers {
#define CAUSE_NUM(e, num, id, meaning, fn, flags, refs, texts) char n_##e[num + 1];
    CAUSE_TABLE(CAUSE_NUM)
#undef CAUSE_NUM
};

typedef enum cause_id {
#define CAUSE_ENUM(e, num, id, meaning, fn, flags, refs, texts) CAUSE_##e = num,
    CAUSE_TABLE(CAUSE_ENUM)
#undef CAUSE_ENUM
    // one past the highest number: cause.c's name table (CAUSE__COUNT entries, one designated
    // initializer per row) holds the numbers 0 .. CAUSE__COUNT - 1, each used at most once. A
    // number without a row is reserved for a row another branch adds (CAUSE__RESERVED lists
    // them): it has no name ("unknown") and no rule, and no verdict carries it.
    CAUSE__COUNT = sizeof(union cause__numbers),
} cause_id;

const char *cause_name(cause_id c);     // "cert_expired"
const char *cause_meaning(cause_id c);  // the table's one-line meaning
bool cause_from_name(const char *s, cause_id *out) TLSDIAG_WUR;

// ---------------------------------------------------------------------------------------------
// Verdicts.
// ---------------------------------------------------------------------------------------------
typedef enum verdict_outcome {
    OUTCOME_SUCCEEDED = 0,  // handshake completed
    OUTCOME_FAILED,         // handshake failed (see failed_step / aborted_by)
    OUTCOME_INCOMPLETE,     // capture ended / flow evicted before anything was decided
    OUTCOME_NOT_TLS,        // connection carried no TLS at all (and no failure of TLS)
} verdict_outcome;
const char *verdict_outcome_name(verdict_outcome o);  // "succeeded", "failed", ...

typedef enum verdict_party {
    PARTY_NONE = 0,
    PARTY_CLIENT,
    PARTY_SERVER,
    PARTY_TCP,      // neither peer's TLS: the transport (timeout, refused, ...)
    PARTY_CAPTURE,  // the capture itself (lost bytes)
} verdict_party;
const char *verdict_party_name(verdict_party p);  // "client", "server", "tcp", ...

typedef enum verdict_confidence {
    CONF_LOW = 0,
    CONF_MEDIUM,
    CONF_HIGH,
} verdict_confidence;
const char *verdict_confidence_name(verdict_confidence c);

typedef enum verdict_method {
    METHOD_PASSIVE = 0,
    METHOD_PROBE,
    METHOD_KEYLOG,
    METHOD_CONFIG,  // no handshake: a certificate file judged (analyzer_check_chain)
} verdict_method;
const char *verdict_method_name(verdict_method m);

// One certificate as the analyzer saw it (copied out of the DER).
typedef struct x509_info {
    uint32_t index;     // position in the chain as sent (0 = first)
    char subject[512];  // RFC 2253, control bytes escaped
    char issuer[512];
    char serial[80];                // hex
    int64_t not_before, not_after;  // Unix seconds
    char sans[1024];                // DNS/IP SANs, comma-separated, whole names only
    uint32_t num_sans;              // DNS/IP SANs in the certificate (the true count)
    uint32_t num_sans_listed;       // of which in sans; fewer: sans_truncated
    bool sans_truncated;            // names did not fit: "… and N more" where shown
    char key_type[16];              // "RSA", "EC", "Ed25519", ...
    uint32_t key_bits;
    char curve[32];         // EC curve short name, "" otherwise
    char sig_alg[64];       // e.g. "sha256WithRSAEncryption"
    char sha256[65];        // fingerprint of the DER, lowercase hex
    char ski[64], aki[64];  // subject / authority key identifiers, hex with ':'
    bool self_issued;       // subject == issuer
    bool self_signed;       // and the signature verifies with its own key
    bool is_ca;             // basicConstraints CA:TRUE
    bool parse_error;       // DER could not be parsed (fields above mostly empty)
} x509_info;

enum {
    VERDICT_MAX_FINDINGS = 16,
    VERDICT_MAX_EVIDENCE = 24,
    VERDICT_MAX_STEPS = 8,
    VERDICT_MAX_CERTS = 8,
    VERDICT_TEXT = 512,
};

typedef struct verdict_finding {
    cause_id cause;
    char text[VERDICT_TEXT];
} verdict_finding;

typedef struct verdict_evidence {
    char key[48];              // "alert", "client_versions", "missing_issuer", ...
    char value[VERDICT_TEXT];  // human/JSON-safe text (escaped by report/ at output)
    uint16_t value_len;        // bytes of value when it holds wire bytes (NULs too); 0: strlen
    uint32_t frame;            // frame the evidence comes from, 0 when none
} verdict_evidence;

typedef struct verdict {
    // identity of the connection (copied from the transcript)
    uint64_t conn_id;
    tls_endpoint client, server;
    uint32_t first_frame, last_frame;
    int64_t first_ts_ns, last_ts_ns;
    char sni[TLS_MAX_SNI_LEN + 1];  // bytes as sent, NUL-terminated but may hold NULs: use
    uint16_t sni_len;               // its length on the wire (> TLS_MAX_SNI_LEN: sni is cut)
    bool has_sni;
    // sni_problem: why the SNI is not a valid host name (analyze_host_name_problem), NULL when it
    // is one. Such an SNI is shown escaped and flagged, and never enters a printed command.
    const char *sni_problem;
    uint16_t version;  // negotiated version (0 when none)
    uint16_t cipher;   // chosen cipher (0 when none)
    char ja3[33], ja3s[33], ja4[40];
    bool client_is_cloudfront;  // source address inside the profile's origin-facing prefixes
    char client_network[64];    // matching prefix ("" when none), e.g. "15.158.0.0/16"
    // The profile that judged this handshake and why: set by --profile, or recognised from a
    // ClientHello sent from a CloudFront address (cloudfront / cloudfront-2025), or the default.
    char profile[32];
    char profile_why[200];

    // what happened
    verdict_outcome outcome;
    verdict_party aborted_by;  // who ended the handshake (FAILED only)
    char failed_step[64];      // "after ClientHello", "after server Certificate", ...
    bool has_alert;
    verdict_party alert_sender;
    uint8_t alert_level, alert_desc;
    uint32_t alert_frame;
    bool alert_encrypted;

    // the diagnosis
    cause_id cause;
    bool predicted;  // the handshake succeeded with this (non-CloudFront) client, but
                     // CloudFront would refuse it for `cause` (a 502 waiting to happen)
    verdict_confidence confidence;
    verdict_method method;
    char summary[VERDICT_TEXT];  // one line
    uint32_t num_evidence;
    verdict_evidence evidence[VERDICT_MAX_EVIDENCE];
    uint32_t num_fix;
    char fix[VERDICT_MAX_STEPS][VERDICT_TEXT];
    uint32_t num_dead_ends;
    char dead_ends[VERDICT_MAX_STEPS][VERDICT_TEXT];
    char check_command[VERDICT_TEXT];  // openssl s_client ... for this connection
    uint32_t num_findings;  // secondary findings (warnings, "CloudFront would refuse ...")
    verdict_finding findings[VERDICT_MAX_FINDINGS];

    // the chain as sent, decoded
    uint32_t num_certs;
    x509_info certs[VERDICT_MAX_CERTS];
    uint32_t num_certs_sent;  // certificates in the server's message (> num_certs: some not kept)
    char chain_sha256[65];    // fingerprint of the concatenated chain ("" when no chain)
    uint32_t cert_frame;      // frame of the server's Certificate message (0: none in clear)
    char verify_error[128];   // OpenSSL's verify result at handshake time ("ok" when fine)
    char trust_store[256];    // identity of the store used

    // capture quality as a sentence ("" when complete)
    char capture_note[VERDICT_TEXT];
} verdict;

// ---------------------------------------------------------------------------------------------
// Client profile (CloudFront by default) and analyzer configuration.
// ---------------------------------------------------------------------------------------------
typedef struct analyzer_config {
    // NULL (the default): cloudfront, or cloudfront-2025 for the handshakes whose ClientHello
    // (from a CloudFront address) shows s2n's 2025 policies; "cloudfront", "cloudfront-2025" or
    // "generic": that profile for every handshake (--profile).
    const char *profile;
    const char *ca_file;      // NULL: system default store
    const char *ca_path;      // NULL: system default store
    const char *ranges_file;  // AWS ip-ranges.json to replace the embedded prefix list
    int64_t now;              // "now" for the secondary expiry check (0: time(NULL))
    // quiet_successes: a verdict that is not a failure gets its outcome, cause, chain and
    // counts, but no prose (evidence, fix, findings, check command): for reports that print
    // only failures. Every failure (and predicted failure) is complete either way.
    bool quiet_successes;
    // shared (NULL: none): the trust store, "now" and certificate-chain results of the analyzer
    // it was made from (analyzer_shared_new), used instead of this analyzer's own: ca_file,
    // ca_path and now are then ignored. Borrowed; it must outlive the analyzer.
    struct analyzer_shared *shared;
    // judge_only (with shared): a --threads worker's analyzer, which only judges
    // (analyzer_judge; the merge's analyzer accounts for every verdict): it has no summary and
    // no memo of earlier connections, so analyzer_account, analyzer_summary and
    // analyzer_summary_refresh must not be called on it.
    bool judge_only;
} analyzer_config;

void analyzer_config_default(analyzer_config *c);

typedef struct analyzer analyzer;

// analyzer_lock: a mutual-exclusion lock the caller provides (analyze/ starts no threads and
// has no lock of its own): lock(user) before and unlock(user) after every use of shared state.
// wait(user), with the lock held, releases it until the next wake(user) and takes it again (a
// condition variable's wait and broadcast); both NULL: no analyzer waits for another's work.
typedef struct analyzer_lock {
    void (*lock)(void *user);
    void (*unlock)(void *user);
    void (*wait)(void *user);
    void (*wake)(void *user);
    void *user;
} analyzer_lock;

// analyzer_shared: what the analyzers of one run (the --threads workers) share instead of each
// building its own: one trust store (OpenSSL's X509_STORE verifies for several threads at once),
// one "now", and one cache of certificate-chain results verified against them, so that each
// distinct (chain, SNI, hour) is parsed and verified once per run, not once per analyzer. Each
// analyzer keeps its own small cache in front of it (no lock on a hit); the shared one is
// looked up and filled under `lock`, and results are copied in and out while it is held.
// The analyzers made with one take a's profile settings (the cached results depend on the
// profile's certificate keys) and read a's CloudFront prefix table, instead of loading their own:
// analyzer_config's profile and ranges_file are ignored then.
typedef struct analyzer_shared analyzer_shared;

// analyzer_shared_new: a's trust store (referenced, not copied), a's now, profiles and prefix
// table (read in place: a must outlive the result and every analyzer made with it), and an
// empty chain cache guarded by *lock (copied; lock->user must outlive the result). Caller-owned
// (analyzer_shared_free, NULL is a no-op); NULL when out of memory.
analyzer_shared *analyzer_shared_new(const analyzer *a, const analyzer_lock *lock) TLSDIAG_WUR;
void analyzer_shared_free(analyzer_shared *s);

// analyzer_shared_counts: chains verified into s's cache, lookups it answered (an analyzer's
// own cache had no result, another's verification did), waits for a verification under way in
// another analyzer (the same chain is verified once, also when several miss it at once), and
// results dropped at its bound (ANALYZER_CHAIN_RESULTS). Takes the lock.
typedef struct analyzer_shared_counts {
    uint64_t verified, answered, waited, dropped;
} analyzer_shared_counts;
void analyzer_shared_counts_get(analyzer_shared *s, analyzer_shared_counts *out);

// The bound of the certificate-chain results an analyzer keeps (or the analyzers of a run
// share), distinct (chain, SNI, hour), least recently used dropped: a dropped chain seen again
// is verified again (the verdict is the same). analyzer_chain_results_dropped: how many were
// dropped so far (those of the shared results, when a uses them).
enum { ANALYZER_CHAIN_RESULTS = 1024 };
uint64_t analyzer_chain_results_dropped(analyzer *a);

// analyzer_new loads the profile, prefixes and trust store. On failure returns NULL and writes
// a sentence to err (size errlen) naming what failed (file, line).
analyzer *analyzer_new(const analyzer_config *c, char *err, size_t errlen) TLSDIAG_WUR;
void analyzer_free(analyzer *a);

// analyzer_run judges one transcript and accounts for the verdict: analyzer_judge, then
// analyzer_account. Returns a caller-owned verdict, NULL only when out of memory.
verdict *analyzer_run(analyzer *a, const tls_transcript *t) TLSDIAG_WUR;
// The two halves of analyzer_run, for callers that judge connections out of order (--threads:
// each worker judges its own connections, the merge accounts for them in output order):
// analyzer_judge is the verdict on t alone (caller-owned, NULL only when out of memory), neither
// refined from earlier connections nor counted. It touches no state shared between connections
// but the chain cache and a's memo of SNI checks (exact: they only save work; one analyzer per
// thread), so analyzers judging in parallel never wait for each other.
verdict *analyzer_judge(analyzer *a, const tls_transcript *t) TLSDIAG_WUR;
// analyzer_account refines v from earlier connections to the same server (memo.c) and counts it
// in a's summary. Call it once per verdict, in the order the verdicts are reported: the
// refinement depends on that order, never on which analyzer judged v.
void analyzer_account(analyzer *a, verdict *v);
// analyzer_account_may_change: analyzer_account may rewrite v (otherwise it only counts it), so
// v's output must be rendered after it (--threads workers render the others ahead of the merge).
bool analyzer_account_may_change(const verdict *v);
// verdict_is_failure: the handshake failed, or succeeded with another client but CloudFront
// would refuse it (predicted). This is what "failed handshakes found" (exit status 1) counts.
bool verdict_is_failure(const verdict *v);
// analyzer_run_ex: analyzer_run for a transcript that did not come from a passive capture
// (probe/: its own connection; key log): the verdict's `method` says how it was obtained.
verdict *analyzer_run_ex(analyzer *a, const tls_transcript *t, verdict_method m) TLSDIAG_WUR;
void verdict_free(verdict *v);
// analyzer_verdict_free: verdict_free, for a verdict a judged, in the thread that owns a: the
// memory is kept for a's next verdicts (a bounded few; analyzer_free frees them).
void analyzer_verdict_free(analyzer *a, verdict *v);
// analyzer_check_chain judges a certificate chain as a server configured with it would send
// it, without a capture (doctor/: the files a web server's configuration names). der[0..n) is
// the chain in file order, leaf first (lens[i] bytes each, borrowed for the call); sni is the
// name the profile's client would send (NULL: none); server (NULL: none) only fills {server}
// and {port} in the fix texts. The same checks, profile and trust store as analyzer_run: the
// certificate rules (CAUSE_F_CERT) only, validated at the analyzer's "now". Returns a
// caller-owned verdict (method METHOD_CONFIG, outcome succeeded, not counted in the summary)
// whose cause is the first certificate cause the profile's client would refuse (CAUSE_OK when
// none) with its summary, evidence, fix steps and findings (expiry within 30 days included),
// and the decoded chain. NULL only when out of memory.
verdict *analyzer_check_chain(analyzer *a, const uint8_t *const *der, const uint32_t *lens,
                              uint32_t n, const char *sni, const tls_endpoint *server) TLSDIAG_WUR;
// verdict_sni_kept: the bytes of v->sni to print: its wire length, capped, NULs included (a
// verdict built without sni_len, e.g. by probe/ from a command-line name: up to the NUL).
size_t verdict_sni_kept(const verdict *v);
// verdict_evidence_len: the length of e->value (value_len, else up to its NUL).
size_t verdict_evidence_len(const verdict_evidence *e);

// verdict_add_evidence appends one piece of evidence: key, the frame it comes from (0: none)
// and value, each truncated to its field. Ignored when the same key and value are already
// listed or the list is full (VERDICT_MAX_EVIDENCE). Every layer that adds to a verdict
// (analyze/, probe/) goes through it.
void verdict_add_evidence(verdict *v, const char *key, uint32_t frame, const char *value);
// verdict_copy_evidence appends a copy of e (its value compared and kept as bytes: wire values
// may hold NULs) unless the same key and value is already listed or the list is full.
void verdict_copy_evidence(verdict *v, const verdict_evidence *e);
// verdict_add_finding appends a secondary finding under cause c (text truncated to its field);
// ignored when the list is full (VERDICT_MAX_FINDINGS).
void verdict_add_finding(verdict *v, cause_id c, const char *text);

// Profile facts report/ prints.
const char *analyzer_profile_name(const analyzer *a);     // "cloudfront"
const char *analyzer_profile_version(const analyzer *a);  // data file version
const char *analyzer_prefix_source(const analyzer *a);    // "embedded 2026-08-22" or file
const char *analyzer_trust_store(const analyzer *a);      // identity of the store

// The profile's client prefixes (CloudFront's origin-facing list, IPv4 then IPv6), for a live
// capture's kernel filter. 0 for the generic profile.
size_t analyzer_num_prefixes(const analyzer *a);
// analyzer_prefix_at writes prefix i as "15.158.0.0/16" or "2600:9000:2000::/36" into out.
// false when i >= analyzer_num_prefixes(a) (out untouched).
bool analyzer_prefix_at(const analyzer *a, size_t i, char *out, size_t outlen) TLSDIAG_WUR;

// The profile's offer, for probe/ to imitate the client (IANA code points; arrays owned by the
// analyzer, valid until analyzer_free; a count of 0 means "any / the TLS library's default").
typedef struct analyzer_offer {
    uint32_t num_versions, num_ciphers, num_groups, num_sigalgs;
    const uint16_t *versions, *ciphers, *groups, *sigalgs;
} analyzer_offer;
void analyzer_profile_offer(const analyzer *a, analyzer_offer *out);
// The profiles the analyzer may judge by: the one --profile set, else every CloudFront profile
// of data/ (cloudfront, cloudfront-2025), in the order a ClientHello is matched against them.
size_t analyzer_num_judging_profiles(const analyzer *a);
// analyzer_judging_profile: profile i's name, s2n-tls policy ("" when none) and offer (owned by
// the analyzer). false when i is out of range (outputs untouched).
bool analyzer_judging_profile(const analyzer *a, size_t i, const char **name, const char **policy,
                              analyzer_offer *offer) TLSDIAG_WUR;

// ---------------------------------------------------------------------------------------------
// Summary across a run.
// ---------------------------------------------------------------------------------------------
typedef struct summary_count {
    char key[TLS_MAX_SNI_LEN + 1];  // cause name, SNI, network or fingerprint
    uint16_t key_len;               // bytes of key: an SNI may hold NULs (shown escaped)
    bool absent;  // the bucket of handshakes without the key (no SNI): key is only its label
    uint64_t ok, failed;
    uint64_t predicted;  // of failed: succeeded on the wire, CloudFront would refuse them
    int64_t first_fail_ns, last_fail_ns;
    cause_id top_cause;  // most frequent failure cause for this key
} summary_count;

typedef struct summary {
    uint64_t connections, succeeded, failed, incomplete, not_tls;
    uint64_t predicted;  // succeeded, but CloudFront would refuse them (verdict.predicted);
                         // counted with the failures in by_cause, dominant and the tables
    uint64_t by_cause[CAUSE__COUNT];
    // The failures of by_cause kept apart: failed on the wire, and succeeded on the wire but
    // CloudFront would refuse them (by_cause_failed[c] + by_cause_predicted[c] ≤ by_cause[c];
    // the rest are incomplete or not-TLS connections).
    uint64_t by_cause_failed[CAUSE__COUNT], by_cause_predicted[CAUSE__COUNT];
    int64_t first_fail_ns, last_fail_ns;
    cause_id dominant;       // most frequent failure cause (CAUSE_OK when none failed); on a tie,
                             // the first of the tied causes in cause-table order
    unsigned dominant_ties;  // causes sharing the top count (1: one dominant cause; 0: none)
    // sorted by failures, descending; arrays owned by the analyzer
    size_t num_sni, num_networks, num_certs;
    const summary_count *by_sni, *by_network, *by_cert;
    // some SNI both succeeded and failed at one server address and port (a different port or
    // address is a different server, not an intermittent one)
    bool intermittent;
    char intermittent_sni[TLS_MAX_SNI_LEN + 1];
    uint16_t intermittent_sni_len;  // bytes of intermittent_sni (NULs included)
    bool intermittent_no_sni;       // it is the handshakes without SNI (the name is a label)
    tls_endpoint intermittent_server;
    // the fix and dead ends of the dominant cause (copied from its first verdict)
    verdict *dominant_example;  // owned by the analyzer; NULL when no failure
    // the first verdict of every failure cause (NULL for causes that did not fail); owned by
    // the analyzer. Every distinct cause gets its own fix.
    const verdict *example[CAUSE__COUNT];
    // The profiles that judged the handshakes, in order of first use, one entry per profile
    // and reason (verdict.profile_why), each with how many it judged.
    size_t num_judged;
    struct summary_judged {
        char profile[32];
        char why[200];
        uint64_t connections;
    } judged[8];
} summary;

// summary_cause_failures: handshakes of cause c that failed on the wire or would fail.
uint64_t summary_cause_failures(const summary *s, cause_id c);
// summary_causes_by_count fills out with the failure causes, most frequent first (ties in
// cause-table order) and returns how many there are (at most CAUSE__COUNT).
size_t summary_causes_by_count(const summary *s, cause_id out[CAUSE__COUNT]);

// When TLS 1.3 hid the chain, a cert_missing_intermediate fix cannot name the intermediate;
// its place in the fix holds this phrase until a probe has seen it.
#define VERDICT_HIDDEN_ISSUER \
    "that issued the leaf (TLS 1.3 hid the chain: tlsdiag probe or --probe-origin names it)"
// verdict_name_hidden_issuer puts the intermediate a probe found ('issuer') where the fix says
// VERDICT_HIDDEN_ISSUER, and adds it as evidence (missing_issuer). Does nothing when the fix
// does not hold the phrase.
void verdict_name_hidden_issuer(verdict *v, const char *issuer);

// summary_key_len: the bytes of c->key to print (key_len; up to the NUL when not set).
size_t summary_key_len(const summary_count *c);

// analyzer_summary returns the summary of every verdict so far (owned by the analyzer).
const summary *analyzer_summary(analyzer *a);
// analyzer_summary_refresh: v was counted already and changed since (--probe-origin named what
// it could not see): when v is the example its cause's fix is printed from, copy it again.
void analyzer_summary_refresh(analyzer *a, const verdict *v);

// ---------------------------------------------------------------------------------------------
// Words for the commands we print (shell.c). Every string from the wire or a file that enters a
// printed command line (SNI, addresses, file names) goes through analyze_shell_quote.
// ---------------------------------------------------------------------------------------------
// analyze_shell_quote writes s[0..n) as one POSIX shell word into out: as is when every byte is
// plain ([A-Za-z0-9_./+-:@%,=]), else in single quotes with each ' written '\''. It refuses
// (returns false, out = "") a string that no pasted word can carry as itself — NUL, C0/C1
// control bytes, DEL, invalid UTF-8 — and one that does not fit in outlen: never cut.
bool analyze_shell_quote(const char *s, size_t n, char *out, size_t outlen) TLSDIAG_WUR;
// analyze_parse_rfc3339 reads an RFC 3339 time (§5.6: "2026-11-26T20:00:00Z", a fraction and a
// ±hh:mm offset allowed) as Unix seconds, for analyzer_config.now (--now); *out untouched and
// false when malformed (x509.c).
bool analyze_parse_rfc3339(const char *s, int64_t *out) TLSDIAG_WUR;
// analyze_host_name_problem: NULL when s[0..n) is a valid DNS host name for SNI (RFC 6066 §3:
// ASCII, no trailing dot, no IP literal; LDH labels of 1..63 bytes, ≤ 253 in all; '_' is
// accepted), else a phrase saying why not ("contains a NUL byte", "ends with a dot", ...).
const char *analyze_host_name_problem(const char *s, size_t n);
// analyze_utf8_seq: the length (1..4) of the well-formed UTF-8 sequence at s[0..n) (n ≥ 1), or
// 0. Well-formed per RFC 3629 §4: no overlong forms, no surrogates, ≤ U+10FFFF. The escapers
// of report/ and the shell quoting use it, so they agree on what is invalid.
size_t analyze_utf8_seq(const uint8_t *s, size_t n);
// analyze_ipv4_text writes the dotted quad of a[0..4) ("192.0.2.1", inet_ntop's text) and a NUL
// into out; returns the length. By hand: inet_ntop cost ~1,900 instructions a call, and every
// verdict of `analyze --json` formats four addresses.
size_t analyze_ipv4_text(const uint8_t a[4], char out[16]);

#ifdef __cplusplus
}
#endif
#endif
