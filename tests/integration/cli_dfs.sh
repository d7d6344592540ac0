#!/usr/bin/env bash
# DFS end to end: smbcopy through a standalone DFS root whose links lead to
# another server and to another share of the same server, checked byte for
# byte against the target shares' directories. The servers are
# tests/fixtures/samba-fidelity.sh (started and stopped here), both on port
# 445 of a private network namespace (referrals carry no port):
#   //127.0.0.1/dfsroot   r.txt, and the links
#       remote   -> //127.0.0.2/dfstarget
#       local    -> //127.0.0.1/fidelity2
#       failover -> //127.0.0.3/dfstarget (nothing listens there), then
#                   //127.0.0.2/dfstarget
#   //127.0.0.1/dfsproxy  "msdfs proxy = \\127.0.0.2\dfstarget"
# Cases:
#   a.  The root to a local directory: every link followed (the first
#       target of failover being down), the local tree the same as the
#       root's file and each link's target share; dfs_links_followed 3,
#       exit 0.
#   b.  A file through a link as the source: copied from the target.
#   c.  A destination through a link: an upload lands in the target share.
#   d.  --mirror into the DFS root from a tree without the links: the
#       extraneous file deleted, every link kept ("DFS link kept" in -v) and
#       the targets untouched; with a source that has the link's name,
#       --mirror mirrors into the target (its extraneous file deleted).
#   e.  A link none of whose targets answers: the subtree fails with a
#       message naming the link, exit 1 (never 0), dfs_links_unreachable 1,
#       everything else copied.
#   f.  --list //127.0.0.1: the shares, types and comments smbclient -L
#       lists; --list of a directory through a link: its entries as the
#       target holds them; a link listed as dfs_link.
#   g.  smb://127.0.0.1/* as the source: each disk share in a directory of
#       its name (locally and into a tar archive), IPC$ left out, the DFS
#       root's links followed (dfsroot/remote is the second server's share)
#       and the proxy share copied from its target; as a destination it is
#       refused (exit 2).
#   h.  //127.0.0.1/dfsproxy, a share its server refers elsewhere (Samba's
#       "msdfs proxy": the tree connect is refused, a root referral names
#       //127.0.0.2/dfstarget; a domain controller answers so for a
#       domain-based namespace's root): as the source (whole, and a file
#       inside), as a destination, with --list; a share neither there nor
#       referred fails with "share not found" and creates nothing.
#   i.  The library's client (smb_client_*, itest_dfs_client): stat, read,
#       write, mkdir, unlink and rmdir through a link, byte for byte against
#       the target's directory; failover; a dead link; the proxy share;
#       SMB_CLIENT_NO_DFS leaves the servers' answers to the caller.
# Skips (exit 77) without root, Samba or network namespaces; fails instead
# when CI=true. SMBCOPY_TEST_KEEP=1 keeps the fixture.
set -euo pipefail

# shellcheck source=lib/skip.sh
. "$(dirname "$0")/lib/skip.sh"

build=${SMBCOPY_BUILD_DIR:?run through ctest}
source_dir=${SMBCOPY_SOURCE_DIR:?run through ctest}
cli=${SMBCOPY_CLI:?run through ctest}
fixture=$source_dir/tests/fixtures/samba-fidelity.sh

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, port 445, tmpfs)"
for t in smbd smbpasswd smbclient smbcacls ip unshare setsid mountpoint jq cmp diff timeout; do
    command -v "$t" >/dev/null 2>&1 || skip "'$t' not found (scripts/install-deps.sh installs samba, smbclient, jq)"
done
ip netns list >/dev/null 2>&1 || skip "'ip netns' does not work here"
[ -x "$cli" ] || { echo "FAIL: smbcopy binary missing: $cli" >&2; exit 1; }

