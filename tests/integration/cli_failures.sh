#!/usr/bin/env bash
# smbcopy when things go wrong:
#   - wrong password: exit 3 and a one-line message (as destination and as
#     source, credentials from the environment, from -A and from the URL);
#   - missing share, nothing listening, unknown host: exit 4;
#   - bad options and arguments: exit 2;
#   - an auth file readable by group or others: exit 2, naming the permissions;
#   - no password, wrong or right, ever shows in stdout, stderr or the log;
#   - a read-only share as destination: exit 1, every file in "failures";
#   - a source file whose destination name is a directory: exit 1, the
#     directory kept;
#   - interrupted by SIGINT: exit 5, "interrupted": true, no partial file
#     under a final name (temporaries kept only for files the journal can
#     resume, and the rerun resumes them and leaves none),
#     and a second run completes the copy;
#   - source files deleted while the copy runs: exit 0 or 1, no crash, and
#     no partial file under a final name at any time;
#   - a destination inside the source: refused (exit 2) or copied once,
#     never into itself over and over;
#   - after every failure: no temporary file (.smbcopy-*.tmp) left behind.
# SMBCOPY_TEST_KEEP=1 keeps the test's directories for a look afterwards.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

cli_test_dirs cli_failures
host_port=$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT

# smbcopy_run TAG COMMAND...: run COMMAND (smbcopy, maybe behind env or
# setsid) without a terminal (stdin is /dev/null); stdout to
# $work/out/TAG.out, stderr to $work/out/TAG.err; sets rc. Every output of
# smbcopy lands in $work/out, which the password check greps.
smbcopy_run() {
    local tag=$1
    shift
    printf '%q ' "$@" >"$work/out/$tag.cmd"
    echo "+ $(mask <"$work/out/$tag.cmd")"
    set +e
    timeout 120 "$@" </dev/null >"$work/out/$tag.out" 2>"$work/out/$tag.err"
    rc=$?
    set -e
}
# mask: the passwords of this test replaced by *** (for printed command lines).
mask() {
    sed -e "s/$SMBCOPY_TEST_PASSWORD/***/g" -e "s/${wrong_pw:-Wr0ng}/***/g"
}
show_filter=mask
# expect_rc TAG WANT...: the exit status is one of WANT.
expect_rc() {
    local tag=$1 w
    shift
    for w in "$@"; do
        [ "$rc" -eq "$w" ] && return 0
    done
    if [ "$rc" -eq 124 ]; then
        fail "$tag: timed out (expected exit $*)"
    elif [ "$rc" -gt 128 ]; then
        fail "$tag: killed by signal $((rc - 128)) (expected exit $*)"
    else
        fail "$tag: exit $rc, expected $*"
    fi
    show "$tag"
    return 1
}
# expect_one_line TAG: stderr is exactly one non-empty line (besides the
# warning about a password in the URL).
expect_one_line() {
    local n
    n=$(grep -v '^warning: a password in the URL' "$work/out/$1.err" | grep -c . || true)
    if [ "$n" -ne 1 ]; then
        fail "$1: expected a one-line message on stderr, got $n lines"
        show "$1"
    fi
}
json_ok() {
    if [ "$(jq -s 'length' "$work/out/$1.out" 2>/dev/null)" != 1 ] ||
        [ "$(jq -r 'type' "$work/out/$1.out")" != object ]; then
        fail "$1: stdout is not one JSON object"
        show "$1"
        return 1
    fi
}
# no_leftovers TAG DIR [ALLOWED_LIST_FILE]: no temporary file under DIR, and
# when a list of allowed relative paths is given, nothing else either.
no_leftovers() {
    local tag=$1 dir=$2 allowed=${3:-} left
    [ -d "$dir" ] || return 0
    left=$(find "$dir" -name '.smbcopy-*' -printf '%P\n')
    if [ -n "$left" ]; then
        fail "$tag: temporary files left behind in $dir:"
        head -n 10 <<<"$left" >&2
    fi
    if [ -n "$allowed" ]; then
        left=$(cd "$dir" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | comm -23 - "$allowed")
        if [ -n "$left" ]; then
            fail "$tag: unexpected entries in $dir:"
            head -n 10 <<<"$left" >&2
        fi
    fi
}

src=$work/src
mkdir -p "$src/sub"
for i in 1 2 3 4 5; do
    printf 'file %d\n' "$i" >"$src/f$i.txt"
