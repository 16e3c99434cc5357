// analyze_internal.h — types shared inside analyze/: profile, prefixes, chain analysis, facts,
// rules.
//
// Nothing here is public API: report/ and cli/ use analyze.h only. Unit tests include this
// header to reach the pieces (profile parser, prefix matcher, chain analysis) one at a time.
#ifndef TLSDIAG_ANALYZE_INTERNAL_H
#define TLSDIAG_ANALYZE_INTERNAL_H

#include <openssl/x509.h>
#include <stdint.h>
#include <string.h>

#include "analyze.h"

enum {
    AN_MAX_PROFILE_LIST = 64,
    AN_MAX_CURVES = 8,
    AN_MAX_PREFIXES = 8192,  // cap on prefixes read from a file
    // Distinct (chain, SNI, hour) results kept, LRU: by one analyzer, or by the analyzers of a
    // run together (analyzer_shared), each of which then keeps AN_CHAIN_FRONT in front.
    AN_CHAIN_CACHE = ANALYZER_CHAIN_RESULTS,
    AN_CHAIN_FRONT = 64,
    AN_MAX_FACT_TEXT = 256,
};

// ---------------------------------------------------------------------------------------------
// Client profile (profile.c): what the client offers and accepts.
// ---------------------------------------------------------------------------------------------
typedef struct an_profile {
    char name[32];
    char version[32];
    char policy[48];  // the s2n-tls policy family it encodes ("" for generic)
    bool cloudfront;  // CloudFront-specific refusals and edge labelling apply
    uint32_t num_versions, num_ciphers, num_groups, num_sigalgs, num_curves;
    uint16_t versions[AN_MAX_PROFILE_LIST];  // empty list: any
    uint16_t ciphers[AN_MAX_PROFILE_LIST];
    uint16_t groups[AN_MAX_PROFILE_LIST];
    uint16_t sigalgs[AN_MAX_PROFILE_LIST];
    char curves[AN_MAX_CURVES][24];       // OpenSSL short names; empty list: any
    uint32_t rsa_min_bits, rsa_max_bits;  // max 0: no maximum
    bool renegotiation;
    bool cert_sha1;        // accepts certificates signed with SHA-1 ("cert_sha1 = yes")
    bool leaf_first_only;  // only the leaf must come first ("chain_order = leaf_first")
} an_profile;

// an_profile_parse reads the "key = value" text (what data/profile-cloudfront.conf holds).
// On failure *out is untouched and err names the line.
bool an_profile_parse(const char *text, size_t len, an_profile *out, char *err,
                      size_t errlen) TLSDIAG_WUR;
// an_profile_fits: the ClientHello offers nothing outside p: its best version, and every suite,
// group and signature scheme (GREASE and signalling suites aside), are in p's lists.
bool an_profile_fits(const an_profile *p, const tls_client_hello *ch);
// an_profile_why writes why a ClientHello shows p: "ClientHellos match s2n
// CloudFront-Upstream-2025: TLS 1.3 first, x25519 key share, RSA-PSS offered".
void an_profile_why(const an_profile *p, const tls_client_hello *ch, char *out, size_t outlen);
// an_hello_max_version: the best version the ClientHello offers (supported_versions, else
// legacy_version).
uint16_t an_hello_max_version(const tls_client_hello *ch);
// an_profile_generic fills the profile that judges any client: no list restrictions.
void an_profile_generic(an_profile *out);
bool an_list_has(const uint16_t *list, uint32_t n, uint16_t v);  // n == 0 means "any"
bool an_profile_has_curve(const an_profile *p, const char *curve);

// The embedded data files (generated from data/ at build time).
extern const unsigned char an_embedded_profile[];
extern const size_t an_embedded_profile_len;
extern const unsigned char an_embedded_profile_2025[];
extern const size_t an_embedded_profile_2025_len;
extern const unsigned char an_embedded_prefixes[];
extern const size_t an_embedded_prefixes_len;

// ---------------------------------------------------------------------------------------------
// Public intermediate CAs (intermediates.c): a dated index that names a missing issuer; never
// used to complete a chain.
// ---------------------------------------------------------------------------------------------
#define AN_PUBLIC_CA_SOURCE "the public-intermediate index of 2026-05-17 (cfssl_trust 2026.5.1)"
extern const unsigned char an_embedded_intermediates[];
extern const size_t an_embedded_intermediates_len;

