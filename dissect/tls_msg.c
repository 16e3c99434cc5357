// tls_msg.c — one parser per TLS handshake message, each shaped like the RFC struct it reads.
//
// Every parser takes the message body as a cursor (borrowed), fills a plain struct and answers
// TLS_ERR_OK or the first malformation. Vectors become sub-cursors that must be consumed
// exactly; lists longer than the struct's capacity are counted and flagged `truncated`.
// Extensions are dispatched through sorted tables of {type, parse function, presence flag}.
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "internal.h"
#include "tls_internal.h"

// SHA-256("HelloRetryRequest"), RFC 8446 §4.1.3.
const uint8_t tls_hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

// get_u16_list reads a whole vector of uint16 (cipher suites, groups, schemes) into arr.
// Elements beyond cap are skipped and flagged. An empty vector is EMPTY_VECTOR when !may_be_empty.
TLSDIAG_WUR static tls_err get_u16_list(cur v, bool may_be_empty, uint16_t *arr, size_t cap,
                                        size_t *n_out, bool *truncated) {
    if (cur_len(&v) % 2 != 0) {
        return TLS_ERR_ODD_LENGTH;
    }
    if (cur_len(&v) == 0 && !may_be_empty) {
        return TLS_ERR_EMPTY_VECTOR;
    }
    size_t n = 0;
    uint16_t x;
    while (cur_get_u16(&v, &x)) {
        if (n < cap) {
            arr[n++] = x;
        } else {
            *truncated = true;
        }
    }
    *n_out = n;
    return TLS_ERR_OK;
}

// exactly: a sub-structure must fill its vector.
TLSDIAG_WUR static tls_err exactly(const cur *v) {
    return cur_len(v) == 0 ? TLS_ERR_OK : TLS_ERR_TRAILING;
}

// u16_list_ext parses an extension body that is exactly one vector of 16-bit values with a
// `width`-byte length prefix (supported_groups, signature_algorithms(_cert),
// supported_versions): the shape they share, parsed once.
TLSDIAG_WUR static tls_err u16_list_ext(cur data, size_t width, uint16_t *arr, size_t cap,
                                        uint8_t *num, bool *truncated) {
    cur v;
    size_t n = 0;
    if (!cur_get_prefixed(&data, width, &v)) {
        return TLS_ERR_TRUNCATED;
    }
    tls_err err = get_u16_list(v, false, arr, cap, &n, truncated);
    *num = (uint8_t)n;
    return err != TLS_ERR_OK ? err : exactly(&data);
}

// ---------------------------------------------------------------------------------------------
// Extension dispatch
// ---------------------------------------------------------------------------------------------
typedef tls_err (*ext_fn)(cur data, void *out);

typedef struct ext_entry {
    uint16_t type;
    ext_fn parse;  // NULL: presence only
    size_t flag;   // offsetof a bool set when the extension is present, or NO_FLAG
} ext_entry;

#define NO_FLAG SIZE_MAX

// An extension table: its entries sorted by type, and for the types below EXT_LOW (every
// extension a hello usually carries) the entry's place, so most look-ups are one load.
enum { EXT_LOW = 64 };

typedef struct ext_table {
    const ext_entry *e;
    size_t n;
    uint8_t low[EXT_LOW];  // low[type]: 1 + the index in e of that type, 0 when not in e
} ext_table;

#define EXT_TABLE(entries) \
    { .e = (entries), .n = sizeof(entries) / sizeof((entries)[0]) }

