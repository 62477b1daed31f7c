#!/usr/bin/env bash
# tarjama benchmark: `bash bench/run.sh` from the repository root (or anywhere).
#
# Builds the release binaries, generates corpora from seeds/ in a temp dir, starts
# the local emulator (bench/server.rs: LibreTranslate or MyMemory wire format) per
# scenario, makes a venv with the real deep-translator from PyPI, measures, and
# prints one table (also written to bench/last-run.md). See bench/README.md for
# what each row means. Not part of `cargo test`.
#
# Knobs (environment): BENCH_RATE_DOCS (125: >= 2,000 requests), BENCH_MM_DOCS (40:
# ~800 MyMemory requests), BENCH_BIG_DOCS (10000), BENCH_NO_DEADLINE=1 (let slow runs
# finish instead of stopping them once they have missed their target), BENCH_KEEP=1
# (keep the temp dir), BENCH_PROFILE (release; `profiling` for a binary perf can
# read), BENCH_VENV (where the deep-translator venv is made, default
# $CARGO_TARGET_DIR/bench-venv), CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

RATE_DOCS=${BENCH_RATE_DOCS:-125}
MM_DOCS=${BENCH_MM_DOCS:-40}
MM_LATENCIES="300 1000"  # MyMemory-shaped scenarios: server latency (ms), limit = RPS
MM_HALF_LATENCY=300      # and the one whose server allows half the rate
DT_VERSION=1.11.4        # deep-translator from PyPI
DT_TEXTS=60              # texts its sequential loop sends
PROFILE=${BENCH_PROFILE:-release}
VENV=${BENCH_VENV:-$CARGO_TARGET_DIR/bench-venv}
BIG_DOCS=${BENCH_BIG_DOCS:-10000}
RPS=20          # configured rate (requests/s)
BURST=5         # client burst = server burst
CONCURRENCY=4   # client requests in flight (20/s x 50 ms = 1 needed)
LATENCY_MS=50   # server latency per request
SLOW_RATE=10    # the server's real limit in the second scenario
BATCH_TEXTS=25  # batching scenario: max_texts (LibreTranslate's default --batch-limit)
BATCH_CHARS=5000
BIG_DEADLINE=${BENCH_BIG_DEADLINE:-30}   # seconds; the target is 5
NO_DEADLINE=${BENCH_NO_DEADLINE:-0}

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tarjama-bench.XXXXXX")
SERVER_PID=""
cleanup() {
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
FACTS=$WORK/facts
: >"$FACTS"
fact() { printf '%s=%s\n' "$1" "$2" >>"$FACTS"; }
now_ns() { date +%s%N; }

log "building $PROFILE binaries (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --profile "$PROFILE" --quiet --bin translate --example bench_server --example bench_floor
T=$CARGO_TARGET_DIR/$PROFILE/translate
S=$CARGO_TARGET_DIR/$PROFILE/examples/bench_server
F=$CARGO_TARGET_DIR/$PROFILE/examples/bench_floor

# A config with only the LibreTranslate provider, as the scenarios need it.
write_config() { # file max_texts max_chars
    cat >"$1" <<EOF
default_provider = "libretranslate"

[providers.libretranslate]
kind = "libretranslate"
endpoint = "http://127.0.0.1:9"
rps = $RPS.0
burst = $BURST
chars_per_minute = 0
concurrency = $CONCURRENCY
max_texts = $2
max_chars = $3
max_bytes_per_text = 0
timeout_secs = 30.0
connect_timeout_secs = 5.0
max_retries = 4
retry_base_ms = 1000
retry_max_ms = 60000
EOF
}
write_config "$WORK/one.toml" 1 "$BATCH_CHARS"
write_config "$WORK/batch.toml" "$BATCH_TEXTS" "$BATCH_CHARS"

SERVERS=0
start_server() { # args...; sets URL and SERVER_PID
    # A file per server: the background job truncates its file only once it runs, so
    # a reused file could still show the previous (stopped) server's URL.
    SERVERS=$((SERVERS + 1))
    local url_file="$WORK/server.$SERVERS.url"
    "$S" "$@" >"$url_file" 2>"$WORK/server.err" &
    SERVER_PID=$!
    for _ in $(seq 600); do
        [[ $(head -n1 "$url_file" 2>/dev/null) == http://*:[0-9]* ]] && break
        sleep 0.05
    done
    URL=$(head -n1 "$url_file")
    [[ $URL == http://* ]] || { log "the emulator did not start ($*)"; cat "$WORK/server.err" >&2; exit 1; }
}
stop_server() { # stats-file
    python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1] + "/stats").read().decode())' \
        "$URL" >"$1"
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# ------------------------------------------------------------------ machine
fact date "$(date -u '+%Y-%m-%d %H:%M UTC')"
fact nproc "$(nproc)"
fact mem_mb "$(awk '/MemTotal/ {printf "%d", $2/1024}' /proc/meminfo)"
fact cpu "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
fact load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
fact commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+dirty')"
fact version "$("$T" --version)"
fact profile "$PROFILE"
fact binary_bytes "$(stat -c %s "$T")"

# ------------------------------------------------------------------ corpora
log "generating corpora: $RATE_DOCS and $BIG_DOCS documents"
python3 bench/corpus.py --docs "$RATE_DOCS" --seed 1 --out "$WORK/rate" >"$WORK/rate.json"
python3 bench/corpus.py --docs "$BIG_DOCS" --seed 2 --out "$WORK/big" >"$WORK/big.json"
python3 bench/corpus.py --docs "$MM_DOCS" --seed 3 --out "$WORK/mm" >"$WORK/mm.json"

# ------------------------------------------------------------------ 1. at the limit
log "scenario 1: server limit $RPS/s (burst $BURST), ${LATENCY_MS} ms latency, client --rps $RPS"
start_server --latency-ms "$LATENCY_MS" --rate "$RPS" --burst "$BURST"
t0=$(now_ns)
set +e
"$T" --config "$WORK/one.toml" "$WORK/rate" --to en --endpoint "$URL" --rps "$RPS" \
    --cache-dir "$WORK/c1" --out "$WORK/o1" >"$WORK/run1.out" 2>"$WORK/run1.err"
fact run1_exit $?
set -e
fact run1_wall_ns $(($(now_ns) - t0))
stop_server "$WORK/stats1.json"
cp "$WORK/o1/report.json" "$WORK/report1.json" 2>/dev/null || true
N1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["served"])' "$WORK/stats1.json")

# ------------------------------------------------------------------ 2. limit lower than configured
# Stopped once it has clearly missed its target (1.3 x minimum), unless BENCH_NO_DEADLINE=1.
deadline=$(python3 -c "import math; print(math.ceil(1.3 * ($N1 / $SLOW_RATE + $LATENCY_MS / 1000) + 15))")
[[ $NO_DEADLINE == 1 ]] && deadline=0
log "scenario 2: server limit $SLOW_RATE/s, client still told --rps $RPS$( ((deadline)) && echo " (stopped after ${deadline}s if not done)")"
start_server --latency-ms "$LATENCY_MS" --rate "$SLOW_RATE" --burst "$BURST"
t0=$(now_ns)
set +e
timeout -k 5 "$deadline" "$T" --config "$WORK/one.toml" "$WORK/rate" --to en --endpoint "$URL" \
    --rps "$RPS" --cache-dir "$WORK/c2" --out "$WORK/o2" >"$WORK/run2.out" 2>"$WORK/run2.err"
fact run2_exit $?
set -e
fact run2_wall_ns $(($(now_ns) - t0))
fact run2_deadline_s "$deadline"
stop_server "$WORK/stats2.json"
cp "$WORK/o2/report.json" "$WORK/report2.json" 2>/dev/null || true

# ------------------------------------------------------------------ 2b. MyMemory, latency
# The shipped config's MyMemory provider with only --rps 20 (and --endpoint): requests
# in flight must follow rate x latency for the run to reach 20/s.
mm_run() { # name latency-ms server-rate deadline-s
    local name=$1
    log "MyMemory scenario $name: server ${2} ms, limit $3/s (burst 2), client --rps $RPS only"
    start_server --api mymemory --latency-ms "$2" --rate "$3" --burst 2
    t0=$(now_ns)
    set +e
    timeout -k 5 "$4" "$T" "$WORK/mm" --to en --provider mymemory --endpoint "$URL" --rps "$RPS" \
        --cache-dir "$WORK/c_$name" --out "$WORK/o_$name" >"$WORK/$name.out" 2>"$WORK/$name.err"
    fact "${name}_exit" $?
    set -e
    fact "${name}_wall_ns" $(($(now_ns) - t0))
    fact "${name}_latency_ms" "$2"
    fact "${name}_rate" "$3"
    fact "${name}_deadline_s" "$4"
    stop_server "$WORK/stats_$name.json"
    cp "$WORK/o_$name/report.json" "$WORK/report_$name.json" 2>/dev/null || true
}
mm_deadline() { # rate; 1.5 x the minimum for ~1,000 requests, plus slack, unless no deadline
    if [[ $NO_DEADLINE == 1 ]]; then echo 0; else echo $((1500 / $1 + 30)); fi
}
for ms in $MM_LATENCIES; do
    mm_run "mm$ms" "$ms" "$RPS" "$(mm_deadline "$RPS")"
done
mm_run mmhalf "$MM_HALF_LATENCY" "$SLOW_RATE" "$(mm_deadline "$SLOW_RATE")"

# ------------------------------------------------------------------ 2c. deep-translator
log "deep-translator $DT_VERSION from PyPI in $VENV"
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('deep-translator') != '$DT_VERSION')" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "deep-translator==$DT_VERSION"
fi
log "deep-translator's MyMemory loop: $DT_TEXTS texts, server ${MM_HALF_LATENCY} ms, limit $RPS/s"
start_server --api mymemory --latency-ms "$MM_HALF_LATENCY" --rate "$RPS" --burst 2
"$VENV/bin/python" bench/dt_mymemory.py "$URL" "$WORK/mm" "$DT_TEXTS" >"$WORK/dt.json"
stop_server "$WORK/stats_dt.json"

# ------------------------------------------------------------------ 3. batch packing
log "scenario 3: batching (max_texts $BATCH_TEXTS, max_chars $BATCH_CHARS), no rate limit"
start_server --batch-limit "$BATCH_TEXTS"
set +e
"$T" --config "$WORK/batch.toml" "$WORK/rate" --to en --endpoint "$URL" --rps 10000 \
    --concurrency 8 --cache-dir "$WORK/c3" --out "$WORK/o3" --format jsonl -q \
    >"$WORK/run3.out" 2>"$WORK/run3.err"
fact run3_exit $?
set -e
stop_server "$WORK/stats3.json"
fact batch_texts "$BATCH_TEXTS"
fact batch_chars "$BATCH_CHARS"

# ------------------------------------------------------------------ 4. the big corpus: cold run, cached rerun, dry run
# Every run here writes every format into the same output directory: the cold run
# fills the cache and the outputs, the rerun then finds an unchanged corpus (what a
# user's second run is), the dry run reads the cache only.
big_run() { # name endpoint extra-args...; measured with /usr/bin/time -v (or VmHWM polling)
    local name=$1 endpoint=$2
    shift 2
    local limit=$BIG_DEADLINE
    [[ $NO_DEADLINE == 1 || $name == cold || $name == rerun1 ]] && limit=0
    sync
    t0=$(now_ns)
    set +e
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -v -o "$WORK/$name.time" timeout -k 5 "$limit" "$T" --config "$WORK/batch.toml" \
            "$WORK/big" --to en --endpoint "$endpoint" --cache-dir "$WORK/cbig" \
            --out "$WORK/o_big" -q "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
        fact "${name}_exit" $?
        fact "${name}_maxrss_kb" "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$name.time")"
    else
        timeout -k 5 "$limit" "$T" --config "$WORK/batch.toml" "$WORK/big" --to en \
            --endpoint "$endpoint" --cache-dir "$WORK/cbig" --out "$WORK/o_big" -q "$@" \
            >"$WORK/$name.out" 2>"$WORK/$name.err" &
        local pid=$! hwm=0 v
        while kill -0 "$pid" 2>/dev/null; do
            v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
            [[ -n $v && $v -gt $hwm ]] && hwm=$v
            sleep 0.05
        done
        wait "$pid"
        fact "${name}_exit" $?
        fact "${name}_maxrss_kb" "$hwm"
    fi
    set -e
    fact "${name}_wall_ns" $(($(now_ns) - t0))
    fact "${name}_deadline_s" "$limit"
}
log "cold run of $BIG_DOCS documents against the emulator (every format; peak RSS)"
start_server --batch-limit "$BATCH_TEXTS"
big_run cold "$URL" --rps 10000 --concurrency 16
stop_server "$WORK/stats_fill.json"
[[ $(grep -c '^cold_exit=0$' "$FACTS") == 1 ]] || { cat "$WORK/cold.err" >&2; exit 1; }

