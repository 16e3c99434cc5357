// report.h — transcripts, verdicts and summaries rendered as terminal text or JSON Lines.
//
// report/ is the only place that turns analysis results into bytes for a human or a script.
// Every attacker-controlled string (SNI, ALPN, certificate names, non-TLS preview bytes) is
// escaped on the way out: in text, control bytes and bytes that are not UTF-8 become `\xNN`;
// in JSON (report/jsonw.c), bytes that are not valid UTF-8 become `\xNN` text and control
// characters JSON escapes, so every line is valid JSON.
//
// Output is deterministic: only capture times are printed (RFC 3339 UTC), never "now".
//
// Ownership: a report is caller-owned (report_new / report_free, report_free(NULL) is a
// no-op). The FILE* it writes to is borrowed. Inputs are borrowed for the call.
#ifndef TLSDIAG_REPORT_H
#define TLSDIAG_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyze.h"
#include "dissect.h"

#ifdef __cplusplus
extern "C" {
#endif

// Exit statuses of the tlsdiag binary (also documented in `tlsdiag --help`).
typedef enum tlsdiag_exit {
    TLSDIAG_EXIT_OK = 0,        // ran fine, no failed handshakes
    TLSDIAG_EXIT_FAILURES = 1,  // failed handshakes found
    TLSDIAG_EXIT_USAGE = 2,     // bad command line
    TLSDIAG_EXIT_INPUT = 3,     // a file could not be opened or was damaged, or a bad filter
    TLSDIAG_EXIT_INTERNAL = 4,  // out of memory, write error on the output
} tlsdiag_exit;

// schema_version changes when a field is removed or changes meaning; schema_minor counts
// additions (1: community_id, frames{} in connections, schema_minor, typed evidence,
// "succeeded" in the summary tables, null for "no SNI", no frame/offset in errors when unknown).
enum { REPORT_SCHEMA_VERSION = 1, REPORT_SCHEMA_MINOR = 1 };

typedef enum report_format {
    REPORT_TEXT = 0,
    REPORT_JSON,  // JSON Lines: one object per line
    REPORT_ECS,   // JSON Lines in the Elastic Common Schema: one event per handshake (ecs.c)
} report_format;

typedef enum report_verbosity {
    REPORT_QUIET = -1,   // summary only
    REPORT_NORMAL = 0,   // failures as found, then the summary
    REPORT_VERBOSE = 1,  // also succeeded handshakes and each failure's evidence
} report_verbosity;

typedef struct report_options {
    report_format format;
    bool color;     // ANSI colour in text output (the caller decides: TTY, NO_COLOR)
    int verbosity;  // report_verbosity
    FILE *out;      // borrowed; stdout in the CLI
    // Wireshark hand-off (wireshark.c). stream_is_tcp_stream: one capture was read whole (no
    // BPF filter), so conn_id is Wireshark's tcp.stream and is printed as such ("stream" in
    // JSON, "tcp.stream eq N" in text); otherwise only the address/port filter is given.
    bool stream_is_tcp_stream;
    bool wireshark_commands;  // text: a ready wireshark/tshark command under each failure
    // text: the one line per failure is cut to this many columns (the terminal's width, see
    // report_terminal_columns); 0: never cut (a pipe or a file gets every word).
    unsigned columns;
    // text: the run is one connection (probe) whose verdict, evidence included, was printed:
    // the summary gives its fix, check and dead ends only, without repeating the evidence or
    // per-SNI/network/certificate tables that mean nothing for one connection.
    bool one_connection;
    const char *const *files;  // the captures read (borrowed), for those commands
    size_t num_files;
} report_options;

typedef struct report report;

// Facts about the run that the summary prints and that do not come from verdicts.
typedef struct report_input_error {
    const char *file;
    uint64_t frame;       // 1-based frame within the file where the damage starts; 0: none
                          // read (the file did not open): JSON then leaves frame/offset out
    uint64_t offset;      // byte offset of the damage (best effort)
    const char *message;  // "truncated record header", ...
} report_input_error;

typedef struct report_run_info {
    const char *profile_name;  // "cloudfront"; NULL when not known
    const char *profile_version;
    const char *prefix_source;  // "embedded 2026-08-22" or a file name
    const char *trust_store;
    const char *const *files;  // the captures read, in command-line order
    size_t num_files;
    size_t num_input_errors;
    const report_input_error *input_errors;
    // Frames not decoded, by dissect_undecoded_reason (DISSECT_UNDECODED_COUNT entries; NULL:
    // not known). Listed in the summary only when some were (JSON: "undecoded_frames").
    const dissect_undecoded *undecoded;
} report_run_info;

// report_run_info_of: the run information an analyzer knows (its profile, prefix list and trust
// store); the caller adds the files, input errors and undecoded frames.
report_run_info report_run_info_of(const analyzer *an);

// report_new returns a report or NULL when out of memory (or o->out is NULL).
report *report_new(const report_options *o) __attribute__((warn_unused_result));
void report_free(report *r);

// report_set_file names the capture the next objects come from ("file" in JSON; NULL → null).
// The string is copied.
void report_set_file(report *r, const char *file);

// The four outputs. Each returns false on an output error (ferror on the stream) or when out
// of memory. Like ferror(), the failure is sticky: later calls do nothing and return false,
// and report_write_failed() tells the caller once at the end (so the result may be ignored).
//
// report_transcript: `tlsdiag dissect` — the ladder of one connection, or one JSON object.
bool report_transcript(report *r, const tls_transcript *t);
// report_verdict: `tlsdiag analyze` — one line per failed handshake (succeeded ones too when
// verbose; nothing when quiet), or one JSON object per handshake (always, whatever verbosity).
bool report_verdict(report *r, const verdict *v);
// report_summary: the run summary (text block, or one JSON object of type "summary").
bool report_summary(report *r, const summary *s, const report_run_info *info);
// report_error: a damaged input. JSON: an object of type "error". Text: nothing (the CLI
// writes the sentence on stderr), so text output on stdout stays the results only.
bool report_error(report *r, const report_input_error *e);
// report_damage: a file damaged at e->frame, said on stderr (always: which results are shown)
// and by report_error.
bool report_damage(report *r, const report_input_error *e);

// report_capture_stats: `tlsdiag capture`'s counters after the summary — text (normal
// verbosity: interface, packets, libpcap's counts, evictions; verbose: also the filter), one
// JSON object of type "capture", nothing for ECS. Written even after a failed write.
typedef struct report_capture {
    const char *iface, *filter;  // the interface and the kernel BPF filter
    uint64_t packets;            // packets analysed
    bool have_counts;            // libpcap's received/dropped below are known
    uint64_t received, dropped;
    uint64_t written;  // frames written to -w files
    const dissect_stats *stats;
} report_capture;
void report_capture_stats(report *r, const report_capture *c);

// report_ecs_check: one host-side check (`tlsdiag doctor`'s verdict on a server's own
// configuration) as an ECS event, on a report of format REPORT_ECS: event.category
// ["configuration"], event.type ["info"], event.outcome success/failure,
// event.reason the cause id, message (and error.message when failed), file.path, destination.*
// and tls.client.server_name when given, tlsdiag.{config_line, evidence[], fix[]}.
// Every pointer is borrowed and may be NULL (left out). Sticky failure like the others.
typedef struct report_ecs_check_event {
    int64_t ts_ns;                // @timestamp: when the check ran (ns since the epoch)
    const char *dataset;          // event.dataset; NULL: "tlsdiag.doctor"
    bool failed;                  // the configuration would make CloudFront's handshake fail
    const char *cause;            // event.reason: a cause id (doc/causes.md)
    const char *message;          // one line
    const char *config_file;      // file.path: the configuration file to change
    uint32_t config_line;         // its line (0: unknown)
    const tls_endpoint *server;   // destination.*: the address:port checked
    const char *server_name;      // tls.client.server_name: the SNI the check is about
    const char *const *evidence;  // tlsdiag.evidence[]
    size_t num_evidence;
    const char *const *fix;  // tlsdiag.fix[]
    size_t num_fix;
} report_ecs_check_event;
bool report_ecs_check(report *r, const report_ecs_check_event *c);

// Rendering ahead of time (render.c): `analyze --threads N` workers render their own verdicts
// into memory in parallel, and the merge writes the bytes in one thread's order with the conn_id
// it numbered. A renderer is one thread's; the bytes are the renderer's caller's, moved freely.
typedef struct report_renderer report_renderer;
enum { REPORT_RENDER_HOLES = 4 };
typedef struct report_rendered {
    size_t len;
    uint32_t nholes;
    size_t hole[REPORT_RENDER_HOLES];  // where conn_id's digits go (placeholder digits, removed)
    char bytes[];
} report_rendered;
// report_renderer_new: a renderer with r's options and file name (r is only read), or NULL when
// the output cannot be rendered ahead (verbose text, wireshark commands, a terminal's width) or
// out of memory: report_verdict writes every verdict then. Caller-owned: report_renderer_free.
report_renderer *report_renderer_new(const report *r) __attribute__((warn_unused_result));
void report_renderer_free(report_renderer *m);
// report_render: v's output as report_verdict would write it, conn_id left to be filled in
// (v->conn_id is used as scratch during the call, and restored). NULL when it cannot be
// rendered ahead (out of memory; bytes from the wire that spell the placeholder): write v with
// report_verdict then. Caller-owned: report_rendered_free.
report_rendered *report_render(report_renderer *m, verdict *v) __attribute__((warn_unused_result));
void report_rendered_free(report_rendered *b);
// report_write_rendered writes b with conn_id in its holes: what report_verdict would have
// written for the verdict numbered conn_id (false, sticky, as report_verdict).
bool report_write_rendered(report *r, const report_rendered *b, uint64_t conn_id);

// report_terminal_columns: the width to cut one-line verdicts to when f is a terminal (its
// TIOCGWINSZ width, else $COLUMNS, else 80); 0 when f is not a terminal: text for a pipe, a
// file or a script is never cut.
unsigned report_terminal_columns(FILE *f);

// How the output ended (report_flush).
typedef enum report_out_status {
    REPORT_OUT_OK = 0,
    REPORT_OUT_READER_GONE,  // EPIPE: the reader closed the pipe early (`| head`); not an error:
                             // say nothing, as grep, tcpdump and tshark do
    REPORT_OUT_FAILED,       // a real write error (full disk, I/O error): *err_out has errno
} report_out_status;

// report_flush flushes the output stream and tells how the output ended. *err_out (may be
// NULL) gets the errno of the failure, 0 when unknown.
report_out_status report_flush(report *r, int *err_out) __attribute__((warn_unused_result));

// report_write_failed: an earlier write failed (full disk, closed pipe).
bool report_write_failed(const report *r);
// report_write_errno: errno of the first failed write (0 when unknown).
int report_write_errno(const report *r);

// ---------------------------------------------------------------------------------------------
// Helpers, public so the CLI and the tests use the same rules.
// ---------------------------------------------------------------------------------------------
typedef enum report_escape_mode {
    REPORT_ESC_TEXT = 0,  // control bytes (C0, DEL, C1), '\\' and non-UTF-8 → \xNN / '\\\\'
    REPORT_ESC_JSON,      // only bytes that are not valid UTF-8 → \xNN (the JSON writer escapes
                          // the rest)
} report_escape_mode;

// report_escape writes the escaped form of n bytes at s into out (always NUL-terminated when
// outlen > 0; cut at a character boundary with "…" when it does not fit). Returns the length
// written (excluding the NUL).
size_t report_escape(const uint8_t *s, size_t n, report_escape_mode mode, char *out, size_t outlen);

// report_time formats ns since the epoch as RFC 3339 UTC with microseconds
// ("2026-11-26T19:55:01.123456Z"). out must hold 32 bytes.
void report_time(int64_t ts_ns, char out[32]);
// report_time_sec formats Unix seconds (certificate dates: any year to 9999) as RFC 3339 UTC.
void report_time_sec(int64_t sec, char out[32]);

// report_endpoint formats "192.0.2.1:443" or "[2001:db8::1]:443". out must hold 64 bytes.
void report_endpoint(const tls_endpoint *e, char out[64]);
// report_ip formats only the address. out must hold 48 bytes.
void report_ip(const tls_endpoint *e, char out[48]);

// ---------------------------------------------------------------------------------------------
// Community ID v1 (community_id.c): https://github.com/corelight/community-id-spec
// ---------------------------------------------------------------------------------------------
enum { REPORT_COMMUNITY_ID_LEN = 32 };  // "1:" + 28 base64 characters + NUL, rounded up

// report_community_id writes "1:<base64 SHA-1>" of the flow (src, dst, IP protocol proto) with
// the spec's seed (0 unless a deployment chose one); with_ports false for protocols without
// ports. Direction does not matter: (a, b) and (b, a) give the same ID. false (out "") when
// the families differ or are not 4/6, or the hash fails.
bool report_community_id(const tls_endpoint *src, const tls_endpoint *dst, uint8_t proto,
                         bool with_ports, uint16_t seed, char out[REPORT_COMMUNITY_ID_LEN]);
// report_community_id_tcp: the ID of a TCP connection with seed 0 (what JSON and ECS print).
bool report_community_id_tcp(const tls_endpoint *client, const tls_endpoint *server,
                             char out[REPORT_COMMUNITY_ID_LEN]);

// ---------------------------------------------------------------------------------------------
// Wireshark hand-off (wireshark.c).
// ---------------------------------------------------------------------------------------------
enum { REPORT_WIRESHARK_FILTER_LEN = 192 };

// report_wireshark_filter writes the display filter that isolates one TCP connection:
// "ip.addr==A && ip.addr==B && tcp.port==P && tcp.port==Q" (ipv6.addr for IPv6).
void report_wireshark_filter(const tls_endpoint *client, const tls_endpoint *server,
                             char out[REPORT_WIRESHARK_FILTER_LEN]);
// Shell words in the printed commands come from analyze_shell_quote (analyze.h).

// report_progress: a status line on stderr for long runs (TTY only, ≤ 4 refreshes a second).
typedef struct report_progress {
    bool enabled;
    bool shown;
    int64_t start_ns, last_ns;
    uint32_t ticks;
} report_progress;

void report_progress_init(report_progress *p, bool enabled);
// report_progress_tick: cheap; draws at most every 250 ms and only once the run is > 1 s old.
void report_progress_tick(report_progress *p, uint64_t bytes_read, uint64_t bytes_total,
                          uint64_t handshakes);
// report_progress_end erases the status line (also capture's: shown set by whoever drew it).
void report_progress_end(report_progress *p);
// report_capture_status: `capture`'s live status line on stderr (a TTY; once a second), which
// the next result or message erases through p.
void report_capture_status(report_progress *p, const summary *s, uint64_t packets,
                           uint64_t connections, uint64_t dropped);
int64_t report_now_ns(void);  // CLOCK_MONOTONIC in ns

#ifdef __cplusplus
}
#endif
#endif
