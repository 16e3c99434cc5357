// capfile.c — reading one pcap or pcapng file record by record, with byte offsets for damage.
//
// Formats: pcap (https://www.tcpdump.org/manpages/pcap-savefile.5.html; micro- and nanosecond
// magics, both byte orders, the 0xa1b2cd34 "modified" variant) and pcapng
// (draft-ietf-opsawg-pcapng: SHB, IDB, EPB, SPB, the obsolete OPB; several sections; per-
// interface link type, if_tsresol and if_tsoffset). All file bytes are read through a cursor.
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capfile.h"
#include "cursor.h"

enum {
    PCAP_HDR_LEN = 24,
    NG_SHB = 0x0A0D0D0A,
    NG_IDB = 0x00000001,
    NG_OPB = 0x00000002,
    NG_SPB = 0x00000003,
    NG_EPB = 0x00000006,
    NG_BOM = 0x1A2B3C4D,
    OPT_END = 0,
    OPT_IF_TSRESOL = 9,
    OPT_IF_TSOFFSET = 14,
};

// ---------------------------------------------------------------------------------------------
// The byte source: every input — a regular file, stdin, a pipe — is read(2) into one buffer that
// is reused (and grows only for a record larger than it); a record comes back as a pointer into
// it, valid until the next read from this file. Regular files were mapped until round 11
// (bench/NOTES.md): on a host that fills its own page table on a page's first access (shadow
// paging) a mapped page cost ~1.2 µs when the page cache held the file in 4 KiB pages, and the
// mapped walk ran one thread 1.6× (handshake file) to 2.4× (mixed file) slower than this buffer,
// whose pages are mapped once and stay in the cache while they are parsed.
// ---------------------------------------------------------------------------------------------

enum {
    STREAM_CHUNK = 1u << 20,  // the buffer, and the most one read(2) asks for
};

// stream_fill makes n bytes (or all that is left) contiguous at buf + pos.
static void stream_fill(capfile *f, size_t n) {
    if (f->end - f->pos >= n || f->eof) {
        return;
    }
    if (f->pos > 0) {
        memmove(f->buf, f->buf + f->pos, f->end - f->pos);
        f->end -= f->pos;
        f->pos = 0;
    }
    if (n > f->bufcap || f->bufcap - f->end < STREAM_CHUNK / 4) {
        size_t cap = n > STREAM_CHUNK ? n : STREAM_CHUNK;
        if (cap < f->end + STREAM_CHUNK / 4) {
            cap = f->end + STREAM_CHUNK;
        }
        uint8_t *b = realloc(f->buf, cap);
        if (!b) {
            f->read_errno = ENOMEM;
            f->eof = true;
            return;
        }
        f->buf = b;
        f->bufcap = cap;
    }
    while (f->end < n) {
        ssize_t r = read(f->fd, f->buf + f->end, f->bufcap - f->end);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            if (r < 0) {
                f->read_errno = errno;
            }
            f->eof = true;
            return;
        }
        f->end += (size_t)r;
    }
}

// readptr returns up to n contiguous bytes at the current offset and consumes them (*got < n
// only at the end of the file or on a read error).
static inline const uint8_t *readptr(capfile *f, size_t n, size_t *got) {
    if (f->end - f->pos < n) {
        stream_fill(f, n);
    }
    size_t have = f->end - f->pos;
    *got = have < n ? have : n;
    const uint8_t *p = f->buf + f->pos;
    f->pos += *got;
    f->offset += *got;
    return p;
}

static size_t readn(capfile *f, void *buf, size_t n) {
    size_t got = 0;
    const uint8_t *p = n ? readptr(f, n, &got) : NULL;
    if (got) {
        memcpy(buf, p, got);
    }
    return got;
}

// read_error: why fewer bytes came than the file's structure promised, as a suffix for the
// message: "" at the end of the file, ": <strerror>" after a read error.
static const char *read_error(const capfile *f, char *buf, size_t len) {
    if (!f->read_errno) {
        return "";
    }
    snprintf(buf, len, ": %s", strerror(f->read_errno));
    return buf;
}

