#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-19 (ASan + UBSan) in their own build
# tree and runs each for a bounded time: fuzz_check seeded with the rule files
# of the golden tests and examples, fuzz_decode with their event streams.
# usage: run.sh SOURCE_DIR BUILD_DIR SECONDS_PER_TARGET
set -euo pipefail
src=$1 build=$2 seconds=${3:-20}
if [ ! -f "$build/build.ninja" ]; then
  CC=clang-19 CXX=clang++-19 cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DQM_FUZZ=ON -DQM_BUILD_TESTS=OFF > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" -j2 --target fuzz_check fuzz_decode
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
mkdir -p "$corpus/rules" "$corpus/events"
n=0
for f in $(find "$src/tests/check" "$src/rules-examples" "$src/tests/run" "$src/tests/fuzz/regressions" -name '*.qm'); do cp "$f" "$corpus/rules/$((n++)).qm"; done
for f in $(find "$src/rules-examples" "$src/tests/run" -name 'events.jsonl'); do cp "$f" "$corpus/events/$((n++)).jsonl"; done
for target in check:rules decode:events; do
  name=${target%%:*} dir=${target##*:}
  "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -max_len=65536 -print_final_stats=1 "$corpus/$dir"
done
