// bundle_internal.h — contracts between the files of bundle/ (not for other folders).
//
//   collect.c   the two passes over the captures: verdicts + choice, then the chosen packets
//   evidence.c  evidence.pcap: the chosen packets without application data, rebuilt with libnet
//   anon.c      Crypto-PAn address pseudonyms, name redaction, text rewriting
//   html.c      report.html;  markdown.c report.md;  bundle.c members, environment, archive
#ifndef TLSDIAG_BUNDLE_INTERNAL_H
#define TLSDIAG_BUNDLE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze.h"
#include "bundle.h"
#include "capture.h"
#include "dissect.h"
#include "pipeline.h"

#define BUNDLE_WUR __attribute__((warn_unused_result))

// ---------------------------------------------------------------------------------------------
// A growable byte buffer (every member is built in memory: sizes are bounded by the choice).
// ---------------------------------------------------------------------------------------------
typedef struct bbuf {
    char *p;
    size_t n, cap;
    bool oom;  // sticky: an append failed
} bbuf;

void bbuf_put(bbuf *b, const void *p, size_t n);
void bbuf_puts(bbuf *b, const char *s);
void bbuf_printf(bbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// bbuf_html appends s HTML-escaped (control bytes and bytes that are not UTF-8 as \xNN first).
void bbuf_html(bbuf *b, const char *s);
// bbuf_md appends s for Markdown text: control bytes escaped, Markdown punctuation backslashed.
void bbuf_md(bbuf *b, const char *s);
// bbuf_html_n and bbuf_md_n: the same for s[0..n), which may hold NULs (shown as \x00).
void bbuf_html_n(bbuf *b, const char *s, size_t n);
void bbuf_md_n(bbuf *b, const char *s, size_t n);
// bbuf_sni appends v's SNI through put (bbuf_html_n or bbuf_md_n): its bytes, NULs shown as
// \x00 and never cut, flagged when it is not a valid host name; "(none)" when none was sent.
void bbuf_sni(bbuf *b, const verdict *v, void (*put)(bbuf *b, const char *s, size_t n));
void bbuf_free(bbuf *b);

// ---------------------------------------------------------------------------------------------
// collect.c
// ---------------------------------------------------------------------------------------------
typedef struct bundle_range {
    uint64_t off;  // stream offset (of a record, or of bytes to zero)
    uint64_t len;
} bundle_range;
// bundle_range_add appends {off, len} to a growing list unless a range starts at off already
// (a retransmission). false when out of memory (the list is unchanged).
bool bundle_range_add(bundle_range **v, size_t *n, size_t *cap, uint64_t off,
                      uint64_t len) BUNDLE_WUR;

// One TCP segment of a chosen connection, as captured (payload copied).
typedef struct bundle_seg {
    uint32_t conn;  // index into bundle_run.conns
    uint32_t frame_no;
    int64_t ts_ns;
    uint8_t dir;    // tls_dir
    uint8_t flags;  // TCP flags
    uint16_t window;
    uint32_t seq, ack;
    uint32_t payload_len, wire_payload_len;
    uint8_t *payload;  // owned, payload_len bytes
} bundle_seg;

typedef struct bundle_conn {
    verdict *v;  // owned
    uint32_t num_events;
    tls_event *events;  // owned copy of the transcript's ladder
    uint32_t events_dropped;
    uint32_t num_der;
    uint8_t *der[TLS_MAX_CERTS];  // owned copies of the chain as sent
    uint32_t der_len[TLS_MAX_CERTS];
    int chain_no;    // chain-<n>.pem (1-based); 0 when no chain
    uint64_t order;  // arrival order (choice)
    // pass 2
    size_t num_app[2], cap_app[2];
    bundle_range *app[2];  // application-data records per direction, in stream order
    size_t num_hs[2], cap_hs[2];
    bundle_range *hs[2];  // handshake records per direction (--redact-names finds certificates)
    size_t num_zero[2], cap_zero[2];
    bundle_range *zero[2];  // certificate bytes written as zeros in evidence.pcap (--redact-names)
    uint64_t records_end[2];  // end of the last record parsed per direction
    bool have_base[2];
    uint32_t base[2];     // sequence number of stream offset 0 per direction
    uint64_t kept_bytes;  // payload bytes copied (bounded: BUNDLE_MAX_CONN_BYTES)
    uint32_t kept_segs;   // segments copied (bounded: BUNDLE_MAX_CONN_SEGS)
    bool capped;          // later segments were not kept (evidence.pcap ends early)
} bundle_conn;

// Bounds of one connection's packets in evidence.pcap (a handshake needs far less).
enum { BUNDLE_MAX_CONN_BYTES = 1 << 20, BUNDLE_MAX_CONN_SEGS = 4096 };

typedef struct bundle_run {
    pipeline_config cfg;  // both passes: the options' limits and analyzer settings
    analyzer *an;
    uint32_t max_conns;
    bundle_conn *conns;  // the choice, sorted by conn_id after pass 1
    uint32_t num_conns;
    uint64_t connections, failed, failing, order;
    bool oom;
    int64_t first_ts_ns, last_ts_ns;  // capture time range
    uint64_t frames;
    size_t num_errors;
    cap_error *errors;                                     // damaged inputs (copied)
    char open_error[768];                                  // no input could be opened
    dissect_undecoded undecoded[DISSECT_UNDECODED_COUNT];  // frames not decoded (pass 1)
    bundle_seg *segs;
    size_t num_segs, cap_segs;
} bundle_run;

// bundle_collect runs both passes. Returns false only when no input could be opened
// (open_error says why) or out of memory (oom).
bool bundle_collect(bundle_run *r, const char *const *files, size_t num_files,
                    const char *bpf) BUNDLE_WUR;
void bundle_run_free(bundle_run *r);

// ---------------------------------------------------------------------------------------------
// anon.c
// ---------------------------------------------------------------------------------------------
typedef struct anon anon;
// anon_new: NULL on OOM. With neither addresses nor names to hide, every call is an identity.
anon *anon_new(bool addresses, bool names, const uint8_t key[BUNDLE_KEY_LEN]) BUNDLE_WUR;
void anon_free(anon *a);
bool anon_addresses(const anon *a);
bool anon_names(const anon *a);
// anon_addr maps an address (family 4 or 6) to its pseudonym and remembers the pair for
// anon_text. Identity when addresses are not hidden.
void anon_addr(anon *a, uint8_t family, const uint8_t in[16], uint8_t out[16]);
// anon_network remembers "addr/len" (a client network) → the pseudonym prefix, same length.
void anon_network(anon *a, const char *cidr);
// anon_name remembers a DNS name to replace (same length, keyed) when names are hidden.
void anon_name(anon *a, const char *name);
// anon_cert remembers every identifier of a certificate (subject and issuer DNs and their CNs,
// SANs, SHA-256, serial, SKI, AKI; hex, colon-hex and base64 forms) when names are hidden;
// anon_chain_id the same for a chain fingerprint.
void anon_cert(anon *a, const x509_info *x);
void anon_chain_id(anon *a, const char *sha256);
// anon_cert_rewrite / anon_chain_rewrite replace those fields in place with their pseudonyms
// (same length), so they are gone whatever escaping a member applies to them later.
void anon_cert_rewrite(const anon *a, x509_info *x);
void anon_chain_rewrite(const anon *a, char *sha256, size_t cap);
// anon_complete: false when an identifier could not be remembered (too many or too long): the
// bundle must not be written with --redact-names then.
bool anon_complete(const anon *a);
// anon_text rewrites a text member in place (b): every remembered address in its textual
// form and every remembered name become their pseudonyms.
void anon_text(const anon *a, bbuf *b);
// anon_bytes replaces remembered names in binary data in place (same length).
void anon_bytes(const anon *a, uint8_t *p, size_t n);

// ---------------------------------------------------------------------------------------------
// evidence.c
// ---------------------------------------------------------------------------------------------
// bundle_evidence writes the pcap (Ethernet, ns timestamps) into out. *packets gets the
// number of frames written. False with err on a libnet failure.
// bundle_redact_certs (--redact-names) finds the certificate bytes (Certificate and
// CertificateStatus messages) of every chosen connection, so bundle_evidence writes them as zeros
// with every length unchanged. false when out of memory.
bool bundle_redact_certs(bundle_run *r) BUNDLE_WUR;
// pkt_of_seg (r->num_segs entries, may be NULL) gets each segment's 1-based packet number in
// evidence.pcap, 0 for a segment not written (it carried only application data).
bool bundle_evidence(const bundle_run *r, anon *an, bbuf *out, uint32_t *packets,
                     uint32_t *pkt_of_seg, char *err, size_t errlen) BUNDLE_WUR;

// ---------------------------------------------------------------------------------------------
// html.c, markdown.c
// ---------------------------------------------------------------------------------------------
typedef struct bundle_doc {
    const bundle_run *run;
    const summary *sum;
    const char *profile;  // "cloudfront 2026-…"
    const char *trust_store;
    bool anonymized, redacted;
    uint32_t evidence_packets;
    const uint32_t *evidence_pkt;  // per segment of run: its evidence.pcap packet (or 0)
} bundle_doc;

void bundle_html(const bundle_doc *d, bbuf *out);
void bundle_markdown(const bundle_doc *d, bbuf *out);
// helpers shared by both
const char *bundle_event_label(const tls_event *e, char *buf, size_t n);
// bundle_break_index: the event where the handshake broke (alert, else the last one).
int bundle_break_index(const bundle_conn *c);
// bundle_evidence_packet: the evidence.pcap packet number of frame `frame` (original capture)
// of connection c, 0 when that frame is not in evidence.pcap.
uint32_t bundle_evidence_packet(const bundle_doc *d, const bundle_conn *c, uint32_t frame);
// bundle_frame_ref writes how a document cites a frame: "frame 25, evidence.pcap #8" (or
// "frame 25, not in evidence.pcap" when only application data was in it).
void bundle_frame_ref(const bundle_doc *d, const bundle_conn *c, uint32_t frame, char *out,
                      size_t n);
// bundle_wireshark_command writes the shell line that opens c's packets in evidence.pcap:
// wireshark -r evidence.pcap -Y '<address and port filter>' (the filter shell-quoted).
void bundle_wireshark_command(const bundle_conn *c, const char *tool, char *out, size_t n);
// bundle_missing_issuer: the name of the intermediate a cert_missing_intermediate verdict says
// the server did not send (its evidence, else the last certificate's issuer); NULL otherwise.
const char *bundle_missing_issuer(const verdict *v);

#endif
