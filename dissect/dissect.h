// dissect.h — frames in, per-connection TLS handshake transcripts out (public API of dissect/).
//
// The dissector never does I/O and never links libpcap: a caller (capture/, a fuzzer, a unit
// test) hands it frames with dissect_feed(); it decodes link layer → IP → TCP, keeps a bounded
// flow table, reassembles each direction, parses the TLS record and handshake layers and builds
// one tls_transcript per TCP connection. When a connection's handshake is decided (completed,
// aborted, closed, evicted, or the input ended) the transcript is passed to the callback given
// in dissect_config and then freed by the dissector; the flow's buffers are released at once.
//
// Ownership: frame bytes are borrowed for the duration of dissect_feed(); a transcript and
// everything it points to is valid only during the callback (copy what you keep).
#ifndef TLSDIAG_DISSECT_H
#define TLSDIAG_DISSECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TLSDIAG_WUR __attribute__((warn_unused_result))

// ---------------------------------------------------------------------------------------------
// Parse outcomes. One X-macro table gives every malformation a stable name and a message.
// ---------------------------------------------------------------------------------------------
#define TLS_ERR_TABLE(X)                                                    \
    X(OK, "ok")                                                             \
    X(NEED_MORE, "need more bytes")                                         \
    X(TRUNCATED, "message ends before a field it declares")                 \
    X(TRAILING, "bytes left after the last field")                          \
    X(BAD_LENGTH, "length field inconsistent with its contents")            \
    X(ODD_LENGTH, "vector length is not a multiple of its element size")    \
    X(EMPTY_VECTOR, "vector that must not be empty is empty")               \
    X(DUP_EXTENSION, "extension appears twice")                             \
    X(BAD_SNI, "server_name extension malformed")                           \
    X(BAD_VERSION, "record or handshake version is not TLS/SSL")            \
    X(BAD_CONTENT_TYPE, "record content type unknown")                      \
    X(RECORD_TOO_LONG, "record longer than 2^14+2048 bytes")                \
    X(MESSAGE_TOO_LONG, "handshake message longer than the configured cap") \
    X(BAD_CERT, "certificate list malformed")                               \
    X(BAD_ALERT, "alert record malformed")                                  \
    X(TOO_MANY, "more items than tlsdiag keeps (rest counted, not stored)") \
    X(NOT_TLS, "bytes are not TLS")

typedef enum tls_err {
#define TLS_ERR_ENUM(name, msg) TLS_ERR_##name,
    TLS_ERR_TABLE(TLS_ERR_ENUM)
#undef TLS_ERR_ENUM
        TLS_ERR__COUNT
} tls_err;

// tls_err_name returns "OK", "TRUNCATED", ...; tls_err_msg a human sentence. Never NULL.
const char *tls_err_name(tls_err e);
const char *tls_err_msg(tls_err e);

// ---------------------------------------------------------------------------------------------
// Fixed capacities. Anything beyond is counted and flagged `truncated`, never stored.
// ---------------------------------------------------------------------------------------------
enum {
    TLS_MAX_CIPHERS = 256,
    TLS_MAX_EXTENSIONS = 64,
    TLS_MAX_GROUPS = 64,
    TLS_MAX_SIGALGS = 64,
    TLS_MAX_VERSIONS = 16,
    TLS_MAX_KEY_SHARES = 16,
    TLS_MAX_POINT_FORMATS = 8,
    TLS_MAX_ALPN = 16,
    TLS_MAX_ALPN_LEN = 64,  // one protocol id, NUL-terminated copy
    TLS_MAX_SNI_LEN = 255,  // RFC 6066 HostName <1..2^16-1>, DNS names fit in 253
    TLS_MAX_CERTS = 16,     // certificates kept per chain
    TLS_MAX_CERT_TYPES = 16,
    TLS_MAX_CA_NAMES = 32,
    TLS_MAX_PREVIEW = 64,  // first bytes kept of a non-TLS payload
    TLS_MAX_EVENTS = 256,  // events kept per transcript
};

// ---------------------------------------------------------------------------------------------
// Decoded messages. Plain structs, fixed arrays, `truncated` when something did not fit.
// ---------------------------------------------------------------------------------------------

// TLS versions as on the wire: 0x0002 SSLv2, 0x0300 SSLv3, 0x0301 TLS1.0 … 0x0304 TLS1.3,
// 0x7fXX TLS 1.3 drafts, GREASE values 0x?a?a.

