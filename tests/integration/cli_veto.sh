#!/usr/bin/env bash
# Destinations that veto temporary names (the fixture's "veto" instance:
# its data share has veto files = /*.tmp/.*/, vetotmp only /*.tmp/, vetodot
# only /.*/; Samba answers the CREATE of such a name
# STATUS_OBJECT_NAME_NOT_FOUND):
#   - an upload (a small file, a 3 MiB file, a new directory with a file)
#     to each share arrives whole (bytes and times), exit 0, with exactly one
#     -v line saying that .smbcopy-*.tmp names are refused and smbcopy-*.partial
#     used instead; nothing temporary is left;
#   - an update after the source changed arrives too;
#   - --temp-name inplace writes under the final names, exit 0;
#   - --temp-name dot fails each file with a message naming the refused
#     temporary name and --temp-name, exit 1, the destination unchanged.
set -euo pipefail
# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"
vport=${SMBCOPY_TEST_PORT_VETO:-}
[ -n "$vport" ] && [ -d "${SMBCOPY_TEST_SHARE_DIR_VETO:-}" ] || skip "the Samba fixture has no veto instance"
cli_test_dirs cli_veto
export XDG_STATE_HOME=$work/state
mkdir -p "$XDG_STATE_HOME" "$work/src/d"
printf 'hello\n' >"$work/src/a.txt"
head -c $((3 * 1024 * 1024 + 3)) /dev/urandom >"$work/src/big.bin"
printf 'inside\n' >"$work/src/d/x"

# no_temps DIR TAG: nothing temporary of either form under DIR.
no_temps() {
    local left
    left=$(find "$1" \( -name '.smbcopy-*' -o -name 'smbcopy-*' \) | head -n 3)
    [ -z "$left" ] || fail "$2: temporary entries left: $left"
}

for pair in "data:$SMBCOPY_TEST_SHARE_DIR_VETO" "${SMBCOPY_TEST_VETO_TMP_SHARE:-vetotmp}:${SMBCOPY_TEST_VETO_TMP_SHARE_DIR:-}" \
    "${SMBCOPY_TEST_VETO_DOT_SHARE:-vetodot}:${SMBCOPY_TEST_VETO_DOT_SHARE_DIR:-}"; do
    sh=${pair%%:*} dir=${pair#*:}
    [ -d "$dir" ] || { fail "share $sh: no directory '$dir' in the fixture's environment"; continue; }
    dest=$dir/$name
    cleanup_dirs+=("$dest")
    cli_run "up-$sh" -v "$work/src/" "smb://$SMBCOPY_TEST_HOST:$vport/$sh/$name/"
    [ "$rc" -eq 0 ] || fail "$sh: upload exit $rc: $(grep -v '^ ' "$work/out/up-$sh.err" "$work/out/up-$sh.out" | grep -i 'fail' | head -n 3 | tr '\n' ' ')"
    n=$(cat "$work/out/up-$sh.out" "$work/out/up-$sh.err" | grep -c 'refuses temporary names like .smbcopy-\*.tmp' || true)
    [ "$n" -eq 1 ] || fail "$sh: $n lines say that .smbcopy-*.tmp names are refused, expected 1"
    bash "$fixtures/compare-trees.sh" "$work/src" "$dest" >"$work/out/cmp-$sh" 2>&1 ||
        fail "$sh: the upload differs from the source: $(head -n 3 "$work/out/cmp-$sh" | tr '\n' ' ')"
    no_temps "$dest" "$sh"
done

# An update (the source changed) to the share that vetoes both patterns.
dest=$SMBCOPY_TEST_SHARE_DIR_VETO/$name
head -c 5000 /dev/urandom >"$work/src/big.bin"
printf 'changed\n' >"$work/src/a.txt"
cli_run update "$work/src/" "smb://$SMBCOPY_TEST_HOST:$vport/data/$name/"
[ "$rc" -eq 0 ] || fail "update: exit $rc"
bash "$fixtures/compare-trees.sh" "$work/src" "$dest" >"$work/out/cmp-update" 2>&1 ||
    fail "update: the destination differs from the source: $(head -n 3 "$work/out/cmp-update" | tr '\n' ' ')"
no_temps "$dest" update

# In place, chosen.
cli_run inplace --temp-name inplace "$work/src/" "smb://$SMBCOPY_TEST_HOST:$vport/data/$name-inplace/"
cleanup_dirs+=("$SMBCOPY_TEST_SHARE_DIR_VETO/$name-inplace")
[ "$rc" -eq 0 ] || fail "--temp-name inplace: exit $rc"
bash "$fixtures/compare-trees.sh" "$work/src" "$SMBCOPY_TEST_SHARE_DIR_VETO/$name-inplace" >"$work/out/cmp-inplace" 2>&1 ||
    fail "--temp-name inplace: the destination differs: $(head -n 3 "$work/out/cmp-inplace" | tr '\n' ' ')"

# Only dot names, chosen: each file fails, naming the cause.
cli_run dot --temp-name dot "$work/src/" "smb://$SMBCOPY_TEST_HOST:$vport/data/$name-dot/"
cleanup_dirs+=("$SMBCOPY_TEST_SHARE_DIR_VETO/$name-dot")
[ "$rc" -eq 1 ] || fail "--temp-name dot: exit $rc, expected 1"
n=$(cat "$work/out/dot.out" "$work/out/dot.err" | grep '^FAILED' | grep -c 'refuses the temporary name.*--temp-name' || true)
[ "$n" -eq 2 ] || fail "--temp-name dot: $n FAILED lines name the refused temporary name, expected 2 (a.txt, big.bin)"
[ ! -e "$SMBCOPY_TEST_SHARE_DIR_VETO/$name-dot/a.txt" ] || fail "--temp-name dot: a.txt arrived anyway"

cli_test_end "cli_veto: uploads to shares that veto temporary names arrive whole; --temp-name inplace and dot"
