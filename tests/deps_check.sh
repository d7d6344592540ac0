#!/usr/bin/env bash
# Every program, Perl and Python module and data file that the test suite
# uses comes from a Debian package that scripts/install-deps.sh installs, or
# from one of their dependencies (Depends and Pre-Depends, followed through
# alternatives and virtual packages; never Recommends, which install-deps.sh
# does not install), or from the base system (packages that are Essential or
# of Priority required, on every Debian machine). A tool that is merely
# installed here, as samba-ad-provision was, fails this check instead of a
# test on a fresh machine.
#
# What is checked:
#   - programs: every word of the suite's shell scripts (comments left out)
#     that names an executable in /usr/sbin, /usr/bin, /sbin or /bin, the
#     directories of a fresh machine (a tool found only elsewhere, such as
#     /usr/local/bin, is not seen), minus NOT_PROGRAMS below; and the
#     scripts' interpreters;
#   - Perl modules used by the suite's *.pl, Python modules imported by its
#     *.py (as /usr/bin/python3 finds them);
#   - data files: DATA_FILES below.
# C libraries the tests link are checked by the build itself (CMake's
# find_library and pkg-config fail without them).
#
#   tests/deps_check.sh [SOURCE_DIR]   (ctest: deps.check)
# Skipped (77) where dpkg is missing; fails under CI=true.
set -euo pipefail

src=${1:-${SMBCOPY_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}}
# shellcheck source=integration/lib/skip.sh
. "$src/tests/integration/lib/skip.sh"
command -v dpkg-query >/dev/null 2>&1 || skip "dpkg-query not found: the check is for Debian"

readonly SYSTEM_DIRS=(/usr/sbin /usr/bin /sbin /bin)

# The scripts the suite runs (scripts/test.sh's stages and what CTest runs).
mapfile -t SCRIPTS < <(
    cd "$src" && ls -1 \
        tests/*.sh tests/integration/*.sh tests/integration/lib/*.sh \
        tests/fixtures/*.sh tests/fixtures/lib/*.sh tests/hostile/*.sh \
        tests/fuzz/*.sh scripts/test.sh scripts/lint.sh scripts/memcheck.sh \
        scripts/fuzz.sh 2>/dev/null
)
mapfile -t PERL_SCRIPTS < <(cd "$src" && find tests scripts -name '*.pl' -type f | sort)
mapfile -t PY_SCRIPTS < <(cd "$src" && find tests scripts -name '*.py' -type f | sort)

# Words of the scripts that are executables on a fresh machine too, but
# which the scripts use only as words (in messages, as options, as shell
# keywords or builtins that shadow the program): "name: why".
readonly NOT_PROGRAMS=(
    "time: the bash keyword (/usr/bin/time is never run)"
    "file: a word in messages and templates (no script runs file(1))"
    "write: a word in messages and smbconf options"
    "column: a word in a template"
    "ex: a variable's name"
    "look: a word in messages"
)

# Data files: "what|path|the package expected to ship it".
samba_setup=$(/usr/bin/python3 -c 'import samba.param; print(samba.param.setup_dir())' 2>/dev/null) ||
    samba_setup=/usr/share/samba/setup
readonly DATA_FILES=(
    "the AD schema (samba-ad-dc.sh's provision)|$samba_setup/ad-schema/MS-AD_Schema_2K8_R2_Attributes.txt|samba-ad-provision"
    "the AD provision templates|$samba_setup/provision.ldif|samba-ad-provision"
)

work=$(mktemp -d "${TMPDIR:-/tmp}/smbcopy-deps.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# --- the packages allowed: listed, their dependencies, the base system ------

mapfile -t LISTED < <(bash "$src/scripts/install-deps.sh" --list)
((${#LISTED[@]} > 0)) || {
    echo "FAIL: scripts/install-deps.sh --list printed no package" >&2
    exit 1
}
dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\t${Essential}\t${Priority}\t${Provides}\t${Pre-Depends}, ${Depends}\n' \
    >"$work/status"
for pkg in "${LISTED[@]}"; do
    awk -F'\t' -v p="$pkg" '$1 == p && $2 ~ /^ii/ { found = 1 } END { exit !found }' "$work/status" ||
        fail "package $pkg (scripts/install-deps.sh) is not installed: run scripts/install-deps.sh"
done
printf '%s\n' "${LISTED[@]}" >"$work/listed"
# The closure, one package a line: the listed and base-system packages and,
# recursively, every installed package they depend on (each alternative of
# "a | b" that is installed; a virtual package by its installed providers).
awk -F'\t' '
    function clean(d) {
        sub(/\(.*/, "", d); sub(/:[a-z0-9]+$/, "", d)
        gsub(/[[:space:]]/, "", d)
        sub(/:[a-z0-9]+$/, "", d)
        return d
    }
    FNR == NR { seed[$1] = 1; next }
    $2 !~ /^ii/ { next }
    {
        inst[$1] = 1; deps[$1] = $6
        if ($3 == "yes" || $4 == "required") seed[$1] = 1
        n = split($5, pv, ",")
        for (i = 1; i <= n; i++) { v = clean(pv[i]); if (v != "") prov[v] = prov[v] " " $1 }
    }
    END {
        for (p in seed) if (p in inst) { queue[++qn] = p; ok[p] = 1 }
        for (qi = 1; qi <= qn; qi++) {
            n = split(deps[queue[qi]], group, ",")
            for (g = 1; g <= n; g++) {
                m = split(group[g], alt, "|")
                for (a = 1; a <= m; a++) {
                    d = clean(alt[a]); if (d == "") continue
                    cand = ((d in inst) ? d : "") " " prov[d]
                    k = split(cand, cs, " ")
                    for (c = 1; c <= k; c++)
                        if (cs[c] != "" && !(cs[c] in ok)) { ok[cs[c]] = 1; queue[++qn] = cs[c] }
                }
            }
        }
        for (p in ok) print p
    }' "$work/listed" "$work/status" | sort >"$work/allowed"

