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
