#!/usr/bin/env bash
# Kerberos against a real Samba AD DC, which this test starts itself under
# the build directory (tests/fixtures/samba-ad-dc.sh; the shared Samba
# fixture is not a domain controller) and stops at the end. Everything runs
# inside the DC's network namespace, with KRB5_CONFIG naming the fixture's
# krb5.conf and every ticket cache under this test's directory.
#
#   - the library's Kerberos test program (itest_krb, cmocka), given the
#     fixture's environment file (SMBCOPY_KRB_ENV) and a ticket cache filled
#     by kinit (SMBCOPY_KRB_CCACHE);
#   - smbcopy downloading and uploading a small tree (unicode and spaced
#     names, an empty file, an empty directory, 1 MiB of random data) with
#       (a) a ticket cache from kinit: SMB_USERNAME only, no password
#           anywhere; the cache then holds a cifs/ ticket for the server;
#           also with --kerberos required; and with no user at all (the
#           ticket's principal logs on), with and without --kerberos required
#       (b) alice's keytab through KRB5_CLIENT_KTNAME and no ticket cache
#           (an empty MEMORY cache, a FILE cache that does not exist yet)
#       (c) SMB_USERNAME and SMB_PASSWORD, an empty ticket cache; also with
#           the realm as SMB_DOMAIN and --kerberos required
#     every result compared with diff -r against the share on disk, and what
#     smbcopy uploaded read back by smbclient --use-kerberos=required with
#     the ticket cache of (a);
#   - (f) DFS with a ticket cache alone: a path through the DC's DFS root's
#     link to \\files.smbcopy.test\data (another host name with its own
#     service principal), an upload through it, and a share the DC refers
#     there (msdfs proxy); each compared with the share on disk, and the
#     cache then holds a ticket for cifs/files.smbcopy.test;
#   - (d) a wrong password: exit 3, a one-line message, nothing created;
#   - (e) after kdestroy, no password: exit 3 and a message that says which
#     credentials are missing (a ticket, a password), not that a password was
#     wrong; with --kerberos required it names kinit; with no user either,
#     --kerberos required exits 3 saying so (never an anonymous logon);
#   - no password ever shows in stdout or stderr.
#
# Skips (exit 77) without root, samba-tool, samba, kinit, smbclient or
# network namespaces; fails instead when CI=true.
# SMBCOPY_TEST_KEEP=1 keeps the fixture and the test's directories.
set -euo pipefail

# shellcheck source=lib/skip.sh
. "$(dirname "$0")/lib/skip.sh"

build=${SMBCOPY_BUILD_DIR:?run through ctest}
source_dir=${SMBCOPY_SOURCE_DIR:?run through ctest}
cli=${SMBCOPY_CLI:?run through ctest}
fixture_script=$source_dir/tests/fixtures/samba-ad-dc.sh

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, a domain controller)"
for t in samba samba-tool ip kinit kdestroy klist smbclient unshare timeout diff jq; do
    command -v "$t" >/dev/null 2>&1 ||
        skip "'$t' not found (scripts/install-deps.sh installs samba-ad-dc, krb5-user, smbclient)"
done
unshare --net --mount true 2>/dev/null || skip "no network or mount namespaces here"
ip netns list >/dev/null 2>&1 || skip "'ip netns' does not work here"
# The AD schema: package samba-ad-provision, which samba-ad-dc only recommends.
samba_setup=$(/usr/bin/python3 -c 'import samba.param; print(samba.param.setup_dir())' 2>/dev/null) ||
    samba_setup=/usr/share/samba/setup
[ -d "$samba_setup/ad-schema" ] ||
    skip "package samba-ad-provision is not installed ($samba_setup/ad-schema missing): scripts/install-deps.sh"

[ -x "$cli" ] || { echo "FAIL: smbcopy binary missing: $cli" >&2; exit 1; }
itest=
for c in "$build/tests/itest_krb" "$build/tests/integration/itest_krb"; do
    if [ -x "$c" ]; then
        itest=$c
        break
    fi
done
[ -n "$itest" ] || { echo "FAIL: itest_krb not built under $build/tests" >&2; exit 1; }

fixture=$build/krb-fixture-$$
work=$(mktemp -d "${TMPDIR:-/tmp}/smbcopy-kerberos.$$.XXXXXX")
cleanup() {
    if [ "${SMBCOPY_TEST_KEEP:-}" = 1 ]; then
        bash "$fixture_script" stop "$fixture" >/dev/null 2>&1 || true
        echo "kept: $fixture $work"
    else
        bash "$fixture_script" stop "$fixture" --clean >/dev/null 2>&1 || true
        rm -rf -- "$work"
    fi
}
trap cleanup EXIT

