// judge.c — one verdict per TLS site: the certificate and key files it names (the chain judged
// by the analyzer), its protocols, ciphers and curves against the analyzer's profile, client
// certificates and SNI refusals; the directive to change, the change, the commands to verify.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "doctor_internal.h"

enum { MAX_CHAIN = 16 };

static const struct {
    const char *word;
    uint32_t bit;
    uint16_t code;
} versions[] = {
    {"SSLv3", DOCTOR_V_SSL3, 0x0300},     {"TLSv1", DOCTOR_V_TLS1, 0x0301},
    {"TLSv1.0", DOCTOR_V_TLS1, 0x0301},   {"TLSv1.1", DOCTOR_V_TLS1_1, 0x0302},
    {"TLSv1.2", DOCTOR_V_TLS1_2, 0x0303}, {"TLSv1.3", DOCTOR_V_TLS1_3, 0x0304},
};
enum { NUM_VERSIONS = sizeof versions / sizeof versions[0] };
#define ALL_TLS (DOCTOR_V_TLS1 | DOCTOR_V_TLS1_1 | DOCTOR_V_TLS1_2 | DOCTOR_V_TLS1_3)

uint32_t dr_versions_parse(const dr_node *d, uint32_t first) {
    uint32_t set = 0;
    for (uint32_t i = first; d && i < d->nargs; i++) {
        const char *w = d->args[i];
        char op = w[0] == '+' || w[0] == '-' ? w[0] : 0;
        w += op != 0;
        uint32_t bits = strcasecmp(w, "all") == 0 ? ALL_TLS : 0;
        for (size_t k = 0; k < NUM_VERSIONS && !bits; k++) {
            bits = strcasecmp(w, versions[k].word) == 0 ? versions[k].bit : 0;
        }
        set = op == '-' ? set & ~bits : op == '+' ? set | bits : (i == first ? bits : set | bits);
    }
    return set;
}

void dr_site_versions(dr_site *s, const dr_node *d, const char *change) {
    s->versions_d = d;
    s->versions = d ? dr_versions_parse(d, 0) : ALL_TLS;
    s->change_versions = change;
}

dr_site *dr_site_new(dr_sites *out, doctor_server server, const dr_node *at) {
    if (out->n >= DR_MAX_SITES) {
        out->dropped++;
        return NULL;
    }
    dr_site *s = &out->v[out->n++];
    memset(s, 0, sizeof *s);
    s->server = server;
    s->file = at->file;
    s->line = at->line;
    return s;
}

const dr_node *dr_site_path(const dr_conf *c, const dr_node *d, char *out, size_t outlen) {
    if (d) {
        dr_resolve(c, dr_arg(d, 0), out, outlen);
    }
    return d;
}

void dr_site_alias(dr_site *s, const char *name) {
    size_t n = strlen(s->aliases);
    if (n + strlen(name) + 2 < sizeof s->aliases) {
        dr_fmt(s->aliases + n, sizeof s->aliases - n, "%s%s", n ? " " : "", name);
    }
}

void dr_versions_text(uint32_t v, char *out, size_t outlen) {
    out[0] = '\0';
    for (size_t k = 0; k < NUM_VERSIONS; k++) {
        if ((v & versions[k].bit) && strcmp(versions[k].word, "TLSv1.0") != 0) {
            size_t n = strlen(out);
            dr_fmt(out + n, outlen - n, "%s%s", n ? " " : "", versions[k].word);
        }
    }
    if (!out[0]) {
        dr_fmt(out, outlen, "none");
    }
}

// ---------------------------------------------------------------------------------------------
// Writing the verdict.
// ---------------------------------------------------------------------------------------------
static void where(doctor_where *w, const dr_node *d, const dr_site *s) {
    dr_fmt(w->file, sizeof w->file, "%s", d ? d->file : s->file);
    w->line = d ? d->line : s->line;
}