// ext_find: the entry for type in table, or NULL. Below EXT_LOW through the index (the binary
// search was ~55 instructions an extension, 7 % of the TLS layer); above it (GREASE, ECH,
// renegotiation_info) a binary search written out (bsearch's comparison call per step was a
// third of walking a ClientHello's extensions).
static const ext_entry *ext_find(const ext_table *table, uint16_t type) {
    if (type < EXT_LOW) {
        uint8_t i = table->low[type];
        return i != 0 ? &table->e[i - 1] : NULL;
    }
    size_t lo = 0, hi = table->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (table->e[mid].type == type) {
            return &table->e[mid];
        }
        if (table->e[mid].type < type) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

static pthread_once_t ext_once = PTHREAD_ONCE_INIT;
static void ext_tables_init(void);  // indexes the tables below (ext_index), once per process

static void ext_index(ext_table *table) {
    for (size_t i = 0; i < table->n; i++) {
        if (table->e[i].type < EXT_LOW) {
            table->low[table->e[i].type] = (uint8_t)(i + 1);
        }
    }
}

// RFC 8446 §4.2:
//   struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; } Extension;
// "There MUST NOT be more than one extension of the same type in a given extension block."
// A malformed extension does not stop the walk (its bounds are known); the first error wins.
TLSDIAG_WUR static tls_err parse_extensions(cur exts, const ext_table *table, void *out,
                                            uint16_t *types, uint16_t *num_types,
                                            uint16_t *num_sent, bool *truncated) {
    (void)pthread_once(&ext_once, ext_tables_init);
    uint16_t seen[256];
    size_t nseen = 0;
    uint64_t seen_low[4] = {0, 0, 0, 0};  // bit b: some seen type has low byte b (a filter)
    tls_err first = TLS_ERR_OK;
    while (cur_len(&exts) > 0) {
        uint16_t type;
        cur data;
        if (!cur_get_u16(&exts, &type) || !cur_get_u16_prefixed(&exts, &data)) {
            return first != TLS_ERR_OK ? first : TLS_ERR_TRUNCATED;
        }
        uint64_t low_bit = UINT64_C(1) << (type & 63);
        if (seen_low[(type & 0xff) >> 6] & low_bit) {  // a type with this low byte came before
            for (size_t i = 0; i < nseen; i++) {
                if (seen[i] == type && first == TLS_ERR_OK) {
                    first = TLS_ERR_DUP_EXTENSION;
                }
            }
        }
        if (nseen < sizeof seen / sizeof seen[0]) {
            seen[nseen++] = type;
            seen_low[(type & 0xff) >> 6] |= low_bit;
        }
        if (*num_sent < UINT16_MAX) {
            (*num_sent)++;  // a 2^16-byte block holds at most 16384 extensions: never clamps
        }
        if (*num_types < TLS_MAX_EXTENSIONS) {
            types[(*num_types)++] = type;
        } else {
            *truncated = true;
        }
        const ext_entry *e = ext_find(table, type);
        if (e == NULL) {
            continue;
        }
        if (e->flag != NO_FLAG) {
            *(bool *)((char *)out + e->flag) = true;
        }
        tls_err err = e->parse ? e->parse(data, out) : TLS_ERR_OK;
        if (err != TLS_ERR_OK && first == TLS_ERR_OK) {
            first = err;
        }
    }
    return first;
}

// ---------------------------------------------------------------------------------------------
// ClientHello extensions
// ---------------------------------------------------------------------------------------------

// host_bytes_printable: are all n bytes of p in 0x21..0x7e (no NUL, control, space or byte past
// ASCII)? Eight at a time (a byte loop was ~7 instructions a byte of every SNI): Bit Twiddling
// Hacks' hasless(w, 0x21) and hasmore(w, 0x7e), which are exact for "some byte of w": a false
// flag only ever follows a true one in the same word. The tail byte by byte.
static bool host_bytes_printable(const uint8_t *p, size_t n) {
    const uint64_t ones = 0x0101010101010101ull, highs = ones * 0x80;
    uint64_t bad = 0;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        bad |= ((w - ones * 0x21) & ~w) | ((w + ones * (127 - 0x7e)) | w);
    }
    bool ok = (bad & highs) == 0;
    for (; i < n; i++) {
        ok &= p[i] > 0x20 && p[i] < 0x7f;
    }
    return ok;
}
// RFC 6066 §3:
//   struct { NameType name_type; select (name_type) { case host_name: HostName; } name; }
//       ServerName;
//   opaque HostName<1..2^16-1>;
//   struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
// "The ServerNameList MUST NOT contain more than one name of the same name_type."
TLSDIAG_WUR static tls_err ch_server_name(cur data, void *out) {
    tls_client_hello *ch = out;
    cur list;
    if (!cur_get_u16_prefixed(&data, &list)) {
        return TLS_ERR_TRUNCATED;
    }
    if (cur_len(&list) == 0) {
        return TLS_ERR_EMPTY_VECTOR;
    }
    bool seen_host = false;
    while (cur_len(&list) > 0) {
        uint8_t name_type;
        cur name;
        if (!cur_get_u8(&list, &name_type) || !cur_get_u16_prefixed(&list, &name)) {
            return TLS_ERR_TRUNCATED;
        }
        if (name_type != 0) {
            continue;  // unknown NameType: RFC 6066 lets servers ignore it
        }
        if (seen_host || cur_len(&name) == 0) {
            return TLS_ERR_BAD_SNI;
        }
        seen_host = true;
        ch->has_sni = true;
        ch->sni_len = (uint16_t)cur_len(&name);
        size_t keep = cur_len(&name) < TLS_MAX_SNI_LEN ? cur_len(&name) : TLS_MAX_SNI_LEN;
        ch->truncated |= keep < cur_len(&name);
        // RFC 6066 §3: "HostName" is a DNS name in ASCII, without a trailing dot or NUL.
        ch->sni_has_nul_or_ctl |= !host_bytes_printable(cur_data(&name), cur_len(&name));
        (void)cur_copy(&name, ch->sni, keep);
        ch->sni[keep] = '\0';
    }
    return exactly(&data);
}

// RFC 8422 §5.1.1 / RFC 8446 §4.2.7: struct { NamedGroup named_group_list<2..2^16-1>; }
TLSDIAG_WUR static tls_err ch_groups(cur data, void *out) {
    tls_client_hello *ch = out;
    return u16_list_ext(data, 2, ch->groups, TLS_MAX_GROUPS, &ch->num_groups, &ch->truncated);
}

// RFC 8422 §5.1.2: struct { ECPointFormat ec_point_format_list<1..2^8-1> } ECPointFormatList;
TLSDIAG_WUR static tls_err ch_point_formats(cur data, void *out) {
    tls_client_hello *ch = out;
    cur v;
    if (!cur_get_u8_prefixed(&data, &v)) {
        return TLS_ERR_TRUNCATED;
    }
    if (cur_len(&v) == 0) {
        return TLS_ERR_EMPTY_VECTOR;
    }
    uint8_t f;
    while (cur_get_u8(&v, &f)) {
        if (ch->num_point_formats < TLS_MAX_POINT_FORMATS) {
            ch->point_formats[ch->num_point_formats++] = f;
        } else {
            ch->truncated = true;
        }
    }
    return exactly(&data);
}