dir=$build/samba-dfs
bash "$fixture" stop "$dir" >/dev/null 2>&1 || true
cleanup() {
    if [ "${SMBCOPY_TEST_KEEP:-}" = 1 ]; then
        echo "kept: $dir (stop with: bash $fixture stop $dir)"
    else
        bash "$fixture" stop "$dir" || true
    fi
}
trap cleanup EXIT
bash "$fixture" start "$dir"
set -a
# shellcheck disable=SC1091
. "$dir/env"
set +a
ns=$SMBCOPY_FID_NETNS
auth=$dir/smbclient.auth
root=$SMBCOPY_FID_DIR_DFSROOT
target=$SMBCOPY_FID_DIR_TWO_DFSTARGET
other=$SMBCOPY_FID_DIR_FIDELITY2
work=$SMBCOPY_FID_LOCAL_DIR
out=$work/out
mkdir -p "$out"

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
ns_run() { ip netns exec "$ns" "$@"; }
indent() { sed 's/^/    /'; }

# run TAG ARGS...: smbcopy in the namespace; exit status in $rc, stdout
# (JSON) in $out/TAG.out, stderr (-v) in $out/TAG.err.
run() {
    local tag=$1
    shift
    echo "smbcopy $*" >"$out/$tag.cmd"
    set +e
    ns_run timeout 120 "$cli" -A "$auth" --no-progress --json -v "$@" </dev/null >"$out/$tag.out" 2>"$out/$tag.err"
    rc=$?
    set -e
}
field() { jq -r ".$2" "$out/$1.out" 2>/dev/null; }
expect() { # TAG KEY VALUE
    local got
    got=$(field "$1" "$2")
    [ "$got" = "$3" ] || fail "$1: $2 is $got, expected $3 ($(cat "$out/$1.cmd")):"$'\n'"$(tail -n 12 "$out/$1.err" | indent)"
}
# same DIR1 DIR2 WHAT: the two trees hold the same names and bytes.
same() {
    diff -r "$1" "$2" >"$out/diff" 2>&1 || fail "$3: $(head -n 5 "$out/diff" | tr '\n' ' ')"
}

# The content: a file in the root, a tree in the links' targets.
echo "in the root" >"$root/r.txt"
mkdir -p "$target/sub" "$other/deep/er"
echo "on the second server" >"$target/t.txt"
head -c 300000 /dev/urandom >"$target/sub/big.bin"
echo "another share of the first" >"$other/f2.txt"
head -c 5000 /dev/urandom >"$other/deep/er/x.bin"

# ---------------------------------------------------------------- a. the root
echo "a. the DFS root to a local directory"
run a "smb://$SMBCOPY_FID_HOST/dfsroot" "$work/a"
[ "$rc" -eq 0 ] || fail "a: exit $rc:"$'\n'"$(tail -n 12 "$out/a.err" | indent)"
expect a dfs_links_followed 3
expect a dfs_links_unreachable 0
cmp -s "$root/r.txt" "$work/a/r.txt" || fail "a: r.txt differs"
same "$target" "$work/a/remote" "a: remote/ is not //127.0.0.2/dfstarget"
same "$other" "$work/a/local" "a: local/ is not //127.0.0.1/fidelity2"
same "$target" "$work/a/failover" "a: failover/ is not its second target"
echo "  a: exit $rc, $(field a files_copied) files; links followed: $(field a dfs_links_followed)"

# ---------------------------------------------------------------- b. a file through a link
echo "b. a file through a link"
run b "smb://$SMBCOPY_FID_HOST/dfsroot/remote/sub/big.bin" "$work/b/"
[ "$rc" -eq 0 ] || fail "b: exit $rc:"$'\n'"$(tail -n 12 "$out/b.err" | indent)"
cmp -s "$target/sub/big.bin" "$work/b/big.bin" || fail "b: big.bin differs or is missing"