static void directive_text(const dr_node *d, char *out, size_t outlen) {
    out[0] = '\0';
    if (!d) {
        return;
    }
    size_t n = (size_t)snprintf(out, outlen, "%s", d->name);
    for (uint32_t i = 0; i < d->nargs && n < outlen; i++) {
        n += (size_t)snprintf(out + n, outlen - n, " %s", d->args[i]);
    }
}

// problem: the primary cause when none is set yet, else one more finding.
typedef struct judge {
    doctor_verdict *v;
    const dr_site *s;
    bool have;
} judge;

static void problem(judge *j, cause_id c, bool note, const dr_node *d, const char *text,
                    const char *change) {
    doctor_verdict *v = j->v;
    if (!j->have) {
        j->have = true;
        v->cause = c;
        v->cause_note = note;
        where(&v->at, d, j->s);
        directive_text(d, v->directive, sizeof v->directive);
        dr_fmt(v->problem, sizeof v->problem, "%s", text);
        dr_fmt(v->change, sizeof v->change, "%s", change);
        return;
    }
    if (v->num_findings < DOCTOR_MAX_FINDINGS) {
        doctor_finding *f = &v->findings[v->num_findings++];
        f->cause = c;
        where(&f->at, d, j->s);
        dr_fmt(f->text, sizeof f->text, "%.250s; %.250s", text, change);
    }
}

static void finding(judge *j, cause_id c, const dr_node *d, const char *text) {
    doctor_verdict *v = j->v;
    if (v->num_findings < DOCTOR_MAX_FINDINGS) {
        doctor_finding *f = &v->findings[v->num_findings++];
        f->cause = c;
        where(&f->at, d, j->s);
        dr_fmt(f->text, sizeof f->text, "%s", text);
    }
}

// ---------------------------------------------------------------------------------------------
// Certificate and key files.
// ---------------------------------------------------------------------------------------------
typedef struct chain {
    uint32_t n;
    uint8_t *der[MAX_CHAIN];
    uint32_t len[MAX_CHAIN];
    X509 *leaf;
    EVP_PKEY *key;  // the private key, when read; never printed
} chain;

static void chain_free(chain *c) {
    for (uint32_t i = 0; i < c->n; i++) {
        OPENSSL_free(c->der[i]);
    }
    X509_free(c->leaf);
    EVP_PKEY_free(c->key);
    memset(c, 0, sizeof *c);
}

static int no_passphrase(char *buf, int size, int rwflag, void *u) {
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0;  // an encrypted key is not read (and never prompted for)
}

// read_pem appends every certificate of a PEM file (in file order) to c and, when want_key,
// keeps its private key. false + why (and *eno, errno) when the file cannot be opened.
static bool read_pem(const char *path, chain *c, bool want_key, char *why, size_t whylen,
                     int *eno) {
    FILE *f = fopen(path, "r");
    if (!f) {
        *eno = errno;
        dr_fmt(why, whylen, "%s", strerror(errno));
        return false;
    }
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long len = 0;
        if (PEM_read(f, &name, &header, &data, &len) != 1) {
            break;
        }
        if (strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "TRUSTED CERTIFICATE") == 0) {
            const unsigned char *p = data;
            X509 *x = d2i_X509(NULL, &p, len);
            if (x && c->n < MAX_CHAIN) {
                unsigned char *der = NULL;
                int dl = i2d_X509(x, &der);
                if (dl > 0) {
                    c->der[c->n] = der;
                    c->len[c->n++] = (uint32_t)dl;
                    if (!c->leaf) {
                        c->leaf = X509_dup(x);
                    }
                }
            }
            X509_free(x);
        }
        OPENSSL_cleanse(data, (size_t)len);  // may be key bytes
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
    }
    if (want_key && !c->key) {
        // OpenSSL finds the key block itself (PKCS#8, RSA, EC) and skips the certificates; an
        // encrypted key is not read (no_passphrase), never prompted for
        rewind(f);
        c->key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
    }
    fclose(f);
    ERR_clear_error();
    return true;
}

