// x509.c — the server's chain exactly as sent: decoding, OpenSSL validation at handshake time,
// and the precise certificate cause (self-signed, private CA, missing intermediate, order, ...).
//
// Validation follows what a TLS client without AIA fetching does (RFC 5280 §6, RFC 5246 §7.4.2:
// "sender's certificate MUST come first in the list. Each following certificate MUST directly
// certify the one preceding it"): untrusted = the certificates after the leaf, partial chains
// off, the time set to the handshake's second, no cache of intermediates across connections.
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze_internal.h"

enum {
    MAX_VERIFY_ERRORS = 32,
    CACHE_WAYS = 4,
    CACHE_SETS = AN_CHAIN_CACHE / CACHE_WAYS,
    // An analyzer's own cache in front of shared results: a miss there is a copy under the
    // lock, so it stays small (AN_CHAIN_FRONT results), and only the shared cache is the bound.
    CACHE_FRONT_SETS = AN_CHAIN_FRONT / CACHE_WAYS,
    CACHE_KEY = 65 + TLS_MAX_SNI_LEN + 32,
    EXPIRY_WARN_DAYS = 30,
};

// ---------------------------------------------------------------------------------------------
// Decoding one certificate into x509_info.
// ---------------------------------------------------------------------------------------------

// hex: lowercase hex of p, ':'-separated when colons. By hand: snprintf per byte showed up in
// the handshake benchmark (it runs for every connection's chain fingerprint).
static void hex(const uint8_t *p, size_t n, bool colons, char *out, size_t outlen) {
    static const char digits[] = "0123456789abcdef";
    size_t w = 0;
    for (size_t i = 0; i < n && w + ((colons && i) ? 3 : 2) < outlen; i++) {
        if (colons && i) {
            out[w++] = ':';
        }
        out[w++] = digits[p[i] >> 4];
        out[w++] = digits[p[i] & 0x0f];
    }
    if (outlen) {
        out[w < outlen ? w : outlen - 1] = '\0';
    }
}

// RFC 2253 string; XN_FLAG_RFC2253 escapes control bytes and non-ASCII as \XX.
static void name_str(const X509_NAME *n, char *out, size_t outlen) {
    out[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b) {
        return;
    }
    if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
        char *p = NULL;
        long len = BIO_get_mem_data(b, &p);
        if (len > 0) {
            size_t m = (size_t)len < outlen - 1 ? (size_t)len : outlen - 1;
            memcpy(out, p, m);
            out[m] = '\0';
        }
    }
    BIO_free(b);
}

static int64_t asn1_time_unix(const ASN1_TIME *t) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
        return 0;
    }
    return (int64_t)timegm(&tm);
}

// analyze_parse_rfc3339 (analyze.h): "2026-11-26T19:55:01Z", with optional fraction and ±hh:mm
// offset (RFC 3339 §5.6). Writes Unix seconds.
bool analyze_parse_rfc3339(const char *s, int64_t *out) {
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n != 19) {
        return false;
    }
    const char *p = s + n;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') {
            return false;
        }
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5 || oh > 23 || om > 59) {
            return false;
        }
        offset = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 1 + k;
    } else {
        return false;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
        return false;
    }
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm) - offset;
    return true;
}

// append_san adds one name to the comma-separated list, escaping bytes outside printable ASCII
// (and ',' and '\\', so that the list splits back into its names). A name that does not fit
// whole is left out — never cut — and the list is marked truncated; num_sans still counts it.
static void append_san(x509_info *xi, const unsigned char *s, int len) {
    if (xi->sans_truncated) {
        return;  // later names are left out too: the list stays in order
    }
    size_t w = strlen(xi->sans);
    size_t need = w ? 1 : 0;  // the comma
    for (int i = 0; i < len; i++) {
        need += s[i] < 0x20 || s[i] > 0x7e || s[i] == ',' || s[i] == '\\' ? 4 : 1;
    }
    if (w + need >= sizeof xi->sans) {
        xi->sans_truncated = true;
        return;
    }
    if (w) {
        xi->sans[w++] = ',';
    }
    for (int i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == ',' || s[i] == '\\') {
            snprintf(xi->sans + w, 5, "\\x%02x", s[i]);
            w += 4;
        } else {
            xi->sans[w++] = (char)s[i];
        }
    }
    xi->sans[w] = '\0';
    xi->num_sans_listed++;
}

void an_sans_fit(const x509_info *xi, size_t max, char *out, size_t outlen) {
    // Whole names only: copy up to the last comma that fits in max (and outlen), then say how
    // many were left out, counting those the certificate had beyond xi->sans.
    size_t n = strlen(xi->sans), keep = n, room = max < outlen ? max : outlen - 1;
    uint32_t shown = xi->num_sans_listed;
    if (n > room) {
        keep = 0;
        shown = 0;
        for (size_t i = 0; i <= room; i++) {
            if (xi->sans[i] == ',') {
                keep = i;
                shown++;
            }
        }
    }
    char tail[48] = "";
    if (shown < xi->num_sans) {
        snprintf(tail, sizeof tail, "%s\xe2\x80\xa6 and %u more", keep ? " " : "",
                 xi->num_sans - shown);
    }
    snprintf(out, outlen, "%.*s%s", (int)keep, xi->sans, tail);
}

static void fill_sans(X509 *x, x509_info *xi) {
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (!gens) {
        return;
    }
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS) {
            append_san(xi, ASN1_STRING_get0_data(g->d.dNSName), ASN1_STRING_length(g->d.dNSName));
            xi->num_sans++;
        } else if (g->type == GEN_IPADD) {
            char ip[64] = "";
            int n = ASN1_STRING_length(g->d.iPAddress);
            const unsigned char *p = ASN1_STRING_get0_data(g->d.iPAddress);
            if (n == 4) {
                snprintf(ip, sizeof ip, "IP:%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
            } else {
                snprintf(ip, sizeof ip, "IP:(%d bytes)", n);
            }
            append_san(xi, (const unsigned char *)ip, (int)strlen(ip));
            xi->num_sans++;
        }
    }
    GENERAL_NAMES_free(gens);
}

