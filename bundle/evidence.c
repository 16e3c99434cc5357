// evidence.c — evidence.pcap: the chosen connections' packets without application data,
// every frame rebuilt with libnet (Ethernet + IPv4/IPv6 + TCP, checksums computed by libnet).
//
// Removing bytes from a TCP stream moves every later sequence number: each direction keeps
// the list of removed ranges (application-data records, and for a completed handshake every
// byte after the last record parsed), and a segment's seq and the peer's ack are shifted by
// the bytes removed before them, so each stream stays gap-free and consistent. A segment left
// without payload and without SYN/FIN/RST is dropped. TCP options are not copied (SACK blocks
// would point at the old numbering). A frame the capture cut short keeps its IP/TCP lengths
// (zeros stand for the missing bytes) and is written with the same caplen < len as before.
#include <libnet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_internal.h"
#include "cursor.h"
#include "report.h"

enum {
    PCAP_SNAPLEN = 262144,
    LINKTYPE_ETHERNET = 1,
    REC_HEADER = 5,              // RFC 5246 §6.2.1: type(8) version(16) length(16)
    HS_CERTIFICATE = 11,         // RFC 5246 §7.4.2
    HS_CERTIFICATE_STATUS = 22,  // RFC 6066 §8 (a stapled OCSP response names the serial)
    REDACT_MAX_STREAM = BUNDLE_MAX_CONN_BYTES + 65536,  // stream bytes searched per direction
};

static uint64_t cut_of(const bundle_conn *c, int dir) {
    // A completed handshake: whatever follows the last record is application data.
    return c->v->outcome == OUTCOME_SUCCEEDED ? c->records_end[dir] : UINT64_MAX;
}

static bool removed_at(const bundle_conn *c, int dir, uint64_t off) {
    if (off >= cut_of(c, dir)) {
        return true;
    }
    for (size_t i = 0; i < c->num_app[dir]; i++) {
        const bundle_range *g = &c->app[dir][i];
        if (off >= g->off && off - g->off < g->len) {
            return true;
        }
    }
    return false;
}

// removed_before: bytes removed from [0, x) of a direction.
static uint64_t removed_before(const bundle_conn *c, int dir, uint64_t x) {
    uint64_t n = 0;
    for (size_t i = 0; i < c->num_app[dir]; i++) {
        const bundle_range *g = &c->app[dir][i];
        if (g->off < x) {
            uint64_t end = g->off + g->len < x ? g->off + g->len : x;
            n += end - g->off;
        }
    }
    uint64_t cut = cut_of(c, dir);
    if (x > cut) {
        n += x - cut;
    }
    return n;
}

static bool zeroed_at(const bundle_conn *c, int dir, uint64_t off) {
    for (size_t i = 0; i < c->num_zero[dir]; i++) {
        const bundle_range *g = &c->zero[dir][i];
        if (off >= g->off && off - g->off < g->len) {
            return true;
        }
    }
    return false;
}

// map_seq shifts a sequence number of direction dir by the bytes removed before it.
static uint32_t map_seq(const bundle_conn *c, int dir, uint32_t seq) {
    if (!c->have_base[dir]) {
        return seq;
    }
    int32_t rel = (int32_t)(seq - c->base[dir]);
    if (rel <= 0) {
        return seq;
    }
    return seq - (uint32_t)removed_before(c, dir, (uint64_t)rel);
}

static void put32(bbuf *b, uint32_t v) {
    bbuf_put(b, &v, 4);
}
static void put16(bbuf *b, uint16_t v) {
    bbuf_put(b, &v, 2);
}

static void pcap_header(bbuf *b) {
    put32(b, 0xa1b23c4d);  // nanosecond-resolution pcap, written in host byte order
    put16(b, 2);
    put16(b, 4);
    put32(b, 0);
    put32(b, 0);
    put32(b, PCAP_SNAPLEN);
    put32(b, LINKTYPE_ETHERNET);
}