if ! bash "$fixture_script" start "$fixture"; then
    echo "FAIL: the AD DC fixture did not start" >&2
    exit 1
fi
set -a
# shellcheck disable=SC1091
. "$fixture/env"
set +a

name=kerberos.$$
share_dir=$SMBCOPY_KRB_SHARE_DIR/$name
url=smb://$SMBCOPY_KRB_HOST/$SMBCOPY_KRB_SHARE/$name
wrong_pw=Wr0ng-$RANDOM-pw-$$
mkdir -p "$work/out" "$share_dir"

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
pass() { echo "ok: $*"; }

# in_ns VAR=VALUE... COMMAND...: run in the DC's namespace with the
# fixture's krb5.conf and none of the caller's credentials.
in_ns() {
    ip netns exec "$SMBCOPY_KRB_NETNS" env -u SMB_USERNAME -u SMB_PASSWORD -u SMB_DOMAIN \
        -u KRB5CCNAME -u KRB5_CLIENT_KTNAME -u KRB5_KTNAME KRB5_CONFIG="$SMBCOPY_KRB_CONFIG" "$@"
}
# in_ns_timeout VAR=VALUE... COMMAND...: in_ns, COMMAND stopped after 120 s.
in_ns_timeout() {
    local envs=()
    while [ $# -gt 0 ] && [[ $1 == [A-Za-z_]*=* ]]; do
        envs+=("$1")
        shift
    done
    in_ns "${envs[@]}" timeout 120 "$@"
}
mask() {
    sed -e "s/$SMBCOPY_KRB_PASSWORD/***/g" -e "s/$wrong_pw/***/g"
}
# run TAG VAR=VALUE... COMMAND...: in the namespace, stdin /dev/null,
# stdout and stderr to $work/out/TAG.out and .err; sets rc.
run() {
    local tag=$1
    shift
    printf '%q ' "$@" >"$work/out/$tag.cmd"
    echo "+ $(mask <"$work/out/$tag.cmd")"
    set +e
    in_ns_timeout "$@" </dev/null >"$work/out/$tag.out" 2>"$work/out/$tag.err"
    rc=$?
    set -e
}
show() {
    {
        echo "---- command: $(mask <"$work/out/$1.cmd")"
        echo "---- stderr:"
        tail -n 30 "$work/out/$1.err"
        echo "---- stdout:"
        head -c 4000 "$work/out/$1.out"
        echo
        echo "----"
    } | mask >&2
}
# expect_rc TAG WANT: fail (and show the output) unless the exit status is WANT.
expect_rc() {
    [ "$rc" -eq "$2" ] && return 0
    if [ "$rc" -eq 124 ]; then
        fail "$1: timed out (expected exit $2)"
    elif [ "$rc" -gt 128 ]; then
        fail "$1: killed by signal $((rc - 128)) (expected exit $2)"
    else
        fail "$1: exit $rc, expected $2"
    fi
    show "$1"
    return 1
}
expect_one_line() {
    local n
    n=$(grep -c . "$work/out/$1.err" || true)
    if [ "$n" -ne 1 ]; then
        fail "$1: expected a one-line message on stderr, got $n lines"
        show "$1"
        return 1
    fi
}
# same_tree TAG A B: diff -r A B.
same_tree() {
    local d
    if d=$(diff -r -- "$2" "$3" 2>&1); then
        return 0
    fi
    fail "$1: $3 differs from $2:"
    printf '%s\n' "$d" | head -n 20 >&2
    return 1
}
# same_files TAG A B: the same regular files with the same content (for
# smbclient, which does not recreate empty directories).
same_files() {
    local tag=$1 a=$2 b=$3 la lb f bad=0
    la=$(cd "$a" && find . -type f | LC_ALL=C sort)
    lb=$( (cd "$b" 2>/dev/null && find . -type f | LC_ALL=C sort) || true)
    if [ "$la" != "$lb" ]; then
        fail "$tag: the files under $b are not those under $a:"
        diff <(printf '%s\n' "$la") <(printf '%s\n' "$lb") | head -n 20 >&2
        return 1
    fi
    while IFS= read -r f; do
        cmp -s -- "$a/$f" "$b/$f" || {
            fail "$tag: $f differs"
            bad=1
        }
    done <<<"$la"
    return "$bad"
}
has_cifs_ticket() {
    in_ns KRB5CCNAME="$1" klist 2>/dev/null | grep "cifs/$SMBCOPY_KRB_HOST@$SMBCOPY_KRB_REALM" >/dev/null
}
kinit_alice() {
    printf '%s\n' "$SMBCOPY_KRB_PASSWORD" |
        in_ns KRB5CCNAME="$1" kinit "$SMBCOPY_KRB_USER@$SMBCOPY_KRB_REALM" >"$work/out/kinit.out" 2>&1 || {
        cat "$work/out/kinit.out" >&2
        echo "FAIL: kinit $SMBCOPY_KRB_USER failed" >&2
        exit 1
    }
}

make_tree() {
    local d=$1
    mkdir -p "$d/nested/deeper" "$d/empty dir"
    printf 'Hello over Kerberos.\n' >"$d/hello.txt"
    : >"$d/empty.txt"
    printf 'deeper file\n' >"$d/nested/deeper/deep.txt"
    printf 'unicode name\n' >"$d/nested/café ☕.txt"
    printf 'spaces\n' >"$d/with space.txt"
    head -c 1048576 /dev/urandom >"$d/random-1MiB.bin"
    head -c 70001 /dev/urandom >"$d/nested/odd-size.bin"
}

# A tree on the share to download, and one here to upload. The DC serves
# files as alice's Unix id (3000000 and up): the test's directory on the
# share must let her create, the seed let her read.
make_tree "$share_dir/seed"
chmod -R a+rX "$share_dir"
chmod 0777 "$share_dir"
make_tree "$work/src"

# --- the library ---------------------------------------------------------------

cc_itest=FILE:$work/ccache-itest
kinit_alice "$cc_itest"
run itest_krb SMBCOPY_KRB_ENV="$fixture/env" SMBCOPY_KRB_CCACHE="$cc_itest" KRB5CCNAME="$cc_itest" "$itest"
cat "$work/out/itest_krb.out"
if expect_rc itest_krb 0; then pass "itest_krb"; fi

# copy_both TAG VAR=VALUE... [-- OPTION...]: download seed to $work/TAG and
# upload $work/src to $name/TAG on the share with smbcopy, each compared with
# diff -r against the other side on disk.
copy_both() {
    local tag=$1 envs=() opts=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        envs+=("$1")
        shift
    done
    [ $# -eq 0 ] || shift
    opts=("$@")
    run "$tag-download" "${envs[@]}" "$cli" "${opts[@]}" "$url/seed" "$work/$tag"
    if expect_rc "$tag-download" 0 && same_tree "$tag-download" "$share_dir/seed" "$work/$tag"; then
        pass "$tag: download"
    fi
    run "$tag-upload" "${envs[@]}" "$cli" "${opts[@]}" "$work/src" "$url/$tag"
    if expect_rc "$tag-upload" 0 && same_tree "$tag-upload" "$work/src" "$share_dir/$tag"; then
        pass "$tag: upload"
    fi
}

# --- (a) a ticket cache from kinit, no password anywhere --------------------------

cc_a=FILE:$work/ccache-a
kinit_alice "$cc_a"
has_cifs_ticket "$cc_a" && fail "a: the fresh cache already holds a cifs ticket"
copy_both a KRB5CCNAME="$cc_a" SMB_USERNAME="$SMBCOPY_KRB_USER"
if has_cifs_ticket "$cc_a"; then
    pass "a: the ticket cache holds cifs/$SMBCOPY_KRB_HOST (Kerberos was used)"
else
    fail "a: no cifs/$SMBCOPY_KRB_HOST ticket in the cache after smbcopy ran"
    in_ns KRB5CCNAME="$cc_a" klist >&2 || true
fi
copy_both a-required KRB5CCNAME="$cc_a" SMB_USERNAME="$SMBCOPY_KRB_USER" -- --kerberos required

# (a') no user anywhere: the ticket's principal logs on (as smbclient
# --use-kerberos=required does), never an anonymous session.
copy_both a-nouser KRB5CCNAME="$cc_a"
copy_both a-nouser-required KRB5CCNAME="$cc_a" -- --kerberos required

# What smbcopy uploaded, read back by a Kerberos-only smbclient.
smbclient_get() {
    local tag=$1 dir=$2 dest=$3
    mkdir -p "$dest"
    run "$tag" KRB5CCNAME="$cc_a" smbclient -s "$SMBCOPY_KRB_SMBCLIENT_CONF" \
        "//$SMBCOPY_KRB_HOST/$SMBCOPY_KRB_SHARE" --use-kerberos=required -N -D "$name" \
        -c "prompt OFF; recurse ON; lcd $dest; mget $dir"
    if expect_rc "$tag" 0 && same_files "$tag" "$work/src" "$dest/$dir"; then
        pass "$tag: smbclient (Kerberos) reads back what smbcopy uploaded"
    fi
}
smbclient_get a-smbclient a "$work/sc-a"

# --- (b) a keytab, no ticket cache -----------------------------------------------

copy_both b-memory KRB5_CLIENT_KTNAME="$SMBCOPY_KRB_KEYTAB" KRB5CCNAME=MEMORY:smbcopy-kerberos-b \
    SMB_USERNAME="$SMBCOPY_KRB_USER"
copy_both b-file KRB5_CLIENT_KTNAME="$SMBCOPY_KRB_KEYTAB" KRB5CCNAME="FILE:$work/ccache-b-new" \
    SMB_USERNAME="$SMBCOPY_KRB_USER"
smbclient_get b-smbclient b-file "$work/sc-b"

# --- (c) a password, an empty ticket cache ------------------------------------------

copy_both c KRB5CCNAME="FILE:$work/ccache-c-none" SMB_USERNAME="$SMBCOPY_KRB_USER" \
    SMB_PASSWORD="$SMBCOPY_KRB_PASSWORD"
copy_both c-realm-required KRB5CCNAME="FILE:$work/ccache-c-none" SMB_USERNAME="$SMBCOPY_KRB_USER" \
    SMB_PASSWORD="$SMBCOPY_KRB_PASSWORD" SMB_DOMAIN="$SMBCOPY_KRB_REALM" -- --kerberos required
smbclient_get c-smbclient c "$work/sc-c"

# --- (f) DFS with Kerberos: targets by another host name ----------------------------
# The DC's DFS root "dfs" links lnk to \\files.smbcopy.test\data, and share
# "dfsproxy" is referred there: a host name of its own, with its own
# service principal. A ticket cache alone (no password): smbcopy asks the
# KDC for cifs/files.smbcopy.test when it follows the referral.
cc_f=FILE:$work/ccache-f
kinit_alice "$cc_f"
files_ticket() {
    in_ns KRB5CCNAME="$cc_f" klist 2>/dev/null | grep "cifs/$SMBCOPY_KRB_FILES_HOST@$SMBCOPY_KRB_REALM" >/dev/null
}
files_ticket && fail "f: the fresh cache already holds a ticket for $SMBCOPY_KRB_FILES_HOST"
dfs_url=smb://$SMBCOPY_KRB_HOST/$SMBCOPY_KRB_DFS_SHARE
run f-link KRB5CCNAME="$cc_f" SMB_USERNAME="$SMBCOPY_KRB_USER" "$cli" --json --kerberos required \
    "$dfs_url/lnk/$name/seed" "$work/f-link"
if expect_rc f-link 0 && same_tree f-link "$share_dir/seed" "$work/f-link"; then
    if [ "$(jq -r .dfs_links_followed "$work/out/f-link.out")" = 1 ]; then
        pass "f: a path through a DFS link to another host, with Kerberos only"
    else
        fail "f: dfs_links_followed is not 1"
        show f-link
    fi
fi
if files_ticket; then
    pass "f: the ticket cache holds cifs/$SMBCOPY_KRB_FILES_HOST (the link's host)"
else
    fail "f: no cifs/$SMBCOPY_KRB_FILES_HOST ticket in the cache after following the link"
    in_ns KRB5CCNAME="$cc_f" klist >&2 || true
fi
run f-upload KRB5CCNAME="$cc_f" SMB_USERNAME="$SMBCOPY_KRB_USER" "$cli" --kerberos required \
    "$work/src" "$dfs_url/lnk/$name/f-upload"
if expect_rc f-upload 0 && same_tree f-upload "$work/src" "$share_dir/f-upload"; then
    pass "f: an upload through the DFS link, with Kerberos only"
fi
run f-proxy KRB5CCNAME="$cc_f" SMB_USERNAME="$SMBCOPY_KRB_USER" "$cli" --kerberos required \
    "smb://$SMBCOPY_KRB_HOST/$SMBCOPY_KRB_DFS_PROXY/$name/seed" "$work/f-proxy"
if expect_rc f-proxy 0 && same_tree f-proxy "$share_dir/seed" "$work/f-proxy"; then
    pass "f: a share referred to another host (DFS proxy), with Kerberos only"
fi
[ -L "$SMBCOPY_KRB_DFS_DIR/lnk" ] || fail "f: the DFS link itself changed"

# --- (d) a wrong password ------------------------------------------------------------

for mode in preferred required; do
    tag=d-$mode
    run "$tag" KRB5CCNAME="FILE:$work/ccache-d-none" SMB_USERNAME="$SMBCOPY_KRB_USER" \
        SMB_PASSWORD="$wrong_pw" SMB_DOMAIN="$SMBCOPY_KRB_REALM" "$cli" --kerberos "$mode" "$work/src" "$url/$tag"
    if expect_rc "$tag" 3 && expect_one_line "$tag"; then
        pass "$tag: wrong password, exit 3: $(mask <"$work/out/$tag.err")"
    fi
    [ ! -e "$share_dir/$tag" ] || fail "$tag: the destination was created"
done

# --- (e) no ticket after kdestroy, no password --------------------------------------

in_ns KRB5CCNAME="$cc_a" kdestroy >/dev/null 2>&1 || fail "e: kdestroy failed"
run e KRB5CCNAME="$cc_a" SMB_USERNAME="$SMBCOPY_KRB_USER" "$cli" "$url/seed" "$work/e"
if expect_rc e 3 && expect_one_line e; then
    # Not "wrong password": none was given, and the ticket is gone.
    if grep -qiE 'kinit|ticket|credential|no password' "$work/out/e.err"; then
        pass "e: no ticket, no password, exit 3: $(cat "$work/out/e.err")"
    else
        fail "e: the message does not say which credentials are missing"
        show e
    fi
fi
run e-required KRB5CCNAME="$cc_a" SMB_USERNAME="$SMBCOPY_KRB_USER" "$cli" --kerberos required "$url/seed" "$work/e-required"
if expect_rc e-required 3 && expect_one_line e-required; then
    if grep -q kinit "$work/out/e-required.err"; then
        pass "e-required: exit 3: $(cat "$work/out/e-required.err")"
    else
        fail "e-required: the message does not tell to run kinit"
        show e-required
    fi
fi

# No user and no ticket: --kerberos required says so (exit 3) instead of
# logging on anonymously; without it the session is anonymous, which the
# share refuses (exit 3: access denied).
run e-nouser-required KRB5CCNAME="$cc_a" "$cli" --kerberos required "$url/seed" "$work/e-nouser-required"
if expect_rc e-nouser-required 3 && expect_one_line e-nouser-required; then
    if grep -q "no user was given" "$work/out/e-nouser-required.err" && grep -q kinit "$work/out/e-nouser-required.err"; then
        pass "e-nouser-required: exit 3: $(cat "$work/out/e-nouser-required.err")"
    else
        fail "e-nouser-required: the message does not say that no user nor ticket was found"
        show e-nouser-required
    fi
fi
[ ! -e "$work/e-nouser-required" ] || fail "e-nouser-required: the destination was created"

# --- (f) an expired ticket ------------------------------------------------------------

cc_f=FILE:$work/ccache-f
printf '%s\n' "$SMBCOPY_KRB_PASSWORD" |
    in_ns KRB5CCNAME="$cc_f" kinit -l 5s "$SMBCOPY_KRB_USER@$SMBCOPY_KRB_REALM" >"$work/out/kinit-f.out" 2>&1 ||
    fail "f: kinit -l 5s failed: $(cat "$work/out/kinit-f.out")"
sleep 7
run f KRB5CCNAME="$cc_f" SMB_USERNAME="$SMBCOPY_KRB_USER" "$cli" --kerberos required "$url/seed" "$work/f"
if expect_rc f 3 && expect_one_line f; then
    if grep -qi 'expired' "$work/out/f.err"; then
        pass "f: expired ticket, exit 3: $(cat "$work/out/f.err")"
    else
        fail "f: the message does not say the ticket expired"
        show f
    fi
fi

# --- no password in any output ----------------------------------------------------------

for pw in "$SMBCOPY_KRB_PASSWORD" "$wrong_pw"; do
    leaked=$(grep -rlF --include='*.out' --include='*.err' -- "$pw" "$work/out" || true)
    [ -z "$leaked" ] || fail "a password shows in: $(printf '%s\n' "$leaked" | xargs -n1 basename | tr '\n' ' ')"
done

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all Kerberos checks passed"