typedef struct tls_client_hello {
    bool present;
    bool sslv2;               // SSLv2-compatible CLIENT-HELLO (RFC 5246 App. E.2)
    uint32_t frame;           // frame that completed the message
    uint32_t segments;        // first hello: TCP segments of client bytes up to it (0: unknown)
    uint16_t record_version;  // version in the record header carrying it
    uint16_t legacy_version;  // client_version field
    uint8_t random[32];
    uint8_t session_id_len;
    uint16_t num_ciphers;               // stored (≤ TLS_MAX_CIPHERS)
    uint16_t ciphers[TLS_MAX_CIPHERS];  // as sent, GREASE included (SSLv2 3-byte kinds mapped)
    uint16_t num_sslv2_kinds;  // SSLv2 hello: offered kinds that are not 0x00XXYY (not stored)
    uint8_t num_compression;
    bool has_null_compression;
    uint16_t num_extensions;
    uint16_t extensions[TLS_MAX_EXTENSIONS];  // types in wire order, GREASE included
    bool has_extensions_block;                // an extensions vector was present (even empty)
    // True counts of the capped lists (more than stored: `truncated`, the rest not kept).
    uint16_t num_ciphers_sent, num_extensions_sent, num_alpn_sent;
    // server_name (RFC 6066 §3): host_name only; raw bytes copied, NUL-terminated.
    bool has_sni;
    uint16_t sni_len;
    char sni[TLS_MAX_SNI_LEN + 1];
    bool sni_has_nul_or_ctl;  // contains bytes that are not printable DNS characters
    // supported_versions (RFC 8446 §4.2.1)
    uint8_t num_versions;
    uint16_t versions[TLS_MAX_VERSIONS];
    // supported_groups (RFC 8422 §5.1.1 / RFC 8446 §4.2.7)
    uint8_t num_groups;
    uint16_t groups[TLS_MAX_GROUPS];
    // signature_algorithms and signature_algorithms_cert (RFC 8446 §4.2.3)
    uint8_t num_sigalgs;
    uint16_t sigalgs[TLS_MAX_SIGALGS];
    uint8_t num_sigalgs_cert;
    uint16_t sigalgs_cert[TLS_MAX_SIGALGS];
    // key_share (RFC 8446 §4.2.8): groups of the offered shares
    uint8_t num_key_shares;
    uint16_t key_share_groups[TLS_MAX_KEY_SHARES];
    // ec_point_formats (RFC 8422 §5.1.2)
    uint8_t num_point_formats;
    uint8_t point_formats[TLS_MAX_POINT_FORMATS];
    // application_layer_protocol_negotiation (RFC 7301), NUL-terminated copies
    uint8_t num_alpn;
    char alpn[TLS_MAX_ALPN][TLS_MAX_ALPN_LEN];
    uint8_t alpn_len[TLS_MAX_ALPN];  // wire length of each id (the copy stops at 63 bytes)
    // flags for presence-only extensions
    bool status_request, sct, renegotiation_info, extended_master_secret, encrypt_then_mac,
        session_ticket, early_data, ech, padding, post_handshake_auth, record_size_limit;
    bool has_psk_modes;
    uint8_t psk_modes;  // bit 0: psk_ke, bit 1: psk_dhe_ke
    bool pre_shared_key;
    uint16_t padding_len;
    bool truncated;  // some list exceeded a cap
} tls_client_hello;

typedef struct tls_server_hello {
    bool present;
    bool is_hrr;  // HelloRetryRequest (RFC 8446 §4.1.3 special random)
    bool sslv2;   // SSLv2 SERVER-HELLO
    uint32_t frame;
    uint16_t record_version;
    uint16_t legacy_version;
    uint8_t random[32];
    uint8_t session_id_len;
    uint16_t cipher;
    uint8_t compression;
    uint16_t num_extensions;
    uint16_t extensions[TLS_MAX_EXTENSIONS];
    uint16_t num_extensions_sent;  // extensions in the block (> num_extensions: `truncated`)
    uint16_t selected_version;     // supported_versions in SH/HRR, 0 when absent
    uint16_t key_share_group;      // key_share in SH (or selected_group in HRR), 0 when absent
    char alpn[TLS_MAX_ALPN_LEN];   // selected ALPN, "" when absent
    bool renegotiation_info, extended_master_secret, encrypt_then_mac, session_ticket,
        status_request, sct, sni_ack;  // sni_ack: empty server_name extension (RFC 6066 §3)
    uint8_t num_point_formats;
    bool truncated;
} tls_server_hello;

typedef struct tls_cert {
    const uint8_t *der;  // owned by the transcript
    uint32_t len;
} tls_cert;

typedef struct tls_certificate {
    bool present;
    bool tls13;  // TLS 1.3 form (request context + per-entry extensions)
    uint32_t frame;
    uint32_t num_certs;  // certificates in the message (may exceed num_stored)
    uint32_t num_stored;
    tls_cert certs[TLS_MAX_CERTS];  // in the order sent: certs[0] is the leaf
    uint32_t message_len;           // length of the whole Certificate message body
    bool truncated;
} tls_certificate;