typedef struct an_public_ca {
    char subject[512], issuer[512];  // RFC 2253
    char not_after[16];              // YYYY-MM-DD
    char issuer_hash[16];            // its issuer's name hash: the next step towards a root
    char issuer_url[256];            // its own AIA caIssuers: where its issuer is published
} an_public_ca;

// an_public_ca_find looks up the CA whose subject key identifier is keyid (lowercase hex, no
// colons) or, when keyid is NULL or "", whose subject name hashes to name_hash (8 hex digits,
// X509_NAME_hash_ex). The table is parsed on the first call (thread-safe).
bool an_public_ca_find(const char *keyid, const char *name_hash, an_public_ca *out);
size_t an_public_ca_count(void);  // entries in the index (parses it)

// ---------------------------------------------------------------------------------------------
// Prefix lists (prefix.c): longest-prefix match over sorted arrays, one per prefix length.
// ---------------------------------------------------------------------------------------------
typedef struct an_prefix {
    uint8_t family;    // 4 or 6
    uint8_t bits;      // prefix length
    uint8_t addr[16];  // network, host bits zero
} an_prefix;

typedef struct an_prefixes {
    an_prefix *v;  // sorted: family, then bits descending, then address
    size_t n;
    // IPv4 by first octet: v4_list[v4_first[o] .. v4_first[o + 1]) are the indices in v of the
    // IPv4 prefixes that can hold an address starting with o, longest first (an_prefixes_match).
    uint32_t v4_first[257];
    uint32_t *v4_list;
    char source[160];  // "embedded 2026-08-22" or the file path
} an_prefixes;

bool an_prefixes_parse_text(const char *text, size_t len, an_prefixes *out, char *err,
                            size_t errlen) TLSDIAG_WUR;
bool an_prefixes_load_json(const char *path, an_prefixes *out, char *err,
                           size_t errlen) TLSDIAG_WUR;
// an_prefixes_match writes the longest matching prefix as text ("15.158.0.0/16") to net.
bool an_prefixes_match(const an_prefixes *p, const tls_endpoint *ep, char *net, size_t netlen);
void an_prefixes_free(an_prefixes *p);
// an_prefixes_format_at writes prefix i as text; false when i is out of range.
bool an_prefixes_format_at(const an_prefixes *p, size_t i, char *net, size_t netlen) TLSDIAG_WUR;
// an_endpoint_network writes the /24 (IPv4) or /48 (IPv6) of ep.
void an_endpoint_network(const tls_endpoint *ep, char *net, size_t netlen);
void an_endpoint_addr(const tls_endpoint *ep, char *out,
                      size_t outlen);  // "192.0.2.1", "2001:db8::1"

// ---------------------------------------------------------------------------------------------
// Certificate chain analysis (x509.c).
// ---------------------------------------------------------------------------------------------
typedef struct an_chain {
    uint32_t num_certs;  // certificates sent (parsed or not)
    uint32_t num_info;   // ≤ VERDICT_MAX_CERTS
    x509_info certs[VERDICT_MAX_CERTS];
    char chain_sha256[65];
    int verify_code;  // OpenSSL X509_V_* of the first problem (0: ok)
    char verify_error[128];
    bool verified;  // the chain verified (ignoring name, order and policy)
    bool leaf_parse_error;

    // problems, each with the text a rule puts in its summary/evidence
    bool self_signed;   // the leaf is self-signed (and not itself trusted)
    bool untrusted_ca;  // the chain reaches a self-signed CA that is not in the store
    char untrusted_root[512];
    bool missing_intermediate;  // the top cert's issuer is neither sent nor in the store
    char missing_issuer[512], missing_aki[64];
    // That issuer in the public-intermediate index (intermediates.c): a public intermediate the
    // server left out (missing_intermediate, whatever the top certificate), or unknown to both
    // the store and the index (a private CA or an intermediate newer than the index).
    bool issuer_public, issuer_unknown;
    bool issuer_listed;       // in the index, but it leads to no root of the trust store
    char issuer_parent[512];  // the public intermediate's own issuer (from the index)
    char issuer_url[256];     // caIssuers URL of the top certificate: where its issuer is published
    bool misordered;
    // The leaf comes first but the intermediates after it are out of order: the profile's client
    // accepts it (s2n), AWS's guide says CloudFront drops chains "in the wrong order".
    bool intermediates_unordered;
    char right_order[VERDICT_TEXT];  // misordered or intermediates_unordered
    uint32_t extra_certs;            // sent certificates that are not part of the chain
    char extra_text[VERDICT_TEXT];
    bool leaf_expired, leaf_not_yet_valid;
    bool intermediate_expired;
    uint32_t intermediate_index;
    bool name_checked, name_ok;  // against the SNI (only when one was sent)
    bool wrong_purpose;
    // Weak for the profile's client (what CloudFront would refuse), and weak for a client at
    // OpenSSL's default security level (RSA below 2048 bits, SHA-1): the second names the cause
    // only when the client on the wire refused the chain with an alert.
    bool weak_key;
    char weak_key_text[VERDICT_TEXT];
    bool weak_signature;
    char weak_sig_text[VERDICT_TEXT];
    bool seclevel_weak_key, seclevel_weak_signature;
    char seclevel_key_text[VERDICT_TEXT], seclevel_sig_text[VERDICT_TEXT];
    char now_text[VERDICT_TEXT];  // "expired now" / "expires in N days" ("" when fine)
} an_chain;

