#!/usr/bin/env bash
# The high-level example (examples/highlevel.c) builds and runs against the
# fixture's share: with --keep it leaves the tree it made, checked on the
# server's disk (directories, the file written and appended to, its copy
# byte for byte); a second run without --keep finds what is there
# (makedirs with exist_ok), lists the same walk and removes the tree.
set -euo pipefail
# shellcheck source=lib/skip.sh
. "$(dirname "$0")/lib/skip.sh"
env_file=${SMBCOPY_TEST_ENV:?run through ctest}
[ -r "$env_file" ] || skip "Samba fixture environment missing: $env_file"
set -a; . "$env_file"; set +a
bin=${SMBCOPY_BUILD_DIR:?}/highlevel
dir=highlevel-example-$$
disk=$SMBCOPY_TEST_SHARE_DIR/$dir
rm -rf "$disk"
run() {
  SMB_USERNAME=$SMBCOPY_TEST_USER SMB_PASSWORD=$SMBCOPY_TEST_PASSWORD SMB_DOMAIN=$SMBCOPY_TEST_DOMAIN \
    "$bin" "$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT" "$SMBCOPY_TEST_SHARE" "$dir" "$@"
}
fail() { echo "example_highlevel: $*" >&2; exit 1; }

out=$(run --keep)
echo "$out"
expected=$'Hello from the smbcopy high-level example.\nA line appended at the end.\n'
size=${#expected}
grep -qx 'connected to 127.0.0.1 with SMB 3.1.1' <<<"$out" || fail "no connection line"
grep -qxF "made $dir/folder/sub" <<<"$out" || fail "no makedirs line"
grep -qxF "copied $dir/folder/file.txt to $dir/folder/sub/copy.txt" <<<"$out" || fail "no copy line"
grep -qxF "stat $dir/folder/sub/copy.txt: $size bytes, modified $(date -u -r "$disk/folder/sub/copy.txt" '+%Y-%m-%d %H:%M:%S') UTC" \
  <<<"$out" || fail "stat line does not match the disk"
grep -qxF "read back $size bytes:" <<<"$out" || fail "no read-back line"
grep -qxF 'A line appended at the end.' <<<"$out" || fail "the appended line was not read back"
# The walk lists exactly what the disk holds, with sizes.
walked=$(sed -n '/^walk /,/^stat /p' <<<"$out" | grep '^  ' | sed -E 's/^  d +/d /; s/^  - +([0-9]+) /f \1 /; s|/$||' | sort)
ondisk=$(cd "$SMBCOPY_TEST_SHARE_DIR" && find "$dir" -mindepth 1 \( -type d -printf 'd %p\n' \) -o \( -type f -printf 'f %s %p\n' \) | sort)
[ "$walked" = "$ondisk" ] || { diff <(echo "$walked") <(echo "$ondisk") >&2; fail "walk differs from the disk"; }
[ "$(echo "$walked" | wc -l)" -eq 4 ] || fail "expected 4 entries, got: $walked"
# The server's disk: the file written then appended, its copy identical, no temporary left.
[ -d "$disk/folder/sub" ] || fail "directory missing on disk"
[ "$(cat "$disk/folder/file.txt"; echo x)" = "${expected}x" ] || fail "file content on disk differs"
cmp "$disk/folder/file.txt" "$disk/folder/sub/copy.txt" || fail "the copy differs"
! find "$disk" -name '*.smbcopy-*' | grep -q . || fail "a temporary file was left"

# Again, without --keep: the tree exists already (exist_ok), and goes.
out=$(run)
echo "$out"
grep -qxF "removed $dir" <<<"$out" || fail "no rmtree line"
[ ! -e "$disk" ] || fail "$disk still exists after rmtree"
echo "example_highlevel: 4 entries walked, copy identical, tree removed"
