// escape.c — escaping of attacker-controlled strings, and the small formatters every renderer uses.
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// plain_run: how many bytes at the start of s[0..n) are plain, i.e. copied as they are (ASCII;
// in text mode also not a C0 control, DEL or '\\'). Sixteen at a time where SSE2 is there.
static size_t plain_run(const uint8_t *s, size_t n, bool text) {
    size_t i = 0;
#if defined(__SSE2__)
    // A signed compare with 0x20 finds the bytes >= 0x80 (negative) and the C0 controls at once;
    // JSON mode stops at the bytes >= 0x80 only: their sign bits.
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f),
                  bslash = _mm_set1_epi8('\\');
    for (; n - i >= 16; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i stop = x;
        if (text) {
            stop = _mm_or_si128(_mm_cmplt_epi8(x, space),
                                _mm_or_si128(_mm_cmpeq_epi8(x, del), _mm_cmpeq_epi8(x, bslash)));
        }
        unsigned mask = (unsigned)_mm_movemask_epi8(stop);
        if (mask != 0) {
            return i + (size_t)__builtin_ctz(mask);
        }
    }
#endif
    for (; i < n; i++) {
        uint8_t b = s[i];
        if (b >= 0x80 || (text && (b < 0x20 || b == 0x7f || b == '\\'))) {
            break;
        }
    }
    return i;
}

size_t report_escape(const uint8_t *s, size_t n, report_escape_mode mode, char *out,
                     size_t outlen) {
    if (outlen == 0) {
        return 0;
    }
    // Most strings (summaries, host names) are plain and fit: one scan and one copy. This is
    // exactly what the loops below make of them (total == n < outlen: no ellipsis, no cut).
    size_t run = plain_run(s, n, mode == REPORT_ESC_TEXT);
    if (run == n && n < outlen) {
        if (n > 0) {  // s may be NULL when n is 0
            memcpy(out, s, n);
        }
        out[n] = '\0';
        return n;
    }
    static const char ellipsis[] = "\xe2\x80\xa6";  // "…"
    // First pass: does everything fit? If not, keep room for the ellipsis.
    // A plain byte (ASCII that escape_unit copies as it is: in text mode not a control, DEL or
    // '\\') is handled here without the call: prose is almost all plain.
    bool text = mode == REPORT_ESC_TEXT;
#define PLAIN(b) ((b) < 0x80 && (!text || ((b) >= 0x20 && (b) != 0x7f && (b) != '\\')))
    size_t total = run;  // the plain run found above: one byte each
    char u[16];
    size_t ulen;
    for (size_t i = run; i < n;) {
        if (PLAIN(s[i])) {
            total++;
            i++;
            continue;
        }
        i += escape_unit(s + i, n - i, mode, u, &ulen);
        total += ulen;
    }
    size_t limit = total < outlen ? total : (outlen > 4 ? outlen - 1 - 3 : 0);
    size_t pos = run < limit ? run : limit;  // the plain run, as far as it fits
    if (pos > 0) {
        memcpy(out, s, pos);
    }
    for (size_t i = pos; i < n;) {
        if (PLAIN(s[i])) {
            if (pos + 1 > limit) {
                break;
            }
            out[pos++] = (char)s[i++];
            continue;
        }
        i += escape_unit(s + i, n - i, mode, u, &ulen);
        if (pos + ulen > limit) {
            break;
        }
        memcpy(out + pos, u, ulen);
        pos += ulen;
    }
#undef PLAIN
    if (total >= outlen && outlen > 4) {
        memcpy(out + pos, ellipsis, 3);
        pos += 3;
    }
    out[pos] = '\0';
    return pos;
}

// civil_from_days: the proleptic Gregorian date of day z since 1970-01-01 (H. Hinnant,
// "chrono-Compatible Low-Level Date Algorithms", days_from_civil's inverse); gmtime's calendar.
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                           // [0, 146096]
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
    unsigned mp = (5 * doy + 2) / 153;                                     // [0, 11]
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, unsigned v) {
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

// fmt_datetime writes "YYYY-MM-DDTHH:MM:SS" (19 bytes, no NUL) for sec, by hand: strftime and
// snprintf were 5 % of `analyze --json` (three timestamps per handshake). false for a year
// outside 1000..9999, where strftime's %Y is not four digits: the caller uses strftime then.
// A capture spans a few days at most and every verdict formats two or three times: each thread
// keeps the last day's "YYYY-MM-DD" (the calendar arithmetic was half of the ~300
// instructions a timestamp cost).
// It keeps the last second's whole text too: a handshake's start and end, and the next
// handshake's, mostly fall in one second (a copy instead of six divisions).
static __thread int64_t date_day = INT64_MIN;
static __thread char date_text[10];
static __thread int64_t date_sec = INT64_MIN;  // INT64_MIN: none (its year is never kept)
static __thread char date_sec_text[19];

static bool fmt_datetime(int64_t sec, char out[19]) {
    if (sec == date_sec) {
        memcpy(out, date_sec_text, 19);
        return true;
    }
    int64_t days = sec / 86400, rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    if (days != date_day) {
        int64_t y;
        unsigned mon, day;
        civil_from_days(days, &y, &mon, &day);
        if (y < 1000 || y > 9999) {
            return false;  // not kept: the caller formats it with strftime
        }
        put2(date_text, (unsigned)(y / 100));
        put2(date_text + 2, (unsigned)(y % 100));
        date_text[4] = '-';
        put2(date_text + 5, mon);
        date_text[7] = '-';
        put2(date_text + 8, day);
        date_day = days;
    }
    memcpy(out, date_text, 10);
    out[10] = 'T';
    put2(out + 11, (unsigned)(rem / 3600));
    out[13] = ':';
    put2(out + 14, (unsigned)(rem / 60 % 60));
    out[16] = ':';
    put2(out + 17, (unsigned)(rem % 60));
    memcpy(date_sec_text, out, 19);
    date_sec = sec;
    return true;
}

void report_time(int64_t ts_ns, char out[32]) {
    int64_t sec = ts_ns / 1000000000;
    int64_t ns = ts_ns % 1000000000;
    if (ns < 0) {  // floor division for times before 1970
        ns += 1000000000;
        sec -= 1;
    }
    if (fmt_datetime(sec, out)) {
        unsigned us = (unsigned)(ns / 1000);
        out[19] = '.';
        put2(out + 20, us / 10000);
        put2(out + 22, us / 100 % 100);
        put2(out + 24, us % 100);
        out[26] = 'Z';
        out[27] = '\0';
        return;
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
    if ((int64_t)tt != sec) {
        snprintf(out, 32, "invalid-time");
        return;
    }
    if (fmt_datetime(sec, out)) {
        out[19] = 'Z';
        out[20] = '\0';
        return;
    }
    if (gmtime_r(&tt, &tm) == NULL) {
        snprintf(out, 32, "invalid-time");
        return;
    }
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

size_t report_u64_dec(uint64_t v, char out[21]) {
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    out[n] = '\0';
    return n;
}

size_t report_ip_len(const tls_endpoint *e, char out[48]) {
    if (e->family != 6) {  // by hand: inet_ntop was 3 % of `analyze --json`
        return analyze_ipv4_text(e->addr, out);
    }
    if (inet_ntop(AF_INET6, e->addr, out, 48) == NULL) {
        snprintf(out, 48, "?");
    }
    return strlen(out);
}

void report_ip_text_of(const tls_endpoint *e, report_ip_text *out) {
    out->n = report_ip_len(e, out->s);
}

void report_ip(const tls_endpoint *e, char out[48]) {
    (void)report_ip_len(e, out);
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