# ---------------------------------------------------------------- c. a destination through a link
echo "c. an upload through a link"
mkdir -p "$work/up/in"
head -c 200000 /dev/urandom >"$work/up/one.bin"
echo small >"$work/up/in/two.txt"
run c "$work/up" "smb://$SMBCOPY_FID_HOST/dfsroot/remote/up"
[ "$rc" -eq 0 ] || fail "c: exit $rc:"$'\n'"$(tail -n 12 "$out/c.err" | indent)"
same "$work/up" "$target/up" "c: //127.0.0.2/dfstarget/up is not the uploaded tree"
[ ! -e "$root/remote/up" ] || fail "c: something was written into the link itself"

# ---------------------------------------------------------------- h. a share referred elsewhere
# //127.0.0.1/dfsproxy is not on its server (the tree connect is refused
# with STATUS_BAD_NETWORK_NAME) but its server has a root referral for it
# to //127.0.0.2/dfstarget: how a domain controller answers for the root of
# a domain-based namespace it does not host.
echo "h. a share its server refers elsewhere (a DFS proxy)"
run h "smb://$SMBCOPY_FID_HOST/dfsproxy" "$work/h"
[ "$rc" -eq 0 ] || fail "h: exit $rc:"$'\n'"$(tail -n 12 "$out/h.err" | indent)"
expect h dfs_links_followed 1
same "$target" "$work/h" "h: the copy of //127.0.0.1/dfsproxy is not //127.0.0.2/dfstarget"
run h2 "smb://$SMBCOPY_FID_HOST/dfsproxy/sub/big.bin" "$work/h2/"
[ "$rc" -eq 0 ] || fail "h2: exit $rc:"$'\n'"$(tail -n 12 "$out/h2.err" | indent)"
cmp -s "$target/sub/big.bin" "$work/h2/big.bin" || fail "h2: big.bin through the proxy differs or is missing"
mkdir -p "$work/hup/in"
head -c 100000 /dev/urandom >"$work/hup/in/p.bin"
run h3 "$work/hup" "smb://$SMBCOPY_FID_HOST/dfsproxy/hup"
[ "$rc" -eq 0 ] || fail "h3: exit $rc:"$'\n'"$(tail -n 12 "$out/h3.err" | indent)"
same "$work/hup" "$target/hup" "h3: the upload through the proxy is not in //127.0.0.2/dfstarget/hup"
run h4 --list "smb://$SMBCOPY_FID_HOST/dfsproxy/sub"
[ "$rc" -eq 0 ] || fail "h4: exit $rc:"$'\n'"$(indent <"$out/h4.err")"
[ "$(jq -r '.entries[] | select(.name == "big.bin") | .size' "$out/h4.out")" = 300000 ] ||
    fail "h4: --list through the proxy does not show sub/big.bin: $(cat "$out/h4.out")"
# A share that is not there and not referred anywhere: the server's answer.
run h5 "smb://$SMBCOPY_FID_HOST/nosuch" "$work/h5"
[ "$rc" -ne 0 ] || fail "h5: a missing share: exit 0"
grep -q 'share not found' "$out/h5.err" || fail "h5: no 'share not found' message:"$'\n'"$(indent <"$out/h5.err")"
[ ! -e "$work/h5" ] || fail "h5: a missing share created the destination"

# ---------------------------------------------------------------- i. the library's client
# tests/integration/dfs/itest_dfs_client.c: the library's own calls
# (smb_client_*) through the links and the proxy, with a link of its own
# whose only target is down.
echo "i. the library's client through the namespace"
itest=$build/tests/itest_dfs_client
[ -x "$itest" ] || fail "i: itest_dfs_client not built: $itest"
ln -s 'msdfs:127.0.0.3\dfstarget' "$root/deadc"
if [ -x "$itest" ]; then
    if ! ns_run env SMBCOPY_FID_ENV="$dir/env" timeout 120 "$itest" >"$out/i.out" 2>&1; then
        fail "i: itest_dfs_client failed:"$'\n'"$(tail -n 30 "$out/i.out" | indent)"
    else
        echo "  i: $(grep -c '^\[       OK \]' "$out/i.out") library cases passed"
    fi
