#!/usr/bin/env bash
# The project's test command: cargo test over every test binary (even after
# a failure), then one line on the tests that were skipped (a missing peer
# or root), with their reasons, so a skip never passes for a test that ran.
# Arguments go to cargo test.
set -uo pipefail
cd "$(dirname "$0")/.."
log=target/tmp/skipped-tests
mkdir -p target/tmp
rm -f "$log"
cargo test --no-fail-fast "$@"
status=$?
if [ -s "$log" ]; then
    echo "skipped: $(wc -l <"$log") tests"
    sort "$log" | sed 's/^/  skipped /'
else
    echo "skipped: none"
fi
exit $status
