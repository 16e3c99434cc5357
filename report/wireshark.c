// wireshark.c — the Wireshark hand-off: display filters and ready commands for one connection.
//
// A support engineer continues where tlsdiag stops: every verdict carries the display filter
// that isolates its TCP connection, and — when one capture was read whole, so conn_id is
// Wireshark's tcp.stream (dissect.h) — the stream index. `--wireshark` turns these into
// command lines that can be pasted into a shell.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

// put appends n bytes at *pos when they fit (with the NUL); the filter never nears its 192
// bytes (two 45-byte IPv6 texts, two ports), the check keeps it so.
static void put(char *out, size_t *pos, const char *s, size_t n) {
    if (*pos + n < REPORT_WIRESHARK_FILTER_LEN) {
        memcpy(out + *pos, s, n);
        *pos += n;
    }
}

size_t report_wireshark_filter_ips(const tls_endpoint *client, const report_ip_text *cip,
                                   const tls_endpoint *server, const report_ip_text *sip,
                                   char out[REPORT_WIRESHARK_FILTER_LEN]) {
    // "ip.addr" matches source or destination, so the pair of them (and of ports) selects both
    // directions of exactly this 4-tuple; Wireshark spells the IPv6 field "ipv6.addr". Built
    // with memcpy, not snprintf: every verdict of `analyze --json` carries one.
    char num[21];
    size_t pos = 0, n;
    for (int i = 0; i < 2; i++) {
        const tls_endpoint *e = i == 0 ? client : server;
        const report_ip_text *ip = i == 0 ? cip : sip;
        if (i > 0) {
            put(out, &pos, " && ", 4);
        }
        if (e->family == 6) {
            put(out, &pos, "ipv6.addr==", 11);
        } else {
            put(out, &pos, "ip.addr==", 9);
        }
        put(out, &pos, ip->s, ip->n);
    }
    put(out, &pos, " && tcp.port==", 14);
    n = report_u64_dec(client->port, num);
    put(out, &pos, num, n);
    put(out, &pos, " && tcp.port==", 14);
    n = report_u64_dec(server->port, num);
    put(out, &pos, num, n);
    out[pos] = '\0';
    return pos;
}

void report_wireshark_filter(const tls_endpoint *client, const tls_endpoint *server,
                             char out[REPORT_WIRESHARK_FILTER_LEN]) {
    report_ip_text cip, sip;
    report_ip_text_of(client, &cip);
    report_ip_text_of(server, &sip);
    (void)report_wireshark_filter_ips(client, &cip, server, &sip, out);
}

// word quotes s for a command line; false (and a line saying why) when no shell word can carry
// it as itself (a file name with a newline or an escape sequence): no command is printed then.
static bool word(FILE *f, const char *s, char *q, size_t qlen) {
    if (analyze_shell_quote(s, strlen(s), q, qlen)) {
        return true;
    }
    fputs(
        "      (no wireshark command: a capture file name holds control bytes or invalid "
        "UTF-8, which no pasted command can carry safely)\n",
        f);
    return false;
}

void wireshark_commands(report *r, const tls_endpoint *client, const tls_endpoint *server,
                        uint64_t conn_id) {
    FILE *f = r->o.out;
    char filter[REPORT_WIRESHARK_FILTER_LEN];
    report_wireshark_filter(client, server, filter);
    char q[1200], qsel[2 * (64 + REPORT_WIRESHARK_FILTER_LEN)];
    const char *const *files = r->o.files;
    size_t n = r->o.num_files;
    if (n == 1 && strcmp(files[0], "-") != 0) {
        char sel[64 + REPORT_WIRESHARK_FILTER_LEN];
        if (r->o.stream_is_tcp_stream) {
            snprintf(sel, sizeof sel, "tcp.stream eq %llu", (unsigned long long)conn_id);
        } else {
            snprintf(sel, sizeof sel, "%s", filter);
        }
        if (!word(f, files[0], q, sizeof q) || !word(f, sel, qsel, sizeof qsel)) {
            return;
        }
        fprintf(f, "      wireshark -r %s -Y %s\n", q, qsel);
        fprintf(f, "      tshark -r %s -Y %s\n", q, qsel);
        return;
    }
    if (!word(f, filter, qsel, sizeof qsel)) {
        return;
    }
    if (n > 1) {
        // Several captures were merged by time; mergecap does the same, and the address/port
        // filter does not depend on how streams are numbered in the merged file. The line is
        // built whole first: one file name that cannot be quoted, and none of it is printed.
        char *line = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&line, &len);
        if (m == NULL) {
            return;
        }
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            ok = word(f, files[i], q, sizeof q);
            fprintf(m, "%s ", q);
        }
        fclose(m);
        if (ok && line != NULL) {
            fprintf(f, "      mergecap -w - %s| tshark -r - -Y %s\n", line, qsel);
        }
        free(line);
        return;
    }
    fprintf(f, "      wireshark -r FILE -Y %s   (the capture was read from stdin)\n", qsel);
}
