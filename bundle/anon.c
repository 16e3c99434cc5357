// anon.c — keyed, prefix-preserving address pseudonyms (Crypto-PAn) and same-length name masks.
//
// What each option removes (environment.txt, report.html and report.md say which were used):
//   --anonymize     every IPv4/IPv6 address, in every member (text: remembered pairs and any
//                   dotted quad; evidence.pcap: the rebuilt IP headers), by its keyed
//                   prefix-preserving pseudonym. Names, certificates and fingerprints stay.
//   --redact-names  the SNI and, for every certificate of every chain shown (leaf and CAs): the
//                   subject and issuer DNs (each attribute value masked, same length), the CN,
//                   the SANs, the serial number, the SHA-256 fingerprint (also the chain's), and
//                   the subject/authority key identifiers — replaced by keyed same-shape
//                   pseudonyms (HMAC-SHA-256, per-bundle random key unless --anonymize-key) in
//                   findings.json, report.html, report.md and environment.txt, in hex, colon-hex
//                   and base64 forms. chain-*.pem are not written (a certificate's key and
//                   signature identify it as surely as its serial), and evidence.pcap carries
//                   the certificates (and any stapled OCSP response) as zeros of the same length
//                   (evidence.c), with the SNI masked in the ClientHello.
//   Neither removes: timestamps, ports, cipher suites and other handshake parameters, the key
//   type and size, validity dates, the CloudFront profile, the command line's non-name words.
//
// Crypto-PAn (Xu, Fan, Ammar, Moon, "Prefix-preserving IP address anonymization", ICNP 2002):
// bit i of the output is bit i of the input XOR the first bit of AES_K(first i input bits
// followed by the pad's remaining bits). Two addresses sharing an n-bit prefix share exactly
// an n-bit prefix after the mapping. The same construction runs over 128 bits for IPv6.
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_internal.h"

// ANON_MAX_NAME holds a whole subject or issuer DN (x509_info: 512 bytes).
enum { ANON_MAX_PAIRS = 4096, ANON_MAX_NAME = 520, ANON_MIN_HEX = 8 };

typedef struct anon_pair {
    char from[ANON_MAX_NAME], to[ANON_MAX_NAME];
    size_t len;  // strlen(from)
    bool is_addr;
    bool is_hex;  // an identifier in hex: matched only where no hex digit touches it
    uint8_t family;
} anon_pair;

struct anon {
    bool addresses, names;
    bool lost;  // a pair did not fit: anon_complete is false
    uint8_t key[BUNDLE_KEY_LEN];
    EVP_CIPHER_CTX *aes;
    uint8_t pad[16];  // AES_K(second half of the key)
    anon_pair *pairs;
    size_t num_pairs;
};

static bool aes_block(const anon *a, const uint8_t in[16], uint8_t out[16]) {
    int n = 0;
    return EVP_EncryptUpdate(a->aes, out, &n, in, 16) == 1 && n == 16;
}

