#!/usr/bin/env bash
# Sets up, builds and runs the main job on a bundled example: checks every
# rule file of rules-examples/, then runs the journey example (behaviour ->
# tag -> journey stage -> push, seed 004) and prints its actions.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh > /dev/null
for f in rules-examples/*/rules.qm; do
  build/cli/qm check "$f" 2>&1 | sed "s#^#$f: #" | tail -1
done
example=rules-examples/journey-cascade
echo "== qm run $example"
build/cli/qm run "$example/rules.qm" --events "$example/events.jsonl" $(cat "$example/args" 2>/dev/null || true)

# The same stream in two halves with durable state: the second run continues
# the first (customers, timers, outputs), then the state is summarised.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lines=$(wc -l < "$example/events.jsonl")
head -n $((lines / 2)) "$example/events.jsonl" > "$work/events.jsonl"
echo "== qm run $example --state (first half, then all of it)"
build/cli/qm run "$example/rules.qm" --events "$work/events.jsonl" --out "$work/actions.jsonl" \
  --rejects "$work/rejects.jsonl" --state "$work/state" 2> /dev/null
cp "$example/events.jsonl" "$work/events.jsonl"
build/cli/qm run "$example/rules.qm" --events "$work/events.jsonl" --out "$work/actions.jsonl" \
  --rejects "$work/rejects.jsonl" --state "$work/state" 2> "$work/summary"
head -n 1 "$work/summary"
if cmp -s "$work/actions.jsonl" "$example/expected.jsonl"; then
  echo "actions identical to one in-memory run ($example/expected.jsonl)"
else
  echo "actions DIFFER from $example/expected.jsonl" >&2
  exit 1
fi
echo "== qm state stats"
build/cli/qm state stats "$work/state"