# The floor both are compared with: walk, read, decode and hash every paragraph.
"$F" "$WORK/big" --repeat 3 >"$WORK/floor.json"

# A dead endpoint: a cached run must need no server. The first rerun after the cold
# run rewrites the files that show each row's `cached` mark (it was false); the rerun
# after it finds the corpus, the cache and the outputs unchanged.
log "first cached rerun (rows now marked cached; not limited)"
big_run rerun1 "http://127.0.0.1:9"
log "cached rerun of $BIG_DOCS documents, unchanged$( [[ $NO_DEADLINE == 1 ]] || echo " (stopped after ${BIG_DEADLINE}s if not done)")"
big_run rerun "http://127.0.0.1:9"
python3 bench/sizes.py "$WORK/big" "$WORK/o_big" >"$WORK/sizes_big.json" || true
log "--dry-run of the same"
big_run dryrun "http://127.0.0.1:9" --dry-run
rm -rf "$WORK/o_big"

# ------------------------------------------------------------------ 5. start-up
log "start-up: --version and a cached run of the five seeds"
start_server
"$T" --config "$WORK/batch.toml" seeds --to en --endpoint "$URL" --cache-dir "$WORK/cseeds" \
    --out "$WORK/oseeds" -q >/dev/null 2>"$WORK/seedfill.err" || { cat "$WORK/seedfill.err" >&2; exit 1; }