static void fill_key(X509 *x, x509_info *xi) {
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (!pk) {
        an_copy(xi->key_type, sizeof xi->key_type, "unknown");
        return;
    }
    xi->key_bits = (uint32_t)EVP_PKEY_get_bits(pk);
    switch (EVP_PKEY_get_base_id(pk)) {
        case EVP_PKEY_RSA:
            an_copy(xi->key_type, sizeof xi->key_type, "RSA");
            break;
        case EVP_PKEY_RSA_PSS:
            an_copy(xi->key_type, sizeof xi->key_type, "RSA-PSS");
            break;
        case EVP_PKEY_EC:
            an_copy(xi->key_type, sizeof xi->key_type, "EC");
            break;
        case EVP_PKEY_ED25519:
            an_copy(xi->key_type, sizeof xi->key_type, "Ed25519");
            break;
        case EVP_PKEY_ED448:
            an_copy(xi->key_type, sizeof xi->key_type, "Ed448");
            break;
        case EVP_PKEY_DSA:
            an_copy(xi->key_type, sizeof xi->key_type, "DSA");
            break;
        default:
            an_copy(xi->key_type, sizeof xi->key_type, "other");
            break;
    }
    size_t glen = 0;
    if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
        EVP_PKEY_get_group_name(pk, xi->curve, sizeof xi->curve, &glen) != 1) {
        xi->curve[0] = '\0';
    }
}

static void fill_info(X509 *x, uint32_t index, x509_info *xi) {
    memset(xi, 0, sizeof *xi);
    xi->index = index;
    name_str(X509_get_subject_name(x), xi->subject, sizeof xi->subject);
    name_str(X509_get_issuer_name(x), xi->issuer, sizeof xi->issuer);
    const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
    if (serial) {
        hex(serial->data, (size_t)serial->length, false, xi->serial, sizeof xi->serial);
    }
    xi->not_before = asn1_time_unix(X509_get0_notBefore(x));
    xi->not_after = asn1_time_unix(X509_get0_notAfter(x));
    fill_sans(x, xi);
    fill_key(x, xi);
    an_copy(xi->sig_alg, sizeof xi->sig_alg, OBJ_nid2ln(X509_get_signature_nid(x)));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1) {
        hex(md, mdlen, false, xi->sha256, sizeof xi->sha256);
    }
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
    if (ski) {
        hex(ski->data, (size_t)ski->length, true, xi->ski, sizeof xi->ski);
    }
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
    if (aki) {
        hex(aki->data, (size_t)aki->length, true, xi->aki, sizeof xi->aki);
    }
    xi->self_issued = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
    xi->self_signed = xi->self_issued && X509_verify(x, X509_get0_pubkey(x)) == 1;
    xi->is_ca = (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
}

bool an_x509_info(const uint8_t *der, uint32_t len, x509_info *out) {
    const unsigned char *p = der;
    X509 *x = der ? d2i_X509(NULL, &p, (long)len) : NULL;
    if (!x) {
        return false;
    }
    fill_info(x, 0, out);
    X509_free(x);
    return true;
}

// ---------------------------------------------------------------------------------------------
// Verification with every error collected (the callback lets OpenSSL continue past each one).
// ---------------------------------------------------------------------------------------------
typedef struct verify_result {
    bool ok;
    uint32_t n;
    int code[MAX_VERIFY_ERRORS];
    int depth[MAX_VERIFY_ERRORS];
    STACK_OF(X509) * chain;  // built chain (owned: sk_X509_pop_free)
} verify_result;

static int collect_cb(int ok, X509_STORE_CTX *ctx) {
    verify_result *r = X509_STORE_CTX_get_app_data(ctx);
    if (!ok && r->n < MAX_VERIFY_ERRORS) {
        r->code[r->n] = X509_STORE_CTX_get_error(ctx);
        r->depth[r->n] = X509_STORE_CTX_get_error_depth(ctx);
        r->n++;
    }
    return 1;  // keep going: we want every problem, not only the first
}

// run_verify verifies leaf with untrusted = certs except leaf, at time `when`.
static bool run_verify(X509_STORE *store, X509 *leaf, X509 **certs, uint32_t n, int64_t when,
                       verify_result *r) {
    memset(r, 0, sizeof *r);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    bool done = false;
    if (ctx && untrusted) {
        for (uint32_t i = 0; i < n; i++) {
            if (certs[i] && certs[i] != leaf && !sk_X509_push(untrusted, certs[i])) {
                goto out;
            }
        }
        if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
            goto out;
        }
        X509_STORE_CTX_set_app_data(ctx, r);
        X509_STORE_CTX_set_verify_cb(ctx, collect_cb);
        X509_STORE_CTX_set_time(ctx, 0, (time_t)when);
        X509_VERIFY_PARAM_clear_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_PARTIAL_CHAIN);
        int rc = X509_verify_cert(ctx);
        r->ok = rc == 1 && r->n == 0;
        r->chain = X509_STORE_CTX_get1_chain(ctx);
        done = true;
    }
out:
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    return done;
}

static bool has_error(const verify_result *r, int code, int *depth) {
    for (uint32_t i = 0; i < r->n; i++) {
        if (r->code[i] == code) {
            if (depth) {
                *depth = r->depth[i];
            }
            return true;
        }
    }
    return false;
}