anon *anon_new(bool addresses, bool names, const uint8_t key[BUNDLE_KEY_LEN]) {
    anon *a = calloc(1, sizeof *a);
    if (a == NULL) {
        return NULL;
    }
    a->addresses = addresses;
    a->names = names;
    memcpy(a->key, key, BUNDLE_KEY_LEN);
    a->pairs = calloc(ANON_MAX_PAIRS, sizeof *a->pairs);
    a->aes = EVP_CIPHER_CTX_new();
    if (a->pairs == NULL || a->aes == NULL ||
        EVP_EncryptInit_ex(a->aes, EVP_aes_128_ecb(), NULL, key, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(a->aes, 0) != 1 || !aes_block(a, key + 16, a->pad)) {
        anon_free(a);
        return NULL;
    }
    return a;
}

void anon_free(anon *a) {
    if (a == NULL) {
        return;
    }
    EVP_CIPHER_CTX_free(a->aes);
    free(a->pairs);
    OPENSSL_cleanse(a->key, sizeof a->key);
    free(a);
}

bool anon_addresses(const anon *a) {
    return a != NULL && a->addresses;
}
bool anon_names(const anon *a) {
    return a != NULL && a->names;
}

static int get_bit(const uint8_t *p, unsigned i) {
    return (p[i / 8] >> (7 - i % 8)) & 1;
}
static void set_bit(uint8_t *p, unsigned i, int v) {
    uint8_t m = (uint8_t)(1u << (7 - i % 8));
    p[i / 8] = v ? (uint8_t)(p[i / 8] | m) : (uint8_t)(p[i / 8] & ~m);
}

// cryptopan maps nbits (32 or 128) of in to out.
static void cryptopan(const anon *a, const uint8_t *in, unsigned nbits, uint8_t *out) {
    uint8_t flip[16] = {0};
    for (unsigned pos = 0; pos < nbits; pos++) {
        uint8_t block[16], enc[16];
        memcpy(block, a->pad, 16);
        for (unsigned i = 0; i < pos; i++) {
            set_bit(block, i, get_bit(in, i));
        }
        if (!aes_block(a, block, enc)) {
            memset(enc, 0, sizeof enc);
        }
        set_bit(flip, pos, enc[0] >> 7);
    }
    for (unsigned i = 0; i < nbits / 8; i++) {
        out[i] = (uint8_t)(in[i] ^ flip[i]);
    }
}

static anon_pair *remember(anon *a, const char *from, const char *to, bool is_addr,
                           uint8_t family) {
    size_t n = strlen(from);
    if (n == 0 || strcmp(from, to) == 0) {
        return NULL;
    }
    for (size_t i = 0; i < a->num_pairs; i++) {
        if (strcmp(a->pairs[i].from, from) == 0) {
            return NULL;
        }
    }
    if (n >= ANON_MAX_NAME || a->num_pairs == ANON_MAX_PAIRS) {
        a->lost = true;
        return NULL;
    }
    anon_pair *p = &a->pairs[a->num_pairs++];
    memcpy(p->from, from, n + 1);
    snprintf(p->to, sizeof p->to, "%s", to);
    p->len = n;
    p->is_addr = is_addr;
    p->family = family;
    return p;
}

bool anon_complete(const anon *a) {
    return a == NULL || !a->lost;
}

void anon_addr(anon *a, uint8_t family, const uint8_t in[16], uint8_t out[16]) {
    memcpy(out, in, 16);
    if (!anon_addresses(a)) {
        return;
    }
    unsigned bits = family == 4 ? 32 : 128;
    cryptopan(a, in, bits, out);
    char f[INET6_ADDRSTRLEN], t[INET6_ADDRSTRLEN];
    int af = family == 4 ? AF_INET : AF_INET6;
    if (inet_ntop(af, in, f, sizeof f) != NULL && inet_ntop(af, out, t, sizeof t) != NULL) {
        remember(a, f, t, true, family);
    }
}

void anon_network(anon *a, const char *cidr) {
    if (!anon_addresses(a) || cidr == NULL) {
        return;
    }
    char addr[INET6_ADDRSTRLEN];
    const char *slash = strchr(cidr, '/');
    size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);
    if (n == 0 || n >= sizeof addr) {
        return;
    }
    memcpy(addr, cidr, n);
    addr[n] = '\0';
    uint8_t in[16] = {0}, out[16];
    uint8_t family = strchr(addr, ':') ? 6 : 4;
    if (inet_pton(family == 4 ? AF_INET : AF_INET6, addr, in) != 1) {
        return;
    }
    unsigned bits = family == 4 ? 32 : 128;
    long plen = slash ? strtol(slash + 1, NULL, 10) : (long)bits;
    if (plen < 0 || plen > (long)bits) {
        return;
    }
    cryptopan(a, in, bits, out);
    for (unsigned i = (unsigned)plen; i < bits; i++) {
        set_bit(out, i, 0);  // the network address of the pseudonym prefix
    }
    char t[INET6_ADDRSTRLEN + 8];
    if (inet_ntop(family == 4 ? AF_INET : AF_INET6, out, t, INET6_ADDRSTRLEN) == NULL) {
        return;
    }
    if (slash) {
        snprintf(t + strlen(t), sizeof t - strlen(t), "/%ld", plen);
    }
    remember(a, cidr, t, true, family);
}

// mask_name: a same-length pseudonym keeping the shape (dots, hyphens, '*', letter/digit).
static void mask_name(const anon *a, const char *name, char *out, size_t n) {
    uint8_t mac[32];
    unsigned int maclen = 0;
    if (HMAC(EVP_sha256(), a->key, BUNDLE_KEY_LEN, (const uint8_t *)name, n, mac, &maclen) ==
        NULL) {
        memset(mac, 0, sizeof mac);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        uint8_t k = (uint8_t)(mac[i % 32] + i / 32 * 7);
        if (ch >= 'a' && ch <= 'z') {
            out[i] = (char)('a' + k % 26);
        } else if (ch >= 'A' && ch <= 'Z') {
            out[i] = (char)('A' + k % 26);
        } else if (ch >= '0' && ch <= '9') {
            out[i] = (char)('0' + k % 10);
        } else {
            out[i] = (char)ch;
        }
    }
    out[n] = '\0';
}

