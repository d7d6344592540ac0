#!/usr/bin/env bash
# The installed library works on its own: install into a private prefix,
# build the quickstart and the other examples against it with pkg-config
# only, run them against the fixture server.
set -euo pipefail
# shellcheck source=lib/skip.sh
. "$(dirname "$0")/lib/skip.sh"
env_file=${SMBCOPY_TEST_ENV:?run through ctest}
[ -r "$env_file" ] || skip "Samba fixture environment missing: $env_file"
set -a; . "$env_file"; set +a
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "${SMBCOPY_BUILD_DIR:?}" --prefix "$prefix" >/dev/null
test -f "$prefix/include/smbcopy/smb.h"
export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name smbcopy.pc | head -1)")
# Sanitizer builds need the same flags at link time.
extra=$(grep -q 'SMBCOPY_SANITIZE:BOOL=ON' "$SMBCOPY_BUILD_DIR/CMakeCache.txt" && echo "-fsanitize=address,undefined" || true)
cc -std=c11 -Wall -Werror $extra "${SMBCOPY_SOURCE_DIR:?}/examples/quickstart.c" -o "$prefix/quickstart" \
   $(pkg-config --cflags --libs smbcopy) -Wl,-rpath,"$(pkg-config --variable=libdir smbcopy)"
out=$(SMB_USERNAME=$SMBCOPY_TEST_USER SMB_PASSWORD=$SMBCOPY_TEST_PASSWORD \
      "$prefix/quickstart" "$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT" "$SMBCOPY_TEST_SHARE" sample)
echo "$out"
grep -q 'with SMB 3.1.1' <<<"$out"
# (not `ldd | grep -q`: with pipefail, grep leaving early fails ldd on SIGPIPE)
libs=$(ldd "$prefix/quickstart")
grep -q "$prefix/.*libsmbcopy.so" <<<"$libs"
# The other examples build the same way, each from its file (and
# examples/example_url.h beside it), on the installed headers only; one runs.
for src in "$SMBCOPY_SOURCE_DIR"/examples/*.c; do
  [ "$src" = "$SMBCOPY_SOURCE_DIR/examples/quickstart.c" ] && continue
  # shellcheck disable=SC2046,SC2086 # the flags are words
  cc -std=c11 -Wall -Wextra -Werror $extra "$src" -o "$prefix/$(basename "$src" .c)" \
     $(pkg-config --cflags --libs smbcopy) -Wl,-rpath,"$(pkg-config --variable=libdir smbcopy)"
done
out=$(SMB_USERNAME=$SMBCOPY_TEST_USER SMB_PASSWORD=$SMBCOPY_TEST_PASSWORD \
      "$prefix/smb2-ls" "smb://$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT/$SMBCOPY_TEST_SHARE/sample")
grep -q '  hello.txt$' <<<"$out"
echo "installed library: headers, pkg-config file and shared library work"
