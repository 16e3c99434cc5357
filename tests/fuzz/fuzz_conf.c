// fuzz_conf.c — libFuzzer target: doctor/'s configuration tokenizers (nginx, Apache, HAProxy)
// and the nginx/Apache site finders on hostile text. Includes are kept as directives, not
// followed (a fuzzer must not read the host's files).
//
// Input: [reader u8: 0 nginx, 1 Apache, 2 HAProxy (mod 3)][configuration text].
#include <stdlib.h>
#include <string.h>

#include "doctor_internal.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f = {data, size};
    uint8_t which = fz_u8(&f) % 3;
    // an exact-size copy without a NUL: a read past the end is a sanitizer report
    char *text = malloc(f.n ? f.n : 1);
    if (!text) {
        return 0;
    }
    memcpy(text, f.p, f.n);
    static dr_conf c;
    static dr_sites sites;
    dr_conf_init(&c, "/nonexistent");
    c.no_includes = true;
    dr_node **tail = &c.root;
    dr_text_fn *fn = which == 0 ? dr_nginx_text : which == 1 ? dr_apache_text : dr_haproxy_text;
    fn(&c, "fuzz.conf", text, f.n, &tail);
    sites.n = sites.dropped = 0;
    if (which == 0) {
        dr_nginx_sites(&c, &sites);
    } else if (which == 1) {
        dr_apache_sites(&c, &sites);
    }
    dr_conf_free(&c);
    free(text);
    return 0;
}