// build_frame assembles one frame with libnet; *frame is libnet's buffer (free()).
static bool build_frame(libnet_t *l, const bundle_run *r, anon *an, const bundle_seg *g,
                        const uint8_t *payload, uint32_t plen, uint16_t ip_id, uint8_t **frame,
                        uint32_t *flen) {
    const bundle_conn *c = &r->conns[g->conn];
    const tls_endpoint *src = g->dir == TLS_DIR_C2S ? &c->v->client : &c->v->server;
    const tls_endpoint *dst = g->dir == TLS_DIR_C2S ? &c->v->server : &c->v->client;
    uint8_t sa[16], da[16];
    anon_addr(an, src->family, src->addr, sa);
    anon_addr(an, dst->family, dst->addr, da);
    int other = g->dir == TLS_DIR_C2S ? TLS_DIR_S2C : TLS_DIR_C2S;
    uint32_t seq = map_seq(c, g->dir, g->seq);
    uint32_t ack = (g->flags & 0x10) ? map_seq(c, other, g->ack) : 0;
    libnet_clear_packet(l);
    if (libnet_build_tcp(src->port, dst->port, seq, ack, g->flags, g->window, 0, 0,
                         (uint32_t)LIBNET_TCP_H + plen, payload, plen, l, 0) < 0) {
        return false;
    }
    uint16_t ethertype;
    if (src->family == 4) {
        uint32_t s4, d4;
        memcpy(&s4, sa, 4);
        memcpy(&d4, da, 4);
        if (libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + LIBNET_TCP_H + plen), 0, ip_id, 0x4000, 64,
                              IPPROTO_TCP, 0, s4, d4, NULL, 0, l, 0) < 0) {
            return false;
        }
        ethertype = ETHERTYPE_IP;
    } else {
        struct libnet_in6_addr s6, d6;
        memcpy(&s6, sa, 16);
        memcpy(&d6, da, 16);
        if (libnet_build_ipv6(0, 0, (uint16_t)(LIBNET_TCP_H + plen), IPPROTO_TCP, 64, s6, d6, NULL,
                              0, l, 0) < 0) {
            return false;
        }
        ethertype = ETHERTYPE_IPV6;
    }
    // Stand-in hardware addresses: the capture's own would identify machines.
    uint8_t mac_client[6] = {0x02, 0, 0, 0, 0, 0x01}, mac_server[6] = {0x02, 0, 0, 0, 0, 0x02};
    const uint8_t *smac = g->dir == TLS_DIR_C2S ? mac_client : mac_server;
    const uint8_t *dmac = g->dir == TLS_DIR_C2S ? mac_server : mac_client;
    if (libnet_build_ethernet(dmac, smac, ethertype, NULL, 0, l, 0) < 0) {
        return false;
    }
    return libnet_pblock_coalesce(l, frame, flen) >= 0;
}

// segment_payload: the kept bytes of a segment (application data removed) into out.
static uint32_t segment_payload(const bundle_run *r, const bundle_seg *g, uint8_t *out) {
    const bundle_conn *c = &r->conns[g->conn];
    int32_t rel = c->have_base[g->dir] ? (int32_t)(g->seq - c->base[g->dir]) : -1;
    if (g->payload_len < g->wire_payload_len) {
        if (rel >= 0 && removed_at(c, g->dir, (uint64_t)rel)) {
            return 0;  // application data (collect.c: mark_truncated_app)
        }
        // Cut short by the snapshot length: kept whole (the rest is zeros, see the top).
        for (uint32_t i = 0; i < g->payload_len; i++) {
            bool zero = rel >= 0 && zeroed_at(c, g->dir, (uint64_t)rel + i);
            out[i] = zero ? 0 : g->payload[i];
        }
        memset(out + g->payload_len, 0, g->wire_payload_len - g->payload_len);
        return g->wire_payload_len;
    }
    if (!c->have_base[g->dir]) {
        if (g->payload_len > 0) {
            memcpy(out, g->payload, g->payload_len);
        }
        return g->payload_len;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->payload_len; i++) {
        int64_t off = (int64_t)rel + i;
        if (off < 0 || !removed_at(c, g->dir, (uint64_t)off)) {
            out[n++] = off >= 0 && zeroed_at(c, g->dir, (uint64_t)off) ? 0 : g->payload[i];
        }
    }
    return n;
}

// ---------------------------------------------------------------------------------------------
// --redact-names: certificate bytes become zeros in evidence.pcap. The handshake records of a
// direction are put back together (their bodies, in stream order), the handshake messages walked,
// and the DER of every certificate (Certificate) and the OCSP response (CertificateStatus) mapped
// back to stream offsets. Every length field stays, so Wireshark still dissects each message; only
// the bytes that identify the certificate (and could be looked up in Certificate Transparency:
// names, serial, keys, signature, fingerprint) are gone.
// ---------------------------------------------------------------------------------------------
typedef struct hs_stream {
    uint8_t *bytes;  // record bodies, concatenated
    size_t len;
    const bundle_range *recs;  // the direction's handshake records (off: stream offset of header)
    size_t num_recs;
} hs_stream;

