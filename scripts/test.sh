#!/usr/bin/env bash
# The project's test command: cargo test over every test binary (even after
# a failure), then one line on the tests that were skipped (a missing peer
# or root), with their reasons, so a skip never passes for a test that ran.
# Arguments go to cargo test.
#
# Every wait in the tests is bounded; should one hang all the same, the run
# is stopped after SRS_TEST_LIMIT seconds (default 1800, building included)
# and fails, after printing what was still running and where it waited.
set -uo pipefail
cd "$(dirname "$0")/.."
log=target/tmp/skipped-tests
mkdir -p target/tmp
rm -f "$log"
limit=${SRS_TEST_LIMIT:-1800}

cargo test --no-fail-fast "$@" &
cargo=$!
(
    waited=0
    while kill -0 "$cargo" 2>/dev/null; do
        if [ "$waited" -ge "$limit" ]; then
            echo "scripts/test.sh: the tests did not end within $limit s; still running:" >&2
            ps -eo pid,ppid,etimes,stat,wchan:28,args --forest >&2
            for test in $(pgrep -P "$cargo"); do
                for pid in $test $(pgrep -P "$test"); do
                    echo "--- kernel stack of $pid ($(cat /proc/"$pid"/comm 2>/dev/null))" >&2
                    cat /proc/"$pid"/stack >&2 2>/dev/null
                done
                kill -TERM "$test"
            done
            kill -TERM "$cargo"
            exit
        fi
        sleep 5
        waited=$((waited + 5))
    done
) &
watchdog=$!
wait "$cargo"
status=$?
kill "$watchdog" 2>/dev/null
wait "$watchdog" 2>/dev/null

if [ -s "$log" ]; then
    echo "skipped: $(wc -l <"$log") tests"
    sort "$log" | sed 's/^/  skipped /'
else
    echo "skipped: none"
fi
exit $status
