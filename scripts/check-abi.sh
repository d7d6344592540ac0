#!/usr/bin/env bash
# Checks that the shared library exports exactly the public API: every
# function that include/smbcopy/*.h declares with SMBCOPY_API, and nothing
# else (the library is built with hidden visibility).
#
#   scripts/check-abi.sh LIBRARY [SOURCE_DIR]
set -euo pipefail
lib=$1
root=$(cd "${2:-$(dirname "$0")/..}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declared: the name before the first '(' of each SMBCOPY_API declaration.
sed -n 's/^SMBCOPY_API [^(]*[ *]\([a-z_][a-z_0-9]*\)(.*/\1/p' "$root"/include/smbcopy/*.h | sort -u >"$tmp/declared"
# Exported: defined text symbols of the dynamic symbol table.
nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort -u >"$tmp/exported"

[ -s "$tmp/declared" ] || { echo "check-abi: no SMBCOPY_API declarations found under $root/include" >&2; exit 1; }
extra=$(comm -13 "$tmp/declared" "$tmp/exported")
missing=$(comm -23 "$tmp/declared" "$tmp/exported")
[ -z "$extra" ] || echo "exported but not declared public:" $extra >&2
[ -z "$missing" ] || echo "declared public but not exported:" $missing >&2
[ -z "$extra$missing" ] || exit 1
echo "abi: $(wc -l <"$tmp/exported") functions exported, each declared in include/smbcopy/"
