# Sourced by the benchmarks on the reference workload: makes its stream once
# (reference_stream.sh) and sets $stream, $rules and $qm, with two helpers.
# Needs $root and $events; QM_BENCH_DIR moves the scratch directory.
shared=$root/../shared/bench
work=${QM_BENCH_DIR:-/tmp/qm-bench}
mkdir -p "$work"
. "$root/bench/reference_stream.sh"
rules=$shared/peers20.qm
qm=$root/build/cli/qm
wall() {  # prints the wall-clock seconds of the command
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  end=$(date +%s.%N)
  awk "BEGIN{printf \"%.3f\", $end - $start}"
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
