#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-19 (ASan + UBSan) in their own build
# tree and runs each for a bounded time: fuzz_check seeded with the rule files
# of the golden tests and examples, fuzz_decode with their event streams,
# fuzz_state with real state records (written by the target itself), fuzz_run
# with `qm run` command lines, fuzz_fmt with the rule files (idempotent, same tree),
# fuzz_qmtest with the rule tests (.qmtest), fuzz_lsp with the rule files
# (as an editor's open document, asked hover, completion, definitions, renames),
# fuzz_lsp_wire with `qm lsp` sessions (one JSON-RPC message per line, seeds/).
# usage: run.sh SOURCE_DIR BUILD_DIR SECONDS_PER_TARGET
set -euo pipefail
src=$1 build=$2 seconds=${3:-20}
if [ ! -f "$build/build.ninja" ]; then
  CC=clang-19 CXX=clang++-19 cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DQM_FUZZ=ON -DQM_BUILD_TESTS=OFF > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" -j2 --target fuzz_check fuzz_fmt fuzz_qmtest fuzz_decode fuzz_state fuzz_run fuzz_lsp fuzz_lsp_wire
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
mkdir -p "$corpus/rules" "$corpus/events" "$corpus/state" "$corpus/run" "$corpus/qmtest" "$corpus/lspwire"
cp "$src"/tests/fuzz/seeds/lsp_wire_*.jsonl "$corpus/lspwire/"
n=0
for f in $(find "$src/tests/check" "$src/rules-examples" "$src/tests/run" "$src/tests/fuzz/regressions" -name '*.qm'); do cp "$f" "$corpus/rules/$((n++)).qm"; done
for f in $(find "$src/rules-examples" "$src/tests" -name '*.qmtest'); do cp "$f" "$corpus/qmtest/$((n++)).qmtest"; done
for f in $(find "$src/rules-examples" "$src/tests/run" -name 'events.jsonl'); do cp "$f" "$corpus/events/$((n++)).jsonl"; done
QM_FUZZ_SEEDS="$corpus/state" "$build/tests/fuzz/fuzz_state" -runs=0 "$corpus/state" > /dev/null 2>&1
# Inputs that once crashed a target, replayed first (regressions/state_*: state records).
for f in "$src"/tests/fuzz/regressions/state_*; do cp "$f" "$corpus/state/"; done
printf 'rules.qm\n--events\nevents.jsonl\n--out\na\n--rejects\nr\n--state\ns\n--commit-every\n1' > "$corpus/run/1"
printf 'rules.qm\n--events\nevents.jsonl\n--until\n2030-01-01T00:00:00Z\n--engine\ninterp\n--tz\nZ' > "$corpus/run/2"
printf 'rules.qm\n--events\n-\n--out\nevents.jsonl\n--rejects\n./r' > "$corpus/run/3"
printf 'rules.qm\n--events\nevents.jsonl\n--out\na\n--rejects\nr\n--state\ns\n--lateness\n1d12h\n--commit-every\n1' > "$corpus/run/4"
for target in check:rules fmt:rules lsp:rules lsp_wire:lspwire qmtest:qmtest decode:events state:state run:run; do
  name=${target%%:*} dir=${target##*:}
  # fuzz_run's qm prints to stdout and stderr on every input: closed (a crash report still shows).
  mask=0; [ "$name" = run ] && mask=3; [ "$name" = lsp_wire ] && mask=1
  dict=(); [ "$name" = check ] || [ "$name" = fmt ] || [ "$name" = lsp ] && dict=(-dict="$src/tests/fuzz/rules.dict")
  # TMPDIR: fuzz_run's scratch directory goes away with the corpus.
  TMPDIR="$corpus" "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -max_len=65536 -print_final_stats=1 -close_fd_mask=$mask "${dict[@]}" "$corpus/$dir"
done