void anon_name(anon *a, const char *name) {
    if (!anon_names(a) || name == NULL) {
        return;
    }
    size_t n = strlen(name);
    if (n < 3) {
        return;
    }
    if (n >= ANON_MAX_NAME) {
        a->lost = true;
        return;
    }
    char to[ANON_MAX_NAME];
    mask_name(a, name, to, n);
    remember(a, name, to, false, 0);
}

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// mask_hex: the keyed pseudonym of a hex identifier, in the same shape (every hex digit replaced,
// in the case the text uses; ':' and other separators kept). Keyed on the digits alone, so the
// plain, colon and upper-case forms of one identifier map to forms of one pseudonym.
static void mask_hex(const anon *a, const char *in, char *out, size_t outlen) {
    char digits[2 * ANON_MAX_NAME + 8] = "hexid:";
    size_t nd = strlen(digits), n = strnlen(in, outlen - 1);
    bool upper = false;
    for (size_t i = 0; i < n && nd + 1 < sizeof digits; i++) {
        if (is_hex(in[i])) {
            upper |= in[i] >= 'A' && in[i] <= 'F';
            digits[nd++] = (char)(in[i] >= 'A' && in[i] <= 'F' ? in[i] - 'A' + 'a' : in[i]);
        }
    }
    uint8_t mac[32];
    unsigned int maclen = 0;
    if (HMAC(EVP_sha256(), a->key, BUNDLE_KEY_LEN, (const uint8_t *)digits, nd, mac, &maclen) ==
        NULL) {
        memset(mac, 0, sizeof mac);
    }
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0, d = 0; i < n; i++) {
        if (is_hex(in[i])) {
            uint8_t byte = (uint8_t)(mac[d / 2 % 32] + d / 64 * 37);
            out[i] = set[d % 2 ? byte & 0xf : byte >> 4];
            d++;
        } else {
            out[i] = in[i];
        }
    }
    out[n] = '\0';
}

// hex_forms: the plain/colon, lower/upper forms of the digits of id into form[k] (k < 4).
static size_t hex_forms(const char *id, char form[4][ANON_MAX_NAME]) {
    char d[ANON_MAX_NAME];
    size_t nd = 0;
    for (size_t i = 0; id[i] && nd + 1 < sizeof d / 3; i++) {
        if (is_hex(id[i])) {
            d[nd++] = (char)(id[i] >= 'A' && id[i] <= 'F' ? id[i] - 'A' + 'a' : id[i]);
        }
    }
    for (int k = 0; k < 4; k++) {
        size_t o = 0;
        for (size_t i = 0; i < nd; i++) {
            if ((k & 2) && i > 0 && i % 2 == 0) {
                form[k][o++] = ':';
            }
            char ch = d[i];
            form[k][o++] = (k & 1) && ch >= 'a' ? (char)(ch - 'a' + 'A') : ch;
        }
        form[k][o] = '\0';
    }
    return nd;
}

// b64_of_hex: the base64 text of the bytes a plain lower-case hex string spells.
static void b64_of_hex(const char *hex, char *out, size_t outlen) {
    uint8_t bytes[ANON_MAX_NAME / 2];
    size_t n = 0;
    for (; hex[2 * n] && hex[2 * n + 1] && n < sizeof bytes; n++) {
        unsigned v = 0;
        sscanf(hex + 2 * n, "%2x", &v);
        bytes[n] = (uint8_t)v;
    }
    if (4 * (n / 3 + 1) + 1 > outlen) {
        out[0] = '\0';
        return;
    }
    EVP_EncodeBlock((unsigned char *)out, bytes, (int)n);
}

// anon_hexid remembers every text form of a hex identifier (fingerprint, serial, key id):
// plain and colon-separated, lower and upper case, and base64 of its bytes. Identifiers shorter
// than ANON_MIN_HEX digits are not searched for in text (they would hit dates and counters);
// anon_cert_rewrite still replaces them in the certificate fields.
static void anon_hexid(anon *a, const char *id) {
    char form[4][ANON_MAX_NAME];
    if (hex_forms(id, form) < ANON_MIN_HEX) {
        return;
    }
    for (int k = 0; k < 4; k++) {
        char to[ANON_MAX_NAME];
        mask_hex(a, form[k], to, sizeof to);
        anon_pair *p = remember(a, form[k], to, false, 0);
        if (p != NULL) {
            p->is_hex = true;
        }
        if (k == 0 && strlen(form[0]) % 2 == 0) {
            char b64f[ANON_MAX_NAME], b64t[ANON_MAX_NAME];
            b64_of_hex(form[0], b64f, sizeof b64f);
            b64_of_hex(to, b64t, sizeof b64t);
            if (b64f[0] && strlen(b64f) >= 8) {
                remember(a, b64f, b64t, false, 0);
            }
        }
    }
}

