#!/usr/bin/env bash
# Team benchmark: four processes sharing one key's rate and one translation memory.
# `bash bench/team.sh` from anywhere. Not part of `cargo test`.
#
# What it does: builds the release `translate` and the emulator (bench/server.rs),
# generates BENCH_TEAM_DOCS documents (bench/corpus.py, no syndicated copies) in four
# groups, and makes four folders, folder i holding groups i and i+1 (mod 4): every
# document is in two folders. N, the distinct paragraphs to send, is what
# `translate --dry-run` says for all the documents at once. The emulator answers after
# 300 ms and allows 10 requests/s (token bucket of 2, 429 with Retry-After beyond).
# Four `translate` processes, each `--rps 10` with one text per request, start
# together on the four folders; the wall time is from the start of the first to the
# exit of the last (`date +%s%N`). Target: wall <= 1.15 x N / 10 s, with no text sent
# twice. Rows:
#   - one machine: the four share one --cache-dir (SQLite), no URL;
#   - four machines: each its own --cache-dir, all `--cache $TARJAMA_TEST_PG`-style URL
#     (skipped when TARJAMA_TEST_PG is unset; `eval "$(bash .ci/postgres-setup)"`).
# Knobs: BENCH_TEAM_DOCS (16), BENCH_PROFILE (release), CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
DOCS=${BENCH_TEAM_DOCS:-16}
PROFILE=${BENCH_PROFILE:-release}
RATE=10
LATENCY_MS=300

log() { printf '[team %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tarjama-team.XXXXXX")
SERVER_PID=""
cleanup() {
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

log "building $PROFILE binaries"
cargo build --profile "$PROFILE" --quiet --bin translate --example bench_server
T=$CARGO_TARGET_DIR/$PROFILE/translate
S=$CARGO_TARGET_DIR/$PROFILE/examples/bench_server

cat >"$WORK/team.toml" <<EOF
default_provider = "libretranslate"

[providers.libretranslate]
kind = "libretranslate"
endpoint = "http://127.0.0.1:9"
rps = $RATE.0
burst = 1
chars_per_minute = 0
concurrency = 8
max_texts = 1
max_chars = 5000
max_bytes_per_text = 0
timeout_secs = 30.0
connect_timeout_secs = 5.0
max_retries = 4
retry_base_ms = 1000
retry_max_ms = 60000
EOF

python3 bench/corpus.py --docs "$DOCS" --seed 7 --syndicated 0 --out "$WORK/all" >/dev/null
mapfile -t FILES < <(find "$WORK/all" -name '*.txt' | sort)
for i in 0 1 2 3; do mkdir -p "$WORK/in$i"; done
for k in "${!FILES[@]}"; do
    g=$((k * 4 / ${#FILES[@]}))
    cp "${FILES[$k]}" "$WORK/in$g/"
    cp "${FILES[$k]}" "$WORK/in$(((g + 3) % 4))/"
done
N=$("$T" --config "$WORK/team.toml" "$WORK/all" --to en --dry-run --cache-dir "$WORK/empty" \
    --out "$WORK/dry" | sed -n 's/^ *would send: *\([0-9]*\) paragraphs.*/\1/p')
[[ -n $N ]] || { log "no paragraph count from --dry-run"; exit 1; }

run_four() { # name; then per process: extra args via ARGS_i
    local name=$1 url_file="$WORK/server.$1.url"
    "$S" --latency-ms "$LATENCY_MS" --rate "$RATE" --burst 2 >"$url_file" 2>/dev/null &
    SERVER_PID=$!
    for _ in $(seq 600); do
        [[ $(head -n1 "$url_file" 2>/dev/null) == http://*:[0-9]* ]] && break
        sleep 0.05
    done
    local url
    url=$(head -n1 "$url_file")
    local start end pids=() i
    start=$(date +%s%N)
    for i in 0 1 2 3; do
        local -n extra="ARGS_$i"
        "$T" --config "$WORK/team.toml" "$WORK/in$i" --to en --endpoint "$url" --rps "$RATE" \
            --out "$WORK/out-$name-$i" -q "${extra[@]}" 2>"$WORK/err-$name-$i" &
        pids+=($!)
    done
    local failed=0
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    end=$(date +%s%N)
    python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1] + "/stats").read().decode())' \
        "$url" >"$WORK/stats-$name.json"
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    if [[ $failed == 1 ]]; then cat "$WORK"/err-"$name"-* >&2; log "$name: a process failed"; exit 1; fi
    python3 - "$name" "$N" "$RATE" "$start" "$end" "$WORK/stats-$name.json" <<'EOF'
import json, sys
name, n, rate, start, end, stats = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
s = json.load(open(stats))
wall = (end - start) / 1e9
floor = n / rate
ok = wall <= 1.15 * floor and s["texts"] == n
print(f"| four processes, {name} | N = {n} distinct paragraphs, R = {rate:g}/s, 300 ms | "
      f"{wall:.1f} s = {wall / floor:.3f} x N/R (target <= 1.15) | texts sent {s['texts']} "
      f"({s['texts'] - n} twice), requests {s['requests']}, 429s {s['http_429']} | {'pass' if ok else 'FAIL'} |")
EOF
}

ARGS_0=(--cache-dir "$WORK/cache-one") ARGS_1=("${ARGS_0[@]}") ARGS_2=("${ARGS_0[@]}") ARGS_3=("${ARGS_0[@]}")
log "one machine: four processes, one --cache-dir (N = $N)"
run_four "one --cache-dir"
if [[ -n ${TARJAMA_TEST_PG:-} ]]; then
    schema="bench_$(date +%s)"
    psql_url=$TARJAMA_TEST_PG
    # A fresh schema of the test server for this run.
    psql -q "$psql_url" -c "CREATE SCHEMA $schema" >/dev/null
    sep='?'; [[ $psql_url == *\?* ]] && sep='&'
    URL="$psql_url${sep}options=-csearch_path%3D$schema"
    ARGS_0=(--cache-dir "$WORK/cache-m0" --cache "$URL")
    ARGS_1=(--cache-dir "$WORK/cache-m1" --cache "$URL")
    ARGS_2=(--cache-dir "$WORK/cache-m2" --cache "$URL")
    ARGS_3=(--cache-dir "$WORK/cache-m3" --cache "$URL")
    log "four machines: each its own --cache-dir, one PostgreSQL memory"
    run_four "PostgreSQL"
else
    log "TARJAMA_TEST_PG is not set: the PostgreSQL row is skipped"
fi
