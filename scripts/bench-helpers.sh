#!/usr/bin/env bash
# Overhead of srs-forwarder over calling sendmail directly, and its memory on
# a 50 MB message. The "sendmail" is a shell script that reads the message to
# /dev/null, the same in both cases. Needs hyperfine and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
fwd=target/release/srs-forwarder
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#!/bin/sh\nexec cat > /dev/null\n' > "$tmp/sendmail"
chmod +x "$tmp/sendmail"
target/release/srs keygen > "$tmp/keys"
chmod 600 "$tmp/keys"
printf 'From: alice@origin.example\nSubject: test\n\n%s\n' "$(head -c 3000 /dev/zero | tr '\0' x)" > "$tmp/small"
export SENDER=alice@origin.example
# Both through the shell for the redirection (the same cost on each side).
hyperfine --warmup 20 --min-runs 300 \
  "$tmp/sendmail -i -f SRS0=xxxx=JM=origin.example=alice@fwd.example -- dest@example.net < $tmp/small" \
  "$fwd --sendmail $tmp/sendmail -k $tmp/keys -a fwd.example dest@example.net < $tmp/small"

head -c 50000000 /dev/urandom > "$tmp/big"
python3 - "$fwd" "$tmp" <<'PY'
import resource, subprocess, sys, time
fwd, tmp = sys.argv[1], sys.argv[2]
t = time.monotonic()
with open(f"{tmp}/big", "rb") as message:
    subprocess.run([fwd, "--sendmail", f"{tmp}/sendmail", "-k", f"{tmp}/keys", "-a", "fwd.example", "d@example.net"],
                   stdin=message, check=True)
elapsed = time.monotonic() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"50 MB message: {elapsed:.3f} s, largest resident size of srs-forwarder or sendmail: {peak / 1024:.1f} MiB")
PY