// Integers in the file's byte order, through the cursor (inlined: four per record).
__attribute__((always_inline)) static inline bool get16(const capfile *f, cur *c, uint16_t *out) {
    uint16_t v;
    if (!cur_get_u16(c, &v)) {
        return false;
    }
    *out = f->big_endian ? v : (uint16_t)((v >> 8) | (v << 8));
    return true;
}

__attribute__((always_inline)) static inline bool get32(const capfile *f, cur *c, uint32_t *out) {
    uint32_t v;
    if (!cur_get_u32(c, &v)) {
        return false;
    }
    *out = f->big_endian ? v : __builtin_bswap32(v);
    return true;
}

// damage fills *e for the record starting at `offset` (the first frame not returned) and ends
// the file: nothing after corruption can be trusted to be a record boundary.
__attribute__((format(printf, 4, 5), cold, noinline)) static int damage(capfile *f, cap_error *e,
                                                                        uint64_t offset,
                                                                        const char *fmt, ...) {
    memset(e, 0, sizeof *e);
    snprintf(e->file, sizeof e->file, "%s", f->path);
    e->frame = f->frames + 1;
    e->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    f->done = true;
    return -1;
}

// cut_short: at a short read of a regular file, whether another program cut it below the size
// it had when it was opened; if so the file ends as damaged at `start`, saying so (a file that
// merely ends inside a record says "truncated record").
__attribute__((cold, noinline)) static bool cut_short(capfile *f, cap_error *e, uint64_t start) {
    struct stat st;
    if (f->size == 0 || fstat(f->fd, &st) != 0 || (uint64_t)st.st_size >= f->size) {
        return false;
    }
    (void)damage(f, e, start,
                 "the file was cut short by another program while being read (it now has %" PRIu64
                 " bytes)",
                 (uint64_t)st.st_size);
    return true;
}

// ---------------------------------------------------------------------------------------------
// pcap
// ---------------------------------------------------------------------------------------------

// struct pcap_file_header { magic(4) version_major(2) version_minor(2) thiszone(4)
//                           sigfigs(4) snaplen(4) linktype(4) }  — magic already consumed.
static bool pcap_header(capfile *f, cur c) {
    uint16_t major, minor;
    uint32_t zone, sigfigs, snaplen, linktype;
    if (!get16(f, &c, &major) || !get16(f, &c, &minor) || !get32(f, &c, &zone) ||
        !get32(f, &c, &sigfigs) || !get32(f, &c, &snaplen) || !get32(f, &c, &linktype)) {
        return false;
    }
    // The upper bits of the link-type field carry FCS length flags (pcap-savefile(5)).
    f->linktype = (int)(linktype & 0x03ffffff);
    f->snaplen = snaplen;
    return major == 2;
}

