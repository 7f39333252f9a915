#!/usr/bin/env bash
# End to end through NATS JetStream (docs/scale-out.md) on the reference
# workload, against `qm run` on the same events, rounds interleaved: a
# nats-server on 127.0.0.1 with a store in the scratch directory; per round,
# `qm run` in memory and with --state, `qm publish` into 8 partitions, then
# one `qm worker` on all 8 and two workers on 4 each, run until drained.
# Checks every run wrote as many actions as `qm run`.
#   bench/nats.sh [EVENTS] [ROUNDS]   default 1000000 (1.1M lines), 3
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
events=${1:-1000000}
rounds=${2:-3}
. "$root/bench/lib.sh"
nats=$work/nats
rm -rf "$nats"
mkdir -p "$nats"
port=$((20000 + RANDOM % 20000))
url=nats://127.0.0.1:$port
nats-server -js -a 127.0.0.1 -p "$port" -sd "$nats/store" -l "$nats/server.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

# Actions and rejects a worker wrote, from its final JSON report lines.
written() { grep '"state":"drained"' "$1" | sed 's/.*"actions":\([0-9]*\),"rejects":\([0-9]*\).*/\1 \2/' |
  awk '{a += $1 + $2} END {print a + 0}'; }

lines=$(wc -l < "$stream")
# The heartbeat: every partition's timers fire up to the last event's time,
# as one run fires them by its last event (docs/scale-out.md, "Timers").
until=$(sed -n 's/^{"ts":\([0-9]*\),.*/\1/p' "$stream" | sort -n | tail -n 1)
mem=() dur=() pub=() one=() two=()
expected=""
for i in $(seq "$rounds"); do
  mem+=("$(wall "$qm" run "$rules" --events "$stream" --out "$work/nats-run.jsonl" --rejects "$work/nats-run.rej")")
  expected=$(cat "$work/nats-run.jsonl" "$work/nats-run.rej" | wc -l)
  rm -rf "$nats/run-state"
  dur+=("$(wall "$qm" run "$rules" --events "$stream" --out "$work/nats-run.jsonl" --rejects "$work/nats-run.rej" \
    --state "$nats/run-state")")
  pub+=("$(wall "$qm" publish "$rules" --events "$stream" --nats "$url" --stream "EV$i" --partitions 8 --until "$until")")
  rm -rf "$nats/one"
  start=$(date +%s.%N)
  "$qm" worker "$rules" --nats "$url" --stream "EV$i" --out-stream "ONE$i" --state "$nats/one" --drain \
    --format json --progress-every 1h 2> "$nats/one.log"
  end=$(date +%s.%N)
  one+=("$(awk "BEGIN{printf \"%.3f\", $end - $start}")")
  rm -rf "$nats/two-a" "$nats/two-b"
  start=$(date +%s.%N)
  "$qm" worker "$rules" --nats "$url" --stream "EV$i" --out-stream "TWO$i" --state "$nats/two-a" --partitions 0-3 \
    --drain --format json --progress-every 1h 2> "$nats/two-a.log" &
  a=$!
  "$qm" worker "$rules" --nats "$url" --stream "EV$i" --out-stream "TWO$i" --state "$nats/two-b" --partitions 4-7 \
    --drain --format json --progress-every 1h 2> "$nats/two-b.log"
  wait $a
  end=$(date +%s.%N)
  two+=("$(awk "BEGIN{printf \"%.3f\", $end - $start}")")
done
rate() { awk "BEGIN{printf \"%.0f\", $lines/$1}"; }
m=$(median "${mem[@]}"); d=$(median "${dur[@]}"); p=$(median "${pub[@]}"); o=$(median "${one[@]}"); t=$(median "${two[@]}")
echo "qm run, in memory:        ${mem[*]} s; median $m s, $(rate "$m") lines/s"
echo "qm run --state:           ${dur[*]} s; median $d s, $(rate "$d") lines/s"
echo "qm publish, 8 partitions: ${pub[*]} s; median $p s, $(rate "$p") lines/s"
echo "1 worker, partitions 0-7: ${one[*]} s; median $o s, $(rate "$o") lines/s, $(awk "BEGIN{printf \"%.0f%%\", 100*$d/$o}") of qm run --state"
echo "2 workers, 0-3 and 4-7:   ${two[*]} s; median $t s, $(rate "$t") lines/s, $(awk "BEGIN{printf \"%.0f%%\", 100*$d/$t}") of qm run --state"
w2=$(( $(written "$nats/two-a.log") + $(written "$nats/two-b.log") ))
echo "lines written: qm run $expected, 1 worker $(written "$nats/one.log"), 2 workers $w2"
