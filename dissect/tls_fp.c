// tls_fp.c — JA3 / JA3S (salesforce/ja3) and JA4 (FoxIO JA4.md, the BSD-licensed part) of hellos.
//
// All three ignore GREASE values (RFC 8701) wherever they appear. Hashes use OpenSSL EVP.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"
#include "tls_internal.h"

// A bounded string builder: appends never overflow; `full` records that something was cut.
typedef struct sbuf {
    char *p;
    size_t cap, len;
    bool full;
} sbuf;

static void sb_puts(sbuf *b, const char *s) {
    size_t n = strlen(s);
    if (b->len + n >= b->cap) {
        b->full = true;
        n = b->cap - 1 - b->len;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

// sb_list appends the non-GREASE values in decimal (JA3) or 4-digit hex (JA4), joined by sep.
static void sb_list(sbuf *b, const uint16_t *v, size_t n, bool hex, const char *sep) {
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (tls_is_grease(v[i])) {
            continue;
        }
        char num[8];
        if (hex) {
            snprintf(num, sizeof num, "%04x", (unsigned)v[i]);
        } else {
            snprintf(num, sizeof num, "%u", (unsigned)v[i]);
        }
        if (!first) {
            sb_puts(b, sep);
        }
        sb_puts(b, num);
        first = false;
    }
}

// hex_digest writes the lowercase hex of md(s) into out (at most outlen-1 hex chars).
static void hex_digest(const EVP_MD *md, const char *s, size_t slen, char *out, size_t hexlen) {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    out[0] = '\0';
    if (!EVP_Digest(s, slen, d, &dlen, md, NULL)) {
        return;
    }
    size_t i;
    for (i = 0; i < dlen && 2 * i + 1 < hexlen; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
    out[hexlen] = '\0';
}

// JA3: "SSLVersion,Cipher,SSLExtension,EllipticCurve,EllipticCurvePointFormat", decimal values
// joined by '-', GREASE removed (salesforce/ja3 README).
size_t tls_fp_ja3_string(const tls_client_hello *ch, char *out, size_t outlen) {
    if (outlen == 0) {
        return 0;
    }
    sbuf b = {out, outlen, 0, false};
    out[0] = '\0';
    char num[8];
    snprintf(num, sizeof num, "%u", (unsigned)ch->legacy_version);
    sb_puts(&b, num);
    sb_puts(&b, ",");
    sb_list(&b, ch->ciphers, ch->num_ciphers, false, "-");
    sb_puts(&b, ",");
    sb_list(&b, ch->extensions, ch->num_extensions, false, "-");
    sb_puts(&b, ",");
    sb_list(&b, ch->groups, ch->num_groups, false, "-");
    sb_puts(&b, ",");
    for (size_t i = 0; i < ch->num_point_formats; i++) {
        snprintf(num, sizeof num, "%s%u", i ? "-" : "", (unsigned)ch->point_formats[i]);
        sb_puts(&b, num);
    }
    return b.len;
}

void tls_fp_ja3(const tls_client_hello *ch, char out[33]) {
    char s[8192];
    size_t n = tls_fp_ja3_string(ch, s, sizeof s);
    hex_digest(EVP_md5(), s, n, out, 32);
}

// JA3S: "SSLVersion,Cipher,SSLExtension" of the ServerHello.
void tls_fp_ja3s(const tls_server_hello *sh, char out[33]) {
    char s[1024];
    sbuf b = {s, sizeof s, 0, false};
    char num[16];
    s[0] = '\0';
    snprintf(num, sizeof num, "%u,%u,", (unsigned)sh->legacy_version, (unsigned)sh->cipher);
    sb_puts(&b, num);
    sb_list(&b, sh->extensions, sh->num_extensions, false, "-");
    hex_digest(EVP_md5(), s, b.len, out, 32);
}

static int cmp_u16(const void *a, const void *b) {
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

// ja4_version: JA4.md "TLS Version": highest non-GREASE supported_versions, else legacy.
static const char *ja4_version(const tls_client_hello *ch) {
    uint16_t v = 0;
    for (size_t i = 0; i < ch->num_versions; i++) {
        if (!tls_is_grease(ch->versions[i]) && ch->versions[i] > v) {
            v = ch->versions[i];
        }
    }
    if (v == 0) {
        v = ch->legacy_version;
    }
    switch (v) {
        case 0x0304:
            return "13";
        case 0x0303:
            return "12";
        case 0x0302:
            return "11";
        case 0x0301:
            return "10";
        case 0x0300:
            return "s3";
        case 0x0002:
            return "s2";
        case 0xfeff:
            return "d1";
        case 0xfefd:
            return "d2";
        case 0xfefc:
            return "d3";
        default:
            return "00";
    }
}

static bool is_alnum(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// ja4_alpn: first and last character of the first ALPN value, "00" when none; when either is not
// alphanumeric, the first and last characters of the value's hex representation instead.
static void ja4_alpn(const tls_client_hello *ch, char out[3]) {
    out[0] = out[1] = '0';
    out[2] = '\0';
    if (ch->num_alpn == 0 || ch->alpn_len[0] == 0) {
        return;
    }
    size_t len = ch->alpn_len[0] < TLS_MAX_ALPN_LEN - 1 ? ch->alpn_len[0] : TLS_MAX_ALPN_LEN - 1;
    uint8_t first = (uint8_t)ch->alpn[0][0], last = (uint8_t)ch->alpn[0][len - 1];
    if (is_alnum(first) && is_alnum(last)) {
        out[0] = (char)first;
        out[1] = (char)last;
    } else {
        static const char hex[] = "0123456789abcdef";
        out[0] = hex[first >> 4];
        out[1] = hex[last & 0x0f];
    }
}

// ja4_hash12 sorts (when asked) the non-GREASE values, hex-joins them with ',' and keeps the
// first 12 hex chars of SHA-256; with `tail` (signature algorithms, wire order) after '_'.
static void ja4_hash12(const uint16_t *v, size_t n, bool drop_sni_alpn, const uint16_t *tail,
                       size_t ntail, char out[13]) {
    uint16_t tmp[TLS_MAX_CIPHERS];
    size_t m = 0;
    for (size_t i = 0; i < n && m < TLS_MAX_CIPHERS; i++) {
        if (tls_is_grease(v[i]) || (drop_sni_alpn && (v[i] == 0x0000 || v[i] == 0x0010))) {
            continue;
        }
        tmp[m++] = v[i];
    }
    if (m == 0) {
        memcpy(out, "000000000000", 13);
        return;
    }
    qsort(tmp, m, sizeof tmp[0], cmp_u16);
    char s[4096];
    sbuf b = {s, sizeof s, 0, false};
    s[0] = '\0';
    sb_list(&b, tmp, m, true, ",");
    bool any_tail = false;
    for (size_t i = 0; i < ntail; i++) {
        any_tail |= !tls_is_grease(tail[i]);
    }
    if (any_tail) {
        sb_puts(&b, "_");
        sb_list(&b, tail, ntail, true, ",");
    }
    hex_digest(EVP_sha256(), s, b.len, out, 12);
}

static size_t count_non_grease(const uint16_t *v, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        c += !tls_is_grease(v[i]);
    }
    return c > 99 ? 99 : c;
}

// JA4 (FoxIO technical_details/JA4.md): JA4_a "t13d1516h2", JA4_b sha256(sorted ciphers)[:12],
// JA4_c sha256(sorted extensions minus SNI/ALPN "_" sigalgs in wire order)[:12].
void tls_fp_ja4(const tls_client_hello *ch, char out[40]) {
    char alpn[3], b[13], c[13];
    ja4_alpn(ch, alpn);
    ja4_hash12(ch->ciphers, ch->num_ciphers, false, NULL, 0, b);
    ja4_hash12(ch->extensions, ch->num_extensions, true, ch->sigalgs, ch->num_sigalgs, c);
    snprintf(out, 40, "t%s%c%02zu%02zu%s_%s_%s", ja4_version(ch), ch->has_sni ? 'd' : 'i',
             count_non_grease(ch->ciphers, ch->num_ciphers),
             count_non_grease(ch->extensions, ch->num_extensions), alpn, b, c);
}