static int sent_index(X509 *const *certs, uint32_t n, X509 *x) {
    for (uint32_t i = 0; i < n; i++) {
        if (certs[i] && X509_cmp(certs[i], x) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static void cn_of(X509 *x, char *out, size_t outlen) {
    char s[512];
    name_str(X509_get_subject_name(x), s, sizeof s);
    an_copy(out, outlen, s);
}

// check_order: the certificates of the built chain that the server sent must come first, in
// chain order (leaf, its issuer, ...). Anything sent that is not in the chain is "extra". A
// profile with leaf_first_only asks only that the leaf come first: s2n-tls takes the first
// certificate as the leaf and hands the rest to X509_verify_cert as an unordered pool
// (tls/s2n_x509_validator.c:642 and :649, s2n-tls 8cbf81a), which builds the path in any order.
static void check_order(const verify_result *r, X509 *const *certs, uint32_t n, const an_profile *p,
                        an_chain *out) {
    int chain_len = r->chain ? sk_X509_num(r->chain) : 0;
    int expect = 0;
    bool wrong = false;
    char order[VERDICT_TEXT] = "";
    bool used[TLS_MAX_CERTS] = {false};
    for (int d = 0; d < chain_len; d++) {
        X509 *c = sk_X509_value(r->chain, d);
        int idx = sent_index(certs, n, c);
        if (idx < 0) {
            continue;
        }
        used[idx] = true;
        if (idx != expect) {
            wrong = true;
        }
        expect++;
        char cn[200];
        cn_of(c, cn, sizeof cn);
        size_t w = strlen(order);
        snprintf(order + w, sizeof order - w, "%s%u:'%s'", w ? ", then " : "", (unsigned)idx, cn);
    }
    if (wrong && p->leaf_first_only && chain_len > 0 &&
        sent_index(certs, n, sk_X509_value(r->chain, 0)) == 0) {
        wrong = false;
        out->intermediates_unordered = true;
    }
    out->misordered = wrong;
    if (wrong || out->intermediates_unordered) {
        snprintf(out->right_order, sizeof out->right_order, "sent position %s", order);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (certs[i] && !used[i]) {
            out->extra_certs++;
            char cn[200];
            cn_of(certs[i], cn, sizeof cn);
            size_t w = strlen(out->extra_text);
            snprintf(out->extra_text + w, sizeof out->extra_text - w, "%s#%u '%s'", w ? "; " : "",
                     (unsigned)i, cn);
        }
    }
}

// sig_md_nid returns the digest NID of x's signature (NID_undef when none, e.g. Ed25519).
static int sig_md_nid(const X509 *x) {
    int md = NID_undef, pk = NID_undef;
    if (!OBJ_find_sigid_algs(X509_get_signature_nid(x), &md, &pk)) {
        return NID_undef;
    }
    return md;
}

// weak_keys_and_sigs: the first key p calls weak (into *key, key_text) and the first
// signature (SHA-1 unless p->cert_sha1, MD5) it calls weak (into *sig, sig_text).
static void weak_keys_and_sigs(X509 *const *certs, uint32_t n, const an_profile *p,
                               const an_chain *chain, bool *key, char *key_text, bool *sig,
                               char *sig_text) {
    for (uint32_t i = 0; i < n && i < VERDICT_MAX_CERTS; i++) {
        const x509_info *xi = &chain->certs[i];
        if (!certs[i] || xi->self_signed) {
            continue;  // a root's self-signature and key are the trust store's business
        }
        const char *who = i == 0 ? "leaf" : "intermediate";
        char why[200] = "";
        if (strcmp(xi->key_type, "RSA") == 0 && xi->key_bits < p->rsa_min_bits) {
            snprintf(why, sizeof why, "%s key is RSA-%u (minimum %u)", who, xi->key_bits,
                     p->rsa_min_bits);
        } else if (i == 0 && strcmp(xi->key_type, "RSA") == 0 && p->rsa_max_bits &&
                   xi->key_bits > p->rsa_max_bits) {
            snprintf(why, sizeof why,
                     "leaf key is RSA-%u: above %u bits, which %s is believed to refuse [INF]",
                     xi->key_bits, p->rsa_max_bits, p->name);
        } else if (i == 0 && strcmp(xi->key_type, "EC") == 0 &&
                   !an_profile_has_curve(p, xi->curve)) {
            snprintf(why, sizeof why, "leaf key is EC on curve %s, which %s does not accept",
                     xi->curve[0] ? xi->curve : "(unnamed)", p->name);
        } else if (i == 0 && p->cloudfront &&
                   (strcmp(xi->key_type, "Ed25519") == 0 || strcmp(xi->key_type, "Ed448") == 0 ||
                    strcmp(xi->key_type, "DSA") == 0)) {
            snprintf(why, sizeof why, "leaf key is %s, which %s does not accept", xi->key_type,
                     p->name);
        }
        if (why[0] && !*key) {
            *key = true;
            an_copy(key_text, VERDICT_TEXT, why);
        }
        int md = sig_md_nid(certs[i]);
        if (((md == NID_sha1 && !p->cert_sha1) || md == NID_md5) && !*sig) {
            *sig = true;
            snprintf(sig_text, VERDICT_TEXT, "%s #%u '%.200s' is signed with %s", who, (unsigned)i,
                     xi->subject, xi->sig_alg);
        }
    }
}

// check_keys_and_sigs: weak for p, and weak at OpenSSL's default security level (Debian's 2:
// RSA and DH from 2048 bits, no SHA-1), which the clients that refuse with an alert apply.
static void check_keys_and_sigs(X509 *const *certs, uint32_t n, const an_profile *p,
                                an_chain *out) {
    weak_keys_and_sigs(certs, n, p, out, &out->weak_key, out->weak_key_text, &out->weak_signature,
                       out->weak_sig_text);
    an_profile seclevel = *p;
    if (seclevel.rsa_min_bits < 2048) {
        seclevel.rsa_min_bits = 2048;
    }
    seclevel.cert_sha1 = false;
    weak_keys_and_sigs(certs, n, &seclevel, out, &out->seclevel_weak_key, out->seclevel_key_text,
                       &out->seclevel_weak_signature, out->seclevel_sig_text);
}

static void check_now(const x509_info *leaf, int64_t when, int64_t now, an_chain *out) {
    if (leaf->not_after == 0 || leaf->not_after < when) {
        return;  // already a handshake-time problem
    }
    if (leaf->not_after < now) {
        snprintf(out->now_text, sizeof out->now_text,
                 "the leaf was valid at handshake time, but has expired since (notAfter %lld)",
                 (long long)leaf->not_after);
    } else if ((leaf->not_after - now) / 86400 < EXPIRY_WARN_DAYS) {
        snprintf(out->now_text, sizeof out->now_text, "the leaf expires in %lld days",
                 (long long)((leaf->not_after - now) / 86400));
    }
}

// ca_issuers_url writes the first caIssuers URI of x's Authority Information Access (RFC 5280
// §4.2.2.1): where the CA that issued x publishes its certificate ("" when none).
static void ca_issuers_url(X509 *x, char *out, size_t outlen) {
    out[0] = '\0';
    AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
    for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers && ad->location->type == GEN_URI) {
            const ASN1_IA5STRING *u = ad->location->d.uniformResourceIdentifier;
            size_t m = (size_t)u->length < outlen - 1 ? (size_t)u->length : outlen - 1;
            for (size_t k = 0; k < m; k++) {  // printable ASCII only: it ends up in prose
                out[k] = u->data[k] >= 0x21 && u->data[k] < 0x7f ? (char)u->data[k] : '?';
            }
            out[m] = '\0';
            break;
        }
    }
    AUTHORITY_INFO_ACCESS_free(aia);
}

// store_has_subject: does the trust store hold a certificate whose subject name hashes to hash?
// Locked: another thread's verification may add certificates from a CA directory meanwhile.
static bool store_has_subject(X509_STORE *store, const char *hash) {
    bool found = false;
    if (!store || X509_STORE_lock(store) != 1) {
        return false;
    }
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
    for (int i = 0; objs && i < sk_X509_OBJECT_num(objs) && !found; i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        char h[16];
        if (x) {
            snprintf(h, sizeof h, "%08lx",
                     X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, NULL));
            found = strcmp(h, hash) == 0;
        }
    }
    (void)X509_STORE_unlock(store);
    return found;
}

