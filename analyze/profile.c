// profile.c — the client profile: parsing the versioned "key = value" file, the generic profile.
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_internal.h"

void an_copy(char *dst, size_t dstlen, const char *src) {
    if (dstlen == 0) {
        return;
    }
    size_t n = strlen(src);
    if (n >= dstlen) {
        n = dstlen - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

bool an_list_has(const uint16_t *list, uint32_t n, uint16_t v) {
    if (n == 0) {
        return true;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (list[i] == v) {
            return true;
        }
    }
    return false;
}

bool an_profile_has_curve(const an_profile *p, const char *curve) {
    if (p->num_curves == 0) {
        return true;
    }
    for (uint32_t i = 0; i < p->num_curves; i++) {
        if (strcmp(p->curves[i], curve) == 0) {
            return true;
        }
    }
    return false;
}

// offered_fit: every code point of list[0..n) (GREASE and the signalling suites skipped) is in
// the profile list want[0..nwant); an empty profile list accepts anything.
static bool offered_fit(const uint16_t *list, uint32_t n, const uint16_t *want, uint32_t nwant) {
    for (uint32_t i = 0; i < n; i++) {
        // TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746), TLS_FALLBACK_SCSV (RFC 7507)
        if (tls_is_grease(list[i]) || list[i] == 0x00FF || list[i] == 0x5600) {
            continue;
        }
        if (!an_list_has(want, nwant, list[i])) {
            return false;
        }
    }
    return true;
}

uint16_t an_hello_max_version(const tls_client_hello *ch) {
    uint16_t maxv = 0;
    for (uint32_t i = 0; i < ch->num_versions; i++) {
        if (!tls_is_grease(ch->versions[i]) && ch->versions[i] > maxv) {
            maxv = ch->versions[i];
        }
    }
    return maxv ? maxv : ch->legacy_version;
}

bool an_profile_fits(const an_profile *p, const tls_client_hello *ch) {
    return ch->present && an_list_has(p->versions, p->num_versions, an_hello_max_version(ch)) &&
           offered_fit(ch->ciphers, ch->num_ciphers, p->ciphers, p->num_ciphers) &&
           offered_fit(ch->groups, ch->num_groups, p->groups, p->num_groups) &&
           offered_fit(ch->sigalgs, ch->num_sigalgs, p->sigalgs, p->num_sigalgs);
}

void an_profile_why(const an_profile *p, const tls_client_hello *ch, char *out, size_t outlen) {
    uint16_t first = 0;
    for (uint32_t i = 0; i < ch->num_versions && !first; i++) {
        first = tls_is_grease(ch->versions[i]) ? 0 : ch->versions[i];
    }
    bool pss = false;
    for (uint32_t i = 0; i < ch->num_sigalgs; i++) {
        pss |= ch->sigalgs[i] >= 0x0804 && ch->sigalgs[i] <= 0x080B;
    }
    // s2n's -PQ variants are the same policies plus the ML-KEM hybrid groups (0x11EB-0x11ED,
    // draft-kwiatkowski-tls-ecdhe-mlkem): a hello that offers one was sent by a -PQ policy.
    bool mlkem = false;
    for (uint32_t i = 0; i < ch->num_groups; i++) {
        mlkem |= ch->groups[i] >= 0x11EB && ch->groups[i] <= 0x11ED;
    }
    char shares[96];
    unsigned n = tls_key_share_names(ch, shares, sizeof shares);
    snprintf(out, outlen, "ClientHellos match s2n %s%s: %s%s%s%s%s",
             p->policy[0] ? p->policy : p->name, mlkem ? "-PQ" : "",
             first == 0x0304 ? "TLS 1.3 first" : "TLS 1.2 at most", shares[0] ? ", " : "", shares,
             n > 1 ? " key shares"
             : n   ? " key share"
                   : "",
             pss ? ", RSA-PSS offered" : ", no RSA-PSS");
}

void an_profile_generic(an_profile *out) {
    memset(out, 0, sizeof *out);
    an_copy(out->name, sizeof out->name, "generic");
    an_copy(out->version, sizeof out->version, "builtin");
    out->rsa_min_bits = 2048;  // NIST SP 800-131A: RSA below 2048 bits is disallowed
    out->renegotiation = true;
}

// Version names as the AWS API spells them (OriginSslProtocols) and as OpenSSL does.
static const struct {
    const char *name;
    uint16_t v;
} version_names[] = {
    {"SSLv3", 0x0300},   {"TLSv1", 0x0301},   {"TLSv1.0", 0x0301},
    {"TLSv1.1", 0x0302}, {"TLSv1.2", 0x0303}, {"TLSv1.3", 0x0304},
};

static bool parse_version(const char *w, uint16_t *out) {
    for (size_t i = 0; i < sizeof version_names / sizeof version_names[0]; i++) {
        if (strcmp(w, version_names[i].name) == 0) {
            *out = version_names[i].v;
            return true;
        }
    }
    return false;
}

static bool parse_hex16(const char *w, uint16_t *out) {
    char *end = NULL;
    if (strncmp(w, "0x", 2) != 0 && strncmp(w, "0X", 2) != 0) {
        return false;
    }
    unsigned long v = strtoul(w + 2, &end, 16);
    if (end == w + 2 || *end != '\0' || v > 0xFFFF) {
        return false;
    }
    *out = (uint16_t)v;
    return true;
}

static bool parse_uint(const char *w, uint32_t *out) {
    char *end = NULL;
    unsigned long v = strtoul(w, &end, 10);
    if (end == w || *end != '\0' || v > 1000000) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

// parse_list splits value into words and converts each with conv into list (cap AN_MAX_...).
static bool parse_list(char *value, bool (*conv)(const char *, uint16_t *), uint16_t *list,
                       uint32_t *n) {
    *n = 0;
    for (char *save = NULL, *w = strtok_r(value, " \t,", &save); w;
         w = strtok_r(NULL, " \t,", &save)) {
        if (*n >= AN_MAX_PROFILE_LIST || !conv(w, &list[*n])) {
            return false;
        }
        (*n)++;
    }
    return true;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

// apply_line sets one key of p; false when the key is unknown or the value does not parse.
static bool apply_line(an_profile *p, const char *key, char *value) {
    if (strcmp(key, "name") == 0) {
        an_copy(p->name, sizeof p->name, value);
        p->cloudfront = strncmp(value, "cloudfront", 10) == 0;
        return true;
    }
    if (strcmp(key, "policy") == 0) {
        an_copy(p->policy, sizeof p->policy, value);
        return true;
    }
    if (strcmp(key, "version") == 0) {
        an_copy(p->version, sizeof p->version, value);
        return true;
    }
    if (strcmp(key, "versions") == 0) {
        return parse_list(value, parse_version, p->versions, &p->num_versions);
    }
    if (strcmp(key, "ciphers") == 0) {
        return parse_list(value, parse_hex16, p->ciphers, &p->num_ciphers);
    }
    if (strcmp(key, "groups") == 0) {
        return parse_list(value, parse_hex16, p->groups, &p->num_groups);
    }
    if (strcmp(key, "sigalgs") == 0) {
        return parse_list(value, parse_hex16, p->sigalgs, &p->num_sigalgs);
    }
    if (strcmp(key, "rsa_min_bits") == 0) {
        return parse_uint(value, &p->rsa_min_bits);
    }
    if (strcmp(key, "rsa_max_bits") == 0) {
        return parse_uint(value, &p->rsa_max_bits);
    }
    if (strcmp(key, "ec_curves") == 0) {
        p->num_curves = 0;
        for (char *save = NULL, *w = strtok_r(value, " \t,", &save); w;
             w = strtok_r(NULL, " \t,", &save)) {
            if (p->num_curves >= AN_MAX_CURVES || strlen(w) >= sizeof p->curves[0]) {
                return false;
            }
            an_copy(p->curves[p->num_curves++], sizeof p->curves[0], w);
        }
        return true;
    }
    if (strcmp(key, "renegotiation") == 0) {
        p->renegotiation = strcmp(value, "yes") == 0;
        return strcmp(value, "yes") == 0 || strcmp(value, "no") == 0;
    }
    if (strcmp(key, "cert_sha1") == 0) {
        p->cert_sha1 = strcmp(value, "yes") == 0;
        return strcmp(value, "yes") == 0 || strcmp(value, "no") == 0;
    }
    if (strcmp(key, "chain_order") == 0) {
        p->leaf_first_only = strcmp(value, "leaf_first") == 0;
        return strcmp(value, "leaf_first") == 0 || strcmp(value, "strict") == 0;
    }
    // Informational keys: documented in the file, not used for decisions.
    return strcmp(key, "sni") == 0 || strcmp(key, "trust") == 0;
}

bool an_profile_parse(const char *text, size_t len, an_profile *out, char *err, size_t errlen) {
    an_profile p;
    memset(&p, 0, sizeof p);
    size_t pos = 0;
    unsigned lineno = 0;
    char line[1024];
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n') {
            end++;
        }
        lineno++;
        size_t n = end - pos;
        if (n >= sizeof line) {
            snprintf(err, errlen, "profile line %u: longer than %zu bytes", lineno, sizeof line);
            return false;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos = end + 1;
        char *hash = strchr(line, '#');
        if (hash) {
            *hash = '\0';
        }
        char *s = trim(line);
        if (*s == '\0') {
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "profile line %u: expected \"key = value\"", lineno);
            return false;
        }
        *eq = '\0';
        char *key = trim(s);
        char *value = trim(eq + 1);
        if (!apply_line(&p, key, value)) {
            snprintf(err, errlen, "profile line %u: bad key or value for \"%s\"", lineno, key);
            return false;
        }
    }
    if (p.name[0] == '\0' || p.version[0] == '\0') {
        snprintf(err, errlen, "profile: \"name\" and \"version\" are required");
        return false;
    }
    *out = p;
    return true;
}