// an_chain_shared: chain results shared by the analyzers of a run (analyzer_shared), looked up
// and filled under the caller's lock; AN_CHAIN_CACHE results at most, like one analyzer's (the
// analyzers' own then keep AN_CHAIN_FRONT each: ~25 KB a result, so with --threads N the results
// take at most (1024 + 64 N) * 24 KB).
typedef struct an_chain_shared an_chain_shared;
an_chain_shared *an_chain_shared_new(const analyzer_lock *lock);
void an_chain_shared_free(an_chain_shared *s);
void an_chain_shared_counts(an_chain_shared *s, analyzer_shared_counts *out);

// an_chain_cache: one analyzer's results, in front of shared (borrowed, NULL: none): a result
// missing here is looked up there (copied in), and one verified here is stored there too.
typedef struct an_chain_cache an_chain_cache;
an_chain_cache *an_chain_cache_new(an_chain_shared *shared);
void an_chain_cache_free(an_chain_cache *c);
// an_chain_cache_dropped: results dropped at the bound (the shared results', when c has them).
uint64_t an_chain_cache_dropped(an_chain_cache *c);

// an_sans_fit writes xi's SAN list for prose, at most max bytes of names: whole names only,
// then "… and N more" when some were left out (here or when the certificate was read).
void an_sans_fit(const x509_info *xi, size_t max, char *out, size_t outlen);

// an_x509_info decodes one DER certificate (the client's, which is never validated) into *out;
// false when it does not parse (*out untouched).
bool an_x509_info(const uint8_t *der, uint32_t len, x509_info *out) TLSDIAG_WUR;

// an_chain_fault: the chain as sent has a fault a client validating it would refuse (it does
// not verify, the name does not match, the order, key, signature or purpose is wrong).
static inline bool an_chain_fault(const an_chain *c) {
    return !c->leaf_parse_error &&
           (!c->verified || c->misordered || (c->name_checked && !c->name_ok) || c->wrong_purpose ||
            c->weak_key || c->weak_signature);
}

// an_chain_analyze validates the chain as sent at time `when` against `store`, checks the
// name against sni (NULL: none sent) and the key/signature against profile p. Results for the
// same (chain, SNI, hour) come from the cache, so the profiles that share one cache (the
// cloudfront family) must agree on the certificate keys (rsa_*, ec_curves, cert_sha1,
// chain_order). *res points at the result: *out, or the cached
// copy (valid until the next call with this cache). A result from the cache's shared results
// is copied into *out (under their lock). Returns false when out of memory.
bool an_chain_analyze(an_chain_cache *cache, X509_STORE *store, const an_profile *p,
                      const tls_certificate *cert, const char *sni, int64_t when, int64_t now,
                      an_chain *out, const an_chain **res) TLSDIAG_WUR;

// ---------------------------------------------------------------------------------------------
// Facts and rules (rules.c).
// ---------------------------------------------------------------------------------------------
typedef struct an_facts {
    const an_profile *profile;
    bool cloudfront_client;
    verdict_outcome outcome;
    verdict_party aborted_by;
    bool has_alert;  // first fatal (or handshake-ending) alert
    verdict_party alert_sender;
    uint8_t alert_level, alert_desc;
    uint32_t alert_frame;
    bool alert_encrypted;
    bool server_tls;              // the server sent at least one TLS record
    uint32_t server_first_frame;  // first server data event (0: none)
    int64_t ch_ts_ns;             // ClientHello time (0: none)
    uint32_t ch_frame;
    bool has_chain;  // a plaintext Certificate was analysed
    const an_chain *chain;
    int64_t handshake_time;   // Unix seconds used for validation
    const char *trust_store;  // identity of the store ("system ..." for the default store)
    bool completed;           // both Finished messages went through (whatever came after)
    // The server asked to renegotiate once the handshake was done (a protected handshake record
    // from it after both Finished, TLS ≤ 1.2: a HelloRequest, RFC 5246 §7.4.1.1): its frame (0:
    // none), and whether the client answered with a new handshake.
    uint32_t reneg_request_frame;
    bool reneg_answered;
    bool reneg_failed;  // not answered, and then nothing served or the client refused it
    // The client completed the handshake and left (FIN/RST) before sending any request.
    bool client_left_after_finished;
    const x509_info *client_cert;  // the client's certificate, decoded (NULL: none or unparsed)
} an_facts;