// name_the_issuer: top's issuer is neither sent nor trusted. The public-intermediate index
// tells a public intermediate the server left out (cert_missing_intermediate, whatever top is)
// from an issuer nobody knows; the chain itself is never completed from the index.
static void name_the_issuer(X509_STORE *store, X509 *top, const ASN1_OCTET_STRING *aki,
                            an_chain *out) {
    char keyid[64] = "", name_hash[16];
    if (aki) {
        hex(aki->data, (size_t)aki->length, false, keyid, sizeof keyid);
    }
    snprintf(name_hash, sizeof name_hash, "%08lx",
             X509_NAME_hash_ex(X509_get_issuer_name(top), NULL, NULL, NULL));
    ca_issuers_url(top, out->issuer_url, sizeof out->issuer_url);
    an_public_ca pub;
    if (!an_public_ca_find(keyid, name_hash, &pub)) {
        out->issuer_unknown = true;
        return;
    }
    // Public, but only a fix when it leads to a root of the store: follow the index upwards
    // (cross-signed roots are listed too) a few steps.
    an_public_ca up = pub;
    bool reaches = store_has_subject(store, up.issuer_hash);
    for (int step = 0; step < 3 && !reaches && an_public_ca_find(NULL, up.issuer_hash, &up);
         step++) {
        reaches = store_has_subject(store, up.issuer_hash);
    }
    if (!reaches) {
        out->issuer_listed = true;
        an_copy(out->issuer_parent, sizeof out->issuer_parent, pub.issuer);
        return;
    }
    {
        out->issuer_public = true;
        out->missing_intermediate = true;
        out->untrusted_ca = false;
        out->untrusted_root[0] = '\0';
        name_str(X509_get_issuer_name(top), out->missing_issuer, sizeof out->missing_issuer);
        an_copy(out->issuer_parent, sizeof out->issuer_parent, pub.issuer);
    }
}

