#!/usr/bin/env bash
# Capture the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
# from real Samba servers: starts the private Samba fixture, puts a
# recording forwarder (fuzz_seed_recorder) in front of some of its
# instances, runs the smbcopy command and smbclient through it (NTLM logons,
# a failed logon, listings of a directory with many odd names, reads,
# writes, renames, deletions, FSCTLs, signing and encryption), then cuts
# the recorded frames into per-target seeds with fuzz_seed_split. Archive
# seeds are small archives made by GNU tar (and by smbcopy --archive) with
# odd names. Needs root (the fixture) and the build-fuzz tree.
#
#   tests/fuzz/capture-seeds.sh            replace the committed corpora
#   KEEP=1 tests/fuzz/capture-seeds.sh     add to them instead
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FUZZ_BUILD=${FUZZ_BUILD:-$ROOT/build-fuzz}
CLI_BUILD=${CLI_BUILD:-$ROOT/build}
CORPUS=$ROOT/tests/fuzz/corpus
PORT_BASE=${SMBCOPY_FIXTURE_PORT_BASE:-46500}
REC_BASE=$((PORT_BASE + 100)) # the recorders' ports

WORK=$(mktemp -d "${TMPDIR:-/tmp}/smbcopy-seeds.XXXXXX")
FIX=$WORK/fixture
REC=$WORK/recording
mkdir -p "$REC"
RECORDER_PIDS=()

