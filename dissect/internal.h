// internal.h — contracts between the stages inside dissect/ (not installed, not for other folders).
//
//   net.c        frame bytes → net_pkt (link layer, tunnels, IPv4/IPv6, TCP header)
//   flow.c       bounded flow table keyed by the 5-tuple, both directions, idle eviction
//   tcp.c        per-direction reassembly → in-order bytes and gaps handed to the TLS layer
//   tls_conn.c   record layer + handshake reassembly per direction, fills the transcript
//   tls_msg.c    one parser per handshake message (ClientHello, ServerHello, ...)
//   tls_names.c  IANA names; tls_fp.c JA3/JA3S/JA4; transcript.c event helpers
//   dissect.c    the public API: glue of the above
#ifndef TLSDIAG_DISSECT_INTERNAL_H
#define TLSDIAG_DISSECT_INTERNAL_H

#include "cursor.h"
#include "dissect.h"

// ---------------------------------------------------------------------------------------------
// net.c
// ---------------------------------------------------------------------------------------------
enum {
    TCP_FIN = 0x01,
    TCP_SYN = 0x02,
    TCP_RST = 0x04,
    TCP_PSH = 0x08,
    TCP_ACK = 0x10,
    TCP_URG = 0x20,
};

// The addresses first: flow_key_make reads them as 8-byte words, which net_fast_ipv4_tcp
// stores as 8-byte words at the same (aligned) offsets, so each load is forwarded from one store.
typedef struct net_pkt {
    uint8_t src[16], dst[16];
    uint8_t family;  // 4 or 6 (innermost IP header carrying the TCP segment)
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;  // TCP_* bits
    uint16_t window;
    const uint8_t *payload;     // borrowed from the frame; captured part only
    uint32_t payload_len;       // captured payload bytes
    uint32_t wire_payload_len;  // payload length according to the IP header
    bool truncated;             // snaplen cut the payload (payload_len < wire_payload_len)
} net_pkt;

typedef enum net_status {
    NET_OK = 0,
    NET_NOT_IP,     // ARP, LLDP, ...
    NET_NOT_TCP,    // UDP, ICMP, ... (DTLS out of scope)
    NET_FRAGMENT,   // IP fragment (not reassembled: counted)
    NET_MALFORMED,  // header lengths inconsistent
    NET_TRUNCATED,  // capture cut inside the headers
    NET_UNSUPPORTED_LINK,
    NET_ICMP_QUOTE,  // ICMP/ICMPv6 error quoting a TCP header: *out holds the quoted
                     // segment's addresses, ports and seq (flags 0, no payload)
    // Not decoded although it may carry TCP (dissect_undecoded_reason says so to the user):
    NET_WRONG_LINK,     // no IP header where a raw-IP/loopback link type puts one
    NET_DEEP_VLAN,      // more than DISSECT_MAX_VLAN_TAGS tags
    NET_DEEP_MPLS,      // more than DISSECT_MAX_MPLS_LABELS labels
    NET_DEEP_IPV6_EXT,  // more than DISSECT_MAX_IPV6_EXT extension headers
    NET_DEEP_TUNNEL,    // more than DISSECT_MAX_TUNNELS nested encapsulations
} net_status;

// net_decode_general: every link type, tunnel and IP version net.c knows (net_decode's slow
// path). *out is written only on NET_OK and NET_ICMP_QUOTE.
net_status net_decode_general(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                              net_pkt *out) TLSDIAG_WUR;

