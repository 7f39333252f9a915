#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (what CI runs): the normal
# build, then the same tests built with AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
(cd build && ctest -j2 --output-on-failure --timeout 1500)

# Sanitized code runs several times slower: the crash test gets a 200k-event stream.
BUILD_DIR=build-asan scripts/setup.sh -DQM_SANITIZE=ON > /dev/null
(cd build-asan && QM_KILL_EVENTS=200000 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest -j2 --output-on-failure --timeout 1500 -E fuzz_)
