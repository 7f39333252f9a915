#!/usr/bin/env bash
# End-to-end on the reference workload, in one run: qm (jit, interp, one
# thread each; jit on two threads) against the hand-written C++ program for
# the same rules (bench/handwritten_peers20.cc, one thread), checking that all
# write the same actions.
#   bench/compare.sh [EVENTS]        default 1000000 (1.1M lines)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
events=${1:-1000000}
work=${QM_BENCH_DIR:-/tmp/qm-bench}
QM_BENCH_DIR=$work "$root/bench/reference.sh" "$events" jit > /dev/null  # makes the stream once
stream=$work/stream-$events.jsonl
rate() { sed -n 's/.*(\([0-9]*\) events\/s).*/\1/p'; }
hw=$("$root/build/bench/handwritten_peers20" "$stream" 2>&1 > "$work/hand.jsonl" | rate)
jit=$("$root/build/cli/qm" run "$root/../shared/bench/peers20.qm" --events "$stream" --engine jit --threads 1 --out "$work/jit.jsonl" 2>&1 | rate)
interp=$("$root/build/cli/qm" run "$root/../shared/bench/peers20.qm" --events "$stream" --engine interp --threads 1 --out "$work/interp.jsonl" 2>&1 | rate)
jit2=$("$root/build/cli/qm" run "$root/../shared/bench/peers20.qm" --events "$stream" --engine jit --threads 2 --out "$work/jit2.jsonl" 2>&1 | rate)
cmp -s "$work/hand.jsonl" "$work/jit.jsonl" && cmp -s "$work/jit.jsonl" "$work/interp.jsonl" && cmp -s "$work/jit.jsonl" "$work/jit2.jsonl" && same=yes || same=NO
echo "hand-written C++: $hw events/s"
echo "qm --engine jit:  $jit events/s ($(awk "BEGIN{printf \"%.2f\", $hw/$jit}")x slower than hand-written)"
echo "qm --engine interp: $interp events/s ($(awk "BEGIN{printf \"%.2f\", $jit/$interp}")x slower than jit)"
echo "qm --engine jit --threads 2: $jit2 events/s ($(awk "BEGIN{printf \"%.2f\", $hw/$jit2}")x the hand-written program's time)"
echo "identical actions: $same"
