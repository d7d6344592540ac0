#!/usr/bin/env bash
# The fixture's impacket SMB server (tests/fixtures/lib/impacket.sh), proved
# with smbclient, the reference client, so that smbcopy's tests against it
# test smbcopy and not the fixture:
#   - a file made in its share directory downloads with the same bytes;
#   - an upload arrives in its share directory with the same bytes;
#   - the fixture's password is required: a wrong one is refused;
#   - it speaks SMB 2.0.2 only: a client asking for SMB 3 at least is refused
#     (what the tests of writes capped at 64 KiB rely on).
# Skipped without python3-impacket; fails under CI=true.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"
need_impacket
need_tools smbclient cmp

cli_test_dirs impacket_smoke
ishare=$SMBCOPY_TEST_IMPACKET_SHARE_DIR/$name
cleanup_dirs+=("$ishare")
mkdir -p -- "$ishare"
service=//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_IMPACKET_SHARE
port=$SMBCOPY_TEST_IMPACKET_PORT
iauth=$SMBCOPY_TEST_IMPACKET_AUTH

# smbc TAG ARGS...: smbclient against impacket, at most 60 s; sets rc.
smbc() {
    local tag=$1
    shift
    set +e
    timeout 60 smbclient "$service" -p "$port" "$@" >"$work/out/$tag.out" 2>&1
    rc=$?
    set -e
}
show() {
    echo "---- smbclient output ($1):"
    tail -n 20 "$work/out/$1.out"
}

# Larger than one 64 KiB request and not a multiple of it.
head -c 300001 /dev/urandom >"$ishare/down.bin"
smbc get -A "$iauth" -c "get $name/down.bin $work/down.bin"
if ((rc != 0)); then
    show get
    fail "download from impacket failed (exit $rc)"
elif ! cmp -s "$ishare/down.bin" "$work/down.bin"; then
    fail "downloaded bytes differ from the file in impacket's share"
fi

head -c 200003 /dev/urandom >"$work/up.bin"
smbc put -A "$iauth" -c "put $work/up.bin $name/up.bin"
if ((rc != 0)); then
    show put
    fail "upload to impacket failed (exit $rc)"
elif ! cmp -s "$work/up.bin" "$ishare/up.bin"; then
    fail "uploaded bytes differ in impacket's share directory"
fi

smbc wrongpw -U "$SMBCOPY_TEST_IMPACKET_USER%not-$SMBCOPY_TEST_IMPACKET_PASSWORD" -c ls
if ((rc == 0)); then
    fail "impacket accepted a wrong password"
elif ! grep -q NT_STATUS_LOGON_FAILURE "$work/out/wrongpw.out"; then
    show wrongpw
    fail "a wrong password was refused, but not with NT_STATUS_LOGON_FAILURE"
fi

smbc smb3 -A "$iauth" -m SMB3 --option='client min protocol=SMB3' -c ls
if ((rc == 0)); then
    fail "impacket accepted a client that allows SMB 3 only (expected SMB 2.0.2 only)"
fi

cli_test_end "impacket smoke: download and upload byte-identical, wrong password refused, SMB 2.0.2 only"