cleanup() {
    for pid in "${RECORDER_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    if [[ -e $FIX/env ]]; then
        bash "$ROOT/tests/fixtures/samba-fixture.sh" stop "$FIX" --clean >/dev/null 2>&1 || true
    fi
    if [[ ${KEEP_WORK:-0} == 1 ]]; then say "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

say() { printf 'capture-seeds: %s\n' "$*" >&2; }

# ---------------------------------------------------------------- tools
if [[ ! -e $FUZZ_BUILD/CMakeCache.txt ]]; then
    cmake -S "$ROOT" -B "$FUZZ_BUILD" -DCMAKE_C_COMPILER=clang -DSMBCOPY_FUZZ=ON -DSMBCOPY_TESTS=OFF \
        -DCMAKE_BUILD_TYPE=Debug >/dev/null
fi
cmake --build "$FUZZ_BUILD" -j2 --target fuzz_seed_recorder fuzz_seed_split >/dev/null
if [[ ! -e $CLI_BUILD/CMakeCache.txt ]]; then
    cmake -S "$ROOT" -B "$CLI_BUILD" >/dev/null
fi
cmake --build "$CLI_BUILD" -j2 --target smbcopy_cli >/dev/null
RECORDER=$FUZZ_BUILD/tests/fuzz/fuzz_seed_recorder
SPLIT=$FUZZ_BUILD/tests/fuzz/fuzz_seed_split
SMBCOPY=$CLI_BUILD/smbcopy

# ---------------------------------------------------------------- servers
say "starting the Samba fixture"
SMBCOPY_FIXTURE_PORT_BASE=$PORT_BASE bash "$ROOT/tests/fixtures/samba-fixture.sh" start "$FIX" >/dev/null 2>&1
env_value() { sed -n "s/^$1=//p" "$FIX/env"; }
AUTH=$FIX/smbclient.auth
SHARE_DIR=$(env_value SMBCOPY_TEST_SHARE_DIR)

# A recorder in front of an instance: record NAME PORT sets REC_PORT to the recorder's port.
N_REC=0
record() {
    REC_PORT=$((REC_BASE + N_REC))
    N_REC=$((N_REC + 1))
    mkdir -p "$REC/$1"
    "$RECORDER" "$REC_PORT" "$2" "$REC/$1" >"$WORK/recorder-$1.log" 2>&1 &
    RECORDER_PIDS+=($!)
    for _ in $(seq 50); do
        grep -q listening "$WORK/recorder-$1.log" && return 0
        sleep 0.1
    done
    say "the recorder for $1 did not start: $(cat "$WORK/recorder-$1.log")"
    exit 1
}
record main "$(env_value SMBCOPY_TEST_PORT)" && P_MAIN=$REC_PORT
record signreq "$(env_value SMBCOPY_TEST_PORT_SIGNREQ)" && P_SIGN=$REC_PORT
record encrypt "$(env_value SMBCOPY_TEST_PORT_ENCRYPT)" && P_ENC=$REC_PORT
record smb2_02 "$(env_value SMBCOPY_TEST_PORT_2_0_2)" && P_202=$REC_PORT
record smb3_00 "$(env_value SMBCOPY_TEST_PORT_3_0)" && P_300=$REC_PORT

# ---------------------------------------------------------------- the share's contents
say "filling the share"
fill_share() {
    mkdir -p "$1/tree/many" "$1/tree/sub/deeper"
    for i in $(seq 1 100); do : >"$1/tree/many/file-$i.txt"; done
    for n in 'with space' 'ünïcödé-名前' 'emoji-😀' 'trailing.dot.' "$(printf 'x%.0s' $(seq 1 200))" '#hash%percent' 'semi;colon'; do
        printf '%s\n' "$n" >"$1/tree/many/$n"
    done
    head -c 9000 /dev/urandom >"$1/tree/sub/random.bin"
    printf 'hello\n' >"$1/tree/sub/deeper/small.txt"
    truncate -s 2M "$1/tree/sub/sparse.bin"
    printf 'data' | dd of="$1/tree/sub/sparse.bin" bs=1 seek=1048576 conv=notrunc status=none
}
for sfx in '' _SIGNREQ _ENCRYPT _2_0_2 _3_0; do
    fill_share "$(env_value "SMBCOPY_TEST_SHARE_DIR$sfx")"
done
mkdir -p "$WORK/local/up/dir"
printf 'upload me\n' >"$WORK/local/up/a.txt"
head -c 5000 /dev/urandom >"$WORK/local/up/dir/b.bin"

# ---------------------------------------------------------------- traffic
url() { echo "smb://127.0.0.1:$1/data${2:+/$2}"; }
cli() { "$SMBCOPY" -A "$AUTH" -q --no-progress "$@" >>"$WORK/cli.log" 2>&1 || say "smbcopy $* failed (see the log)"; }
client() { timeout 60 smbclient "//127.0.0.1/$2" -p "$1" -A "$AUTH" "${@:3}" >>"$WORK/smbclient.log" 2>&1 || true; }

say "smbcopy through the recorders"
cli "$(url "$P_MAIN" tree)" "$WORK/down-main"
cli "$WORK/local/up" "$(url "$P_MAIN" up)"
cli --mirror --checksum "$WORK/local/up" "$(url "$P_MAIN" up)"
cli --sign "$(url "$P_SIGN" tree/sub)" "$WORK/down-sign"
cli --sign "$WORK/local/up" "$(url "$P_SIGN" up)"
cli --encrypt "$(url "$P_ENC" tree/sub)" "$WORK/down-enc"
cli --encrypt "$WORK/local/up" "$(url "$P_ENC" up)"
cli "$(url "$P_202" tree/sub/deeper)" "$WORK/down-202"
cli "$(url "$P_300" tree/sub/deeper)" "$WORK/down-300"
cli --multichannel auto --channels 2 "$(url "$P_MAIN" tree/sub)" "$WORK/down-mc"
cli --archive tar --snapshot "$WORK/snap" "$(url "$P_MAIN" tree/sub/deeper)" "$WORK/arc1.tar"
rm -f "$SHARE_DIR/tree/sub/deeper/small.txt"
cli --archive tar --snapshot "$WORK/snap" "$(url "$P_MAIN" tree/sub/deeper)" "$WORK/arc2.tar"

say "smbclient through the recorders"
client "$P_MAIN" data -c 'ls tree/many/*; allinfo tree/sub/random.bin; get tree/sub/random.bin /dev/null; mkdir newdir; put /etc/hostname newdir/h; rename newdir/h newdir/i; del newdir/i; rmdir newdir; get missing.txt /dev/null; ls nothere/*'
client "$P_MAIN" data -m SMB3 -c 'posix_whoami; volume; ls; du'
client "$P_MAIN" nosuchshare -c 'ls'
timeout 30 smbclient "//127.0.0.1/data" -p "$P_MAIN" -U 'smbtest%wrong-password' -c ls >>"$WORK/smbclient.log" 2>&1 || true
timeout 30 smbclient -L 127.0.0.1 -p "$P_MAIN" -A "$AUTH" >>"$WORK/smbclient.log" 2>&1 || true
client "$P_ENC" data -e -c 'ls tree/*; get tree/sub/deeper/small.txt /dev/null'
client "$P_SIGN" data --client-protection=sign -c 'ls tree/many/*'
sleep 1 # the recorders finish writing

# ---------------------------------------------------------------- seeds
if [[ ${KEEP:-0} != 1 ]]; then
    rm -rf "$CORPUS"
fi
mkdir -p "$CORPUS"
for dir in "$REC"/*/; do
    "$SPLIT" "$dir" "$CORPUS"
done

say "archives made by GNU tar"
mkdir -p "$CORPUS/archive" "$CORPUS/archive_names"
T=$WORK/tar
mkdir -p "$T/src/dir/sub"
printf 'a\n' >"$T/src/dir/a b.txt"
printf 'u\n' >"$T/src/dir/ünïcödé.txt"
printf 'b\n' >"$T/src/dir/back\\slash"
printf 'c\n' >"$T/src/dir/C:drive"
printf 'l\n' >"$T/src/dir/sub/$(printf 'long%.0s' $(seq 1 40))"
ln -s ../../etc/passwd "$T/src/dir/link"
ln "$T/src/dir/a b.txt" "$T/src/dir/hard"
mkfifo "$T/src/dir/fifo"
truncate -s 100000 "$T/src/dir/sparse"
printf 'D\tgone\nF\tx\\ty\nF\t../../escape\n' >"$T/src/.smbcopy-deleted"
(
    cd "$T/src"
    tar --format=gnu -b1 --sparse -cf "$T/gnu.tar" dir .smbcopy-deleted
    tar --format=pax -b1 --sparse -cf "$T/pax.tar" dir
    tar --format=ustar -b1 -cf "$T/ustar.tar" 'dir/a b.txt' dir/ünïcödé.txt
    tar --format=gnu -b1 -P -cf "$T/escape.tar" --transform 's,^dir/a b.txt,../../escape.txt,;s,^dir/C:drive,/abs/path,' 'dir/a b.txt' dir/C:drive
    tar --format=gnu -b1 -czf "$T/gnu.tar.gz" dir/sub
)
cp "$T"/*.tar "$T"/*.tar.gz "$WORK"/arc1.tar "$WORK"/arc2.tar "$CORPUS/archive/" 2>/dev/null || true
i=0
for n in 'plain.txt' 'dir/sub/file' './dot/start' '../escape' '/absolute' 'a/../../b' 'back\slash' 'C:drive' \
    'dir//double' 'trailing/' '.' 'ünïcödé/名前' "$(printf 'long%.0s' $(seq 1 60))/x" '.smbcopy-deleted'; do
    printf '%s' "$n" >"$CORPUS/archive_names/name-$i"
    i=$((i + 1))
done

say "corpus: $(find "$CORPUS" -type f | wc -l) files, $(du -sh "$CORPUS" | cut -f1)"
for d in "$CORPUS"/*/; do
    printf '  %-16s %4d\n' "$(basename "$d")" "$(find "$d" -type f | wc -l)" >&2
done