// ---------------------------------------------------------------------------------------------
// Ciphers and groups against the profile.
// ---------------------------------------------------------------------------------------------
static bool offer_has(const uint16_t *list, uint32_t n, uint16_t v) {
    for (uint32_t i = 0; i < n; i++) {
        if (list[i] == v) {
            return true;
        }
    }
    return n == 0;  // an empty list: any
}

static const char *default_ciphers(doctor_server s) {
    switch (s) {
        case DOCTOR_NGINX:
            return "HIGH:!aNULL:!MD5";  // nginx's ssl_ciphers default
        case DOCTOR_APACHE:
            return "DEFAULT:!aNULL:!eNULL";  // mod_ssl without SSLCipherSuite
        default:
            return "DEFAULT";  // HAProxy: OpenSSL's default list
    }
}

// shared_ciphers writes the ≤ TLS 1.2 suites both the server (cipher string, usable with the
// leaf's key type) and the profile's client accept, as OpenSSL names; returns their number,
// -1 when OpenSSL rejects the string (the server would not start either). all_ecdhe: every
// shared suite needs an ECDHE group.
static int shared_ciphers(const char *list, const analyzer_offer *o, int key_nid, char *out,
                          size_t outlen, bool *all_ecdhe, char *offer, size_t offerlen) {
    out[0] = offer[0] = '\0';
    *all_ecdhe = true;
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx) {
        return -1;
    }
    SSL_CTX_set_security_level(ctx, 0);  // judge the list as written, not this host's policy
    int n = 0;
    if (SSL_CTX_set_cipher_list(ctx, list) != 1) {
        n = -1;
    }
    STACK_OF(SSL_CIPHER) *cs = n == 0 ? SSL_CTX_get_ciphers(ctx) : NULL;
    int want_auth = key_nid == EVP_PKEY_EC ? NID_auth_ecdsa : NID_auth_rsa;
    // what the profile offers for this key type, as OpenSSL names (for the change text)
    SSL_CTX *all = SSL_CTX_new(TLS_method());
    if (all) {
        SSL_CTX_set_security_level(all, 0);
        (void)SSL_CTX_set_cipher_list(all, "ALL:COMPLEMENTOFALL");
        STACK_OF(SSL_CIPHER) *as = SSL_CTX_get_ciphers(all);
        for (uint32_t k = 0; k < o->num_ciphers; k++) {
            for (int i = 0; i < sk_SSL_CIPHER_num(as); i++) {
                const SSL_CIPHER *c = sk_SSL_CIPHER_value(as, i);
                if ((SSL_CIPHER_get_protocol_id(c) & 0xffff) == o->ciphers[k] &&
                    SSL_CIPHER_get_auth_nid(c) == want_auth &&
                    SSL_CIPHER_get_kx_nid(c) == NID_kx_ecdhe && strlen(offer) + 64 < offerlen) {
                    size_t w = strlen(offer);
                    dr_fmt(offer + w, offerlen - w, "%s%s", w ? ":" : "", SSL_CIPHER_get_name(c));
                }
            }
        }
        SSL_CTX_free(all);
    }
    for (int i = 0; cs && i < sk_SSL_CIPHER_num(cs); i++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(cs, i);
        uint16_t id = (uint16_t)(SSL_CIPHER_get_protocol_id(c) & 0xffff);
        if ((id >> 8) == 0x13 || SSL_CIPHER_get_auth_nid(c) != want_auth ||
            !offer_has(o->ciphers, o->num_ciphers, id)) {
            continue;
        }
        n++;
        *all_ecdhe = *all_ecdhe && SSL_CIPHER_get_kx_nid(c) == NID_kx_ecdhe;
        size_t w = strlen(out);
        if (w + 64 < outlen) {
            dr_fmt(out + w, outlen - w, "%s%s", w ? ":" : "", SSL_CIPHER_get_name(c));
        }
    }
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return n;
}

// Group names as the servers write them (OpenSSL's and the RFCs') → IANA code points.
static const struct {
    const char *name;
    uint16_t code;
} groups[] = {
    {"prime256v1", 23}, {"secp256r1", 23},  {"P-256", 23},      {"secp384r1", 24},
    {"P-384", 24},      {"secp521r1", 25},  {"P-521", 25},      {"X25519", 29},
    {"X448", 30},       {"ffdhe2048", 256}, {"ffdhe3072", 257}, {"ffdhe4096", 258},
};

