// prefix.c — CloudFront prefix lists: the embedded text list, AWS ip-ranges.json, longest match.
//
// Prefixes are kept in one array sorted by (family, prefix length descending, network). A lookup
// walks the distinct lengths from longest to shortest and binary-searches the masked address,
// so the first hit is the longest match (the ORIGIN_FACING ranges nest inside CLOUDFRONT ones).
#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyze_internal.h"

static void mask_addr(uint8_t addr[16], unsigned bits, unsigned total) {
    for (unsigned i = 0; i < total / 8; i++) {
        unsigned keep = bits >= (i + 1) * 8 ? 8 : (bits > i * 8 ? bits - i * 8 : 0);
        addr[i] = (uint8_t)(addr[i] & (uint8_t)(0xFF00u >> keep));
    }
}

// parse_cidr reads "a.b.c.d/n" or "x:y::/n" into *out.
static bool parse_cidr(const char *s, an_prefix *out) {
    char buf[64];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof buf) {
        return false;
    }
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = '\0';
    char *end = NULL;
    unsigned long bits = strtoul(slash + 1, &end, 10);
    if (end == slash + 1 || *end != '\0') {
        return false;
    }
    an_prefix p;
    memset(&p, 0, sizeof p);
    if (inet_pton(AF_INET, buf, p.addr) == 1 && bits <= 32) {
        p.family = 4;
    } else if (inet_pton(AF_INET6, buf, p.addr) == 1 && bits <= 128) {
        p.family = 6;
    } else {
        return false;
    }
    p.bits = (uint8_t)bits;
    mask_addr(p.addr, p.bits, p.family == 4 ? 32 : 128);
    *out = p;
    return true;
}

static int prefix_cmp(const void *a, const void *b) {
    const an_prefix *x = a, *y = b;
    if (x->family != y->family) {
        return x->family < y->family ? -1 : 1;
    }
    if (x->bits != y->bits) {
        return x->bits > y->bits ? -1 : 1;
    }
    return memcmp(x->addr, y->addr, 16);
}

// finish sorts, removes duplicates and hands the array to out.
static void finish(an_prefix *v, size_t n, const char *source, an_prefixes *out) {
    qsort(v, n, sizeof v[0], prefix_cmp);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w == 0 || prefix_cmp(&v[w - 1], &v[i]) != 0) {
            v[w++] = v[i];
        }
    }
    out->v = v;
    out->n = w;
    an_copy(out->source, sizeof out->source, source);
    // The first-octet index: a prefix shorter than /8 is listed under each octet it covers.
    size_t total = 0;
    for (size_t i = 0; i < w; i++) {
        if (v[i].family == 4) {
            total += v[i].bits >= 8 ? 1u : 1u << (8 - v[i].bits);
        }
    }
    memset(out->v4_first, 0, sizeof out->v4_first);
    out->v4_list = total ? malloc(total * sizeof *out->v4_list) : NULL;
    if (total && !out->v4_list) {
        return;  // an_prefixes_match falls back to the binary searches
    }
    uint32_t k = 0;
    for (unsigned o = 0; o < 256; o++) {
        out->v4_first[o] = k;
        for (size_t i = 0; i < w; i++) {
            unsigned span = v[i].bits >= 8 ? 1u : 1u << (8 - v[i].bits);
            if (v[i].family == 4 && o >= v[i].addr[0] && o < v[i].addr[0] + span) {
                out->v4_list[k++] = (uint32_t)i;
            }
        }
    }
    out->v4_first[256] = k;
}

