#!/usr/bin/env bash
# Install the Debian packages that building and testing smbcopy needs.
#
#   scripts/install-deps.sh [--dry-run] [PACKAGE...]
#   scripts/install-deps.sh --list    print the packages, one a line
#
# Extra PACKAGEs (the benchmarks' rclone) join the list. samba-ad-provision
# is only recommended by samba-ad-dc, so --no-install-recommends needs it
# named: without it the AD DC fixture cannot provision (no AD schema files).
# python3-impacket: a second SMB server for the tests (samba-fixture.sh).
# python3-yaml: scripts/check-examples.py reads the Kubernetes examples.
# Idempotent: packages already installed are left alone, and when all of them
# are there nothing is run at all (no apt-get update). Runs apt-get as root,
# or through sudo when not root and sudo exists. --dry-run prints what would
# be run without running it.
set -euo pipefail

readonly PROG=${0##*/}
PACKAGES=(
    build-essential cmake pkg-config
    libssl-dev libkrb5-dev libarchive-dev libzstd-dev libcmocka-dev
    samba smbclient samba-ad-dc samba-ad-provision krb5-user
    python3 python3-impacket python3-yaml
    iproute2 procps jq openssl
    tar zstd xz-utils bzip2 gzip
    clang libclang-rt-dev valgrind cppcheck clang-tidy
)

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

dry_run=no
list=no
for arg in "$@"; do
    case $arg in
    --dry-run | -n) dry_run=yes ;;
    --list) list=yes ;;
    -h | --help)
        sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*) die "unknown argument '$arg' (usage: $PROG [--dry-run] [PACKAGE...])" ;;
    *) PACKAGES+=("$arg") ;;
    esac
done

if [[ $list == yes ]]; then
    printf '%s\n' "${PACKAGES[@]}"
    exit 0
fi

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script is for Debian and its derivatives"

installed() {
    local status
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) || return 1
    [[ $status == ii* ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
    say "all ${#PACKAGES[@]} packages already installed, nothing to do"
    exit 0
fi

runner=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        runner=(sudo)
    elif [[ $dry_run == no ]]; then
        die "not root and sudo is not available; run as root to install: ${missing[*]}"
    fi
fi

run() {
    say "${runner[*]:+${runner[*]} }$*"
    [[ $dry_run == yes ]] || "${runner[@]}" "$@"
}

say "missing: ${missing[*]}"
run env DEBIAN_FRONTEND=noninteractive apt-get -q update
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

if [[ $dry_run == no ]]; then
    still=()
    for pkg in "${missing[@]}"; do
        installed "$pkg" || still+=("$pkg")
    done
    ((${#still[@]} == 0)) || die "still not installed: ${still[*]}"
    say "installed ${#missing[@]} package(s)"
fi