# --- what the suite uses: "kind|name|path|expected package" ----------------

: >"$work/items"
is_not_program() {
    local e
    for e in "${NOT_PROGRAMS[@]}"; do
        [[ ${e%%:*} == "$1" ]] && return 0
    done
    return 1
}
ls -1 "${SYSTEM_DIRS[@]}" 2>/dev/null | sort -u >"$work/executables"
(cd "$src" && sed -E 's/(^|[[:space:]])#.*$//' "${SCRIPTS[@]}") |
    grep -oE '[A-Za-z_][A-Za-z0-9_.+-]*' | sort -u >"$work/words"
# Interpreters: "#!/usr/bin/env bash" and "#!/bin/sh" lines.
(cd "$src" && head -qn1 "${SCRIPTS[@]}" "${PERL_SCRIPTS[@]}" "${PY_SCRIPTS[@]}") |
    sed -nE 's,^#![[:space:]]*/usr/bin/env[[:space:]]+([^[:space:]]+).*,env\n\1,p; s,^#![[:space:]]*/[^[:space:]]*/([^/[:space:]]+).*,\1,p' |
    sort -u >>"$work/words"
sort -u -o "$work/words" "$work/words"
while read -r word; do
    is_not_program "$word" && continue
    path=$(PATH=$(
        IFS=:
        echo "${SYSTEM_DIRS[*]}"
    ) type -P -- "$word") || continue
    echo "program|$word|$path|" >>"$work/items"
done < <(comm -12 "$work/words" "$work/executables")
# The suite runs /usr/bin/python3 by its path (impacket's server).
echo "program|/usr/bin/python3|/usr/bin/python3|" >>"$work/items"

for pl in "${PERL_SCRIPTS[@]}"; do
    for mod in $(sed -nE 's/^[[:space:]]*use[[:space:]]+([A-Z][A-Za-z0-9_:]*).*/\1/p' "$src/$pl" | sort -u); do
        f=$(perl -M"$mod" -e '(my $k = shift) =~ s{::}{/}g; print $INC{"$k.pm"}' "$mod" 2>/dev/null) ||
            f="(not found by perl)"
        echo "Perl module (used by $pl)|$mod|$f|" >>"$work/items"
    done
