// analyzer.c — the analyzer: configuration, trust store, outcome of a transcript, and the verdict.
#include <assert.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <errno.h>
#include <time.h>

#include "analyze_internal.h"
#include "summary_internal.h"

// An SNI checked as a host name, and the answer (analyzer.sni_memo).
typedef struct sni_memo_entry {
    bool used;
    uint16_t sni_len;  // on the wire; the bytes kept are an_sni_kept's
    char sni[TLS_MAX_SNI_LEN];
    const char *problem;
} sni_memo_entry;

// check_memo: one check command (check_command) and what it was made from.
typedef struct check_memo {
    bool valid, has_sni, sni_ok;
    uint16_t sni_len, text_len;  // strlen of sni and text
    tls_endpoint server;
    char sni[TLS_MAX_SNI_LEN + 1];
    char text[VERDICT_TEXT];
} check_memo;

struct analyzer {
    an_profile profile;  // the default profile, or the one --profile set
    // Recognised per handshake when no --profile was given (num_family 0 otherwise): the
    // CloudFront profiles in data/, tried in order against a ClientHello from a CloudFront
    // address; the first it fits judges it.
    an_profile family[2];
    uint32_t num_family;
    bool profile_fixed;      // --profile set the profile
    an_prefixes prefixes;    // empty for the generic profile (no edge labelling)
    bool prefixes_borrowed;  // prefixes is the shared analyzer's table (not freed here)
    X509_STORE *store;
    char trust_store[256];
    an_chain_cache *cache;
    an_chain *chain_scratch;  // an_chain_analyze's result when not cached (24 KB, kept)
    int64_t now;
    an_summary *summary;
    verdict_method method;  // METHOD_PASSIVE, except during analyzer_run_ex
    an_memo *memo;          // what earlier connections showed (analyzer_account)
    // The last check commands made and what each was made from (check_command): a capture's
    // handshakes go to a few servers under a few names, and --json prints one on every line.
    check_memo checks[8];
    uint32_t next_check;   // the slot the next new command replaces
    bool quiet_successes;  // analyzer_config.quiet_successes
    // The rules a quiet succeeded handshake runs (an_rules indices, in order): those with a
    // function that predict and depend on the certificate only (run_rules).
    uint16_t quiet_rules[CAUSE__COUNT];
    uint32_t num_quiet_rules;
    uint16_t ok_rules[CAUSE__COUNT];  // the rules a succeeded handshake runs: fn, CAUSE_F_PREDICTS
    uint32_t num_ok_rules;
    uint16_t ok_plain_rules[CAUSE__COUNT];  // … of them those without CAUSE_F_CERT
    uint32_t num_ok_plain_rules;
    // The SNIs last checked as host names and the answers (fill_identity), by wire length and
    // first byte: a server sees the same few names all the time, and the check walks every byte.
    sni_memo_entry sni_memo[8];
    // Verdicts handed back by analyzer_verdict_free, for this analyzer's next verdicts (its own
    // thread only): a --threads worker holds up to THR_MAX_PENDING verdicts for the merge, and
    // each was a 52 KB malloc and free, glibc's slow path (perf: 4 % of --threads 2).
    verdict *spare;
    uint32_t nspare;
};

// The store is OpenSSL's to share: each holder takes a reference (X509_STORE_up_ref), and
// verifications on it may run in several threads at once; store_has_subject (x509.c) locks it
// to list its certificates.
struct analyzer_shared {
    X509_STORE *store;  // referenced
    char trust_store[256];
    int64_t now;
    an_chain_shared *chains;
    const analyzer *from;  // its profiles and prefix table (borrowed)
};

const char *an_alert_name(uint8_t desc) {
    const char *n = tls_alert_name(desc);
    return n ? n : "unknown_alert";
}

const char *an_version_name(uint16_t v) {
    const char *n = tls_version_name(v);
    return n ? n : "unknown-version";
}

void analyzer_config_default(analyzer_config *c) {
    memset(c, 0, sizeof *c);
    c->profile = NULL;  // cloudfront, recognising the 2025 policies from the wire
}

// The embedded CloudFront profiles (data/profile-cloudfront*.conf), the order they are tried in.
static const struct {
    const char *name;
    const unsigned char *text;
    const size_t *len;
} embedded_profiles[] = {
    {"cloudfront", an_embedded_profile, &an_embedded_profile_len},
    {"cloudfront-2025", an_embedded_profile_2025, &an_embedded_profile_2025_len},
};

// load_profile parses the embedded profile `name` into *out; false (err set) when unknown.
static bool load_profile(const char *name, an_profile *out, char *err, size_t errlen) {
    for (size_t i = 0; i < sizeof embedded_profiles / sizeof embedded_profiles[0]; i++) {
        if (strcmp(name, embedded_profiles[i].name) == 0) {
            return an_profile_parse((const char *)embedded_profiles[i].text,
                                    *embedded_profiles[i].len, out, err, errlen);
        }
    }
    snprintf(err, errlen, "unknown profile \"%s\" (use cloudfront, cloudfront-2025 or generic)",
             name);
    return false;
}

// ---------------------------------------------------------------------------------------------
// Trust store.
// ---------------------------------------------------------------------------------------------

// store_identity: path(s) + number of certificates + SHA-256 of their concatenated DERs (first
// 16 hex digits), so two reports can tell whether they used the same store.
static void store_identity(X509_STORE *store, const char *paths, char *out, size_t outlen) {
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned count = 0;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
        for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
            X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
            unsigned char *der = NULL;
            int len = x ? i2d_X509(x, &der) : -1;
            if (len > 0) {
                (void)EVP_DigestUpdate(md, der, (size_t)len);
                count++;
            }
            OPENSSL_free(der);
        }
        (void)EVP_DigestFinal_ex(md, digest, &dlen);
    }
    EVP_MD_CTX_free(md);
    char hex[17] = "";
    for (unsigned i = 0; i < 8 && i < dlen; i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    snprintf(out, outlen, "%s: %u certificate%s, sha256 %s", paths, count, count == 1 ? "" : "s",
             hex);
}

void an_path_problem(const char *option, const char *path, bool want_dir, const char *want,
                     char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s %s: %s; give %s", option, path,
                 errno == ENOENT ? "does not exist" : strerror(errno), want);
    } else if (!want_dir && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: is a directory; give %s%s", option, path, want,
                 strcmp(option, "--ca-file") == 0 ? " (a directory is --ca-path)" : "");
    } else if (want_dir && !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: is not a directory; give %s", option, path, want);
    } else if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "%s %s: cannot be read (%s); give %s", option, path, strerror(errno),
                 want);
    } else {
        snprintf(err, errlen, "%s %s: is not %s", option, path, want);
    }
}

static bool load_store(analyzer *a, const analyzer_config *c, char *err, size_t errlen) {
    a->store = X509_STORE_new();
    if (!a->store) {
        snprintf(err, errlen, "out of memory creating the trust store");
        return false;
    }
    char paths[200];
    if (c->ca_file || c->ca_path) {
        if (c->ca_file && X509_STORE_load_file(a->store, c->ca_file) != 1) {
            an_path_problem("--ca-file", c->ca_file, false,
                            "a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)", err,
                            errlen);
            return false;
        }
        if (c->ca_path && X509_STORE_load_path(a->store, c->ca_path) != 1) {
            an_path_problem("--ca-path", c->ca_path, true,
                            "a directory of hashed PEM certificates (c_rehash)", err, errlen);
            return false;
        }
        snprintf(paths, sizeof paths, "%s%s%s", c->ca_file ? c->ca_file : "",
                 c->ca_file && c->ca_path ? " + " : "", c->ca_path ? c->ca_path : "");
    } else {
        // Debian's default store is ca-certificates, i.e. Mozilla's list: what CloudFront trusts.
        if (X509_STORE_set_default_paths(a->store) != 1) {
            snprintf(err, errlen, "cannot load the system trust store (%s)",
                     X509_get_default_cert_file());
            return false;
        }
        snprintf(paths, sizeof paths, "system %s", X509_get_default_cert_file());
    }
    store_identity(a->store, paths, a->trust_store, sizeof a->trust_store);
    return true;
}

