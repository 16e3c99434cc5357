#!/usr/bin/env bash
# build-pq-peers.sh AWSLC_SRC OUTDIR — build s2n-tls's s2nc and s2nd against AWS-LC, whose
# libcrypto has ML-KEM, so that the CloudFront-Upstream-*-2025-PQ policies really offer
# X25519MLKEM768, SecP256r1MLKEM768 and SecP384r1MLKEM1024 (against Debian 12's OpenSSL 3.0,
# s2n silently drops those groups). Used by tests/scenarios/field-pq.bash (the `pq` set);
# prints the directory that holds OUTDIR/s2nc and OUTDIR/s2nd.
#
# AWSLC_SRC: an AWS-LC source tree (github.com/aws/aws-lc; the pq set was made from commit
# 3bda7ba, 2026-08-21). s2n-tls comes from ../shared/vendor/s2n-tls-8cbf81a.tar.gz, as in
# ../shared/tools/build-s2nc.sh. Needs cmake, ninja-build, gcc, perl (no Go). Nothing of
# AWS-LC goes into this repository. Reuses OUTDIR/s2nc and OUTDIR/s2nd when present.
# Check:  OUTDIR/s2nd -c CloudFront-Upstream-2025-PQ --cert C --key K 127.0.0.1 8443 &
#         OUTDIR/s2nc -c CloudFront-Upstream-2025-PQ -i 127.0.0.1 8443  # "KEM Group: X25519MLKEM768"
set -euo pipefail
if [[ $# -ne 2 ]]; then
    echo "usage: $0 AWSLC_SRC OUTDIR" >&2
    exit 2
fi
SRC=$(cd "$1" && pwd)
OUT=$(mkdir -p "$2" && cd "$2" && pwd)
[[ -x $OUT/s2nc && -x $OUT/s2nd ]] && { echo "$OUT"; exit 0; }
HERE=$(cd "$(dirname "$0")" && pwd)
TAR=$(cd "$HERE/../../../shared/vendor" && pwd)/s2n-tls-8cbf81a.tar.gz
JOBS=${JOBS:-2}

# AWS-LC: libcrypto only (s2n needs no libssl), static, without Go and tests.
cmake -S "$SRC" -B "$OUT/aws-lc-build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDISABLE_GO=ON \
    -DBUILD_TESTING=OFF -DBUILD_LIBSSL=OFF -DBUILD_TOOL=OFF -DBUILD_SHARED_LIBS=OFF \
    -DENABLE_SOURCE_MODIFICATION=OFF -DCMAKE_INSTALL_PREFIX="$OUT/aws-lc-install" \
    >"$OUT/aws-lc-cmake.log" 2>&1
ninja -C "$OUT/aws-lc-build" -j"$JOBS" install >"$OUT/aws-lc-build.log" 2>&1

# s2n-tls against it: the library through CMake (its feature probes find ML-KEM in AWS-LC),
# then s2nc and s2nd linked directly (CMake defines them only with BUILD_TESTING=ON).
S2N="$OUT/s2n-tls"
rm -rf "$S2N"
mkdir -p "$S2N"
tar -xzf "$TAR" -C "$S2N"
cmake -S "$S2N" -B "$OUT/s2n-build" -G Ninja -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF -DCMAKE_PREFIX_PATH="$OUT/aws-lc-install" >"$OUT/s2n-cmake.log" 2>&1
ninja -C "$OUT/s2n-build" -j"$JOBS" s2n >"$OUT/s2n-build.log" 2>&1
for b in s2nc s2nd; do
    gcc -O1 -std=gnu99 -o "$OUT/$b" "$S2N"/bin/{"$b",echo,https,common}.c \
        -I"$S2N/api" -I"$S2N/bin" -I"$S2N" -I"$OUT/aws-lc-install/include" \
        "$OUT/s2n-build/lib/libs2n.a" "$OUT/aws-lc-install/lib/libcrypto.a" -lpthread -lm -ldl
done
echo "$OUT"
