#!/usr/bin/env bash
# End-to-end imports through the release CLI (`creditcity data import KIND FILE`): check,
# store the file, re-derive with the other current datasets, write the dataset, its
# problems and the derived values in one SQLite transaction.
#
#   bash crates/data/benches/import.sh [RUNS]        # default 3 runs, min and median
#   CREDITCITY_BIN=… DATA_BENCH_BIN=… bash crates/data/benches/import.sh   # given binaries
#
# 1. A 0.5M-row licences file into an empty store (0.5M decisions alone).
# 2. A typical city (`creditcity data generate --size typical`: 0.3M entities, 0.3M
#    licences + 0.2M penalties, 6,000 list entries, 40,000 commitments, 420 approval
#    items, 300 cases), imported one dataset after another into a fresh store, each
#    timed, then the total.
# 3. The same 0.5M-row licences file imported again into the full typical city (the
#    worst case for one import: every other dataset is current).
# Each run starts from `creditcity init`, the example plan (units) and division 5108.
set -euo pipefail
cd "$(dirname "$0")/../../.."
runs=${1:-3}
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
# CREDITCITY_BIN / DATA_BENCH_BIN: binaries already built (e.g. of an older commit).
if [[ -z ${CREDITCITY_BIN:-} ]]; then
  cargo build -q --release --locked -p creditcity
fi
if [[ -z ${DATA_BENCH_BIN:-} ]]; then
  cargo bench -q -p creditcity-data --bench data --locked --no-run
fi
cc=${CREDITCITY_BIN:-$target/release/creditcity}
bench=${DATA_BENCH_BIN:-$(find "$target/release/deps" -maxdepth 1 -name 'data-*' -type f -executable -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bench" --generate licences 500000 "$work/licences-0.5M.csv" 2>/dev/null
"$cc" data generate "$work/city" --size typical > /dev/null
kinds=(register licences penalties lists commitments approval_items cases)

fresh() {
  rm -rf "$work"/s.*
  (cd "$work" && "$cc" --store s.db init --city 青川市 > /dev/null &&
    "$cc" --store s.db plan import "$root/examples/qingchuan-plan.toml" > /dev/null &&
    "$cc" --store s.db city --division 5108 > /dev/null)
}
# Seconds (wall) of one import; its CPU seconds (user + system) go to $work/cpu, its
# peak RSS to $work/rss.
timed() {
  (cd "$work" && /usr/bin/time -f '%e %M %U %S' -o "$work/t" "$cc" --store s.db data import "$1" "$2" > /dev/null)
  read -r secs kb user sys < "$work/t"
  echo "$kb" > "$work/rss"
  echo "$user + $sys" | bc > "$work/cpu"
  echo "$secs"
}
declare -A times cpu
for ((r = 1; r <= runs; r++)); do
  fresh
  times[lic_alone]+="$(timed licences "$work/licences-0.5M.csv") "
  cpu[lic_alone]+="$(cat "$work/cpu") "
  fresh
  total=0
  total_cpu=0
  for k in "${kinds[@]}"; do
    s=$(timed "$k" "$work/city/$k.csv")
    times[$k]+="$s "
    cpu[$k]+="$(cat "$work/cpu") "
    total=$(echo "$total + $s" | bc)
    total_cpu=$(echo "$total_cpu + $(cat "$work/cpu")" | bc)
  done
  times[city]+="$total "
  cpu[city]+="$total_cpu "
  times[lic_city]+="$(timed licences "$work/licences-0.5M.csv") "
  cpu[lic_city]+="$(cat "$work/cpu") "
  times[lic_city_rss]+="$(cat "$work/rss") "
done

stats() { # min and median of the numbers given
  printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "min %6.2f s  median %6.2f s", a[1], m}'
}
row() { # label, key
  printf '%-48s %s    %s\n' "$1" "$(stats ${times[$2]})" "$(stats ${cpu[$2]})"
}
printf '%-48s %-30s    %s\n' "import (release CLI, $runs runs)" "wall" "CPU (user + system)"
row "0.5M licences into an empty store" lic_alone
for k in "${kinds[@]}"; do
  row "typical city: $k ($(($(wc -l < "$work/city/$k.csv") - 1)) rows)" "$k"
done
row "typical city: all seven, one after another" city
row "0.5M licences into the full typical city" lic_city
printf '%-48s %s KB\n' "  its peak RSS (max)" "$(printf '%s\n' ${times[lic_city_rss]} | sort -n | tail -1)"
