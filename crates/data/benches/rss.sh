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
cargo bench -q -p creditcity-data --no-run 2>/dev/null
bench=$(ls -t target/release/deps/data-* | grep -v '\.d$' | head -1)
for kind in register licences; do
  "$bench" --generate "$kind" "$rows" "$work/$kind.csv"
  /usr/bin/time -v "$bench" --check "$kind" "$work/$kind.csv" 2> "$work/time.txt"
  grep -E "Maximum resident set size|Elapsed" "$work/time.txt"
  rm -f "$work/$kind.csv"
done
