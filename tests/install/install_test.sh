#!/usr/bin/env bash
# The package as a service engineer uses it (docs/embedding.md): install the
# build into a fresh prefix, check that the shared library exports the public
# API only, then build the example hosts out of tree against the installed
# files (C++ through find_package(Qianmian), C through pkg-config) and check
# that they write what `qm run` writes.
#   install_test.sh BUILD_DIR SOURCE_DIR WORK_DIR [COMPILER FLAGS...]
set -euo pipefail
build=$1 src=$2 work=$3
shift 3
flags="$*"  # the sanitizer build's, so the hosts can load its library
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
lib=$(ls "$prefix"/lib*/libqianmian.so.0)
libdir=$(dirname "$lib")
test -f "$prefix/include/qianmian/qianmian.hpp" && test -f "$prefix/include/qianmian/qianmian.h"
test -f "$libdir/cmake/Qianmian/QianmianConfig.cmake" && test -f "$libdir/pkgconfig/qianmian.pc"
test -x "$prefix/bin/qm"
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libqianmian.so.0 ] || { echo "soname is '$soname'"; exit 1; }
# Only the C API (qm_*) and the C++ API (namespace qianmian) are exported.
others=$(nm -D --defined-only -C "$lib" | awk '{ $1 = ""; $2 = ""; print substr($0, 3) }' |
         grep -v -E '^(qm_|qianmian::|QIANMIAN_0)' || true)
[ -z "$others" ] || { echo "exported beyond the public API:"; echo "$others" | head; exit 1; }
nm -D --defined-only "$lib" | grep -q ' T qm_runner_open@@QIANMIAN_0$'

examples=$src/rules-examples
expect_same() {  # NAME ACTUAL EXPECTED
  cmp -s "$2" "$3" || { echo "$1 differs from its expected output"; diff "$2" "$3" | head; exit 1; }
}

# C++: find_package(Qianmian) -> Qianmian::qianmian.
cmake -S "$src/examples/embed" -B "$work/cxx" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" > "$work/cxx.log"
cmake --build "$work/cxx" >> "$work/cxx.log"
for example in journey-cascade late-feeds; do
  args=()
  [ -f "$examples/$example/args" ] && read -r -a args < "$examples/$example/args"
  "$work/cxx/host" "$examples/$example/rules.qm" "$examples/$example/events.jsonl" "$work/$example.a" \
    "$work/$example.r" "$work/$example.state" "${args[@]}" 2> "$work/$example.log"
  expect_same "C++ host on $example" "$work/$example.a" "$examples/$example/expected.jsonl"
  expect_same "C++ host's rejects on $example" "$work/$example.r" "$examples/$example/expected_rejects.jsonl"
done

# C: cc host.c $(pkg-config --cflags --libs qianmian).
export PKG_CONFIG_PATH=$libdir/pkgconfig
[ "$(pkg-config --modversion qianmian)" = "$("$prefix/bin/qm" version | cut -d' ' -f2)" ]
# shellcheck disable=SC2046,SC2086
cc -std=c99 -Wall -Werror $flags "$src/examples/embed/host.c" $(pkg-config --cflags --libs qianmian) -o "$work/host-c"
LD_LIBRARY_PATH=$libdir "$work/host-c" "$examples/late-feeds/rules.qm" lateness=2h \
  < "$examples/late-feeds/events.jsonl" > "$work/c.a" 2> "$work/c.r"
expect_same "C host" "$work/c.a" "$examples/late-feeds/expected.jsonl"
expect_same "C host's rejects" "$work/c.r" "$examples/late-feeds/expected_rejects.jsonl"
echo "installed package: C++ and C hosts agree with qm run"
rm -rf "$work"
