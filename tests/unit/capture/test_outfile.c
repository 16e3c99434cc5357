// test_outfile.c — cap_output_open/cap_output_check: what tlsdiag refuses to write through as
// root (FIFO, directory, symbolic link even to nothing, hard link, world-writable file) and what
// it reuses (its own earlier output, then 0600 and empty). tests/scripts/test_output_files.sh
// runs the same policy through every writer of the binary.
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture.h"

static char dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tlsdiag-out.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/%s", dir, name);
}

// refused: both entry points refuse path, naming it and giving `why`.
static void refused(const char *path, const char *why) {
    char err[512] = "", want[512];
    snprintf(want, sizeof want, "refusing to write %s: %s", path, why);
    assert_int_equal(cap_output_open(path, err, sizeof err), -1);
    assert_non_null(strstr(err, want));
    err[0] = '\0';
    assert_false(cap_output_check(path, err, sizeof err));
    assert_non_null(strstr(err, want));
}

static void test_refusals(void **state) {
    (void)state;
    char p[128], victim[128];
    path_of(p, sizeof p, "fifo");
    assert_int_equal(mkfifo(p, 0666), 0);
    refused(p, "it exists and is not a regular file");  // and does not block on the FIFO
    path_of(p, sizeof p, "subdir");
    assert_int_equal(mkdir(p, 0700), 0);
    refused(p, "it exists and is not a regular file");
    path_of(p, sizeof p, "dangling");
    assert_int_equal(symlink("/nonexistent/tlsdiag-victim", p), 0);
    refused(p, "it is a symbolic link");  // O_CREAT would have created the target
    assert_int_equal(access("/nonexistent/tlsdiag-victim", F_OK), -1);
    path_of(victim, sizeof victim, "victim");
    FILE *f = fopen(victim, "w");
    assert_non_null(f);
    fputs("VICTIM", f);
    fclose(f);
    path_of(p, sizeof p, "hardlink");
    assert_int_equal(link(victim, p), 0);
    refused(p, "it exists and has other hard links");
    path_of(p, sizeof p, "open");
    f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(chmod(p, 0646), 0);
    refused(p, "it exists and is writable by every user");
    struct stat st;
    assert_int_equal(stat(victim, &st), 0);
    assert_int_equal(st.st_size, 6);
}

static void test_create_and_reuse(void **state) {
    (void)state;
    char p[128], err[256] = "";
    path_of(p, sizeof p, "new.pcap");
    mode_t old = umask(0);
    assert_true(cap_output_check(p, err, sizeof err));  // nothing there yet
    int fd = cap_output_open(p, err, sizeof err);
    umask(old);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    // Our own earlier output, made readable by others since: reused, emptied, 0600 again.
    assert_int_equal(chmod(p, 0644), 0);
    assert_true(cap_output_check(p, err, sizeof err));
    FILE *f = cap_output_fopen(p, err, sizeof err);
    assert_non_null(f);
    fclose(f);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 0);
    // A directory that does not exist: an ordinary error, naming the path.
    path_of(p, sizeof p, "missing/x.pcap");
    assert_int_equal(cap_output_open(p, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create"));
    assert_non_null(strstr(err, p));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_create_and_reuse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