typedef struct rule_match {
    verdict_confidence confidence;
    bool finding_only;  // a prediction for the profile's client, never the primary cause
    // A prediction the wire proves: no choice the profile's client offers could succeed with the
    // server as seen (issue 16 item 5). Otherwise a prediction is hedged, never "would refuse":
    // one handshake shows the server's preference, not everything it accepts. Certificate
    // causes (CAUSE_F_CERT) are proven by nature.
    bool proven;
    char summary[VERDICT_TEXT];
    uint32_t num_evidence;
    verdict_evidence evidence[8];
} rule_match;

typedef bool (*rule_fn)(const tls_transcript *t, const an_facts *f, rule_match *m);

// One rule per row of the cause table (causes.h), in its order: the rule priority.
typedef struct rule {
    cause_id cause;
    rule_fn fn;      // NULL: the analyzer names this cause without a rule (ok, unknown)
    unsigned flags;  // CAUSE_F_PREDICTS, CAUSE_F_CERT
} rule;

extern const rule an_rules[];
extern const size_t an_num_rules;

// an_cert_rules_may_match: false when no certificate rule (CAUSE_F_CERT) can match f: they
// read the chain, or a TLS 1.3 client's alert, and a succeeded handshake's chain needs a fault.
// A succeeded handshake without an alert and with no chain (most TLS 1.3 ones) or a chain
// without a fault runs none of them.
bool an_cert_rules_may_match(const an_facts *f);