analyzer *analyzer_new(const analyzer_config *c, char *err, size_t errlen) {
    analyzer_config def;
    if (!c) {
        analyzer_config_default(&def);
        c = &def;
    }
    analyzer *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->now = c->now ? c->now : (int64_t)time(NULL);
    a->quiet_successes = c->quiet_successes;
    for (size_t i = 0; i < an_num_rules && i < CAUSE__COUNT; i++) {
        unsigned want = CAUSE_F_PREDICTS | CAUSE_F_CERT;
        if (an_rules[i].fn != NULL && (an_rules[i].flags & want) == want) {
            a->quiet_rules[a->num_quiet_rules++] = (uint16_t)i;
        }
        if (an_rules[i].fn != NULL && (an_rules[i].flags & CAUSE_F_PREDICTS)) {
            a->ok_rules[a->num_ok_rules++] = (uint16_t)i;
            if (!(an_rules[i].flags & CAUSE_F_CERT)) {
                a->ok_plain_rules[a->num_ok_plain_rules++] = (uint16_t)i;
            }
        }
    }
    if (c->shared) {
        // The run's profiles and prefix table, as the analyzer the shared state was made from
        // loaded them (each worker parsed them again: 0.44 ms of the serial start per worker).
        const analyzer *from = c->shared->from;
        a->profile = from->profile;
        memcpy(a->family, from->family, sizeof a->family);
        a->num_family = from->num_family;
        a->profile_fixed = from->profile_fixed;
        a->prefixes = from->prefixes;
        a->prefixes_borrowed = true;
    } else {
        a->profile_fixed = c->profile != NULL;
        const char *profile = c->profile ? c->profile : "cloudfront";
        if (strcmp(profile, "generic") == 0) {
            an_profile_generic(&a->profile);
        } else {
            if (!load_profile(profile, &a->profile, err, errlen)) {
                goto fail;
            }
            for (size_t i = 0; !a->profile_fixed && i < sizeof a->family / sizeof a->family[0];
                 i++) {
                if (!load_profile(embedded_profiles[i].name, &a->family[i], err, errlen)) {
                    goto fail;
                }
                a->num_family++;
            }
            bool ok =
                c->ranges_file
                    ? an_prefixes_load_json(c->ranges_file, &a->prefixes, err, errlen)
                    : an_prefixes_parse_text((const char *)an_embedded_prefixes,
                                             an_embedded_prefixes_len, &a->prefixes, err, errlen);
            if (!ok) {
                goto fail;
            }
        }
    }
    if (c->shared) {
        if (X509_STORE_up_ref(c->shared->store) != 1) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        a->store = c->shared->store;
        an_copy(a->trust_store, sizeof a->trust_store, c->shared->trust_store);
        a->now = c->shared->now;
    } else if (!load_store(a, c, err, errlen)) {
        goto fail;
    }
    a->cache = an_chain_cache_new(c->shared ? c->shared->chains : NULL);
    a->chain_scratch = malloc(sizeof *a->chain_scratch);
    // A worker's analyzer only judges: its summary and memo (a third of a megabyte each, every
    // page written when made) would never be read.
    bool judge_only = c->shared != NULL && c->judge_only;
    a->summary = judge_only ? NULL : an_summary_new();
    a->memo = judge_only ? NULL : an_memo_new();
    if (!a->cache || !a->chain_scratch || (!judge_only && (!a->summary || !a->memo))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return a;
fail:
    analyzer_free(a);
    return NULL;
}

// A spare verdict's first bytes link the list (verdict_new clears them again): the link is
// copied in and out as bytes, the verdict's own fields being of other types.
static verdict *spare_next(const verdict *v) {
    verdict *next;
    memcpy(&next, (const unsigned char *)v, sizeof next);
    return next;
}

static void spare_link(verdict *v, verdict *next) {
    memcpy((unsigned char *)v, &next, sizeof next);
}

void analyzer_free(analyzer *a) {
    if (!a) {
        return;
    }
    if (!a->prefixes_borrowed) {
        an_prefixes_free(&a->prefixes);
    }
    X509_STORE_free(a->store);
    an_chain_cache_free(a->cache);
    free(a->chain_scratch);
    an_summary_free(a->summary);
    an_memo_free(a->memo);
    while (a->spare) {
        verdict *next = spare_next(a->spare);
        free(a->spare);
        a->spare = next;
    }
    free(a);
}

analyzer_shared *analyzer_shared_new(const analyzer *a, const analyzer_lock *lock) {
    analyzer_shared *s = calloc(1, sizeof *s);
    if (!s) {
        return NULL;
    }
    s->chains = an_chain_shared_new(lock);
    if (!s->chains || X509_STORE_up_ref(a->store) != 1) {
        an_chain_shared_free(s->chains);
        free(s);
        return NULL;
    }
    s->store = a->store;
    an_copy(s->trust_store, sizeof s->trust_store, a->trust_store);
    s->now = a->now;
    s->from = a;
    return s;
}

void analyzer_shared_free(analyzer_shared *s) {
    if (!s) {
        return;
    }
    an_chain_shared_free(s->chains);
    X509_STORE_free(s->store);
    free(s);
}

void analyzer_shared_counts_get(analyzer_shared *s, analyzer_shared_counts *out) {
    an_chain_shared_counts(s->chains, out);
}

uint64_t analyzer_chain_results_dropped(analyzer *a) {
    return an_chain_cache_dropped(a->cache);
}

const char *analyzer_profile_name(const analyzer *a) {
    return a->profile.name;
}

const char *analyzer_profile_version(const analyzer *a) {
    return a->profile.version;
}

const char *analyzer_prefix_source(const analyzer *a) {
    return a->prefixes.n ? a->prefixes.source : "none (generic profile)";
}

size_t analyzer_num_prefixes(const analyzer *a) {
    return a->prefixes.n;
}

bool analyzer_prefix_at(const analyzer *a, size_t i, char *out, size_t outlen) {
    return an_prefixes_format_at(&a->prefixes, i, out, outlen);
}

const char *analyzer_trust_store(const analyzer *a) {
    return a->trust_store;
}

void analyzer_profile_offer(const analyzer *a, analyzer_offer *out) {
    const an_profile *p = &a->profile;
    *out = (analyzer_offer){p->num_versions, p->num_ciphers, p->num_groups, p->num_sigalgs,
                            p->versions,     p->ciphers,     p->groups,     p->sigalgs};
}

size_t analyzer_num_judging_profiles(const analyzer *a) {
    return a->num_family ? a->num_family : 1;
}

bool analyzer_judging_profile(const analyzer *a, size_t i, const char **name, const char **policy,
                              analyzer_offer *offer) {
    if (i >= analyzer_num_judging_profiles(a)) {
        return false;
    }
    const an_profile *p = a->num_family ? &a->family[i] : &a->profile;
    *name = p->name;
    *policy = p->policy;
    *offer = (analyzer_offer){p->num_versions, p->num_ciphers, p->num_groups, p->num_sigalgs,
                              p->versions,     p->ciphers,     p->groups,     p->sigalgs};
    return true;
}

const summary *analyzer_summary(analyzer *a) {
    assert(a->summary != NULL);  // (not a judge-only analyzer)
    return an_summary_get(a->summary);
}

void analyzer_account(analyzer *a, verdict *v) {
    assert(a->summary != NULL);  // (not a judge-only analyzer)
    an_memo_apply(a->memo, v);
    an_summary_add(a->summary, v);
}

bool analyzer_account_may_change(const verdict *v) {
    return an_memo_may_refine(v);
}

void analyzer_summary_refresh(analyzer *a, const verdict *v) {
    assert(a->summary != NULL);  // (not a judge-only analyzer)
    an_summary_refresh(a->summary, v);
}

// One freed verdict is kept for the next verdict_new (a 52 KB malloc and free a handshake, ~400
// instructions, saved; any thread may free, hence the exchange). At most one is held; it is
// still reachable at exit. Sanitizer builds free every verdict, so a use after free shows.
#if defined(__SANITIZE_ADDRESS__) || defined(TLSDIAG_FUZZING)
enum { VERDICT_SPARE = 0 };
#else
enum { VERDICT_SPARE = 1 };
#endif
static _Atomic(verdict *) verdict_spare;

void verdict_free(verdict *v) {
    if (VERDICT_SPARE && v) {
        v = atomic_exchange_explicit(&verdict_spare, v, memory_order_acq_rel);
    }
    free(v);
}

enum { ANALYZER_SPARE_VERDICTS = 64 };

void analyzer_verdict_free(analyzer *a, verdict *v) {
    if (!VERDICT_SPARE || !v || a->nspare >= ANALYZER_SPARE_VERDICTS) {
        verdict_free(v);
        return;
    }
    spare_link(v, a->spare);
    a->spare = v;
    a->nspare++;
}

// ---------------------------------------------------------------------------------------------
// Outcome: succeeded / failed (where, by whom) / incomplete / not TLS.
// ---------------------------------------------------------------------------------------------
static verdict_party dir_party(uint8_t dir) {
    return dir == TLS_DIR_C2S ? PARTY_CLIENT : PARTY_SERVER;
}

static const tls_event *find_hs(const tls_transcript *t, uint8_t dir, uint8_t hs_type) {
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->kind == TLS_EV_HANDSHAKE && e->dir == dir && e->hs_type == hs_type) {
            return e;
        }
    }
    return NULL;
}

// The alerts of a transcript, found in one walk over its events (alerts are rare: every
// other event is skipped on its kind).
typedef struct alert_scan {
    const tls_event *fatal;       // the first fatal alert in clear
    const tls_event *warn;        // the first alert in clear other than close_notify
    const tls_event *enc;         // the first encrypted alert
    uint32_t client_alert_frame;  // frame of the client's first alert, clear or encrypted (0: none)
} alert_scan;

static void scan_alerts(const tls_transcript *t, alert_scan *s) {
    *s = (alert_scan){NULL, NULL, NULL, 0};
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->kind != TLS_EV_ALERT && e->kind != TLS_EV_ENCRYPTED_ALERT) {
            continue;
        }
        if (e->dir == TLS_DIR_C2S && !s->client_alert_frame) {
            s->client_alert_frame = e->frame;
        }
        if (e->kind == TLS_EV_ENCRYPTED_ALERT) {
            s->enc = s->enc ? s->enc : e;
        } else if (e->alert_level == 2) {
            s->fatal = s->fatal ? s->fatal : e;
        } else if (e->alert_desc != 0) {
            s->warn = s->warn ? s->warn : e;
        }
    }
}

