#!/usr/bin/env bash
# Whole-process timings of `srs`: one address per process, and 100,000
# addresses on standard input; Perl `srs` beside it when installed.
# Needs hyperfine (Debian package hyperfine). Writes only under a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh --quiet  # srs as shipped: static
srs=target/release/srs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$srs" keygen > "$tmp/keys"
chmod 600 "$tmp/keys"
python3 -c "
for i in range(100000): print(f'user{i}.name@origin{i%97}.example')" > "$tmp/senders"
"$srs" -k "$tmp/keys" forward -a fwd.example < "$tmp/senders" > "$tmp/srs"

one=("$srs -k $tmp/keys forward -a fwd.example alice@origin.example")
if command -v /usr/bin/srs >/dev/null; then
  one+=("/usr/bin/srs --secretfile=$tmp/keys --alias=fwd.example alice@origin.example")
fi
hyperfine -N --warmup 20 --min-runs 200 "${one[@]}"
hyperfine --warmup 3 --min-runs 20 \
  "$srs -k $tmp/keys forward -a fwd.example < $tmp/senders > /dev/null" \
  "$srs -k $tmp/keys reverse < $tmp/srs > /dev/null"