done
printf 'nested\n' >"$src/sub/nested.txt"
creds_env=(env SMB_USERNAME="$SMBCOPY_TEST_USER" SMB_DOMAIN="$SMBCOPY_TEST_DOMAIN")
wrong_pw=Wr0ng-$RANDOM-pw-$$

# --- authentication ------------------------------------------------------------

smbcopy_run wrongpw-env "${creds_env[@]}" SMB_PASSWORD="$wrong_pw" "$cli" "$src" "$url/a"
if expect_rc wrongpw-env 3; then expect_one_line wrongpw-env; fi
[ ! -e "$share/a" ] || fail "wrongpw-env: the destination was created"

smbcopy_run wrongpw-json "${creds_env[@]}" SMB_PASSWORD="$wrong_pw" "$cli" --json "$src" "$url/a"
expect_rc wrongpw-json 3 || true

smbcopy_run wrongpw-source "${creds_env[@]}" SMB_PASSWORD="$wrong_pw" "$cli" \
    "smb://$host_port/$SMBCOPY_TEST_SHARE/sample" "$work/dl-wrongpw"
if expect_rc wrongpw-source 3; then expect_one_line wrongpw-source; fi

smbcopy_run wrongpw-urluser env SMB_PASSWORD="$wrong_pw" "$cli" "$src" \
    "smb://$SMBCOPY_TEST_USER@$host_port/$SMBCOPY_TEST_SHARE/$name/a"
if expect_rc wrongpw-urluser 3; then expect_one_line wrongpw-urluser; fi

smbcopy_run wrongpw-inurl "$cli" "$src" \
    "smb://$SMBCOPY_TEST_DOMAIN;$SMBCOPY_TEST_USER:$wrong_pw@$host_port/$SMBCOPY_TEST_SHARE/$name/a"
if expect_rc wrongpw-inurl 3; then expect_one_line wrongpw-inurl; fi

printf 'username = %s\npassword = %s\ndomain = %s\n' "$SMBCOPY_TEST_USER" "$wrong_pw" "$SMBCOPY_TEST_DOMAIN" \
    >"$work/wrong.auth"
chmod 600 "$work/wrong.auth"
smbcopy_run wrongpw-authfile "$cli" -A "$work/wrong.auth" "$src" "$url/a"
if expect_rc wrongpw-authfile 3; then expect_one_line wrongpw-authfile; fi

# A user and no password, no terminal to ask on (setsid: no controlling
# terminal even when the tests run from one), no Kerberos credentials (an
# empty ticket cache and no keytab): fails at once with exit 3 and says how
# to give a password; nothing is tried with an empty one.
smbcopy_run nopw setsid -w env -u SMB_PASSWORD KRB5CCNAME="FILE:$work/no-ccache" \
    KRB5_CLIENT_KTNAME="FILE:$work/no-keytab" "$cli" -U "$SMBCOPY_TEST_USER" "$src" "$url/a"
if expect_rc nopw 3; then
    expect_one_line nopw
    grep -q "no terminal to ask on" "$work/out/nopw.err" || { fail "nopw: the message does not say why"; show nopw; }
fi
[ ! -e "$share/a" ] || fail "nopw: the destination was created without credentials"

# --- auth file permissions ---------------------------------------------------------

for mode in 0644 0640 0604; do
    cp "$auth" "$work/auth-$mode"
    chmod "$mode" "$work/auth-$mode"
    smbcopy_run "authfile-$mode" "$cli" -A "$work/auth-$mode" "$src" "$url/perm"
    if expect_rc "authfile-$mode" 2; then
        grep -qiE 'permission|mode|readable|0?6[04]4|group|other' "$work/out/authfile-$mode.err" ||
            { fail "authfile-$mode: the message does not mention the permissions"; show "authfile-$mode"; }
    fi
done
[ ! -e "$share/perm" ] || fail "authfile: the destination was created although the auth file was refused"
cp "$auth" "$work/auth-0400"
chmod 0400 "$work/auth-0400"
smbcopy_run authfile-0400 "$cli" -A "$work/auth-0400" "$src" "$url/perm"
expect_rc authfile-0400 0 || true
smbcopy_run authfile-missing "$cli" -A "$work/no-such-auth-file" "$src" "$url/perm"
expect_rc authfile-missing 2 || true

# --- connecting ----------------------------------------------------------------------