// find_alert records the alert that ended the handshake: the first fatal one; else a warning
// other than close_notify (e.g. unrecognized_name) when the handshake did not complete; else an
// encrypted alert before completion. close_notify is never a failure (RFC 8446 §6.1).
static void find_alert(const alert_scan *s, bool succeeded, an_facts *f) {
    if (s->fatal) {
        f->has_alert = true;
        f->alert_sender = dir_party(s->fatal->dir);
        f->alert_level = 2;
        f->alert_desc = s->fatal->alert_desc;
        f->alert_frame = s->fatal->frame;
        return;
    }
    if (succeeded) {
        return;
    }
    const tls_event *e = s->warn ? s->warn : s->enc;
    if (e) {
        f->has_alert = true;
        f->alert_sender = dir_party(e->dir);
        f->alert_level = e->kind == TLS_EV_ALERT ? e->alert_level : 2;
        f->alert_desc = e->kind == TLS_EV_ALERT ? e->alert_desc : 0;
        f->alert_frame = e->frame;
        f->alert_encrypted = e->kind == TLS_EV_ENCRYPTED_ALERT;
    }
}

static bool completed(const tls_transcript *t) {
    if (t->end_reason == TLS_END_HANDSHAKE_DONE) {
        return true;
    }
    // TLS ≤ 1.2: ChangeCipherSpec then an encrypted record (Finished) from both sides ends the
    // handshake (RFC 5246 §7.4.9), even when no application data follows.
    bool fin[2] = {false, false};
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->kind == TLS_EV_ALERT && e->alert_level == 2) {
            break;
        }
        if (e->kind == TLS_EV_ENCRYPTED_HANDSHAKE && e->dir < 2 && t->ccs[e->dir]) {
            fin[e->dir] = true;
        }
    }
    if (fin[0] && fin[1] && t->ccs[0] && t->ccs[1] && t->sh.selected_version != 0x0304) {
        return true;
    }
    // Application data both ways means both Finished messages were accepted (RFC 8446 §4.4.4).
    return t->app_records[TLS_DIR_C2S] > 0 && t->app_records[TLS_DIR_S2C] > 0 &&
           (t->ccs[TLS_DIR_C2S] || t->sh.selected_version == 0x0304);
}

// server_renegotiation: in TLS ≤ 1.2, a side's first protected handshake record is its Finished;
// a second one from the server, after the client's Finished, is a HelloRequest (RFC 5246
// §7.4.1.1) — the origin asks to renegotiate. The client answers with a protected ClientHello
// (its own second protected handshake record) or not at all. Not answered, it failed when the
// server sent nothing after it (a stall, a close) or the client refused it with an alert (a
// no_renegotiation warning, encrypted); an origin that just goes on serving got its way.
static void server_renegotiation(const tls_transcript *t, an_facts *f) {
    uint16_t nv = tls_negotiated_version(&t->sh);
    if (nv >= 0x0304 || nv < 0x0300 || !t->ccs[TLS_DIR_C2S] || !t->ccs[TLS_DIR_S2C]) {
        return;  // TLS 1.3 has no renegotiation (its records are hidden); SSLv2 no Finished
    }
    uint32_t seen[2] = {0, 0};
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->kind != TLS_EV_ENCRYPTED_HANDSHAKE || e->dir > TLS_DIR_S2C) {
            continue;
        }
        seen[e->dir]++;
        // Only while the client has sent just its Finished: a server record after the client's
        // own second one (a client-initiated renegotiation) answers it, it asks nothing.
        if (e->dir == TLS_DIR_S2C && seen[TLS_DIR_S2C] == 2 && seen[TLS_DIR_C2S] == 1 &&
            !f->reneg_request_frame) {
            f->reneg_request_frame = e->frame;
        } else if (e->dir == TLS_DIR_C2S && f->reneg_request_frame) {
            f->reneg_answered = true;
        }
    }
    if (!f->reneg_request_frame || f->reneg_answered) {
        return;
    }
    bool served = false, refused = false;
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->frame <= f->reneg_request_frame) {
            continue;
        }
        served |= e->dir == TLS_DIR_S2C && e->kind == TLS_EV_APPLICATION_DATA;
        refused |=
            e->dir == TLS_DIR_C2S && (e->kind == TLS_EV_ENCRYPTED_ALERT || e->kind == TLS_EV_ALERT);
    }
    f->reneg_failed = !served || refused;
}

// first_closer: the party whose FIN/RST came first (PARTY_NONE when neither) and its frame.
static verdict_party first_closer(const tls_transcript *t, uint32_t *frame) {
    uint32_t close_frame = 0;
    verdict_party closer = PARTY_NONE;
    for (int d = 0; d < 2; d++) {
        uint32_t fr[2] = {t->tcp.fin[d] ? t->tcp.fin_frame[d] : 0,
                          t->tcp.rst[d] ? t->tcp.rst_frame[d] : 0};
        for (int k = 0; k < 2; k++) {
            if (fr[k] && (close_frame == 0 || fr[k] < close_frame)) {
                close_frame = fr[k];
                closer = dir_party((uint8_t)d);
            }
        }
    }
    *frame = close_frame;
    return closer;
}

// empty_client_certificate: the server asked for a certificate and the client sent an empty
// Certificate (RFC 5246 §7.4.6), in clear.
static bool empty_client_certificate(const tls_transcript *t) {
    return t->cert_req.present && t->client_cert.present && t->client_cert.num_certs == 0;
}

static void decide_outcome(const tls_transcript *t, an_facts *f) {
    bool ok = completed(t);
    f->completed = ok;
    alert_scan alerts;
    scan_alerts(t, &alerts);
    find_alert(&alerts, ok, f);
    server_renegotiation(t, f);
    bool closed = t->tcp.fin[0] || t->tcp.fin[1] || t->tcp.rst[0] || t->tcp.rst[1];
    uint32_t close_frame = 0;
    verdict_party closer = first_closer(t, &close_frame);
    // The client leaves: its FIN/RST comes first, or its (encrypted) close_notify does.
    uint32_t client_alert_frame = alerts.client_alert_frame;
    f->client_left_after_finished =
        ok && t->app_records[TLS_DIR_C2S] == 0 &&
        (closer == PARTY_CLIENT ||
         (client_alert_frame && (close_frame == 0 || client_alert_frame < close_frame)));
    // A renegotiation refused with a fatal alert fails the request even after a completed
    // first handshake (CloudFront does not renegotiate).
    // Without the ClientHello nothing can be judged, however the connection went on — unless
    // a fatal alert in clear says the handshake failed (the capture then only lacks the why).
    // An encrypted alert's level is hidden: mid-stream it is most often a close_notify.
    bool fatal = f->has_alert && f->alert_level == 2 && !f->alert_encrypted;
    if (t->quality.midstream && !t->ch.present && !fatal) {
        f->outcome = OUTCOME_INCOMPLETE;
        f->aborted_by = PARTY_CAPTURE;
        return;
    }
    // Refused: a fatal alert, or the connection ended (alert or close) with no server
    // application data at all — the request that triggered it was never answered.
    bool reneg_refused = t->renegotiation_attempt &&
                         ((f->has_alert && f->alert_level == 2) ||
                          (t->app_records[TLS_DIR_S2C] == 0 && (f->has_alert || closed)));
    // Failures after a completed handshake, which no alert announces:
    // - the origin asked to renegotiate and the client did not: whatever the origin did next (an
    //   error page, a stall, a close), the request that triggered it failed — CloudFront never
    //   renegotiates (AWS using-https);
    // - CloudFront's Certificate was empty and the origin completed the handshake anyway: one
    //   that requires the certificate refuses every request afterwards (nginx
    //   `ssl_verify_client on` answers HTTP 400; the reply is encrypted, so an origin that only
    //   asks — optional client authentication — looks the same: medium confidence). Other
    //   clients keep the finding only (STARTTLS servers in the corpus ask and serve).
    bool reneg_unanswered = f->reneg_failed;
    bool cert_refused_later = empty_client_certificate(t) && f->cloudfront_client;
    if (ok && !reneg_refused && (reneg_unanswered || cert_refused_later) &&
        !(f->has_alert && f->alert_level == 2)) {
        f->outcome = OUTCOME_FAILED;
        f->aborted_by = reneg_unanswered ? PARTY_CLIENT : PARTY_SERVER;
        return;
    }
    if (ok && !reneg_refused) {
        f->outcome = OUTCOME_SUCCEEDED;
        return;
    }
    if (t->quality.message_cap_hit && !fatal) {
        // A direction stopped being parsed at an oversized message: what followed is unread.
        f->outcome = OUTCOME_INCOMPLETE;
        f->aborted_by = PARTY_CAPTURE;
        return;
    }
    if (f->has_alert && f->alert_level == 2) {
        f->outcome = OUTCOME_FAILED;
        // A peer that closed before the other's alert ended the handshake; the alert answers it.
        f->aborted_by = close_frame && close_frame < f->alert_frame && closer != f->alert_sender
                            ? closer
                            : f->alert_sender;
        return;
    }
    if (t->tcp.syn && !t->tcp.synack && !t->tcp.bytes[TLS_DIR_S2C]) {
        bool refused = t->tcp.rst[TLS_DIR_S2C];
        bool timed_out = t->tcp.syn_count >= 2 || t->last_ts_ns - t->tcp.syn_ts_ns >= 3000000000LL;
        f->outcome = refused || timed_out ? OUTCOME_FAILED : OUTCOME_INCOMPLETE;
        f->aborted_by = f->outcome == OUTCOME_FAILED ? PARTY_TCP : PARTY_CAPTURE;
        return;
    }
    if (!t->ch.present && t->ch_partial_declared && closer == PARTY_SERVER) {
        // The server ended the connection while the client's ClientHello was still arriving.
        f->outcome = OUTCOME_FAILED;
        f->aborted_by = PARTY_SERVER;
        return;
    }
    if (!t->is_tls && !t->ch.present) {
        // Non-TLS payload, or a TCP connection opened and closed empty (a port check).
        bool data = t->preview_len[0] || t->preview_len[1] ||
                    (t->tcp.synack && closed && !t->tcp.bytes[0] && !t->tcp.bytes[1]);
        f->outcome = data ? OUTCOME_NOT_TLS : OUTCOME_INCOMPLETE;
        f->aborted_by = data ? PARTY_NONE : PARTY_CAPTURE;
        return;
    }
    if (t->preview_len[TLS_DIR_S2C] || f->has_alert || closed) {
        f->outcome = OUTCOME_FAILED;
        f->aborted_by = f->has_alert                             ? f->alert_sender
                        : t->preview_len[TLS_DIR_S2C] && !closed ? PARTY_SERVER
                                                                 : closer;
        return;
    }
    f->outcome = OUTCOME_INCOMPLETE;
    f->aborted_by = PARTY_CAPTURE;
}

