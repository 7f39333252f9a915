#!/usr/bin/env bash
# `qm report` on a large state directory (issue 17: "1M customers in
# seconds"): CUSTOMERS customers each order and visit once under
# tests/state/kill.qm (stages, tags, a segment, timers), committed once; then
# `qm report` and, for comparison, `qm state stats` on the same directory,
# alternately ROUNDS times. Prints each command's median wall-clock seconds and
# peak memory.
#   bench/report.sh [CUSTOMERS] [ROUNDS]     default 1000000 3
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
customers=${1:-1000000}
rounds=${2:-3}
work=${QM_BENCH_DIR:-/tmp/qm-bench}/report
qm=$root/build/cli/qm
mkdir -p "$work"
state=$work/state-$customers
if [ ! -d "$state" ]; then
  awk -v n="$customers" 'BEGIN {
    for (i = 0; i < n; ++i) {
      ts = 1704067200 + int(i * 86400 / n)
      printf "{\"type\":\"order\",\"customer\":\"c%d\",\"ts\":%d,\"amount\":%d.%02d}\n", i, ts, (i * 7919) % 3000, i % 100
      printf "{\"type\":\"visit\",\"customer\":\"c%d\",\"ts\":%d,\"page\":\"p%d\"}\n", i, ts, i % 20
    } }' > "$work/stream.jsonl"
  "$qm" run "$root/tests/state/kill.qm" --events "$work/stream.jsonl" --state "$state" --out "$work/a" \
    --rejects "$work/r" --commit-every 100000000 2> "$work/run.log"
  rm -f "$work/stream.jsonl" "$work/a" "$work/r"
fi
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
time_of() {  # seconds and peak KB of a command
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > /dev/null 2>&1
  cat "$work/time"
}
report=() stats=() report_kb=0
for ((r = 0; r < rounds; ++r)); do
  read -r s kb < <(time_of "$qm" report --state "$state" -o "$work/report.html")
  report+=("$s"); report_kb=$kb
  read -r s _ < <(time_of "$qm" state stats "$state")
  stats+=("$s")
done
echo "$customers customers, state $(du -sm "$state" | cut -f1) MB"
echo "qm report:      median $(median "${report[@]}") s (${report[*]}), peak ${report_kb} KB, page $(wc -c < "$work/report.html") bytes"
echo "qm state stats: median $(median "${stats[@]}") s (${stats[*]})"