// classify turns the verification errors into the flags of an_chain.
static void classify(X509_STORE *store, const verify_result *r, X509 *const *certs, uint32_t n,
                     int64_t when, an_chain *out) {
    out->verified = r->ok;
    out->verify_code = r->n ? r->code[0] : X509_V_OK;
    an_copy(out->verify_error, sizeof out->verify_error,
            r->n ? X509_verify_cert_error_string(r->code[0]) : "ok");
    const x509_info *leaf = &out->certs[0];
    out->self_signed =
        leaf->self_signed && has_error(r, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, NULL);
    int chain_len = r->chain ? sk_X509_num(r->chain) : 0;
    X509 *top = chain_len ? sk_X509_value(r->chain, chain_len - 1) : NULL;
    if (has_error(r, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, NULL) && top) {
        out->untrusted_ca = true;
        name_str(X509_get_subject_name(top), out->untrusted_root, sizeof out->untrusted_root);
    }
    if ((has_error(r, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, NULL) ||
         has_error(r, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, NULL)) &&
        top && !out->self_signed) {
        // The issuer of the top certificate is nowhere. When the top is the leaf, the server
        // left out its intermediate. When the top is an intermediate the server did send, its
        // issuer is a root — and roots are never needed on the wire (RFC 5246 §7.4.2), so a
        // root the store lacks means a private CA.
        bool top_is_sent_ca = chain_len > 1 && (X509_get_extension_flags(top) & EXFLAG_CA) &&
                              sent_index(certs, n, top) > 0;
        char issuer[512];
        name_str(X509_get_issuer_name(top), issuer, sizeof issuer);
        if (top_is_sent_ca) {
            out->untrusted_ca = true;
            an_copy(out->untrusted_root, sizeof out->untrusted_root, issuer);
        } else {
            out->missing_intermediate = true;
            an_copy(out->missing_issuer, sizeof out->missing_issuer, issuer);
        }
        const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(top);
        if (aki) {
            hex(aki->data, (size_t)aki->length, true, out->missing_aki, sizeof out->missing_aki);
        }
        name_the_issuer(store, top, aki, out);
    }
    out->leaf_expired = leaf->not_after && leaf->not_after < when;
    out->leaf_not_yet_valid = leaf->not_before > when;
    // An expired CA certificate counts only when it is one the server sent and the chain uses.
    for (int d = 1; d < chain_len; d++) {
        X509 *c = sk_X509_value(r->chain, d);
        int idx = sent_index(certs, n, c);
        if (idx > 0 && (X509_cmp_time(X509_get0_notAfter(c), &(time_t){(time_t)when}) < 0 ||
                        X509_cmp_time(X509_get0_notBefore(c), &(time_t){(time_t)when}) > 0)) {
            out->intermediate_expired = true;
            out->intermediate_index = (uint32_t)idx;
            break;
        }
    }
}

// analyze_uncached does the whole job for one chain; out->num_certs etc. already set.
static bool analyze_uncached(X509_STORE *store, const an_profile *p, const tls_certificate *cert,
                             const char *sni, int64_t when, int64_t now, an_chain *out) {
    X509 *certs[TLS_MAX_CERTS] = {NULL};
    uint32_t n = cert->num_stored < TLS_MAX_CERTS ? cert->num_stored : TLS_MAX_CERTS;
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *der = cert->certs[i].der;
        certs[i] = der ? d2i_X509(NULL, &der, (long)cert->certs[i].len) : NULL;
        if (i < VERDICT_MAX_CERTS) {
            if (certs[i]) {
                fill_info(certs[i], i, &out->certs[i]);
            } else {
                memset(&out->certs[i], 0, sizeof out->certs[i]);
                out->certs[i].index = i;
                out->certs[i].parse_error = true;
            }
            out->num_info = i + 1;
        }
    }
    bool ok = true;
    if (!certs[0]) {
        out->leaf_parse_error = true;
        an_copy(out->verify_error, sizeof out->verify_error,
                "leaf certificate could not be parsed");
        goto done;
    }
    verify_result r;
    if (!run_verify(store, certs[0], certs, n, when, &r)) {
        ok = false;
        goto done;
    }
    classify(store, &r, certs, n, when, out);
    if (!out->missing_intermediate && !out->untrusted_ca && !out->self_signed) {
        check_order(&r, certs, n, p, out);
    }
    // A CA certificate first and the real leaf later: verify again from the real leaf to see
    // whether the set would verify in the right order.
    if (out->certs[0].is_ca && (out->missing_intermediate || out->untrusted_ca)) {
        for (uint32_t j = 1; j < n; j++) {
            if (certs[j] && !(X509_get_extension_flags(certs[j]) & EXFLAG_CA)) {
                verify_result r2;
                if (run_verify(store, certs[j], certs, n, when, &r2) && r2.ok) {
                    out->misordered = true;
                    out->missing_intermediate = out->untrusted_ca = false;
                    out->issuer_public = out->issuer_unknown = false;
                    char cn[200];
                    cn_of(certs[j], cn, sizeof cn);
                    snprintf(out->right_order, sizeof out->right_order,
                             "the leaf '%s' (sent at position %u) must come first", cn,
                             (unsigned)j);
                }
                sk_X509_pop_free(r2.chain, X509_free);
                break;
            }
        }
    }
    sk_X509_pop_free(r.chain, X509_free);
    if (sni && sni[0]) {
        out->name_checked = true;
        // RFC 6125 §6.4.3: wildcard only as the whole left-most label; CN only without DNS SANs
        // (OpenSSL's default unless X509_CHECK_FLAG_NEVER_CHECK_SUBJECT).
        out->name_ok = X509_check_host(certs[0], sni, strlen(sni),
                                       X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
    }
    out->wrong_purpose = X509_check_purpose(certs[0], X509_PURPOSE_SSL_SERVER, 0) != 1;
    check_keys_and_sigs(certs, n, p, out);
    check_now(&out->certs[0], when, now, out);
done:
    for (uint32_t i = 0; i < n; i++) {
        X509_free(certs[i]);
    }
    return ok;
}

// ---------------------------------------------------------------------------------------------
// Cache: same chain + SNI + hour → same result. Set-associative, LRU within a set.
// ---------------------------------------------------------------------------------------------
typedef struct cache_entry {
    char key[CACHE_KEY];
    uint64_t used;  // 0: empty
    uint64_t gen;   // the cache's gen when key, result or span were last written (memo_link)
    an_chain *result;
    int64_t lo, hi;  // the result holds for handshake times in [lo, hi) (see validity_span)
} cache_entry;

// validity_span: the interval around `when` in which no certificate of the chain starts or
// stops being valid. Within an hour bucket a certificate can still expire (or begin): a result
// cached before that second must not answer for a handshake after it, or the verdict would
// depend on which connection came first (and, with --threads, on which worker saw it first).
// Both readings of each boundary second count (OpenSSL: expired at notAfter; the analyzer's
// own check: after it).
static void validity_span(const an_chain *c, int64_t when, int64_t *lo, int64_t *hi) {
    *lo = INT64_MIN;
    *hi = INT64_MAX;
    for (uint32_t i = 0; i < c->num_info && i < VERDICT_MAX_CERTS; i++) {
        int64_t b[2] = {c->certs[i].not_before, c->certs[i].not_after};
        for (int k = 0; k < 4; k++) {
            int64_t edge = b[k / 2];
            if (k % 2 == 1) {
                if (edge == INT64_MAX) {
                    continue;
                }
                edge++;
            }
            if (edge <= when && edge > *lo) {
                *lo = edge;
            } else if (edge > when && edge < *hi) {
                *hi = edge;
            }
        }
    }
}