// shared_groups: how many of the ':'-separated groups the profile offers (-1: none named).
static int shared_groups(const char *list, const analyzer_offer *o) {
    int n = 0;
    char buf[256];
    dr_fmt(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *w = strtok_r(buf, ":,", &save); w; w = strtok_r(NULL, ":,", &save)) {
        for (size_t k = 0; k < sizeof groups / sizeof groups[0]; k++) {
            if (strcasecmp(w, groups[k].name) == 0 &&
                offer_has(o->groups, o->num_groups, groups[k].code)) {
                n++;
            }
        }
    }
    return n;
}

// ---------------------------------------------------------------------------------------------
// The commands that verify a fix.
// ---------------------------------------------------------------------------------------------
static void checks(const dr_site *s, doctor_verdict *v) {
    char host[80], qhost[96], qname[300];
    const char *a = s->addr[0] ? s->addr : "127.0.0.1";
    bool v6 = strchr(a, ':') && a[0] != '[';
    dr_fmt(host, sizeof host, v6 ? "[%s]" : "%s", a);
    if (!analyze_shell_quote(host, strlen(host), qhost, sizeof qhost)) {
        return;
    }
    bool name = s->name[0] && analyze_host_name_problem(s->name, strlen(s->name)) == NULL &&
                analyze_shell_quote(s->name, strlen(s->name), qname, sizeof qname);
    if (name) {
        dr_fmt(v->check_openssl, sizeof v->check_openssl,
               "openssl s_client -connect %s:%u -servername %s -showcerts </dev/null", qhost,
               s->port, qname);
        dr_fmt(v->check_probe, sizeof v->check_probe, "tlsdiag probe --connect %s %s:%u",
               v6 ? a : qhost, qname, s->port);
    } else {
        dr_fmt(v->check_openssl, sizeof v->check_openssl,
               "openssl s_client -connect %s:%u -showcerts </dev/null", qhost, s->port);
        dr_fmt(v->check_probe, sizeof v->check_probe, "tlsdiag probe %s:%u", qhost, s->port);
    }
}

static const char *evidence(const verdict *cv, const char *key) {
    for (uint32_t i = 0; i < cv->num_evidence; i++) {
        if (strcmp(cv->evidence[i].key, key) == 0) {
            return cv->evidence[i].value;
        }
    }
    return "";
}

static const char *server_word(doctor_server s) {
    return s == DOCTOR_NGINX ? "nginx" : s == DOCTOR_APACHE ? "Apache" : "HAProxy";
}

