# field-s2ncert.bash — the negotiation and certificate causes with CloudFront's own client (s2nc under
# the CloudFront-Upstream policies) against Debian's nginx, apache2 and haproxy. Sourced by
# gen-servers.sh (sudo tests/scenarios/gen-servers.sh pcaps/field/s2ncert s2ncert); ports 47350-47399.
# Truth: pcaps/field/s2ncert/truth.tsv, written after checking each capture with tshark and the
# peers' logs (KEEP=1). What s2n does with each certificate is s2n's tls/s2n_x509_validator.c
# over OpenSSL's X509_verify_cert: no security level, so weak keys and SHA-1 signatures pass.
# shellcheck shell=bash

TLS12=CloudFront-Upstream-TLS-1-2
C2025=CloudFront-Upstream-2025

set_pki() {
    log "PKI (s2ncert)"
    # Two intermediates: root -> int -> int2 -> leaf2; the server sends int before int2.
    issue int2 int ca "tlsdiag Field Intermediate CA 2"
    issue leaf2 int2 leaf origin.example.com
    cat "$CA/int.pem" "$CA/int2.pem" >"$CA/int_then_int2.pem"
    issue leaf_future int leaf origin.example.com "2040-01-01 00:00:00" 366
    issue int_expired root ca "tlsdiag Field Expired Intermediate CA" "2020-01-01 00:00:00" 366
    issue leaf_under_expired int_expired leaf origin.example.com
    LEAF_EKU=clientAuth issue leaf_clientauth int leaf origin.example.com
    KEYGEN="-algorithm RSA -pkeyopt rsa_keygen_bits:1024" issue leaf_rsa1024 int leaf origin.example.com
    DIGEST=sha1 issue leaf_sha1 int leaf origin.example.com
    KEYGEN="-algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048" issue leaf_pss int leaf origin.example.com
    KEYGEN="-algorithm EC -pkeyopt ec_paramgen_curve:P-521" issue leaf_p521 int leaf_sigonly \
        origin.example.com
}

# --- negotiation -------------------------------------------------------------------------------
# nginx offers only secp521r1 for ECDHE, with ECDHE-only suites; CloudFront offers P-256, X25519,
# P-384.
f_group_p521() {
    PROTOS=TLSv1.2 nginx_srv "$1" leaf int "ssl_ecdh_curve secp521r1; ssl_ciphers ECDHE+AESGCM;"
    s2n "$TLS12" "$1"
}
# TLS 1.3 origin with X448 only, against CloudFront-Upstream-2025.
f_group_x448_tls13() {
    PROTOS=TLSv1.3 nginx_srv "$1" leaf int "ssl_ecdh_curve X448;"
    s2n "$C2025" "$1"
}
# An RSA-PSS key (id-RSASSA-PSS) can only sign with rsa_pss_pss_*: CloudFront-Upstream-TLS-1-2
# offers no PSS scheme (s2n's 20140601 list); the 2025 policy does.
f_sigalg_pss() { PROTOS=TLSv1.2 nginx_srv "$1" leaf_pss int; s2n "$TLS12" "$1"; }
f_sigalg_pss_2025() { PROTOS=TLSv1.2 nginx_srv "$1" leaf_pss int; s2n "$C2025" "$1"; }
# An ECDSA P-521 key: CloudFront's groups stop at P-384.
f_p521_tls12() { PROTOS=TLSv1.2 nginx_srv "$1" leaf_p521 int; s2n "$TLS12" "$1"; }
f_p521_tls13() { nginx_srv "$1" leaf_p521 int; s2n "$C2025" "$1"; }
# A TLS-1.3-only origin: CloudFront-Upstream-TLS-1-2 offers at most TLS 1.2.
f_proto_tls13only() { PROTOS=TLSv1.3 nginx_srv "$1" leaf int; s2n "$TLS12" "$1"; }

# --- certificates, TLS 1.2 ---------------------------------------------------------------------
f_misordered() { nginx_srv "$1" leaf2 int_then_int2; s2n "$TLS12" "$1"; }
f_not_yet_valid() { apache_srv "$1" leaf_future int; s2n "$TLS12" "$1"; }
f_int_expired() { haproxy_srv "$1" leaf_under_expired int_expired; s2n "$TLS12" "$1"; }
f_wrong_purpose() { nginx_srv "$1" leaf_clientauth int; s2n "$TLS12" "$1"; }
f_weak_key() { nginx_srv "$1" leaf_rsa1024 int "ssl_ciphers DEFAULT@SECLEVEL=0;"; s2n "$TLS12" "$1"; }
f_weak_key_2025() {
    nginx_srv "$1" leaf_rsa1024 int "ssl_ciphers DEFAULT@SECLEVEL=0;"
    s2n "$C2025" "$1"
}
f_weak_sig() { nginx_srv "$1" leaf_sha1 int "ssl_ciphers DEFAULT@SECLEVEL=0;"; s2n "$TLS12" "$1"; }
f_weak_sig_upstream() {
    apache_srv "$1" leaf_sha1 int "SSLCipherSuite DEFAULT@SECLEVEL=0"
    s2n CloudFront-Upstream "$1"
}
f_weak_sig_2025() {
    nginx_srv "$1" leaf_sha1 int "ssl_ciphers DEFAULT@SECLEVEL=0;"
    s2n "$C2025" "$1"
}

# --- certificates, TLS 1.3 (CloudFront-Upstream-2025): the Certificate is encrypted -----------
f_expired_tls13() { apache_srv "$1" leaf_expired int; s2n "$C2025" "$1"; }
f_untrusted_tls13() { haproxy_srv "$1" leaf_private private_root; s2n "$C2025" "$1"; }
f_wrong_purpose_tls13() { nginx_srv "$1" leaf_clientauth int; s2n "$C2025" "$1"; }

set_main() {
    scenario no_shared_group-nginx-p521-s2n 47350 f_group_p521
    scenario no_shared_group-nginx-x448-tls13-s2n-2025 47351 f_group_x448_tls13
    scenario no_shared_signature_algorithm-nginx-rsapss-s2n 47352 f_sigalg_pss
    scenario ok-nginx-rsapss-s2n-2025 47353 f_sigalg_pss_2025
    scenario cert_weak_key-nginx-p521-tls12-s2n 47354 f_p521_tls12
    scenario ok-nginx-p521-tls13-s2n-2025 47355 f_p521_tls13
    scenario protocol_version_mismatch-nginx-tls13only-s2n 47356 f_proto_tls13only
    scenario ok-nginx-misordered-chain-s2n 47357 f_misordered
    scenario cert_not_yet_valid-apache-s2n 47358 f_not_yet_valid
    scenario cert_intermediate_expired-haproxy-s2n 47359 f_int_expired
    scenario cert_wrong_purpose-nginx-s2n 47360 f_wrong_purpose
    scenario ok-nginx-rsa1024-s2n 47361 f_weak_key
    scenario ok-nginx-rsa1024-s2n-2025 47362 f_weak_key_2025
    scenario ok-nginx-sha1-s2n 47363 f_weak_sig
    scenario ok-apache-sha1-s2n-upstream 47364 f_weak_sig_upstream
    scenario ok-nginx-sha1-s2n-2025 47365 f_weak_sig_2025
    scenario cert_expired-apache-tls13-s2n-2025 47366 f_expired_tls13
    scenario cert_untrusted_ca-haproxy-tls13-s2n-2025 47367 f_untrusted_tls13
    scenario cert_wrong_purpose-nginx-tls13-s2n-2025 47368 f_wrong_purpose_tls13
}
