#!/usr/bin/env bash
# Sets up, builds and runs the main job on the bundled example: checks every
# rule file of rules-examples/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh > /dev/null
for f in rules-examples/*/rules.qm; do
  echo "== qm check $f"
  build/cli/qm check "$f"
done