// RFC 8446 §4.2.3: struct { SignatureScheme supported_signature_algorithms<2..2^16-2>; }
TLSDIAG_WUR static tls_err ch_sigalgs(cur data, void *out) {
    tls_client_hello *ch = out;
    return u16_list_ext(data, 2, ch->sigalgs, TLS_MAX_SIGALGS, &ch->num_sigalgs, &ch->truncated);
}

// signature_algorithms_cert has the same shape (RFC 8446 §4.2.3).
TLSDIAG_WUR static tls_err ch_sigalgs_cert(cur data, void *out) {
    tls_client_hello *ch = out;
    return u16_list_ext(data, 2, ch->sigalgs_cert, TLS_MAX_SIGALGS, &ch->num_sigalgs_cert,
                        &ch->truncated);
}

// RFC 7301 §3.1:
//   opaque ProtocolName<1..2^8-1>;
//   struct { ProtocolName protocol_name_list<2..2^16-1> } ProtocolNameList;
TLSDIAG_WUR static tls_err ch_alpn(cur data, void *out) {
    tls_client_hello *ch = out;
    cur list;
    if (!cur_get_u16_prefixed(&data, &list)) {
        return TLS_ERR_TRUNCATED;
    }
    if (cur_len(&list) == 0) {
        return TLS_ERR_EMPTY_VECTOR;
    }
    while (cur_len(&list) > 0) {
        cur name;
        if (!cur_get_u8_prefixed(&list, &name)) {
            return TLS_ERR_TRUNCATED;
        }
        if (cur_len(&name) == 0) {
            return TLS_ERR_EMPTY_VECTOR;
        }
        ch->num_alpn_sent++;  // ≤ 2^16 / 2 ids in the vector
        if (ch->num_alpn >= TLS_MAX_ALPN) {
            ch->truncated = true;
            continue;
        }
        size_t keep = cur_len(&name) < TLS_MAX_ALPN_LEN - 1 ? cur_len(&name) : TLS_MAX_ALPN_LEN - 1;
        ch->alpn_len[ch->num_alpn] = (uint8_t)cur_len(&name);
        (void)cur_copy(&name, ch->alpn[ch->num_alpn], keep);
        ch->alpn[ch->num_alpn][keep] = '\0';
        ch->num_alpn++;
    }
    return exactly(&data);
}

// RFC 8446 §4.2.1: struct { ProtocolVersion versions<2..254>; } SupportedVersions (ClientHello)
TLSDIAG_WUR static tls_err ch_versions(cur data, void *out) {
    tls_client_hello *ch = out;
    return u16_list_ext(data, 1, ch->versions, TLS_MAX_VERSIONS, &ch->num_versions, &ch->truncated);
}

// RFC 8446 §4.2.8:
//   struct { NamedGroup group; opaque key_exchange<1..2^16-1>; } KeyShareEntry;
//   struct { KeyShareEntry client_shares<0..2^16-1>; } KeyShareClientHello;
TLSDIAG_WUR static tls_err ch_key_share(cur data, void *out) {
    tls_client_hello *ch = out;
    cur list;
    if (!cur_get_u16_prefixed(&data, &list)) {
        return TLS_ERR_TRUNCATED;
    }
    while (cur_len(&list) > 0) {
        uint16_t group;
        cur key;
        if (!cur_get_u16(&list, &group) || !cur_get_u16_prefixed(&list, &key)) {
            return TLS_ERR_TRUNCATED;
        }
        if (cur_len(&key) == 0) {
            return TLS_ERR_EMPTY_VECTOR;
        }
        if (ch->num_key_shares < TLS_MAX_KEY_SHARES) {
            ch->key_share_groups[ch->num_key_shares++] = group;
        } else {
            ch->truncated = true;
        }
    }
    return exactly(&data);
}

// RFC 8446 §4.2.9: struct { PskKeyExchangeMode ke_modes<1..255>; } PskKeyExchangeModes;
TLSDIAG_WUR static tls_err ch_psk_modes(cur data, void *out) {
    tls_client_hello *ch = out;
    cur v;
    if (!cur_get_u8_prefixed(&data, &v)) {
        return TLS_ERR_TRUNCATED;
    }
    if (cur_len(&v) == 0) {
        return TLS_ERR_EMPTY_VECTOR;
    }
    ch->has_psk_modes = true;
    uint8_t m;
    while (cur_get_u8(&v, &m)) {
        if (m <= 1) {
            ch->psk_modes |= (uint8_t)(1u << m);  // psk_ke(0), psk_dhe_ke(1)
        }
    }
    return exactly(&data);
}

// RFC 7685 §3: struct { opaque zeros<0..2^16-1> } — the extension_data is all padding.
TLSDIAG_WUR static tls_err ch_padding(cur data, void *out) {
    tls_client_hello *ch = out;
    ch->padding_len = (uint16_t)cur_len(&data);
    return TLS_ERR_OK;
}

#define CH_FLAG(f) offsetof(tls_client_hello, f)

