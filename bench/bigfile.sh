#!/usr/bin/env bash
# Peak memory of `translate` on oversized inputs: `bash bench/bigfile.sh` from anywhere.
#
# Inputs larger than tarjama::ingest::MAX_FILE_BYTES (16 MiB) are refused from their
# size, without being read (docs/guide.md, "Bad input"). This script shows it with a real
# 200 MB article file (written in full, not sparse) and, for the bound itself, the
# largest file that is read: 16 MiB of seed articles. Each run is `--offline`, so it
# reads, segments, detects and writes every output without any network, under
# `/usr/bin/time -v`; the table gives the exit code, wall time and peak RSS.
#
# Knobs: TRANSLATE=/path/to/translate (default: build the release binary),
# BIG_MB (200), CARGO_TARGET_DIR. Needs ~220 MB in $TMPDIR. Not part of `cargo test`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIG_MB=${BIG_MB:-200}
LIMIT=$((16 * 1024 * 1024))
if [[ -z ${TRANSLATE:-} ]]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
    cargo build --release --quiet --bin translate --manifest-path "$ROOT/Cargo.toml"
    TRANSLATE=$CARGO_TARGET_DIR/release/translate
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tarjama-bigfile.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# $1 file to fill with whole seed articles (blank line between), padded with ASCII
# spaces to exactly $2 bytes.
fill() {
    python3 - "$1" "$2" "$ROOT/seeds" <<'PY'
import pathlib, sys
out, size, seeds = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
articles = [p.read_bytes() + b"\n\n" for p in sorted(seeds.glob("*.txt"))]
with open(out, "wb") as f:
    written = 0
    while True:
        for a in articles:
            if written + len(a) > size:
                f.write(b" " * (size - written))
                sys.exit(0)
            f.write(a)
            written += len(a)
PY
}

# $1 label, $2 input dir: prints one table row.
measure() {
    local label=$1 input=$2 rc=0
    /usr/bin/time -v "$TRANSLATE" "$input" --to en --offline --out "$WORK/out-$label" \
        --cache-dir "$WORK/cache" -q >"$WORK/$label.stdout" 2>"$WORK/$label.time" || rc=$?
    local rss wall
    rss=$(grep 'Maximum resident set size' "$WORK/$label.time" | grep -o '[0-9]*$')
    wall=$(grep 'Elapsed (wall clock)' "$WORK/$label.time" | awk '{print $NF}')
    printf '| %-28s | %9s | %4s | %8s | %10.1f |\n' "$label" \
        "$(cat "$input"/* | wc -c)" "$rc" "$wall" "$(echo "$rss / 1024" | bc -l)"
    grep -h '^error' "$WORK/$label.time" | sed 's/^/    /' || true
}

mkdir -p "$WORK/huge" "$WORK/limit"
fill "$WORK/huge/huge.txt" $((BIG_MB * 1000 * 1000))
cp "$ROOT/seeds/002_65b8ef3daf2c733c.txt" "$WORK/huge/"
fill "$WORK/limit/at-limit.txt" "$LIMIT"

echo "binary: $TRANSLATE"
echo "| input                        |     bytes | exit |     wall | peak RSS MB |"
echo "|------------------------------|-----------|------|----------|-------------|"
measure "${BIG_MB}MB-file+one-seed" "$WORK/huge"
measure "16MiB-file-(largest-read)" "$WORK/limit"
