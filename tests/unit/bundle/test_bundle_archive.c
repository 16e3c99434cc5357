// test_bundle_archive.c — bundle_write end to end, read back with libarchive: members, choice,
// damaged input, and no partial archive on failure.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
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

#include "bundle.h"

#define PCAP(name) TLSDIAG_SOURCE_DIR "/pcaps/" name
#define CA TLSDIAG_SOURCE_DIR "/pcaps/ca/root.pem"

typedef struct member {
    char name[64];
    char *data;
    size_t len;
} member;

typedef struct members {
    member m[64];
    size_t n;
} members;

static void read_members(const char *path, members *out) {
    memset(out, 0, sizeof *out);
    struct archive *a = archive_read_new();
    assert_non_null(a);
    assert_int_equal(archive_read_support_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
    assert_int_equal(archive_read_open_filename(a, path, 16384), ARCHIVE_OK);
    struct archive_entry *e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK && out->n < 64) {
        member *m = &out->m[out->n++];
        snprintf(m->name, sizeof m->name, "%s", archive_entry_pathname(e));
        la_int64_t size = archive_entry_size(e);
        m->data = calloc(1, (size_t)size + 1);
        assert_non_null(m->data);
        assert_int_equal(archive_read_data(a, m->data, (size_t)size), size);
        m->len = (size_t)size;
    }
    assert_int_equal(archive_read_free(a), ARCHIVE_OK);
}

static const member *find(const members *ms, const char *name) {
    for (size_t i = 0; i < ms->n; i++) {
        if (strcmp(ms->m[i].name, name) == 0) {
            return &ms->m[i];
        }
    }
    return NULL;
}

static void free_members(members *ms) {
    for (size_t i = 0; i < ms->n; i++) {
        free(ms->m[i].data);
    }
}

static size_t count(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) {
        n++;
    }
    return n;
}

static char tmpdir[] = "/tmp/tlsdiag-bundle-test.XXXXXX";

