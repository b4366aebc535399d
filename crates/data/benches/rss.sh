#!/usr/bin/env bash
# Peak memory of checking (and deriving from) a 10M-row generated file, for the register
# and for licences. The files are written to a temporary directory and removed.
#
#   bash crates/data/benches/rss.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/../../.."
rows=${1:-10000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo bench -q -p creditcity-data --bench data --no-run
bench=$(find target/release/deps -maxdepth 1 -name 'data-*' -type f -executable -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2)
for kind in register licences; do
  "$bench" --generate "$kind" "$rows" "$work/$kind.csv"
  /usr/bin/time -v "$bench" --check "$kind" "$work/$kind.csv" 2> "$work/time.txt"
  grep -E "Maximum resident set size|Elapsed" "$work/time.txt"
  rm -f "$work/$kind.csv"
done