static const ext_entry ch_extensions[] = {
    {0x0000, ch_server_name, NO_FLAG},
    {0x0005, NULL, CH_FLAG(status_request)},
    {0x000A, ch_groups, NO_FLAG},
    {0x000B, ch_point_formats, NO_FLAG},
    {0x000D, ch_sigalgs, NO_FLAG},
    {0x0010, ch_alpn, NO_FLAG},
    {0x0012, NULL, CH_FLAG(sct)},
    {0x0015, ch_padding, CH_FLAG(padding)},
    {0x0016, NULL, CH_FLAG(encrypt_then_mac)},
    {0x0017, NULL, CH_FLAG(extended_master_secret)},
    {0x001C, NULL, CH_FLAG(record_size_limit)},
    {0x0023, NULL, CH_FLAG(session_ticket)},
    {0x0029, NULL, CH_FLAG(pre_shared_key)},
    {0x002A, NULL, CH_FLAG(early_data)},
    {0x002B, ch_versions, NO_FLAG},
    {0x002D, ch_psk_modes, NO_FLAG},
    {0x0031, NULL, CH_FLAG(post_handshake_auth)},
    {0x0032, ch_sigalgs_cert, NO_FLAG},
    {0x0033, ch_key_share, NO_FLAG},
    {0xFE0D, NULL, CH_FLAG(ech)},
    {0xFF01, NULL, CH_FLAG(renegotiation_info)},
};
static ext_table ch_ext_table = EXT_TABLE(ch_extensions);

// RFC 8446 §4.1.2 (RFC 5246 §7.4.1.2 allows the extensions block to be absent):
//   struct {
//       ProtocolVersion legacy_version = 0x0303;
//       Random random;
//       opaque legacy_session_id<0..32>;
//       CipherSuite cipher_suites<2..2^16-2>;
//       opaque legacy_compression_methods<1..2^8-1>;
//       Extension extensions<8..2^16-1>;
//   } ClientHello;
tls_err tls_parse_client_hello(cur body, tls_client_hello *out) {
    memset(out, 0, sizeof *out);
    return tls_parse_client_hello_zeroed(body, out);
}

tls_err tls_parse_client_hello_zeroed(cur body, tls_client_hello *out) {
    out->present = true;
    cur sid, suites, comp, exts;
    size_t n = 0;
    if (!cur_get_u16(&body, &out->legacy_version) || !cur_copy(&body, out->random, 32) ||
        !cur_get_u8_prefixed(&body, &sid)) {
        return TLS_ERR_TRUNCATED;
    }
    if (cur_len(&sid) > 32) {
        return TLS_ERR_BAD_LENGTH;
    }
    out->session_id_len = (uint8_t)cur_len(&sid);
    if (!cur_get_u16_prefixed(&body, &suites)) {
        return TLS_ERR_TRUNCATED;
    }
    tls_err err = get_u16_list(suites, false, out->ciphers, TLS_MAX_CIPHERS, &n, &out->truncated);
    out->num_ciphers = (uint16_t)n;
    out->num_ciphers_sent = (uint16_t)(cur_len(&suites) / 2);
    if (err != TLS_ERR_OK) {
        return err;
    }
    if (!cur_get_u8_prefixed(&body, &comp)) {
        return TLS_ERR_TRUNCATED;
    }
    if (cur_len(&comp) == 0) {
        return TLS_ERR_EMPTY_VECTOR;
    }
    out->num_compression = (uint8_t)cur_len(&comp);
    out->has_null_compression = memchr(cur_data(&comp), 0, cur_len(&comp)) != NULL;
    if (cur_len(&body) == 0) {
        return TLS_ERR_OK;  // no extensions block (SSLv3 / early TLS clients)
    }
    if (!cur_get_u16_prefixed(&body, &exts)) {
        return TLS_ERR_TRUNCATED;
    }
    out->has_extensions_block = true;
    err = parse_extensions(exts, &ch_ext_table, out, out->extensions, &out->num_extensions,
                           &out->num_extensions_sent, &out->truncated);
    return err != TLS_ERR_OK ? err : exactly(&body);
}