done
for py in "${PY_SCRIPTS[@]}"; do
    for mod in $(sed -nE 's/^[[:space:]]*(from|import)[[:space:]]+([A-Za-z_][A-Za-z0-9_.]*).*/\2/p' "$src/$py" | sort -u); do
        # shellcheck disable=SC2016
        f=$(/usr/bin/python3 -c 'import importlib, sys
m = importlib.import_module(sys.argv[1])
print(getattr(m, "__file__", None) or "")' "$mod" 2>/dev/null) || f="(not importable by /usr/bin/python3)"
        # Built into the interpreter: comes with python3 itself.
        [[ -n $f ]] || continue
        echo "Python module (imported by $py)|$mod|$f|" >>"$work/items"
    done
done
for d in "${DATA_FILES[@]}"; do
    IFS='|' read -r what path pkg <<<"$d"
    echo "data file ($what)|${path##*/}|$path|$pkg" >>"$work/items"
done

# --- who ships what: one dpkg -S for every path ------------------------------

# Each path is looked up under its other spellings too: its real path, and
# /bin for /usr/bin and so on (merged /usr: dpkg knows the path the package
# ships). "N<TAB>candidate" for item N.
cut -d'|' -f3 "$work/items" >"$work/item_paths"
xargs -r -d '\n' realpath -m -- <"$work/item_paths" >"$work/item_real"
paste "$work/item_paths" "$work/item_real" | awk -F'\t' '{
    for (k = 1; k <= 2; k++) {
        x = $k; if (x !~ /^\//) continue
        print NR "\t" x
        if (x ~ /^\/usr\/(s?bin|lib|lib64)\//) print NR "\t" substr(x, 5)
        else if (x ~ /^\/(s?bin|lib|lib64)\//) print NR "\t/usr" x
    }
}' | sort -u >"$work/cands"
# "pkg[:arch][, pkg...]: /path"; diversions left out.
cut -f2 "$work/cands" | sort -u | xargs -r -d '\n' dpkg-query -S -- 2>/dev/null |
    grep -v '^diversion ' >"$work/owners" || true
# Per item: "N<TAB>owners (space-separated)<TAB>yes when one is allowed".
awk -F'\t' '
    FILENAME == ARGV[1] { allowed[$0] = 1; next }
    FILENAME == ARGV[2] {
        i = index($0, ": "); path = substr($0, i + 2)
        n = split(substr($0, 1, i - 1), o, ", ")
        for (j = 1; j <= n; j++) { sub(/:.*/, "", o[j]); own[path] = own[path] " " o[j] }
        next
    }
    {
        k = split(own[$2], o, " ")
        for (j = 1; j <= k; j++) {
            key = $1 SUBSEP o[j]
            if (key in seen) continue
            seen[key] = 1; list[$1] = list[$1] (list[$1] == "" ? "" : " ") o[j]
            if (o[j] in allowed) good[$1] = 1
        }
    }
    END { for (n in list) print n "\t" list[n] "\t" (good[n] ? "yes" : "no") }
' "$work/allowed" "$work/owners" "$work/cands" >"$work/verdicts"

declare -A item_owners=() item_good=()
while IFS=$'\t' read -r n owners good; do
    item_owners[$n]=$owners
    item_good[$n]=$good
done <"$work/verdicts"
checked=0
while IFS='|' read -r kind name path expect; do
    checked=$((checked + 1))
    if [[ $path != /* || ! -e $path ]]; then
        fail "$kind '$name' is missing${path:+ ($path)}${expect:+: install package $expect}; is it in scripts/install-deps.sh?"
        continue
    fi
    owners=${item_owners[$checked]:-} good=${item_good[$checked]:-no}
    if [[ -z $owners ]]; then
        fail "$kind '$name' ($path) comes from no Debian package: a fresh machine lacks it"
    elif [[ $good != yes ]]; then
        fail "$kind '$name' ($path) comes from package $owners, which scripts/install-deps.sh does not install (not listed, not a dependency of a listed package, not in the base system)"
    elif [[ -n $expect && " $owners " != *" $expect "* ]]; then
        fail "$kind '$name' ($path) comes from $owners, expected $expect: update DATA_FILES in $0"
    fi
done <"$work/items"

if ((failures)); then
    echo "$failures of $checked things the suite uses are not covered by scripts/install-deps.sh" >&2
    exit 1
fi
echo "deps: all $checked programs, modules and data files the suite uses come from the ${#LISTED[@]} packages of scripts/install-deps.sh, their dependencies or the base system"
