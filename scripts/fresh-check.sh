#!/usr/bin/env bash
# The suite on a machine as fresh as this one can be made: purge the Debian
# packages that scripts/install-deps.sh installs (with whatever only they
# pulled in), install them again with scripts/install-deps.sh, and run
# scripts/test.sh in a fresh clone of the repository's HEAD. Proves that
# install-deps.sh lists everything the suite needs (a package that was only
# installed by hand, or only recommended, shows up as a failure).
#
#   scripts/fresh-check.sh [--dry-run] [--force] [STAGE...]
#
# STAGEs are scripts/test.sh's (default: plain). --dry-run prints what would
# be run, with apt-get's simulation of the purge (nothing is changed).
# Packages that are Essential or of Priority required are never purged: every
# Debian machine has them and apt-get refuses to remove the essential ones.
#
# Run it alone, as root, on a machine where nothing else uses Samba, the
# compilers or Python: it refuses while Samba or impacket servers run (other
# tests), unless --force. It needs the network (apt-get update is checked
# before anything is purged). The report (each step, its time and result)
# goes to stdout and to a file, named at the end, next to the clone under
# ${TMPDIR:-/tmp}/smbcopy-fresh.*/.
set -euo pipefail

readonly PROG=${0##*/}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
readonly ROOT

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}
usage() {
    sed -n '9,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

dry_run=no
force=no
stages=()
for arg in "$@"; do
    case $arg in
    --dry-run | -n) dry_run=yes ;;
    --force) force=yes ;;
    -h | --help)
        sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*) usage ;;
    *) stages+=("$arg") ;;
    esac
done
((${#stages[@]} > 0)) || stages=(plain)

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script is for Debian"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script is for Debian"
[[ $dry_run == yes || $(id -u) -eq 0 ]] || die "must run as root (apt-get purge and install; the suite needs root)"

# run CMD...: print it; run it unless --dry-run.
run() {
    say "+ $*"
    [[ $dry_run == yes ]] || "$@"
}

# --- what to purge -------------------------------------------------------------

mapfile -t listed < <(bash "$ROOT/scripts/install-deps.sh" --list)
((${#listed[@]} > 0)) || die "scripts/install-deps.sh --list printed no package"
purge=() kept=()
for pkg in "${listed[@]}"; do
    info=$(dpkg-query -W -f='${db:Status-Abbrev}|${Essential}|${Priority}' "$pkg" 2>/dev/null) || info=""
    IFS='|' read -r status essential priority <<<"$info"
    if [[ ${status:-} != ii* ]]; then
        kept+=("$pkg (not installed)")
    elif [[ $essential == yes || $priority == required ]]; then
        kept+=("$pkg (base system)")
    else
        purge+=("$pkg")
    fi
done
# A package that apt-get cannot purge here (other installed software needs
# it in a way apt cannot resolve, e.g. openssl under ca-certificates and a
# JDK) stays: the whole purge would fail otherwise.
purgeable=()
for pkg in "${purge[@]}"; do
    # All at once first (one simulation, seconds); one by one only then.
    if ((${#purge[@]} == 0)) || apt-get -s -q purge --auto-remove "${purge[@]}" >/dev/null 2>&1; then
        purgeable=("${purge[@]}")
        break
    fi
    if apt-get -s -q purge --auto-remove "$pkg" >/dev/null 2>&1; then
        purgeable+=("$pkg")
    else
        kept+=("$pkg (apt-get cannot purge it here: apt-get -s purge $pkg)")
    fi
done
purge=("${purgeable[@]}")
say "purge (${#purge[@]}): ${purge[*]}"
((${#kept[@]} == 0)) || say "left alone (${#kept[@]}): ${kept[*]}"

# --- safety ----------------------------------------------------------------------

# Other tests' servers would lose their programs under them.
busy=$(
    # One name a call: pgrep refuses a process-name pattern longer than 15 characters.
    for prog in smbd samba samba-dcerpcd winbindd; do pgrep -a -x "$prog" || true; done
    pgrep -a -f 'impacket_server\.py' || true
)
if [[ -n $busy ]]; then
    if [[ $force == yes ]]; then
        say "warning: Samba or impacket processes are running (--force):"
        printf '%s\n' "$busy"
    elif [[ $dry_run == yes ]]; then
        say "note: Samba or impacket processes are running now; a real run would refuse (--force overrides):"
        printf '%s\n' "$busy"
    else
        printf '%s\n' "$busy" >&2
        die "Samba or impacket processes are running (other tests?): run this alone, or pass --force"
    fi
fi

# --- the run ---------------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/smbcopy-fresh.XXXXXX")
report=$work/fresh-check.log
: >"$report"
note() {
    say "$*"
    printf '%s\n' "$*" >>"$report"
}
failed=""
# step NAME CMD...: run CMD as a step of the report (time and result).
step() {
    local name=$1 t0=$SECONDS rc=0
    shift
    if [[ -n $failed ]]; then
        note "step $name: not run (after $failed failed)"
        return 0
    fi
    note "step $name: $*"
    run "$@" || rc=$?
    if [[ $dry_run == yes ]]; then
        note "step $name: not run (dry run)"
    elif ((rc == 0)); then
        note "step $name: passed in $((SECONDS - t0)) s"
    else
        note "step $name: FAILED (exit $rc) after $((SECONDS - t0)) s"
        failed=$name
    fi
}

note "fresh check of $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') on $(hostname), $(date -u +%Y-%m-%dT%H:%M:%SZ); stages: ${stages[*]}"
export DEBIAN_FRONTEND=noninteractive
# The network first: nothing is purged that cannot be installed again.
step apt-update apt-get -q update
if ((${#purge[@]} > 0)); then
    # What the purge takes with it (apt-get's simulation changes nothing):
    # the listed packages, what only they pulled in, and every installed
    # package that depends on one of them (software outside the suite too,
    # which install-deps.sh does not bring back).
    if plan=$(apt-get -s -q purge --auto-remove "${purge[@]}" 2>&1); then
        mapfile -t going < <(sed -n 's/^Purg \([^ ]*\).*/\1/p' <<<"$plan")
        note "simulated purge: ${#going[@]} packages would go: ${going[*]}"
    else
        printf '%s\n' "$plan" | tail -n 15 | tee -a "$report"
        note "apt-get cannot purge these packages together here (simulation above): nothing purged"
        failed="purge simulation"
    fi
    step purge apt-get -y -q purge --auto-remove "${purge[@]}"
fi
step clone git clone -q --no-hardlinks "$ROOT" "$work/smbcopy"
step install-deps bash "$work/smbcopy/scripts/install-deps.sh"
step test bash "$work/smbcopy/scripts/test.sh" "${stages[@]}"

if [[ -n $failed ]]; then
    note "fresh check FAILED at step $failed; report: $report"
    exit 1
fi
if [[ $dry_run == yes ]]; then
    note "dry run: nothing was changed"
    rm -rf -- "$work"
else
    note "fresh check passed; report: $report"
fi
