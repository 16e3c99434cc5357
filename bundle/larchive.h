// larchive.h — libarchive, loaded when a bundle is written (`tlsdiag report`), not when tlsdiag
// starts. Linked, libarchive and what it pulls in (libxml2, ICU, libstdc++, nettle, lzma, zstd,
// ...) cost every run of every command 1.1–1.4 ms in the dynamic loader before main(): a fifth
// of analyzing a small capture, and serial time no `--threads` worker can share.
#ifndef TLSDIAG_BUNDLE_LARCHIVE_H
#define TLSDIAG_BUNDLE_LARCHIVE_H

#include <stddef.h>
#include <archive.h>
#include <archive_entry.h>

// The soname of the libarchive tlsdiag is built against (Debian: libarchive13).
#define LARCHIVE_SONAME "libarchive.so.13"

// The functions bundle.c writes an archive with, libarchive's own, by the same names.
typedef struct larchive {
    const char *(*archive_version_string)(void);
    struct archive *(*archive_write_new)(void);
    int (*archive_write_add_filter_gzip)(struct archive *);
    int (*archive_write_set_format_ustar)(struct archive *);
    int (*archive_write_open_fd)(struct archive *, int);
    int (*archive_write_header)(struct archive *, struct archive_entry *);
    la_ssize_t (*archive_write_data)(struct archive *, const void *, size_t);
    int (*archive_write_close)(struct archive *);
    int (*archive_write_free)(struct archive *);
    const char *(*archive_error_string)(struct archive *);
    struct archive_entry *(*archive_entry_new)(void);
    void (*archive_entry_free)(struct archive_entry *);
    void (*archive_entry_set_pathname)(struct archive_entry *, const char *);
    void (*archive_entry_set_size)(struct archive_entry *, la_int64_t);
    void (*archive_entry_set_filetype)(struct archive_entry *, unsigned int);
    void (*archive_entry_set_perm)(struct archive_entry *, __LA_MODE_T);
    void (*archive_entry_set_mtime)(struct archive_entry *, time_t, long);
} larchive;

// larchive_get: libarchive's functions, loaded on the first call (one thread: bundle_write); NULL
// with err set to what failed (the library or one of its functions missing) otherwise.
const larchive *larchive_get(char *err, size_t errlen);

#endif
