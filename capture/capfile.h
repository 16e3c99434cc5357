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
    // buf[pos, end): read but not consumed (file offset `offset` is at buf + pos).
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
// capfile_next_buffered: up to max next records that lie wholly in the bytes already read (the
// common pcap record: pcap_next_buffered), all valid until the next capfile_next/_buffered
// call; 0 when the next record needs capfile_next (another format, the buffer's end, damage or
// the file's end).
size_t capfile_next_buffered(capfile *f, capfile_frame *out, size_t max)
    __attribute__((warn_unused_result));
void capfile_close(capfile *f);

#endif
