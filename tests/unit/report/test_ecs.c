// test_ecs.c — report/ecs.c: ECS events from a verdict and from a host-side check (the entry
// `tlsdiag doctor` calls), parsed back with jansson; every field outside tlsdiag.* must be a row
// of tests/data/ecs/fields.tsv (the committed subset of the ECS field reference).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "report.h"

static json_t *render(report_format fmt, const verdict *v, const report_ecs_check_event *check) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    report_options o = {.format = fmt, .out = f};
    report *r = report_new(&o);
    assert_non_null(r);
    assert_true(v ? report_verdict(r, v) : report_ecs_check(r, check));
    assert_false(report_write_failed(r));
    report_free(r);
    assert_int_equal(fclose(f), 0);
    assert_non_null(memchr(buf, '\n', len));
    assert_null(memchr(buf, '\n', len - 1));  // one line
    json_error_t err;
    json_t *j = json_loadb(buf, len, 0, &err);
    if (j == NULL) {
        fail_msg("invalid JSON (%s): %s", err.text, buf);
    }
    free(buf);
    return j;
}

// get: the value at a dotted path ("tls.client.server_name"), NULL when absent.
static json_t *get(json_t *o, const char *path) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && o;
         k = strtok_r(NULL, ".", &save)) {
        o = json_object_get(o, k);
    }
    return o;
}

static const char *str(json_t *o, const char *path) {
    json_t *v = get(o, path);
    if (!json_is_string(v)) {
        fail_msg("%s is not a string", path);
    }
    return json_string_value(v);
}

// check_fields: every leaf outside tlsdiag.* is a field of the ECS subset.
static void check_fields(json_t *o, const char *prefix, const char *tsv) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        char path[160];
        snprintf(path, sizeof path, "%s%s", prefix, k);
        if (strcmp(path, "tlsdiag") == 0) {
            continue;
        }
        if (json_is_object(v)) {
            char sub[170];
            snprintf(sub, sizeof sub, "%s.", path);
            check_fields(v, sub, tsv);
            continue;
        }
        char row[170];
        snprintf(row, sizeof row, "\n%s\t", path);
        if (strstr(tsv, row) == NULL) {
            fail_msg("%s is not in tests/data/ecs/fields.tsv", path);
        }
    }
}

static char *read_tsv(void) {
    FILE *f = fopen(TLSDIAG_SOURCE_DIR "/tests/data/ecs/fields.tsv", "r");
    assert_non_null(f);
    static char buf[16384];
    buf[0] = '\n';
    size_t n = fread(buf + 1, 1, sizeof buf - 2, f);
    buf[n + 1] = '\0';
    fclose(f);
    return buf;
}

static void test_check_event(void **state) {
    (void)state;
    tls_endpoint server = {.family = 6, .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, .port = 8443};
    const char *evidence[] = {"ssl_certificate /etc/nginx/cert.pem holds the leaf only"};
    const char *fix[] = {"ssl_certificate /etc/nginx/fullchain.pem;", "nginx -s reload"};
    report_ecs_check_event c = {
        .ts_ns = 1795722005000000000,
        .failed = true,
        .cause = "cert_missing_intermediate",
        .message = "the origin serves its leaf without the intermediate",
        .config_file = "/etc/nginx/sites-enabled/origin",
        .config_line = 12,
        .server = &server,
        .server_name = "origin.example.com",
        .evidence = evidence,
        .num_evidence = 1,
        .fix = fix,
        .num_fix = 2,
    };
    json_t *j = render(REPORT_ECS, NULL, &c);
    check_fields(j, "", read_tsv());
    assert_string_equal(str(j, "@timestamp"), "2026-11-26T19:40:05.000000Z");
    assert_string_equal(str(j, "event.kind"), "event");
    assert_string_equal(str(j, "event.dataset"), "tlsdiag.doctor");
    assert_string_equal(json_string_value(json_array_get(get(j, "event.category"), 0)),
                        "configuration");
    assert_string_equal(json_string_value(json_array_get(get(j, "event.type"), 0)), "info");
    assert_string_equal(str(j, "event.outcome"), "failure");
    assert_string_equal(str(j, "event.reason"), "cert_missing_intermediate");
    assert_string_equal(str(j, "error.message"), c.message);
    assert_string_equal(str(j, "file.path"), "/etc/nginx/sites-enabled/origin");
    assert_string_equal(str(j, "destination.ip"), "2001:db8::1");
    assert_int_equal(json_integer_value(get(j, "destination.port")), 8443);
    assert_string_equal(str(j, "tls.client.server_name"), "origin.example.com");
    assert_int_equal(json_integer_value(get(j, "tlsdiag.config_line")), 12);
    assert_string_equal(json_string_value(json_array_get(get(j, "tlsdiag.fix"), 1)),
                        "nginx -s reload");
    json_decref(j);

    // A check that passed: success, no error object, nothing for what was not given.
    report_ecs_check_event okc = {.ts_ns = 1, .cause = "ok", .message = "chain complete"};
    j = render(REPORT_ECS, NULL, &okc);
    assert_string_equal(str(j, "event.outcome"), "success");
    assert_null(get(j, "error"));
    assert_null(get(j, "file"));
    assert_null(get(j, "destination"));
    json_decref(j);
}