// net_fast_ipv4_tcp: the common frame — Ethernet, IPv4 without options and not a fragment,
// TCP — in one pass over a fixed 54-byte header block, with exactly net_ether → net_ipv4 →
// net_tcp's checks and results. false (nothing written) for any other frame, or any frame whose
// outcome is not NET_OK: the general decoder then says what it is. The general path costs ~200
// instructions a frame in five calls; this one, inline in dissect_feed, ~60 (bench/NOTES.md,
// round 5). unit test_fast_path_same_as_general holds the two to the same answers.
__attribute__((always_inline)) static inline bool net_fast_ipv4_tcp(cur c, uint32_t wirelen,
                                                                    net_pkt *out) {
    enum { ETH = 14, IP4 = 20, TCP = 20, ETH_IPV4 = 0x0800, IPP_TCP = 6 };
    cur h;
    uint16_t type, total, frag, off_flags;
    uint8_t vihl, proto;
    if (!cur_get_bytes(&c, &h, ETH + IP4 + TCP) || !cur_peek_u16(&h, 12, &type) ||
        type != ETH_IPV4 || !cur_peek_u8(&h, ETH, &vihl) || vihl != 0x45 ||
        !cur_peek_u16(&h, ETH + 6, &frag) || (frag & 0x3fff) != 0 ||
        !cur_peek_u8(&h, ETH + 9, &proto) || proto != IPP_TCP ||
        !cur_peek_u16(&h, ETH + 2, &total) || total < IP4) {
        return false;
    }
    // net_ipv4's Total Length rule, when Total Length is not 0 (TSO output takes the slow path):
    // a length beyond what the frame had on the wire is clamped to it.
    uint32_t caplen = (uint32_t)(cur_len(&c) + ETH + IP4 + TCP);
    uint32_t on_wire = wirelen - ETH;  // wirelen >= caplen >= 54 (net_decode)
    uint32_t wire_total = total > on_wire ? on_wire : total;
    uint32_t wire_payload = wire_total - IP4;  // the TCP segment on the wire
    uint32_t seg_captured = caplen - ETH - IP4;
    if (seg_captured > wire_payload) {
        seg_captured = wire_payload;  // Ethernet padding beyond Total Length is not payload
    }
    if (seg_captured < TCP || !cur_peek_u16(&h, ETH + IP4 + 12, &off_flags)) {
        return false;
    }
    uint32_t hlen = (uint32_t)(off_flags >> 12) * 4u;
    if (hlen < TCP || hlen > seg_captured) {  // malformed, or options cut short: slow path
        return false;
    }
    // The rest cannot fail (fixed offsets inside the 54 bytes; the options were checked to be
    // captured), but *out is still written only once everything is read. The fields go from
    // registers straight into *out, the addresses as whole words: a net_pkt built on the stack
    // and copied (16-byte loads of narrower stores) and flow_key_make's 8-byte loads across two
    // stores both missed store-to-load forwarding, ~35 % of this loop's samples (bench/NOTES.md,
    // round 7).
    uint8_t src[8] = {0}, dst[8] = {0};
    uint16_t sport, dport, window;
    uint32_t seq, ack;
    cur addrs = h, opts = c;
    if (!cur_skip(&addrs, ETH + 12) || !cur_copy(&addrs, src, 4) || !cur_copy(&addrs, dst, 4) ||
        !cur_peek_u16(&h, ETH + IP4, &sport) || !cur_peek_u16(&h, ETH + IP4 + 2, &dport) ||
        !cur_peek_u32(&h, ETH + IP4 + 4, &seq) || !cur_peek_u32(&h, ETH + IP4 + 8, &ack) ||
        !cur_peek_u16(&h, ETH + IP4 + 14, &window) || !cur_skip(&opts, hlen - TCP)) {
        return false;
    }
    uint64_t src0, dst0, zero = 0;
    memcpy(&src0, src, 8);  // the address and four zero bytes
    memcpy(&dst0, dst, 8);
    memcpy(out->src, &src0, 8);
    memcpy(out->src + 8, &zero, 8);
    memcpy(out->dst, &dst0, 8);
    memcpy(out->dst + 8, &zero, 8);
    out->family = 4;
    out->sport = sport;
    out->dport = dport;
    out->seq = seq;
    out->ack = ack;
    out->window = window;
    out->flags = (uint8_t)off_flags;
    out->wire_payload_len = wire_payload - hlen;
    out->payload_len = seg_captured - hlen;
    out->payload = out->payload_len ? cur_data(&opts) : NULL;  // what follows the options
    out->truncated = out->payload_len < out->wire_payload_len;
    return true;
}

// net_decode parses the frame down to the TCP payload. *out is written only on NET_OK and
// NET_ICMP_QUOTE.
TLSDIAG_WUR __attribute__((always_inline)) static inline net_status net_decode(
    int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen, net_pkt *out) {
    if (linktype == 1 /* LINKTYPE_ETHERNET */ && data &&
        net_fast_ipv4_tcp(cur_make(data, caplen), wirelen > caplen ? wirelen : caplen, out)) {
        return NET_OK;
    }
    return net_decode_general(linktype, data, caplen, wirelen, out);
}

// ---------------------------------------------------------------------------------------------
// TCP sequence arithmetic (RFC 793 §3.3: compare modulo 2^32).
// ---------------------------------------------------------------------------------------------
static inline bool seq_lt(uint32_t a, uint32_t b) {
    return (int32_t)(a - b) < 0;
}
static inline bool seq_leq(uint32_t a, uint32_t b) {
    return (int32_t)(a - b) <= 0;
}
static inline bool seq_gt(uint32_t a, uint32_t b) {
    return (int32_t)(a - b) > 0;
}
static inline bool seq_geq(uint32_t a, uint32_t b) {
    return (int32_t)(a - b) >= 0;
}

// tcp.c, for the unit tests only: tree nodes visited by reassembly so far, a deterministic
// measure of its work (test_tcp.c bounds it by c·n·log n for any arrival order).
uint64_t tcp__steps(const dissect *d);

