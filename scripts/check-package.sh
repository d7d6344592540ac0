#!/usr/bin/env bash
# Installs the build into a private prefix, then builds examples/quickstart.c
# outside the tree twice: with CMake's find_package(smbcopy) and with
# pkg-config; each program must run and print the library's version.
#
#   scripts/check-package.sh BUILD_DIR [SOURCE_DIR]
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "${2:-$(dirname "$0")/..}" && pwd)
tmp=$(mktemp -d "$build/package-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(find "$tmp/prefix" -name 'libsmbcopy.so*' -printf '%h\n' | head -n1)
[ -n "$libdir" ] || { echo "check-package: libsmbcopy.so was not installed" >&2; exit 1; }

# 1. CMake package.
mkdir -p "$tmp/consumer"
cat >"$tmp/consumer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.22)
project(consumer C)
find_package(smbcopy 0.1 REQUIRED)
add_executable(quickstart $root/examples/quickstart.c)
target_link_libraries(quickstart PRIVATE smbcopy::smbcopy)
CMAKE
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer/build" >/dev/null
LD_LIBRARY_PATH=$libdir "$tmp/consumer/build/quickstart" --version >"$tmp/cmake.out"

# 2. pkg-config.
pc=$(find "$tmp/prefix" -name smbcopy.pc -printf '%h\n' | head -n1)
# shellcheck disable=SC2046 # word splitting of the flags is wanted
cc -o "$tmp/quickstart-pc" "$root/examples/quickstart.c" \
    $(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs smbcopy)
LD_LIBRARY_PATH=$libdir "$tmp/quickstart-pc" --version >"$tmp/pc.out"

want=$(sed -n 's/^project(smbcopy VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
for out in "$tmp/cmake.out" "$tmp/pc.out"; do
    grep -qx "smbcopy library $want (headers $want)" "$out" || {
        echo "check-package: $(basename "$out" .out) consumer printed '$(cat "$out")', wanted 'smbcopy library $want (headers $want)'" >&2
        exit 1
    }
done
echo "package: find_package and pkg-config consumers built and ran against smbcopy $want"