// mask_dn: an RFC 2253 DN with every attribute value masked (same length; keys, '=', ',' and
// '+' kept, so the reader still sees CN=…, O=…, C=…).
static void mask_dn(const anon *a, const char *dn, char *out, size_t outlen) {
    size_t n = strnlen(dn, outlen - 1);
    memcpy(out, dn, n);
    out[n] = '\0';
    size_t i = 0;
    while (i < n) {
        while (i < n && dn[i] != '=') {
            i++;  // the attribute type
        }
        size_t start = ++i;
        while (i < n && dn[i] != ',' && dn[i] != '+') {
            i += dn[i] == '\\' && i + 1 < n ? 2 : 1;
        }
        if (i > start && start <= n) {
            char v[ANON_MAX_NAME], m[ANON_MAX_NAME];
            size_t len = i - start < sizeof v ? i - start : sizeof v - 1;
            memcpy(v, dn + start, len);
            v[len] = '\0';
            mask_name(a, v, m, len);
            memcpy(out + start, m, len);
        }
        i++;
    }
}

// dn_cn: the CN value of a DN ("" when none).
static void dn_cn(const char *dn, char *out, size_t outlen) {
    const char *cn = strstr(dn, "CN=");
    size_t k = 0;
    for (cn = cn ? cn + 3 : ""; *cn && *cn != ',' && *cn != '+' && k + 1 < outlen; cn++) {
        out[k++] = *cn;
    }
    out[k] = '\0';
}

static void anon_dn(anon *a, const char *dn) {
    char to[ANON_MAX_NAME], cn[ANON_MAX_NAME];
    if (strlen(dn) >= ANON_MAX_NAME) {
        a->lost = true;
        return;
    }
    mask_dn(a, dn, to, sizeof to);
    remember(a, dn, to, false, 0);
    dn_cn(dn, cn, sizeof cn);
    anon_name(a, cn);
}

// each_san calls f on every name of a SANs field ("DNS:a, DNS:b" or "a,b"), prefix removed.
static void each_san(const char *sans, size_t cap, void (*f)(anon *, const char *), anon *a) {
    char buf[2048];
    size_t n = strnlen(sans, cap);
    n = n < sizeof buf - 1 ? n : sizeof buf - 1;
    memcpy(buf, sans, n);
    buf[n] = '\0';
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') {
            t++;
        }
        if (strncmp(t, "DNS:", 4) == 0) {
            t += 4;
        }
        f(a, t);
    }
}

void anon_cert(anon *a, const x509_info *x) {
    if (!anon_names(a)) {
        return;
    }
    anon_dn(a, x->subject);
    anon_dn(a, x->issuer);
    each_san(x->sans, sizeof x->sans, anon_name, a);
    anon_hexid(a, x->sha256);
    anon_hexid(a, x->serial);
    anon_hexid(a, x->ski);
    anon_hexid(a, x->aki);
}

void anon_chain_id(anon *a, const char *sha256) {
    if (anon_names(a)) {
        anon_hexid(a, sha256);
    }
}

// rewrite replaces a field with its mask (same length, so it fits where it was).
static void rewrite(const anon *a, char *field, size_t cap,
                    void (*mask)(const anon *, const char *, char *, size_t)) {
    char t[ANON_MAX_NAME];
    size_t n = strnlen(field, cap - 1);
    if (n >= sizeof t) {
        field[0] = '\0';  // cannot be masked: dropped rather than kept
        return;
    }
    mask(a, field, t, sizeof t);
    memcpy(field, t, n);
    field[n] = '\0';
}

void anon_cert_rewrite(const anon *a, x509_info *x) {
    if (!anon_names(a)) {
        return;
    }
    rewrite(a, x->subject, sizeof x->subject, mask_dn);
    rewrite(a, x->issuer, sizeof x->issuer, mask_dn);
    rewrite(a, x->sha256, sizeof x->sha256, mask_hex);
    rewrite(a, x->serial, sizeof x->serial, mask_hex);
    rewrite(a, x->ski, sizeof x->ski, mask_hex);
    rewrite(a, x->aki, sizeof x->aki, mask_hex);
    // SANs: the remembered name pairs (anon_cert), applied to the field itself.
    bbuf b = {0};
    bbuf_puts(&b, x->sans);
    anon_text(a, &b);
    if (b.p != NULL && !b.oom && b.n < sizeof x->sans) {
        memcpy(x->sans, b.p, b.n);
        x->sans[b.n] = '\0';
    } else {
        x->sans[0] = '\0';  // cannot rewrite it: drop it rather than keep the names
    }
    bbuf_free(&b);
}

