// report_internal.h — report/'s private state and the per-format renderers (not a public header).
#ifndef TLSDIAG_REPORT_INTERNAL_H
#define TLSDIAG_REPORT_INTERNAL_H

#include "jsonw.h"
#include "report.h"

struct report {
    report_options o;
    char *file;   // current capture name (NULL: several files or unknown)
    bool failed;  // a write failed or memory ran out; sticky
    int err;      // errno of the first failure (0: unknown, e.g. out of memory)
};

// report_finish (report.c): a render's result, with the stream's error flag, made sticky.
bool report_finish(report *r, bool ok);

// json.c — each renders one JSON Lines object; false on OOM or write error.
bool json_transcript(report *r, const tls_transcript *t);
bool json_verdict(report *r, const verdict *v);
bool json_summary(report *r, const summary *s, const report_run_info *info);
bool json_error(report *r, const report_input_error *e);

// json.c's pieces that ecs.c shares (the tlsdiag.* part of an ECS event is our own JSON).
void json_text_list(jsonw *w, const char (*items)[VERDICT_TEXT], uint32_t n, uint32_t cap);
void json_evidence_list(jsonw *w, const verdict *v);
void json_findings(jsonw *w, const verdict *v);
// json_tail_key: every field of v that "fix" … "capture_note" read, the certificates (by
// fingerprint, place and validity) only when certs (jmemo.h).
struct jmemo_key;
void json_tail_key(struct jmemo_key *k, const verdict *v, bool certs);
void json_sans(jsonw *w, const x509_info *c);

// ecs.c — the same facts as one Elastic Common Schema event per line (--ecs).
bool ecs_verdict(report *r, const verdict *v);
bool ecs_error(report *r, const report_input_error *e);

// text.c — the terminal renderers.
bool text_transcript(report *r, const tls_transcript *t);
bool text_verdict(report *r, const verdict *v);
bool text_summary(report *r, const summary *s, const report_run_info *info);

// escape.c — shared formatting.
// fmt_group writes n with a space every three digits ("4 211"). out must hold 32 bytes.
void fmt_group(uint64_t n, char out[32]);
// fmt_bytes writes a size for humans: "812 bytes", "4.1 KB", "48 KB", "3.2 MB". 32 bytes.
void fmt_bytes(uint64_t n, char out[32]);
// fmt_version: tls_version_name or "0x%04x" when unknown. out must hold 32 bytes.
const char *fmt_version(uint16_t v, char out[32]);
// fmt_cipher: tls_cipher_name or "0x%04x". out must hold 80 bytes.
const char *fmt_cipher(uint16_t v, char out[80]);
// report_ip_len: report_ip, returning the length written (IPv4 formatted by hand).
size_t report_ip_len(const tls_endpoint *e, char out[48]);
// report_u64_dec writes v in decimal, NUL-terminated; returns the digits written.
size_t report_u64_dec(uint64_t v, char out[21]);
// sslv2_msg_name: SSLv2 message types (draft-hickman §2.6) or NULL.
const char *sslv2_msg_name(uint8_t t);

// report_ip_text: an endpoint's address as text (report_ip_len), formatted once for a line and
// used by every field of it that shows the address.
typedef struct report_ip_text {
    char s[48];
    size_t n;
} report_ip_text;
void report_ip_text_of(const tls_endpoint *e, report_ip_text *out);

// wireshark.c — report_wireshark_filter with both addresses already formatted; returns the
// filter's length.
size_t report_wireshark_filter_ips(const tls_endpoint *client, const report_ip_text *cip,
                                   const tls_endpoint *server, const report_ip_text *sip,
                                   char out[REPORT_WIRESHARK_FILTER_LEN]);
// wireshark.c — the ready wireshark/tshark command lines that open one connection (text).
void wireshark_commands(report *r, const tls_endpoint *client, const tls_endpoint *server,
                        uint64_t conn_id);

#endif