// A hostile SNI stays valid JSON; SSLv3 is ECS "3.0"/"ssl"; the leaf hash is upper-case hex.
static void test_verdict_event(void **state) {
    (void)state;
    verdict *v = calloc(1, sizeof *v);
    assert_non_null(v);
    v->client = (tls_endpoint){.family = 4, .addr = {15, 158, 1, 2}, .port = 40000};
    v->server = (tls_endpoint){.family = 4, .addr = {203, 0, 113, 9}, .port = 443};
    v->has_sni = true;
    memcpy(v->sni, "evil\n\xff.example", 14);
    v->sni_len = 14;
    v->version = 0x0300;
    v->outcome = OUTCOME_FAILED;
    v->cause = CAUSE_CERT_EXPIRED;
    v->num_certs = 1;
    snprintf(v->certs[0].sha256, sizeof v->certs[0].sha256, "%064d", 0);
    v->certs[0].sha256[63] = 'a';
    snprintf(v->certs[0].serial, sizeof v->certs[0].serial, "0a1b");
    v->certs[0].not_after = 1609459200;
    json_t *j = render(REPORT_ECS, v, NULL);
    check_fields(j, "", read_tsv());
    assert_string_equal(str(j, "tls.client.server_name"), "evil\n\\xff.example");
    assert_string_equal(str(j, "tls.version"), "3.0");
    assert_string_equal(str(j, "tls.version_protocol"), "ssl");
    assert_true(json_is_false(get(j, "tls.established")));
    assert_string_equal(str(j, "tls.server.hash.sha256"),
                        "000000000000000000000000000000000000000000000000000000000000000A");
    assert_string_equal(str(j, "tls.server.x509.serial_number"), "0A1B");
    assert_string_equal(str(j, "tls.server.x509.not_after"), "2021-01-01T00:00:00Z");
    assert_string_equal(str(j, "source.ip"), "15.158.1.2");
    assert_string_equal(str(j, "destination.ip"), "203.0.113.9");
    assert_string_equal(str(j, "network.community_id"), "1:hH0/JnQoLpoPz2vkpCoNfS0ahlI=");
    assert_string_equal(str(j, "event.outcome"), "failure");
    assert_string_equal(str(j, "tlsdiag.cause"), "cert_expired");
    json_decref(j);
    v->version = 0x7f17;  // a draft: no ECS spelling, so left out
    v->outcome = OUTCOME_INCOMPLETE;
    j = render(REPORT_ECS, v, NULL);
    assert_null(get(j, "tls.version"));
    assert_string_equal(str(j, "event.outcome"), "unknown");
    json_decref(j);
    free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_event),
        cmocka_unit_test(test_verdict_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
