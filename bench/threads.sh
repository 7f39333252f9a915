#!/usr/bin/env bash
# `qm run --threads` on the reference workload, in one run: wall-clock time
# of 1, 2 (and, given, more) threads, ROUNDS rounds alternating, in memory
# and with --state; checks every run's actions are byte-identical to one
# thread's; prints each thread count's median and its speedup over one.
#   bench/threads.sh [EVENTS] [ROUNDS] [MAX_THREADS]   defaults 1000000 5 2
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
events=${1:-1000000}
rounds=${2:-5}
max=${3:-2}
. "$root/bench/lib.sh"
same=yes
for mode in memory state; do
  declare -A times=()
  for ((r = 1; r <= rounds; r++)); do
    for ((t = 1; t <= max; t++)); do
      extra=()
      if [ "$mode" = state ]; then rm -rf "$work/threads-state"; extra=(--state "$work/threads-state"); fi
      times[$t]+="$(wall "$qm" run "$rules" --events "$stream" --threads "$t" --out "$work/threads-$t.jsonl" \
        --rejects "$work/threads-$t.rej" "${extra[@]}") "
      cmp -s "$work/threads-1.jsonl" "$work/threads-$t.jsonl" || same=NO
    done
  done
  one=$(median ${times[1]})
  for ((t = 1; t <= max; t++)); do
    m=$(median ${times[$t]})
    echo "$mode, --threads $t: ${times[$t]}s; median $m s, $(awk "BEGIN{printf \"%.2f\", $one/$m}")x one thread"
  done
  unset times
done
echo "identical actions: $same"
