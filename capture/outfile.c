// outfile.c — creating output files as root without writing through planted links or files.
//
// tlsdiag runs as root in directories others may write to (/tmp, /var/tmp, a shared incident
// folder). Anyone there can plant, at the path we are told to write, a symbolic link to
// /etc/shadow, a hard link to it, a FIFO, or a world-writable file of their own that they keep
// open to read what we write. One policy for every file tlsdiag writes (capture -w and its ring
// files, probe -w, --save-chain, report -o):
//   - a new file is created with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600: nothing at the path is
//     followed or reused;
//   - an existing file is reused (truncated, set to 0600) only when it is a regular file with
//     one link, owned by us and not writable by others — that is our own earlier output;
//   - everything else is refused with a sentence naming the path and the reason.
// The checks run on the opened descriptor (fstat), not on the name, so swapping the path between
// check and use gains nothing. Only the last path component is protected: the directories are the
// caller's choice.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"

enum { OUT_RETRIES = 4 };  // create/open races with someone deleting or re-creating the path

static const char OUT_LINK[] = "it is a symbolic link (tlsdiag never writes through a link)";

// out_refusal: why an existing file must not be written, or NULL when it is ours to reuse.
static const char *out_refusal(const struct stat *st) {
    if (S_ISLNK(st->st_mode)) {
        return OUT_LINK;
    }
    if (!S_ISREG(st->st_mode)) {
        return "it exists and is not a regular file";
    }
    if (st->st_uid != geteuid()) {
        return "it exists and belongs to another user";
    }
    if (st->st_mode & S_IWOTH) {
        return "it exists and is writable by every user";
    }
    if (st->st_nlink != 1) {
        return "it exists and has other hard links";
    }
    return NULL;
}

static int out_refuse(const char *path, const char *why, char *err, size_t errlen) {
    snprintf(err, errlen, "refusing to write %s: %s; remove it or choose another path", path, why);
    return -1;
}

int cap_output_open(const char *path, char *err, size_t errlen) {
    for (int attempt = 0; attempt < OUT_RETRIES; attempt++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd >= 0) {
            return fd;
        }
        if (errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return -1;
        }
        // Something is there. O_NONBLOCK: a planted FIFO must not hang us before fstat says so.
        fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            if (errno == ENOENT) {
                continue;  // deleted meanwhile: create it again
            }
            if (errno == ELOOP) {
                return out_refuse(path, OUT_LINK, err, errlen);
            }
            if (errno == ENXIO || errno == EISDIR) {
                return out_refuse(path, "it exists and is not a regular file", err, errlen);
            }
            snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
            return -1;
        }
        struct stat st;
        const char *why = fstat(fd, &st) != 0 ? strerror(errno) : out_refusal(&st);
        if (why) {
            close(fd);
            return out_refuse(path, why, err, errlen);
        }
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 || fchmod(fd, 0600) != 0 ||
            ftruncate(fd, 0) != 0) {
            snprintf(err, errlen, "cannot reuse %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        return fd;
    }
    snprintf(err, errlen, "cannot create %s: it keeps appearing and disappearing", path);
    return -1;
}

bool cap_output_check(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        return true;  // nothing there (or unreadable: the rename will say)
    }
    const char *why = out_refusal(&st);
    if (why) {
        out_refuse(path, why, err, errlen);
        return false;
    }
    return true;
}

FILE *cap_output_fopen(const char *path, char *err, size_t errlen) {
    int fd = cap_output_open(path, err, errlen);
    if (fd < 0) {
        return NULL;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}
