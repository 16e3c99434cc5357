// capture.h — the only module that talks to libpcap: reading saved captures (pcap, pcapng,
// stdin) as one timestamp-ordered stream of frames, and live interfaces (same frames).
//
// Ownership: a cap_reader is caller-owned (cap_open / cap_close, cap_close(NULL) is a no-op).
// A frame's bytes are borrowed: valid only until the next cap_next() or cap_close().
#ifndef TLSDIAG_CAPTURE_H
#define TLSDIAG_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dissect.h"

typedef struct cap_reader cap_reader;

// Why reading stopped early, per file. A damaged file keeps every frame read before the damage.
typedef struct cap_error {
    char file[512];   // path as given ("-" for stdin)
    uint64_t frame;   // 1-based frame number within that file of the damaged record
                      // (the first frame that could not be read)
    uint64_t offset;  // byte offset in the file where the damage starts (best effort)
    char msg[256];    // one sentence: "truncated record header", "not a pcap or pcapng file"
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
// cap_next_batch: up to max (≥ 1) next frames of a file reader (cap_open) into out[], as many
// cap_next calls would return them; 0 = all files ended. The bytes of every frame returned stay
// valid until the next cap_next/cap_next_batch call (one file without a filter: the records read in
// place from the read buffer, ~50 instructions a frame less than cap_next; otherwise one frame a
// call).
size_t cap_next_batch(cap_reader *r, dissect_frame *out, size_t max)
    __attribute__((warn_unused_result));

// cap_errors: files that ended with damage (truncated/corrupt), in the order detected.
size_t cap_num_errors(const cap_reader *r);
const cap_error *cap_get_error(const cap_reader *r, size_t i);

// cap_single_input: the reader reads one file, stdin or a pipe (not several, not an interface).
bool cap_single_input(const cap_reader *r);

// Progress for a TTY status line: bytes consumed / total size of regular files (0 if unknown).
uint64_t cap_bytes_read(const cap_reader *r);
uint64_t cap_bytes_total(const cap_reader *r);

// cap_linktype_name: "EN10MB", "LINUX_SLL2", ... for messages.
const char *cap_linktype_name(int linktype);
// cap_lib_version: libpcap's version string, for --version (capture/ owns libpcap).
const char *cap_lib_version(void);

// ---------------------------------------------------------------------------------------------
// Live capture (live.c). A live reader is a cap_reader too: cap_next() returns its frames
// (frame_no counts frames delivered after the kernel filter), cap_close() closes it.
// For a live reader cap_next() also returns 2 = "no packet within timeout_ms": the caller can
// refresh a status line and check its stop flags, then call cap_next() again; and 0 once
// cap_breakloop() was called (or the interface went away: see cap_live_error()).
// ---------------------------------------------------------------------------------------------
enum {
    CAP_LIVE_SNAPLEN = 262144,    // whole segments (GSO/GRO up to 64 KiB + headers)
    CAP_LIVE_BUFFER = 32u << 20,  // default kernel ring: 32 MiB
    CAP_LIVE_TIMEOUT_MS = 250,    // default poll timeout (cap_next returns 2)
};

typedef struct cap_live_options {
    const char *iface;      // NULL or "any": all interfaces (Linux cooked); or a name
    const char *bpf;        // kernel filter (NULL/"" = everything)
    uint32_t snaplen;       // 0: CAP_LIVE_SNAPLEN (at least 65535 + headers is enforced)
    uint32_t buffer_bytes;  // 0: CAP_LIVE_BUFFER
    bool immediate;         // deliver each packet at once (true is what an analyzer wants)
    int timeout_ms;         // 0: CAP_LIVE_TIMEOUT_MS; cap_next returns 2 after this long
} cap_live_options;

// cap_live_options_default: any interface, no filter, defaults above, immediate mode on.
void cap_live_options_default(cap_live_options *o);

// Failure classes of cap_live_open, so the CLI can pick a sentence and an exit status.
typedef enum cap_live_status {
    CAP_LIVE_OK = 0,
    CAP_LIVE_EPERM,       // no permission (not root, no CAP_NET_RAW)
    CAP_LIVE_NO_IFACE,    // no such interface
    CAP_LIVE_BAD_FILTER,  // BPF text did not compile (err: libpcap's reason, not the text)
    CAP_LIVE_ERROR,       // anything else (message in err)
} cap_live_status;

// cap_live_open activates a capture handle. NULL on failure: err holds one sentence and
// *out_status (may be NULL) the class.
cap_reader *cap_live_open(const cap_live_options *o, cap_live_status *out_status, char *err,
                          size_t errlen) __attribute__((warn_unused_result));

// cap_live_stats: libpcap's counters since activation (packets that passed the filter, packets
// the kernel dropped for lack of buffer). false when r is not live or libpcap cannot tell.
bool cap_live_stats(cap_reader *r, uint64_t *received, uint64_t *dropped)
    __attribute__((warn_unused_result));

// cap_live_linktype: the handle's DLT (for writing pcaps); -1 when not live.
int cap_live_linktype(const cap_reader *r);
uint32_t cap_live_snaplen(const cap_reader *r);

// cap_live_next_queued: 1 = *out holds a packet the kernel had already captured (ignores
// cap_breakloop; never waits in immediate mode, else once for up to timeout_ms, until the kernel
// hands over its partly filled block); 0 = none left (or not live). After a stop, so that what
// was captured before it is still analyzed.
int cap_live_next_queued(cap_reader *r, dissect_frame *out) __attribute__((warn_unused_result));

// cap_live_dispatch hands up to `max` packets to fn, each while it is still in the kernel's
// ring (no copy: f->data is valid only during the call), waiting up to timeout_ms when none is
// queued. >0 = packets handed over; 0 = none within the timeout (or a wake-up without one);
// -1 = stopped by cap_breakloop or on an error (cap_live_error: "" for a stop), or not live.
typedef void (*cap_live_frame_fn)(void *user, const dissect_frame *f);
int cap_live_dispatch(cap_reader *r, int max, cap_live_frame_fn fn, void *user)
    __attribute__((warn_unused_result));

// cap_live_error: why a live reader's cap_next returned 0 without cap_breakloop ("" if none).
const char *cap_live_error(const cap_reader *r);

// cap_live_filter builds the kernel filter text: TCP to one of `ports` from one of `nets`
// (CIDR text, IPv4 or IPv6) and the replies (from those ports to those nets); every source when
// num_nets is 0; "and (extra)" when extra is given. Caller-owned string (free); NULL when out
// of memory. Example: tcp and ((dst port 443 and (src net 15.158.0.0/16)) or
//                              (src port 443 and (dst net 15.158.0.0/16)))
char *cap_live_filter(const char *const *nets, size_t num_nets, const uint16_t *ports,
                      size_t num_ports, const char *extra) __attribute__((warn_unused_result));

// cap_live_list prints the interfaces libpcap can capture on, as `tcpdump -D` does: one line
// each, "N.NAME (DESCRIPTION) [Up, Running, Loopback, Connected]" (the description and the
// status words only when there are some). false + a sentence in err when none can be listed.
bool cap_live_list(FILE *out, char *err, size_t errlen) __attribute__((warn_unused_result));

// cap_breakloop makes a blocked or future cap_next() return 0. Async-signal-safe (it only
// stores to a volatile sig_atomic_t the reader polls), so a SIGINT handler may call it.
void cap_breakloop(cap_reader *r);

// cap_drop_privileges switches to `user` (its uid, gid and supplementary groups) and keeps no
// capability. Call it after cap_live_open (the handle stays usable). NULL user: "nobody".
// Does nothing and succeeds when not running as root. false + a sentence in err on failure.
bool cap_drop_privileges(const char *user, char *err, size_t errlen)
    __attribute__((warn_unused_result));

// ---------------------------------------------------------------------------------------------
// Writing pcap files (writer.c): -w FILE, rotation (-C bytes, -W ring of N files). Each file is
// a valid pcap whenever the writer is flushed or closed, and after a write error (disk full):
// the file is cut back to its last whole record and the writer stops (cap_writer_error).
// Caller-owned: cap_writer_open / cap_writer_close (NULL is a no-op).
// ---------------------------------------------------------------------------------------------
typedef struct cap_writer cap_writer;

typedef struct cap_writer_options {
    const char *path;       // -w FILE
    int linktype;           // DLT of every frame written
    uint32_t snaplen;       // for the file header
    uint64_t rotate_bytes;  // -C: start the next file before one would exceed this (0: never)
    uint32_t ring_files;    // -W: at most this many files, reused in a ring (0: unlimited)
    // -G: a frame this many seconds past the start of the current file's period starts the
    // next file (0: never); the -w name is then a strftime(3) format (local time, as tcpdump)
    // for each period's file, numbered within the period with -C. Not with -W.
    uint32_t rotate_seconds;
} cap_writer_options;

// cap_writer_open creates the first file (with -W: all N files, each with a header, so a
// process that drops privileges afterwards can still write them). Names as tcpdump: PATH
// alone without -C/-W; PATH, PATH1, PATH2 … with -C only; PATH0 … PATH(N-1) with -W N.
cap_writer *cap_writer_open(const cap_writer_options *o, char *err, size_t errlen)
    __attribute__((warn_unused_result));
// cap_writer_write buffers one frame (nanosecond timestamps). false when the writer has stopped
// (now or earlier): cap_writer_error says why, the files on disk stay valid.
bool cap_writer_write(cap_writer *w, const dissect_frame *f) __attribute__((warn_unused_result));
// cap_writer_flush hands buffered records to the kernel (call about once a second).
bool cap_writer_flush(cap_writer *w) __attribute__((warn_unused_result));
const char *cap_writer_error(const cap_writer *w);    // NULL while the writer works
uint64_t cap_writer_frames(const cap_writer *w);      // records written (or buffered)
uint32_t cap_writer_files(const cap_writer *w);       // files started (rotations + 1)
const char *cap_writer_current(const cap_writer *w);  // name of the file being written
// cap_writer_close flushes and closes; false with a sentence in err when that final flush or
// close failed (not for an earlier stop, which cap_writer_error already reported).
bool cap_writer_close(cap_writer *w, char *err, size_t errlen);

// ---------------------------------------------------------------------------------------------
// Output files (outfile.c): every file tlsdiag writes goes through here, so that running as root
// in a directory others can write never writes through a planted symbolic link, hard link, FIFO
// or someone else's (or a world-writable) file. New files are created 0600 with O_EXCL and
// O_NOFOLLOW; an existing file is reused (truncated, chmod 0600) only when it is a regular file
// with one link, owned by the effective user and not world-writable; anything else is refused
// with "refusing to write PATH: <reason>; ..." in err (callers exit with status 3).
// ---------------------------------------------------------------------------------------------
// cap_output_open: a write-only descriptor (caller closes it), or -1 and a sentence in err.
int cap_output_open(const char *path, char *err, size_t errlen) __attribute__((warn_unused_result));
// cap_output_fopen: the same as a stdio stream ("wb"), or NULL and a sentence in err.
FILE *cap_output_fopen(const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));
// cap_output_check: for a file written beside path and renamed over it (rename(2) replaces a
// link, never follows it): false and the same sentence when what is at path now would be refused.
bool cap_output_check(const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

void cap_close(cap_reader *r);

#endif
