#!/bin/bash
# make.sh — regenerates the X.509 fixtures of the analyze/ unit tests (openssl CLI only).
#
# The generated PEMs are committed: tests must not depend on the time they were made. Valid
# certificates run 2020-01-01 … 2060-01-01; the expired ones end 2022-01-01, the not-yet-valid
# one starts 2050-01-01. Unit tests validate at 2026-01-01 (the handshake time they set).
#   root          "tlsdiag Test Root CA"     (the trust store of the tests: --ca-file root.pem)
#   inter         "tlsdiag Test Intermediate CA", signed by root
#   inter-expired the same name and key as inter, expired in 2022
#   leaf          origin.example.com (RSA 2048, serverAuth), signed by inter
#   leaf-expired / leaf-notyet / leaf-wrongname (other.example.net) / leaf-wildcard
#   (*.example.com) / leaf-cnonly (CN only, no SAN) / leaf-clientauth (EKU clientAuth only) /
#   leaf-rsa1024 / leaf-sha1 / leaf-p521 / leaf-p256: variants signed by inter
#   selfsigned    origin.example.com signed by its own key
#   privroot / privleaf  a private CA not in the store, and a leaf it signed
#   leaf-ed25519  origin.example.com, an Ed25519 key, self-signed
# Not made here (real public certificates, for the public-intermediate index, test_intermediates):
#   public-starfield-leaf  www.cviis.org, from the corpus's zeek__missing-intermediate.pcap
#   public-google-leaf / public-google-giag3  www.google.com and Google Internet Authority G3,
#                  from mercury__top_100_fingerprints.pcap (stream 0)
#   public-roots   Starfield Root Certificate Authority - G2 and GlobalSign Root CA, from
#                  Debian's ca-certificates
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = tca
[tca]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
policy = any
email_in_dn = no
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
organizationName = optional
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = \${ENV::SAN}
[v3_leaf_nosan]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_leaf_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = \${ENV::SAN}
CNF
touch "$work/index.txt"
echo 1000 >"$work/serial"
export SAN=DNS:unused

key_rsa() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$work/$1.key" 2>/dev/null; }
key_ec() { openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -out "$work/$1.key"; }
csr() { openssl req -new -key "$work/$1.key" -subj "$2" -out "$work/$1.csr"; }
# sign NAME ISSUER EXT START END [MD]
sign() {
    local selfsign=()
    if [ "$2" = "$1" ]; then selfsign=(-selfsign); fi
    openssl ca -batch -config "$work/ca.cnf" -notext "${selfsign[@]}" -in "$work/$1.csr" \
        -cert "$2.pem" -keyfile "$work/$2.key" -extensions "$3" -startdate "$4" -enddate "$5" \
        -md "${6:-sha256}" -out "$1.pem" 2>/dev/null
}
OK_FROM=20200101000000Z
OK_TO=20600101000000Z

# Keys of the CAs live only in $work: regenerating makes a new PKI.
key_rsa root 2048; csr root "/O=tlsdiag tests/CN=tlsdiag Test Root CA"
touch root.pem; sign root root v3_ca $OK_FROM $OK_TO
key_rsa inter 2048; csr inter "/O=tlsdiag tests/CN=tlsdiag Test Intermediate CA"
sign inter root v3_ca $OK_FROM $OK_TO
cp "$work/inter.csr" "$work/inter-expired.csr"
sign inter-expired root v3_ca $OK_FROM 20220101000000Z

leaf() {  # leaf NAME CN SAN EXT START END [keyfn keyarg] [md]
    local name=$1 cn=$2; export SAN=$3
    if [ "${7:-rsa}" = ec ]; then key_ec "$name" "$8"; else key_rsa "$name" "${8:-2048}"; fi
    csr "$name" "/CN=$cn"
    sign "$name" inter "$4" "$5" "$6" "${9:-sha256}"
}
leaf leaf origin.example.com DNS:origin.example.com v3_leaf $OK_FROM $OK_TO
leaf leaf-expired origin.example.com DNS:origin.example.com v3_leaf $OK_FROM 20220101000000Z
leaf leaf-notyet origin.example.com DNS:origin.example.com v3_leaf 20500101000000Z $OK_TO
leaf leaf-wrongname other.example.net DNS:other.example.net v3_leaf $OK_FROM $OK_TO
leaf leaf-wildcard "*.example.com" "DNS:*.example.com" v3_leaf $OK_FROM $OK_TO
leaf leaf-cnonly origin.example.com unused v3_leaf_nosan $OK_FROM $OK_TO
leaf leaf-clientauth origin.example.com DNS:origin.example.com v3_leaf_client $OK_FROM $OK_TO
leaf leaf-rsa1024 origin.example.com DNS:origin.example.com v3_leaf $OK_FROM $OK_TO rsa 1024
leaf leaf-sha1 origin.example.com DNS:origin.example.com v3_leaf $OK_FROM $OK_TO rsa 2048 sha1
leaf leaf-p521 origin.example.com DNS:origin.example.com v3_leaf $OK_FROM $OK_TO ec secp521r1
leaf leaf-p256 origin.example.com DNS:origin.example.com v3_leaf $OK_FROM $OK_TO ec prime256v1

# A self-signed leaf (what `openssl req -x509` makes).
export SAN=DNS:origin.example.com
key_rsa selfsigned 2048; csr selfsigned "/CN=origin.example.com"
touch selfsigned.pem; sign selfsigned selfsigned v3_leaf $OK_FROM $OK_TO

# A private CA the trust store does not hold, and a leaf it issued.
key_rsa privroot 2048; csr privroot "/O=Example Corp/CN=Example Corp Internal Root"
touch privroot.pem; sign privroot privroot v3_ca $OK_FROM $OK_TO
key_rsa privleaf 2048; csr privleaf "/CN=origin.example.com"
SAN=DNS:origin.example.com sign privleaf privroot v3_leaf $OK_FROM $OK_TO
key_rsa privinter 2048; csr privinter "/O=Example Corp/CN=Example Corp Issuing CA"
sign privinter privroot v3_ca $OK_FROM $OK_TO
key_rsa privleaf2 2048; csr privleaf2 "/CN=origin.example.com"
SAN=DNS:origin.example.com sign privleaf2 privinter v3_leaf $OK_FROM $OK_TO
# An Ed25519 self-signed leaf: no signature scheme of the CloudFront profile can use its key
# (issue 16 item 5: a refusal the wire proves). Dated by faketime like the OK_FROM leaves.
faketime '2020-01-01 00:00:00' openssl req -x509 -new -newkey ed25519 -nodes \
    -keyout "$work/leaf-ed25519.key" -subj "/CN=origin.example.com" -days 14610 \
    -addext "subjectAltName=DNS:origin.example.com" -out leaf-ed25519.pem
echo "fixtures written to $(pwd)"