// hs_zero: handshake-stream bytes [at, at+n) → stream ranges to zero (they may span records).
static bool hs_zero(bundle_conn *c, int dir, const hs_stream *h, size_t at, size_t n) {
    size_t start = 0;
    for (size_t i = 0; i < h->num_recs && n > 0; i++) {
        size_t body = h->recs[i].len > REC_HEADER ? (size_t)h->recs[i].len - REC_HEADER : 0;
        if (at < start + body) {
            size_t k = at - start, take = body - k < n ? body - k : n;
            if (!bundle_range_add(&c->zero[dir], &c->num_zero[dir], &c->cap_zero[dir],
                                  h->recs[i].off + REC_HEADER + k, take)) {
                return false;
            }
            at += take;
            n -= take;
        }
        start += body;
    }
    return true;
}

// RFC 5246 §7.4: Handshake { HandshakeType msg_type; uint24 length; body }.
//   Certificate: ASN.1Cert certificate_list<0..2^24-1>; opaque ASN.1Cert<1..2^24-1>
//   CertificateStatus: CertificateStatusType status_type; opaque OCSPResponse<1..2^24-1>
// A message the capture did not hold whole ends the walk (its bytes are then left as they are).
static bool hs_walk(bundle_conn *c, int dir, const hs_stream *h) {
    cur s = cur_make(h->bytes, h->len);
    uint8_t type;
    uint32_t len;
    while (cur_get_u8(&s, &type) && cur_get_u24(&s, &len)) {
        cur body;
        if (!cur_get_bytes(&s, &body, len)) {
            break;
        }
        size_t body_at = h->len - cur_len(&s) - len;
        if (type == HS_CERTIFICATE) {
            cur list;
            if (!cur_get_prefixed(&body, 3, &list)) {
                continue;
            }
            cur der;
            while (cur_get_prefixed(&list, 3, &der)) {
                size_t at = body_at + (len - cur_len(&body)) - cur_len(&list) - cur_len(&der);
                if (!hs_zero(c, dir, h, at, cur_len(&der))) {
                    return false;
                }
            }
        } else if (type == HS_CERTIFICATE_STATUS) {
            uint8_t status_type;
            cur ocsp;
            if (cur_get_u8(&body, &status_type) && cur_get_prefixed(&body, 3, &ocsp) &&
                !hs_zero(c, dir, h, body_at + 4, cur_len(&ocsp))) {
                return false;
            }
        }
    }
    return true;
}

// redact_direction builds the handshake stream of one direction from the kept segments.
static bool redact_direction(const bundle_run *r, uint32_t ci, int dir) {
    bundle_conn *c = &r->conns[ci];
    if (c->num_hs[dir] == 0 || !c->have_base[dir]) {
        return true;
    }
    uint8_t *stream = calloc(REDACT_MAX_STREAM, 1);
    hs_stream h = {malloc(REDACT_MAX_STREAM), 0, c->hs[dir], c->num_hs[dir]};
    bool ok = stream != NULL && h.bytes != NULL;
    for (size_t i = 0; ok && i < r->num_segs; i++) {
        const bundle_seg *g = &r->segs[i];
        int32_t rel = (int32_t)(g->seq - c->base[dir]);
        if (g->conn != ci || g->dir != dir || rel < 0 || (uint64_t)rel >= REDACT_MAX_STREAM) {
            continue;
        }
        size_t n = g->payload_len;
        if ((size_t)rel + n > REDACT_MAX_STREAM) {
            n = REDACT_MAX_STREAM - (size_t)rel;
        }
        if (n > 0) {
            memcpy(stream + rel, g->payload, n);
        }
    }
    for (size_t i = 0; ok && i < h.num_recs; i++) {
        const bundle_range *rec = &h.recs[i];
        size_t body = rec->len > REC_HEADER ? (size_t)rec->len - REC_HEADER : 0;
        if (rec->off + REC_HEADER + body > REDACT_MAX_STREAM || h.len + body > REDACT_MAX_STREAM) {
            // Beyond what is searched: the whole record is zeroed rather than kept unread.
            ok = bundle_range_add(&c->zero[dir], &c->num_zero[dir], &c->cap_zero[dir],
                                  rec->off + REC_HEADER, body);
            h.num_recs = i;
            break;
        }
        memcpy(h.bytes + h.len, stream + rec->off + REC_HEADER, body);
        h.len += body;
    }
    ok = ok && hs_walk(c, dir, &h);
    free(stream);
    free(h.bytes);
    return ok;
}

bool bundle_redact_certs(bundle_run *r) {
    for (uint32_t i = 0; i < r->num_conns; i++) {
        for (int dir = 0; dir < 2; dir++) {
            if (!redact_direction(r, i, dir)) {
                return false;
            }
        }
    }
    return true;
}

