// anon.c — keyed, prefix-preserving address pseudonyms (Crypto-PAn) and same-length name masks.
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

enum { ANON_MAX_PAIRS = 4096, ANON_MAX_NAME = 256 };

typedef struct anon_pair {
    char from[ANON_MAX_NAME], to[ANON_MAX_NAME];
    size_t len;  // strlen(from)
    bool is_addr;
    uint8_t family;
} anon_pair;

struct anon {
    bool addresses, names;
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

static void remember(anon *a, const char *from, const char *to, bool is_addr, uint8_t family) {
    size_t n = strlen(from);
    if (n == 0 || n >= ANON_MAX_NAME || strcmp(from, to) == 0) {
        return;
    }
    for (size_t i = 0; i < a->num_pairs; i++) {
        if (strcmp(a->pairs[i].from, from) == 0) {
            return;
        }
    }
    if (a->num_pairs == ANON_MAX_PAIRS) {
        return;
    }
    anon_pair *p = &a->pairs[a->num_pairs++];
    memcpy(p->from, from, n + 1);
    snprintf(p->to, sizeof p->to, "%s", to);
    p->len = n;
    p->is_addr = is_addr;
    p->family = family;
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
    if (n < 3 || n >= ANON_MAX_NAME) {
        return;
    }
    char to[ANON_MAX_NAME];
    mask_name(a, name, to, n);
    remember(a, name, to, false, 0);
}

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
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