// struct pcap_sf_pkthdr { ts_sec(4) ts_usec_or_nsec(4) caplen(4) len(4) } (+8 in the
// 0xa1b2cd34 variant: ifindex(4) protocol(2) pkt_type(1) pad(1)).
// noinline: capfile_next keeps a light frame for pcap_next_buffered, the common case.
__attribute__((noinline)) static int pcap_next_rec(capfile *f, capfile_frame *out, cap_error *e) {
    size_t hlen = f->kuznetzov ? 24 : 16;
    uint64_t start = f->offset;
    size_t got;
    const uint8_t *hdr = readptr(f, hlen, &got);  // parsed before the next read moves the buffer
    if (got < hlen && cut_short(f, e, start)) {
        return -1;
    }
    if (got == 0) {
        f->done = true;
        return 0;
    }
    if (got < hlen) {
        return damage(f, e, start, "truncated record header: needed %zu bytes, only %zu left", hlen,
                      got);
    }
    cur c = cur_make(hdr, hlen);
    uint32_t sec, frac, caplen, len;
    if (!get32(f, &c, &sec) || !get32(f, &c, &frac) || !get32(f, &c, &caplen) ||
        !get32(f, &c, &len)) {
        return damage(f, e, start, "unreadable record header");
    }
    // A record longer than any snapshot length is a corrupt header, not a short file (libpcap
    // says the same: "bigger than maximum of 262144").
    uint32_t max = f->snaplen > CAPFILE_MAX_SNAPLEN ? f->snaplen : CAPFILE_MAX_SNAPLEN;
    if (max > CAPFILE_MAX_RECORD) {
        max = CAPFILE_MAX_RECORD;
    }
    if (caplen > max) {
        return damage(f, e, start,
                      "corrupt record header: %u-byte record, bigger than maximum of %u", caplen,
                      max);
    }
    const uint8_t *data = readptr(f, caplen, &got);
    if (got < caplen && cut_short(f, e, start)) {
        return -1;
    }
    if (got < caplen) {
        char why[128];
        return damage(f, e, start, "truncated record: header says %u bytes, only %zu in the file%s",
                      caplen, got, read_error(f, why, sizeof why));
    }
    out->linktype = f->linktype;
    out->caplen = caplen;
    out->len = len < caplen ? caplen : len;
    out->data = data;
    out->ts_ns = (int64_t)sec * 1000000000 + (int64_t)frac * (f->nsec ? 1 : 1000);
    f->frames++;
    return 1;
}

// ---------------------------------------------------------------------------------------------
// pcapng
// ---------------------------------------------------------------------------------------------

// Timestamp units → ns. if_tsresol: MSB clear = 10^-n s, MSB set = 2^-n s; default 10^-6.
static int64_t ng_ts(const capfile_iface *ifc, uint64_t units) {
    uint8_t r = ifc->tsresol;
    unsigned n = r & 0x7f;
    __int128 ns;
    if (r & 0x80) {
        if (n > 63) {
            return 0;
        }
        ns = ((__int128)units * 1000000000) >> n;
    } else if (n <= 9) {
        int64_t mul = 1;
        for (unsigned i = n; i < 9; i++) {
            mul *= 10;
        }
        ns = (__int128)units * mul;
    } else {
        __int128 div = 1;
        for (unsigned i = 9; i < n && i < 40; i++) {
            div *= 10;
        }
        ns = (__int128)units / div;
    }
    ns += (__int128)ifc->tsoffset_s * 1000000000;
    if (ns > INT64_MAX || ns < INT64_MIN) {
        return 0;
    }
    return (int64_t)ns;
}

// Interface Description Block body: LinkType(2) Reserved(2) SnapLen(4) Options.
// Options: Code(2) Length(2) Value padded to 32 bits; opt_endofopt ends the list.
static bool ng_idb(capfile *f, cur c) {
    uint16_t lt, res;
    uint32_t snap;
    if (!get16(f, &c, &lt) || !get16(f, &c, &res) || !get32(f, &c, &snap)) {
        return false;
    }
    capfile_iface ifc = {lt, 6, 0};
    uint16_t code, olen;
    while (get16(f, &c, &code) && get16(f, &c, &olen) && code != OPT_END) {
        cur val;
        if (!cur_get_bytes(&c, &val, olen) || !cur_skip(&c, (4u - (olen & 3u)) & 3u)) {
            return false;
        }
        if (code == OPT_IF_TSRESOL && olen >= 1) {
            (void)cur_get_u8(&val, &ifc.tsresol);
        } else if (code == OPT_IF_TSOFFSET && olen == 8) {
            uint32_t hi, lo;
            if (get32(f, &val, &hi) && get32(f, &val, &lo)) {
                ifc.tsoffset_s = (int64_t)(((uint64_t)hi << 32) | lo);
            }
        }
    }
    if (f->num_ifaces < CAPFILE_MAX_IFACES) {
        f->ifaces[f->num_ifaces] = ifc;
    }
    f->num_ifaces++;
    return true;
}

static const capfile_iface *ng_iface(const capfile *f, uint32_t id) {
    return id < f->num_ifaces && id < CAPFILE_MAX_IFACES ? &f->ifaces[id] : NULL;
}