// RFC 5246 App. E.2 (RFC 6101 App. E), after msg_type (1):
//   Version version;
//   uint16 cipher_spec_length;
//   uint16 session_id_length;
//   uint16 challenge_length;
//   V2CipherSpec cipher_specs[V2ClientHello.cipher_spec_length];   -- uint8 V2CipherSpec[3]
//   opaque session_id[V2ClientHello.session_id_length];
//   opaque challenge[V2ClientHello.challenge_length];
// A kind 0x00XXYY is TLS cipher suite 0xXXYY; other kinds are SSLv2-only (counted).
tls_err tls_parse_sslv2_client_hello(cur body, tls_client_hello *out) {
    memset(out, 0, sizeof *out);
    out->present = true;
    out->sslv2 = true;
    out->record_version = 0x0002;
    uint16_t spec_len, sid_len, chal_len;
    cur specs, sid, chal;
    if (!cur_get_u16(&body, &out->legacy_version) || !cur_get_u16(&body, &spec_len) ||
        !cur_get_u16(&body, &sid_len) || !cur_get_u16(&body, &chal_len)) {
        return TLS_ERR_TRUNCATED;
    }
    if (!cur_get_bytes(&body, &specs, spec_len) || !cur_get_bytes(&body, &sid, sid_len) ||
        !cur_get_bytes(&body, &chal, chal_len)) {
        return TLS_ERR_TRUNCATED;
    }
    if (spec_len == 0) {
        return TLS_ERR_EMPTY_VECTOR;
    }
    if (spec_len % 3 != 0) {
        return TLS_ERR_ODD_LENGTH;
    }
    // "session_id_length ... MUST be zero or 16"; challenge 16..32 bytes (RFC 6101 App. E).
    if ((sid_len != 0 && sid_len != 16) || chal_len < 16 || chal_len > 32) {
        return TLS_ERR_BAD_LENGTH;
    }
    uint32_t kind;
    while (cur_get_u24(&specs, &kind)) {
        if (kind > 0xffff) {
            out->num_sslv2_kinds++;
        } else if (out->num_ciphers < TLS_MAX_CIPHERS) {
            out->ciphers[out->num_ciphers++] = (uint16_t)kind;
            out->num_ciphers_sent++;
        } else {
            out->truncated = true;
            out->num_ciphers_sent++;  // spec_len is 16 bits: at most 21845 kinds
        }
    }
    out->session_id_len = (uint8_t)sid_len;
    out->num_compression = 1;  // SSLv2 has no compression: the null method is implied
    out->has_null_compression = true;
    // E.2: the challenge is right-aligned in the 32-byte Random, zero-padded on the left.
    (void)cur_copy(&chal, out->random + (32 - chal_len), chal_len);
    return exactly(&body);
}

// ---------------------------------------------------------------------------------------------
// ServerHello / HelloRetryRequest
// ---------------------------------------------------------------------------------------------

// RFC 8446 §4.2.1: struct { ProtocolVersion selected_version; } (ServerHello, HRR)
TLSDIAG_WUR static tls_err sh_versions(cur data, void *out) {
    tls_server_hello *sh = out;
    if (!cur_get_u16(&data, &sh->selected_version)) {
        return TLS_ERR_TRUNCATED;
    }
    return exactly(&data);
}

// RFC 8446 §4.2.8: struct { KeyShareEntry server_share; } KeyShareServerHello;
//                  struct { NamedGroup selected_group; } KeyShareHelloRetryRequest;
TLSDIAG_WUR static tls_err sh_key_share(cur data, void *out) {
    tls_server_hello *sh = out;
    cur key;
    if (!cur_get_u16(&data, &sh->key_share_group)) {
        return TLS_ERR_TRUNCATED;
    }
    if (sh->is_hrr) {
        return exactly(&data);
    }
    if (!cur_get_u16_prefixed(&data, &key)) {
        return TLS_ERR_TRUNCATED;
    }
    return cur_len(&key) == 0 ? TLS_ERR_EMPTY_VECTOR : exactly(&data);
}

// RFC 7301 §3.1: the server's ProtocolNameList contains exactly one ProtocolName.
TLSDIAG_WUR static tls_err sh_alpn(cur data, void *out) {
    tls_server_hello *sh = out;
    cur list, name;
    if (!cur_get_u16_prefixed(&data, &list) || !cur_get_u8_prefixed(&list, &name)) {
        return TLS_ERR_TRUNCATED;
    }
    if (cur_len(&name) == 0) {
        return TLS_ERR_EMPTY_VECTOR;
    }
    size_t keep = cur_len(&name) < TLS_MAX_ALPN_LEN - 1 ? cur_len(&name) : TLS_MAX_ALPN_LEN - 1;
    (void)cur_copy(&name, sh->alpn, keep);
    sh->alpn[keep] = '\0';
    return cur_len(&list) == 0 ? exactly(&data) : TLS_ERR_TRAILING;
}

// RFC 6066 §3: the server's server_name extension, when sent, "SHALL be empty".
TLSDIAG_WUR static tls_err sh_server_name(cur data, void *out) {
    tls_server_hello *sh = out;
    sh->sni_ack = cur_len(&data) == 0;
    return sh->sni_ack ? TLS_ERR_OK : TLS_ERR_BAD_SNI;
}

// RFC 8422 §5.2: the server's ECPointFormatList.
TLSDIAG_WUR static tls_err sh_point_formats(cur data, void *out) {
    tls_server_hello *sh = out;
    cur v;
    if (!cur_get_u8_prefixed(&data, &v)) {
        return TLS_ERR_TRUNCATED;
    }
    if (cur_len(&v) == 0) {
        return TLS_ERR_EMPTY_VECTOR;
    }
    sh->num_point_formats = (uint8_t)(cur_len(&v) > 255 ? 255 : cur_len(&v));
    return exactly(&data);
}

#define SH_FLAG(f) offsetof(tls_server_hello, f)

static const ext_entry sh_extensions[] = {
    {0x0000, sh_server_name, NO_FLAG},
    {0x0005, NULL, SH_FLAG(status_request)},
    {0x000B, sh_point_formats, NO_FLAG},
    {0x0010, sh_alpn, NO_FLAG},
    {0x0012, NULL, SH_FLAG(sct)},
    {0x0016, NULL, SH_FLAG(encrypt_then_mac)},
    {0x0017, NULL, SH_FLAG(extended_master_secret)},
    {0x0023, NULL, SH_FLAG(session_ticket)},
    {0x002B, sh_versions, NO_FLAG},
    {0x0033, sh_key_share, NO_FLAG},
    {0xFF01, NULL, SH_FLAG(renegotiation_info)},
};
static ext_table sh_ext_table = EXT_TABLE(sh_extensions);