typedef struct tls_server_key_exchange {
    bool present;
    uint32_t frame;
    uint8_t kind;        // 0 unknown, 1 ECDHE named curve, 2 DHE, 3 other ECDHE curve type
    uint16_t group;      // named curve (kind 1)
    uint32_t dh_p_bits;  // DHE prime size in bits (kind 2)
    uint16_t sigalg;     // TLS 1.2 SignatureAndHashAlgorithm, 0 when not present (≤ 1.1)
    uint32_t body_len;
} tls_server_key_exchange;

typedef struct tls_cert_request {
    bool present;
    uint32_t frame;
    uint8_t num_cert_types;
    uint8_t cert_types[TLS_MAX_CERT_TYPES];
    uint8_t num_sigalgs;
    uint16_t sigalgs[TLS_MAX_SIGALGS];
    uint16_t num_ca_names;  // distinguished names listed (not stored)
    bool truncated;
} tls_cert_request;

// ---------------------------------------------------------------------------------------------
// Events: the ordered ladder of one connection.
// ---------------------------------------------------------------------------------------------
typedef enum tls_dir {
    TLS_DIR_C2S = 0,  // client → server
    TLS_DIR_S2C = 1,  // server → client
} tls_dir;

#define TLS_EVENT_TABLE(X)                               \
    X(TCP_SYN, "SYN")                                    \
    X(TCP_SYNACK, "SYN-ACK")                             \
    X(TCP_FIN, "FIN")                                    \
    X(TCP_RST, "RST")                                    \
    X(TCP_GAP, "bytes missing from capture")             \
    X(TCP_RETRANSMIT, "retransmission")                  \
    X(HANDSHAKE, "handshake message")                    \
    X(ENCRYPTED_HANDSHAKE, "encrypted handshake record") \
    X(ALERT, "alert")                                    \
    X(ENCRYPTED_ALERT, "encrypted alert")                \
    X(CHANGE_CIPHER_SPEC, "ChangeCipherSpec")            \
    X(APPLICATION_DATA, "application data")              \
    X(SSL2, "SSLv2 message")                             \
    X(NOT_TLS, "non-TLS bytes")                          \
    X(MALFORMED, "malformed TLS")                        \
    X(HEARTBEAT, "heartbeat record")

typedef enum tls_event_kind {
#define TLS_EVENT_ENUM(name, msg) TLS_EV_##name,
    TLS_EVENT_TABLE(TLS_EVENT_ENUM)
#undef TLS_EVENT_ENUM
        TLS_EV__COUNT
} tls_event_kind;

const char *tls_event_name(tls_event_kind k);  // "TCP_SYN", ...

typedef struct tls_event {
    uint8_t kind;          // tls_event_kind
    uint8_t dir;           // tls_dir
    uint8_t content_type;  // record content type (20..24), 0 for TCP events
    uint8_t hs_type;       // HANDSHAKE: handshake type; SSL2: SSLv2 message type
    uint8_t alert_level;   // ALERT
    uint8_t alert_desc;    // ALERT
    uint8_t err;           // MALFORMED: tls_err
    uint16_t version;      // record version (TLS events)
    uint32_t frame;        // frame number (1-based, across all input files)
    int64_t ts_ns;         // capture time, ns since the Unix epoch (UTC)
    uint32_t length;       // message / record / segment / gap length in bytes
    uint32_t count;        // APPLICATION_DATA, TCP_RETRANSMIT: records/segments merged
} tls_event;

// ---------------------------------------------------------------------------------------------
// Capture-quality facts: what the capture itself lost. The analyzer never blames a peer for them.
// ---------------------------------------------------------------------------------------------
typedef struct tls_quality {
    bool midstream;      // no SYN seen: first packet was mid-connection
    bool client_unseen;  // no packet from the client direction
    bool server_unseen;  // no packet from the server direction
    uint32_t gaps[2];    // per direction: sequence gaps (bytes never captured)
    uint64_t gap_bytes[2];
    uint32_t first_gap_frame[2];
    uint32_t snaplen_truncated;  // frames cut short by the snapshot length
    uint32_t first_truncated_frame;
    uint32_t overlap_conflicts;  // retransmitted bytes that differed from the first copy
    bool buffer_cap_hit;         // per-flow byte cap (max_flow_bytes) reached: rest not analysed
    bool total_cap_hit;          // total byte cap (max_total_bytes) reached: held bytes refused
                                 // (become gaps) or the flow was ended
    bool message_cap_hit;        // a handshake message over max_message_len: not parsed
    bool evicted;                // flow evicted from the table before it was decided: full, or
    bool idle;                   // (idle) no packet for idle_timeout_s of capture time
    bool capture_ended;          // input ended before the handshake was decided
    bool kernel_drops;           // live capture reported drops while this flow was open
} tls_quality;

