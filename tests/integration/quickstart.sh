#!/usr/bin/env bash
# The README's quickstart example builds and runs: it lists the sample
# directory of the fixture's share, and a wrong password fails with exit 3.
set -euo pipefail
# shellcheck source=lib/skip.sh
. "$(dirname "$0")/lib/skip.sh"
env_file=${SMBCOPY_TEST_ENV:?run through ctest}
[ -r "$env_file" ] || skip "Samba fixture environment missing: $env_file"
set -a; . "$env_file"; set +a
bin=${SMBCOPY_BUILD_DIR:?}/quickstart
out=$(SMB_USERNAME=$SMBCOPY_TEST_USER SMB_PASSWORD=$SMBCOPY_TEST_PASSWORD \
      "$bin" "$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT" "$SMBCOPY_TEST_SHARE" sample)
echo "$out"
grep -q '^connected to 127.0.0.1 with SMB 3.1.1$' <<<"$out"
# Every entry of the sample directory on disk is listed, with its size.
count=0
while IFS= read -r -d '' f; do
  name=$(basename "$f")
  size=$(stat -c %s "$f")
  if [ -d "$f" ]; then
    grep -qF -- "  $name" <<<"$out" || { echo "missing directory $name" >&2; exit 1; }
  else
    grep -E -- "^- +$size  " <<<"$out" | grep -F -- "  $name" >/dev/null || { echo "missing $name ($size bytes)" >&2; exit 1; }
  fi
  count=$((count + 1))
done < <(find "$SMBCOPY_TEST_SHARE_DIR/sample" -mindepth 1 -maxdepth 1 -print0)
[ "$count" -gt 0 ]
[ "$(echo "$out" | tail -n +2 | wc -l)" -eq "$count" ]
set +e
SMB_USERNAME=$SMBCOPY_TEST_USER SMB_PASSWORD=wrong "$bin" "$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT" "$SMBCOPY_TEST_SHARE" 2>/tmp/quickstart-err.$$
rc=$?
set -e
grep -q 'STATUS_LOGON_FAILURE' /tmp/quickstart-err.$$
rm -f /tmp/quickstart-err.$$
[ "$rc" -eq 3 ]
echo "quickstart: $count entries listed, wrong password exit 3"
