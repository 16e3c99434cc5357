#!/usr/bin/env bash
# test_output_files.sh TLSDIAG SRCDIR — every file tlsdiag writes as root (capture -w and its
# -C/-W ring, probe -w, probe --save-chain, report -o) refuses a planted symbolic link (its
# victim stays intact), someone else's file and a world-writable file at the path (exit 3, a
# message naming the path and the reason), creates new files 0600 even under umask 0, and reuses
# its own earlier output (truncated, made 0600). Runs as root (CI does): the other user's file
# needs chown, capture needs a raw socket.
set -euo pipefail
BIN=$1
SRC=$2
WORK=$(mktemp -d /tmp/tlsdiag-out.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAILS=0
fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}
[[ $(id -u) == 0 ]] || { echo "FAIL: run as root (chown, live capture)" >&2; exit 1; }
for tool in openssl ss timeout; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed" >&2; exit 1; }
done
umask 0  # 0600 must come from tlsdiag, not from the umask
chmod 1777 "$WORK"  # like /tmp: anyone may plant files here

# A TLS server for probe --save-chain (a self-signed leaf is still a chain to save).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/k.pem" -out "$WORK/c.pem" -days 2 \
    -subj /CN=origin.example.com >/dev/null 2>&1
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
timeout 300 openssl s_server -accept "127.0.0.1:$PORT" -quiet -cert "$WORK/c.pem" -key "$WORK/k.pem" \
    >/dev/null 2>&1 </dev/null &
PIDS+=($!)
for _ in $(seq 100); do
    ss -ltn | grep -q "127.0.0.1:$PORT " && break
    sleep 0.1
done

# run_writer KIND PATH — the command that writes PATH; stderr in $WORK/err, status in RC.
run_writer() {
    local kind=$1 path=$2
    local -a cmd
    case $kind in
        report) cmd=("$BIN" report -o "$path" "$SRC/pcaps/cert_expired.pcap") ;;
        probe-w) cmd=("$BIN" probe --no-capture -w "$path" --connect 127.0.0.1 "origin.example.com:$PORT") ;;
        save-chain) cmd=("$BIN" probe --no-capture --save-chain "$path" --connect 127.0.0.1 "origin.example.com:$PORT") ;;
        capture) cmd=("$BIN" capture -i lo -p 1 --duration 1 -w "$path") ;;
        ring) cmd=("$BIN" capture -i lo -p 1 --duration 1 -C 1 -W 3 -w "${path%1}") ;;
    esac
    RC=0
    timeout 60 "${cmd[@]}" >/dev/null 2>"$WORK/err" </dev/null || RC=$?
}

# refused KIND PATH WHY — the writer exits 3 with "refusing to write PATH: WHY".
refused() {
    run_writer "$1" "$2"
    [[ $RC == 3 ]] || fail "$1: $3: exit $RC, want 3: $(cat "$WORK/err")"
    grep -qF "refusing to write $2: $3" "$WORK/err" || fail "$1: $3: $(cat "$WORK/err")"
}

# The ring's middle file (PATH1 of PATH0..PATH2) is the one planted: files are opened up front.
for kind in report probe-w save-chain capture ring; do
    d=$WORK/$kind
    mkdir -m 1777 "$d"
    out=$d/out1
    echo "VICTIM" >"$d/victim"
    chmod 0644 "$d/victim"

    # 1. a symbolic link to a victim file: refused, the victim untouched
    ln -s "$d/victim" "$out"
    refused "$kind" "$out" "it is a symbolic link"
    [[ $(cat "$d/victim") == VICTIM && $(stat -c %a "$d/victim") == 644 ]] ||
        fail "$kind: symlink: the victim was written through"
    [[ -L $out ]] || fail "$kind: symlink: the link was replaced"
    rm -f "$out"

    # 2. a file of another user (as if they pre-created it to read what we write): refused
    echo "THEIRS" >"$out"
    chmod 0644 "$out"
    chown 65534:65534 "$out"
    refused "$kind" "$out" "it exists and belongs to another user"
    [[ $(cat "$out") == THEIRS ]] || fail "$kind: other user's file was overwritten"
    rm -f "$out"

    # 3. a world-writable file, even our own: refused
    echo "OPEN" >"$out"
    chmod 0666 "$out"
    refused "$kind" "$out" "it exists and is writable by every user"
    [[ $(cat "$out") == OPEN ]] || fail "$kind: world-writable file was overwritten"
    rm -f "$out"

    # 4. a hard link to the victim: refused
    ln "$d/victim" "$out"
    refused "$kind" "$out" "it exists and has other hard links"
    [[ $(cat "$d/victim") == VICTIM ]] || fail "$kind: hard link: the victim was overwritten"
    rm -f "$out"

    # 5. a new file: created 0600 under umask 0
    run_writer "$kind" "$out"
    [[ $RC == 0 || $RC == 1 ]] || fail "$kind: new file: exit $RC: $(cat "$WORK/err")"
    [[ -f $out && $(stat -c %a "$out") == 600 ]] || fail "$kind: new file: mode $(stat -c %a "$out" 2>&1)"
    [[ -s $out ]] || fail "$kind: new file is empty"

    # 6. our own earlier output (here 0644): reused, truncated and made 0600
    chmod 0644 "$out"
    run_writer "$kind" "$out"
    [[ $RC == 0 || $RC == 1 ]] || fail "$kind: own file: exit $RC: $(cat "$WORK/err")"
    [[ $(stat -c %a "$out") == 600 ]] || fail "$kind: own file: mode $(stat -c %a "$out") after reuse"
    echo "ok: $kind"
done

# The ring's other files are 0600 as well.
for f in "$WORK/ring/out0" "$WORK/ring/out2"; do
    [[ $(stat -c %a "$f") == 600 ]] || fail "ring: $f mode $(stat -c %a "$f")"
done

if ((FAILS)); then
    echo "$FAILS failure(s)" >&2
    exit 1
fi
echo "all output-file checks passed"