// TCP facts the transport rules need.
typedef struct tls_tcp_facts {
    bool syn, synack, syn_retransmitted;
    uint32_t syn_count;  // SYNs sent by the client (retries included)
    bool fin[2], rst[2];
    uint32_t fin_frame[2], rst_frame[2];
    int64_t syn_ts_ns, synack_ts_ns;
    uint64_t bytes[2];                   // TCP payload bytes seen per direction (captured, unique)
    uint32_t retransmits[2];             // segments carrying already-seen data
    uint32_t server_flight_retransmits;  // server segments resent before the client acked them
    bool server_flight_acked;  // client acknowledged the server's first flight (any of it)
    uint32_t last_ack_from_client;
} tls_tcp_facts;

// ---------------------------------------------------------------------------------------------
// The transcript of one TCP connection.
// ---------------------------------------------------------------------------------------------
typedef struct tls_endpoint {
    uint8_t family;    // 4 or 6
    uint8_t addr[16];  // IPv4 in the first 4 bytes
    uint16_t port;
} tls_endpoint;

typedef enum tls_end_reason {
    TLS_END_HANDSHAKE_DONE = 0,  // handshake completed (application data flowed)
    TLS_END_ALERT,               // a fatal alert was seen
    TLS_END_CLOSED,              // FIN/RST ended the connection
    TLS_END_NOT_TLS,             // a side spoke something that is not TLS
    TLS_END_EVICTED,             // flow table full / idle timeout
    TLS_END_CAPTURE_END,         // input ended first
    TLS_END_BUFFER_CAP,          // a byte cap reached (quality says which)
} tls_end_reason;

typedef struct tls_transcript {
    uint64_t conn_id;  // 0-based, in order of each connection's first frame
                       // (the way Wireshark numbers tcp.stream)
    tls_endpoint client, server;
    bool roles_from_syn;  // roles decided by SYN (else by ClientHello, else by port)
    uint32_t first_frame, last_frame;
    int64_t first_ts_ns, last_ts_ns;
    uint8_t end_reason;           // tls_end_reason
    bool is_tls;                  // at least one valid TLS record/ClientHello seen
    uint32_t starttls_prefix[2];  // plaintext bytes before the first TLS record, per direction

    uint32_t num_events;      // stored events (≤ TLS_MAX_EVENTS)
    uint32_t events_dropped;  // events not stored because the cap was hit
    tls_event events[TLS_MAX_EVENTS];

    tls_client_hello ch;          // first ClientHello
    tls_client_hello ch2;         // second ClientHello (after HelloRetryRequest): read only when
                                  // ch2.present (tr_new does not clear the rest)
    tls_server_hello hrr;         // HelloRetryRequest, when sent
    tls_server_hello sh;          // the (real) ServerHello
    tls_certificate cert;         // server Certificate (plaintext: TLS ≤ 1.2)
    tls_certificate client_cert;  // client Certificate, when sent in clear
    tls_server_key_exchange ske;
    tls_cert_request cert_req;
    bool server_hello_done;
    bool client_key_exchange;
    bool ccs[2];              // ChangeCipherSpec per direction
    bool encrypted[2];        // direction switched to encrypted records
    uint32_t records[2];      // TLS/SSLv2 records parsed per direction (all content types)
    uint32_t app_records[2];  // application-data records per direction (content never kept)
    uint64_t app_bytes[2];
    bool renegotiation_attempt;  // a second ClientHello/HelloRequest after the handshake

    // The client's first record when it is a ClientHello that has not all arrived (the connection
    // ended first, or the capture did): the length its header declares and the bytes seen, header
    // included; both 0 once the hello is complete or when the first record is something else.
    uint32_t ch_partial_declared, ch_partial_seen;

    // first bytes of a direction that turned out not to be TLS (HTTP reply, SSH banner, ...)
    uint16_t preview_len[2];
    uint8_t preview[2][TLS_MAX_PREVIEW];

    uint32_t num_errors;  // malformed-TLS findings (first one recorded below)
    uint8_t first_err;    // tls_err
    uint32_t first_err_frame;
    uint32_t first_err_offset;  // offset in the direction's reassembled stream

    tls_tcp_facts tcp;
    tls_quality quality;

    // Fingerprints (GREASE removed), lowercase hex, "" when no ClientHello/ServerHello.
    char ja3[33], ja3s[33];
    char ja4[40];
} tls_transcript;

