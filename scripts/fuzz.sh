#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 120 s each), starting
# from the committed seeds, and prints one line per target: runs, coverage,
# corpus size. Needs cargo-fuzz (cargo install cargo-fuzz); the stable
# toolchain works with RUSTC_BOOTSTRAP=1. The growing corpus stays in
# fuzz/corpus/ (not committed); crashes land in fuzz/artifacts/.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-120}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(sed -n 's/^name = "\([a-z_]*\)"$/\1/p' Cargo.toml | grep -v '^mail-srs-fuzz$')
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build --release >/dev/null 2>&1
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    log="$(mktemp)"
    if cargo fuzz run --release "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -dict=dict/srs.dict -print_final_stats=1 >"$log" 2>&1; then
        result=clean
    else
        result="FAILED (see fuzz/artifacts/$t)"
        status=1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    files=$(find "corpus/$t" -type f | wc -l)
    printf '%s: %s, %s runs in %s s, coverage %s, corpus %s files\n' "$t" "$result" "${runs:-?}" "$seconds" "${cov:-?}" "$files"
    rm -f "$log"
done
exit $status
