#!/usr/bin/env bash
# End-to-end on the reference workload, in one run: qm (jit, interp, one
# thread each; jit on two threads) against the hand-written C++ program for
# the same rules (bench/handwritten_peers20.cc, one thread), checking that all
# write the same actions.
#   bench/compare.sh [EVENTS] [ROUNDS]   default 1000000 (1.1M lines), 3 rounds
# The four run alternately ROUNDS times; each figure is its median (this
# machine moves ±25% between runs, and a run that first touches memory the
# host has not backed pays it in system time: the qm runs take turns first).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
events=${1:-1000000}
rounds=${2:-3}
. "$root/bench/lib.sh"
rate() { sed -n 's/.*(\([0-9]*\) events\/s).*/\1/p'; }
run() { "$qm" run "$rules" --events "$stream" "$@" 2>&1 | rate; }
hw_all='' jit_all='' interp_all='' jit2_all='' same=yes
for ((r = 0; r < rounds; ++r)); do
  hw_all+=" $("$root/build/bench/handwritten_peers20" "$stream" 2>&1 > "$work/hand.jsonl" | rate)"
  # The qm runs take turns going first: the first pays for fresh memory.
  for ((k = 0; k < 3; ++k)); do
    case $(((r + k) % 3)) in
      0) jit_all+=" $(run --engine jit --threads 1 --out "$work/jit.jsonl")" ;;
      1) interp_all+=" $(run --engine interp --threads 1 --out "$work/interp.jsonl")" ;;
      2) jit2_all+=" $(run --engine jit --threads 2 --out "$work/jit2.jsonl")" ;;
    esac
  done
  cmp -s "$work/hand.jsonl" "$work/jit.jsonl" && cmp -s "$work/jit.jsonl" "$work/interp.jsonl" &&
    cmp -s "$work/jit.jsonl" "$work/jit2.jsonl" || same=NO
done
hw=$(median $hw_all) jit=$(median $jit_all) interp=$(median $interp_all) jit2=$(median $jit2_all)
echo "events/s, median of $rounds (all runs):"
echo "hand-written C++: $hw ($hw_all )"
echo "qm --engine jit:  $jit ($jit_all ): $(awk "BEGIN{printf \"%.2f\", $hw/$jit}")x the hand-written program's time"
echo "qm --engine interp: $interp ($interp_all ): $(awk "BEGIN{printf \"%.2f\", $jit/$interp}")x the jit's time"
echo "qm --engine jit --threads 2: $jit2 ($jit2_all ): $(awk "BEGIN{printf \"%.2f\", $hw/$jit2}")x the hand-written program's time"
echo "identical actions: $same"