smbcopy_run noshare "$cli" -A "$auth" "$src" "smb://$host_port/no-such-share-$$/x"
if expect_rc noshare 4; then
    grep -q . "$work/out/noshare.err" || fail "noshare: no message on stderr"
fi
smbcopy_run noshare-source "$cli" -A "$auth" "smb://$host_port/no-such-share-$$/x" "$work/dl-noshare"
expect_rc noshare-source 4 || true
[ ! -e "$work/dl-noshare" ] || fail "noshare-source: the local destination was created"

free_port=
for p in $(seq 47950 48150); do
    if [ -z "$(ss -Htln "( sport = :$p )" 2>/dev/null)" ]; then
        free_port=$p
        break
    fi
done
[ -n "$free_port" ] || die "no free TCP port found for the unreachable-server check"
smbcopy_run noport "$cli" -A "$auth" "$src" "smb://$SMBCOPY_TEST_HOST:$free_port/$SMBCOPY_TEST_SHARE/x"
if expect_rc noport 4; then expect_one_line noport; fi
smbcopy_run noport-source "$cli" -A "$auth" "smb://$SMBCOPY_TEST_HOST:$free_port/$SMBCOPY_TEST_SHARE/x" "$work/dl-noport"
expect_rc noport-source 4 || true
smbcopy_run nohost "$cli" -A "$auth" "$src" "smb://no-such-host.invalid/$SMBCOPY_TEST_SHARE/x"
expect_rc nohost 4 || true

# --- usage -----------------------------------------------------------------------------

smbcopy_run badopt "$cli" --no-such-option "$src" "$work/x"
if expect_rc badopt 2; then
    grep -q . "$work/out/badopt.err" || fail "badopt: no message on stderr"
fi
smbcopy_run noargs "$cli"
expect_rc noargs 2 || true
smbcopy_run onearg "$cli" "$src"
expect_rc onearg 2 || true
smbcopy_run badthreads "$cli" --threads abc "$src" "$work/x"
expect_rc badthreads 2 || true
smbcopy_run negthreads "$cli" -j -3 "$src" "$work/x"
expect_rc negthreads 2 || true
smbcopy_run badproto "$cli" --min-protocol SMB9 "$src" "$work/x"
expect_rc badproto 2 || true
smbcopy_run badurl "$cli" -A "$auth" "$src" "smb://$host_port"
expect_rc badurl 2 || true
[ ! -e "$work/x" ] || fail "usage errors: a destination was created"

# --- read-only share as destination -------------------------------------------------------

ro_before=$(cd "$SMBCOPY_TEST_READONLY_SHARE_DIR" && find . -printf '%P %y %s %T@\n' | LC_ALL=C sort)
smbcopy_run readonly "$cli" -A "$auth" --json "$src" "smb://$host_port/$SMBCOPY_TEST_READONLY_SHARE"
if expect_rc readonly 1 && json_ok readonly; then
    nsrc=$(find "$src" -type f | wc -l)
    # The files at the top fail; sub/ fails as a directory or through its file.
    [ "$(field readonly files_failed)" -ge 5 ] ||
        fail "readonly: files_failed is $(field readonly files_failed), expected at least 5 of $nsrc"
    expect_field readonly files_copied 0
    for i in 1 2 3 4 5; do
        jq -e --arg p "f$i.txt" '.failures | map(select(.path == $p and (.reason | length) > 0)) | length == 1' \
            "$work/out/readonly.out" >/dev/null ||
            fail "readonly: failures do not list f$i.txt once with a reason: $(jq -c .failures "$work/out/readonly.out")"
    done
    jq -e '.failures | map(select(.path | startswith("sub"))) | length >= 1' "$work/out/readonly.out" >/dev/null ||
        fail "readonly: failures do not mention sub/: $(jq -c .failures "$work/out/readonly.out")"
fi
ro_after=$(cd "$SMBCOPY_TEST_READONLY_SHARE_DIR" && find . -printf '%P %y %s %T@\n' | LC_ALL=C sort)
[ "$ro_before" = "$ro_after" ] || {
    fail "readonly: the read-only share changed on disk"
    diff <(echo "$ro_before") <(echo "$ro_after") >&2 || true
}

# --- a file whose destination name is a directory --------------------------------------------

