#!/usr/bin/env bash
# Peak memory of checking (and deriving from) a 10M-row generated file, for the register
# and for licences; then of the release CLI importing a 2M-row register end to end
# (`creditcity data import`: check, store the file, write problems and values). The
# files are written to a temporary directory and removed.
#
#   bash crates/data/benches/rss.sh [ROWS] [CLI_ROWS]
set -euo pipefail
cd "$(dirname "$0")/../../.."
rows=${1:-10000000}
cli_rows=${2:-2000000}
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# CREDITCITY_BIN / DATA_BENCH_BIN: binaries already built (e.g. of an older commit).
if [[ -z ${DATA_BENCH_BIN:-} ]]; then
  cargo bench -q -p creditcity-data --bench data --locked --no-run
fi
if [[ -z ${CREDITCITY_BIN:-} ]]; then
  cargo build -q --release --locked -p creditcity
fi
bench=${DATA_BENCH_BIN:-$(find "$target/release/deps" -maxdepth 1 -name 'data-*' -type f -executable -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2)}
for kind in register licences; do
  "$bench" --generate "$kind" "$rows" "$work/$kind.csv"
  /usr/bin/time -v "$bench" --check "$kind" "$work/$kind.csv" 2> "$work/time.txt"
  grep -E "Maximum resident set size|Elapsed" "$work/time.txt"
  rm -f "$work/$kind.csv"
done
cc=${CREDITCITY_BIN:-$target/release/creditcity}
"$bench" --generate register "$cli_rows" "$work/register.csv"
ls -l "$work/register.csv" | awk '{printf "register file: %.0f MB\n", $5 / 1e6}'
(cd "$work" && "$cc" --store s.db init --city 青川市 > /dev/null &&
  "$cc" --store s.db plan import "$root/examples/qingchuan-plan.toml" > /dev/null &&
  "$cc" --store s.db city --division 5108 > /dev/null &&
  /usr/bin/time -v "$cc" --store s.db data import register register.csv > /dev/null 2> time.txt)
echo "creditcity data import register ($cli_rows rows):"
grep -E "Maximum resident set size|Elapsed" "$work/time.txt"
