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
