#!/usr/bin/env bash
# Compare the USCC check with python-stdnum's `stdnum.cn.uscc.is_valid` on the same
# million codes (one core each). Prints both rates and the ratio.
#
#   bash crates/data/benches/stdnum_compare.sh
#
# Installs python-stdnum with pip if it is missing. The codes file is temporary.
set -euo pipefail
cd "$(dirname "$0")/../../.."

python3 -c 'import stdnum.cn.uscc' 2>/dev/null || pip install --quiet python-stdnum

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
codes="$work/codes.txt"

# One million codes: valid ones of several authorities and regions, and 5% with a wrong
# check character, built with the crate's own generator's arithmetic in Python so the
# file does not depend on the Rust side.
python3 - "$codes" <<'PY'
import sys
A = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
def org_check(body):
    s = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, [3, 7, 9, 10, 5, 8, 4, 2]))
    r = 11 - s % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)
def body(n):
    out = []
    for _ in range(8):
        out.append(A[n % 31]); n //= 31
    return "".join(reversed(out))
prefixes = ["91", "92", "93", "12", "51", "N1", "Y1"]
regions = ["510802", "510821", "110108", "440300"]
with open(sys.argv[1], "w") as f:
    for i in range(1_000_000):
        b = body(i * 7919 + 13)
        c = prefixes[i % len(prefixes)] + regions[i % 4] + b + org_check(b)
        c += A[(31 - sum(A.index(x) * w for x, w in zip(c, W)) % 31) % 31]
        if i % 20 == 0:
            c = c[:-1] + ("0" if c[-1] != "0" else "1")
        f.write(c + "\n")
PY

python3 - "$codes" <<'PY'
import sys, time
from stdnum.cn import uscc
codes = open(sys.argv[1]).read().split()
t = time.perf_counter()
valid = sum(1 for c in codes if uscc.is_valid(c))
secs = time.perf_counter() - t
print(f"python-stdnum: {len(codes)} codes, {valid} valid, {len(codes) / secs / 1e6:.3f}M codes/s")
open(sys.argv[1] + ".stdnum", "w").write(str(len(codes) / secs))
PY

rust=$(taskset -c 0 cargo bench -q -p creditcity-data --bench data -- --codes-file "$codes" | tail -1)
echo "$rust"
python3 - "$codes" "$rust" <<'PY'
import sys, re
stdnum = float(open(sys.argv[1] + ".stdnum").read())
rust = float(re.search(r"([0-9.]+)M codes/s", sys.argv[2]).group(1)) * 1e6
print(f"ratio: {rust / stdnum:.0f}x python-stdnum")
PY
