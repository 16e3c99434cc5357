// transcript.c — appending events and errors to a transcript; names of errors and events.
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const err_names[] = {
#define X(name, msg) #name,
    TLS_ERR_TABLE(X)
#undef X
};
static const char *const err_msgs[] = {
#define X(name, msg) msg,
    TLS_ERR_TABLE(X)
#undef X
};
static const char *const event_names[] = {
#define X(name, msg) #name,
    TLS_EVENT_TABLE(X)
#undef X
};

const char *tls_err_name(tls_err e) {
    return (unsigned)e < TLS_ERR__COUNT ? err_names[e] : "UNKNOWN_ERROR";
}

const char *tls_err_msg(tls_err e) {
    return (unsigned)e < TLS_ERR__COUNT ? err_msgs[e] : "unknown error";
}

const char *tls_event_name(tls_event_kind k) {
    return (unsigned)k < TLS_EV__COUNT ? event_names[k] : "UNKNOWN_EVENT";
}

// ch_reset makes a ClientHello read as tls_parse_client_hello_zeroed expects it: every field
// zero but the lists' arrays (ciphers, extensions, the SNI's bytes, groups, signature schemes
// and ALPN ids: 2.3 of its 2.5 KB), which the parsers fill entry by entry below their counts
// and every reader reads below them (sni and each alpn id are NUL-terminated by the parser;
// sni[0] is cleared for a hello without SNI). Clearing them was ~330 of tr_reset's ~570
// instructions a connection (bench/NOTES.md, round 6). Sanitizer and fuzzing builds fill them
// with 0xA5, so a reader past a count shows in the tests.
#define CH_CLEAR(from, to) memset((char *)ch + (from), 0, offsetof(tls_client_hello, to) - (from))
#define CH_END(f) (offsetof(tls_client_hello, f) + sizeof ch->f)
// The members left uncleared, in the order of the struct (the clears between them rely on it).
_Static_assert(offsetof(tls_client_hello, ciphers) < offsetof(tls_client_hello, extensions) &&
                   offsetof(tls_client_hello, extensions) < offsetof(tls_client_hello, sni) &&
                   offsetof(tls_client_hello, sni) < offsetof(tls_client_hello, groups) &&
                   offsetof(tls_client_hello, groups) < offsetof(tls_client_hello, sigalgs) &&
                   offsetof(tls_client_hello, sigalgs) < offsetof(tls_client_hello, sigalgs_cert) &&
                   offsetof(tls_client_hello, sigalgs_cert) < offsetof(tls_client_hello, alpn),
               "ch_reset's order of members");
static void ch_reset(tls_client_hello *ch) {
#if defined(__SANITIZE_ADDRESS__) || defined(TLSDIAG_FUZZING)
    memset(ch, 0xA5, sizeof *ch);
#endif
    CH_CLEAR(0, ciphers);
    CH_CLEAR(CH_END(ciphers), extensions);
    CH_CLEAR(CH_END(extensions), sni);
    ch->sni[0] = '\0';
    CH_CLEAR(CH_END(sni), groups);
    CH_CLEAR(CH_END(groups), sigalgs);
    CH_CLEAR(CH_END(sigalgs), sigalgs_cert);
    CH_CLEAR(CH_END(sigalgs_cert), alpn);
    memset((char *)ch + CH_END(alpn), 0, sizeof *ch - CH_END(alpn));
}
#undef CH_CLEAR
#undef CH_END

// tr_reset makes a transcript read as all-zero, except the event array (8 of its 15 KB), which
// only tr_event writes, entry by entry, below num_events, the first ClientHello's lists (see
// ch_reset), and the second ClientHello (2.5 KB, sent only after a HelloRetryRequest), of which
// only `present` (false) and `record_version` read as zero: its readers look at `present`
// first, and tls_conn clears it before parsing into it. Zeroing whole transcripts was the
// largest memset per connection (bench/NOTES.md).
// Sanitizer and fuzzing builds fill the events and ch2 with 0xA5 so a reader past num_events or
// of an absent ch2 shows in the tests.
void tr_reset(tls_transcript *t) {
    char *b = (char *)t;
    size_t ev_end = offsetof(tls_transcript, events) + sizeof t->events;
    size_t ch2 = offsetof(tls_transcript, ch2), ch2_end = ch2 + sizeof t->ch2;
    memset(b, 0, offsetof(tls_transcript, events));
    memset(b + ev_end, 0, offsetof(tls_transcript, ch) - ev_end);
    ch_reset(&t->ch);
    memset(b + offsetof(tls_transcript, ch) + sizeof t->ch, 0,
           ch2 - (offsetof(tls_transcript, ch) + sizeof t->ch));
    memset(b + ch2_end, 0, sizeof *t - ch2_end);
#if defined(__SANITIZE_ADDRESS__) || defined(TLSDIAG_FUZZING)
    memset(t->events, 0xA5, sizeof t->events);
    memset(&t->ch2, 0xA5, sizeof t->ch2);
#endif
    t->ch2.present = false;
    t->ch2.record_version = 0;
}

tls_transcript *tr_new(void) {
    tls_transcript *t = malloc(sizeof *t);
    if (t) {
        tr_reset(t);
    }
    return t;
}

void tr_event(tls_transcript *t, const tls_event *e) {
    // Application data is counted, never listed record by record: merge a run of them.
    if (e->kind == TLS_EV_APPLICATION_DATA && t->num_events > 0) {
        tls_event *last = &t->events[t->num_events - 1];
        if (last->kind == TLS_EV_APPLICATION_DATA && last->dir == e->dir) {
            uint32_t add = e->count ? e->count : 1;
            last->count = (last->count > UINT32_MAX - add) ? UINT32_MAX : last->count + add;
            last->length =
                (last->length > UINT32_MAX - e->length) ? UINT32_MAX : last->length + e->length;
            return;
        }
    }
    if (t->num_events >= TLS_MAX_EVENTS) {
        t->events_dropped++;
        return;
    }
    t->events[t->num_events] = *e;
    if (e->kind == TLS_EV_APPLICATION_DATA && t->events[t->num_events].count == 0) {
        t->events[t->num_events].count = 1;
    }
    t->num_events++;
}

void tr_error(tls_transcript *t, tls_dir dir, tls_err err, uint32_t frame, int64_t ts_ns,
              uint32_t offset) {
    if (t->num_errors == 0) {
        t->first_err = (uint8_t)err;
        t->first_err_frame = frame;
        t->first_err_offset = offset;
    }
    t->num_errors++;
    tls_event e;
    memset(&e, 0, sizeof e);
    e.kind = TLS_EV_MALFORMED;
    e.dir = (uint8_t)dir;
    e.err = (uint8_t)err;
    e.frame = frame;
    e.ts_ns = ts_ns;
    e.length = offset;
    tr_event(t, &e);
}
