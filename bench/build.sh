#!/usr/bin/env bash
# Clean release build cost: `bash bench/build.sh [COMMIT]` (default HEAD).
#
# Exports COMMIT's tree to a temp dir, fetches its crates first (downloads are not
# build work), then times `cargo build --release --offline` into an empty target
# dir with GNU time: CPU seconds (user + system: robust when other builds share the
# machine) and wall, the load average before and after, and the binary's size.
# Prints one Markdown line for bench/RESULTS.md. Not part of `cargo test`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMMIT=${1:-HEAD}
REV=$(git -C "$ROOT" rev-parse --short "$COMMIT")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tarjama-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
git -C "$ROOT" archive "$COMMIT" | tar -x -C "$WORK"
cd "$WORK"
cargo fetch --quiet
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
CARGO_TARGET_DIR="$WORK/target" /usr/bin/time -v -o "$WORK/time.txt" \
    cargo build --release --offline --quiet --bin translate
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
field() { awk -F': ' -v k="$1" '$1 ~ k {print $2}' "$WORK/time.txt"; }
user=$(field "User time"); sys=$(field "System time"); wall=$(field "Elapsed")
size=$(stat -c %s "$WORK/target/release/translate")
awk -v rev="$REV" -v u="$user" -v s="$sys" -v w="$wall" -v l0="$load_start" -v l1="$load_end" \
    -v b="$size" 'BEGIN { printf "| %s | %.0f s (user %.0f + system %.0f) | %s | %s → %s | %.1f MB |\n",
        rev, u + s, u, s, w, l0, l1, b / 1e6 }'
