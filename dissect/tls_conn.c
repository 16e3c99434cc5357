// tls_conn.c — the TLS layer of one connection: content sniffing (STARTTLS), the record layer
// (TLS and SSLv2), handshake-message reassembly, and the decision that a handshake is over.
//
// Each direction is fed in-order stream bytes. Complete records are parsed straight from the
// caller's bytes; only an incomplete record tail and an incomplete handshake message are
// buffered, and both buffers grow only as bytes arrive (never from a declared length), under
// cfg->max_flow_bytes per direction. Protected records are counted, never parsed or kept: one
// whose payload is never read (application data, a protected handshake record) is skipped by
// length across segments, its bytes only accounted against the cap as if they were buffered.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tls_internal.h"

enum {
    SNIFF_SCAN_CAP = 16384,  // plaintext bytes scanned for a STARTTLS upgrade
    TLS13_ALERT_MAX = 24,    // 2-byte alert + content type + 16-byte AEAD tag (+ slack)
    HS_KEEP_CAP = 4096,      // larger reassembly buffers are freed once a message completes
};

typedef enum dir_mode {
    MODE_SNIFF = 0,  // first bytes: TLS, SSLv2, or plaintext before STARTTLS?
    MODE_TLS,        // parsing records
    MODE_DEAD,       // stopped: not TLS, malformed, gap, or cap reached
} dir_mode;

// A record header (RFC 5246 §6.2.1, or SSLv2 RFC 6101 App. E / draft-hickman §2.1).
typedef struct rec_hdr {
    bool sslv2;
    uint8_t type;  // content type, or 0 for SSLv2
    uint16_t version;
    size_t hdr_len, body_len;
} rec_hdr;

typedef struct dir_state {
    dir_mode mode;
    bool direct_tls;   // the direction's very first bytes were a TLS/SSLv2 record
    bool sslv2;        // an SSLv2 record was seen: 2/3-byte headers allowed
    bool encrypted;    // records are protected from now on
    bool finished;     // sent its (encrypted) Finished / first protected handshake
    bool alert_carry;  // first byte of an alert split across records
    uint8_t alert_level;
    uint32_t enc_records;     // protected records seen
    uint32_t records;         // records parsed
    uint64_t stream_off;      // bytes of this direction consumed so far
    uint32_t feeds;           // tls_conn_feed calls with bytes: in-order TCP segments, roughly
    bool skipping;            // the incomplete record is skipped: rec_len counts, rec holds nothing
    rec_hdr skip_h;           // its header
    uint8_t *rec;             // incomplete record tail (or sniffed plaintext)
    size_t rec_len, rec_cap;  // rec_cap: bytes accounted against the cap (>= rec_room, but
    size_t rec_room;          // for a buffer kept from a spare connection): bytes allocated at rec
    uint64_t rec_off;         // stream offset of rec[0]
    uint8_t *hs;              // incomplete handshake message (header included)
    size_t hs_len, hs_cap, hs_room;
    uint16_t preview_len;
    uint8_t preview[TLS_MAX_PREVIEW];
    size_t scan_pos;         // sniff buffer offsets below this were already scanned
    bool not_tls;            // declared not TLS: later bytes still fill the preview
    uint32_t not_tls_event;  // index of the NOT_TLS event (its length grows with the bytes)
} dir_state;

struct tls_conn {
    tls_transcript *t;
    uint32_t max_flow_bytes;
    uint32_t max_message_len;
    const dissect_config *cfg;  // borrowed from the dissector (for the on_record hook)
    dir_state d[2];
    bool tls13;  // the ServerHello selected TLS 1.3 (or a draft)
    bool decided;
    tls_end_reason reason;
    uint32_t s2c_app_after_fin;  // TLS 1.3: server records after the client's Finished
    // TLS 1.3: the client's protected flight did not start with a plain Finished (a Certificate
    // came first: the server asked for one), and how many of its records were counted so far.
    bool c2s_cert_flight, c2s_flight_open;
    uint8_t c2s_flight_records;
};

typedef enum hdr_result { HDR_OK, HDR_NEED, HDR_BAD } hdr_result;

// ---------------------------------------------------------------------------------------------
// Transcript helpers
// ---------------------------------------------------------------------------------------------
static void emit(tls_conn *c, tls_dir dir, tls_event_kind kind, uint8_t ct, uint8_t hs_type,
                 uint16_t version, uint32_t length, const tls_meta *m) {
    tls_event e;
    memset(&e, 0, sizeof e);
    e.kind = (uint8_t)kind;
    e.dir = (uint8_t)dir;
    e.content_type = ct;
    e.hs_type = hs_type;
    e.version = version;
    e.length = length;
    e.frame = m->frame;
    e.ts_ns = m->ts_ns;
    tr_event(c->t, &e);
}

static void decide(tls_conn *c, tls_end_reason r) {
    if (!c->decided) {
        c->decided = true;
        c->reason = r;
        c->t->end_reason = (uint8_t)r;
    }
}

static void release(dir_state *d) {
    free(d->rec);
    free(d->hs);
    d->rec = d->hs = NULL;
    d->rec_len = d->rec_cap = d->rec_room = d->hs_len = d->hs_cap = d->hs_room = 0;
    d->skipping = false;
}

// stop ends parsing of a direction; its buffers are released at once.
static void stop(dir_state *d) {
    d->mode = MODE_DEAD;
    release(d);
}

static void malformed(tls_conn *c, tls_dir dir, tls_err err, uint64_t off, const tls_meta *m) {
    tr_error(c->t, dir, err, m->frame, m->ts_ns, off > UINT32_MAX ? UINT32_MAX : (uint32_t)off);
}

// A declared handshake length over max_message_len: the direction is no longer parsed, and
// quality says which bound did it (the MALFORMED event alone may not fit in the transcript).
static void message_too_long(tls_conn *c, tls_dir dir, uint64_t off, const tls_meta *m) {
    malformed(c, dir, TLS_ERR_MESSAGE_TOO_LONG, off, m);
    c->t->quality.message_cap_hit = true;
    stop(&c->d[dir]);
}

static void buffer_cap(tls_conn *c) {
    c->t->quality.buffer_cap_hit = true;
    decide(c, TLS_END_BUFFER_CAP);
}

// account charges `add` more bytes of a buffer to the direction's byte cap, growing its
// accounted capacity as a buffer holding them would grow. Growth follows the bytes that
// arrived, never a length read from the wire.
TLSDIAG_WUR static bool account(tls_conn *c, dir_state *d, size_t *cap, size_t len, size_t add) {
    if (len + add <= *cap) {
        return true;
    }
    size_t held = d->rec_cap + d->hs_cap - *cap;
    if (len + add > c->max_flow_bytes || held > c->max_flow_bytes - (len + add)) {
        buffer_cap(c);
        return false;
    }
    size_t want = *cap ? *cap * 2 : 256;
    if (want < len + add) {
        want = len + add;
    }
    if (want > c->max_flow_bytes - held) {
        want = c->max_flow_bytes - held;
    }
    *cap = want;
    return true;
}

// grow makes room for `add` more bytes in a buffer (accounted by `account`), allocating up to
// its accounted capacity. On failure the caller stops the direction (which frees the buffers).
TLSDIAG_WUR static bool grow(tls_conn *c, dir_state *d, uint8_t **buf, size_t *cap, size_t *room,
                             size_t len, size_t add) {
    if (!account(c, d, cap, len, add)) {
        return false;
    }
    if (len + add <= *room) {
        return true;
    }
    uint8_t *p = realloc(*buf, *cap);
    if (p == NULL) {
        buffer_cap(c);
        return false;
    }
    *buf = p;
    *room = *cap;
    return true;
}