// an_closest_rules writes, for an `unknown` verdict, the rules it came closest to and the fact
// each one missed ("client_closed (it needs a close without an alert); ...").
void an_closest_rules(const tls_transcript *t, const an_facts *f, char *out, size_t outlen);
// rule_evidence appends key/value/frame to m (ignored when full); formats like printf.
void rule_evidence(rule_match *m, const char *key, uint32_t frame, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
// rule_evidence_sni appends the client's SNI as evidence "sni": its bytes, NULs included
// (value_len), or "(none sent)".
void rule_evidence_sni(rule_match *m, const tls_client_hello *ch);
// an_sni_problem: why the ClientHello's SNI is not a valid host name (NULL: it is one, or
// none was sent); an SNI longer than the copy kept is one by length alone.
const char *an_sni_problem(const tls_client_hello *ch);
// an_sni_phrase writes how prose names the SNI: the name, or why it is not a host name.
const char *an_sni_phrase(const tls_client_hello *ch, char *buf, size_t buflen);

// ---------------------------------------------------------------------------------------------
// Texts (texts.c): fix steps and dead ends per cause, with {placeholders}.
// ---------------------------------------------------------------------------------------------
typedef struct an_text_vars {
    const char *sni, *server, *port, *issuer, *root, *order, *versions;
    // What the profile in use offers origins ({profile}, {profile_max}: "TLSv1.2"): texts about
    // CloudFront's TLS versions derive from it, never from a literal claim. A line starting
    // with {if_no_tls13} is left out when the profile offers TLS 1.3.
    const char *profile, *profile_max;
    bool profile_tls13;
    // {missing}: the intermediate the server did not send, quoted ('CN=...'), or
    // VERDICT_HIDDEN_ISSUER when TLS 1.3 hid the chain (never an empty '').
    const char *missing;
    const char *profile_versions;  // the judging profile's version list ("TLSv1 TLSv1.1 TLSv1.2")
    // The client is CloudFront's: a line starting with {if_cloudfront_client} is kept only then,
    // one starting with {if_other_client} only otherwise.
    bool client_cloudfront;
} an_text_vars;
// an_profile_max_version: the highest version p offers (0x0304 for an empty list: any).
uint16_t an_profile_max_version(const an_profile *p);

// an_sni_word: the SNI for {sni} in texts — the SNI when it is a valid host name, else
// "ORIGIN_DOMAIN" (as when none was sent): a name that is not one never enters a command.
const char *an_sni_word(const verdict *v);
// an_endpoint_word writes e's address as -connect wants it ("192.0.2.1", "[2001:db8::1]") and
// its port; both still go through analyze_shell_quote where they enter a command.
void an_endpoint_word(const tls_endpoint *e, char *host, size_t hostlen, char port[8]);
// an_sni_kept: how many bytes of the SNI ch->sni holds (the wire length, capped).
static inline size_t an_sni_kept(const tls_client_hello *ch) {
    return ch->sni_len < TLS_MAX_SNI_LEN ? ch->sni_len : TLS_MAX_SNI_LEN;
}

// an_texts_fill writes the fix steps and dead ends of cause c into v, expanding placeholders.
void an_texts_fill(cause_id c, const an_text_vars *vars, verdict *v);
// an_texts_any: does cause c have any fix step or dead end (cause ok has none)?
bool an_texts_any(cause_id c);
// an_text_expand copies tmpl to out replacing {sni} {server} {port} {issuer} {root} {order}
// {versions}; unknown names stay as written. {sni} {server} {port} are shell-quoted where they
// are substituted (analyze_shell_quote), and a quoted word is never cut.
void an_text_expand(const char *tmpl, const an_text_vars *vars, char *out, size_t outlen);

// ---------------------------------------------------------------------------------------------
// Memory across connections (memo.c): per server (address, port, SNI), the last chain that
// verified; a later TLS 1.3 unknown_ca from a client becomes cert_untrusted_ca (medium).
// ---------------------------------------------------------------------------------------------
enum { AN_MEMO_SERVERS = 256 };  // servers remembered, least recently used evicted
typedef struct an_memo an_memo;
an_memo *an_memo_new(void);  // NULL when out of memory
void an_memo_free(an_memo *m);
// an_memo_apply, called once per verdict in output order: remembers v's chain when it verified
// (forgets the server when it did not), or refines v from what an earlier connection showed.
void an_memo_apply(an_memo *m, verdict *v);
// an_memo_may_refine: v is a verdict an_memo_apply may rewrite (a TLS 1.3 unknown_ca with no
// chain); any other verdict it only reads.
bool an_memo_may_refine(const verdict *v);
// an_chain_root writes the root a chain leads to: the self-signed certificate reached through
// the certificates sent (any order), else the issuer of the last one ("" when n is 0).
void an_chain_root(const x509_info *certs, uint32_t n, char *out, size_t outlen);

// Small helpers (analyzer.c).
void an_copy(char *dst, size_t dstlen, const char *src);  // truncating, always NUL-terminated
// an_text: a line written piece by piece, truncated exactly as one snprintf of the whole line
// would be (at most n - 1 bytes, always NUL-terminated). The per-verdict prose uses it instead
// of snprintf, whose format parsing was a sixth of `--json`'s instructions (bench/NOTES.md).
typedef struct an_text {
    char *s;
    size_t n, w;  // capacity (> 0), bytes written
} an_text;
static inline an_text an_text_at(char *s, size_t n) {
    s[0] = '\0';
    return (an_text){s, n, 0};
}
// an_text_mem appends len bytes of p (as much as fits).
static inline void an_text_mem(an_text *t, const char *p, size_t len) {
    size_t room = t->n - 1 - t->w;
    len = len < room ? len : room;
    memcpy(t->s + t->w, p, len);
    t->w += len;
    t->s[t->w] = '\0';
}
static inline void an_text_str(an_text *t, const char *p) {
    an_text_mem(t, p, strlen(p));
}
// an_text_strn: "%.Ns": at most max bytes of p.
static inline void an_text_strn(an_text *t, const char *p, size_t max) {
    an_text_mem(t, p, strnlen(p, max));
}
static inline void an_text_u64(an_text *t, uint64_t v) {
    char d[20];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    an_text_mem(t, d + i, sizeof d - i);
}
// an_path_problem says why option's file (or directory, want_dir) at path could not be used:
// "--ca-file x.pem: does not exist; give <want>" / "is a directory" / "is not <want>".
void an_path_problem(const char *option, const char *path, bool want_dir, const char *want,
                     char *err, size_t errlen);
const char *an_alert_name(uint8_t desc);  // never NULL
const char *an_version_name(uint16_t v);  // never NULL

#endif
