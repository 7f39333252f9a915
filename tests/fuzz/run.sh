#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-19 (ASan + UBSan) in their own build
# tree and runs each for a bounded time, seeded with the golden corpus.
# usage: run.sh SOURCE_DIR BUILD_DIR SECONDS
set -euo pipefail
src=$1 build=$2 seconds=${3:-20}
if [ ! -f "$build/build.ninja" ]; then
  CC=clang-19 CXX=clang++-19 cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DQM_FUZZ=ON -DQM_BUILD_TESTS=OFF > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" -j2 --target fuzz_check
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
find "$src/tests/check" "$src/rules-examples" -name '*.qm' -exec cp {} "$corpus/" \; 2>/dev/null || true
"$build/tests/fuzz/fuzz_check" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
  -max_len=65536 -print_final_stats=1 "$corpus"
