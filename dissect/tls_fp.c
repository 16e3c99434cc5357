// tls_fp.c — JA3 / JA3S (salesforce/ja3) and JA4 (FoxIO JA4.md, the BSD-licensed part) of hellos.
//
// All three ignore GREASE values (RFC 8701) wherever they appear. Hashes use OpenSSL EVP.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

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

static const char hex_digits[] = "0123456789abcdef";

// fmt_u16 writes v in decimal (as "%u") or 4-digit lowercase hex (as "%04x") into num[8].
// Hand-written because snprintf dominated the per-ClientHello cost (bench/RESULTS.md).
static void fmt_u16(char num[8], unsigned v, bool hex) {
    if (hex) {
        for (int i = 3; i >= 0; i--) {
            num[i] = hex_digits[v & 0x0f];
            v >>= 4;
        }
        num[4] = '\0';
        return;
    }
    char tmp[8];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && n < 5);
    for (size_t i = 0; i < n; i++) {
        num[i] = tmp[n - 1 - i];
    }
    num[n] = '\0';
}

// sb_list appends the non-GREASE values in decimal (JA3) or 4-digit hex (JA4), joined by sep.
static void sb_list(sbuf *b, const uint16_t *v, size_t n, bool hex, const char *sep) {
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (tls_is_grease(v[i])) {
            continue;
        }
        char num[8];
        fmt_u16(num, v[i], hex);
        if (!first) {
            sb_puts(b, sep);
        }
        sb_puts(b, num);
        first = false;
    }
}

// MD5 and SHA-256 are fetched once: EVP_Digest with EVP_md5()/EVP_sha256() fetches the
// implementation on every call, which cost more than the hashing itself (bench/RESULTS.md).
static pthread_once_t fp_md_once = PTHREAD_ONCE_INIT;
static EVP_MD *fp_md5, *fp_sha256;

static void fp_md_init(void) {
    fp_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    fp_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

// fp_md returns the fetched MD5 (sha256 false) or SHA-256, or the legacy getter if fetch failed.
static const EVP_MD *fp_md(bool sha256) {
    (void)pthread_once(&fp_md_once, fp_md_init);
    if (sha256) {
        return fp_sha256 ? fp_sha256 : EVP_sha256();
    }
    return fp_md5 ? fp_md5 : EVP_md5();
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
        out[2 * i] = hex_digits[d[i] >> 4];
        out[2 * i + 1] = hex_digits[d[i] & 0x0f];
        out[2 * i + 2] = '\0';
    }
    out[hexlen] = '\0';
}

// ---------------------------------------------------------------------------------------------
// Memo: a busy origin sees the same few client stacks over and over, so the fingerprints of a
// ClientHello are remembered by the exact fields they are computed from (a per-thread
// direct-mapped table; a hit is compared in full, so a hit returns exactly what the computation
// would). Building the strings and hashing them was ~15 % of the handshake benchmark.
// ---------------------------------------------------------------------------------------------
enum { FP_MEMO_SLOTS = 64, FP_MEMO_KEY = 640 };

typedef struct fp_memo_entry {
    uint16_t keylen;  // 0: empty
    bool recent;      // the entry of its pair used last (the other one is replaced first)
    uint8_t key[FP_MEMO_KEY];
    char out[40];   // JA3S; for a ClientHello, JA4
    char out3[33];  // JA3 of a ClientHello (computed from the same fields as its JA4)
} fp_memo_entry;

typedef struct fp_key {
    uint8_t b[FP_MEMO_KEY];
    size_t len;
    bool full;  // did not fit: do not memoize
} fp_key;

static void key_put(fp_key *k, const void *p, size_t n) {
    if (k->full || n > sizeof k->b - k->len) {
        k->full = true;
        return;
    }
    memcpy(k->b + k->len, p, n);
    k->len += n;
}

static void key_u16s(fp_key *k, const uint16_t *v, size_t n) {
    uint16_t c = (uint16_t)n;
    key_put(k, &c, sizeof c);
    key_put(k, v, n * sizeof v[0]);
}

// fp_key_make: every ClientHello field JA3 or JA4 reads (see the functions below).
static void fp_key_make(const tls_client_hello *ch, fp_key *k) {
    k->len = 0;
    k->full = false;
    key_put(k, &ch->legacy_version, sizeof ch->legacy_version);
    key_put(k, &ch->has_sni, sizeof ch->has_sni);
    key_u16s(k, ch->ciphers, ch->num_ciphers);
    key_u16s(k, ch->extensions, ch->num_extensions);
    key_u16s(k, ch->groups, ch->num_groups);
    key_u16s(k, ch->sigalgs, ch->num_sigalgs);
    key_u16s(k, ch->versions, ch->num_versions);
    key_put(k, &ch->num_point_formats, sizeof ch->num_point_formats);
    key_put(k, ch->point_formats, ch->num_point_formats);
    key_put(k, &ch->num_alpn, sizeof ch->num_alpn);
    if (ch->num_alpn > 0) {
        // ja4_alpn reads the first id's length and its kept bytes, nothing past them.
        size_t keep =
            ch->alpn_len[0] < TLS_MAX_ALPN_LEN - 1 ? ch->alpn_len[0] : TLS_MAX_ALPN_LEN - 1;
        key_put(k, &ch->alpn_len[0], sizeof ch->alpn_len[0]);
        key_put(k, ch->alpn[0], keep);
    }
}