// RFC 8446 §4.1.3 (RFC 5246 §7.4.1.3: extensions may be absent):
//   struct {
//       ProtocolVersion legacy_version = 0x0303;
//       Random random;
//       opaque legacy_session_id_echo<0..32>;
//       CipherSuite cipher_suite;
//       uint8 legacy_compression_method = 0;
//       Extension extensions<6..2^16-1>;
//   } ServerHello;
// TLS 1.3 drafts before -22 sent { version; random; cipher_suite; extensions } (no session id,
// no compression) with the draft version in the first field.
tls_err tls_parse_server_hello(cur body, tls_server_hello *out) {
    memset(out, 0, sizeof *out);
    return tls_parse_server_hello_zeroed(body, out);
}
tls_err tls_parse_server_hello_zeroed(cur body, tls_server_hello *out) {
    out->present = true;
    cur sid, exts;
    if (!cur_get_u16(&body, &out->legacy_version) || !cur_copy(&body, out->random, 32)) {
        return TLS_ERR_TRUNCATED;
    }
    out->is_hrr = memcmp(out->random, tls_hrr_random, 32) == 0;
    bool old_draft = (out->legacy_version >> 8) == 0x7f && (out->legacy_version & 0xff) < 22;
    if (old_draft) {
        out->selected_version = out->legacy_version;
    } else {
        if (!cur_get_u8_prefixed(&body, &sid)) {
            return TLS_ERR_TRUNCATED;
        }
        if (cur_len(&sid) > 32) {
            return TLS_ERR_BAD_LENGTH;
        }
        out->session_id_len = (uint8_t)cur_len(&sid);
    }
    if (!cur_get_u16(&body, &out->cipher) ||
        (!old_draft && !cur_get_u8(&body, &out->compression))) {
        return TLS_ERR_TRUNCATED;
    }
    if (cur_len(&body) == 0) {
        return TLS_ERR_OK;
    }
    if (!cur_get_u16_prefixed(&body, &exts)) {
        return TLS_ERR_TRUNCATED;
    }
    tls_err err = parse_extensions(exts, &sh_ext_table, out, out->extensions, &out->num_extensions,
                                   &out->num_extensions_sent, &out->truncated);
    return err != TLS_ERR_OK ? err : exactly(&body);
}

uint16_t tls_negotiated_version(const tls_server_hello *sh) {
    if (!sh->present) {
        return 0;
    }
    return sh->selected_version ? sh->selected_version : sh->legacy_version;
}

// draft-hickman-netscape-ssl-00 §2.6 (SERVER-HELLO), after msg_type (4):
//   char SESSION-ID-HIT; char CERTIFICATE-TYPE; char SERVER-VERSION-MSB, -LSB;
//   char CERTIFICATE-LENGTH-MSB, -LSB; char CIPHER-SPECS-LENGTH-MSB, -LSB;
//   char CONNECTION-ID-LENGTH-MSB, -LSB;
//   char CERTIFICATE-DATA[]; char CIPHER-SPECS-DATA[]; char CONNECTION-ID-DATA[];
tls_err tls_parse_sslv2_server_hello(cur body, tls_server_hello *sh, tls_certificate *cert) {
    memset(sh, 0, sizeof *sh);
    sh->present = true;
    sh->sslv2 = true;
    sh->record_version = 0x0002;
    uint8_t hit, cert_type;
    uint16_t cert_len, specs_len, conn_len;
    cur der, specs, conn;
    if (!cur_get_u8(&body, &hit) || !cur_get_u8(&body, &cert_type) ||
        !cur_get_u16(&body, &sh->legacy_version) || !cur_get_u16(&body, &cert_len) ||
        !cur_get_u16(&body, &specs_len) || !cur_get_u16(&body, &conn_len)) {
        return TLS_ERR_TRUNCATED;
    }
    if (!cur_get_bytes(&body, &der, cert_len) || !cur_get_bytes(&body, &specs, specs_len) ||
        !cur_get_bytes(&body, &conn, conn_len)) {
        return TLS_ERR_TRUNCATED;
    }
    if (specs_len % 3 != 0) {
        return TLS_ERR_ODD_LENGTH;
    }
    uint32_t kind;
    if (cur_get_u24(&specs, &kind) && kind <= 0xffff) {
        sh->cipher = (uint16_t)kind;
    }
    if (cert_len > 0 && cert != NULL && !cert->present) {
        memset(cert, 0, sizeof *cert);
        cert->present = true;
        cert->num_certs = 1;
        cert->message_len = cert_len;
        uint8_t *copy = malloc(cert_len);
        if (copy == NULL) {
            cert->truncated = true;
        } else {
            (void)cur_copy(&der, copy, cert_len);
            cert->certs[0].der = copy;
            cert->certs[0].len = cert_len;
            cert->num_stored = 1;
        }
    }
    return exactly(&body);
}