void anon_chain_rewrite(const anon *a, char *sha256, size_t cap) {
    if (anon_names(a)) {
        rewrite(a, sha256, cap, mask_hex);
    }
}

// at_boundary: the text form of an address at p[i..i+len) is not part of a longer one.
static bool at_boundary(const char *p, size_t n, size_t i, const anon_pair *q) {
    char before = i > 0 ? p[i - 1] : ' ';
    char after = i + q->len < n ? p[i + q->len] : ' ';
    char after2 = i + q->len + 1 < n ? p[i + q->len + 1] : ' ';
    if (q->family == 4) {
        bool b_num = (before >= '0' && before <= '9') || before == '.';
        bool a_num =
            (after >= '0' && after <= '9') || (after == '.' && after2 >= '0' && after2 <= '9');
        return !b_num && !a_num;
    }
    return !is_hex(before) && before != ':' && !is_hex(after) &&
           !(after == ':' && (is_hex(after2) || after2 == ':'));
}

// hex_boundary: a hex identifier at p[i..i+len) is not part of a longer hex run.
static bool hex_boundary(const char *p, size_t n, size_t i, size_t len) {
    return (i == 0 || !is_hex(p[i - 1])) && (i + len >= n || !is_hex(p[i + len]));
}

// dotted_quad: an IPv4 address in text at p[i..] (not part of a longer number or dotted run);
// *len gets its length.
static bool dotted_quad(const char *p, size_t n, size_t i, uint8_t out[4], size_t *len) {
    if (i > 0 && ((p[i - 1] >= '0' && p[i - 1] <= '9') || p[i - 1] == '.')) {
        return false;
    }
    size_t k = i;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (k >= n || p[k] != '.') {
                return false;
            }
            k++;
        }
        unsigned v = 0, digits = 0;
        while (k < n && p[k] >= '0' && p[k] <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(p[k] - '0');
            k++;
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255) {
            return false;
        }
        out[part] = (uint8_t)v;
    }
    bool more = k < n && ((p[k] >= '0' && p[k] <= '9') ||
                          (p[k] == '.' && k + 1 < n && p[k + 1] >= '0' && p[k + 1] <= '9'));
    if (more) {
        return false;
    }
    *len = k - i;
    return true;
}

void anon_text(const anon *a, bbuf *b) {
    if (a == NULL || (a->num_pairs == 0 && !a->addresses) || b->p == NULL) {
        return;
    }
    bbuf o = {0};
    size_t i = 0;
    while (i < b->n) {
        const anon_pair *hit = NULL;
        for (size_t k = 0; k < a->num_pairs; k++) {
            const anon_pair *q = &a->pairs[k];
            if (q->len <= b->n - i && memcmp(b->p + i, q->from, q->len) == 0 &&
                (!q->is_addr || at_boundary(b->p, b->n, i, q)) &&
                (!q->is_hex || hex_boundary(b->p, b->n, i, q->len)) &&
                (hit == NULL || q->len > hit->len)) {
                hit = q;
            }
        }
        uint8_t q4[16] = {0}, p4[16];
        size_t qlen = 0;
        if (hit != NULL) {
            bbuf_puts(&o, hit->to);
            i += hit->len;
        } else if (a->addresses && dotted_quad(b->p, b->n, i, q4, &qlen)) {
            // Any other IPv4 address in the text (a filter, an evidence string): same mapping.
            char t[INET_ADDRSTRLEN];
            cryptopan(a, q4, 32, p4);
            bbuf_puts(&o, inet_ntop(AF_INET, p4, t, sizeof t) ? t : "0.0.0.0");
            i += qlen;
        } else {
            bbuf_put(&o, b->p + i, 1);
            i++;
        }
    }
    if (o.oom) {
        bbuf_free(&o);
        b->oom = true;
        return;
    }
    bbuf_free(b);
    *b = o;
}

void anon_bytes(const anon *a, uint8_t *p, size_t n) {
    if (a == NULL || !a->names) {
        return;
    }
    for (size_t k = 0; k < a->num_pairs; k++) {
        const anon_pair *q = &a->pairs[k];
        if (q->is_addr || q->len > n || strlen(q->to) != q->len) {
            continue;
        }
        for (size_t i = 0; i + q->len <= n; i++) {
            if (memcmp(p + i, q->from, q->len) == 0) {
                memcpy(p + i, q->to, q->len);
                i += q->len - 1;
            }
        }
    }
}