// Enhanced Packet Block: Interface ID(4) Timestamp hi(4) lo(4) Captured Len(4) Original Len(4)
// Packet Data (padded) Options.  Obsolete Packet Block: Interface ID(2) Drops Count(2), rest
// as EPB.  Simple Packet Block: Original Len(4) Packet Data (captured = what fits).
static int ng_packet(capfile *f, uint32_t type, cur c, capfile_frame *out, uint64_t start,
                     cap_error *e) {
    uint32_t id = 0, hi = 0, lo = 0, caplen, len;
    bool ok;
    if (type == NG_SPB) {
        ok = get32(f, &c, &len);
        caplen = (uint32_t)(len < cur_len(&c) ? len : cur_len(&c));
    } else if (type == NG_OPB) {
        uint16_t id16, drops;
        ok = get16(f, &c, &id16) && get16(f, &c, &drops) && get32(f, &c, &hi) &&
             get32(f, &c, &lo) && get32(f, &c, &caplen) && get32(f, &c, &len);
        id = id16;
    } else {
        ok = get32(f, &c, &id) && get32(f, &c, &hi) && get32(f, &c, &lo) && get32(f, &c, &caplen) &&
             get32(f, &c, &len);
    }
    cur data;
    if (!ok || !cur_get_bytes(&c, &data, caplen)) {
        return damage(f, e, start, "corrupt packet block: captured length %u exceeds the block",
                      ok ? caplen : 0);
    }
    const capfile_iface *ifc = ng_iface(f, id);
    if (!ifc) {
        return damage(f, e, start,
                      "corrupt packet block: interface %u not described (%u interfaces)", id,
                      f->num_ifaces);
    }
    out->linktype = ifc->linktype;
    out->caplen = caplen;
    out->len = len < caplen ? caplen : len;
    out->data = cur_data(&data);
    out->ts_ns = type == NG_SPB ? 0 : ng_ts(ifc, ((uint64_t)hi << 32) | lo);
    f->frames++;
    return 1;
}

// One block. `hdr` holds its first 8 bytes (already consumed). 1 = frame, 2 = no frame in
// this block, -1 = damage.
static int ng_block(capfile *f, const uint8_t hdr[8], uint64_t start, capfile_frame *out,
                    cap_error *e) {
    cur h = cur_make(hdr, 8);
    uint32_t type_be = 0;
    (void)cur_get_u32(&h, &type_be);
    size_t used = 8;
    if (type_be == NG_SHB) {
        // A new section: its own byte order (Byte-Order Magic) and its own interfaces.
        uint8_t bom[4];
        uint32_t b;
        if (readn(f, bom, 4) < 4) {
            return damage(f, e, start, "truncated section header block");
        }
        cur bc = cur_make(bom, 4);
        (void)cur_get_u32(&bc, &b);
        if (b == NG_BOM) {
            f->big_endian = true;
        } else if (b == __builtin_bswap32(NG_BOM)) {
            f->big_endian = false;
        } else {
            return damage(f, e, start, "corrupt section header: byte-order magic 0x%08x", b);
        }
        f->num_ifaces = 0;
        used = 12;
    }
    uint32_t type, blen;
    h = cur_make(hdr, 8);
    if (!get32(f, &h, &type) || !get32(f, &h, &blen)) {
        return -1;
    }
    if (blen < used + 4 || (blen & 3u) != 0 || blen > CAPFILE_MAX_RECORD) {
        return damage(f, e, start, "corrupt block: type 0x%08x with length %u", type, blen);
    }
    size_t rest = blen - used;
    size_t got;
    const uint8_t *body = readptr(f, rest, &got);
    if (got < rest) {
        char why[128];
        return damage(f, e, start, "truncated block: length %u, only %zu bytes in the file%s", blen,
                      got + used, read_error(f, why, sizeof why));
    }
    cur c = cur_make(body, rest - 4);
    cur tail = cur_make(body, rest);
    uint32_t blen2;
    if (!cur_skip(&tail, rest - 4) || !get32(f, &tail, &blen2) || blen2 != blen) {
        return damage(f, e, start, "corrupt block: trailing length differs from %u", blen);
    }
    switch (type) {
        case NG_IDB:
            if (!ng_idb(f, c)) {
                return damage(f, e, start, "corrupt interface description block");
            }
            return 2;
        case NG_EPB:
        case NG_SPB:
        case NG_OPB:
            return ng_packet(f, type, c, out, start, e);
        default:
            return 2;  // SHB body, name resolution, statistics, custom, decryption secrets, ...
    }
}

