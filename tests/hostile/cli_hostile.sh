#!/usr/bin/env bash
# The smbcopy command against hostile_smbd, downloading into a fresh local
# destination inside a sandbox:
#   evil-listing        every good file arrives with the right bytes, each
#                       hostile name is refused in the JSON summary, exit 1
#                       (some files failed), nothing outside the destination
#   close-mid-read      one clear line, exit 4 (connection lost), no file
#   close-mid-header    under its final name, nothing outside the destination
#   bad-signature-read  one FAILED line per file naming the signature, exit 1,
#                       no file under its final name
#   short-write         an upload (plain: sendfile; --sign: buffered writes) to
#                       a server that takes half of each WRITE: every file
#                       arrives with its bytes (a sparse one too), exit 0
#   endless-same-page   a listing that never ends fails its directory: one
#                       line naming it, exit 1, within seconds
#   endless-new-names   stopped at --max-dir-entries, the option named, exit 1
#   duplicate-names     dup.txt listed twice: reported FAILED with "twice",
#                       exit 1 (the engine's check)
#   bad-sd              with --acls, a malformed descriptor answer stops the
#                       copy (a protocol error) saying so, exit 1, no file
#                       under its final name; without --acls every file
#                       arrives
#   sd-changed          an upload with --acls to a share that takes each
#                       descriptor and reads back another: every file
#                       arrives, each reported not kept naming what differs
#                       (the check after the write), exit 0
#   good, --store       an upload with --acls to a share keeping no
#                       descriptors: every file arrives (a small one written
#                       whole, a large one through an open file), each
#                       descriptor reported not kept, exit 0
# Environment: SMBCOPY_CLI and HOSTILE_SMBD (set by CTest).
set -u
CLI=${SMBCOPY_CLI:?}
SRV=${HOSTILE_SMBD:?}
# shellcheck source=../integration/lib/skip.sh
. "$(dirname "$0")/../integration/lib/skip.sh"
command -v perl >/dev/null || skip "perl is needed"
command -v python3 >/dev/null || skip "python3 is needed (to give local files a security descriptor)"
command -v jq >/dev/null || skip "jq is needed"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cli_hostile.XXXXXX")
SRV_PID=
cleanup() {
    [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL [$MODE]: $*"; failures=$((failures + 1)); }

# The expected content of the good files.
mkdir -p "$WORK/expect/sub"
printf 'hello hostile world\n' >"$WORK/expect/good1.txt"
printf 'third file\n' >"$WORK/expect/sub/good3.txt"
perl -e 'print join("", map { chr($_ % 251) } 0 .. 99999)' >"$WORK/expect/good2.bin"
printf 'surrogate\n' >"$WORK/expect/surrogate"

start_server() {
    "$SRV" --mode "$1" --port-file "$WORK/port" "${@:2}" >/dev/null 2>"$WORK/server.err" &
    SRV_PID=$!
    for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
    PORT=$(cat "$WORK/port")
}

stop_server() {
    kill "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    SRV_PID=
    rm -f "$WORK/port"
}

# Run smbcopy in a fresh sandbox: $SANDBOX/dest is the destination and
# $SANDBOX/sentinel a neighbour that must stay as it is.
run_cli() {
    SANDBOX="$WORK/sandbox-$MODE"
    mkdir -p "$SANDBOX/sentinel"
    echo keep >"$SANDBOX/sentinel/file"
    (cd "$SANDBOX" && find . -path ./dest -prune -o -print | sort) >"$WORK/before"
    local t0=$SECONDS
    SMB_PASSWORD=hostile-pass XDG_STATE_HOME="$WORK/state" timeout 120 \
        "$CLI" "$@" --retry-for 0 --timeout 3 "smb://tester@127.0.0.1:$PORT/share" "$SANDBOX/dest" \
        >"$WORK/out" 2>"$WORK/err"
    RC=$?
    ELAPSED=$((SECONDS - t0))
    (cd "$SANDBOX" && find . -path ./dest -prune -o -print | sort) >"$WORK/after"
    cmp -s "$WORK/before" "$WORK/after" || fail "something changed outside the destination: $(diff "$WORK/before" "$WORK/after" | tr '\n' ' ')"
    [ "$(cat "$SANDBOX/sentinel/file")" = keep ] || fail "the sentinel file changed"
    [ "$ELAPSED" -le 30 ] || fail "took ${ELAPSED}s"
}

# Every regular file under dest that has a final name must hold exactly the expected bytes.
check_final_names() {
    local f rel want
    while IFS= read -r -d '' f; do
        rel=${f#"$SANDBOX/dest/"}
        case "$rel" in
        .smbcopy-*.tmp | */.smbcopy-*.tmp | .smbcopy-*.tmp/*) continue ;;
        esac
        case "$rel" in
        good1.txt | good2.bin | sub/good3.txt) want="$WORK/expect/$rel" ;;
        s?*x) want="$WORK/expect/surrogate" ;;
        *) fail "unexpected file '$rel' in the destination"; continue ;;
        esac
        cmp -s "$f" "$want" || fail "'$rel' is under its final name with the wrong bytes"
    done < <(find "$SANDBOX/dest" -type f -print0 2>/dev/null)
}

# ---- evil-listing
MODE=evil-listing
start_server "$MODE"
run_cli --json
stop_server
[ "$RC" -eq 1 ] || fail "exit $RC, expected 1 (some files failed)"
for f in good1.txt good2.bin sub/good3.txt; do
    cmp -s "$SANDBOX/dest/$f" "$WORK/expect/$f" || fail "$f missing or wrong"
done
sur=$(printf 's\355\240\200x') # U+D800 kept as WTF-8
cmp -s "$SANDBOX/dest/$sur" "$WORK/expect/surrogate" || fail "the surrogate-named file missing or wrong"
check_final_names
for name in '"../x"' '"a/b"' '"a\\\\b"' '"C:x"'; do
    grep -q "{\"path\":$name,\"reason\":\"refused entry from the source" "$WORK/out" || fail "no refusal of $name in the JSON"
done
grep -q '"reason":"an entry with an undecodable name was not copied"' "$WORK/out" || fail "the name with a NUL was not reported"
[ "$(find "$SANDBOX/dest" -mindepth 1 | wc -l)" -eq 5 ] || fail "the destination holds more than the 4 good files and sub: $(find "$SANDBOX/dest" | tr '\n' ' ')"

# ---- connection closed in the middle of a frame
for MODE in close-mid-read close-mid-header; do
    start_server "$MODE"
    run_cli -q
    stop_server
    [ "$RC" -eq 4 ] || fail "exit $RC, expected 4 (connection lost)"
    [ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "not one line on stderr: $(cat "$WORK/err")"
    # A close is "closed by the server" whether the client saw it as the end of
    # the stream, a reset or a broken pipe.
    grep -E -q "^smbcopy: (.*: )?connection to 127.0.0.1 lost.*closed by the server" "$WORK/err" ||
        fail "unclear message: $(cat "$WORK/err")"
    check_final_names
done

# ---- every READ answer badly signed
MODE=bad-signature-read
start_server "$MODE"
run_cli -q
stop_server
[ "$RC" -eq 1 ] || fail "exit $RC, expected 1 (some files failed)"
for f in good1.txt good2.bin sub/good3.txt; do
    grep -q "^FAILED $f: .*signature does not verify" "$WORK/err" "$WORK/out" || fail "no signature failure reported for $f"
    [ -e "$SANDBOX/dest/$f" ] && fail "$f exists under its final name"
done
check_final_names

# ---- short WRITEs on upload: every byte arrives, or smbcopy fails naming the file
MODE=short-write
mkdir -p "$WORK/up/d"
head -c 3000001 /dev/urandom >"$WORK/up/dense.bin"    # plain: sent with sendfile
printf 'hello short writes\n' >"$WORK/up/d/small.txt" # written whole in one compound
truncate -s 8M "$WORK/up/sparse.bin"                  # holes: buffered writes, zeros skipped
for at in 1 3 5; do
    head -c 700000 /dev/urandom | dd of="$WORK/up/sparse.bin" bs=1M seek="$at" conv=notrunc status=none
done
for sign in "" --sign; do
    rm -rf "$WORK/store"
    mkdir -p "$WORK/store"
    start_server "$MODE" --store "$WORK/store"
    SMB_PASSWORD=hostile-pass XDG_STATE_HOME="$WORK/state" timeout 120 \
        "$CLI" -q $sign --retry-for 0 --timeout 3 "$WORK/up" "smb://tester@127.0.0.1:$PORT/share/up" \
        >"$WORK/out" 2>"$WORK/err"
    RC=$?
    stop_server
    for f in dense.bin sparse.bin d/small.txt; do
        if [ -e "$WORK/store/up/$f" ]; then
            cmp -s "$WORK/up/$f" "$WORK/store/up/$f" || fail "${sign:-plain}: $f arrived with other bytes (exit $RC)"
        elif [ "$RC" -eq 0 ] || ! grep -q "$f" "$WORK/err" "$WORK/out"; then
            fail "${sign:-plain}: $f is missing and not reported (exit $RC)"
        fi
    done
    [ "$RC" -eq 0 ] || fail "${sign:-plain}: exit $RC: $(cat "$WORK/err")"
done

# ---- a listing that never ends fails its directory, quickly
MODE=endless-same-page
start_server "$MODE"
run_cli -q
stop_server
[ "$RC" -eq 1 ] || fail "exit $RC, expected 1 (a directory failed): $(cat "$WORK/err")"
grep -q "repeated the same entries" "$WORK/err" "$WORK/out" || fail "no 'repeated' failure reported: $(cat "$WORK/err")"
check_final_names

# ---- new names forever: stopped at --max-dir-entries, the option named
MODE=endless-new-names
start_server "$MODE"
run_cli -q --max-dir-entries 5000
stop_server
[ "$RC" -eq 1 ] || fail "exit $RC, expected 1 (a directory failed): $(cat "$WORK/err")"
grep -q "stopped: the server sent more than 5000 entries (raise --max-dir-entries)" "$WORK/err" "$WORK/out" ||
    fail "no ceiling failure reported: $(cat "$WORK/err")"
check_final_names

# ---- a name listed twice is refused (the engine's check)
MODE=duplicate-names
start_server "$MODE"
run_cli -q
stop_server
[ "$RC" -eq 1 ] || fail "exit $RC, expected 1 (dup.txt listed twice)"
grep -q "dup.txt.*twice" "$WORK/err" "$WORK/out" || fail "dup.txt not reported as listed twice: $(cat "$WORK/err" "$WORK/out")"
rm -f "$SANDBOX/dest/dup.txt" # whatever the engine did with it, the rest must be right
check_final_names

# ---- malformed security descriptor answers: the file fails, never a file without its descriptor
MODE=bad-sd
start_server "$MODE"
run_cli -q --acls
# A malformed answer is a protocol error: the job stops, saying which.
[ "$RC" -eq 1 ] || fail "exit $RC, expected 1: $(cat "$WORK/err")"
grep -q "read the security descriptor of '.*': malformed QUERY_INFO response" "$WORK/err" ||
    fail "the malformed descriptor answer is not what stopped the copy: $(cat "$WORK/err" "$WORK/out")"
for f in good1.txt good2.bin sub/good3.txt; do
    [ -e "$SANDBOX/dest/$f" ] && fail "$f exists under its final name"
done
check_final_names
rm -rf "$SANDBOX/dest"
run_cli -q
[ "$RC" -eq 0 ] || fail "without --acls: exit $RC: $(cat "$WORK/err")"
for f in good1.txt good2.bin sub/good3.txt; do
    cmp -s "$SANDBOX/dest/$f" "$WORK/expect/$f" || fail "without --acls: $f missing or wrong"
done
stop_server

# ---- an upload with --acls to a share that keeps no descriptors: copied, each descriptor reported not kept
MODE=good
mkdir -p "$WORK/acl"
printf 'small, written whole\n' >"$WORK/acl/small.txt"
head -c 1500000 /dev/urandom >"$WORK/acl/large.bin" # past the whole-file size: through an open file
# A self-relative descriptor (MS-DTYP 2.4.6) with an empty DACL, where a local file keeps one.
python3 -c '
import os, sys
sd = bytes([1, 0, 0x04, 0x80] + [0] * 12 + [20, 0, 0, 0] + [2, 0, 8, 0, 0, 0, 0, 0])
for f in sys.argv[1:]:
    os.setxattr(f, "user.smbcopy.ntsd", sd)
' "$WORK/acl/small.txt" "$WORK/acl/large.bin" || fail "cannot set user.smbcopy.ntsd"
rm -rf "$WORK/store"
mkdir -p "$WORK/store"
start_server "$MODE" --store "$WORK/store"
SMB_PASSWORD=hostile-pass XDG_STATE_HOME="$WORK/state" timeout 120 \
    "$CLI" -v --json --no-progress --acls --retry-for 0 --timeout 3 "$WORK/acl" \
    "smb://tester@127.0.0.1:$PORT/share/acl" >"$WORK/out" 2>"$WORK/err"
RC=$?
stop_server
[ "$RC" -eq 0 ] || fail "upload with --acls: exit $RC: $(cat "$WORK/err")"
for f in small.txt large.bin; do
    cmp -s "$WORK/acl/$f" "$WORK/store/acl/$f" || fail "$f did not arrive with its bytes"
    grep -q "^not kept  *$f: security descriptor not kept: .*STATUS_NOT_SUPPORTED" "$WORK/err" ||
        fail "no \"not kept\" line for $f: $(cat "$WORK/err")"
done
grep -q '"sds_copied":0,' "$WORK/out" || fail "sds_copied is not 0: $(cat "$WORK/out")"
grep -q '"sds_not_kept":2,' "$WORK/out" || fail "sds_not_kept is not 2: $(cat "$WORK/out")"
left=$(cd "$WORK/store" && find . -mindepth 1 | sort | tr '\n' ' ')
[ "$left" = "./acl ./acl/large.bin ./acl/small.txt " ] || fail "the store holds more than the two files: $left"

# ---- the check after the write: a server that keeps another descriptor than the one set
MODE=sd-changed
rm -rf "$WORK/store"
mkdir -p "$WORK/store"
start_server "$MODE" --store "$WORK/store"
SMB_PASSWORD=hostile-pass XDG_STATE_HOME="$WORK/state" timeout 120 \
    "$CLI" -v --json --no-progress --acls --retry-for 0 --timeout 3 "$WORK/acl" \
    "smb://tester@127.0.0.1:$PORT/share/acl" >"$WORK/out" 2>"$WORK/err"
RC=$?
stop_server
[ "$RC" -eq 0 ] || fail "exit $RC: $(cat "$WORK/err")"
for f in small.txt large.bin; do
    cmp -s "$WORK/acl/$f" "$WORK/store/acl/$f" || fail "$f did not arrive with its bytes"
    grep -q "^not kept  *$f: security descriptor not kept: the destination keeps another one: the DACL has an entry more than was set" "$WORK/err" ||
        fail "no \"not kept\" line naming the difference for $f: $(cat "$WORK/err")"
done
grep -q '"sds_copied":0,' "$WORK/out" || fail "sds_copied is not 0: $(cat "$WORK/out")"
grep -q '"sds_not_kept":2,' "$WORK/out" || fail "sds_not_kept is not 2: $(cat "$WORK/out")"
# The JSON lists each file, with the descriptor not kept in SDDL (an empty DACL: "D:").
for f in small.txt large.bin; do
    jq -e --arg f "$f" '.metadata | map(select(.path == $f and .event == "not kept" and .sddl == "D:"
        and (.reason | test("the DACL has an entry more")))) | length == 1' "$WORK/out" >/dev/null ||
        fail "no metadata entry for $f with its SDDL: $(cat "$WORK/out")"
done
jq -e '.metadata_cut == false and (.metadata | length) == 2' "$WORK/out" >/dev/null ||
    fail "metadata lists other entries: $(cat "$WORK/out")"

if [ "$failures" -ne 0 ]; then
    echo "cli_hostile: $failures failure(s)"
    exit 1
fi
echo "cli_hostile: all modes passed"
