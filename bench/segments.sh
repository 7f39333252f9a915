#!/usr/bin/env bash
# What one segment refresh costs (D13, issue 14): CUSTOMERS customers each
# order once during a day, then one more order passes the refresh instant.
# The same stream runs with and without a `top 10%` segment, alternately
# ROUNDS times (the machine's noise hits both alike); the difference of the
# medians is one refresh: ranking every customer by sum(order.amount) and
# the tag steps of the 10% who join. Also prints the peak resident memory of
# each (the refresh's rank table is transient).
#   bench/segments.sh [CUSTOMERS] [ROUNDS] [ENGINE]     default 100000 3 jit
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
customers=${1:-100000}
rounds=${2:-3}
engine=${3:-jit}
work=${QM_BENCH_DIR:-/tmp/qm-bench}/segments
qm=$root/build/cli/qm
mkdir -p "$work"
stream=$work/stream-$customers.jsonl
if [ ! -s "$stream" ]; then
  python3 - "$customers" "$stream" <<'PY'
import random, sys
n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
start = 1704067200  # 2024-01-01T00:00:00Z; the refresh is at 2024-01-01T19:00:00Z (03:00 +08:00)
with open(path, "w") as out:
    for i in range(n):
        ts = start + i * 64800 // n  # within the first 18 hours
        out.write('{"type":"order","customer":"c%d","ts":%d,"amount":%d.%02d}\n'
                  % (i, ts, rng.randrange(1, 5000), rng.randrange(100)))
    out.write('{"type":"order","customer":"c0","ts":%d,"amount":1}\n' % (start + 72000))
PY
fi
cat > "$work/base.qm" <<'EOF2'
zone +08:00
event order { amount: money }
profile { 积分: int = 0 }
rule 积分: when order then add 积分 1
# The same aggregate as the segment's, so that the difference is the refresh.
rule 巨额: when order and sum(order.amount) > 100000000 then push 不会发生
EOF2
cat > "$work/segment.qm" <<'EOF2'
segment 大客户 "消费前 10%" top 10% by sum(order.amount) every 1d at 03:00
rule 大客户: when tagged 大客户 then push VIP群
EOF2

seconds() {  # seconds FILES...: wall time of one run, peak KB to $work/rss
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f %M -o "$work/rss" "$qm" run "$@" --events "$stream" --engine "$engine" --out "$work/out.jsonl" \
    --rejects /dev/null 2> /dev/null
  t1=$(date +%s.%N)
  awk "BEGIN{printf \"%.3f\", $t1 - $t0}"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=() with=()
for ((r = 0; r < rounds; r++)); do
  base+=("$(seconds "$work/base.qm")"); base_kb=$(cat "$work/rss")
  with+=("$(seconds "$work/base.qm" "$work/segment.qm")"); with_kb=$(cat "$work/rss")
done
members=$(grep -c '"segment 大客户"' "$work/out.jsonl" || true)
b=$(printf '%s\n' "${base[@]}" | median)
w=$(printf '%s\n' "${with[@]}" | median)
echo "$customers customers ($engine): run $b s without the segment, $w s with it;" \
  "one refresh $(awk "BEGIN{printf \"%.3f\", $w - $b}") s ($members joined);" \
  "peak memory $((base_kb / 1024)) MB without, $((with_kb / 1024)) MB with"
