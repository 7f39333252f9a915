#!/usr/bin/env bash
# The embedding API against `qm run` on the reference workload (peers20.qm,
# 100k customers, ../shared/bench): the example service host
# (examples/embed/host.cc: a durable Runner fed line by line, committing
# every 100,000 lines) and `qm run --state` (committing at least every
# second), run alternately in one session; then the resident memory per
# customer with and without evicting idle customers (bench/embedding_memory.cc).
#   bench/embedding.sh [EVENTS] [ROUNDS]      default 1000000 3
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$root/../shared/bench
events=${1:-1000000}
rounds=${2:-3}
work=${QM_BENCH_DIR:-/tmp/qm-bench}
mkdir -p "$work"
. "$root/bench/reference_stream.sh"
qm=$root/build/cli/qm
host=$root/build/tests/qm_embed_host
rules=$shared/peers20.qm
timed() {  # prints "seconds rss_kb"
  /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1
}
for round in $(seq "$rounds"); do
  rm -rf "$work/run-state" "$work/host-state"
  read -r qs qm_kb < <(timed "$qm" run "$rules" --events "$stream" --out "$work/run.a" --rejects "$work/run.r" \
    --state "$work/run-state")
  read -r hs host_kb < <(timed "$host" "$rules" "$stream" "$work/host.a" "$work/host.r" "$work/host-state" \
    --commit-every 100000)
  cmp -s "$work/run.a" "$work/host.a" || { echo "the host's actions differ from qm run's"; exit 1; }
  echo "round $round: qm run --state ${qs}s (${qm_kb} KB), API host ${hs}s (${host_kb} KB), host/qm $(echo "scale=3; $hs / $qs" | bc)"
done
rm -rf "$work/host-state"
read -r es evict_kb < <(timed "$host" "$rules" "$stream" "$work/host.a" "$work/host.r" "$work/host-state" \
  --commit-every 100000 --evict-idle 7d)
cmp -s "$work/run.a" "$work/host.a" || { echo "the evicting host's actions differ"; exit 1; }
echo "API host evicting customers idle for 7d: ${es}s, peak ${evict_kb} KB"
# Resident memory per customer after the last commit (not the peak), on a
# stream with turnover: 200,000 customers arriving over 200 days, each active
# for a day.
churn=$work/churn.jsonl
[ -f "$churn" ] || python3 "$root/bench/churn_stream.py" 200000 200 "$churn"
memory=$root/build/bench/embedding_memory
for idle in "" 3d; do
  rm -rf "$work/mem-state"
  echo "evict_idle ${idle:-none}: $(/usr/bin/time -f "(%e s, peak %M KB)" "$memory" "$rules" "$churn" "$work/mem-state" $idle 2>&1 | tr '\n' ' ')"
done
