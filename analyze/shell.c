// shell.c — the one shell quoting of every command tlsdiag prints, and the RFC 6066 host-name
// check that decides whether an SNI may enter such a command at all.
//
// Commands we print (the Check line, fix steps, --wireshark lines, report.html/md) are pasted
// into a root shell by people debugging an outage; the strings in them come from the wire or
// from file names. Every such string becomes one POSIX shell word here, and a string that no
// shell word can carry safely (NUL, control bytes, invalid UTF-8) is refused: the caller prints
// no command and says why, rather than a command that is not what it looks like.
#include <arpa/inet.h>
#include <string.h>

#include "analyze_internal.h"

size_t analyze_utf8_seq(const uint8_t *s, size_t n) {
    uint8_t b = s[0];
    if (b < 0x80) {
        return 1;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (b >= 0xc2 && b <= 0xdf) {
        len = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
        len = 3;
        if (b == 0xe0) {
            lo = 0xa0;  // overlong
        } else if (b == 0xed) {
            hi = 0x9f;  // surrogates
        }
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4;
        if (b == 0xf0) {
            lo = 0x90;  // overlong
        } else if (b == 0xf4) {
            hi = 0x8f;  // above U+10FFFF
        }
    } else {
        return 0;
    }
    if (len > n || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return len;
}

// shell_plain: a byte a POSIX shell word may hold unquoted (no globbing, expansion or split).
// A switch, not strchr: every host and SNI of every verdict's check command passes here.
static bool shell_plain(uint8_t ch) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) {
        return true;
    }
    switch (ch) {
        case '_':
        case '.':
        case '/':
        case '+':
        case '-':
        case ':':
        case '@':
        case '%':
        case ',':
        case '=':
            return true;
        default:
            return false;
    }
}

// pasteable: s[0..n) can sit inside single quotes and print as itself: no NUL (it would cut the
// word), no C0/C1 control or DEL (a newline ends the command, an escape rewrites the screen),
// only well-formed UTF-8.
static bool pasteable(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        if (s[i] >= 0x20 && s[i] < 0x7f) {
            i++;  // printable ASCII, the usual case, needs no UTF-8 decoding
            continue;
        }
        size_t len = analyze_utf8_seq(s + i, n - i);
        if (len == 0 || s[i] < 0x20 || s[i] == 0x7f ||
            (len == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)) {
            return false;
        }
        i += len;
    }
    return true;
}

bool analyze_shell_quote(const char *str, size_t n, char *out, size_t outlen) {
    const uint8_t *s = (const uint8_t *)str;
    if (outlen == 0) {
        return false;
    }
    out[0] = '\0';
    if (!pasteable(s, n)) {
        return false;
    }
    bool plain = n > 0;
    for (size_t i = 0; i < n && plain; i++) {
        plain = shell_plain(s[i]);
    }
    size_t k = 0;
    if (plain) {
        if (n >= outlen) {
            return false;
        }
        memcpy(out, s, n);
        k = n;
    } else {
        // Inside single quotes nothing is special but the quote itself, which becomes '\''
        // (close, escaped quote, reopen). Room is checked before each piece: never cut.
        out[k++] = '\'';
        for (size_t i = 0; i < n; i++) {
            const char *piece = s[i] == '\'' ? "'\\''" : (const char *)&s[i];
            size_t plen = s[i] == '\'' ? 4 : 1;
            if (k + plen + 2 > outlen) {  // the piece, the closing quote, the NUL
                out[0] = '\0';
                return false;
            }
            memcpy(out + k, piece, plen);
            k += plen;
        }
        if (k + 2 > outlen) {
            out[0] = '\0';
            return false;
        }
        out[k++] = '\'';
    }
    out[k] = '\0';
    return true;
}

// label_problem: why the label s[start..end) is not an RFC 1123 label (NULL: it is one).
static const char *label_problem(const uint8_t *s, size_t start, size_t end) {
    size_t len = end - start;
    if (len == 0) {
        return "has an empty label";
    }
    if (len > 63) {
        return "has a label longer than 63 bytes";
    }
    if (s[start] == '-' || s[end - 1] == '-') {
        return "has a label that starts or ends with '-'";
    }
    return NULL;
}

// ipv4_literal: s[0..n) (digits and dots, n ≤ 253) is an IPv4 address as inet_pton reads it.
static bool ipv4_literal(const uint8_t *s, size_t n) {
    char ip[254];
    unsigned char addr[4];
    memcpy(ip, s, n);
    ip[n] = '\0';
    return inet_pton(AF_INET, ip, addr) == 1;
}

// host_name_problem_slow: analyze_host_name_problem for any bytes, each check in turn (the
// order decides which problem a name with several is reported for).
static const char *host_name_problem_slow(const uint8_t *s, size_t n) {
    if (memchr(s, '\0', n) != NULL) {
        return "contains a NUL byte";
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            return "contains control bytes";
        }
        if (s[i] >= 0x80) {
            return "is not ASCII";
        }
    }
    if (n > 253) {
        return "is longer than 253 bytes";
    }
    if (s[n - 1] == '.') {
        return "ends with a dot";
    }
    size_t start = 0;
    bool digits_only = true;  // only digits and dots: it may be an IPv4 literal
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            uint8_t c = s[i];
            digits_only &= c >= '0' && c <= '9';
            bool ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_';
            if (!ldh) {
                return "has a byte other than letters, digits, '-', '_' and '.'";
            }
            continue;
        }
        const char *why = label_problem(s, start, i);
        if (why) {
            return why;
        }
        start = i + 1;
    }
    // inet_pton(AF_INET) accepts digits and dots only (POSIX: a.b.c.d)
    return digits_only && ipv4_literal(s, n) ? "is an IPv4 address literal" : NULL;
}

const char *analyze_host_name_problem(const char *str, size_t n) {
    // RFC 6066 §3: "HostName" contains the fully qualified DNS hostname of the server, as
    // understood by the client ... represented as a byte string using ASCII encoding without a
    // trailing dot ... Literal IPv4 and IPv6 addresses are not permitted in "HostName".
    // Labels follow RFC 1123 §2.1 (letters, digits, hyphen; not starting or ending with '-';
    // ≤ 63 bytes; the name ≤ 253). '_' is accepted: not LDH, but real names carry it (service
    // and internal hosts), OpenSSL sends it, and it is a plain shell byte.
    const uint8_t *s = (const uint8_t *)str;
    if (n == 0) {
        return "is empty";
    }
    // The usual SNI holds only letters, digits, '-', '_' and dots: one walk checks its bytes and
    // labels (the first faulty label kept, reported after the checks that come before it).
    // Any other byte sends it to the slow path, which finds that byte's problem in order. Every
    // verdict checks its SNI: the walks of the slow path were ~640 instructions a handshake.
    size_t start = 0;
    bool digits_only = true;
    const char *label = NULL;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '.') {
            label = label ? label : label_problem(s, start, i);
            start = i + 1;
            continue;
        }
        bool digit = (unsigned)(c - '0') < 10u;
        uint8_t lower = c | 0x20;  // 'A'..'Z' → 'a'..'z'; no other byte lands there
        if (!digit && !(lower >= 'a' && lower <= 'z') && c != '-' && c != '_') {
            return host_name_problem_slow(s, n);
        }
        digits_only &= digit;
    }
    if (n > 253) {
        return "is longer than 253 bytes";
    }
    if (s[n - 1] == '.') {
        return "ends with a dot";
    }
    label = label ? label : label_problem(s, start, n);
    if (label) {
        return label;
    }
    return digits_only && ipv4_literal(s, n) ? "is an IPv4 address literal" : NULL;
}