// client_finished: did the client send its Finished? In TLS ≤ 1.2 its ChangeCipherSpec says
// so; in TLS 1.3 that ChangeCipherSpec is a dummy sent before anything else (middlebox
// compatibility, RFC 8446 §D.4), and only a protected handshake record is its Finished: Go and
// GnuTLS send the dummy, then an encrypted alert, when they refuse the server's certificate.
static bool client_finished(const tls_transcript *t) {
    if (tls_negotiated_version(&t->sh) != 0x0304) {
        return t->ccs[TLS_DIR_C2S];
    }
    for (uint32_t i = 0; i < t->num_events; i++) {
        if (t->events[i].dir == TLS_DIR_C2S && t->events[i].kind == TLS_EV_ENCRYPTED_HANDSHAKE) {
            return true;
        }
    }
    return false;
}

static void failed_step(const tls_transcript *t, const an_facts *f, char *out, size_t outlen) {
    const char *s;
    if (t->tcp.syn && !t->tcp.synack && !t->ch.present) {
        s = "during TCP connect";
    } else if (!t->ch.present) {
        s = "before ClientHello";
    } else if (t->hrr.present && !t->ch2.present) {
        s = "after HelloRetryRequest";
    } else if (!t->sh.present) {
        s = "after ClientHello";
    } else if (t->client_key_exchange || client_finished(t) ||
               (t->encrypted[TLS_DIR_C2S] && f->aborted_by == PARTY_SERVER)) {
        s = "after client Finished";
    } else if ((t->cert.present || t->encrypted[TLS_DIR_S2C]) && f->aborted_by == PARTY_CLIENT &&
               (!f->has_alert || (f->alert_desc >= 42 && f->alert_desc <= 49) ||
                f->alert_encrypted)) {
        // the client dropped the connection, or sent a certificate alert (42..49, RFC 8446 §6.2)
        s = "after server Certificate";
    } else {
        s = "after ServerHello…ServerHelloDone";
    }
    an_copy(out, outlen, s);
}

// ---------------------------------------------------------------------------------------------
// The verdict.
// ---------------------------------------------------------------------------------------------
void verdict_add_finding(verdict *v, cause_id c, const char *text) {
    if (v->num_findings < VERDICT_MAX_FINDINGS) {
        v->findings[v->num_findings].cause = c;
        an_copy(v->findings[v->num_findings].text, VERDICT_TEXT, text);
        v->num_findings++;
    }
}

size_t verdict_sni_kept(const verdict *v) {
    if (v->sni_len == 0) {
        return strnlen(v->sni, sizeof v->sni);
    }
    return v->sni_len < TLS_MAX_SNI_LEN ? v->sni_len : TLS_MAX_SNI_LEN;
}

size_t verdict_evidence_len(const verdict_evidence *e) {
    return e->value_len ? e->value_len : strnlen(e->value, sizeof e->value);
}

void verdict_copy_evidence(verdict *v, const verdict_evidence *e) {
    for (uint32_t i = 0; i < v->num_evidence; i++) {
        const verdict_evidence *o = &v->evidence[i];
        if (strcmp(o->key, e->key) == 0 && verdict_evidence_len(o) == verdict_evidence_len(e) &&
            memcmp(o->value, e->value, verdict_evidence_len(e)) == 0) {
            return;
        }
    }
    if (v->num_evidence < VERDICT_MAX_EVIDENCE) {
        v->evidence[v->num_evidence++] = *e;
    }
}

// verdict_add_evidence is verdict_copy_evidence of {key, value, frame} (both cut to their
// fields), written in place: building the 570-byte entry on the stack, zeroed, and copying it
// in was most of the cost of every fact a verdict lists.
void verdict_add_evidence(verdict *v, const char *key, uint32_t frame, const char *value) {
    char k[sizeof v->evidence[0].key];
    an_copy(k, sizeof k, key);
    size_t vlen = strnlen(value, VERDICT_TEXT - 1);
    for (uint32_t i = 0; i < v->num_evidence; i++) {
        const verdict_evidence *o = &v->evidence[i];
        if (strcmp(o->key, k) == 0 && verdict_evidence_len(o) == vlen &&
            memcmp(o->value, value, vlen) == 0) {
            return;
        }
    }
    if (v->num_evidence < VERDICT_MAX_EVIDENCE) {
        verdict_evidence *e = &v->evidence[v->num_evidence++];
        memcpy(e->key, k, strlen(k) + 1);
        memcpy(e->value, value, vlen);
        e->value[vlen] = '\0';
        e->value_len = 0;
        e->frame = frame;
    }
}

// add_fact_n files fact key = value (vlen bytes, no NUL among them) unless the verdict already
// lists key. It is verdict_add_evidence without its duplicate scan (an entry with the same key
// and value would have stopped it here already), inlined at each call so that the key's length
// is a constant: the key compares and copies become a few loads, not strcmp per entry.
static inline __attribute__((always_inline)) void add_fact_n(verdict *v, const char *key,
                                                             uint32_t frame, const char *value,
                                                             size_t vlen) {
    size_t klen = strlen(key);
    _Static_assert(sizeof v->evidence[0].key > 24, "fact keys fit evidence keys");
    bool tcp = klen >= 4 && memcmp(key, "tcp_", 4) == 0;
    for (uint32_t i = 0; i < v->num_evidence; i++) {
        const verdict_evidence *e = &v->evidence[i];
        if (memcmp(e->key, key, klen + 1) == 0) {
            return;  // a rule already said it, in its own words
        }
        if (tcp && e->frame == frame && memcmp(e->key, key + 4, klen - 3) == 0) {
            return;  // "rst" from a rule is this "tcp_rst": the same packet, said once
        }
    }
    if (v->num_evidence < VERDICT_MAX_EVIDENCE) {
        verdict_evidence *e = &v->evidence[v->num_evidence++];
        vlen = vlen < VERDICT_TEXT - 1 ? vlen : VERDICT_TEXT - 1;
        memcpy(e->key, key, klen + 1);
        memcpy(e->value, value, vlen);
        e->value[vlen] = '\0';
        e->value_len = 0;
        e->frame = frame;
    }
}

static inline __attribute__((always_inline)) void add_fact(verdict *v, const char *key,
                                                           uint32_t frame, const char *value) {
    add_fact_n(v, key, frame, value, strlen(value));
}

