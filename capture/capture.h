// capture.h — the only module that talks to libpcap: reading saved captures (pcap, pcapng,
// stdin) as one timestamp-ordered stream of frames. (Live interfaces come later, same frames.)
//
// Ownership: a cap_reader is caller-owned (cap_open / cap_close, cap_close(NULL) is a no-op).
// A frame's bytes are borrowed: valid only until the next cap_next() or cap_close().
#ifndef TLSDIAG_CAPTURE_H
#define TLSDIAG_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect.h"

typedef struct cap_reader cap_reader;

// Why reading stopped early, per file. A damaged file keeps every frame read before the damage.
typedef struct cap_error {
    char file[512];             // path as given ("-" for stdin)
    uint64_t frame;             // 1-based frame number within that file of the damaged record
                                // (the first frame that could not be read)
    uint64_t offset;            // byte offset in the file where the damage starts (best effort)
    char msg[256];              // one sentence: "truncated record header", "not a pcap or pcapng file"
} cap_error;

// cap_open opens every file (each "-" is stdin, at most once). Files are merged into one
// stream in timestamp order (ties: file order). bpf (may be NULL) is applied to every file.
// On failure to open any file, or a bad filter: returns NULL and writes a sentence naming the
// file (or the filter) into err.
cap_reader *cap_open(const char *const *paths, size_t num_paths, const char *bpf, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

// cap_next: 1 = *out holds the next frame (frame_no counts across all files, 1-based);
// 0 = all files ended (some may have ended early with an error: see cap_errors).
int cap_next(cap_reader *r, dissect_frame *out) __attribute__((warn_unused_result));

// cap_errors: files that ended with damage (truncated/corrupt), in the order detected.
size_t cap_num_errors(const cap_reader *r);
const cap_error *cap_get_error(const cap_reader *r, size_t i);

// Progress for a TTY status line: bytes consumed / total size of regular files (0 if unknown).
uint64_t cap_bytes_read(const cap_reader *r);
uint64_t cap_bytes_total(const cap_reader *r);

// cap_linktype_name: "EN10MB", "LINUX_SLL2", ... for messages.
const char *cap_linktype_name(int linktype);

void cap_close(cap_reader *r);

#endif