// ---------------------------------------------------------------------------------------------
// Handshake messages
// ---------------------------------------------------------------------------------------------
typedef void (*hs_fn)(tls_conn *c, tls_dir dir, cur body, const tls_meta *m, uint64_t off);

static void note(tls_conn *c, tls_dir dir, tls_err err, const tls_meta *m, uint64_t off) {
    if (err != TLS_ERR_OK) {
        malformed(c, dir, err, off, m);
    }
}

// hs_done_in_clear: both sides sent their protected Finished (or the handshake was decided
// complete) — a ClientHello now starts a renegotiation.
static bool hs_done_in_clear(const tls_conn *c) {
    return (c->d[0].finished && c->d[1].finished) ||
           (c->decided && c->reason == TLS_END_HANDSHAKE_DONE);
}

static void on_hello_request(tls_conn *c, tls_dir dir, cur body, const tls_meta *m, uint64_t off) {
    (void)dir, (void)body, (void)m, (void)off;
    c->t->renegotiation_attempt = true;  // RFC 5246 §7.4.1.1: the server asks to renegotiate
}

static void on_client_hello(tls_conn *c, tls_dir dir, cur body, const tls_meta *m, uint64_t off) {
    tls_transcript *t = c->t;
    tls_client_hello *ch = &t->ch;
    if (t->ch.present) {
        // RFC 8446 §4.1.4: after a HelloRetryRequest the client sends a second ClientHello.
        if (!t->hrr.present || t->ch2.present || hs_done_in_clear(c)) {
            t->renegotiation_attempt = true;
            return;
        }
        ch = &t->ch2;
    }
    // t->ch was never parsed into: still as tr_reset left it (zero but for the lists' arrays
    // past their counts, see ch_reset) but for record_version. ch2 is not cleared by tr_new (it
    // is rarely sent): parsing clears it.
    uint16_t rv = ch->record_version;
    ch->record_version = 0;
    tls_err err =
        ch == &t->ch ? tls_parse_client_hello_zeroed(body, ch) : tls_parse_client_hello(body, ch);
    note(c, dir, err, m, off);
    ch->frame = m->frame;
    ch->record_version = rv;
    if (ch == &t->ch) {
        // The client's first message: every client segment so far carried part of it.
        ch->segments = c->d[dir].feeds;
        tls_fp_client(ch, t->ja3, t->ja4);
    }
}

static void on_server_hello(tls_conn *c, tls_dir dir, cur body, const tls_meta *m, uint64_t off) {
    tls_transcript *t = c->t;
    if (t->sh.present) {
        tls_server_hello sh;
        note(c, dir, tls_parse_server_hello(body, &sh), m, off);
        if (!sh.is_hrr) {
            t->renegotiation_attempt = true;
        } else if (!t->hrr.present) {
            sh.frame = m->frame;
            sh.record_version = t->sh.record_version;
            t->hrr = sh;
        }
        return;
    }
    // The first ServerHello (or HRR) is parsed where it is kept: no 260-byte copy. t->sh is
    // all-zero here (tr_reset, or the memset below after an HRR) but for record_version
    // (dispatch_message).
    uint16_t rv = t->sh.record_version;
    t->sh.record_version = 0;
    tls_err err = tls_parse_server_hello_zeroed(body, &t->sh);
    note(c, dir, err, m, off);
    t->sh.frame = m->frame;
    t->sh.record_version = rv;
    if (t->sh.is_hrr) {
        if (!t->hrr.present) {
            t->hrr = t->sh;
        }
        memset(&t->sh, 0, sizeof t->sh);
        t->sh.record_version = rv;
        return;
    }
    tls_fp_ja3s(&t->sh, t->ja3s);
    if (err == TLS_ERR_OK && tls_version_is_tls13(tls_negotiated_version(&t->sh))) {
        // RFC 8446 §2: everything after the ServerHello is protected, in both directions.
        c->tls13 = true;
        c->d[TLS_DIR_C2S].encrypted = c->d[TLS_DIR_S2C].encrypted = true;
    }
}

static void on_certificate(tls_conn *c, tls_dir dir, cur body, const tls_meta *m, uint64_t off) {
    tls_certificate *cert = dir == TLS_DIR_S2C ? &c->t->cert : &c->t->client_cert;
    if (cert->present) {
        return;  // a renegotiation's chain: the first one is the one diagnosed
    }
    note(c, dir, tls_parse_certificate(body, c->tls13, cert), m, off);
    cert->frame = m->frame;
}

static void on_server_key_exchange(tls_conn *c, tls_dir dir, cur body, const tls_meta *m,
                                   uint64_t off) {
    tls_transcript *t = c->t;
    if (t->ske.present) {
        return;
    }
    note(c, dir,
         tls_parse_server_key_exchange(body, t->sh.cipher, tls_negotiated_version(&t->sh), &t->ske),
         m, off);
    t->ske.frame = m->frame;
}

static void on_cert_request(tls_conn *c, tls_dir dir, cur body, const tls_meta *m, uint64_t off) {
    tls_transcript *t = c->t;
    if (t->cert_req.present) {
        return;
    }
    note(c, dir, tls_parse_certificate_request(body, tls_negotiated_version(&t->sh), &t->cert_req),
         m, off);
    t->cert_req.frame = m->frame;
}

static void on_server_hello_done(tls_conn *c, tls_dir dir, cur body, const tls_meta *m,
                                 uint64_t off) {
    (void)dir, (void)body, (void)m, (void)off;
    c->t->server_hello_done = true;
}

static void on_client_key_exchange(tls_conn *c, tls_dir dir, cur body, const tls_meta *m,
                                   uint64_t off) {
    (void)dir, (void)body, (void)m, (void)off;
    c->t->client_key_exchange = true;
}

// Handshake types with a parser (RFC 8446 §4, RFC 5246 §7.4); others are recorded as events.
static const hs_fn hs_handlers[256] = {
    [0] = on_hello_request,      [1] = on_client_hello,         [2] = on_server_hello,
    [11] = on_certificate,       [12] = on_server_key_exchange, [13] = on_cert_request,
    [14] = on_server_hello_done, [16] = on_client_key_exchange,
};

// RFC 8446 §4 / RFC 5246 §7.4:
//   struct { HandshakeType msg_type; uint24 length; select (msg_type) {...} body; } Handshake;
// `msg` is one complete message, header included.
static void dispatch_message(tls_conn *c, tls_dir dir, cur msg, uint16_t version, const tls_meta *m,
                             uint64_t off) {
    uint8_t type = 0;
    uint32_t len = 0;
    (void)cur_get_u8(&msg, &type);
    (void)cur_get_u24(&msg, &len);
    emit(c, dir, TLS_EV_HANDSHAKE, TLS_CT_HANDSHAKE, type, version, len, m);
    if (type == 1) {
        c->t->ch.record_version = c->t->ch.present ? c->t->ch.record_version : version;
        if (c->t->ch.present && c->t->hrr.present && !c->t->ch2.present) {
            c->t->ch2.record_version = version;
        }
    } else if (type == 2 && !c->t->sh.present) {
        c->t->sh.record_version = version;
    }
    if (hs_handlers[type] != NULL) {
        hs_handlers[type](c, dir, msg, m, off);
    }
}

