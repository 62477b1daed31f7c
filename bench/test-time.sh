#!/usr/bin/env bash
# Cost of the README's test command from a clean target:
# `bash bench/test-time.sh [COMMIT]` (default HEAD).
#
# Exports COMMIT's tree to a temp dir (`git archive`: exactly the committed files),
# fetches its crates first (downloads are not build work), then times `cargo test
# --offline` into an empty target dir with GNU time, in the environment `.ci/run`
# gives the tests: TARJAMA_NO_KEYRING=1, and APERTIUM_URL / TARJAMA_TEST_PG passed
# through when they are set (so the real-server suites run rather than skip). The
# npm packages the browser and XLIFF suites drive (`npm ci` in .ci/run) are linked
# from this checkout when they are installed here, else those suites skip.
#
# Prints: wall time, CPU seconds (user + system: the robust number when other work
# shares the machine), the load average before and after, the target dir's size,
# how many test binaries ran (cargo's `Running` lines; doc tests counted apart) and
# the tests passed, then one Markdown line for bench/RESULTS.md. Exits non-zero when
# `cargo test` fails. Not part of `cargo test`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMMIT=${1:-HEAD}
REV=$(git -C "$ROOT" rev-parse --short "$COMMIT")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tarjama-test-time.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/src"
git -C "$ROOT" archive "$COMMIT" | tar -x -C "$WORK/src"
for npm in tests/browser tests/xliff; do
  if [ -d "$ROOT/$npm/node_modules" ] && [ -d "$WORK/src/$npm" ]; then
    ln -s "$ROOT/$npm/node_modules" "$WORK/src/$npm/node_modules"
  fi
done
cd "$WORK/src"
cargo fetch --quiet

env_for_tests=(TARJAMA_NO_KEYRING=1 CARGO_TERM_COLOR=never CARGO_TARGET_DIR="$WORK/target")
[ -n "${APERTIUM_URL:-}" ] && env_for_tests+=(APERTIUM_URL="$APERTIUM_URL")
[ -n "${TARJAMA_TEST_PG:-}" ] && env_for_tests+=(TARJAMA_TEST_PG="$TARJAMA_TEST_PG")
[ -n "${CI:-}" ] && env_for_tests+=(CI="$CI")

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
status=0
env "${env_for_tests[@]}" /usr/bin/time -v -o "$WORK/time.txt" \
    cargo test --offline >"$WORK/test.out" 2>"$WORK/test.err" || status=$?
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$status" -ne 0 ]; then
  tail -n 40 "$WORK/test.out" "$WORK/test.err" >&2
  echo "cargo test failed at $REV (exit $status)" >&2
  exit "$status"
fi
field() { awk -F': ' -v k="$1" '$1 ~ k {print $2}' "$WORK/time.txt"; }
user=$(field "User time"); sys=$(field "System time"); wall=$(field "Elapsed")
size=$(du -sb "$WORK/target" | cut -f1)
binaries=$(grep -cE '^ +Running ' "$WORK/test.err" || true)
doctests=$(grep -cE '^ +Doc-tests ' "$WORK/test.err" || true)
passed=$(awk '/^test result:/ {n += $4} END {print n + 0}' "$WORK/test.out")
echo "revision:      $REV"
echo "wall:          $wall"
echo "cpu:           $(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.0f s (user %.0f + system %.0f)", u + s, u, s}')"
echo "load average:  $load_start -> $load_end"
echo "target size:   $(awk -v b="$size" 'BEGIN {printf "%.2f GB", b / 1e9}')"
echo "test binaries: $binaries (plus $doctests doc-test runs)"
echo "tests passed:  $passed"
awk -v rev="$REV" -v u="$user" -v s="$sys" -v w="$wall" -v l0="$load_start" -v l1="$load_end" \
    -v b="$size" -v n="$binaries" 'BEGIN { printf "| %s | %s | %.0f s (user %.0f + system %.0f) | %s → %s | %.2f GB | %d |\n",
        rev, w, u + s, u, s, l0, l1, b / 1e9, n }'
