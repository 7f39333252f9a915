#!/usr/bin/env bash
# Installs every dependency of docs/architecture.md (Debian 12 packages only),
# then configures and builds. Safe to rerun: it skips what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(cmake ninja-build g++ pkg-config default-jre-headless antlr4 libantlr4-runtime-dev
  llvm-19-dev lld libgtest-dev libgmock-dev libbenchmark-dev
  librocksdb-dev libxml2-dev clang-19 libclang-rt-19-dev strace nlohmann-json3-dev nats-server libnats-dev
  chromium fonts-noto-cjk python3)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The VS Code extension's build (editors/vscode) needs Node.js and npm; a
# machine may have them from elsewhere than Debian.
command -v npm > /dev/null || { missing+=(nodejs npm); PACKAGES+=(nodejs npm); }
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"
fi

BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
fi
cmake --build "$BUILD_DIR" -j2