// hs_peek_len: the uint24 length of the handshake header at the cursor, when all 4 bytes are there.
static bool hs_peek_len(const cur *c, uint64_t *len) {
    uint32_t w;
    if (!cur_peek_u32(c, 0, &w)) {
        return false;
    }
    *len = w & 0xffffff;
    return true;
}

// on_handshake_bytes reassembles handshake messages across records (RFC 8446 §5.1: "Handshake
// messages MAY be coalesced into a single TLSPlaintext record or fragmented across several").
static void on_handshake_bytes(tls_conn *c, tls_dir dir, cur body, uint16_t version,
                               const tls_meta *m, uint64_t off) {
    dir_state *d = &c->d[dir];
    while (cur_len(&body) > 0 && d->mode == MODE_TLS) {
        uint64_t len;
        if (d->hs_len == 0 && hs_peek_len(&body, &len)) {
            if (len > c->max_message_len) {
                message_too_long(c, dir, off, m);
                return;
            }
            cur msg;
            if (cur_get_bytes(&body, &msg, TLS_HS_HEADER_LEN + (size_t)len)) {
                dispatch_message(c, dir, msg, version, m, off);
                continue;
            }
        }
        // Incomplete: take the header first, then only as many bytes as the message still needs.
        size_t want = TLS_HS_HEADER_LEN > d->hs_len ? TLS_HS_HEADER_LEN - d->hs_len : 0;
        if (want == 0) {
            cur h = cur_make(d->hs, d->hs_len);
            (void)hs_peek_len(&h, &len);
            want = TLS_HS_HEADER_LEN + (size_t)len - d->hs_len;
        }
        size_t take = want < cur_len(&body) ? want : cur_len(&body);
        if (!grow(c, d, &d->hs, &d->hs_cap, &d->hs_room, d->hs_len, take)) {
            stop(d);
            return;
        }
        (void)cur_copy(&body, d->hs + d->hs_len, take);
        d->hs_len += take;
        if (d->hs_len < TLS_HS_HEADER_LEN) {
            return;
        }
        cur h = cur_make(d->hs, d->hs_len);
        (void)hs_peek_len(&h, &len);
        if (len > c->max_message_len) {
            message_too_long(c, dir, off, m);
            return;
        }
        if (d->hs_len == TLS_HS_HEADER_LEN + len) {
            d->hs_len = 0;
            dispatch_message(c, dir, h, version, m, off);
            if (d->hs_cap > HS_KEEP_CAP) {
                free(d->hs);
                d->hs = NULL;
                d->hs_cap = d->hs_room = 0;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

// RFC 8446 §6 / RFC 5246 §7.2: struct { AlertLevel level; AlertDescription description; } Alert;
// Several alerts may share a record and one alert may be split across two records.
static void on_alert_bytes(tls_conn *c, tls_dir dir, cur body, uint16_t version,
                           const tls_meta *m) {
    dir_state *d = &c->d[dir];
    uint8_t b;
    while (cur_get_u8(&body, &b)) {
        if (!d->alert_carry) {
            d->alert_level = b;
            d->alert_carry = true;
            continue;
        }
        d->alert_carry = false;
        tls_event e;
        memset(&e, 0, sizeof e);
        e.kind = TLS_EV_ALERT;
        e.dir = (uint8_t)dir;
        e.content_type = TLS_CT_ALERT;
        e.alert_level = d->alert_level;
        e.alert_desc = b;
        e.version = version;
        e.length = 2;
        e.frame = m->frame;
        e.ts_ns = m->ts_ns;
        tr_event(c->t, &e);
        if (d->alert_level == 2) {  // fatal (RFC 5246 §7.2; RFC 8446 §6: all errors are fatal)
            decide(c, TLS_END_ALERT);
        }
    }
}

// alert_plaintext: can this alert record body be plaintext alerts? RFC 5246 §7.2 / RFC 8446 §6:
// each alert is 2 bytes, level warning(1) or fatal(2); ciphertext (IV, MAC, AEAD tag) gives
// other levels. An odd last byte may be the level of an alert split across records (TLS <= 1.2),
// and a pending level makes the first byte a description. An empty record is left as it was.
static bool alert_plaintext(const dir_state *d, cur body) {
    uint8_t level;
    for (size_t i = d->alert_carry ? 1 : 0; cur_peek_u8(&body, i, &level); i += 2) {
        if (level != 1 && level != 2) {
            return false;
        }
    }
    return true;
}

// check_done: has the handshake completed, as far as an observer without keys can tell?
// TLS <= 1.2: both Finished (protected handshake records after each CCS), then application data.
// TLS 1.3 (RFC 8446 §4.4.4, the client's Finished ends it): a non-alert protected client record
// followed by server data, or two protected client records.
// When the client's flight carried a Certificate, the server may still refuse it (RFC 8446
// §4.4.2.4: certificate_required, after the client's Finished): only the server's answer decides.
static void check_done(tls_conn *c) {
    const dir_state *cl = &c->d[TLS_DIR_C2S], *sv = &c->d[TLS_DIR_S2C];
    if (c->tls13) {
        if (cl->finished &&
            (c->s2c_app_after_fin > 0 || (cl->enc_records >= 2 && !c->c2s_cert_flight))) {
            decide(c, TLS_END_HANDSHAKE_DONE);
        }
        return;
    }
    // SSLv2 cannot renegotiate: any application data ends it.
    const uint32_t *app = c->t->app_records;
    uint32_t answer = sv->sslv2 ? app[TLS_DIR_C2S] + app[TLS_DIR_S2C] : app[TLS_DIR_S2C];
    if (answer > 0 && cl->finished && sv->finished && !c->t->renegotiation_attempt) {
        // TLS <= 1.2: done when the server's first application data (the response) arrives.
        // Waiting for it, not for the client's request, keeps a renegotiation in view: the
        // origin's HelloRequest or a refused renegotiation comes between request and response.
        decide(c, TLS_END_HANDSHAKE_DONE);
    }
}

// tls13_finished_record: the size of a protected record holding only a Finished (RFC 8446
// §4.4.4: 4-byte header + Hash.length; §5.2: + content type + AEAD tag), from the cipher suite.
static uint32_t tls13_finished_record(uint16_t cipher) {
    uint32_t hash = cipher == 0x1302 ? 48 : 32;  // TLS_AES_256_GCM_SHA384
    uint32_t tag = cipher == 0x1305 ? 8 : 16;    // TLS_AES_128_CCM_8_SHA256
    return 4 + hash + 1 + tag;
}

// tls13_client_record: the kind of a non-alert protected client record. The client's flight
// is its Finished — preceded by Certificate (and CertificateVerify when it is not empty) when
// the server sent a CertificateRequest (RFC 8446 §4.4). A first record that is not Finished-
// sized opens such a flight; it closes at the Finished-sized record (at most 3 records).
static tls_event_kind tls13_client_record(tls_conn *c, dir_state *d, uint32_t len) {
    bool fin_sized = len == tls13_finished_record(c->t->sh.cipher);
    if (!d->finished) {
        d->finished = true;
        c->c2s_cert_flight = c->c2s_flight_open = !fin_sized;
        c->c2s_flight_records = 1;
        return TLS_EV_ENCRYPTED_HANDSHAKE;
    }
    if (c->c2s_flight_open) {
        c->c2s_flight_records++;
        c->c2s_flight_open = !fin_sized && c->c2s_flight_records < 3;
        return TLS_EV_ENCRYPTED_HANDSHAKE;
    }
    return TLS_EV_APPLICATION_DATA;
}

// on_protected classifies a record sent under keys. RFC 8446 §5.2 hides the real content type
// behind application_data(23); sizes tell alerts from handshake messages.
static void on_protected(tls_conn *c, tls_dir dir, const rec_hdr *h, const tls_meta *m) {
    dir_state *d = &c->d[dir];
    tls_transcript *t = c->t;
    uint32_t len = (uint32_t)h->body_len;
    tls_event_kind kind = TLS_EV_APPLICATION_DATA;
    d->enc_records++;
    if (h->type == TLS_CT_ALERT) {
        // TLS <= 1.2 after the CCS, or a record whose bytes cannot be a plaintext alert (a
        // mid-stream capture, or a TLS 1.3 peer that sent ciphertext as content type 21).
        kind = TLS_EV_ENCRYPTED_ALERT;
        d->alert_carry = false;
    } else if (c->tls13) {
        bool alert_sized = len <= TLS13_ALERT_MAX;
        if (dir == TLS_DIR_C2S) {
            kind = alert_sized && !c->decided ? TLS_EV_ENCRYPTED_ALERT
                                              : tls13_client_record(c, d, len);
        } else if (!c->d[TLS_DIR_C2S].finished) {
            kind = TLS_EV_ENCRYPTED_HANDSHAKE;
            d->finished = true;
        } else {
            kind = alert_sized && !c->decided ? TLS_EV_ENCRYPTED_ALERT : TLS_EV_APPLICATION_DATA;
            c->s2c_app_after_fin += kind == TLS_EV_APPLICATION_DATA;
        }
    } else if (h->type == TLS_CT_HEARTBEAT) {
        kind = TLS_EV_HEARTBEAT;  // RFC 6520 §3: protected like any record
    } else if (h->type == TLS_CT_HANDSHAKE) {
        kind = TLS_EV_ENCRYPTED_HANDSHAKE;
        // A second protected handshake record of a side, once both sent their Finished, is a
        // renegotiation (RFC 5746): the client's new ClientHello, or the server's
        // HelloRequest (RFC 5246 §7.4.1.1). Not tied to application data, so a capture with
        // the application data cut out (the ticket bundle's evidence.pcap) still shows it.
        t->renegotiation_attempt |= d->finished && c->d[!dir].finished;
        d->finished = true;
    }
    if (kind == TLS_EV_APPLICATION_DATA) {
        t->app_records[dir]++;
        t->app_bytes[dir] += len;
    }
    emit(c, dir, kind, h->type, 0, h->version, len, m);
    check_done(c);
}

// on_sslv2_protected: an SSLv2 record sent under the session keys. SSLv2 has no content type;
// its first byte is ciphertext, never a message type. Once keys are set the server sends
// SERVER-VERIFY and SERVER-FINISHED, the client CLIENT-FINISHED (draft-hickman §2.5), so the
// first 2 (server) / 1 (client) protected records are counted as handshake, later ones as data.
// (A REQUEST-CERTIFICATE exchange would add one record per side; no key, no way to tell.)
static void on_sslv2_protected(tls_conn *c, tls_dir dir, uint32_t len, const tls_meta *m) {
    dir_state *d = &c->d[dir];
    tls_transcript *t = c->t;
    uint32_t hs_records = dir == TLS_DIR_S2C ? 2 : 1;
    tls_event_kind kind = TLS_EV_APPLICATION_DATA;
    t->encrypted[dir] = true;
    d->enc_records++;
    if (d->enc_records <= hs_records) {
        kind = TLS_EV_ENCRYPTED_HANDSHAKE;
        d->finished |= d->enc_records == hs_records;
    } else {
        t->app_records[dir]++;
        t->app_bytes[dir] += len;
    }
    emit(c, dir, kind, 0, 0, 0x0002, len, m);
    check_done(c);
}

// on_sslv2 records an SSLv2 message (RFC 6101 App. E): CLIENT-HELLO and SERVER-HELLO are
// parsed; later messages are protected and only their sizes are kept.
static void on_sslv2(tls_conn *c, tls_dir dir, cur body, const tls_meta *m, uint64_t off) {
    dir_state *d = &c->d[dir];
    tls_transcript *t = c->t;
    uint8_t mt = 0;
    if (!cur_get_u8(&body, &mt)) {
        malformed(c, dir, TLS_ERR_BAD_LENGTH, off, m);
        return;
    }
    if (d->encrypted) {
        on_sslv2_protected(c, dir, (uint32_t)cur_len(&body) + 1, m);
        return;
    }
    emit(c, dir, TLS_EV_SSL2, 0, mt, 0x0002, (uint32_t)cur_len(&body) + 1, m);
    if (dir == TLS_DIR_C2S && mt == SSL2_MT_CLIENT_HELLO && !t->ch.present) {
        note(c, dir, tls_parse_sslv2_client_hello(body, &t->ch), m, off);
        t->ch.frame = m->frame;
        tls_fp_client(&t->ch, t->ja3, t->ja4);
    } else if (dir == TLS_DIR_S2C && mt == SSL2_MT_SERVER_HELLO && !t->sh.present) {
        note(c, dir, tls_parse_sslv2_server_hello(body, &t->sh, &t->cert), m, off);
        t->sh.frame = m->frame;
        if (t->cert.present) {
            t->cert.frame = m->frame;
        }
        d->encrypted = true;  // the SSLv2 server's next messages are encrypted
        uint8_t hit = 0;
        if (cur_peek_u8(&body, 0, &hit) && hit != 0) {
            // SESSION-ID-HIT: no CLIENT-MASTER-KEY; the client's next message is its
            // encrypted CLIENT-FINISHED (draft-hickman §2.6).
            c->d[TLS_DIR_C2S].encrypted = true;
        }
    } else if (dir == TLS_DIR_C2S && mt == 2) {
        d->encrypted = true;  // after CLIENT-MASTER-KEY the client encrypts
    }
}

// offers_tls13: the ClientHello lists TLS 1.3 (or a draft) in supported_versions.
static bool offers_tls13(const tls_client_hello *ch) {
    for (size_t i = 0; i < ch->num_versions; i++) {
        if (tls_version_is_tls13(ch->versions[i])) {
            return true;
        }
    }
    return false;
}

__attribute__((always_inline)) static inline void on_record(tls_conn *c, tls_dir dir,
                                                            const rec_hdr *h, cur body,
                                                            const tls_meta *m, uint64_t off) {
    dir_state *d = &c->d[dir];
    tls_transcript *t = c->t;
    t->is_tls = true;
    if (h->sslv2) {
        on_sslv2(c, dir, body, m, off);
        return;
    }
    // RFC 8446 §5: a plaintext CCS may arrive at any time in TLS 1.3 (middlebox compatibility),
    // and a client that has not switched keys yet sends its alert in clear (peers.md #3).
    // In TLS <= 1.2 a protected alert carries a MAC or AEAD tag, so a 2-byte alert record
    // after the CCS is still plaintext (RFC 5246 §6.2.3).
    // An alert record whose bytes are not 2-byte alerts of level 1 or 2 is protected whatever
    // the state says: a capture that starts mid-connection never saw the CCS.
    bool clear = !d->encrypted || h->type == TLS_CT_CHANGE_CIPHER_SPEC ||
                 (h->type == TLS_CT_ALERT && (c->tls13 || h->body_len == 2));
    if (h->type == TLS_CT_ALERT && !alert_plaintext(d, body)) {
        clear = false;
    }
    if (!clear || (d->encrypted && h->type == TLS_CT_APPLICATION_DATA)) {
        on_protected(c, dir, h, m);
        return;
    }
    switch (h->type) {
        case TLS_CT_CHANGE_CIPHER_SPEC:
            t->ccs[dir] = true;
            emit(c, dir, TLS_EV_CHANGE_CIPHER_SPEC, h->type, 0, h->version, (uint32_t)h->body_len,
                 m);
            // RFC 5246 §7.1: the sender's next records are protected. A TLS 1.3 client's
            // compatibility CCS (RFC 8446 App. D.4) switches nothing; without a ServerHello in
            // view (one-sided capture) only a client that offered TLS 1.3 might be sending one.
            if (t->sh.present ? !c->tls13 && !t->sh.sslv2 : !offers_tls13(&t->ch)) {
                d->encrypted = true;
                t->encrypted[dir] = true;
            }
            break;
        case TLS_CT_ALERT:
            on_alert_bytes(c, dir, body, h->version, m);
            break;
        case TLS_CT_HANDSHAKE:
            on_handshake_bytes(c, dir, body, h->version, m, off);
            break;
        case TLS_CT_APPLICATION_DATA:  // early data (RFC 8446 §4.2.10) or a confused peer
            t->app_records[dir]++;
            t->app_bytes[dir] += h->body_len;
            emit(c, dir, TLS_EV_APPLICATION_DATA, h->type, 0, h->version, (uint32_t)h->body_len, m);
            break;
        default:  // heartbeat (RFC 6520)
            emit(c, dir, TLS_EV_HEARTBEAT, h->type, 0, h->version, (uint32_t)h->body_len, m);
            break;
    }
    if (c->tls13) {
        t->encrypted[0] = t->encrypted[1] = true;
    }
}

// peek_header reads a record header at the cursor without consuming it.
// TLS (RFC 5246 §6.2.1): struct { ContentType type; ProtocolVersion version; uint16 length; }
// SSLv2 (RFC 6101 App. E.1): 2-byte header when the top bit is set (length 15 bits), else a
// 3-byte header with a padding count; only accepted once the direction spoke SSLv2 (or for a
// plausible SSLv2 hello as the first record).
// (Inlined where records are read one after another, read_records: the call was ~15 of its ~45
// instructions a record; elsewhere through peek_header.)
__attribute__((always_inline)) static inline hdr_result peek_header_inline(
    const dir_state *d, tls_dir dir, const cur *in, rec_hdr *h, tls_err *err) {
    uint8_t b0, b1;
    uint16_t v;
    if (!cur_peek_u8(in, 0, &b0)) {
        return HDR_NEED;
    }
    memset(h, 0, sizeof *h);
    if (b0 >= TLS_CT_CHANGE_CIPHER_SPEC && b0 <= TLS_CT_HEARTBEAT) {
        if (!cur_peek_u16(in, 1, &v)) {
            return HDR_NEED;
        }
        if (tls_record_version_ok(v)) {
            h->type = b0;
            h->version = v;
            if (!cur_peek_u16(in, 3, &v)) {
                return HDR_NEED;
            }
            h->hdr_len = TLS_RECORD_HEADER_LEN;
            h->body_len = v;
            *err = TLS_ERR_RECORD_TOO_LONG;
            return h->body_len > TLS_MAX_RECORD_LEN ? HDR_BAD : HDR_OK;
        }
    }
    if ((b0 & 0x80) != 0 || d->sslv2) {
        uint8_t mt;
        if (!cur_peek_u8(in, 1, &b1) || !cur_peek_u8(in, 2, &mt)) {
            return HDR_NEED;
        }
        bool two = (b0 & 0x80) != 0;
        if (!d->sslv2 && d->records > 0) {
            *err = TLS_ERR_BAD_CONTENT_TYPE;  // SSLv2 only opens a direction (RFC 5246 E.2)
            return HDR_BAD;
        }
        if (!d->sslv2) {
            // First SSLv2 record must be a plausible hello: CLIENT-HELLO with version 0x0002 or
            // 0x03XX (RFC 5246 E.2), or SERVER-HELLO.
            uint8_t vmaj;
            if (!cur_peek_u8(in, 3, &vmaj)) {
                return HDR_NEED;
            }
            bool ok = dir == TLS_DIR_C2S ? (mt == SSL2_MT_CLIENT_HELLO && (vmaj == 0 || vmaj == 3))
                                         : mt == SSL2_MT_SERVER_HELLO;
            if (!ok) {
                *err = TLS_ERR_BAD_CONTENT_TYPE;
                return HDR_BAD;
            }
        }
        h->sslv2 = true;
        h->version = 0x0002;
        h->hdr_len = two ? 2 : 3;
        h->body_len = two ? ((size_t)(b0 & 0x7f) << 8 | b1) : ((size_t)(b0 & 0x3f) << 8 | b1);
        if (h->body_len == 0) {
            *err = TLS_ERR_BAD_LENGTH;
            return HDR_BAD;
        }
        return HDR_OK;
    }
    *err = b0 >= TLS_CT_CHANGE_CIPHER_SPEC && b0 <= TLS_CT_HEARTBEAT ? TLS_ERR_BAD_VERSION
                                                                     : TLS_ERR_BAD_CONTENT_TYPE;
    return HDR_BAD;
}

TLSDIAG_WUR static hdr_result peek_header(const dir_state *d, tls_dir dir, const cur *in,
                                          rec_hdr *h, tls_err *err) {
    return peek_header_inline(d, dir, in, h, err);
}

// skippable: is a record of this header one whose payload is never read, now or later? Such a
// record is classified at its end by its header alone (on_protected, or an event of its length):
// application data, heartbeat, and a handshake record once the direction is protected (encrypted
// never goes back to false; the first record of a direction stays on the buffered path, where
// note_partial_hello looks at it). Alerts (their bytes are looked at), CCS and SSLv2 are buffered.
static bool skippable(const dir_state *d, const rec_hdr *h) {
    return !h->sslv2 && (h->type == TLS_CT_APPLICATION_DATA || h->type == TLS_CT_HEARTBEAT ||
                         (h->type == TLS_CT_HANDSHAKE && d->encrypted && d->records > 0));
}

// finish_record hands one complete record (body: its payload, or empty for a skipped record
// whose payload is not needed) to on_record and the on_record hook.
// (Inlined: a call per record costs more than the malloc it saves on the small file.)
__attribute__((always_inline)) static inline void finish_record(tls_conn *c, tls_dir dir,
                                                                const rec_hdr *h, cur body,
                                                                const tls_meta *m,
                                                                uint64_t rec_off) {
    dir_state *d = &c->d[dir];
    d->sslv2 |= h->sslv2;
    d->records++;
    if (c->t->records[dir] < UINT32_MAX) {
        c->t->records[dir]++;
    }
    uint32_t app_before = c->t->app_records[dir];
    on_record(c, dir, h, body, m, rec_off);
    if (c->cfg != NULL && c->cfg->on_record != NULL) {
        uint64_t rlen = h->hdr_len + h->body_len;
        c->cfg->on_record(c->cfg->user, c->t->conn_id, (uint8_t)dir, rec_off,
                          rlen > UINT32_MAX ? UINT32_MAX : (uint32_t)rlen, h->type,
                          c->t->app_records[dir] != app_before);
    }
}

// read_records parses every complete record at the cursor; it stops at the first incomplete
// one (left in `in`) or when the direction stops. `off` is the stream offset of `in`.
static void read_records(tls_conn *c, tls_dir dir, cur *in, uint64_t off, const tls_meta *m) {
    dir_state *d = &c->d[dir];
    size_t start = cur_len(in);
    while (d->mode == MODE_TLS && cur_len(in) > 0) {
        rec_hdr h;
        tls_err err = TLS_ERR_OK;
        uint64_t rec_off = off + (start - cur_len(in));
        hdr_result r = peek_header_inline(d, dir, in, &h, &err);
        if (r == HDR_BAD) {
            // Without a valid header the record boundaries are lost: stop this direction.
            malformed(c, dir, err, rec_off, m);
            stop(d);
            return;
        }
        if (r == HDR_NEED || h.hdr_len + h.body_len > cur_len(in)) {
            return;
        }
        cur body = cur_make(NULL, 0);
        (void)cur_skip(in, h.hdr_len);
        (void)cur_get_bytes(in, &body, h.body_len);
        finish_record(c, dir, &h, body, m, rec_off);
    }
}

// skip_start: the incomplete record at `in` (rec_len bytes of it seen, the first `have` of them
// already accounted) is skipped from now on when its header is complete and its payload is never
// read. Its bytes are accounted as grow would account a buffer holding them, so the byte cap and
// the buffered total are those of the buffered path.
static bool skip_start(tls_conn *c, tls_dir dir, const cur *in, size_t have, size_t rec_len) {
    dir_state *d = &c->d[dir];
    rec_hdr h;
    tls_err err = TLS_ERR_OK;
    if (peek_header(d, dir, in, &h, &err) != HDR_OK || !skippable(d, &h)) {
        return false;
    }
    if (!account(c, d, &d->rec_cap, have, rec_len - have)) {
        stop(d);
        return true;
    }
    d->skipping = true;
    d->skip_h = h;
    d->rec_len = rec_len;
    return true;
}

// skip_more consumes the bytes of a skipped record from `in`; the record is finished when its
// last byte arrives (the frame and time of its events are those of that segment, as buffered).
static void skip_more(tls_conn *c, tls_dir dir, cur *in, const tls_meta *m) {
    dir_state *d = &c->d[dir];
    size_t want = d->skip_h.hdr_len + d->skip_h.body_len - d->rec_len;
    size_t take = want < cur_len(in) ? want : cur_len(in);
    if (!account(c, d, &d->rec_cap, d->rec_len, take)) {
        stop(d);
        return;
    }
    (void)cur_skip(in, take);
    d->rec_len += take;
    d->stream_off += take;
    if (take == want) {
        d->skipping = false;
        d->rec_len = 0;
        finish_record(c, dir, &d->skip_h, cur_make(NULL, 0), m, d->rec_off);
    }
}

// feed_tls: complete a buffered partial record with just the bytes it needs, then parse whole
// records straight from the caller's bytes, then keep the incomplete tail.
static void feed_tls(tls_conn *c, tls_dir dir, cur in, const tls_meta *m) {
    dir_state *d = &c->d[dir];
    while (d->rec_len > 0 && cur_len(&in) > 0 && d->mode == MODE_TLS) {
        if (d->skipping) {
            skip_more(c, dir, &in, m);
            continue;
        }
        cur buf = cur_make(d->rec, d->rec_len);
        rec_hdr h;
        tls_err err = TLS_ERR_OK;
        size_t want = 1;  // header incomplete: one byte at a time until it parses
        hdr_result r = peek_header(d, dir, &buf, &h, &err);
        if (r == HDR_OK) {
            if (skip_start(c, dir, &buf, d->rec_len, d->rec_len)) {
                continue;
            }
            want = h.hdr_len + h.body_len - d->rec_len;
        } else if (r == HDR_BAD) {
            malformed(c, dir, err, d->rec_off, m);
            stop(d);
            return;
        }
        size_t take = want < cur_len(&in) ? want : cur_len(&in);
        if (!grow(c, d, &d->rec, &d->rec_cap, &d->rec_room, d->rec_len, take)) {
            stop(d);
            return;
        }
        (void)cur_copy(&in, d->rec + d->rec_len, take);
        d->rec_len += take;
        d->stream_off += take;
        buf = cur_make(d->rec, d->rec_len);
        read_records(c, dir, &buf, d->rec_off, m);
        if (d->mode != MODE_TLS) {
            return;
        }
        if (cur_len(&buf) == 0) {
            d->rec_len = 0;
        }
    }
    if (d->mode != MODE_TLS || cur_len(&in) == 0) {
        return;
    }
    uint64_t base = d->stream_off;
    size_t n = cur_len(&in);
    read_records(c, dir, &in, base, m);
    d->stream_off = base + n;
    if (d->mode != MODE_TLS || cur_len(&in) == 0) {
        return;
    }
    d->rec_off = base + (n - cur_len(&in));
    if (skip_start(c, dir, &in, 0, cur_len(&in))) {
        return;
    }
    if (!grow(c, d, &d->rec, &d->rec_cap, &d->rec_room, 0, cur_len(&in))) {
        stop(d);
        return;
    }
    d->rec_len = cur_len(&in);
    (void)cur_copy(&in, d->rec, d->rec_len);
}

// ---------------------------------------------------------------------------------------------
// Sniffing: TLS from the first byte, TLS after a plaintext STARTTLS exchange, or not TLS.
// ---------------------------------------------------------------------------------------------

// plausible_hello: a handshake record header followed by a ClientHello (c2s) or ServerHello
// (s2c) header whose version is SSL 3.0 / TLS 1.x — the first TLS bytes after a STARTTLS
// exchange (RFC 3207 §4, RFC 2595 §3.1, RFC 4511 §4.14, PostgreSQL SSLRequest, MySQL SSL).
static bool plausible_hello(const cur *c, size_t i, tls_dir dir) {
    uint64_t hdr, hs, ver;
    if (!cur_peek_be(c, i, 5, &hdr) || !cur_peek_be(c, i + 5, 4, &hs) ||
        !cur_peek_be(c, i + 9, 2, &ver)) {
        return false;
    }
    uint64_t rec_len = hdr & 0xffff;
    uint8_t want_type = dir == TLS_DIR_C2S ? 1 : 2;
    return (hdr >> 32) == TLS_CT_HANDSHAKE && ((hdr >> 16) & 0xffff) >= 0x0300 &&
           ((hdr >> 16) & 0xffff) <= 0x0304 && rec_len >= 38 && rec_len <= TLS_MAX_RECORD_LEN &&
           (hs >> 24) == want_type && (hs & 0xffffff) >= 38 && ver >= 0x0300 && ver <= 0x0304;
}

typedef enum sniff_result { SNIFF_TLS, SNIFF_NEED, SNIFF_PLAIN } sniff_result;

// sniff_start: do the direction's first bytes begin a TLS record or an SSLv2 hello?
static sniff_result sniff_start(const dir_state *d, tls_dir dir, const cur *c) {
    rec_hdr h;
    tls_err err;
    hdr_result r = peek_header(d, dir, c, &h, &err);
    if (r == HDR_BAD && err == TLS_ERR_RECORD_TOO_LONG) {
        return SNIFF_TLS;  // a TLS header with an impossible length: TLS, and malformed
    }
    return r == HDR_OK ? SNIFF_TLS : r == HDR_NEED ? SNIFF_NEED : SNIFF_PLAIN;
}

// not_tls: the direction speaks something else. The first TLS_MAX_PREVIEW bytes are kept (and
// completed by later feeds) so the analyzer can say "HTTP/1.1 400" or "SSH-2.0".
static void not_tls(tls_conn *c, tls_dir dir, const tls_meta *m) {
    dir_state *d = &c->d[dir];
    tls_transcript *t = c->t;
    t->preview_len[dir] = d->preview_len;
    memcpy(t->preview[dir], d->preview, d->preview_len);
    d->not_tls = true;
    d->not_tls_event = t->num_events;
    emit(c, dir, TLS_EV_NOT_TLS, 0, 0, 0, (uint32_t)d->stream_off, m);
    stop(d);
    decide(c, TLS_END_NOT_TLS);
}

// more_not_tls accounts bytes that arrive after a direction was declared not TLS.
static void more_not_tls(tls_conn *c, tls_dir dir, cur in) {
    dir_state *d = &c->d[dir];
    tls_transcript *t = c->t;
    size_t room = TLS_MAX_PREVIEW - t->preview_len[dir];
    size_t take = room < cur_len(&in) ? room : cur_len(&in);
    (void)cur_copy(&in, t->preview[dir] + t->preview_len[dir], take);
    t->preview_len[dir] = (uint16_t)(t->preview_len[dir] + take);
    d->stream_off += take + cur_len(&in);
    if (d->not_tls_event < t->num_events && t->events[d->not_tls_event].kind == TLS_EV_NOT_TLS) {
        t->events[d->not_tls_event].length =
            d->stream_off > UINT32_MAX ? UINT32_MAX : (uint32_t)d->stream_off;
    }
}

// enter_tls: the direction's records start `at` bytes into its stream.
static void enter_tls(tls_conn *c, tls_dir dir, size_t at) {
    dir_state *d = &c->d[dir];
    d->direct_tls = at == 0;
    c->t->starttls_prefix[dir] = (uint32_t)at;
    d->mode = MODE_TLS;
    d->stream_off = at;
}

// start_tls switches a direction to record parsing at `at` bytes into the sniff buffer.
static void start_tls(tls_conn *c, tls_dir dir, size_t at, const tls_meta *m) {
    dir_state *d = &c->d[dir];
    uint8_t *buf = d->rec;
    size_t len = d->rec_len;
    d->rec = NULL;
    d->rec_len = d->rec_cap = d->rec_room = 0;
    enter_tls(c, dir, at);
    cur rest = cur_make(buf + at, len - at);
    feed_tls(c, dir, rest, m);
    free(buf);
}

static void feed_sniff(tls_conn *c, tls_dir dir, cur in, const tls_meta *m) {
    dir_state *d = &c->d[dir];
    // The usual case: the direction's first segment starts with a record header. Its records are
    // parsed where they lie, as start_tls would parse them from the sniff buffer — only without
    // copying the segment into one first (a malloc, a copy and a free per direction). Taken only
    // when the slow path's copy would have fit (the scan cap and the byte cap), so the caps and
    // what they report are unchanged.
    if (d->rec_len == 0 && cur_len(&in) <= SNIFF_SCAN_CAP && cur_len(&in) <= c->max_flow_bytes &&
        sniff_start(d, dir, &in) == SNIFF_TLS) {
        enter_tls(c, dir, 0);
        feed_tls(c, dir, in, m);
        return;
    }
    size_t room = SNIFF_SCAN_CAP > d->rec_len ? SNIFF_SCAN_CAP - d->rec_len : 0;
    size_t take = cur_len(&in) < room ? cur_len(&in) : room;
    if (take > 0 && !grow(c, d, &d->rec, &d->rec_cap, &d->rec_room, d->rec_len, take)) {
        stop(d);
        return;
    }
    if (d->preview_len < TLS_MAX_PREVIEW) {
        size_t p = TLS_MAX_PREVIEW - d->preview_len;
        p = p < cur_len(&in) ? p : cur_len(&in);
        memcpy(d->preview + d->preview_len, cur_data(&in), p);
        d->preview_len = (uint16_t)(d->preview_len + p);
    }
    (void)cur_copy(&in, d->rec + d->rec_len, take);
    d->rec_len += take;
    d->stream_off = d->rec_len;
    cur buf = cur_make(d->rec, d->rec_len);
    sniff_result s = sniff_start(d, dir, &buf);
    if (s == SNIFF_TLS) {
        start_tls(c, dir, 0, m);
        if (cur_len(&in) > 0 && d->mode == MODE_TLS) {
            feed_tls(c, dir, in, m);
        }
        return;
    }
    if (s == SNIFF_NEED) {
        return;
    }
    // Not TLS at offset 0. If the other side opened with a TLS hello, this is a server (or a
    // client) answering TLS with something else: plain HTTP, an SSH banner, ...
    tls_dir other = dir == TLS_DIR_C2S ? TLS_DIR_S2C : TLS_DIR_C2S;
    if (c->d[other].direct_tls) {
        not_tls(c, dir, m);
        more_not_tls(c, dir, in);
        return;
    }
    // A hello candidate needs 11 bytes (record header, handshake header, version).
    size_t i = d->scan_pos > 1 ? d->scan_pos : 1;
    for (; i + 11 <= d->rec_len; i++) {
        if (plausible_hello(&buf, i, dir)) {
            start_tls(c, dir, i, m);
            if (cur_len(&in) > 0 && d->mode == MODE_TLS) {
                feed_tls(c, dir, in, m);
            }
            return;
        }
    }
    d->scan_pos = i;
    if (d->rec_len >= SNIFF_SCAN_CAP) {
        not_tls(c, dir, m);
        more_not_tls(c, dir, in);
    }
}

// ---------------------------------------------------------------------------------------------
// Public API (internal.h)
// ---------------------------------------------------------------------------------------------
// Spare connections: a calloc and a free per connection were ~460 instructions (a 488-byte
// block; bench/NOTES.md, round 6). Each thread keeps up to CONN_SPARES freed ones and clears one
// for the next connection. A thread's spares go back to malloc when it ends (a key destructor);
// the main thread's stay reachable from its variables until exit. Sanitizer and fuzzing builds
// keep calloc/free, so ASan still sees each connection's lifetime.
#if !defined(__SANITIZE_ADDRESS__) && !defined(TLSDIAG_FUZZING)
#define CONN_SPARES 8
static _Thread_local tls_conn *spare_conns[CONN_SPARES];
static _Thread_local unsigned num_spare_conns;
static _Thread_local bool spare_registered;
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static bool spare_key_ok;

// A spare connection keeps each direction's record buffer when it is at most REC_KEEP_ROOM
// bytes (one largest record and then some): a record split across segments was a malloc for
// its tail and a realloc to complete it (~490 instructions), and the next connection of the
// thread starts with the room. Only the allocation is kept: the bytes accounted against the
// caps (rec_cap, tls_conn_buffered) start at 0 as before, and a thread keeps at most
// CONN_SPARES * 2 * REC_KEEP_ROOM bytes (320 KiB).
enum { REC_KEEP_ROOM = 20480 };

static void spare_release(tls_conn *c) {
    release(&c->d[0]);
    release(&c->d[1]);
    free(c);
}

static void spare_conns_free(void *unused) {
    (void)unused;
    while (num_spare_conns > 0) {
        spare_release(spare_conns[--num_spare_conns]);
    }
}

static void spare_key_init(void) {
    spare_key_ok = pthread_key_create(&spare_key, spare_conns_free) == 0;
}

// spare_take: a kept connection, cleared but for its kept record buffers, or NULL.
static tls_conn *spare_take(void) {
    if (num_spare_conns == 0) {
        return NULL;
    }
    tls_conn *c = spare_conns[--num_spare_conns];
    uint8_t *rec[2] = {c->d[0].rec, c->d[1].rec};
    size_t room[2] = {c->d[0].rec_room, c->d[1].rec_room};
    memset(c, 0, sizeof *c);
    for (int i = 0; i < 2; i++) {
        c->d[i].rec = rec[i];
        c->d[i].rec_room = room[i];
    }
    return c;
}

// spare_put keeps c (and its record buffers up to REC_KEEP_ROOM) for the next tls_conn_new of
// this thread, or frees it.
static void spare_put(tls_conn *c) {
    if (num_spare_conns >= CONN_SPARES) {
        spare_release(c);
        return;
    }
    if (!spare_registered) {
        // The key's value only makes the destructor run when the thread ends.
        (void)pthread_once(&spare_once, spare_key_init);
        if (!spare_key_ok || pthread_setspecific(spare_key, spare_conns) != 0) {
            spare_release(c);
            return;
        }
        spare_registered = true;
    }
    for (int i = 0; i < 2; i++) {
        dir_state *d = &c->d[i];
        free(d->hs);
        d->hs = NULL;
        if (d->rec_room > REC_KEEP_ROOM) {
            free(d->rec);
            d->rec = NULL;
            d->rec_room = 0;
        }
    }
    spare_conns[num_spare_conns++] = c;
}
#else
static tls_conn *spare_take(void) {
    return NULL;
}
static void spare_put(tls_conn *c) {
    release(&c->d[0]);
    release(&c->d[1]);
    free(c);
}
#endif

tls_conn *tls_conn_new(tls_transcript *t, const dissect_config *cfg) {
    tls_conn *c = spare_take();
    if (c == NULL) {
        c = calloc(1, sizeof *c);
        if (c == NULL) {
            return NULL;
        }
    }
    c->t = t;
    c->cfg = cfg;
    c->max_flow_bytes = cfg->max_flow_bytes ? cfg->max_flow_bytes : (1u << 20);
    c->max_message_len = cfg->max_message_len ? cfg->max_message_len : (1u << 20);
    return c;
}

void tls_conn_free(tls_conn *c) {
    if (c == NULL) {
        return;
    }
    spare_put(c);
}

// note_partial_hello: is the client's first record a ClientHello still waiting for bytes? A
// server or middlebox that gives up on a hello spanning several segments leaves exactly that.
static void note_partial_hello(tls_conn *c) {
    const dir_state *d = &c->d[TLS_DIR_C2S];
    tls_transcript *t = c->t;
    bool partial = !t->ch.present && d->mode == MODE_TLS && d->records == 0 && !d->skipping &&
                   d->rec_len >= 6 && d->rec[0] == TLS_CT_HANDSHAKE && d->rec[5] == 1;
    t->ch_partial_declared = partial ? 5u + ((uint32_t)d->rec[3] << 8 | d->rec[4]) : 0;
    t->ch_partial_seen = partial ? (uint32_t)d->rec_len : 0;
}

void tls_conn_feed(tls_conn *c, tls_dir dir, const uint8_t *p, size_t n, const tls_meta *m) {
    if (c == NULL || (dir != TLS_DIR_C2S && dir != TLS_DIR_S2C) || n == 0) {
        return;
    }
    dir_state *d = &c->d[dir];
    d->feeds++;
    cur in = cur_make(p, n);
    if (d->mode == MODE_SNIFF) {
        feed_sniff(c, dir, in, m);
    } else if (d->mode == MODE_TLS) {
        feed_tls(c, dir, in, m);
    } else if (d->not_tls) {
        more_not_tls(c, dir, in);
    }
    if (dir == TLS_DIR_C2S) {
        note_partial_hello(c);
    }
}

void tls_conn_gap(tls_conn *c, tls_dir dir, uint64_t n, const tls_meta *m) {
    (void)m;
    if (c == NULL || (dir != TLS_DIR_C2S && dir != TLS_DIR_S2C) || n == 0) {
        return;
    }
    // Record boundaries inside the missing bytes are unknown, and a header guessed from
    // ciphertext would invent records: the direction stops here (tcpdump's rule: a capture
    // that lost bytes is not a malformed peer — tcp.c records the gap in quality).
    stop(&c->d[dir]);
}

bool tls_conn_decided(const tls_conn *c, tls_end_reason *reason) {
    if (c == NULL || !c->decided) {
        return false;
    }
    *reason = c->reason;
    return true;
}

size_t tls_conn_buffered(const tls_conn *c) {
    if (c == NULL) {
        return 0;
    }
    return c->d[0].rec_cap + c->d[0].hs_cap + c->d[1].rec_cap + c->d[1].hs_cap;
}

int tls_sniff(const uint8_t *p, size_t n) {
    cur c = cur_make(p, n);
    uint8_t b0, mt;
    uint64_t v;
    if (!cur_peek_u8(&c, 0, &b0)) {
        return 0;
    }
    if (b0 >= TLS_CT_CHANGE_CIPHER_SPEC && b0 <= TLS_CT_HEARTBEAT) {
        if (!cur_peek_be(&c, 1, 2, &v) || !tls_record_version_ok((uint16_t)v) ||
            !cur_peek_u8(&c, 5, &mt)) {
            return 0;
        }
        return b0 == TLS_CT_HANDSHAKE && mt == 1 ? 1 : 2;
    }
    // SSLv2 2-byte header: CLIENT-HELLO (1) with version 0x0002/0x03XX, or SERVER-HELLO (4).
    if ((b0 & 0x80) != 0 && cur_peek_u8(&c, 2, &mt) && cur_peek_be(&c, 3, 2, &v)) {
        if (mt == SSL2_MT_CLIENT_HELLO && (v == 0x0002 || (v >> 8) == 3)) {
            return 1;
        }
        if (mt == SSL2_MT_SERVER_HELLO) {
            return 2;
        }
    }
    return 0;
}

bool tls_record_header_parse(const uint8_t *p, size_t n, tls_record_header *out) {
    cur c = cur_make(p, n);
    uint8_t type;
    uint64_t version, length;
    if (!cur_peek_u8(&c, 0, &type) || !cur_peek_be(&c, 1, 2, &version) ||
        !cur_peek_be(&c, 3, 2, &length) || type < TLS_CT_CHANGE_CIPHER_SPEC ||
        type > TLS_CT_HEARTBEAT || !tls_record_version_ok((uint16_t)version) ||
        length > TLS_MAX_RECORD_LEN) {
        return false;
    }
    *out = (tls_record_header){type, (uint16_t)version, (uint16_t)length};
    return true;
}