// add_facts lists what was seen, so that even `unknown` says everything it knows.
static void add_facts(const tls_transcript *t, const an_facts *f, verdict *v) {
    char buf[VERDICT_TEXT];
    an_text b;
    if (t->ch.present) {
        b = an_text_at(buf, sizeof buf);
        an_text_str(&b, "ClientHello ");
        an_text_str(&b, an_version_name(t->ch.legacy_version));
        an_text_str(&b, ", ");
        an_text_u64(&b, t->ch.num_ciphers_sent > t->ch.num_ciphers ? t->ch.num_ciphers_sent
                                                                   : t->ch.num_ciphers);
        an_text_str(&b, " ciphers, SNI ");
        // an_sni_phrase, with the SNI check fill_identity already made (v->sni_problem)
        // (at most 159 bytes of it, as the 160-byte copy this once went through)
        an_text_strn(&b,
                     !t->ch.has_sni   ? "(none)"
                     : v->sni_problem ? "(not a valid host name)"
                                      : t->ch.sni,
                     159);
        add_fact_n(v, "client_hello", t->ch.frame, buf, b.w);
    }
    if (v->sni_problem) {
        // Flagged on every verdict, whatever the cause: the SNI bytes (escaped by each output)
        // and why they are not a host name.
        rule_match m;
        m.num_evidence = 0;
        rule_evidence_sni(&m, &t->ch);
        bool have = false;
        for (uint32_t i = 0; i < v->num_evidence; i++) {
            have |= strcmp(v->evidence[i].key, "sni") == 0;
        }
        if (!have && m.num_evidence == 1) {
            verdict_copy_evidence(v, &m.evidence[0]);
        }
        snprintf(buf, sizeof buf,
                 "not a valid host name: %s (RFC 6066 §3); shown escaped and left out of the "
                 "printed commands",
                 v->sni_problem);
        add_fact(v, "sni_invalid", t->ch.frame, buf);
    }
    if (t->sh.present) {
        const char *cn = tls_cipher_name(t->sh.cipher);
        b = an_text_at(buf, sizeof buf);
        an_text_str(&b, "ServerHello ");
        an_text_str(&b, an_version_name(tls_negotiated_version(&t->sh)));
        an_text_str(&b, ", cipher ");
        an_text_str(&b, cn ? cn : "?");
        add_fact_n(v, "server_hello", t->sh.frame, buf, b.w);
    }
    if (t->cert.present) {
        b = an_text_at(buf, sizeof buf);
        an_text_u64(&b, t->cert.num_certs);
        an_text_str(&b, " certificate(s), ");
        an_text_u64(&b, t->cert.message_len);
        an_text_str(&b, " bytes");
        add_fact_n(v, "certificate", t->cert.frame, buf, b.w);
    }
    if (f->has_alert) {
        b = an_text_at(buf, sizeof buf);
        an_text_str(&b, f->alert_level == 2 ? "fatal " : "warning ");
        an_text_str(&b, f->alert_encrypted ? "encrypted alert" : an_alert_name(f->alert_desc));
        an_text_str(&b, "(");
        an_text_u64(&b, f->alert_desc);
        an_text_str(&b, ") from the ");
        an_text_str(&b, verdict_party_name(f->alert_sender));
        add_fact_n(v, "alert", f->alert_frame, buf, b.w);
    }
    for (int d = 0; d < 2; d++) {
        if (t->tcp.rst[d]) {
            add_fact(v, "tcp_rst", t->tcp.rst_frame[d],
                     d == 0 ? "RST from the client" : "RST from the server");
        }
        if (t->tcp.fin[d]) {
            add_fact(v, "tcp_fin", t->tcp.fin_frame[d],
                     d == 0 ? "FIN from the client" : "FIN from the server");
        }
    }
    if (t->hrr.present) {
        const char *g = tls_group_name(t->hrr.key_share_group);
        snprintf(buf, sizeof buf, "HelloRetryRequest for group %s%s", g ? g : "?",
                 t->ch2.present ? ", second ClientHello sent" : ", no second ClientHello");
        add_fact(v, "hello_retry_request", t->hrr.frame, buf);
    }
    if (t->ske.present) {
        const char *g = tls_group_name(t->ske.group);
        if (t->ske.kind == 2) {
            snprintf(buf, sizeof buf, "DHE, %u-bit prime", t->ske.dh_p_bits);
        } else {
            b = an_text_at(buf, sizeof buf);
            an_text_str(&b, "ECDHE ");
            an_text_str(&b, g ? g : "?");
        }
        add_fact(v, "server_key_exchange", t->ske.frame, buf);
    }
    if (t->cert_req.present) {
        add_fact(v, "certificate_request", t->cert_req.frame,
                 "the server asked for a client certificate");
    }
    b = an_text_at(buf, sizeof buf);
    an_text_str(&b, "client ");
    an_text_u64(&b, t->tcp.bytes[0]);
    an_text_str(&b, " bytes, server ");
    an_text_u64(&b, t->tcp.bytes[1]);
    an_text_str(&b, t->events_dropped ? " bytes of TCP payload (some events not kept)"
                                      : " bytes of TCP payload");
    add_fact_n(v, "bytes", 0, buf, b.w);
    if (t->num_errors) {
        snprintf(buf, sizeof buf, "%u malformed TLS item(s), first: %s", t->num_errors,
                 tls_err_msg((tls_err)t->first_err));
        add_fact(v, "malformed", t->first_err_frame, buf);
    }
}

static void capture_note(const tls_transcript *t, verdict *v) {
    const tls_quality *q = &t->quality;
    char *s = v->capture_note;
    size_t n = sizeof v->capture_note, w = 0;
#define NOTE(...)                                                \
    do {                                                         \
        if (w < n) {                                             \
            int k = snprintf(s + w, n - w, "%s", w ? "; " : ""); \
            w += k > 0 ? (size_t)k : 0;                          \
        }                                                        \
        if (w < n) {                                             \
            int k = snprintf(s + w, n - w, __VA_ARGS__);         \
            w += k > 0 ? (size_t)k : 0;                          \
        }                                                        \
    } while (0)
    if (q->midstream)
        NOTE("capture started mid-connection");
    if (q->gaps[0])
        NOTE("%llu client bytes missing", (unsigned long long)q->gap_bytes[0]);
    if (q->gaps[1])
        NOTE("%llu server bytes missing", (unsigned long long)q->gap_bytes[1]);
    if (q->snaplen_truncated)
        NOTE("%u frames cut by snaplen", q->snaplen_truncated);
    if (q->kernel_drops)
        NOTE("kernel dropped packets");
    // Each bound that engaged, by the option that sets it (SECURITY.md: never silently).
    if (q->buffer_cap_hit)
        NOTE("per-flow buffer cap reached (--max-flow-bytes): later bytes not analysed");
    if (q->total_cap_hit)
        NOTE("total buffer cap reached (--max-total-bytes): later bytes not analysed");
    if (q->message_cap_hit)
        NOTE("a handshake message over the message-length cap was not parsed");
    if (t->events_dropped)
        NOTE("%u events not kept (at most %d per connection)", t->events_dropped, TLS_MAX_EVENTS);
    if (q->idle)
        NOTE("no packet for the idle timeout before the handshake ended");
    else if (q->evicted)
        NOTE("flow evicted from the full flow table (--max-flows) before the handshake ended");
    if (q->capture_ended && !t->quality.evicted && t->end_reason == TLS_END_CAPTURE_END)
        NOTE("capture ended before the handshake was decided");
#undef NOTE
}

static int64_t handshake_time(const tls_transcript *t) {
    const tls_event *e = find_hs(t, TLS_DIR_S2C, 2);  // ServerHello
    int64_t ns = e ? e->ts_ns : t->first_ts_ns;
    return ns / 1000000000LL;
}

// sni_problem is an_sni_problem(ch), remembered for the SNIs last seen (compared in full, wire
// length and bytes: the answer is the same as checking it again).
static const char *sni_problem(analyzer *a, const tls_client_hello *ch) {
    size_t kept = an_sni_kept(ch);
    size_t slot =
        (ch->sni_len ^ (uint8_t)ch->sni[0]) % (sizeof a->sni_memo / sizeof a->sni_memo[0]);
    sni_memo_entry *m = &a->sni_memo[slot];
    if (m->used && m->sni_len == ch->sni_len && memcmp(m->sni, ch->sni, kept) == 0) {
        return m->problem;
    }
    m->problem = an_sni_problem(ch);
    m->sni_len = ch->sni_len;
    memcpy(m->sni, ch->sni, kept);
    m->used = true;
    return m->problem;
}

// copy_fixed copies the C string src into dst, arrays of the same size n (the whole array at
// once: the bytes past the NUL are never read).
static inline void copy_fixed(char *dst, const char *src, size_t n) {
    memcpy(dst, src, n);
    dst[n - 1] = '\0';
}

static void fill_identity(analyzer *a, const tls_transcript *t, verdict *v) {
    v->conn_id = t->conn_id;
    v->client = t->client;
    v->server = t->server;
    v->first_frame = t->first_frame;
    v->last_frame = t->last_frame;
    v->first_ts_ns = t->first_ts_ns;
    v->last_ts_ns = t->last_ts_ns;
    v->has_sni = t->ch.has_sni;
    if (t->ch.has_sni) {
        // Bytes, not a C string: an SNI "a\0b.example.com" is kept whole (and shown escaped).
        size_t kept = an_sni_kept(&t->ch);
        memcpy(v->sni, t->ch.sni, kept);
        v->sni[kept] = '\0';
        v->sni_len = t->ch.sni_len;
        v->sni_problem = sni_problem(a, &t->ch);
    }
    v->version = tls_negotiated_version(&t->sh);
    v->cipher = t->sh.present ? t->sh.cipher : 0;
    _Static_assert(sizeof v->ja3 == sizeof t->ja3 && sizeof v->ja3s == sizeof t->ja3s &&
                       sizeof v->ja4 == sizeof t->ja4 &&
                       sizeof v->trust_store == sizeof a->trust_store,
                   "copy_fixed copies arrays of one size");
    copy_fixed(v->ja3, t->ja3, sizeof v->ja3);
    copy_fixed(v->ja3s, t->ja3s, sizeof v->ja3s);
    copy_fixed(v->ja4, t->ja4, sizeof v->ja4);
    if (a->profile.cloudfront && a->prefixes.n) {
        v->client_is_cloudfront = an_prefixes_match(&a->prefixes, &t->client, v->client_network,
                                                    sizeof v->client_network);
    }
    copy_fixed(v->trust_store, a->trust_store, sizeof v->trust_store);
}

const char *an_sni_word(const verdict *v) {
    return v->has_sni && v->sni_problem == NULL ? v->sni : "ORIGIN_DOMAIN";
}

void an_endpoint_word(const tls_endpoint *e, char *host, size_t hostlen, char port[8]) {
    char addr[64];
    an_endpoint_addr(e, addr, sizeof addr);
    an_text h = an_text_at(host, hostlen);
    an_text_str(&h, e->family == 6 ? "[" : "");  // -connect [v6]:port
    an_text_str(&h, addr);
    an_text_str(&h, e->family == 6 ? "]" : "");
    an_text p = an_text_at(port, 8);
    an_text_u64(&p, e->port);
}

