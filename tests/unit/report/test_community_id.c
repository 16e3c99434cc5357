// test_community_id.c — Community ID v1 against the specification's published test vectors.
//
// The vectors are the specification's baseline data, copied unchanged (one row per record):
// https://github.com/corelight/community-id-spec, baseline/baseline_deflt.json (seed 0) and
// baseline/baseline_seed1.json (seed 1), commit c4ec2bc40d65ddbcbdd642582bf5609797a80772.
// Their ICMP rows carry ports already mapped from type/code (the spec's map_icmp_to_ports), and
// their RSVP rows (protocol 46) have no ports.
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"

typedef struct vector {
    uint16_t seed;
    uint8_t proto;
    const char *saddr, *daddr;
    uint16_t sport, dport;
    bool ports;
    const char *id;
} vector;

static const vector vectors[] = {
    {0, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136, true,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {0, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135, true,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {0, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136, true,
     "1:zavyT/cezQr1fmImYCwYnMXbgck="},
    {0, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135, true,
     "1:zavyT/cezQr1fmImYCwYnMXbgck="},
    {0, 58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, true,
     "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="},
    {0, 58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, true,
     "1:hLZd0XGWojozrvxqE0dWB1iM6R0="},
    {0, 58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129, true,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
    {0, 58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128, true,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
    {0, 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, true,
     "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="},
    {0, 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, true,
     "1:pkvHqCL88/tg1k4cPigmZXUtL00="},
    {0, 1, "192.168.0.89", "192.168.0.1", 8, 0, true, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {0, 1, "192.168.0.1", "192.168.0.89", 0, 8, true, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {0, 1, "10.0.0.1", "10.0.0.2", 11, 0, true, "1:YHxtAirCG//0OzkcVAukqKQN9xM="},
    {0, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, true,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {0, 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, true,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {0, 132, "192.168.170.8", "192.168.170.56", 7, 7, true, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {0, 132, "192.168.170.56", "192.168.170.8", 7, 7, true, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {0, 6, "128.232.110.120", "66.35.250.204", 34855, 80, true, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {0, 6, "66.35.250.204", "128.232.110.120", 80, 34855, true, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {0, 17, "192.168.1.52", "8.8.8.8", 54585, 53, true, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {0, 17, "8.8.8.8", "192.168.1.52", 53, 54585, true, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {0, 46, "10.1.12.1", "10.1.12.2", 0, 0, false, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
    {0, 46, "10.1.12.2", "10.1.12.1", 0, 0, false, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
    {1, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136, true,
     "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {1, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135, true,
     "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {1, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136, true,
     "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="},
    {1, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135, true,
     "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="},
    {1, 58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, true,
     "1:lVEtCZpYu84Xqaa++3lXFyuu2n4="},
    {1, 58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, true,
     "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8="},
    {1, 58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129, true,
     "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="},
    {1, 58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128, true,
     "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="},
    {1, 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, true,
     "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8="},
    {1, 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, true,
     "1:K/ee5UCqAMAQXDorP5nSa2CGLjc="},
    {1, 1, "192.168.0.89", "192.168.0.1", 8, 0, true, "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {1, 1, "192.168.0.1", "192.168.0.89", 0, 8, true, "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {1, 1, "10.0.0.1", "10.0.0.2", 11, 0, true, "1:XjUibYHaafLQ3pxQeiMI8g25q20="},
    {1, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, true,
     "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {1, 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, true,
     "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {1, 132, "192.168.170.8", "192.168.170.56", 7, 7, true, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {1, 132, "192.168.170.56", "192.168.170.8", 7, 7, true, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {1, 6, "128.232.110.120", "66.35.250.204", 34855, 80, true, "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {1, 6, "66.35.250.204", "128.232.110.120", 80, 34855, true, "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {1, 17, "192.168.1.52", "8.8.8.8", 54585, 53, true, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {1, 17, "8.8.8.8", "192.168.1.52", 53, 54585, true, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {1, 46, "10.1.12.1", "10.1.12.2", 0, 0, false, "1:rYir8gphR31noO9iDRQmF/BteEI="},
    {1, 46, "10.1.12.2", "10.1.12.1", 0, 0, false, "1:rYir8gphR31noO9iDRQmF/BteEI="},
};

static tls_endpoint endpoint(const char *addr, uint16_t port) {
    tls_endpoint e;
    memset(&e, 0, sizeof e);
    e.port = port;
    if (inet_pton(AF_INET, addr, e.addr) == 1) {
        e.family = 4;
    } else {
        assert_int_equal(inet_pton(AF_INET6, addr, e.addr), 1);
        e.family = 6;
    }
    return e;
}

static void test_spec_vectors(void **state) {
    (void)state;
    size_t n = sizeof vectors / sizeof vectors[0];
    assert_int_equal(n, 46);  // 23 records per seed in the baseline files
    for (size_t i = 0; i < n; i++) {
        const vector *v = &vectors[i];
        tls_endpoint s = endpoint(v->saddr, v->sport), d = endpoint(v->daddr, v->dport);
        char id[REPORT_COMMUNITY_ID_LEN];
        assert_true(report_community_id(&s, &d, v->proto, v->ports, v->seed, id));
        if (strcmp(id, v->id) != 0) {
            fail_msg("vector %zu (%s -> %s, seed %u): got %s, expected %s", i, v->saddr, v->daddr,
                     v->seed, id, v->id);
        }
    }
}

// The TCP shorthand is the seed-0, with-ports form, in either direction.
static void test_tcp_shorthand(void **state) {
    (void)state;
    tls_endpoint c = endpoint("128.232.110.120", 34855), s = endpoint("66.35.250.204", 80);
    char a[REPORT_COMMUNITY_ID_LEN], b[REPORT_COMMUNITY_ID_LEN];
    assert_true(report_community_id_tcp(&c, &s, a));
    assert_true(report_community_id_tcp(&s, &c, b));
    assert_string_equal(a, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    assert_string_equal(b, a);
}

// Mixed or unknown families have no ID (and the output is the empty string, never garbage).
static void test_mixed_families(void **state) {
    (void)state;
    tls_endpoint a = endpoint("10.0.0.1", 1), b = endpoint("::1", 2), z;
    memset(&z, 0, sizeof z);
    char id[REPORT_COMMUNITY_ID_LEN] = "x";
    assert_false(report_community_id_tcp(&a, &b, id));
    assert_string_equal(id, "");
    assert_false(report_community_id_tcp(&z, &z, id));
    assert_string_equal(id, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_vectors),
        cmocka_unit_test(test_tcp_shorthand),
        cmocka_unit_test(test_mixed_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
