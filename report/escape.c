// escape.c — escaping of attacker-controlled strings, and the small formatters every renderer uses.
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report_internal.h"

// escape_unit writes the output form of the character at s into u (≤ 16 bytes) and returns the
// number of input bytes it consumed.
static size_t escape_unit(const uint8_t *s, size_t n, report_escape_mode mode, char *u,
                          size_t *ulen) {
    size_t len = analyze_utf8_seq(s, n);
    bool escape = (len == 0);
    if (mode == REPORT_ESC_TEXT && len == 1) {
        // C0 controls and DEL move the cursor or start terminal escapes; '\' is escaped so that
        // a literal "\x1b" in the input cannot pass for an escaped byte.
        escape = s[0] < 0x20 || s[0] == 0x7f;
        if (s[0] == '\\') {
            memcpy(u, "\\\\", 2);
            *ulen = 2;
            return 1;
        }
    }
    if (mode == REPORT_ESC_TEXT && len == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
        escape = true;  // C1 controls (U+0080..U+009F): 0x9b is a one-byte CSI on some terminals
    }
    if (escape) {
        size_t k = len ? len : 1;
        for (size_t i = 0; i < k; i++) {
            snprintf(u + 4 * i, 5, "\\x%02x", s[i]);
        }
        *ulen = 4 * k;
        return k;
    }
    memcpy(u, s, len);
    *ulen = len;
    return len;
}

size_t report_escape(const uint8_t *s, size_t n, report_escape_mode mode, char *out,
                     size_t outlen) {
    if (outlen == 0) {
        return 0;
    }
    static const char ellipsis[] = "\xe2\x80\xa6";  // "…"
    // First pass: does everything fit? If not, keep room for the ellipsis.
    size_t total = 0;
    char u[16];
    size_t ulen;
    for (size_t i = 0; i < n;) {
        i += escape_unit(s + i, n - i, mode, u, &ulen);
        total += ulen;
    }
    size_t limit = total < outlen ? total : (outlen > 4 ? outlen - 1 - 3 : 0);
    size_t pos = 0;
    for (size_t i = 0; i < n;) {
        i += escape_unit(s + i, n - i, mode, u, &ulen);
        if (pos + ulen > limit) {
            break;
        }
        memcpy(out + pos, u, ulen);
        pos += ulen;
    }
    if (total >= outlen && outlen > 4) {
        memcpy(out + pos, ellipsis, 3);
        pos += 3;
    }
    out[pos] = '\0';
    return pos;
}

void report_time(int64_t ts_ns, char out[32]) {
    int64_t sec = ts_ns / 1000000000;
    int64_t ns = ts_ns % 1000000000;
    if (ns < 0) {  // floor division for times before 1970
        ns += 1000000000;
        sec -= 1;
    }
    time_t tt = (time_t)sec;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL) {
        snprintf(out, 32, "invalid-time");
        return;
    }
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%06" PRId64 "Z", base, ns / 1000);
}

void report_time_sec(int64_t sec, char out[32]) {
    // Certificate dates reach year 9999 (RFC 5280 §4.1.2.5): format seconds directly, never
    // through nanoseconds, which overflow int64 after 2262.
    time_t tt = (time_t)sec;
    struct tm tm;
    if ((int64_t)tt != sec || gmtime_r(&tt, &tm) == NULL) {
        snprintf(out, 32, "invalid-time");
        return;
    }
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void report_ip(const tls_endpoint *e, char out[48]) {
    if (inet_ntop(e->family == 6 ? AF_INET6 : AF_INET, e->addr, out, 48) == NULL) {
        snprintf(out, 48, "?");
    }
}

void report_endpoint(const tls_endpoint *e, char out[64]) {
    char ip[48];
    report_ip(e, ip);
    if (e->family == 6) {
        snprintf(out, 64, "[%s]:%u", ip, (unsigned)e->port);
    } else {
        snprintf(out, 64, "%s:%u", ip, (unsigned)e->port);
    }
}

void fmt_group(uint64_t n, char out[32]) {
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%" PRIu64, n);
    size_t pos = 0;
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0) {
            out[pos++] = ' ';
        }
        out[pos++] = digits[i];
    }
    out[pos] = '\0';
}

void fmt_bytes(uint64_t n, char out[32]) {
    if (n < 1024) {
        snprintf(out, 32, "%" PRIu64 " bytes", n);
    } else if (n < 10 * 1024) {
        snprintf(out, 32, "%.1f KB", (double)n / 1024.0);
    } else if (n < 1024 * 1024) {
        snprintf(out, 32, "%.0f KB", (double)n / 1024.0);
    } else if (n < (uint64_t)1024 * 1024 * 1024) {
        snprintf(out, 32, "%.1f MB", (double)n / (1024.0 * 1024.0));
    } else {
        snprintf(out, 32, "%.1f GB", (double)n / (1024.0 * 1024.0 * 1024.0));
    }
}

const char *fmt_version(uint16_t v, char out[32]) {
    const char *n = tls_version_name(v);
    if (n != NULL) {
        return n;
    }
    snprintf(out, 32, "0x%04x", (unsigned)v);
    return out;
}

const char *fmt_cipher(uint16_t v, char out[80]) {
    const char *n = tls_cipher_name(v);
    if (n != NULL) {
        return n;
    }
    snprintf(out, 80, "0x%04x", (unsigned)v);
    return out;
}

const char *sslv2_msg_name(uint8_t t) {
    static const char *const names[] = {
        "ERROR",           "CLIENT-HELLO",        "CLIENT-MASTER-KEY",
        "CLIENT-FINISHED", "SERVER-HELLO",        "SERVER-VERIFY",
        "SERVER-FINISHED", "REQUEST-CERTIFICATE", "CLIENT-CERTIFICATE",
    };
    return t < sizeof names / sizeof names[0] ? names[t] : NULL;
}