// ---------------------------------------------------------------------------------------------
// Certificate
// ---------------------------------------------------------------------------------------------

// keep_cert copies one DER into the list (the transcript owns the copy).
static void keep_cert(tls_certificate *out, cur der) {
    out->num_certs++;
    if (out->num_stored >= TLS_MAX_CERTS) {
        out->truncated = true;
        return;
    }
    uint8_t *copy = malloc(cur_len(&der));
    if (copy == NULL) {
        out->truncated = true;
        return;
    }
    memcpy(copy, cur_data(&der), cur_len(&der));
    out->certs[out->num_stored].der = copy;
    out->certs[out->num_stored].len = (uint32_t)cur_len(&der);
    out->num_stored++;
}

// RFC 5246 §7.4.2:
//   opaque ASN.1Cert<1..2^24-1>;
//   struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
// RFC 8446 §4.4.2:
//   struct { opaque cert_data<1..2^24-1>; Extension extensions<0..2^16-1>; } CertificateEntry;
//   struct { opaque certificate_request_context<0..2^8-1>;
//            CertificateEntry certificate_list<0..2^24-1>; } Certificate;
tls_err tls_parse_certificate(cur body, bool tls13, tls_certificate *out) {
    memset(out, 0, sizeof *out);
    out->present = true;
    out->tls13 = tls13;
    out->message_len = (uint32_t)cur_len(&body);
    cur ctx, list;
    if (tls13 && !cur_get_u8_prefixed(&body, &ctx)) {
        return TLS_ERR_TRUNCATED;
    }
    if (!cur_get_u24_prefixed(&body, &list)) {
        return TLS_ERR_TRUNCATED;
    }
    while (cur_len(&list) > 0) {
        cur der, exts;
        if (!cur_get_u24_prefixed(&list, &der)) {
            return TLS_ERR_BAD_CERT;  // an entry runs past the list it is in
        }
        if (cur_len(&der) == 0) {
            return TLS_ERR_BAD_CERT;
        }
        keep_cert(out, der);
        if (tls13 && !cur_get_u16_prefixed(&list, &exts)) {
            return TLS_ERR_BAD_CERT;
        }
    }
    return exactly(&body);
}

void tls_certificate_clear(tls_certificate *c) {
    if (c == NULL) {
        return;
    }
    for (uint32_t i = 0; i < c->num_stored && i < TLS_MAX_CERTS; i++) {
        free((void *)c->certs[i].der);
    }
    memset(c, 0, sizeof *c);
}

// ---------------------------------------------------------------------------------------------
// ServerKeyExchange
// ---------------------------------------------------------------------------------------------

// bits_of returns the size in bits of an unsigned big-endian integer (leading zeros ignored).
static uint32_t bits_of(cur n) {
    uint8_t b = 0;
    while (cur_len(&n) > 0 && cur_peek_u8(&n, 0, &b) && b == 0) {
        (void)cur_skip(&n, 1);
    }
    if (cur_len(&n) == 0) {
        return 0;
    }
    uint32_t bits = (uint32_t)(cur_len(&n) - 1) * 8;
    for (; b != 0; b >>= 1) {
        bits++;
    }
    return bits;
}

// RFC 8422 §5.4:
//   struct { ECCurveType curve_type; select (curve_type) { case named_curve: NamedCurve; } }
//       ECParameters;
//   struct { ECParameters curve_params; ECPoint public; } ServerECDHParams;  -- point<1..2^8-1>
// RFC 5246 §7.4.3:
//   struct { opaque dh_p<1..2^16-1>; opaque dh_g<1..2^16-1>; opaque dh_Ys<1..2^16-1>; }
//       ServerDHParams;
//   struct { select (KeyExchangeAlgorithm) { case dhe_*: ServerDHParams params;
//            digitally-signed struct {...} signed_params; } } ServerKeyExchange;
//   digitally-signed = { SignatureAndHashAlgorithm algorithm (TLS 1.2 only);
//                        opaque signature<0..2^16-1>; }
tls_err tls_parse_server_key_exchange(cur body, uint16_t cipher, uint16_t version,
                                      tls_server_key_exchange *out) {
    memset(out, 0, sizeof *out);
    out->present = true;
    out->body_len = (uint32_t)cur_len(&body);
    if (tls_cipher_is_ecdhe(cipher)) {
        uint8_t curve_type;
        cur point;
        if (!cur_get_u8(&body, &curve_type)) {
            return TLS_ERR_TRUNCATED;
        }
        if (curve_type != 3) {  // explicit_prime(1) / explicit_char2(2): not parsed further
            out->kind = 3;
            return TLS_ERR_OK;
        }
        out->kind = 1;
        if (!cur_get_u16(&body, &out->group) || !cur_get_u8_prefixed(&body, &point)) {
            return TLS_ERR_TRUNCATED;
        }
    } else if (tls_cipher_is_dhe(cipher)) {
        cur p, g, ys;
        out->kind = 2;
        if (!cur_get_u16_prefixed(&body, &p)) {
            return TLS_ERR_TRUNCATED;
        }
        out->dh_p_bits = bits_of(p);
        if (!cur_get_u16_prefixed(&body, &g) || !cur_get_u16_prefixed(&body, &ys)) {
            return TLS_ERR_TRUNCATED;
        }
    } else {
        return TLS_ERR_OK;  // RSA_EXPORT / PSK / SRP parameters: presence only
    }
    if (tls_cipher_is_anon(cipher)) {
        return exactly(&body);
    }
    cur sig;
    if ((version >= 0x0303 && !cur_get_u16(&body, &out->sigalg)) ||
        !cur_get_u16_prefixed(&body, &sig)) {
        return TLS_ERR_TRUNCATED;
    }
    return exactly(&body);
}