// ---------------------------------------------------------------------------------------------
// transcript.c
// ---------------------------------------------------------------------------------------------
// tr_new allocates an empty transcript (NULL when out of memory); tr_reset empties one.
void tr_reset(tls_transcript *t);
tls_transcript *tr_new(void) __attribute__((warn_unused_result));
// tr_event appends an event (or counts it in events_dropped when full). Consecutive
// APPLICATION_DATA events of the same direction are merged (count, length summed).
void tr_event(tls_transcript *t, const tls_event *e);
// tr_error records a malformation (first one kept, all counted) and appends a MALFORMED event.
void tr_error(tls_transcript *t, tls_dir dir, tls_err err, uint32_t frame, int64_t ts_ns,
              uint32_t offset);

// ---------------------------------------------------------------------------------------------
// tls_conn.c — the TLS layer of one connection. Created when the flow's roles are known.
// ---------------------------------------------------------------------------------------------
typedef struct tls_conn tls_conn;

typedef struct tls_meta {
    uint32_t frame;
    int64_t ts_ns;
} tls_meta;

// tls_conn_new: t is owned by the flow and outlives the tls_conn, and is given as tr_new made
// it (or all-zero): its first ClientHello is parsed into it without clearing it again. NULL on
// OOM.
tls_conn *tls_conn_new(tls_transcript *t, const dissect_config *cfg) TLSDIAG_WUR;
void tls_conn_free(tls_conn *c);  // NULL ok
// tls_conn_feed: in-order stream bytes of one direction (borrowed for the call). The layer
// buffers only what it needs to complete a record/message, capped by cfg->max_flow_bytes.
void tls_conn_feed(tls_conn *c, tls_dir dir, const uint8_t *p, size_t n, const tls_meta *m);
// tls_conn_gap: `n` bytes of this direction were never captured. Parsing of the direction
// resynchronises only if it can do so safely; the gap is recorded in quality by tcp.c.
void tls_conn_gap(tls_conn *c, tls_dir dir, uint64_t n, const tls_meta *m);
// tls_conn_decided: the handshake outcome is known (completed, fatal alert, not TLS, ...);
// *reason is set when true.
bool tls_conn_decided(const tls_conn *c, tls_end_reason *reason);
// tls_conn_buffered: bytes currently held (for the global cap).
size_t tls_conn_buffered(const tls_conn *c);

// tls_sniff classifies the first payload bytes of a direction for role detection:
// 1 = looks like a ClientHello (TLS or SSLv2-compatible), 2 = looks like a ServerHello or other
// server-first TLS record, 0 = not recognisable / too short.
int tls_sniff(const uint8_t *p, size_t n);

// ---------------------------------------------------------------------------------------------
// tls_msg.c — one parser per message; body = the handshake message body (after type+length).
// Each returns TLS_ERR_OK or the specific malformation; *out is fully written either way
// (fields parsed before the error are kept, so a truncated hello still yields its SNI).
// ---------------------------------------------------------------------------------------------
tls_err tls_parse_client_hello(cur body, tls_client_hello *out) TLSDIAG_WUR;
tls_err tls_parse_sslv2_client_hello(cur body, tls_client_hello *out) TLSDIAG_WUR;
tls_err tls_parse_server_hello(cur body, tls_server_hello *out) TLSDIAG_WUR;
// tls_parse_certificate: the DER blobs are copied (malloc) into out->certs[i].der; the caller
// frees them with tls_certificate_clear().
tls_err tls_parse_certificate(cur body, bool tls13, tls_certificate *out) TLSDIAG_WUR;
void tls_certificate_clear(tls_certificate *c);
// tls_parse_server_key_exchange: needs the chosen cipher (to know ECDHE vs DHE) and version
// (whether a SignatureAndHashAlgorithm precedes the signature).
tls_err tls_parse_server_key_exchange(cur body, uint16_t cipher, uint16_t version,
                                      tls_server_key_exchange *out) TLSDIAG_WUR;
tls_err tls_parse_certificate_request(cur body, uint16_t version,
                                      tls_cert_request *out) TLSDIAG_WUR;

// ---------------------------------------------------------------------------------------------
// tls_fp.c — fingerprints (GREASE removed). Written into t->ja3/ja3s/ja4.
// ---------------------------------------------------------------------------------------------
void tls_fp_ja3(const tls_client_hello *ch, char out[33]);
// JA3 and JA4 of one ClientHello at once (one memo lookup: what the connection layer calls)
void tls_fp_client(const tls_client_hello *ch, char ja3[33], char ja4[40]);
void tls_fp_ja3s(const tls_server_hello *sh, char out[33]);
void tls_fp_ja4(const tls_client_hello *ch, char out[40]);
// the JA3 input string (for tests and --verbose)
size_t tls_fp_ja3_string(const tls_client_hello *ch, char *out, size_t outlen);

// cipher-suite facts from the names table
bool tls_cipher_is_ecdhe(uint16_t cs);
bool tls_cipher_is_dhe(uint16_t cs);

#endif