// The chain's SHA-256 is remembered by the chain's bytes (compared in full on a hit): hashing
// every connection's chain was the largest cost left in the analyzer (bench/RESULTS.md). Each
// remembered chain also links to the cache entries of its last (SNI, hour) pairs, so that a
// repeated handshake finds its result with one compare of the bytes and of the SNI, without
// computing and hashing the text key (a hit: ~4.7 k instructions before, ~0.66 k now, of which
// the memcmp of the ~5.6 KB chain is 0.3 k; bench/NOTES.md round 5).
enum { DIGEST_MEMO = 16, DIGEST_MEMO_MAX = 32768, MEMO_LINKS = 4 };

// memo_link: the entry that held the result for (these bytes, sni, hour) when it was linked;
// still that result only while the entry's gen is the one seen then.
typedef struct memo_link {
    cache_entry *e;  // NULL: none
    uint64_t gen;
    int64_t hour;
    char sni[TLS_MAX_SNI_LEN + 1];
} memo_link;

typedef struct digest_memo {
    uint32_t n;  // certificates; 0: empty slot
    uint32_t lens[TLS_MAX_CERTS];
    size_t total;
    uint8_t *bytes;  // the DERs, concatenated (owned)
    char hex[65];
    uint32_t next_link;  // the link replaced next (round robin)
    memo_link link[MEMO_LINKS];
} digest_memo;

static uint32_t fnv1a(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h = (h ^ (uint8_t)*s) * 16777619u;
    }
    return h;
}

// cache_sets: the results by key, nsets * CACHE_WAYS at most (each allocated when first used).
typedef struct cache_sets {
    uint64_t tick, gen;
    uint32_t nsets;    // sets in use, ≤ CACHE_SETS (fixed)
    uint64_t evicted;  // results dropped for another key: the capacity bound engaged
    cache_entry e[CACHE_SETS][CACHE_WAYS];
} cache_sets;

static void sets_free(cache_sets *c) {
    for (size_t s = 0; s < CACHE_SETS; s++) {
        for (size_t w = 0; w < CACHE_WAYS; w++) {
            free(c->e[s][w].result);
        }
    }
}

// sets_find: key's entry that holds for a handshake at `when`, marked as used; NULL when none.
static cache_entry *sets_find(cache_sets *c, const char *key, int64_t when) {
    cache_entry *set = c->e[fnv1a(key) % c->nsets];
    for (size_t w = 0; w < CACHE_WAYS; w++) {
        if (set[w].used && when >= set[w].lo && when < set[w].hi && strcmp(set[w].key, key) == 0) {
            set[w].used = ++c->tick;
            return &set[w];
        }
    }
    return NULL;
}

// sets_put stores a copy of r, the result for a handshake at `when`, under key: in place of the
// same key with another validity span, else of the least recently used (counted in evicted).
// Returns the entry; NULL when out of memory (the result is still correct, only not remembered).
static cache_entry *sets_put(cache_sets *c, const char *key, const an_chain *r, int64_t when) {
    cache_entry *set = c->e[fnv1a(key) % c->nsets];
    size_t victim = 0;
    for (size_t w = 1; w < CACHE_WAYS; w++) {
        if (set[w].used < set[victim].used) {
            victim = w;
        }
    }
    bool same = false;
    for (size_t w = 0; w < CACHE_WAYS; w++) {
        if (set[w].used && strcmp(set[w].key, key) == 0) {
            victim = w;
            same = true;
        }
    }
    cache_entry *e = &set[victim];
    if (!e->result) {
        e->result = malloc(sizeof(an_chain));
    }
    if (!e->result) {
        return NULL;
    }
    c->evicted += e->used && !same;
    an_copy(e->key, sizeof e->key, key);
    *e->result = *r;
    e->used = ++c->tick;
    e->gen = ++c->gen;
    validity_span(r, when, &e->lo, &e->hi);
    return e;
}

// memo_find: the entry m links to for (sni, hour) that holds at `when`, marked as used in c;
// NULL when none. m's bytes are the handshake's: the entry's key is (m->hex, hour, sni).
static const cache_entry *memo_find(digest_memo *m, cache_sets *c, const char *sni, int64_t hour,
                                    int64_t when) {
    for (size_t i = 0; i < MEMO_LINKS; i++) {
        const memo_link *l = &m->link[i];
        if (l->e && l->gen == l->e->gen && l->hour == hour && when >= l->e->lo && when < l->e->hi &&
            strcmp(l->sni, sni) == 0) {
            l->e->used = ++c->tick;
            return l->e;
        }
    }
    return NULL;
}

// memo_link_set: m's bytes with (sni, hour) have their result in e (NULL m or e: nothing).
static void memo_link_set(digest_memo *m, cache_entry *e, const char *sni, int64_t hour) {
    if (!m || !e) {
        return;
    }
    memo_link *l = &m->link[m->next_link++ % MEMO_LINKS];
    l->e = e;
    l->gen = e->gen;
    l->hour = hour;
    an_copy(l->sni, sizeof l->sni, sni);
}

// One analyzer's cache: its results are handed out in place (no copy, no lock), in front of
// the results shared with the other analyzers of the run, if any (then it is small: a miss
// here costs a copy under the lock, not a verification).
struct an_chain_cache {
    cache_sets sets;
    digest_memo dm[DIGEST_MEMO];
    an_chain_shared *shared;  // borrowed; NULL: none
};

