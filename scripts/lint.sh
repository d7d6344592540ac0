#!/usr/bin/env bash
# Static analysis: cppcheck over src/ and tests/, then clang-tidy (checks in
# .clang-tidy) over src/, each spread over the machine's cores. Any finding
# fails.
#
#   scripts/lint.sh [--tests] [FILE...]
#
# --tests: clang-tidy over tests/ too (not clean yet: see the document).
# FILEs: clang-tidy over just these (relative to the top or absolute),
# cppcheck skipped: for checking a fix quickly.
# The compile database is build-lint/ (LINT_BUILD_DIR), configured with
# clang; LINT_JOBS overrides the number of parallel jobs (default: nproc).
# Needs clang, clang-tidy and cppcheck (scripts/install-deps.sh). Prints one
# summary line per tool; exit status 1 when anything was found.
# See docs/static-analysis.md.
set -euo pipefail

readonly PROG=${0##*/}
cd "$(dirname "$0")/.."
readonly TOP=$PWD
readonly BUILD=${LINT_BUILD_DIR:-build-lint}
readonly JOBS=${LINT_JOBS:-$(nproc)}

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 2
}

with_tests=no
files=()
for arg in "$@"; do
    case $arg in
    --tests) with_tests=yes ;;
    -h | --help)
        sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*) die "unknown argument '$arg' (usage: $PROG [--tests] [FILE...])" ;;
    *) files+=("$(realpath -m "$arg")") ;;
    esac
done

for tool in clang clang-tidy cppcheck cmake; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (scripts/install-deps.sh installs it)"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The compile database: configure only, with clang (the flags clang-tidy sees).
if ! cmake -S . -B "$BUILD" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_C_COMPILER=clang >"$tmp/cmake.log" 2>&1; then
    cat "$tmp/cmake.log" >&2
    die "cmake could not configure $BUILD"
fi
db=$BUILD/compile_commands.json
[[ -s $db ]] || die "no $db after configuring"

# Every source file once.
sed -n 's/^ *"file": "\(.*\)",\{0,1\}$/\1/p' "$db" | sort -u >"$tmp/all"
status=0

# ---------------------------------------------------------------- cppcheck
if ((${#files[@]} == 0)); then
    start=$SECONDS
    cppcheck_rc=0
    cppcheck --project="$db" --enable=warning,portability,performance --inline-suppr --quiet \
        --error-exitcode=1 -j"$JOBS" --suppress=missingIncludeSystem -i bench -i examples \
        --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
        >"$tmp/cppcheck.out" 2>&1 || cppcheck_rc=$?
    n=$(grep -cE '^[^ ]+:[0-9]+:[0-9]+: [a-z]+: ' "$tmp/cppcheck.out" || true)
    if ((cppcheck_rc != 0 || n > 0)); then
        cat "$tmp/cppcheck.out"
        printf 'cppcheck: %d finding(s) (%ds)\n' "$n" $((SECONDS - start))
        status=1
    else
        printf 'cppcheck: clean (%ds)\n' $((SECONDS - start))
    fi
fi

# ---------------------------------------------------------------- clang-tidy
if ((${#files[@]} > 0)); then
    printf '%s\n' "${files[@]}" >"$tmp/tidy"
elif [[ $with_tests == yes ]]; then
    grep -E "^$TOP/(src|tests)/" "$tmp/all" >"$tmp/tidy" || true
else
    grep "^$TOP/src/" "$tmp/all" >"$tmp/tidy" || true
fi
nfiles=$(wc -l <"$tmp/tidy")
((nfiles > 0)) || die "no files for clang-tidy"
mkdir "$tmp/tidy.d"
start=$SECONDS
# One log per file, so parallel output never interleaves. clang-tidy exits
# non-zero on a finding (WarningsAsErrors) and on anything else that went
# wrong (a file that does not compile, a crash): xargs then fails.
tidy_rc=0
# shellcheck disable=SC2016 # $0, $1 and $2 are the inner shell's
xargs -P"$JOBS" -I{} sh -c 'clang-tidy -p "$0" --quiet "$1" >"$2/$(printf %s "$1" | tr / _).log" 2>&1' \
    "$BUILD" {} "$tmp/tidy.d" <"$tmp/tidy" || tidy_rc=$?
# Without "N warnings generated." (the checks left out); a finding in a
# header is reported once per file that includes it: counted once.
cat "$tmp"/tidy.d/*.log | grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' >"$tmp/tidy.out" || true
grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' "$tmp/tidy.out" | sort -u >"$tmp/tidy.findings" || true
n=$(wc -l <"$tmp/tidy.findings")
if ((tidy_rc != 0 || n > 0)); then
    cat "$tmp/tidy.out"
    printf 'clang-tidy: %d finding(s) in %d file(s) (%ds)\n' "$n" "$nfiles" $((SECONDS - start))
    status=1
else
    printf 'clang-tidy: clean, %d file(s) (%ds)\n' "$nfiles" $((SECONDS - start))
fi
exit "$status"