// judge_chain turns the analyzer's verdict on the certificate file into the site's problem.
static void judge_chain(judge *j, const chain *ch, const verdict *cv) {
    const dr_site *s = j->s;
    char text[VERDICT_TEXT], change[VERDICT_TEXT];
    const dr_node *d = s->cert_d;
    const char *file = s->cert;
    switch (cv->cause) {
        case CAUSE_OK:
            return;
        case CAUSE_CERT_MISSING_INTERMEDIATE:
            dr_fmt(text, sizeof text,
                   "%.300s holds %u certificate(s) and not the issuer '%.150s' of the last one",
                   file, ch->n, evidence(cv, "missing_issuer"));
            if (s->server == DOCTOR_APACHE) {
                dr_fmt(change, sizeof change,
                       "append the intermediate '%.150s' to %.250s (or name a file holding it "
                       "in SSLCertificateChainFile)",
                       evidence(cv, "missing_issuer"), file);
            } else {
                dr_fmt(change, sizeof change,
                       "point it at a file with the leaf followed by '%.150s' (cat leaf.pem "
                       "intermediate.pem > fullchain.pem)",
                       evidence(cv, "missing_issuer"));
            }
            break;
        case CAUSE_CERT_CHAIN_MISORDERED:
            dr_fmt(text, sizeof text, "%.300s holds the chain in the wrong order", file);
            dr_fmt(change, sizeof change,
                   "rewrite %.200s with the leaf first, then each issuer: %.250s", file,
                   evidence(cv, "right_order"));
            break;
        case CAUSE_CERT_NAME_MISMATCH:
            dr_fmt(text, sizeof text, "the certificate in %.250s is not for '%.200s': %.200s", file,
                   s->name, cv->summary);
            dr_fmt(change, sizeof change,
                   "install a certificate whose SANs include %.200s (or correct the server's "
                   "name)",
                   s->name);
            break;
        case CAUSE_CERT_EXPIRED:
        case CAUSE_CERT_NOT_YET_VALID:
            dr_fmt(text, sizeof text, "%.200s: %.290s", file, cv->summary);
            dr_fmt(change, sizeof change,
                   "install a currently valid certificate in %.250s (renew it), then reload %s",
                   file, server_word(s->server));
            break;
        default:
            dr_fmt(text, sizeof text, "%.200s: %.290s", file, cv->summary);
            dr_fmt(change, sizeof change, "%.500s", cv->num_fix ? cv->fix[0] : "replace it");
            break;
    }
    if ((cv->cause == CAUSE_CERT_MISSING_INTERMEDIATE ||
         cv->cause == CAUSE_CERT_CHAIN_MISORDERED) &&
        s->chain_d) {
        d = s->chain_d;  // Apache: the chain file is the one to complete
    }
    problem(j, cv->cause, false, d, text, change);
}

static void judge_protocols(judge *j, const analyzer_offer *o, bool *any12) {
    const dr_site *s = j->s;
    uint32_t offered = 0;
    for (uint32_t i = 0; i < o->num_versions; i++) {
        for (size_t k = 0; k < NUM_VERSIONS; k++) {
            offered |= versions[k].code == o->versions[i] ? versions[k].bit : 0;
        }
    }
    if (o->num_versions == 0) {
        offered = ALL_TLS | DOCTOR_V_SSL3;
    }
    *any12 = (s->versions & offered & ~DOCTOR_V_TLS1_3) != 0;
    if ((s->versions & offered) != 0) {
        return;
    }
    char have[64], want[64], text[VERDICT_TEXT], change[VERDICT_TEXT];
    dr_versions_text(s->versions, have, sizeof have);
    dr_versions_text(offered, want, sizeof want);
    dr_fmt(text, sizeof text, "the server enables %s; CloudFront offers origins %s", have, want);
    dr_fmt(change, sizeof change, "write: %s", s->change_versions);
    problem(j, CAUSE_PROTOCOL_VERSION_MISMATCH, false, s->versions_d, text, change);
}

