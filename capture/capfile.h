// capfile.h — private to capture/: one saved capture file (pcap or pcapng), record by record.
//
// tlsdiag reads both formats itself rather than through pcap_next_ex(): libpcap 1.10 refuses a
// pcapng file whose interfaces have different link types ("an interface has a type N different
// from the type of the first interface"), and a damaged file must still say at which byte and
// frame the damage starts. libpcap is still used for BPF filters and link-type names.
#ifndef TLSDIAG_CAPTURE_CAPFILE_H
#define TLSDIAG_CAPTURE_CAPFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"

enum {
    CAPFILE_MAX_IFACES = 256,        // pcapng interfaces kept per section
    CAPFILE_MAX_RECORD = 16u << 20,  // a record/block larger than this is corruption
    CAPFILE_MAX_SNAPLEN = 262144,    // libpcap's largest snapshot length for a pcap record
};

typedef struct capfile_iface {
    int linktype;
    uint8_t tsresol;     // pcapng if_tsresol: MSB clear 10^-n, set 2^-n
    int64_t tsoffset_s;  // pcapng if_tsoffset
} capfile_iface;

typedef struct capfile {
    int fd;
    bool own_fd;  // false for stdin
    char path[512];
    bool pcapng;
    bool big_endian;   // byte order of the current file/section
    bool nsec;         // pcap: nanosecond timestamps
    bool kuznetzov;    // pcap: 0xa1b2cd34 modified records (24-byte headers)
    uint32_t snaplen;  // pcap: the file header's snapshot length
    int linktype;      // pcap: the file's link type
    uint32_t num_ifaces;
    capfile_iface ifaces[CAPFILE_MAX_IFACES];
    uint64_t offset;  // bytes consumed so far
    uint64_t size;    // file size when regular, else 0
    uint64_t frames;  // records returned from this file
    bool done;        // ended (cleanly or by damage)
    int read_errno;   // why reading stopped early, 0 = end of file
    // Regular files: a mapped window of the file.
    bool mapped;
    uint8_t *map;
    uint64_t map_off;
    size_t map_len;
    uint64_t prefetched;  // bytes of the file before this offset were prefetched
    // Retained reading (capfile_retain): the window is the rest of the file and stays mapped;
    // windows replaced when the file grew are kept until released.
    bool retain;
    uint64_t released;   // pages of map below this offset were released
    uint64_t populated;  // the page table of map below this offset was filled (populate_ahead)
    struct capfile_oldmap *retired;
    // Streams: buf[pos, end) read but not consumed.
    uint8_t *buf;
    size_t bufcap, pos, end;
    bool eof;
} capfile;

// A record: dissect's frame, so that one file read alone needs no copy (frame_no is the
// reader's: capfile_next leaves it alone). data is borrowed: valid until the next capfile_next.
typedef dissect_frame capfile_frame;

// capfile_open: recognises the format from the first bytes. false + a sentence naming the
// file in err when it cannot be opened or is not a capture.
bool capfile_open(capfile *f, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));
// capfile_next: 1 = a frame, 0 = clean end of file, -1 = damage described in *e.
int capfile_next(capfile *f, capfile_frame *out, cap_error *e) __attribute__((warn_unused_result));
// capfile_next_mapped: up to max next records that lie wholly in the mapped window (the common
// pcap record: pcap_next_mapped), all valid until the next capfile_next/_mapped call; 0 when the
// next record needs capfile_next (another format, the window's end, damage or the file's end).
size_t capfile_next_mapped(capfile *f, capfile_frame *out, size_t max)
    __attribute__((warn_unused_result));
void capfile_close(capfile *f);

// capfile_retain maps the rest of a regular file at once and keeps it mapped: from then on every
// frame's data stays valid until capfile_release passes it or the file is closed. false (nothing
// changed) for a stream or a file that cannot be mapped.
bool capfile_retain(capfile *f) __attribute__((warn_unused_result));
// capfile_unretain goes back to windows (the caller holds no frame read since capfile_retain).
void capfile_unretain(capfile *f);
// capfile_prefetch_again: the lines ahead of the next record are asked for again, by the
// calling thread (prefetch_ahead): another thread read the records before them, and what it
// prefetched sits in its own core's cache.
void capfile_prefetch_again(capfile *f);
// capfile_release gives back the pages wholly before file offset `upto` (a hint for the resident
// size: a page read again is mapped again from the page cache).
void capfile_release(capfile *f, uint64_t upto);

#endif
