#!/usr/bin/env bash
# The project's test command: cargo test over every test binary (even after
# a failure), then one line on the tests that were skipped (a missing peer
# or root), with their reasons, so a skip never passes for a test that ran.
# Arguments go to cargo test.
#
# Every wait in the tests is bounded; should one hang all the same, the run
# is stopped after SRS_TEST_LIMIT seconds (default 1800, building included)
# and fails, after printing what was still running below cargo and where
# each process waited; those processes are killed.
set -uo pipefail
cd "$(dirname "$0")/.."
log=target/tmp/skipped-tests
mkdir -p target/tmp
rm -f "$log"
limit=${SRS_TEST_LIMIT:-1800}

# children PID: from /proc, since procps (ps, pgrep) may be missing. A stat
# line's command sits in parentheses and may hold spaces.
children() {
    sed -n 's/^\([0-9]*\) (.*) [A-Za-z] \([0-9]*\) .*/\1 \2/p' /proc/[0-9]*/stat 2>/dev/null |
        awk -v parent="$1" '$2 == parent { print $1 }'
}

cargo test --no-fail-fast "$@" &
cargo=$!
(
    waited=0
    while kill -0 "$cargo" 2>/dev/null; do
        if [ "$waited" -ge "$limit" ]; then
            echo "scripts/test.sh: the tests did not end within $limit s; still running:" >&2
            # Where each process waits, then each one stopped before its
            # children are listed, so that none starts a child that escapes
            # the kill (and would hold the output open after the run).
            tree() {
                local child
                for child in $(children "$1"); do
                    echo "$child"
                    tree "$child"
                done
            }
            for pid in $cargo $(tree "$cargo"); do
                {
                    echo "--- $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline)"
                    echo "    waiting in $(cat /proc/"$pid"/wchan)"
                    sed 's/^/    /' /proc/"$pid"/stack
                } >&2 2>/dev/null
            done
            stuck=""
            next=$cargo
            while [ -n "$next" ]; do
                kill -STOP $next 2>/dev/null
                stuck="$stuck $next"
                below=""
                for pid in $next; do
                    below="$below $(children "$pid")"
                done
                next=$(echo $below)
            done
            kill -KILL $stuck 2>/dev/null
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
