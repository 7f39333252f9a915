#!/usr/bin/env bash
# Durable state against in-memory on the reference workload, in one run:
# wall-clock time of `qm run` without and with --state (a fresh directory
# each time; the default commit interval, then every 100k lines), three runs
# each, interleaved; checks the actions are identical; then the state
# directory's bytes on disk per customer.
#   bench/durable.sh [EVENTS]        default 1000000 (1.1M lines)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
events=${1:-1000000}
. "$root/bench/lib.sh"
mem=() dur=() dur100k=()
for i in 1 2 3; do
  mem+=("$(wall "$qm" run "$rules" --events "$stream" --out "$work/mem.jsonl" --rejects "$work/mem.rej")")
  rm -rf "$work/state"
  dur+=("$(wall "$qm" run "$rules" --events "$stream" --out "$work/dur.jsonl" --rejects "$work/dur.rej" --state "$work/state")")
  rm -rf "$work/state100k"
  dur100k+=("$(wall "$qm" run "$rules" --events "$stream" --out "$work/dur100k.jsonl" --rejects "$work/dur100k.rej" \
    --state "$work/state100k" --commit-every 100000)")
done
cmp -s "$work/mem.jsonl" "$work/dur.jsonl" && cmp -s "$work/mem.jsonl" "$work/dur100k.jsonl" && same=yes || same=NO
lines=$(wc -l < "$stream")
m=$(median "${mem[@]}"); d=$(median "${dur[@]}"); d100=$(median "${dur100k[@]}")
echo "in-memory:                 ${mem[*]} s; median $m s, $(awk "BEGIN{printf \"%.0f\", $lines/$m}") lines/s"
echo "--state (defaults):        ${dur[*]} s; median $d s, $(awk "BEGIN{printf \"%.0f\", $lines/$d}") lines/s, $(awk "BEGIN{printf \"%.0f%%\", 100*$m/$d}") of in-memory"
echo "--state --commit-every 100000: ${dur100k[*]} s; median $d100 s, $(awk "BEGIN{printf \"%.0f%%\", 100*$m/$d100}") of in-memory"
echo "identical actions: $same"
customers=$("$qm" state stats "$work/state" --format json | sed 's/.*"customers":\([0-9]*\).*/\1/')
bytes=$(du -sb "$work/state" | cut -f1)
echo "state on disk: $bytes bytes for $customers customers, $((bytes / customers)) bytes per customer"