static int setup(void **state) {
    (void)state;
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void opts(bundle_options *o, const char *out, const char *const *in, size_t n) {
    memset(o, 0, sizeof *o);
    o->out_path = out;
    o->inputs = in;
    o->num_inputs = n;
    o->ca_file = CA;
    o->command_line = "tlsdiag report (unit test)";
}

// Every member is present and says what it should.
static void test_members(void **state) {
    (void)state;
    char out[256];
    snprintf(out, sizeof out, "%s/members.tar.gz", tmpdir);
    const char *in[] = {PCAP("cert_expired.pcap"), PCAP("mixed.pcap")};
    bundle_options o;
    opts(&o, out, in, 2);
    bundle_result res;
    char err[512];
    assert_int_equal(bundle_write(&o, &res, err, sizeof err), 1);  // failures found
    assert_int_equal(res.connections, 5);
    assert_int_equal(res.chosen, 4);
    members ms;
    read_members(out, &ms);
    const char *names[] = {"report.html",   "report.md",       "findings.json",
                           "evidence.pcap", "environment.txt", "chain-1.pem"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const member *m = find(&ms, names[i]);
        assert_non_null(m);
        assert_true(m->len > 0);
    }
    const member *html = find(&ms, "report.html");
    assert_non_null(strstr(html->data, "<svg class=\"ladder\""));
    assert_non_null(strstr(html->data, "class=\"arrow alert break\""));  // the client's alert
    assert_null(strstr(html->data, "<script"));
    assert_null(strstr(html->data, "http://example"));
    assert_int_equal(count(find(&ms, "findings.json")->data, "\"type\":\"handshake\""), 4);
    assert_int_equal(count(find(&ms, "findings.json")->data, "\"type\":\"summary\""), 1);
    const member *pem = find(&ms, "chain-1.pem");
    assert_int_equal(strncmp(pem->data, "-----BEGIN CERTIFICATE-----\n", 28), 0);
    const member *pcap = find(&ms, "evidence.pcap");
    uint32_t magic;
    memcpy(&magic, pcap->data, 4);
    assert_int_equal(magic, 0xa1b23c4d);
    assert_int_equal(res.evidence_packets, 24);
    const member *env = find(&ms, "environment.txt");
    assert_non_null(strstr(env->data, "tool: tlsdiag "));
    assert_non_null(strstr(env->data, "prefix list: embedded "));
    assert_non_null(strstr(env->data, "trust store: "));
    assert_non_null(strstr(env->data, "command line: tlsdiag report (unit test)"));
    assert_non_null(strstr(env->data, "capture time range: 2026-"));
    assert_non_null(strstr(env->data, "damaged input: none"));
    free_members(&ms);
}

// Every distinct cause first: a new cause replaces a second connection of a shown cause.
static void test_choice(void **state) {
    (void)state;
    char out[256];
    snprintf(out, sizeof out, "%s/choice.tar.gz", tmpdir);
    const char *in[] = {PCAP("cert_expired.pcap"), PCAP("cert_missing_intermediate.pcap"),
                        PCAP("cert_missing_intermediate-tls13.pcap"), PCAP("mixed.pcap")};
    bundle_options o;
    opts(&o, out, in, 4);
    o.max_connections = 3;
    bundle_result res;
    char err[512];
    assert_int_equal(bundle_write(&o, &res, err, sizeof err), 1);
    assert_int_equal(res.chosen, 3);
    members ms;
    read_members(out, &ms);
    const char *js = find(&ms, "findings.json")->data;
    assert_int_equal(count(js, "\"type\":\"handshake\""), 3);
    // in time order: cert_expired, cert_missing_intermediate, mixed (ok,
    // cert_missing_intermediate, connection_refused, server_reset), the TLS 1.3 one last
    assert_non_null(strstr(js, "\"cause\":\"cert_expired\""));
    assert_non_null(strstr(js, "\"cause\":\"connection_refused\""));
    const char *ladder = find(&ms, "report.md")->data;
    assert_int_equal(count(ladder, "### Connection "), 3);
    assert_int_equal(count(ladder, "`cert_missing_intermediate` (failed)"), 1);
    free_members(&ms);
}

// The limits reach the bundle's dissector (pipeline_limits): with 200 bytes buffered per flow
// the chains of mixed.pcap are cut short, so the failures they caused become capture_incomplete
// (as `analyze --max-flow-bytes 200` says); without the limit they are certificate causes.
static void test_limits(void **state) {
    (void)state;
    char out[256];
    snprintf(out, sizeof out, "%s/limits.tar.gz", tmpdir);
    const char *in[] = {PCAP("mixed.pcap")};
    bundle_options o;
    opts(&o, out, in, 1);
    o.limits.max_flow_bytes = 200;
    bundle_result res;
    char err[512];
    assert_int_equal(bundle_write(&o, &res, err, sizeof err), 1);
    members ms;
    read_members(out, &ms);
    const char *js = find(&ms, "findings.json")->data;
    assert_int_equal(count(js, "\"cause\":\"capture_incomplete\""), 2);
    assert_null(strstr(js, "\"cause\":\"cert_missing_intermediate\""));
    free_members(&ms);

    o.limits.max_flow_bytes = 0;  // the default: the chains are whole
    assert_int_equal(bundle_write(&o, &res, err, sizeof err), 1);
    read_members(out, &ms);
    js = find(&ms, "findings.json")->data;
    assert_int_equal(count(js, "\"cause\":\"capture_incomplete\""), 0);
    assert_non_null(strstr(js, "\"cause\":\"cert_missing_intermediate\""));
    free_members(&ms);
}

// A truncated capture: a complete bundle that names the damage (exit 3).
static void test_damaged(void **state) {
    (void)state;
    char bad[256], out[256];
    snprintf(bad, sizeof bad, "%s/damaged.pcap", tmpdir);
    snprintf(out, sizeof out, "%s/damaged.tar.gz", tmpdir);
    FILE *f = fopen(PCAP("mixed.pcap"), "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(n > 4000);
    f = fopen(bad, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n - 30, f), n - 30);  // cut inside the last record
    assert_int_equal(fclose(f), 0);
    const char *in[] = {bad};
    bundle_options o;
    opts(&o, out, in, 1);
    bundle_result res;
    char err[512];
    assert_int_equal(bundle_write(&o, &res, err, sizeof err), 3);
    assert_int_equal(res.input_errors, 1);
    assert_non_null(strstr(err, "damaged.pcap"));
    members ms;
    read_members(out, &ms);
    assert_non_null(find(&ms, "evidence.pcap"));
    assert_non_null(find(&ms, "report.md"));
    const char *env = find(&ms, "environment.txt")->data;
    assert_non_null(strstr(env, "damaged input: "));
    assert_non_null(strstr(env, "damaged.pcap: frame "));
    assert_non_null(strstr(find(&ms, "report.html")->data, "id=\"damage\""));
    assert_non_null(strstr(find(&ms, "report.md")->data, "**Damaged input:**"));
    assert_non_null(strstr(find(&ms, "findings.json")->data, "\"type\":\"error\""));
    free_members(&ms);
}

static size_t leftovers(void) {
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        n += strstr(e->d_name, ".tmp.") != NULL;
    }
    closedir(d);
    return n;
}

// Failures leave nothing behind: no archive, no temporary file.
static void test_no_partial_archive(void **state) {
    (void)state;
    char out[256];
    // the target is a directory: refused before any work (cap_output_check), input error
    snprintf(out, sizeof out, "%s/adir", tmpdir);
    assert_int_equal(mkdir(out, 0700), 0);
    const char *in[] = {PCAP("cert_expired.pcap")};
    bundle_options o;
    opts(&o, out, in, 1);
    bundle_result res;
    char err[512];
    assert_int_equal(bundle_write(&o, &res, err, sizeof err), 3);
    assert_non_null(strstr(err, "adir: it exists and is not a regular file"));
    assert_int_equal(leftovers(), 0);
    // not a capture at all: input error, no archive
    char notpcap[256];
    snprintf(notpcap, sizeof notpcap, "%s/notes.txt", tmpdir);
    FILE *f = fopen(notpcap, "w");
    assert_non_null(f);
    fputs("this is not a capture\n", f);
    fclose(f);
    snprintf(out, sizeof out, "%s/none.tar.gz", tmpdir);
    const char *in2[] = {notpcap};
    opts(&o, out, in2, 1);
    assert_int_equal(bundle_write(&o, &res, err, sizeof err), 3);
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0);
    assert_int_equal(leftovers(), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_choice),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_no_partial_archive),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