// The results shared by the analyzers of a run (analyzer_shared). Lock rule: `lock` is fixed
// once made; every other field is read and written only between lock.lock and lock.unlock
// (shared_claim, shared_put, an_chain_shared_counts), and a result is copied in or out while
// the lock is held, so no pointer into this struct outlives the unlock.
// A key being verified is marked in `pending` (with lock.wait, when the caller gave one): an
// analyzer that misses it waits for that result instead of verifying the chain too (several
// workers meet the same chains at the start of a run). The marker is removed however the
// verification ends (shared_put), and a waiter that still finds no result verifies itself.
enum { SHARED_PENDING = 64, SHARED_FOUND = -2, SHARED_UNMARKED = -1 };

struct an_chain_shared {
    analyzer_lock lock;                       // (fixed)
    cache_sets sets;                          // (lock)
    char pending[SHARED_PENDING][CACHE_KEY];  // keys being verified, "": free (lock)
    uint64_t verified;                        // results stored (lock)
    uint64_t answered;                        // lookups answered (lock)
    uint64_t waited;                          // waits for another's verification (lock)
};

an_chain_cache *an_chain_cache_new(an_chain_shared *shared) {
    an_chain_cache *c = calloc(1, sizeof(an_chain_cache));
    if (c) {
        c->shared = shared;
        c->sets.nsets = shared ? CACHE_FRONT_SETS : CACHE_SETS;
    }
    return c;
}

void an_chain_cache_free(an_chain_cache *c) {
    if (!c) {
        return;
    }
    sets_free(&c->sets);
    for (size_t i = 0; i < DIGEST_MEMO; i++) {
        free(c->dm[i].bytes);
    }
    free(c);
}

uint64_t an_chain_cache_dropped(an_chain_cache *c) {
    if (c->shared) {
        analyzer_shared_counts k;
        an_chain_shared_counts(c->shared, &k);
        return k.dropped;
    }
    return c->sets.evicted;
}

an_chain_shared *an_chain_shared_new(const analyzer_lock *lock) {
    an_chain_shared *s = calloc(1, sizeof *s);
    if (s) {
        s->lock = *lock;
        s->sets.nsets = CACHE_SETS;
    }
    return s;
}

void an_chain_shared_free(an_chain_shared *s) {
    if (!s) {
        return;
    }
    sets_free(&s->sets);
    free(s);
}

void an_chain_shared_counts(an_chain_shared *s, analyzer_shared_counts *out) {
    s->lock.lock(s->lock.user);
    out->verified = s->verified;
    out->answered = s->answered;
    out->waited = s->waited;
    out->dropped = s->sets.evicted;
    s->lock.unlock(s->lock.user);
}

// shared_claim copies the shared result for key at `when` into *out (SHARED_FOUND), or marks
// key as being verified by the caller (the marker's index, for shared_put), waiting first while
// another analyzer verifies it; SHARED_UNMARKED (*out untouched) when the caller verifies
// without a marker (no lock.wait, or every marker taken).
static int shared_claim(an_chain_shared *s, const char *key, int64_t when, an_chain *out) {
    s->lock.lock(s->lock.user);
    int r = SHARED_UNMARKED;
    for (;;) {
        const cache_entry *e = sets_find(&s->sets, key, when);
        if (e) {
            *out = *e->result;
            s->answered++;
            r = SHARED_FOUND;
            break;
        }
        if (!s->lock.wait) {
            break;
        }
        int free_slot = SHARED_UNMARKED;
        bool pending = false;
        for (int i = 0; i < SHARED_PENDING && !pending; i++) {
            if (!s->pending[i][0]) {
                free_slot = free_slot < 0 ? i : free_slot;
            } else {
                pending = strcmp(s->pending[i], key) == 0;
            }
        }
        if (!pending) {
            if (free_slot >= 0) {
                an_copy(s->pending[free_slot], CACHE_KEY, key);
            }
            r = free_slot;
            break;
        }
        s->waited++;
        s->lock.wait(s->lock.user);  // until a shared_put; then look again
    }
    s->lock.unlock(s->lock.user);
    return r;
}

// shared_put stores a copy of r, just verified for a handshake at `when`, for the others (r
// NULL: the verification failed, nothing is stored), and removes the caller's marker `slot`
// (from shared_claim), waking the analyzers that wait for it.
static void shared_put(an_chain_shared *s, const char *key, const an_chain *r, int64_t when,
                       int slot) {
    s->lock.lock(s->lock.user);
    if (r) {
        (void)sets_put(&s->sets, key, r, when);
        s->verified++;
    }
    if (slot >= 0) {
        s->pending[slot][0] = '\0';
        s->lock.wake(s->lock.user);
    }
    s->lock.unlock(s->lock.user);
}

// SHA-256 fetched once (EVP_sha256() in EVP_DigestInit_ex fetches it on every call).
static pthread_once_t chain_md_once = PTHREAD_ONCE_INIT;
static EVP_MD *chain_sha256_md;