// judge_site: the files, then the protocols, SNI refusal, client certificates, ciphers and
// curves, then the chain (each a problem or a finding of j).
static void judge_site(analyzer *a, const dr_site *s, judge *j) {
    doctor_verdict *v = j->v;
    char text[VERDICT_TEXT], change[VERDICT_TEXT], why[256];
    int eno = 0;
    analyzer_offer o;
    analyzer_profile_offer(a, &o);

    // The files first: without them nothing else can be judged.
    chain ch;
    memset(&ch, 0, sizeof ch);
    bool cert_ok = false;
    if (!s->cert[0]) {
        dr_fmt(text, sizeof text, "no certificate is configured for this TLS site");
        problem(j, CAUSE_UNKNOWN, true, NULL, text,
                s->server == DOCTOR_NGINX ? "add ssl_certificate and ssl_certificate_key"
                                          : "name the certificate and key files");
    } else if (!read_pem(s->cert, &ch, true, why, sizeof why, &eno)) {
        dr_fmt(text, sizeof text, "cannot read %.400s (%s): not judged", s->cert, why);
        problem(j, CAUSE_UNKNOWN, true, s->cert_d, text,
                eno == ENOENT ? "point it at the certificate file: the server does not start "
                                "with a missing one"
                              : "run tlsdiag doctor as a user who may read it (the web server "
                                "reads it as root)");
    } else if (ch.n == 0) {
        dr_fmt(text, sizeof text, "%.400s holds no PEM certificate", s->cert);
        problem(j, CAUSE_UNKNOWN, true, s->cert_d, text, "point it at the PEM certificate file");
    } else {
        cert_ok = true;
    }
    if (cert_ok && s->chain[0] && !read_pem(s->chain, &ch, false, why, sizeof why, &eno)) {
        dr_fmt(text, sizeof text, "cannot read %.400s (%s): the chain was judged without it",
               s->chain, why);
        finding(j, CAUSE_UNKNOWN, s->chain_d, text);
    }
    if (cert_ok && s->key[0]) {
        chain kc;
        memset(&kc, 0, sizeof kc);
        if (!read_pem(s->key, &kc, true, why, sizeof why, &eno) || !kc.key) {
            dr_fmt(text, sizeof text, "cannot read the private key %.400s (%s): not compared",
                   s->key,
                   kc.key   ? ""
                   : why[0] ? why
                            : "not an unencrypted PEM key");
            finding(j, CAUSE_UNKNOWN, s->key_d, text);
            v->warning = true;  // judged, but not all of it
        } else {
            EVP_PKEY_free(ch.key);
            ch.key = kc.key;
            kc.key = NULL;
        }
        chain_free(&kc);
    }
    if (cert_ok && ch.key && X509_check_private_key(ch.leaf, ch.key) != 1) {
        // No cause id names a key that does not belong to its certificate: the server refuses
        // to load the pair, so it does not start (or keeps its old configuration).
        dr_fmt(text, sizeof text,
               "the private key in %.250s does not belong to the certificate in %.200s: %s "
               "refuses to load this pair and does not start with it",
               s->key[0] ? s->key : s->cert, s->cert, server_word(s->server));
        dr_fmt(change, sizeof change,
               "point it at the key the certificate was issued for (compare the public keys: "
               "openssl x509 -noout -pubkey -in CERT and openssl pkey -pubout -in KEY)");
        problem(j, CAUSE_UNKNOWN, true, s->key_d ? s->key_d : s->cert_d, text, change);
    }
    ERR_clear_error();

    bool any12 = true;
    judge_protocols(j, &o, &any12);
    if (s->rejects_sni) {  // HAProxy strict-sni: refuses SNIs its certificates do not name
        finding(j, CAUSE_SNI_REJECTED, s->reject_d,
                "strict-sni: a handshake whose SNI no certificate of this bind names (or without "
                "SNI) is refused: CloudFront's SNI (the origin domain or forwarded Host) must be "
                "a name of one of its certificates");
        v->warning = true;
    }
    if (s->verify_required) {
        dr_fmt(text, sizeof text,
               "the server demands a client certificate; CloudFront sends one only when origin "
               "mutual TLS is configured in the distribution%s",
               s->server == DOCTOR_NGINX
                   ? " (nginx completes the handshake, then answers every request without one "
                     "with 400 \"No required SSL certificate was sent\")"
                   : "");
        dr_fmt(change, sizeof change,
               "%s, or configure origin mTLS with a client certificate this server trusts",
               s->server == DOCTOR_NGINX    ? "ssl_verify_client optional (or off)"
               : s->server == DOCTOR_APACHE ? "SSLVerifyClient optional (or none)"
                                            : "verify optional (or none)");
        problem(j, CAUSE_CLIENT_CERT_REQUIRED, false, s->verify_d, text, change);
    }
    if (cert_ok && any12) {
        char shared[512], offer[512];
        bool all_ecdhe = true;
        int key_nid = EVP_PKEY_get_base_id(X509_get0_pubkey(ch.leaf));
        const char *list = s->ciphers[0] ? s->ciphers : default_ciphers(s->server);
        int n = shared_ciphers(list, &o, key_nid, shared, sizeof shared, &all_ecdhe, offer,
                               sizeof offer);
        if (n <= 0) {
            dr_fmt(text, sizeof text,
                   "'%.200s' leaves no TLS 1.2 cipher suite CloudFront offers for %s "
                   "certificate%s",
                   list, key_nid == EVP_PKEY_EC ? "an ECDSA" : "an RSA",
                   n < 0 ? " (OpenSSL accepts none of it)" : "");
            dr_fmt(change, sizeof change, "include at least one of: %.400s", offer);
            problem(j, CAUSE_NO_SHARED_CIPHER, false, s->ciphers_d, text, change);
        } else if (s->curves[0] && shared_groups(s->curves, &o) == 0) {
            dr_fmt(text, sizeof text,
                   "'%.200s' names no group CloudFront offers (P-256, P-384, X25519)%s", s->curves,
                   all_ecdhe ? "" : "; the handshake falls back to RSA key exchange");
            if (all_ecdhe) {
                problem(j, CAUSE_NO_SHARED_GROUP, false, s->curves_d, text,
                        "include prime256v1 (P-256)");
            } else {
                finding(j, CAUSE_NO_SHARED_GROUP, s->curves_d, text);
            }
        }
    }
    if (cert_ok) {
        tls_endpoint ep;
        memset(&ep, 0, sizeof ep);
        ep.family = 4;
        ep.addr[0] = 127, ep.addr[3] = 1;
        ep.port = s->port;
        v->chain = analyzer_check_chain(a, (const uint8_t *const *)ch.der, ch.len, ch.n,
                                        s->name[0] ? s->name : NULL, &ep);
        if (v->chain) {
            judge_chain(j, &ch, v->chain);
            for (uint32_t i = 0; i < v->chain->num_findings; i++) {
                const verdict_finding *f = &v->chain->findings[i];
                if (f->cause == v->cause) {
                    continue;
                }
                finding(j, f->cause, s->cert_d, f->text);
                if (strstr(f->text, "expires in")) {
                    v->warning = true;
                }
            }
        }
    }
    chain_free(&ch);
}

