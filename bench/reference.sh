#!/usr/bin/env bash
# The reference workload of ../shared/bench: 100k customers, 1M events plus a
# profile_load per customer (1.1M lines), peers20.qm. Generates the stream
# once (python3), then runs `qm run` on it and reports events/s and the
# resident memory per customer.
#   bench/reference.sh [EVENTS] [ENGINE]      default 1000000 interp
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$root/../shared/bench
events=${1:-1000000}
engine=${2:-interp}
work=${QM_BENCH_DIR:-/tmp/qm-bench}
mkdir -p "$work"
. "$root/bench/reference_stream.sh"
# An empty stream gives the baseline memory of the process itself.
: > "$work/empty.jsonl"
base_kb=$(/usr/bin/time -f %M "$root/build/cli/qm" run "$shared/peers20.qm" --events "$work/empty.jsonl" \
  --engine "$engine" --out /dev/null 2>&1 >/dev/null | tail -1)
out=$( { /usr/bin/time -f "rss_kb=%M" "$root/build/cli/qm" run "$shared/peers20.qm" --events "$stream" \
  --engine "$engine" --out /dev/null --rejects /dev/null; } 2>&1 )
echo "$out"
rss_kb=$(echo "$out" | sed -n 's/^rss_kb=//p')
customers=100000
echo "state per customer: $(( (rss_kb - base_kb) * 1024 / customers )) bytes (RSS $rss_kb KB - baseline $base_kb KB, $customers customers)"