static void chain_md_init(void) {
    chain_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *chain_md(void) {
    (void)pthread_once(&chain_md_once, chain_md_init);
    return chain_sha256_md ? chain_sha256_md : EVP_sha256();
}

static void chain_digest(const tls_certificate *cert, char out[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    out[0] = '\0';
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, chain_md(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return;
    }
    for (uint32_t i = 0; i < cert->num_stored && i < TLS_MAX_CERTS; i++) {
        if (cert->certs[i].der &&
            EVP_DigestUpdate(ctx, cert->certs[i].der, cert->certs[i].len) != 1) {
            EVP_MD_CTX_free(ctx);
            return;
        }
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) == 1) {
        hex(md, mdlen, false, out, 65);
    }
    EVP_MD_CTX_free(ctx);
}

// chain_bytes_hash: which memo slot a chain goes to, from its shape (certificates, lengths) and
// each certificate's last 32 bytes (the end of its signature: what differs most between two
// certificates). It reads ~40 bytes a certificate, not all of them (hashing every byte was 2.2 k
// instructions a handshake): the slot's bytes are then compared in full, so chains that share
// these bytes only cost each other a memo miss, never a wrong result.
static uint64_t chain_bytes_hash(const tls_certificate *cert, uint32_t n, size_t *total) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    *total = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *b = cert->certs[i].der;
        size_t len = b ? cert->certs[i].len : 0;
        *total += len;
        h = (h ^ len) * 0xff51afd7ed558ccdull;
        uint64_t w[4] = {0, 0, 0, 0};
        if (len >= sizeof w) {
            memcpy(w, b + (len - sizeof w), sizeof w);  // one fixed-size load, not a call
        } else if (len) {
            memcpy(w, b, len);
        }
        for (size_t j = 0; j < 4; j++) {
            h = (h ^ w[j]) * 0xff51afd7ed558ccdull;
            h ^= h >> 31;
        }
    }
    return h;
}

// chain_digest_memo: chain_digest, through the cache's memo when there is a cache. Returns the
// memo slot that now holds exactly these bytes (NULL: none; its links are cleared when it is
// given other bytes); on a hit, out is left for the caller to take from m->hex when needed.
static digest_memo *chain_digest_memo(an_chain_cache *cache, const tls_certificate *cert,
                                      char out[65], bool *hit_out) {
    uint32_t n = cert->num_stored < TLS_MAX_CERTS ? cert->num_stored : TLS_MAX_CERTS;
    *hit_out = false;
    if (!cache || n == 0) {
        chain_digest(cert, out);
        return NULL;
    }
    size_t total;
    uint64_t h = chain_bytes_hash(cert, n, &total);
    digest_memo *m = &cache->dm[h % DIGEST_MEMO];
    bool hit = m->n == n && m->total == total;
    size_t off = 0;
    for (uint32_t i = 0; hit && i < n; i++) {
        uint32_t len = cert->certs[i].der ? cert->certs[i].len : 0;
        hit =
            m->lens[i] == len && (len == 0 || memcmp(m->bytes + off, cert->certs[i].der, len) == 0);
        off += len;
    }
    *hit_out = hit;
    if (hit) {
        return m;
    }
    chain_digest(cert, out);
    if (total == 0 || total > DIGEST_MEMO_MAX || !out[0]) {
        return NULL;
    }
    uint8_t *bytes = realloc(m->bytes, total);
    if (!bytes) {
        return NULL;  // m->bytes is still valid (and m unchanged)
    }
    m->bytes = bytes;
    off = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = cert->certs[i].der ? cert->certs[i].len : 0;
        m->lens[i] = len;
        if (len) {
            memcpy(m->bytes + off, cert->certs[i].der, len);
        }
        off += len;
    }
    m->n = n;
    m->total = total;
    memcpy(m->hex, out, 65);
    memset(m->link, 0, sizeof m->link);  // they were results of the bytes held before
    return m;
}

bool an_chain_analyze(an_chain_cache *cache, X509_STORE *store, const an_profile *p,
                      const tls_certificate *cert, const char *sni, int64_t when, int64_t now,
                      an_chain *out, const an_chain **res) {
    *res = out;
    char digest[65];
    bool memo_hit;
    digest_memo *m = chain_digest_memo(cache, cert, digest, &memo_hit);
    if (cert->num_stored == 0) {
        memset(out, 0, sizeof *out);
        out->num_certs = cert->num_certs;
        memcpy(out->chain_sha256, digest, sizeof digest);
        an_copy(out->verify_error, sizeof out->verify_error, "empty certificate list");
        out->leaf_parse_error = true;
        return true;
    }
    // The hour bucket keys the cache; validity is still checked at the exact second.
    const char *name = sni ? sni : "";
    int64_t hour = when / 3600;
    if (m) {
        // The same bytes, SNI and hour as a handshake before: the result that one got, unless
        // its entry was given another key since (gen) or the certificates' validity changes
        // between the two handshakes (span). A cached result is handed out as it is: copying
        // the 24 KB result was 13 % of the instructions of a whole run (bench/NOTES.md).
        const cache_entry *e = memo_find(m, &cache->sets, name, hour, when);
        if (e) {
            *res = e->result;
            return true;
        }
    }
    if (memo_hit) {
        memcpy(digest, m->hex, sizeof digest);
    }
    char key[CACHE_KEY];
    snprintf(key, sizeof key, "%s|%lld|%s", digest, (long long)hour, name);
    int slot = SHARED_UNMARKED;
    if (cache) {
        cache_entry *e = sets_find(&cache->sets, key, when);
        if (e) {
            memo_link_set(m, e, name, hour);
            *res = e->result;
            return true;
        }
        if (cache->shared) {
            slot = shared_claim(cache->shared, key, when, out);
            if (slot == SHARED_FOUND) {
                memo_link_set(m, sets_put(&cache->sets, key, out, when), name, hour);
                return true;
            }
        }
    }
    memset(out, 0, sizeof *out);
    out->num_certs = cert->num_certs;
    memcpy(out->chain_sha256, digest, sizeof digest);
    bool ok = analyze_uncached(store, p, cert, sni, when, now, out);
    if (cache) {
        if (ok) {
            memo_link_set(m, sets_put(&cache->sets, key, out, when), name, hour);
        }
        if (cache->shared) {
            shared_put(cache->shared, key, ok ? out : NULL, when, slot);
        }
    }
    return ok;
}