stop_server "$WORK/stats_seeds.json"
# Output sizes of that first (not cached) run, per format, per byte of input.
python3 bench/sizes.py "$ROOT/seeds" "$WORK/oseeds" >"$WORK/sizes_seeds.json"
# A cached run needs no server: a dead endpoint makes any network use fail (exit 3).
SEEDS_CMD="$T --config $WORK/batch.toml $ROOT/seeds --to en --endpoint http://127.0.0.1:9 --cache-dir $WORK/cseeds --out $WORK/oseeds -q"
$SEEDS_CMD || { log "the cached seeds run failed (exit $?)"; exit 1; }
if command -v hyperfine >/dev/null; then
    fact startup_tool hyperfine
    hyperfine -N --warmup 3 --runs 30 --export-json "$WORK/hf_version.json" "$T --version" >/dev/null 2>&1
    hyperfine -N --warmup 3 --runs 20 --export-json "$WORK/hf_seeds.json" "$SEEDS_CMD" >/dev/null 2>&1
else
    fact startup_tool "date loop"
    for what in version seeds; do
        for _ in $(seq 20); do
            t0=$(now_ns)
            if [[ $what == version ]]; then "$T" --version >/dev/null; else $SEEDS_CMD; fi
            echo $(($(now_ns) - t0))
        done >"$WORK/loop_$what.ns"
    done
fi
fact load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

python3 bench/report.py "$WORK" | tee bench/last-run.md
