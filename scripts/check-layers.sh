#!/usr/bin/env bash
# Checks that every source under src/ includes only headers of the layers it
# may use (docs/layers.md):
#   common  -> common
#   smb     -> smb, common
#   engine  -> engine, common
#   cli     -> cli
# and, for all of them, the public headers <smbcopy/...> and system headers.
# The compiler enforces the same through each layer's include path (see
# CMakeLists.txt, smbcopy_layer); this check also catches what an include
# path cannot: a relative "../" that climbs into another layer.
#
#   scripts/check-layers.sh [SOURCE_DIR]    exit 0 when clean, 1 with one line per violation
set -euo pipefail
root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
src=$root/src

declare -A allowed=(
    [common]="common"
    [smb]="smb common"
    [engine]="engine common"
    [cli]="cli"
)

bad=0
for layer in "${!allowed[@]}"; do
    [ -d "$src/$layer" ] || continue
    while IFS= read -r -d '' file; do
        while IFS= read -r line; do
            inc=${line#*\"}
            inc=${inc%%\"*}
            # Where the compiler finds it: beside the file, else under one of
            # the layer's allowed folders (smb also names its own headers
            # from src/smb, as "auth/auth.h").
            found=
            for base in "$(dirname "$file")" $(for l in ${allowed[$layer]}; do echo "$src"; done) "$src/$layer"; do
                if [ -f "$base/$inc" ]; then
                    found=$(realpath "$base/$inc")
                    break
                fi
            done
            if [ -z "$found" ]; then
                echo "$file: #include \"$inc\": not found in what layer '$layer' may use" >&2
                bad=1
                continue
            fi
            ok=
            for l in ${allowed[$layer]}; do
                case $found in "$src/$l"/*) ok=1 ;; esac
            done
            if [ -z "$ok" ]; then
                echo "${file#"$root"/}: #include \"$inc\" reaches ${found#"$root"/}, outside what layer '$layer' may use (${allowed[$layer]})" >&2
                bad=1
            fi
        done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
    done < <(find "$src/$layer" -name '*.[ch]' -print0)
done
# Every folder under src/ must be a known layer.
for d in "$src"/*/; do
    l=$(basename "$d")
    [ -n "${allowed[$l]+x}" ] || { echo "src/$l: not a known layer (scripts/check-layers.sh)" >&2; bad=1; }
done
[ "$bad" = 0 ] && echo "layers: every include within its layer's rules"
exit "$bad"