// ---------------------------------------------------------------------------------------------
// Frames in.
// ---------------------------------------------------------------------------------------------
typedef struct dissect_frame {
    int linktype;         // DLT_* value (pcap LINKTYPE)
    uint32_t caplen;      // bytes captured (length of data)
    uint32_t len;         // length on the wire
    const uint8_t *data;  // borrowed for the call
    int64_t ts_ns;        // ns since the Unix epoch
    uint32_t frame_no;    // 1-based frame number across the run
} dissect_frame;

typedef void (*dissect_transcript_fn)(void *user, const tls_transcript *t);

typedef struct dissect_config {
    uint32_t max_flows;        // flow-table capacity (default 65536)
    uint32_t max_flow_bytes;   // bytes buffered per direction for reassembly (default 1 MiB)
    uint64_t max_total_bytes;  // bytes buffered in total (default 256 MiB)
    uint32_t max_message_len;  // handshake message cap (default 1 MiB)
    uint32_t idle_timeout_s;   // evict undecided flows idle this long (default 300 s)
    bool keep_decided_flows;   // keep a tiny record of decided flows (so late packets are not
                               // mistaken for new mid-stream flows); default true
    dissect_transcript_fn on_transcript;
    void *user;
    // Optional (bundle/ strips application data with it; NULL: off): every complete TLS
    // record as it is parsed. stream_off is the offset of the record header in its direction's
    // stream (0 = first payload byte after the SYN, or the first byte seen mid-stream); len is
    // header + body; app_data: the record was classified as application data.
    void (*on_record)(void *user, uint64_t conn_id, uint8_t dir, uint64_t stream_off, uint32_t len,
                      uint8_t content_type, bool app_data);
} dissect_config;

// dissect_config_default fills c with the defaults above (callback NULL).
void dissect_config_default(dissect_config *c);

typedef struct dissect dissect;

// Bounds that engaged, counted in reported connections (once per connection and bound): what
// the CLI states on stderr after a run (cli/limits.c). --threads sums its workers' counts.
typedef struct dissect_bounds {
    uint64_t flow_cap;        // quality.buffer_cap_hit: max_flow_bytes
    uint64_t total_cap;       // quality.total_cap_hit: max_total_bytes
    uint64_t message_cap;     // quality.message_cap_hit: max_message_len
    uint64_t events_dropped;  // events_dropped > 0: TLS_MAX_EVENTS per transcript
} dissect_bounds;

// dissect_bounds_add: sum += b (for callers that run several dissectors).
void dissect_bounds_add(dissect_bounds *sum, const dissect_bounds *b);

// Encapsulation limits of the link/IP decoder (net.c): deeper frames are not decoded and are
// counted as undecoded (below), never dropped in silence.
enum {
    DISSECT_MAX_VLAN_TAGS = 4,    // stacked 802.1Q/802.1ad tags (QinQ and a spare)
    DISSECT_MAX_MPLS_LABELS = 8,  // MPLS label stack entries
    DISSECT_MAX_IPV6_EXT = 8,     // IPv6 extension headers in one chain
    DISSECT_MAX_TUNNELS = 8,      // nested tunnels (IP-in-IP, GRE, VXLAN, GTP-U, ICMP quotes)
};

// Why a frame that may have carried a TCP segment could not be decoded down to it. Each reason is
// said on stderr (count, first frame, link type) and listed in the summary, so a capture never
// yields "0 connections" in silence. ARP, UDP, fragments and the like are not listed: they are
// not what tlsdiag looks for.
//   X(id, name for JSON, limit exceeded (0: none), what happened)
#define DISSECT_UNDECODED_TABLE(X)                                                              \
    X(UNSUPPORTED_LINK, "unsupported_link_type", 0, "link type not supported")                  \
    X(WRONG_LINK, "wrong_link_type", 0,                                                         \
      "no IP header where the link type puts one (Ethernet frames saved under a raw-IP or "     \
      "loopback link type?)")                                                                   \
    X(VLAN_DEPTH, "vlan_depth", DISSECT_MAX_VLAN_TAGS, "more stacked VLAN tags than the limit") \
    X(MPLS_DEPTH, "mpls_depth", DISSECT_MAX_MPLS_LABELS, "more MPLS labels than the limit")     \
    X(IPV6_EXT_DEPTH, "ipv6_extension_depth", DISSECT_MAX_IPV6_EXT,                             \
      "more IPv6 extension headers than the limit")                                             \
    X(TUNNEL_DEPTH, "tunnel_depth", DISSECT_MAX_TUNNELS, "tunnels nested deeper than the limit")

#define DISSECT_UNDECODED_ENUM(id, name, limit, text) DISSECT_UNDECODED_##id,
typedef enum dissect_undecoded_reason {
    DISSECT_UNDECODED_TABLE(DISSECT_UNDECODED_ENUM) DISSECT_UNDECODED_COUNT
} dissect_undecoded_reason;
#undef DISSECT_UNDECODED_ENUM