__attribute__((noinline)) static int ng_next(capfile *f, capfile_frame *out, cap_error *e) {
    for (;;) {
        uint8_t hdr[8];
        uint64_t start = f->offset;
        size_t got = readn(f, hdr, 8);
        if (got < 8 && cut_short(f, e, start)) {
            return -1;
        }
        if (got == 0) {
            f->done = true;
            return 0;
        }
        if (got < 8) {
            return damage(f, e, start, "truncated block header: needed 8 bytes, only %zu left",
                          got);
        }
        int r = ng_block(f, hdr, start, out, e);
        if (r < 0) {
            (void)cut_short(f, e, start);  // (the damage said, unless the file was cut)
            return -1;
        }
        if (r != 2) {
            return r;
        }
    }
}

// ---------------------------------------------------------------------------------------------

bool capfile_open(capfile *f, const char *path, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    f->fd = -1;
    if (strcmp(path, "-") == 0) {
        f->fd = STDIN_FILENO;
    } else {
        f->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (f->fd < 0) {
            // name the file, what is wrong, what to do
            int e = errno;
            if (e == ENOENT) {
                snprintf(err, errlen,
                         "%s: does not exist (check the name: a pcap or pcapng file, or - for "
                         "standard input)",
                         path);
            } else {
                snprintf(err, errlen, "%s: cannot open: %s%s", path, strerror(e),
                         e == EACCES ? " (run as a user who may read it, or copy it)" : "");
            }
            return false;
        }
        f->own_fd = true;
    }
    struct stat st;
    if (fstat(f->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen,
                 "%s: is a directory, not a pcap or pcapng file (name the capture files in "
                 "it, e.g. %s/*.pcap)",
                 path, path);
        capfile_close(f);
        return false;
    }
    if (fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        f->size = (uint64_t)st.st_size;
        // Read once, front to back: a file not yet in the page cache is read ahead further.
        (void)posix_fadvise(f->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    uint8_t hdr[PCAP_HDR_LEN];
    size_t got = readn(f, hdr, 4);
    uint32_t magic = 0;
    cur m = cur_make(hdr, got);
    if (got < 4 || !cur_get_u32(&m, &magic)) {
        snprintf(err, errlen, "%s: %s", path,
                 got == 0 ? "empty file (0 bytes), not a pcap or pcapng file: was the capture "
                            "stopped before it wrote anything?"
                          : "not a pcap or pcapng file: too short for a capture header");
        capfile_close(f);
        return false;
    }
    if (magic == NG_SHB) {
        f->pcapng = true;
        if (readn(f, hdr + 4, 4) < 4) {
            snprintf(err, errlen, "%s: truncated pcapng section header", path);
            capfile_close(f);
            return false;
        }
        cap_error e;
        capfile_frame fr;
        if (ng_block(f, hdr, 0, &fr, &e) < 0) {
            snprintf(err, errlen, "%s: not a readable pcapng file: %s", path, e.msg);
            capfile_close(f);
            return false;
        }
        f->done = false;
        return true;
    }
    switch (magic) {
        case 0xa1b2c3d4:
        case 0xa1b23c4d:
        case 0xa1b2cd34:
            f->big_endian = true;
            break;
        case 0xd4c3b2a1:
        case 0x4d3cb2a1:
        case 0x34cdb2a1:
            f->big_endian = false;
            break;
        default:
            snprintf(err, errlen,
                     "%s: not a pcap or pcapng file (magic 0x%08x): give a capture written by "
                     "tcpdump -w, Wireshark, dumpcap or tlsdiag capture -w",
                     path, magic);
            capfile_close(f);
            return false;
    }
    uint32_t canon = f->big_endian ? magic : __builtin_bswap32(magic);
    f->nsec = canon == 0xa1b23c4d;
    f->kuznetzov = canon == 0xa1b2cd34;
    if (readn(f, hdr + 4, PCAP_HDR_LEN - 4) < PCAP_HDR_LEN - 4 ||
        !pcap_header(f, cur_make(hdr + 4, PCAP_HDR_LEN - 4))) {
        snprintf(err, errlen, "%s: truncated or unsupported pcap file header", path);
        capfile_close(f);
        return false;
    }
    return true;
}

// pcap_next_buffered: up to `want` common pcap records — a 16-byte header and its data wholly
// inside the buffer, a plausible length and not a header of zeros — read in place with
// pcap_next_rec's checks and results, one after another; it stops (nothing consumed) at the
// first other record, which pcap_next_rec then reads and judges from the same offset.
// pcap_next_rec's two reads, byte order per field and its damage checks cost ~100 instructions
// a frame; this ~35, the file's fields held in locals across a batch.
static inline size_t pcap_next_buffered(capfile *f, capfile_frame *out, size_t want) {
    if (f->kuznetzov) {
        return 0;
    }
    const uint8_t *buf = f->buf;
    size_t end = f->end, at = f->pos;
    uint32_t max = f->snaplen > CAPFILE_MAX_SNAPLEN ? f->snaplen : CAPFILE_MAX_SNAPLEN;
    int64_t unit = f->nsec ? 1 : 1000;
    bool big_endian = f->big_endian;
    int linktype = f->linktype;
    size_t n = 0;
    for (; n < want && at < end; n++) {
        cur c = cur_make(buf + at, end - at), hdr;
        uint32_t sec, frac, caplen, len;
        if (!cur_get_bytes(&c, &hdr, 16) || !cur_peek_u32(&hdr, 0, &sec) ||
            !cur_peek_u32(&hdr, 4, &frac) || !cur_peek_u32(&hdr, 8, &caplen) ||
            !cur_peek_u32(&hdr, 12, &len)) {
            break;
        }
        if (!big_endian) {
            sec = __builtin_bswap32(sec);
            frac = __builtin_bswap32(frac);
            caplen = __builtin_bswap32(caplen);
            len = __builtin_bswap32(len);
        }
        if ((sec | frac | caplen | len) == 0) {
            break;
        }
        cur data;
        if (caplen > max || caplen > CAPFILE_MAX_RECORD || !cur_get_bytes(&c, &data, caplen)) {
            break;
        }
        out[n].linktype = linktype;
        out[n].caplen = caplen;
        out[n].len = len < caplen ? caplen : len;
        out[n].data = cur_data(&data);
        out[n].ts_ns = (int64_t)sec * 1000000000 + (int64_t)frac * unit;
        at += 16 + (size_t)caplen;
    }
    f->offset += at - f->pos;
    f->pos = at;
    f->frames += n;
    return n;
}

int capfile_next(capfile *f, capfile_frame *out, cap_error *e) {
    if (f->done) {
        return 0;
    }
    if (f->pcapng) {
        return ng_next(f, out, e);
    }
    if (pcap_next_buffered(f, out, 1) == 1) {
        return 1;
    }
    return pcap_next_rec(f, out, e);
}

size_t capfile_next_buffered(capfile *f, capfile_frame *out, size_t max) {
    if (f->done || f->pcapng) {
        return 0;
    }
    return pcap_next_buffered(f, out, max);
}

void capfile_close(capfile *f) {
    if (f->fd >= 0 && f->own_fd) {
        close(f->fd);
    }
    f->fd = -1;
    free(f->buf);
    f->buf = NULL;
    f->bufcap = 0;
}