// match_v4: the longest IPv4 prefix holding addr, through the first-octet index.
static const an_prefix *match_v4(const an_prefixes *p, const uint8_t addr[4]) {
    uint32_t a =
        (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 | (uint32_t)addr[2] << 8 | addr[3];
    for (uint32_t k = p->v4_first[addr[0]]; k < p->v4_first[addr[0] + 1]; k++) {
        const an_prefix *x = &p->v[p->v4_list[k]];
        uint32_t net = (uint32_t)x->addr[0] << 24 | (uint32_t)x->addr[1] << 16 |
                       (uint32_t)x->addr[2] << 8 | x->addr[3];
        uint32_t mask = x->bits == 0 ? 0 : 0xffffffffu << (32 - x->bits);
        if ((a & mask) == net) {
            return x;
        }
    }
    return NULL;
}

// The text list has two sections (see data/cloudfront-origin-facing.txt): CLOUDFRONT_ORIGIN_FACING
// then CLOUDFRONT. Use the first; fall back to the second only when the first is empty.
bool an_prefixes_parse_text(const char *text, size_t len, an_prefixes *out, char *err,
                            size_t errlen) {
    an_prefix *v = calloc(AN_MAX_PREFIXES, sizeof *v);
    size_t n[2] = {0, 0};  // per section, origin-facing stored from the front
    an_prefix *other = calloc(AN_MAX_PREFIXES, sizeof *other);
    if (!v || !other) {
        free(v);
        free(other);
        snprintf(err, errlen, "prefix list: out of memory");
        return false;
    }
    int section = 0;
    char date[32] = "";
    size_t pos = 0;
    unsigned lineno = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n') {
            end++;
        }
        lineno++;
        char line[256];
        size_t ln = end - pos < sizeof line - 1 ? end - pos : sizeof line - 1;
        memcpy(line, text + pos, ln);
        line[ln] = '\0';
        pos = end + 1;
        if (line[0] == '#') {
            if (strstr(line, "service=CLOUDFRONT ")) {
                section = 1;
            }
            const char *cd = strstr(line, "createDate=");
            if (cd && date[0] == '\0') {
                snprintf(date, sizeof date, "%.10s", cd + strlen("createDate="));
            }
            continue;
        }
        if (line[0] == '\0') {
            continue;
        }
        an_prefix p;
        if (!parse_cidr(line, &p)) {
            snprintf(err, errlen, "prefix list line %u: not a CIDR prefix: \"%s\"", lineno, line);
            free(v);
            free(other);
            return false;
        }
        if (n[section] < AN_MAX_PREFIXES) {
            (section == 0 ? v : other)[n[section]++] = p;
        }
    }
    char source[160];
    snprintf(source, sizeof source, "embedded %s", date[0] ? date : "list");
    if (n[0] == 0) {
        free(v);
        finish(other, n[1], source, out);
    } else {
        free(other);
        finish(v, n[0], source, out);
    }
    return true;
}

// collect appends the prefixes of `service` from one ip-ranges.json array.
static void collect(json_t *arr, const char *field, const char *service, an_prefix *v, size_t *n) {
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const char *svc = json_string_value(json_object_get(e, "service"));
        const char *cidr = json_string_value(json_object_get(e, field));
        an_prefix p;
        if (svc && cidr && strcmp(svc, service) == 0 && *n < AN_MAX_PREFIXES &&
            parse_cidr(cidr, &p)) {
            v[(*n)++] = p;
        }
    }
}

// AWS ip-ranges.json: {"syncToken", "createDate", "prefixes": [{"ip_prefix", "service"}...],
// "ipv6_prefixes": [{"ipv6_prefix", "service"}...]}
// (https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-syntax.html).
bool an_prefixes_load_json(const char *path, an_prefixes *out, char *err, size_t errlen) {
    json_error_t je;
    static const char want[] =
        "AWS's ip-ranges.json (https://ip-ranges.amazonaws.com/ip-ranges.json)";
    struct stat st;
    if (stat(path, &st) != 0 || S_ISDIR(st.st_mode)) {
        an_path_problem("--ranges", path, false, want, err, errlen);
        return false;
    }
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        snprintf(err, errlen, "--ranges %s:%d: not JSON (%s); give %s", path, je.line, je.text,
                 want);
        return false;
    }
    json_t *v4 = json_object_get(root, "prefixes");
    json_t *v6 = json_object_get(root, "ipv6_prefixes");
    if (!json_is_array(v4) && !json_is_array(v6)) {
        snprintf(err, errlen, "--ranges %s: no \"prefixes\" or \"ipv6_prefixes\" array: not %s",
                 path, want);
        json_decref(root);
        return false;
    }
    an_prefix *v = calloc(AN_MAX_PREFIXES, sizeof *v);
    if (!v) {
        json_decref(root);
        snprintf(err, errlen, "%s: out of memory", path);
        return false;
    }
    size_t n = 0;
    collect(v4, "ip_prefix", "CLOUDFRONT_ORIGIN_FACING", v, &n);
    collect(v6, "ipv6_prefix", "CLOUDFRONT_ORIGIN_FACING", v, &n);
    if (n == 0) {
        collect(v4, "ip_prefix", "CLOUDFRONT", v, &n);
        collect(v6, "ipv6_prefix", "CLOUDFRONT", v, &n);
    }
    if (n == 0) {
        snprintf(err, errlen, "%s: no CLOUDFRONT_ORIGIN_FACING or CLOUDFRONT prefixes", path);
        free(v);
        json_decref(root);
        return false;
    }
    char source[160];
    const char *date = json_string_value(json_object_get(root, "createDate"));
    snprintf(source, sizeof source, "%.100s (%.30s)", path, date ? date : "no createDate");
    finish(v, n, source, out);
    json_decref(root);
    return true;
}