for side in local share; do
    if [ $side = local ]; then d=$work/clash l=$work/clash; else d=$share/clash l=$url/clash; fi
    mkdir -p "$d/f3.txt"
    printf 'keep me\n' >"$d/f3.txt/inside.txt"
    smbcopy_run "clash-$side" "$cli" -A "$auth" --json "$src" "$l"
    if expect_rc "clash-$side" 1 && json_ok "clash-$side"; then
        expect_field "clash-$side" files_failed 1
        expect_field "clash-$side" files_copied $(($(find "$src" -type f | wc -l) - 1))
        jq -e '.failures | map(select(.path == "f3.txt")) | length == 1' "$work/out/clash-$side.out" >/dev/null ||
            fail "clash-$side: failures do not list f3.txt: $(jq -c .failures "$work/out/clash-$side.out")"
    fi
    [ "$(cat "$d/f3.txt/inside.txt" 2>/dev/null)" = "keep me" ] ||
        fail "clash-$side: the directory in the way was not kept"
    (cd "$src" && find . -mindepth 1 -printf '%P\n'; echo f3.txt/inside.txt) | LC_ALL=C sort >"$work/allowed"
    no_leftovers "clash-$side" "$d" "$work/allowed"
done

# --- a destination inside the source -------------------------------------------------------------

# Either refused as a usage error (exit 2, nothing made) or copied without
# the destination itself (exit 0): never a copy of the copy of the copy.
for side in local share; do
    if [ $side = local ]; then d=$work/nest l=$work/nest; else d=$share/nest l=$url/nest; fi
    mkdir -p "$d/dir"
    printf 'one\n' >"$d/one.txt"
    printf 'two\n' >"$d/dir/two.txt"
    smbcopy_run "nested-$side" "$cli" -A "$auth" --json "$l" "$l/inside"
    expect_rc "nested-$side" 0 2 || true
    if [ -e "$d/inside/inside" ]; then
        fail "nested-$side: the destination was copied into itself ($(find "$d" -type d | wc -l) directories made)"
    elif [ "$rc" -eq 0 ]; then
        if [ "$(cat "$d/inside/one.txt" 2>/dev/null)" != one ] || [ ! -f "$d/inside/dir/two.txt" ]; then
            fail "nested-$side: exit 0 but the copy in inside/ is incomplete"
        fi
    elif [ -e "$d/inside" ]; then
        fail "nested-$side: refused, yet $d/inside was made"
    fi
    no_leftovers "nested-$side" "$d"
done

# --- interrupted ------------------------------------------------------------------------------