// check_command: the openssl s_client line that repeats this handshake's server side. Every
// word from the wire is shell-quoted; an SNI that is not a valid host name never enters it: the
// command goes without -servername, and a shell comment on the same line says why.
static bool same_endpoint(const tls_endpoint *x, const tls_endpoint *y) {
    return x->family == y->family && x->port == y->port && memcmp(x->addr, y->addr, 16) == 0;
}

static void check_command_make(verdict *v);

// check_command: the command is a function of the server, whether an SNI was sent, whether it
// is a host name, and its bytes — made once per run of equal inputs.
static void check_command(analyzer *a, verdict *v) {
    bool sni_ok = v->sni_problem == NULL;
    const char *sni = v->has_sni ? v->sni : "";
    // The SNI compared as its C string (as strcmp would), with the lengths first; the command
    // copied by its known length (an_copy's strlen of it was most of a hit's cost in --json).
    size_t sni_len = strnlen(sni, sizeof a->checks[0].sni - 1);
    _Static_assert(sizeof a->checks[0].text == sizeof v->check_command, "a command fits");
    enum { N = sizeof a->checks / sizeof a->checks[0] };
    for (size_t i = 0; i < N; i++) {
        const check_memo *e = &a->checks[i];
        if (e->valid && e->sni_len == sni_len && same_endpoint(&e->server, &v->server) &&
            e->has_sni == v->has_sni && e->sni_ok == sni_ok && memcmp(e->sni, sni, sni_len) == 0 &&
            sni[sni_len] == '\0') {
            memcpy(v->check_command, e->text, (size_t)e->text_len + 1);
            return;
        }
    }
    check_command_make(v);
    check_memo *e = &a->checks[a->next_check++ % N];
    e->valid = true;
    e->server = v->server;
    e->has_sni = v->has_sni;
    e->sni_ok = sni_ok;
    memcpy(e->sni, sni, sni_len);
    e->sni[sni_len] = '\0';
    e->sni_len = (uint16_t)sni_len;
    size_t text_len = strnlen(v->check_command, sizeof e->text - 1);
    memcpy(e->text, v->check_command, text_len);
    e->text[text_len] = '\0';
    e->text_len = (uint16_t)text_len;
}

static void check_command_make(verdict *v) {
    char host[80], port[8], qhost[96], qsni[TLS_MAX_SNI_LEN + 8];
    an_endpoint_word(&v->server, host, sizeof host, port);
    if (!analyze_shell_quote(host, strlen(host), qhost, sizeof qhost)) {
        return;  // an address always fits; no command rather than a broken one
    }
    an_text c = an_text_at(v->check_command, sizeof v->check_command);
    an_text_str(&c, "openssl s_client -connect ");
    an_text_str(&c, qhost);
    an_text_str(&c, ":");
    an_text_str(&c, port);
    if (v->has_sni && v->sni_problem == NULL &&
        analyze_shell_quote(v->sni, strlen(v->sni), qsni, sizeof qsni)) {
        an_text_str(&c, " -servername ");
        an_text_str(&c, qsni);
        an_text_str(&c, " -showcerts");
    } else {
        an_text_str(&c, " -noservername -showcerts");
        an_text_str(&c, v->has_sni ? "  # the SNI sent is not a valid host name (RFC 6066 §3): "
                                     "left out"
                                   : "");
    }
}

uint16_t an_profile_max_version(const an_profile *p) {
    uint16_t m = p->num_versions ? 0 : 0x0304;
    for (uint32_t i = 0; i < p->num_versions; i++) {
        m = p->versions[i] > m ? p->versions[i] : m;
    }
    return m;
}

static void fill_texts(analyzer *a, const tls_transcript *t, const an_chain *chain,
                       const an_facts *f, verdict *v) {
    if (!an_texts_any(v->cause)) {
        // Nothing to expand (cause ok, the bulk of a capture): the variables are not built.
        v->num_fix = v->num_dead_ends = 0;
        check_command(a, v);
        return;
    }
    const an_profile *profile = f->profile;
    const x509_info *client_cert = f->client_cert;
    char hostport[80], port[8], versions[128] = "";
    an_endpoint_word(&t->server, hostport, sizeof hostport, port);
    const char *issuer = "", *root = "", *order = "";
    char rootbuf[512];
    if (chain) {
        issuer = chain->missing_intermediate ? chain->missing_issuer
                 : chain->intermediate_expired && chain->intermediate_index < chain->num_info
                     ? chain->certs[chain->intermediate_index].subject
                     : chain->certs[0].issuer;
        root = chain->untrusted_root;
        if (!root[0] && v->cause == CAUSE_CERT_UNTRUSTED_CA) {
            an_chain_root(chain->certs, chain->num_info, rootbuf, sizeof rootbuf);
            root = rootbuf;  // a chain that verified, refused by the client (rules.c)
        }
        order = chain->right_order;
    }
    if (v->cause == CAUSE_CLIENT_CERT_REJECTED) {
        // {issuer}: the CA the origin's client-CA store must hold
        issuer = client_cert ? client_cert->issuer : "(the client certificate's issuer)";
    }
    an_text vt = an_text_at(versions, sizeof versions);
    for (uint32_t i = 0; i < t->ch.num_versions; i++) {
        if (!tls_is_grease(t->ch.versions[i])) {
            an_text_str(&vt, vt.w ? " " : "");
            an_text_str(&vt, an_version_name(t->ch.versions[i]));
        }
    }
    if (!versions[0] && t->ch.present) {
        an_text_str(&vt, "up to ");
        an_text_str(&vt, an_version_name(t->ch.legacy_version));
    }
    uint16_t pmax = an_profile_max_version(profile);
    char missing[520];
    an_text mt = an_text_at(missing, sizeof missing);
    if (issuer[0]) {
        an_text_str(&mt, "'");
        an_text_strn(&mt, issuer, 500);
        an_text_str(&mt, "'");
    } else {
        an_text_str(&mt, VERDICT_HIDDEN_ISSUER);
    }
    char pversions[128];
    an_text pt = an_text_at(pversions, sizeof pversions);
    for (uint32_t i = 0; i < profile->num_versions; i++) {
        an_text_str(&pt, pt.w ? " " : "");
        an_text_str(&pt, an_version_name(profile->versions[i]));
    }
    an_text_vars vars = {.sni = an_sni_word(v),
                         .server = hostport,
                         .port = port,
                         .issuer = issuer,
                         .root = root,
                         .order = order,
                         .versions = versions,
                         .profile = profile->name,
                         .profile_max = an_version_name(pmax),
                         .profile_tls13 = pmax >= 0x0304,
                         .missing = missing,
                         .profile_versions = pversions[0] ? pversions : "any version",
                         .client_cloudfront = v->client_is_cloudfront};
    an_texts_fill(v->cause, &vars, v);
    check_command(a, v);
}

static void copy_chain(const an_chain *c, verdict *v) {
    v->num_certs = c->num_info;
    v->num_certs_sent = c->num_certs > c->num_info ? c->num_certs : c->num_info;
    memcpy(v->certs, c->certs, sizeof v->certs[0] * c->num_info);
    an_copy(v->chain_sha256, sizeof v->chain_sha256, c->chain_sha256);
    an_copy(v->verify_error, sizeof v->verify_error, c->verify_error);
}

// apply_rule runs rule r on t and files what it finds: the primary cause (the first that
// matches, not a finding only), else a finding. Inlined in run_rules' two loops: called ~8
// times a handshake in --json, its entry and exit (a 5 KB frame, the stack protector) were ~20
// instructions a call, and its rule_match is one frame slot for all of them.
static inline __attribute__((always_inline)) void apply_rule(const rule *r, const tls_transcript *t,
                                                             const an_facts *f, verdict *v, bool ok,
                                                             bool predict, bool *have_primary) {
    bool cert_cause = (r->flags & CAUSE_F_CERT) != 0;
    // Only the header is cleared: zeroing the whole match (8 evidence slots, ~5 KB) for
    // every rule and handshake was the analyzer's largest cost (bench/RESULTS.md).
    // rule_evidence fills each slot it hands out; slots past num_evidence are never read.
    rule_match m;
    m.confidence = CONF_LOW;
    m.finding_only = false;
    m.proven = false;
    m.summary[0] = '\0';
    m.num_evidence = 0;
    if (!r->fn(t, f, &m)) {
        return;
    }
    bool as_primary = !ok || (predict && cert_cause && m.confidence >= CONF_MEDIUM);
    if (as_primary && !*have_primary && !m.finding_only) {
        *have_primary = true;
        v->predicted = ok;
        v->cause = r->cause;
        v->confidence = m.confidence;
        an_copy(v->summary, sizeof v->summary, m.summary);
        for (uint32_t k = 0; k < m.num_evidence; k++) {
            verdict_copy_evidence(v, &m.evidence[k]);
        }
    } else if (v->num_findings < VERDICT_MAX_FINDINGS) {
        // verdict_add_finding of the line, written in its slot (no copy through the stack)
        verdict_finding *fd = &v->findings[v->num_findings++];
        bool predicted = ok || m.finding_only;
        const char *lead = !predicted || !f->profile->cloudfront ? ""
                           : (cert_cause && !m.finding_only) || m.proven
                               ? "CloudFront would refuse: "
                               : "CloudFront might refuse (this handshake does not show it): ";
        fd->cause = r->cause;
        an_text ft = an_text_at(fd->text, sizeof fd->text);
        an_text_str(&ft, lead);
        an_text_strn(&ft, m.summary, 440);
    }
}