typedef struct dissect_undecoded {
    uint64_t frames;       // frames not decoded for this reason
    uint64_t first_frame;  // frame number of the first of them (0: none)
    int linktype;          // the link type of that first frame
} dissect_undecoded;

const char *dissect_undecoded_name(dissect_undecoded_reason r);  // "vlan_depth"
const char *dissect_undecoded_text(dissect_undecoded_reason r);  // "more ... than the limit"
unsigned dissect_undecoded_limit(dissect_undecoded_reason r);    // 4; 0 when no limit applies
// dissect_undecoded_describe: "N frame(s): <text> (<limit>); first frame F" for messages (callers
// add the link type, by name or number). Always NUL-terminated.
void dissect_undecoded_describe(dissect_undecoded_reason r, const dissect_undecoded *u, char *out,
                                size_t outlen);
// dissect_undecoded_merge adds `from` to `into` (--threads: one set per worker; the first frame
// is the smallest frame number).
void dissect_undecoded_merge(dissect_undecoded *into, const dissect_undecoded *from);

typedef struct dissect_stats {
    uint64_t frames, bytes;
    uint64_t frames_not_ip, frames_not_tcp, frames_malformed, frames_truncated;
    uint64_t frames_unsupported_link;
    int first_unsupported_linktype;
    dissect_undecoded undecoded[DISSECT_UNDECODED_COUNT];  // by dissect_undecoded_reason
    uint64_t flows_created, flows_evicted, flows_decided;
    uint64_t flows_idle;    // of flows_evicted: went idle (capture clock), the table was not full
    dissect_bounds bounds;  // flows_evicted is the flow table's (max_flows)
    uint64_t transcripts;
    uint64_t peak_buffered_bytes;
    uint32_t peak_flows;
} dissect_stats;

// dissect_new returns a dissector or NULL when out of memory. Caller-owned: dissect_free.
dissect *dissect_new(const dissect_config *c) TLSDIAG_WUR;
// dissect_prefault writes the pages of d's connection table now (a few hundred KiB, allocated
// untouched). A page a lookup reads before an insert writes it is a copy-on-write fault of the
// kernel's zero page, and while other threads of the process run, that fault's TLB flush is an
// interrupt to each of their cores (--threads: ~60 µs a page here; a new dissector's first
// thousands of connections hit every page). Call it before d is fed, ideally before the threads
// start. Changes nothing d reports.
void dissect_prefault(dissect *d);
// dissect_free releases everything; pending flows are NOT reported (call dissect_finish first).
// dissect_free(NULL) is a no-op.
void dissect_free(dissect *d);
// dissect_feed decodes one frame. Malformed or unsupported frames are counted, never fatal.
void dissect_feed(dissect *d, const dissect_frame *f);
// dissect_feed_frames feeds frames[0..n) in order, as n dissect_feed calls would, but returns
// right after a frame that reported a transcript (so the caller can decide whether to go on):
// the number of frames fed, 1..n (0 when n is 0). One call a batch: ~25 instructions a frame less.
size_t dissect_feed_frames(dissect *d, const dissect_frame *frames, size_t n);
// Per-frame facts for a live capture writer (--handshake-only keeps a connection's packets only
// up to its verdict, and no application data).
typedef struct dissect_frame_info {
    bool tcp;          // a TCP segment of a connection that was still undecided
    bool undecided;    // its connection's handshake was not yet decided when the frame arrived
    bool decided_now;  // this frame decided it (the transcript callback ran during the call)
    bool app_data;     // the frame carried application-data records (counted by the TLS layer)
} dissect_frame_info;
// dissect_feed_ex is dissect_feed that also fills *out (all false for a frame that is not TCP
// and for a late packet of a connection already decided).
void dissect_feed_ex(dissect *d, const dissect_frame *f, dissect_frame_info *out);
// dissect_clock_only: a frame of the capture that another dissector handles (--threads): moves
// the capture clock and expires idle connections exactly as dissect_feed would, so each worker
// reports them at the same frame as one dissector fed every frame.
void dissect_clock_only(dissect *d, int64_t ts_ns);

// The capture clock for idle eviction, whose rules are here once: every dissector runs one, and
// `--threads` keeps one more beside the input (pipeline/selfread.c) to know the clock after every
// frame without each worker stepping through the others' frames. Real files carry bogus
// timestamps (a single frame decades off, clocks stepping back), and one such frame must not
// evict every flow: the clock never runs backwards, and a jump beyond the idle timeout counts
// only once a second frame confirms it.
typedef struct dissect_clock {
    int64_t now_ns;   // the clock
    int64_t jump_ns;  // a forward jump waiting for a second frame to confirm it
    int64_t idle_ns;  // the idle timeout (0: no idle eviction)
    bool set;         // a frame was seen
    bool jump_pending;
} dissect_clock;

