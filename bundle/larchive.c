// larchive.c — libarchive through dlopen (larchive.h says why).
#include "larchive.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static larchive fns;
static int loaded;  // 0: not tried, 1: fns holds every function, -1: failed (err kept)
static char failure[256];

const larchive *larchive_get(char *err, size_t errlen) {
    if (loaded == 0) {
        loaded = -1;
        void *h = dlopen(LARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (h == NULL) {
            const char *why = dlerror();
            snprintf(failure, sizeof failure,
                     "cannot load %s (Debian package libarchive13) to write the archive: %s",
                     LARCHIVE_SONAME, why ? why : "unknown error");
        } else {
            // Each entry is looked up by its own name; a missing one is named.
            struct {
                const char *name;
                void **slot;
            } want[] = {
#define LA_FN(f) {#f, (void **)&fns.f}
                LA_FN(archive_version_string),
                LA_FN(archive_write_new),
                LA_FN(archive_write_add_filter_gzip),
                LA_FN(archive_write_set_format_ustar),
                LA_FN(archive_write_open_fd),
                LA_FN(archive_write_header),
                LA_FN(archive_write_data),
                LA_FN(archive_write_close),
                LA_FN(archive_write_free),
                LA_FN(archive_error_string),
                LA_FN(archive_entry_new),
                LA_FN(archive_entry_free),
                LA_FN(archive_entry_set_pathname),
                LA_FN(archive_entry_set_size),
                LA_FN(archive_entry_set_filetype),
                LA_FN(archive_entry_set_perm),
                LA_FN(archive_entry_set_mtime),
#undef LA_FN
            };
            loaded = 1;
            for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
                void *p = dlsym(h, want[i].name);
                if (p == NULL) {
                    snprintf(failure, sizeof failure, "%s has no %s: cannot write the archive",
                             LARCHIVE_SONAME, want[i].name);
                    loaded = -1;
                    break;
                }
                memcpy(want[i].slot, &p, sizeof p);  // (a data pointer to a function pointer)
            }
            if (loaded < 0) {
                dlclose(h);
            }
        }
    }
    if (loaded < 0) {
        snprintf(err, errlen, "%s", failure);
        return NULL;
    }
    return &fns;
}