fi
rm -f "$root/deadc"

# ---------------------------------------------------------------- d. --mirror into the root
echo "d. --mirror into the DFS root"
mkdir -p "$work/m"
echo "mirrored" >"$work/m/r.txt"
echo "extraneous" >"$root/extra.txt"
before=$(cd "$target" && find . -type f | sort | xargs md5sum)
run d --mirror "$work/m" "smb://$SMBCOPY_FID_HOST/dfsroot"
[ "$rc" -eq 0 ] || fail "d: exit $rc:"$'\n'"$(tail -n 12 "$out/d.err" | indent)"
[ ! -e "$root/extra.txt" ] || fail "d: the extraneous file was not deleted"
cmp -s "$work/m/r.txt" "$root/r.txt" || fail "d: r.txt was not mirrored"
for l in remote local failover; do
    [ -L "$root/$l" ] || fail "d: the link $l is gone"
    grep -q "$l.*DFS link kept" "$out/d.err" || fail "d: no \"DFS link kept\" line for $l:"$'\n'"$(indent <"$out/d.err")"
done
after=$(cd "$target" && find . -type f | sort | xargs md5sum)
[ "$before" = "$after" ] || fail "d: the link's target changed"
# A source with the link's name: mirrored into the target.
mkdir -p "$work/m2/remote"
cp -r "$work/a/remote/." "$work/m2/remote/"
rm -f "$work/m2/remote/t.txt"
cp "$root/r.txt" "$work/m2/r.txt"
run d2 --mirror "$work/m2" "smb://$SMBCOPY_FID_HOST/dfsroot"
[ "$rc" -eq 0 ] || fail "d2: exit $rc:"$'\n'"$(tail -n 12 "$out/d2.err" | indent)"
[ ! -e "$target/t.txt" ] || fail "d2: t.txt, not in the source's remote/, is still in the target"
[ -L "$root/remote" ] || fail "d2: the link remote is gone"
same "$work/m2/remote" "$target" "d2: the target is not the source's remote/"

# ---------------------------------------------------------------- e. a link nothing answers for
echo "e. a link whose every target is down"
ln -s 'msdfs:127.0.0.3\dfstarget' "$root/dead"
run e "smb://$SMBCOPY_FID_HOST/dfsroot" "$work/e"
[ "$rc" -eq 1 ] || fail "e: exit $rc, expected 1:"$'\n'"$(tail -n 12 "$out/e.err" | indent)"
expect e dfs_links_unreachable 1
grep -q "DFS link 'dead': no target could be reached" "$out/e.err" ||
    fail "e: no message naming the link:"$'\n'"$(indent <"$out/e.err")"
cmp -s "$root/r.txt" "$work/e/r.txt" || fail "e: r.txt was not copied"
same "$target" "$work/e/remote" "e: remote/ was not copied"
rm -f "$root/dead"

# ---------------------------------------------------------------- f. --list
echo "f. --list beside smbclient -L"
ns_run timeout 60 smbclient -s "$SMBCOPY_FID_CLIENT_CONF" -A "$auth" -L "//$SMBCOPY_FID_HOST" -g 2>/dev/null |
    awk -F'|' '$1 == "Disk" || $1 == "IPC" || $1 == "Printer" { print $2 "|" tolower($1) "|" $3 }' |
    sed 's/|printer|/|printer|/' | sort >"$out/f.smbclient"
