#!/usr/bin/env bash
# Run every cargo-fuzz target for a fixed time each (default 60 s) and print one
# line per target: executions and whether it crashed. Needs a nightly toolchain and
# `cargo install cargo-fuzz --locked`. Not part of `cargo test` or CI.
#
#   bash fuzz/run.sh [seconds]
#
# New corpus entries go to fuzz/corpus/<target>/ (ignored by git); the committed
# seeds are fuzz/seeds/<target>/. A crash leaves its input in
# fuzz/artifacts/<target>/; turn it into a regression test and fix it.
set -uo pipefail
secs="${1:-60}"
cd "$(dirname "$0")/.."
cargo +nightly fuzz build >/dev/null || exit 1
status=0
for target in $(cargo +nightly fuzz list); do
    mkdir -p "fuzz/corpus/$target"
    log="$(mktemp)"
    if cargo +nightly fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$secs" -dict=fuzz/fuzz.dict -max_len=65536 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result="CRASH (see fuzz/artifacts/$target/)"
        status=1
    fi
    runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')"
    printf '%-22s %4ss %12s runs  %s\n' "$target" "$secs" "${runs:-?}" "$result"
    [ "$result" = ok ] || tail -n 30 "$log"
    rm -f "$log"
done
exit "$status"