bool bundle_evidence(const bundle_run *r, anon *an, bbuf *out, uint32_t *packets,
                     uint32_t *pkt_of_seg, char *err, size_t errlen) {
    *packets = 0;
    if (pkt_of_seg != NULL && r->num_segs > 0) {
        memset(pkt_of_seg, 0, r->num_segs * sizeof *pkt_of_seg);
    }
    pcap_header(out);
    if (r->num_segs == 0) {
        return !out->oom;
    }
    char eb[LIBNET_ERRBUF_SIZE] = "";
    // LIBNET_NONE: build packets only, never open a socket (no privileges needed).
    libnet_t *l = libnet_init(LIBNET_NONE, NULL, eb);
    if (l == NULL) {
        snprintf(err, errlen, "libnet: %s", eb);
        return false;
    }
    uint32_t maxlen = 0;
    for (size_t i = 0; i < r->num_segs; i++) {
        uint32_t m = r->segs[i].wire_payload_len > r->segs[i].payload_len
                         ? r->segs[i].wire_payload_len
                         : r->segs[i].payload_len;
        maxlen = m > maxlen ? m : maxlen;
    }
    uint8_t *buf = malloc(maxlen + 1);
    bool ok = buf != NULL;
    uint16_t ip_id = 1;
    for (size_t i = 0; ok && i < r->num_segs; i++) {
        const bundle_seg *g = &r->segs[i];
        uint32_t plen = segment_payload(r, g, buf);
        if (plen > 65000) {
            continue;  // jumbo segment (TSO capture): larger than one IP packet can carry
        }
        if (g->payload_len > 0 && plen == 0 && !(g->flags & 0x07)) {
            continue;  // it carried only application data
        }
        anon_bytes(an, buf, plen);
        uint8_t *frame = NULL;
        uint32_t flen = 0;
        if (!build_frame(l, r, an, g, buf, plen, ip_id++, &frame, &flen)) {
            snprintf(err, errlen, "libnet: %s", libnet_geterror(l));
            ok = false;
            break;
        }
        uint32_t caplen = flen;
        if (g->payload_len < g->wire_payload_len) {
            caplen = flen - (g->wire_payload_len - g->payload_len);
        }
        put32(out, (uint32_t)(g->ts_ns / 1000000000));
        put32(out, (uint32_t)(g->ts_ns % 1000000000));
        put32(out, caplen);
        put32(out, flen);
        bbuf_put(out, frame, caplen);
        free(frame - l->aligner);  // libnet_adv_free_packet() without ADV mode
        (*packets)++;
        if (pkt_of_seg != NULL) {
            pkt_of_seg[i] = *packets;
        }
    }
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
    }
    free(buf);
    libnet_destroy(l);
    return ok && !out->oom;
}

uint32_t bundle_evidence_packet(const bundle_doc *d, const bundle_conn *c, uint32_t frame) {
    const bundle_run *r = d->run;
    if (d->evidence_pkt == NULL || c < r->conns || c >= r->conns + r->num_conns) {
        return 0;
    }
    uint32_t ci = (uint32_t)(c - r->conns);
    for (size_t i = 0; i < r->num_segs; i++) {
        if (r->segs[i].conn == ci && r->segs[i].frame_no == frame) {
            return d->evidence_pkt[i];
        }
    }
    return 0;
}

void bundle_frame_ref(const bundle_doc *d, const bundle_conn *c, uint32_t frame, char *out,
                      size_t n) {
    uint32_t p = bundle_evidence_packet(d, c, frame);
    if (p) {
        snprintf(out, n, "frame %u, evidence.pcap #%u", frame, p);
    } else {
        snprintf(out, n, "frame %u, not in evidence.pcap", frame);
    }
}

void bundle_wireshark_command(const bundle_conn *c, const char *tool, char *out, size_t n) {
    char f[REPORT_WIRESHARK_FILTER_LEN], q[2 * REPORT_WIRESHARK_FILTER_LEN + 8];
    report_wireshark_filter(&c->v->client, &c->v->server, f);
    if (!analyze_shell_quote(f, strlen(f), q, sizeof q)) {
        q[0] = '\0';
    }
    snprintf(out, n, "%s -r evidence.pcap -Y %s", tool, q);
}

const char *bundle_missing_issuer(const verdict *v) {
    if (v->cause != CAUSE_CERT_MISSING_INTERMEDIATE) {
        return NULL;
    }
    for (uint32_t i = 0; i < v->num_evidence && i < VERDICT_MAX_EVIDENCE; i++) {
        if (strcmp(v->evidence[i].key, "missing_issuer") == 0 && v->evidence[i].value[0]) {
            return v->evidence[i].value;
        }
    }
    return v->num_certs > 0 ? v->certs[v->num_certs - 1].issuer : NULL;
}
