// wireshark.c — the Wireshark hand-off: display filters and ready commands for one connection.
//
// A support engineer continues where tlsdiag stops: every verdict carries the display filter
// that isolates its TCP connection, and — when one capture was read whole, so conn_id is
// Wireshark's tcp.stream (dissect.h) — the stream index. `--wireshark` turns these into
// command lines that can be pasted into a shell.
#include <stdio.h>
#include <string.h>

#include "report_internal.h"

void report_wireshark_filter(const tls_endpoint *client, const tls_endpoint *server,
                             char out[REPORT_WIRESHARK_FILTER_LEN]) {
    char a[48], b[48];
    report_ip(client, a);
    report_ip(server, b);
    // "ip.addr" matches source or destination, so the pair of them (and of ports) selects both
    // directions of exactly this 4-tuple; Wireshark spells the IPv6 field "ipv6.addr".
    const char *fa = client->family == 6 ? "ipv6.addr" : "ip.addr";
    const char *fb = server->family == 6 ? "ipv6.addr" : "ip.addr";
    snprintf(out, REPORT_WIRESHARK_FILTER_LEN, "%s==%s && %s==%s && tcp.port==%u && tcp.port==%u",
             fa, a, fb, b, (unsigned)client->port, (unsigned)server->port);
}

// shell_safe: characters a POSIX shell word may contain unquoted.
static bool shell_safe(const char *s) {
    if (*s == '\0') {
        return false;
    }
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || strchr("_./+-:@%,=", ch) != NULL;
        if (!ok) {
            return false;
        }
    }
    return true;
}

void report_shell_quote(const char *s, char *out, size_t outlen) {
    if (outlen == 0) {
        return;
    }
    if (shell_safe(s)) {
        snprintf(out, outlen, "%s", s);
        return;
    }
    // Single quotes keep everything literal; a quote inside becomes '\'' (close, escaped quote,
    // reopen). Control bytes are escaped for the terminal (the command is then not pasteable,
    // which is better than a file name that rewrites the screen).
    bool control = false;
    for (const char *p = s; *p; p++) {
        control |= (unsigned char)*p < 0x20 || *p == 0x7f;
    }
    char esc[1024];
    report_escape((const uint8_t *)s, strlen(s), REPORT_ESC_TEXT, esc, sizeof esc);
    const char *src = control ? esc : s;
    size_t k = 0;
    out[k++] = '\'';
    // Room is kept for the closing quote and the NUL; a name that does not fit is cut.
    for (; *src && k + 2 < outlen; src++) {
        if (*src != '\'') {
            out[k++] = *src;
        } else if (k + 6 <= outlen) {
            memcpy(out + k, "'\\''", 4);
            k += 4;
        } else {
            break;
        }
    }
    if (k + 1 < outlen) {
        out[k++] = '\'';
    }
    out[k < outlen ? k : outlen - 1] = '\0';
}

void wireshark_commands(report *r, const tls_endpoint *client, const tls_endpoint *server,
                        uint64_t conn_id) {
    FILE *f = r->o.out;
    char filter[REPORT_WIRESHARK_FILTER_LEN];
    report_wireshark_filter(client, server, filter);
    char q[1200];
    const char *const *files = r->o.files;
    size_t n = r->o.num_files;
    if (n == 1 && strcmp(files[0], "-") != 0) {
        report_shell_quote(files[0], q, sizeof q);
        char sel[64 + REPORT_WIRESHARK_FILTER_LEN];
        if (r->o.stream_is_tcp_stream) {
            snprintf(sel, sizeof sel, "tcp.stream eq %llu", (unsigned long long)conn_id);
        } else {
            snprintf(sel, sizeof sel, "%s", filter);
        }
        fprintf(f, "      wireshark -r %s -Y '%s'\n", q, sel);
        fprintf(f, "      tshark -r %s -Y '%s'\n", q, sel);
        return;
    }
    if (n > 1) {
        // Several captures were merged by time; mergecap does the same, and the address/port
        // filter does not depend on how streams are numbered in the merged file.
        fputs("      mergecap -w - ", f);
        for (size_t i = 0; i < n; i++) {
            report_shell_quote(files[i], q, sizeof q);
            fprintf(f, "%s ", q);
        }
        fprintf(f, "| tshark -r - -Y '%s'\n", filter);
        return;
    }
    fprintf(f, "      wireshark -r FILE -Y '%s'   (the capture was read from stdin)\n", filter);
}