static void run_rules(const analyzer *a, const tls_transcript *t, const an_facts *f, verdict *v,
                      bool quiet) {
    bool have_primary = false;
    bool ok = f->outcome == OUTCOME_SUCCEEDED;
    // A handshake that succeeded with some other client (a health checker, curl, a browser) but
    // whose certificate CloudFront would refuse is the 502 waiting to happen: name that cause
    // as primary, marked predicted. When CloudFront itself succeeded, the wire wins: findings only.
    bool predict = ok && f->profile->cloudfront && !v->client_is_cloudfront;
    if (ok && quiet) {
        // Quiet: a succeeded handshake's findings are not printed, so only the rules that can
        // turn it into a predicted failure run — the certificate rules that predict
        // (a->quiet_rules, in table order), and none when no prediction can be made or none of
        // them can match. Walking the whole table to skip the others was ~600 instructions a
        // handshake, and running the 13 rules without a chain or alert ~900.
        bool run = predict && an_cert_rules_may_match(f);
        for (uint32_t k = 0; run && k < a->num_quiet_rules; k++) {
            const rule *r = &an_rules[a->quiet_rules[k]];
            if (!(have_primary && (r->flags & CAUSE_F_FALLBACK))) {
                apply_rule(r, t, f, v, ok, predict, &have_primary);
            }
        }
    } else {
        // A succeeded handshake's certificate rules can match only when an_cert_rules_may_match
        // says so (the same gate as above, decided once): skip them otherwise.
        // A succeeded handshake walks only the rules that predict (a->ok_rules, in table
        // order), without the certificate rules when none can match (a->ok_plain_rules):
        // skipping the others in the whole table was ~600 instructions a handshake.
        bool certs = !ok || an_cert_rules_may_match(f);
        const uint16_t *list = certs ? a->ok_rules : a->ok_plain_rules;
        size_t n = !ok ? an_num_rules : certs ? a->num_ok_rules : a->num_ok_plain_rules;
        for (size_t i = 0; i < n; i++) {
            const rule *r = &an_rules[ok ? list[i] : i];
            if (r->fn == NULL || (!certs && (r->flags & CAUSE_F_CERT)) ||
                (have_primary && (r->flags & CAUSE_F_FALLBACK))) {
                continue;
            }
            apply_rule(r, t, f, v, ok, predict, &have_primary);
        }
    }
    if (ok && have_primary) {
        char text[VERDICT_TEXT];
        snprintf(text, sizeof text,
                 "CloudFront would refuse this (it succeeded with this client): %.400s",
                 v->summary);
        an_copy(v->summary, sizeof v->summary, text);
    } else if (ok) {
        v->cause = CAUSE_OK;
        v->confidence = CONF_HIGH;
        an_text st = an_text_at(v->summary, sizeof v->summary);
        an_text_str(&st, "the handshake completed (");
        an_text_str(&st, an_version_name(v->version));
        an_text_str(&st, ")");
    } else if (f->outcome == OUTCOME_NOT_TLS && !have_primary) {
        v->cause = CAUSE_NOT_TLS;
        v->confidence = CONF_HIGH;
        snprintf(
            v->summary, sizeof v->summary, "%s",
            t->tcp.bytes[0] || t->tcp.bytes[1]
                ? "the connection carried no TLS"
                : "the TCP connection closed without any payload (a port check or health probe)");
    } else if (!have_primary && f->outcome == OUTCOME_INCOMPLETE &&
               (t->quality.capture_ended || t->quality.evicted)) {
        // Nothing went wrong on the wire: the capture (or the flow table) stopped first.
        v->cause = CAUSE_CAPTURE_INCOMPLETE;
        v->confidence = CONF_HIGH;
        snprintf(v->summary, sizeof v->summary, "%s %s: nothing on the wire shows a failure",
                 t->quality.idle ? "the connection went quiet (no packet for the idle timeout of "
                                   "capture time)"
                 : t->quality.evicted ? "the connection was evicted from a full flow table"
                                      : "the capture ended before the handshake finished,",
                 v->failed_step);
    } else if (!have_primary) {
        v->cause = CAUSE_UNKNOWN;
        v->confidence = CONF_LOW;
        snprintf(
            v->summary, sizeof v->summary, "%s %s; no rule explains it (facts listed)",
            f->outcome == OUTCOME_FAILED ? "the handshake failed" : "the handshake did not finish",
            v->failed_step);
        char near[VERDICT_TEXT - 32], text[VERDICT_TEXT];
        an_closest_rules(t, f, near, sizeof near);
        snprintf(text, sizeof text, "closest rules: %s", near);
        verdict_add_finding(v, CAUSE_UNKNOWN, text);
    }
}

#define ARRAY_END(field) (offsetof(verdict, field) + sizeof(((verdict *)0)->field))

// clear_between zeroes the bytes of *v from offset `from` up to offset `to`.
static inline void clear_between(verdict *v, size_t from, size_t to) {
    memset((char *)v + from, 0, to - from);
}

// verdict_new: a verdict that reads as all-zero. The five counted arrays (evidence, fix,
// dead_ends, findings, certs: 51 of the 52 KB) are left uninitialised: only the entries below
// their counts are ever read, and each is written whole before its count grows. calloc of the
// whole verdict was the largest single cost per handshake (bench/RESULTS.md). So are the
// 512- and 256-byte strings summary, check_command, trust_store and capture_note, but for their
// first byte: they are read as C strings only (up to their NUL), and clearing them was 1.8 of
// the 2.7 KB still cleared per verdict. Sanitizer builds fill those arrays and the strings' tails
// with 0xA5 so that any reader relying on zeroed tails shows in the tests.
static verdict *verdict_new(analyzer *a) {
    verdict *v = a->spare;
    if (v) {
        a->spare = spare_next(v);
        a->nspare--;
    } else if (VERDICT_SPARE && atomic_load_explicit(&verdict_spare, memory_order_relaxed)) {
        v = atomic_exchange_explicit(&verdict_spare, NULL, memory_order_acq_rel);
    }
    if (!v) {
        v = malloc(sizeof *v);
    }
    if (!v) {
        return NULL;
    }
    clear_between(v, 0, offsetof(verdict, summary));
    clear_between(v, ARRAY_END(summary), offsetof(verdict, evidence));
    clear_between(v, ARRAY_END(evidence), offsetof(verdict, fix));
    clear_between(v, ARRAY_END(fix), offsetof(verdict, dead_ends));
    clear_between(v, ARRAY_END(dead_ends), offsetof(verdict, check_command));
    clear_between(v, ARRAY_END(check_command), offsetof(verdict, findings));
    clear_between(v, ARRAY_END(findings), offsetof(verdict, certs));
    clear_between(v, ARRAY_END(certs), offsetof(verdict, trust_store));
    clear_between(v, ARRAY_END(trust_store), offsetof(verdict, capture_note));
    clear_between(v, ARRAY_END(capture_note), sizeof *v);
#if defined(__SANITIZE_ADDRESS__) || defined(TLSDIAG_FUZZING)
    memset(v->evidence, 0xA5, sizeof v->evidence);
    memset(v->fix, 0xA5, sizeof v->fix);
    memset(v->dead_ends, 0xA5, sizeof v->dead_ends);
    memset(v->findings, 0xA5, sizeof v->findings);
    memset(v->certs, 0xA5, sizeof v->certs);
    memset(v->summary, 0xA5, sizeof v->summary);
    memset(v->check_command, 0xA5, sizeof v->check_command);
    memset(v->trust_store, 0xA5, sizeof v->trust_store);
    memset(v->capture_note, 0xA5, sizeof v->capture_note);
#endif
    v->summary[0] = '\0';
    v->check_command[0] = '\0';
    v->trust_store[0] = '\0';
    v->capture_note[0] = '\0';
    return v;
}

// add_prose: the evidence, findings, fix texts and check command of a verdict (what a report
// prints; a quiet succeeded handshake skips it).
static void add_prose(analyzer *a, const tls_transcript *t, const an_facts *f,
                      const an_chain *chain, verdict *v) {
    add_facts(t, f, v);
    capture_note(t, v);
    if (chain) {
        if (chain->extra_certs) {
            char text[VERDICT_TEXT];
            snprintf(text, sizeof text,
                     "the server sent %u certificate(s) that are not part of the chain: %.400s",
                     chain->extra_certs, chain->extra_text);
            verdict_add_finding(v, CAUSE_CERT_CHAIN_MISORDERED, text);
        }
        if (chain->now_text[0]) {
            verdict_add_finding(v, CAUSE_CERT_EXPIRED, chain->now_text);
        }
    }
    fill_texts(a, t, chain, f, v);
    // TLS 1.3 hides the Certificate: say what cannot be known and how to get certainty.
    if (!f->has_chain && v->version == 0x0304 && f->outcome == OUTCOME_FAILED &&
        f->aborted_by == PARTY_CLIENT) {
        char text[VERDICT_TEXT];
        snprintf(
            text, sizeof text,
            "TLS 1.3 encrypts the server's Certificate, so the chain cannot be checked from "
            "the wire; for certainty run tlsdiag probe, capture with SSLKEYLOGFILE, or: %.300s",
            v->check_command);
        verdict_add_finding(v, CAUSE_UNKNOWN, text);
    }
}