// ---------------------------------------------------------------------------------------------
// CertificateRequest
// ---------------------------------------------------------------------------------------------

// count_dns: DistinguishedName certificate_authorities<..>; opaque DistinguishedName<1..2^16-1>.
TLSDIAG_WUR static tls_err count_dns(cur list, uint16_t *n) {
    while (cur_len(&list) > 0) {
        cur dn;
        if (!cur_get_u16_prefixed(&list, &dn)) {
            return TLS_ERR_TRUNCATED;
        }
        if (cur_len(&dn) == 0) {
            return TLS_ERR_EMPTY_VECTOR;
        }
        if (*n < UINT16_MAX) {
            (*n)++;
        }
    }
    return TLS_ERR_OK;
}

// supported_signature_algorithms<2..2^16-2> (RFC 5246 §7.4.4 and RFC 8446 §4.2.3).
TLSDIAG_WUR static tls_err get_cr_sigalgs(cur *c, tls_cert_request *cr) {
    cur v;
    size_t n = 0;
    if (!cur_get_u16_prefixed(c, &v)) {
        return TLS_ERR_TRUNCATED;
    }
    tls_err err = get_u16_list(v, false, cr->sigalgs, TLS_MAX_SIGALGS, &n, &cr->truncated);
    cr->num_sigalgs = (uint8_t)n;
    return err;
}

TLSDIAG_WUR static tls_err cr_sigalgs(cur data, void *out) {
    tls_err err = get_cr_sigalgs(&data, out);
    return err != TLS_ERR_OK ? err : exactly(&data);
}

// RFC 8446 §4.2.4: struct { DistinguishedName authorities<3..2^16-1>; }
// CertificateAuthoritiesExtension;
TLSDIAG_WUR static tls_err cr_authorities(cur data, void *out) {
    tls_cert_request *cr = out;
    cur v;
    if (!cur_get_u16_prefixed(&data, &v)) {
        return TLS_ERR_TRUNCATED;
    }
    tls_err err = count_dns(v, &cr->num_ca_names);
    return err != TLS_ERR_OK ? err : exactly(&data);
}

static const ext_entry cr_extensions[] = {
    {0x000D, cr_sigalgs, NO_FLAG},
    {0x002F, cr_authorities, NO_FLAG},
};
static ext_table cr_ext_table = EXT_TABLE(cr_extensions);

static void ext_tables_init(void) {
    ext_index(&ch_ext_table);
    ext_index(&sh_ext_table);
    ext_index(&cr_ext_table);
}

// RFC 5246 §7.4.4 (TLS ≤ 1.2; supported_signature_algorithms only in TLS 1.2):
//   struct { ClientCertificateType certificate_types<1..2^8-1>;
//            SignatureAndHashAlgorithm supported_signature_algorithms<2^16-1>;
//            DistinguishedName certificate_authorities<0..2^16-1>; } CertificateRequest;
// RFC 8446 §4.3.2 (TLS 1.3):
//   struct { opaque certificate_request_context<0..2^8-1>;
//            Extension extensions<2..2^16-1>; } CertificateRequest;
tls_err tls_parse_certificate_request(cur body, uint16_t version, tls_cert_request *out) {
    memset(out, 0, sizeof *out);
    out->present = true;
    if (tls_version_is_tls13(version)) {
        cur ctx, exts;
        uint16_t types[TLS_MAX_EXTENSIONS];
        uint16_t ntypes = 0, nsent = 0;
        if (!cur_get_u8_prefixed(&body, &ctx) || !cur_get_u16_prefixed(&body, &exts)) {
            return TLS_ERR_TRUNCATED;
        }
        tls_err err =
            parse_extensions(exts, &cr_ext_table, out, types, &ntypes, &nsent, &out->truncated);
        return err != TLS_ERR_OK ? err : exactly(&body);
    }
    cur types, cas;
    if (!cur_get_u8_prefixed(&body, &types)) {
        return TLS_ERR_TRUNCATED;
    }
    if (cur_len(&types) == 0) {
        return TLS_ERR_EMPTY_VECTOR;
    }
    uint8_t t;
    while (cur_get_u8(&types, &t)) {
        if (out->num_cert_types < TLS_MAX_CERT_TYPES) {
            out->cert_types[out->num_cert_types++] = t;
        } else {
            out->truncated = true;
        }
    }
    if (version >= 0x0303) {
        tls_err err = get_cr_sigalgs(&body, out);
        if (err != TLS_ERR_OK) {
            return err;
        }
    }
    if (!cur_get_u16_prefixed(&body, &cas)) {
        return TLS_ERR_TRUNCATED;
    }
    tls_err err = count_dns(cas, &out->num_ca_names);
    return err != TLS_ERR_OK ? err : exactly(&body);
}
