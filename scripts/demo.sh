#!/usr/bin/env bash
# Builds srs, makes a throwaway key, forwards a sender and reverses the result.
# Touches nothing outside a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "building srs (the first build takes a minute or so)..."
cargo build --release --quiet --bin srs
srs=target/release/srs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(umask 077 && "$srs" keygen > "$tmp/keys")

sender=alice@origin.example
echo "\$ srs -k keys forward --alias fwd.example $sender"
forwarded=$("$srs" -k "$tmp/keys" forward --alias fwd.example "$sender")
echo "$forwarded"
echo "\$ srs -k keys reverse $forwarded"
"$srs" -k "$tmp/keys" reverse "$forwarded"
forged="${forwarded:0:5}AAAA${forwarded:9}"
echo "\$ srs -k keys reverse $forged    # a forged hash is refused"
"$srs" -k "$tmp/keys" reverse "$forged" || echo "(exit status $?)"