// fp_key_hash: 8 bytes at a time (byte-wise FNV over ~300-byte keys, three per handshake, was
// 4 % of a run).
static uint32_t fp_key_hash(const fp_key *k) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ k->len;
    size_t i = 0;
    for (; i + 8 <= k->len; i += 8) {
        uint64_t w;
        memcpy(&w, k->b + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    uint64_t tail = 0;
    memcpy(&tail, k->b + i, k->len - i);
    h = (h ^ tail) * 0xc4ceb9fe1a85ec53ull;
    return (uint32_t)(h ^ (h >> 32));
}

static _Thread_local fp_memo_entry fp_memo_client[FP_MEMO_SLOTS];

// fp_memo_get copies the remembered fingerprint into out (n bytes; a ClientHello's JA3 into
// out3 when not NULL) and returns true on a hit; on a miss returns false and *slot is where
// fp_memo_put stores the result.
static bool fp_memo_get(fp_memo_entry *memo, const fp_key *k, char *out, size_t n, char *out3,
                        fp_memo_entry **slot) {
    *slot = NULL;
    if (k->full) {
        return false;
    }
    // Two entries per hash (a 2-way set, least recently used replaced): with one, two busy
    // client stacks whose keys share a slot evicted each other on every handshake.
    fp_memo_entry *set = &memo[(fp_key_hash(k) % (FP_MEMO_SLOTS / 2)) * 2];
    for (int i = 0; i < 2; i++) {
        fp_memo_entry *e = &set[i];
        if (e->keylen == k->len && memcmp(e->key, k->b, k->len) == 0) {
            memcpy(out, e->out, n);
            if (out3 != NULL) {
                memcpy(out3, e->out3, sizeof e->out3);
            }
            e->recent = true;
            set[1 - i].recent = false;
            return true;
        }
    }
    *slot = set[0].recent ? &set[1] : &set[0];
    set[0].recent = *slot == &set[0];
    set[1].recent = *slot == &set[1];
    return false;
}

static void fp_memo_put(fp_memo_entry *e, const fp_key *k, const char *out, size_t n,
                        const char *out3) {
    if (e == NULL || k->len == 0) {
        return;
    }
    e->keylen = (uint16_t)k->len;
    memcpy(e->key, k->b, k->len);
    memcpy(e->out, out, n);
    if (out3 != NULL) {
        memcpy(e->out3, out3, sizeof e->out3);
    }
}

static void tls_fp_ja4_compute(const tls_client_hello *ch, char out[40]);
static void tls_fp_ja3s_compute(const tls_server_hello *sh, char out[33]);

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

static void tls_fp_ja3_compute(const tls_client_hello *ch, char out[33]) {
    char s[8192];
    size_t n = tls_fp_ja3_string(ch, s, sizeof s);
    hex_digest(fp_md(false), s, n, out, 32);
}

// tls_fp_client: JA3 and JA4 come from one key and one memo lookup — both read the fields of
// fp_key_make, so one entry holds both (a key built and hashed twice was ~5 % of the TLS layer).
void tls_fp_client(const tls_client_hello *ch, char ja3[33], char ja4[40]) {
    fp_key k;
    fp_memo_entry *slot;
    fp_key_make(ch, &k);
    if (fp_memo_get(fp_memo_client, &k, ja4, 40, ja3, &slot)) {
        return;
    }
    tls_fp_ja3_compute(ch, ja3);
    tls_fp_ja4_compute(ch, ja4);
    fp_memo_put(slot, &k, ja4, 40, ja3);
}

void tls_fp_ja3(const tls_client_hello *ch, char out[33]) {
    char ja4[40];
    tls_fp_client(ch, out, ja4);
}

static _Thread_local fp_memo_entry fp_memo_ja3s[FP_MEMO_SLOTS];

// JA3S: "SSLVersion,Cipher,SSLExtension" of the ServerHello (memoized like JA3, by those fields).
void tls_fp_ja3s(const tls_server_hello *sh, char out[33]) {
    fp_key k;  // not zero-initialized: key_put writes the bytes below len (640 cleared was ~85)
    k.len = 0;
    k.full = false;
    key_put(&k, &sh->legacy_version, sizeof sh->legacy_version);
    key_put(&k, &sh->cipher, sizeof sh->cipher);
    key_u16s(&k, sh->extensions, sh->num_extensions);
    fp_memo_entry *slot;
    if (fp_memo_get(fp_memo_ja3s, &k, out, 33, NULL, &slot)) {
        return;
    }
    tls_fp_ja3s_compute(sh, out);
    fp_memo_put(slot, &k, out, 33, NULL);
}

static void tls_fp_ja3s_compute(const tls_server_hello *sh, char out[33]) {
    char s[1024];
    sbuf b = {s, sizeof s, 0, false};
    char num[16];
    s[0] = '\0';
    snprintf(num, sizeof num, "%u,%u,", (unsigned)sh->legacy_version, (unsigned)sh->cipher);
    sb_puts(&b, num);
    sb_list(&b, sh->extensions, sh->num_extensions, false, "-");
    hex_digest(fp_md(false), s, b.len, out, 32);
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
    hex_digest(fp_md(true), s, b.len, out, 12);
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
    char ja3[33];
    tls_fp_client(ch, ja3, out);
}

static void tls_fp_ja4_compute(const tls_client_hello *ch, char out[40]) {
    char alpn[3], b[13], c[13];
    ja4_alpn(ch, alpn);
    ja4_hash12(ch->ciphers, ch->num_ciphers, false, NULL, 0, b);
    ja4_hash12(ch->extensions, ch->num_extensions, true, ch->sigalgs, ch->num_sigalgs, c);
    snprintf(out, 40, "t%s%c%02zu%02zu%s_%s_%s", ja4_version(ch), ch->has_sni ? 'd' : 'i',
             count_non_grease(ch->ciphers, ch->num_ciphers),
             count_non_grease(ch->extensions, ch->num_extensions), alpn, b, c);
}