// judging_profile: the profile that judges t, and why (into v). The wire decides: a ClientHello
// from a CloudFront address shows which CloudFront policy sent it; --profile overrides.
static const an_profile *judging_profile(const analyzer *a, const tls_transcript *t, verdict *v) {
    const an_profile *p = &a->profile;
    if (a->profile_fixed) {
        an_copy(v->profile_why, sizeof v->profile_why, "set by --profile");
    } else if (!v->client_is_cloudfront || !t->ch.present) {
        an_copy(v->profile_why, sizeof v->profile_why,
                t->ch.present ? "the default profile (the client is not a CloudFront address)"
                              : "the default profile (no ClientHello)");
    } else {
        size_t i = 0;
        while (i < a->num_family && !an_profile_fits(&a->family[i], &t->ch)) {
            i++;
        }
        if (i < a->num_family) {
            p = &a->family[i];
            an_profile_why(p, &t->ch, v->profile_why, sizeof v->profile_why);
        } else {
            an_copy(v->profile_why, sizeof v->profile_why,
                    "the default profile (the ClientHello from a CloudFront address offers "
                    "something no CloudFront-Upstream policy in tlsdiag's data offers)");
        }
    }
    an_copy(v->profile, sizeof v->profile, p->name);
    return p;
}

verdict *analyzer_run(analyzer *a, const tls_transcript *t) {
    verdict *v = analyzer_judge(a, t);
    if (v) {
        analyzer_account(a, v);
    }
    return v;
}

verdict *analyzer_judge(analyzer *a, const tls_transcript *t) {
    verdict *v = verdict_new(a);
    if (!v) {
        return NULL;
    }
    fill_identity(a, t, v);
    an_facts f;
    memset(&f, 0, sizeof f);
    f.profile = judging_profile(a, t, v);
    f.cloudfront_client = v->client_is_cloudfront;
    decide_outcome(t, &f);
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->dir == TLS_DIR_S2C && e->kind >= TLS_EV_HANDSHAKE && e->kind <= TLS_EV_SSL2) {
            f.server_tls = true;
            f.server_first_frame = e->frame;
            break;
        }
    }
    const tls_event *ch = find_hs(t, TLS_DIR_C2S, 1);
    f.ch_ts_ns = ch ? ch->ts_ns : t->first_ts_ns;
    f.ch_frame = t->ch.frame;
    f.handshake_time = handshake_time(t);
    f.trust_store = a->trust_store;
    const an_chain *chain = NULL;
    if (t->cert.present && t->cert.num_stored > 0) {
        // X509_check_host compares C strings: an SNI with a NUL (or cut) is checked as a name
        // no certificate can carry, so it matches nothing instead of its first label.
        size_t kept = an_sni_kept(&t->ch);
        bool whole = kept == t->ch.sni_len && memchr(t->ch.sni, '\0', kept) == NULL;
        const char *name = !t->ch.has_sni ? NULL : whole ? t->ch.sni : "(SNI with a NUL byte)";
        if (!an_chain_analyze(a->cache, a->store, f.profile, &t->cert, name, f.handshake_time,
                              a->now, a->chain_scratch, &chain)) {
            free(v);
            return NULL;
        }
        f.has_chain = !chain->leaf_parse_error;
        f.chain = chain;
        v->cert_frame = t->cert.frame;
        copy_chain(chain, v);
        // CloudFront connects to fetch: when it completes the handshake and leaves without a
        // request, and the chain has a fault, the fault is why (s2n-tls sends no alert). Other
        // clients may have connected only to handshake (a health check), except that the name
        // is one they check after the handshake: curl (OpenSSL) completes it, then leaves on a
        // name that does not match ("no alternative certificate subject name matches").
        bool name_fault = chain->name_checked && !chain->name_ok;
        if (f.outcome == OUTCOME_SUCCEEDED && f.client_left_after_finished &&
            (f.cloudfront_client ? an_chain_fault(chain) : name_fault)) {
            f.outcome = OUTCOME_FAILED;
            f.aborted_by = PARTY_CLIENT;
        }
    }
    // Decoded only for a handshake that did not succeed: only client_cert_rejected names it, and
    // decoding every client certificate (OpenSSL's decoders) cost 35 % of the CPU on a capture
    // where 15 % of the connections present one.
    x509_info client_cert;
    if (f.outcome != OUTCOME_SUCCEEDED && t->client_cert.present && t->client_cert.num_stored > 0 &&
        an_x509_info(t->client_cert.certs[0].der, t->client_cert.certs[0].len, &client_cert)) {
        f.client_cert = &client_cert;
    }
    v->outcome = f.outcome;
    v->aborted_by =
        f.outcome == OUTCOME_FAILED || f.outcome == OUTCOME_INCOMPLETE ? f.aborted_by : PARTY_NONE;
    if (f.outcome != OUTCOME_SUCCEEDED) {
        failed_step(t, &f, v->failed_step, sizeof v->failed_step);
    }
    v->has_alert = f.has_alert;
    v->alert_sender = f.alert_sender;
    v->alert_level = f.alert_level;
    v->alert_desc = f.alert_desc;
    v->alert_frame = f.alert_frame;
    v->alert_encrypted = f.alert_encrypted;
    v->method = a->method;
    run_rules(a, t, &f, v, a->quiet_successes);
    if (!a->quiet_successes || verdict_is_failure(v)) {
        add_prose(a, t, &f, chain, v);
    }
    return v;
}

verdict *analyzer_run_ex(analyzer *a, const tls_transcript *t, verdict_method m) {
    a->method = m;
    verdict *v = analyzer_run(a, t);
    a->method = METHOD_PASSIVE;
    return v;
}

verdict *analyzer_check_chain(analyzer *a, const uint8_t *const *der, const uint32_t *lens,
                              uint32_t n, const char *sni, const tls_endpoint *server) {
    // A transcript of a handshake that completed with some client and sent this chain: the
    // certificate rules read only the chain and the SNI from it.
    tls_transcript *t = calloc(1, sizeof *t);
    verdict *v = t ? verdict_new(a) : NULL;
    if (!v) {
        free(t);
        return NULL;
    }
    t->end_reason = TLS_END_HANDSHAKE_DONE;
    t->is_tls = true;
    t->first_ts_ns = a->now * 1000000000LL;
    if (server) {
        t->server = *server;
    }
    t->ch.present = true;
    if (sni && sni[0] && strlen(sni) <= TLS_MAX_SNI_LEN) {
        t->ch.has_sni = true;
        t->ch.sni_len = (uint16_t)strlen(sni);
        memcpy(t->ch.sni, sni, t->ch.sni_len);
    }
    t->cert.present = n > 0;
    t->cert.num_certs = n;
    for (uint32_t i = 0; i < n && i < TLS_MAX_CERTS; i++) {
        t->cert.certs[i] = (tls_cert){der[i], lens[i]};
        t->cert.num_stored = i + 1;
    }
    t->cert.truncated = n > TLS_MAX_CERTS;
    fill_identity(a, t, v);
    an_facts f;
    memset(&f, 0, sizeof f);
    f.profile = &a->profile;
    f.outcome = OUTCOME_SUCCEEDED;
    f.server_tls = true;
    f.handshake_time = a->now;
    f.trust_store = a->trust_store;
    const an_chain *chain = NULL;
    if (t->cert.num_stored > 0) {
        if (!an_chain_analyze(a->cache, a->store, &a->profile, &t->cert, t->ch.has_sni ? sni : NULL,
                              a->now, a->now, a->chain_scratch, &chain)) {
            free(v);
            free(t);
            return NULL;
        }
        f.has_chain = !chain->leaf_parse_error;
        f.chain = chain;
        copy_chain(chain, v);
    }
    v->outcome = OUTCOME_SUCCEEDED;
    v->method = METHOD_CONFIG;
    v->cause = CAUSE_OK;
    v->confidence = CONF_HIGH;
    snprintf(v->summary, sizeof v->summary, "%s",
             chain ? "the certificate chain passes the profile's checks" : "no certificate");
    for (size_t i = 0; i < an_num_rules; i++) {
        const rule *r = &an_rules[i];
        if (r->fn == NULL || !(r->flags & CAUSE_F_CERT)) {
            continue;
        }
        rule_match m;
        memset(&m, 0, sizeof m);
        if (!r->fn(t, &f, &m)) {
            continue;
        }
        if (v->cause == CAUSE_OK && !m.finding_only) {
            v->cause = r->cause;
            v->predicted = true;  // no handshake failed: the profile's client would refuse it
            v->confidence = m.confidence;
            an_copy(v->summary, sizeof v->summary, m.summary);
            for (uint32_t k = 0; k < m.num_evidence; k++) {
                verdict_copy_evidence(v, &m.evidence[k]);
            }
        } else {
            verdict_add_finding(v, r->cause, m.summary);
        }
    }
    if (chain && chain->extra_certs) {
        char text[VERDICT_TEXT];
        snprintf(text, sizeof text, "%u certificate(s) that are not part of the chain: %.400s",
                 chain->extra_certs, chain->extra_text);
        verdict_add_finding(v, CAUSE_CERT_CHAIN_MISORDERED, text);
    }
    if (chain && chain->now_text[0]) {
        verdict_add_finding(v, CAUSE_CERT_EXPIRED, chain->now_text);
    }
    fill_texts(a, t, chain, &f, v);
    free(t);
    return v;
}