# run_bg TAG COMMAND...: COMMAND in the background with SIGINT at its
# default (a background job of a script would ignore it); sets bg_pid.
run_bg() {
    local tag=$1
    shift
    printf '%q ' "$@" >"$work/out/$tag.cmd"
    echo "+ $(mask <"$work/out/$tag.cmd") &"
    perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "exec: $!\n"' -- "$@" \
        </dev/null >"$work/out/$tag.out" 2>"$work/out/$tag.err" &
    bg_pid=$!
}
wait_bg() {
    set +e
    wait "$bg_pid"
    rc=$?
    set -e
    bg_pid=
}
# wait_for_file DIR SECONDS: until DIR holds a regular file (or the
# background run ended); false on timeout.
wait_for_file() {
    local dir=$1 n=$(($2 * 50))
    while ((n-- > 0)); do
        [ -n "$(find "$dir" -type f -print -quit 2>/dev/null)" ] && return 0
        kill -0 "$bg_pid" 2>/dev/null || return 0
        sleep 0.02
    done
    return 1
}
# complete_under_final_names TAG SRC DEST [content]: every file in DEST named
# like a file of SRC is a full copy of it (same size; with "content", same
# bytes), and DEST holds no file that SRC lacks (temporaries aside: files
# named .smbcopy-*, and whatever is inside a directory being staged under such
# a name).
complete_under_final_names() {
    local tag=$1 s=$2 d=$3 mode=${4:-size} bad p
    [ -d "$d" ] || return 0
    bad=$(awk -F'\t' 'NR == FNR { size[$1] = $2; next }
        !($1 in size) { print $1 " (no such source file)"; next }
        size[$1] != $2 { print $1 " (" $2 " bytes, the source has " size[$1] ")" }' \
        <(cd "$s" && find . -type f -printf '%P\t%s\n') \
        <(cd "$d" && find . -type f ! -path '*/.smbcopy-*' -printf '%P\t%s\n' 2>/dev/null))
    if [ -z "$bad" ] && [ "$mode" = content ]; then
        bad=$(cd "$d" && find . -type f ! -path '*/.smbcopy-*' -printf '%P\n' | while IFS= read -r p; do
            cmp -s -- "$s/$p" "$d/$p" || echo "$p (content differs)"
        done)
    fi
    if [ -n "$bad" ]; then
        fail "$tag: incomplete or unknown files under final names in $d:"
        head -n 10 <<<"$bad" >&2
    fi
}

big=$work/big
mkdir -p "$big"
for i in $(seq -w 1 24); do
    head -c $((16 * 1024 * 1024)) < <(yes "big file $i of the interrupt check") >"$big/big$i.bin"
done
run_bg interrupt "$cli" -A "$auth" --json --threads 2 "$big" "$url/interrupted"
if ! wait_for_file "$share/interrupted" 60; then
    fail "interrupt: no file appeared within 60 s"
fi
sleep 0.3
if kill -0 "$bg_pid" 2>/dev/null; then
    kill -INT "$bg_pid"
    wait_bg
    if expect_rc interrupt 5 && json_ok interrupt; then
        expect_field interrupt interrupted true
    fi
else
    wait_bg
    echo "note: the copy ended before the interrupt (exit $rc); interruption not checked"
fi
# Temporary files may stay: those of files stopped part-way whose committed
# ranges are in the job's journal, for the rerun to resume.
(cd "$big" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) >"$work/allowed"
(cd "$share/interrupted" 2>/dev/null && find . -maxdepth 1 -name '.smbcopy-*.tmp' -printf '%P\n' | LC_ALL=C sort) \
    >"$work/kept"
if [ -s "$work/kept" ]; then
    [ -n "$(find "$XDG_STATE_HOME/smbcopy" -name '*.journal' 2>/dev/null)" ] ||
        fail "interrupt: temporary files kept without a journal to resume them: $(tr '\n' ' ' <"$work/kept")"
    LC_ALL=C sort -m "$work/allowed" "$work/kept" >"$work/allowed+kept"
    left=$(cd "$share/interrupted" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | comm -23 - "$work/allowed+kept")
    [ -z "$left" ] || fail "interrupt: unexpected entries: $left"
else
    no_leftovers interrupt "$share/interrupted" "$work/allowed"
fi
complete_under_final_names interrupt "$big" "$share/interrupted" content
smbcopy_run resume "$cli" -A "$auth" --json "$big" "$url/interrupted"
if expect_rc resume 0; then
    bash "$fixtures/compare-trees.sh" "$big" "$share/interrupted" >"$work/out/resume.cmp" 2>&1 ||
        { fail "resume: the second run did not complete the copy"; cat "$work/out/resume.cmp" >&2; }
    no_leftovers resume "$share/interrupted"
    if [ -s "$work/kept" ] && [ "$(jq -r .files_resumed "$work/out/resume.out")" -lt 1 ]; then
        fail "resume: temporary files were kept but no file was resumed"
    fi
fi

# --- source files deleted during the copy ---------------------------------------------------------

# make_many DIR: 20 directories of 60 files of 16 KiB, and 4 files of 8 MiB.
make_many() {
    perl -e '
        my $d = shift;
        for my $i (1 .. 20) {
            my $sd = sprintf "%s/d%02d", $d, $i;
            mkdir $sd or die "$sd: $!";
            for my $j (1 .. 60) {
                my $p = sprintf "%s/f%03d.dat", $sd, $j;
                open my $fh, ">", $p or die "$p: $!";
                my $line = "$p\n";
                print $fh substr($line x (16384 / length($line) + 1), 0, 16384);
                close $fh;
            }
        }
        for my $i (1 .. 4) {
            my $p = "$d/large$i.bin";
            open my $fh, ">", $p or die "$p: $!";
            my $chunk = substr(("large file $i\n") x 70000, 0, 1 << 20);
            print $fh $chunk for 1 .. 8;
            close $fh;
        }' "$1"
}

# vanish_check MODE SRC_DISK SRC_LOC DST_DISK DST_LOC
vanish_check() {
    local m=$1 sd=$2 sl=$3 dd=$4 dl=$5 ref=$work/ref-$1 deleted=$work/deleted-$1
    mkdir -p "$sd" "$ref"
    make_many "$sd"
    cp -a "$sd/." "$ref/"
    (cd "$ref" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) >"$work/allowed-$m"
    # To delete: every third file of the later directories, a whole
    # directory and a large file.
    {
        (cd "$sd" && find d1[0-9] -type f -name 'f0[0-9][147].dat')
        (cd "$sd" && find d20 -type f)
        echo large4.bin
    } | LC_ALL=C sort >"$deleted"
    run_bg "vanish-$m" "$cli" -A "$auth" --json --threads 2 "$sl" "$dl"
    wait_for_file "$dd" 60 || fail "vanish-$m: no file appeared within 60 s"
    local running=no
    kill -0 "$bg_pid" 2>/dev/null && running=yes
    (cd "$sd" && xargs -d '\n' rm -f -- <"$deleted")
    rm -rf "$sd/d20"
    [ $running = yes ] || echo "note: vanish-$m: the copy ended before the deletions"
    # Meanwhile, and after: complete files only under final names.
    while kill -0 "$bg_pid" 2>/dev/null; do
        complete_under_final_names "vanish-$m-during" "$ref" "$dd"
        sleep 0.05
    done
    wait_bg
    if expect_rc "vanish-$m" 0 1 && json_ok "vanish-$m"; then
        echo "vanish-$m: exit $rc, $(field "vanish-$m" files_copied) copied, $(field "vanish-$m" files_failed) failed"
        # Failures, if any, are deleted files (or the deleted directory).
        local extra
        extra=$(jq -r '.failures[].path' "$work/out/vanish-$m.out" | LC_ALL=C sort -u |
            comm -13 "$deleted" - | grep -vx 'd20' || true)
        [ -z "$extra" ] || fail "vanish-$m: files that were not deleted failed: $extra"
    fi
    no_leftovers "vanish-$m" "$dd" "$work/allowed-$m"
    complete_under_final_names "vanish-$m" "$ref" "$dd" content
    # Every file still in the source arrived.
    local missing
    missing=$(cd "$sd" && find . -type f -printf '%P\n' | while IFS= read -r p; do
        [ -f "$dd/$p" ] || echo "$p"
    done)
    [ -z "$missing" ] || fail "vanish-$m: files never deleted from the source are missing: $(tr '\n' ' ' <<<"$missing" | cut -c1-500)"
}

vanish_check up "$work/vanish-src" "$work/vanish-src" "$share/vanish-dst" "$url/vanish-dst"
vanish_check down "$share/vanish-src" "$url/vanish-src" "$work/vanish-dst" "$work/vanish-dst"

# --- a successful run with everything logged, and the password check -----------------------------

smbcopy_run logged "$cli" -A "$auth" -v --json --log "$work/out/run.log" "$src" "$url/logged"
expect_rc logged 0 || true
smbcopy_run logged-env "${creds_env[@]}" SMB_PASSWORD="$SMBCOPY_TEST_PASSWORD" "$cli" -v --log "$work/out/env.log" \
    "$src" "$url/logged-env"
expect_rc logged-env 0 || true
smbcopy_run logged-url "$cli" -v --log "$work/out/url.log" "$src" \
    "smb://$SMBCOPY_TEST_USER:$SMBCOPY_TEST_PASSWORD@$host_port/$SMBCOPY_TEST_SHARE/$name/logged-url"
expect_rc logged-url 0 || true
smbcopy_run logged-url-noshare "$cli" -v --log "$work/out/url-noshare.log" "$src" \
    "smb://$SMBCOPY_TEST_USER:$SMBCOPY_TEST_PASSWORD@$host_port/no-such-share-$$/x"
expect_rc logged-url-noshare 4 || true
smbcopy_run logged-wrong "${creds_env[@]}" SMB_PASSWORD="$wrong_pw" "$cli" -v --log "$work/out/wrong.log" \
    "$src" "$url/logged-wrong"
expect_rc logged-wrong 3 || true
for f in run.log env.log url.log url-noshare.log wrong.log; do
    [ -s "$work/out/$f" ] || fail "--log $f: the log file is missing or empty"
done
for pw in "$SMBCOPY_TEST_PASSWORD" "$wrong_pw"; do
    hits=$(grep -rlF --include='*.out' --include='*.err' --include='*.log' -- "$pw" "$work/out" || true)
    [ -z "$hits" ] || fail "a password appears in: $(printf '%s' "$hits" | tr '\n' ' ')"
done
# The command files hold passwords on purpose (the command lines); only
# smbcopy's own output counts.

cli_test_end "cli_failures: all checks passed"