[ -s "$out/f.smbclient" ] || fail "f: smbclient -L listed nothing"
run f --list "//$SMBCOPY_FID_HOST"
[ "$rc" -eq 0 ] || fail "f: exit $rc:"$'\n'"$(indent <"$out/f.err")"
jq -r '.shares[] | "\(.name)|\(.type)|\(.comment)"' "$out/f.out" | sort >"$out/f.smbcopy"
diff "$out/f.smbclient" "$out/f.smbcopy" >"$out/diff" || fail "f: --list differs from smbclient -L: $(tr '\n' ' ' <"$out/diff")"
[ "$(jq -r '.shares[] | select(.name == "IPC$") | .special' "$out/f.out")" = true ] || fail "f: IPC\$ is not special"
ns_run timeout 60 "$cli" -A "$auth" --list "//$SMBCOPY_FID_HOST" >"$out/f.table" 2>&1 || fail "f: the table form failed"
grep -q '^dfsroot  *disk' "$out/f.table" || fail "f: no dfsroot line in the table: $(cat "$out/f.table")"
echo "  f: $(wc -l <"$out/f.smbcopy") shares, as smbclient -L lists them"
# A directory, through a link: names, types and sizes as the target holds them.
run f2 --list "smb://$SMBCOPY_FID_HOST/dfsroot/remote/sub"
[ "$rc" -eq 0 ] || fail "f2: exit $rc:"$'\n'"$(indent <"$out/f2.err")"
(cd "$target/sub" && find . -mindepth 1 -maxdepth 1 -printf '%P|%y|%s\n' | sed 's/|d|[0-9]*$/|dir|0/; s/|f|/|file|/' | sort) >"$out/f2.want"
jq -r '.entries[] | "\(.name)|\(.type)|\(.size)"' "$out/f2.out" | sort >"$out/f2.got"
diff "$out/f2.want" "$out/f2.got" >"$out/diff" || fail "f2: --list of remote/sub differs: $(tr '\n' ' ' <"$out/diff")"
run f3 --list "smb://$SMBCOPY_FID_HOST/dfsroot"
[ "$(jq -r '.entries[] | select(.name == "remote") | .type' "$out/f3.out")" = dfs_link ] ||
    fail "f3: remote is not listed as a DFS link: $(cat "$out/f3.out")"

# ---------------------------------------------------------------- g. every share of the server
echo "g. every share of a server as the source"
run g "smb://$SMBCOPY_FID_HOST/*" "$work/g"
[ "$rc" -eq 0 ] || fail "g: exit $rc:"$'\n'"$(tail -n 12 "$out/g.err" | indent)"
for sh in fidelity2 depot; do
    d=SMBCOPY_FID_DIR_${sh^^}
    same "${!d}" "$work/g/$sh" "g: $sh/ is not the share $sh"
done
[ ! -e "$work/g/IPC\$" ] || fail "g: IPC\$ was copied"
# The DFS root among them with its links followed, and the proxy share as its target.
expect g dfs_links_followed 4
same "$target" "$work/g/dfsroot/remote" "g: dfsroot/remote/ is not //127.0.0.2/dfstarget"
same "$other" "$work/g/dfsroot/local" "g: dfsroot/local/ is not //127.0.0.1/fidelity2"
same "$target" "$work/g/dfsproxy" "g: dfsproxy/ is not //127.0.0.2/dfstarget"
run g2 "smb://$SMBCOPY_FID_HOST/*" "$work/g2.tar"
[ "$rc" -eq 0 ] || fail "g2: exit $rc:"$'\n'"$(tail -n 12 "$out/g2.err" | indent)"
mkdir -p "$work/g2" && tar -xf "$work/g2.tar" -C "$work/g2" || fail "g2: the archive does not extract"
same "$other" "$work/g2/fidelity2" "g2: the archive's fidelity2/ is not the share"
run g3 "$work/g" "smb://$SMBCOPY_FID_HOST/*"
[ "$rc" -eq 2 ] || fail "g3: every share as a destination: exit $rc, expected 2"

if [ "$failures" -ne 0 ]; then
    echo "cli_dfs: $failures failure(s)"
    exit 1
fi
echo "cli_dfs: all cases passed"