// put_dec appends the decimal digits of v (< 1000) at p; returns the new end.
static char *put_dec(char *p, unsigned v) {
    if (v >= 100) {
        *p++ = (char)('0' + v / 100);
    }
    if (v >= 10) {
        *p++ = (char)('0' + v / 10 % 10);
    }
    *p++ = (char)('0' + v % 10);
    return p;
}

// format_prefix writes "a.b.c.d/n" or "v6addr/n". IPv4 by hand: the summary formats every
// client's network, and inet_ntop + snprintf were 1 % of a whole run (bench/NOTES.md).
static void format_prefix(uint8_t family, const uint8_t addr[16], unsigned bits, char *net,
                          size_t netlen) {
    if (family == 4 && netlen >= sizeof "255.255.255.255/32") {
        char *p = net;
        for (int i = 0; i < 4; i++) {
            p = put_dec(p, addr[i]);
            *p++ = i < 3 ? '.' : '/';
        }
        p = put_dec(p, bits > 32 ? 32 : bits);
        *p = '\0';
        return;
    }
    char a[INET6_ADDRSTRLEN];
    inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, a, sizeof a);
    snprintf(net, netlen, "%s/%u", a, bits);
}

bool an_prefixes_match(const an_prefixes *p, const tls_endpoint *ep, char *net, size_t netlen) {
    // IPv4 through the first-octet index (walking every run of the list for each connection
    // was 5 % of the handshake benchmark); IPv6 by a binary search per prefix length.
    if (ep->family == 4 && p->v4_list) {
        const an_prefix *hit = match_v4(p, ep->addr);
        if (hit) {
            format_prefix(hit->family, hit->addr, hit->bits, net, netlen);
        }
        return hit != NULL;
    }
    size_t i = 0;
    unsigned total = ep->family == 4 ? 32 : 128;
    while (i < p->n) {
        // one run of equal (family, bits): binary search inside it
        size_t j = i;
        while (j < p->n && p->v[j].family == p->v[i].family && p->v[j].bits == p->v[i].bits) {
            j++;
        }
        if (p->v[i].family == ep->family) {
            an_prefix key;
            memset(&key, 0, sizeof key);
            key.family = ep->family;
            key.bits = p->v[i].bits;
            memcpy(key.addr, ep->addr, total / 8);
            mask_addr(key.addr, key.bits, total);
            const an_prefix *hit = bsearch(&key, &p->v[i], j - i, sizeof key, prefix_cmp);
            if (hit) {
                format_prefix(hit->family, hit->addr, hit->bits, net, netlen);
                return true;
            }
        }
        i = j;
    }
    return false;
}

bool an_prefixes_format_at(const an_prefixes *p, size_t i, char *net, size_t netlen) {
    if (i >= p->n) {
        return false;
    }
    format_prefix(p->v[i].family, p->v[i].addr, p->v[i].bits, net, netlen);
    return true;
}

void an_prefixes_free(an_prefixes *p) {
    if (p) {
        free(p->v);
        free(p->v4_list);
        p->v = NULL;
        p->v4_list = NULL;
        p->n = 0;
    }
}

void an_endpoint_network(const tls_endpoint *ep, char *net, size_t netlen) {
    if (ep->family == 4 && netlen >= sizeof "255.255.255.255/32") {
        // format_prefix of the /24, written directly: the summary counts every verdict's client
        char *p = net;
        for (int i = 0; i < 3; i++) {
            p = put_dec(p, ep->addr[i]);
            *p++ = '.';
        }
        memcpy(p, "0/24", sizeof "0/24");
        return;
    }
    uint8_t a[16];
    memcpy(a, ep->addr, 16);
    unsigned bits = ep->family == 4 ? 24 : 48;
    mask_addr(a, bits, ep->family == 4 ? 32 : 128);
    format_prefix(ep->family, a, bits, net, netlen);
}

size_t analyze_ipv4_text(const uint8_t a[4], char out[16]) {
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100) {
            out[n++] = (char)('0' + v / 100);
        }
        if (v >= 10) {
            out[n++] = (char)('0' + v / 10 % 10);
        }
        out[n++] = (char)('0' + v % 10);
        out[n++] = i < 3 ? '.' : '\0';
    }
    return n - 1;
}

void an_endpoint_addr(const tls_endpoint *ep, char *out, size_t outlen) {
    char a[INET6_ADDRSTRLEN] = "?";
    if (ep->family == 4) {
        analyze_ipv4_text(ep->addr, a);
    } else {
        inet_ntop(AF_INET6, ep->addr, a, sizeof a);
    }
    an_copy(out, outlen, a);
}