void dr_judge(analyzer *a, const dr_site *s, doctor_verdict *v) {
    memset(v, 0, sizeof *v);
    judge j = {v, s, false};
    v->server = s->server;
    dr_fmt(v->site.file, sizeof v->site.file, "%s", s->file);
    v->site.line = s->line;
    dr_fmt(v->name, sizeof v->name, "%s", s->name);
    dr_fmt(v->listen, sizeof v->listen, "%s:%u", s->addr[0] ? s->addr : "*", s->port);
    v->port = s->port;
    checks(s, v);
    if (s->rejects_sni && s->server == DOCTOR_NGINX) {
        // ssl_reject_handshake on: this block completes no handshake; its certificate (often a
        // placeholder) is never sent, so it is not judged.
        char text[VERDICT_TEXT];
        if (s->name[0]) {
            dr_fmt(text, sizeof text,
                   "ssl_reject_handshake on refuses every handshake for %.200s (alert "
                   "unrecognized_name): CloudFront's requests for it fail",
                   s->name);
            problem(&j, CAUSE_SNI_REJECTED, false, s->reject_d, text,
                    "remove ssl_reject_handshake from this server block (it needs a certificate "
                    "for the name instead)");
        } else {
            finding(&j, CAUSE_SNI_REJECTED, s->reject_d,
                    "this catch-all block refuses handshakes whose SNI matches no server_name: "
                    "CloudFront's SNI (the origin domain or forwarded Host) must be the "
                    "server_name of a TLS server block");
            v->warning = true;
            dr_fmt(v->problem, sizeof v->problem, "%s",
                   "a catch-all block that refuses every handshake (ssl_reject_handshake on)");
        }
    } else {
        judge_site(a, s, &j);
    }
    if (!j.have) {
        v->cause = CAUSE_OK;
    }
    if (!j.have && !v->problem[0]) {
        dr_fmt(v->problem, sizeof v->problem, "%s",
               v->warning ? "CloudFront's handshake would succeed, but see the warning"
                          : "CloudFront's handshake would succeed");
    }
}
