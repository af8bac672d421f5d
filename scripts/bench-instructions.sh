#!/bin/sh
# User-space instructions per socketmap request of srsd, from callgrind
# (repeatable, unlike time on a shared machine): srsd serves 2,000 and then
# 12,000 requests from one client, and the difference is divided by 10,000,
# so start-up and shutdown cancel out. Tokio's parking still varies a
# little with scheduling (a few hundred instructions either way).
#
#   scripts/bench-instructions.sh [SRSD] [forward|reverse]
#
# SRSD defaults to target/release/srsd; give another build's to compare.
# Needs valgrind and python3.
set -eu
srsd=${1:-target/release/srsd}
direction=${2:-forward}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'bench-secret\n' >"$dir/keys"
chmod 600 "$dir/keys"
now=1700000000
case $direction in
forward) address=alice@origin.example ;;
reverse) address=$(target/release/srs --now "$now" -k "$dir/keys" forward -a fwd.example alice@origin.example) ;;
*) echo "bench-instructions: forward or reverse, not $direction" >&2; exit 64 ;;
esac

# run N: the instructions srsd executed serving N requests.
run() {
    rm -f "$dir/sock"
    valgrind --tool=callgrind --callgrind-out-file="$dir/out.$1" "$srsd" --now "$now" \
        -d fwd.example -k "$dir/keys" --listen "socketmap=unix:$dir/sock" 2>/dev/null &
    pid=$!
    python3 - "$dir/sock" "$1" "$direction $address" <<'PY'
import socket, sys, time
path, n, request = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
deadline = time.monotonic() + 60
while True:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("srsd did not listen within 60 s")
        time.sleep(0.1)
wire = str(len(request)).encode() + b":" + request + b","
replies = s.makefile("rb")
for _ in range(n):
    s.sendall(wire)
    length = b""
    while (c := replies.read(1)) != b":":
        length += c
    replies.read(int(length) + 1)
PY
    kill -TERM "$pid"
    wait "$pid" || true
    callgrind_annotate "$dir/out.$1" | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,
}
few=$(run 2000)
many=$(run 12000)
echo "$direction: $(((many - few) / 10000)) instructions per request ($srsd)"