// What a frame did to the clock: nothing or a step within the timeout (STEADY, also the first
// frame and a step back), started a jump, or confirmed the pending one.
typedef enum dissect_clock_event {
    DISSECT_CLOCK_STEADY,
    DISSECT_CLOCK_JUMP,
    DISSECT_CLOCK_CONFIRMED,
} dissect_clock_event;

void dissect_clock_init(dissect_clock *c, uint32_t idle_timeout_s);
// dissect_clock_step_slow: dissect_clock_step's every case but the common one.
dissect_clock_event dissect_clock_step_slow(dissect_clock *c, int64_t ts_ns);
// dissect_clock_step: the clock after a frame stamped ts_ns (inline: every frame of the input).
static inline dissect_clock_event dissect_clock_step(dissect_clock *c, int64_t ts_ns) {
    if (c->set && ts_ns > c->now_ns && ts_ns - c->now_ns <= c->idle_ns) {
        c->now_ns = ts_ns;
        c->jump_pending = false;
        return DISSECT_CLOCK_STEADY;
    }
    return dissect_clock_step_slow(c, ts_ns);
}

// dissect_clock_pass, for a --threads worker passing a run of other shards' frames in which the
// clock only stepped (every step STEADY, a clock set before the run and no jump pending; its
// replica says so), now_ns the clock after the run's last frame: when nothing of d goes idle by
// now_ns, nothing did at any frame of the run (the clock is monotonic there and only d's own
// frames or an expiry change its lists), and d's clock moves there in one step (true). Otherwise
// nothing changes (false) and the caller steps frame by frame (dissect_clock_only), so that each
// expiry is reported at its frame. One call a run: its two halves were two calls (bench/NOTES.md).
bool dissect_clock_pass(dissect *d, int64_t now_ns);
// The same pass without a call a run (a worker's own frames and the runs between them alternate
// at random: the call and its branch were a third of the worker loop, bench/NOTES.md round 9):
// dissect_idle_deadline is the last clock by which nothing of d has been idle longer than the
// timeout (INT64_MAX: nothing can go idle: no timeout, or no connection held), and a steady run
// whose last clock is at most that moves dissect_clock_of(d)->now_ns there, forward only. In a
// steady stretch of the capture the deadline only grows while d's own frames are fed (every
// connection they touch or add gets the current clock, never an earlier one; an expiry removes
// the oldest), except from INT64_MAX, when a first connection arrives: a caller that holds an
// older value is on the safe side, one that holds INT64_MAX asks again after each frame.
int64_t dissect_idle_deadline(const dissect *d);
dissect_clock *dissect_clock_of(dissect *d);
// dissect_oldest_live_frame: the first frame of the oldest connection not yet reported (one
// that a later frame, an idle timeout or dissect_finish will still report); UINT32_MAX when
// there is none. Walks the table: O(connections held). For --threads' bookkeeping of conn_ids.
uint32_t dissect_oldest_live_frame(const dissect *d);
// dissect_frame_flow_hash: a hash of the frame's TCP connection (its two endpoints, the same for
// both directions; an ICMP error counts for the connection it quotes). false when the frame is
// not TCP over IP (out untouched). For sharding flows over several dissectors (pipeline/
// --threads). Inline: the reading worker of `analyze --threads N` hashes every frame of the
// input, and the commonest frame (Ethernet, IPv4 without options, TCP, not a fragment) takes a
// path of ~45 instructions with no call; every other frame goes to dissect_frame_flow_hash_rest
// (shard.c).
bool dissect_frame_flow_hash_rest(const dissect_frame *f, uint32_t *out) TLSDIAG_WUR;

// dissect_hash_pair: a direction-independent mix of two endpoint words (sums and xors are
// symmetric), family 4 or 6. The one mix both paths use, so a connection hashes alike on either.
static inline uint32_t dissect_hash_pair(uint64_t x, uint64_t y, uint8_t family) {
    uint64_t h = ((x + y) ^ ((x ^ y) * 0xff51afd7ed558ccdull)) + family;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)(h >> 16);
}

static inline bool dissect_frame_flow_hash(const dissect_frame *f, uint32_t *out) {
    // HEAD: the Ethernet and IPv4 headers and the TCP ports. Every byte read below is at a
    // constant index below HEAD, and HEAD bytes were captured (the one length check): the
    // cursor's per-field checks, folded into that one.
    enum { ETH = 14, IP4 = 20, HEAD = ETH + IP4 + 4 };
    const uint8_t *p = f->data;
    // Ethernet (LINKTYPE 1), EtherType 0x0800, IPv4 with IHL 5, no fragment offset or
    // more-fragments, TCP: the six bytes that decide it tested together.
    if (f->linktype != 1 || f->caplen < HEAD ||
        ((p[12] ^ 0x08u) | p[13] | (p[ETH] ^ 0x45u) | (p[ETH + 6] & 0x3fu) | p[ETH + 7] |
         (p[ETH + 9] ^ 6u)) != 0) {
        return dissect_frame_flow_hash_rest(f, out);
    }
    uint64_t src = (uint64_t)p[ETH + 12] << 24 | (uint64_t)p[ETH + 13] << 16 |
                   (uint64_t)p[ETH + 14] << 8 | p[ETH + 15];
    uint64_t dst = (uint64_t)p[ETH + 16] << 24 | (uint64_t)p[ETH + 17] << 16 |
                   (uint64_t)p[ETH + 18] << 8 | p[ETH + 19];
    uint64_t sport = (uint64_t)p[ETH + IP4] << 8 | p[ETH + IP4 + 1];
    uint64_t dport = (uint64_t)p[ETH + IP4 + 2] << 8 | p[ETH + IP4 + 3];
    *out = dissect_hash_pair(src << 16 | sport, dst << 16 | dport, 4);
    return true;
}
// dissect_finish reports every undecided flow (end_reason CAPTURE_END) in conn_id order.
void dissect_finish(dissect *d);
// dissect_decode_segment decodes one frame down to its TCP segment (the same link/IP/TCP
// decoder dissect_feed uses) for callers that rebuild packets (bundle/). Returns false when
// the frame carries no TCP segment. payload_off is the payload's offset in f->data.
typedef struct dissect_segment {
    uint8_t family;  // 4 or 6
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;  // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20
    uint16_t window;
    uint32_t payload_off, payload_len;  // captured payload bytes
    uint32_t wire_payload_len;          // payload length according to the IP header
} dissect_segment;
bool dissect_decode_segment(const dissect_frame *f, dissect_segment *out) TLSDIAG_WUR;
// dissect_mark_drops stamps quality.kernel_drops into every open flow (live capture).
void dissect_mark_drops(dissect *d);
const dissect_stats *dissect_get_stats(const dissect *d);

// ---------------------------------------------------------------------------------------------
// Names (IANA registries). Unknown values give NULL; GREASE values give "GREASE".
// ---------------------------------------------------------------------------------------------
const char *tls_version_name(uint16_t v);      // "TLSv1.2", "SSLv3", "TLSv1.3-draft23"
const char *tls_cipher_name(uint16_t v);       // IANA name, "TLS_ECDHE_RSA_WITH_..."
const char *tls_group_name(uint16_t v);        // "x25519", "secp256r1", ...
const char *tls_sigalg_name(uint16_t v);       // "rsa_pkcs1_sha256", ...
const char *tls_extension_name(uint16_t v);    // "server_name", ...
const char *tls_handshake_name(uint8_t t);     // "ClientHello", ...
const char *tls_alert_name(uint8_t desc);      // "handshake_failure", ... (RFC 8446 + 9147)
const char *tls_content_type_name(uint8_t t);  // "handshake", ...
bool tls_is_grease(uint16_t v);
// tls_key_share_names writes ch's key share groups as "X25519MLKEM768 + secp256r1" (GREASE
// skipped, unknown ones as 0x11ff) into out; returns how many it named.
unsigned tls_key_share_names(const tls_client_hello *ch, char *out, size_t outlen);

// A TLS record header (RFC 5246 §6.2.1):
//   struct { ContentType type; ProtocolVersion version; uint16 length; } (5 bytes)
enum { TLS_CONTENT_APPLICATION_DATA = 23 };
typedef struct tls_record_header {
    uint8_t type;
    uint16_t version;
    uint16_t length;  // of the body that follows the header
} tls_record_header;

// tls_record_header_parse reads the record header at the start of p[0..n) and judges it as the
// dissector judges one: a content type of 20-24, an SSL 3.0 / TLS 1.x record version (drafts
// included), a length of at most 2^14 + 2048 (RFC 5246 §6.2.3). false when fewer than 5
// bytes are there or any of these fails; *out is untouched then. p is borrowed.
bool tls_record_header_parse(const uint8_t *p, size_t n, tls_record_header *out) TLSDIAG_WUR;

// tls_negotiated_version: the version a ServerHello (or HelloRetryRequest) chose — its
// supported_versions when it sent one (RFC 8446 §4.2.1), else its legacy_version field
// (RFC 5246 §7.4.1.3); 0 when sh is not present. The one derivation every layer uses.
uint16_t tls_negotiated_version(const tls_server_hello *sh);

#ifdef __cplusplus
}
#endif
#endif
