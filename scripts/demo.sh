#!/usr/bin/env bash
# The main job: copy with smbcopy.
#   scripts/demo.sh                 start a throwaway local Samba server with
#                                   sample data, copy its share here
#                                   (build/demo-copy), compare, stop the server
#   scripts/demo.sh SRC... DEST     run smbcopy SRC... DEST (real servers;
#                                   credentials from SMB_USERNAME/SMB_PASSWORD/
#                                   SMB_DOMAIN or smbcopy's options)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target smbcopy_cli quickstart >/dev/null

if [ $# -ge 2 ]; then
  exec build/smbcopy "$@"
fi

dir=$(pwd)/build/demo-samba
dest=$(pwd)/build/demo-copy
trap 'tests/fixtures/samba-fixture.sh stop "$dir" >/dev/null 2>&1 || true' EXIT
tests/fixtures/samba-fixture.sh start "$dir" >/dev/null
set -a
# shellcheck disable=SC1091
. "$dir/env"
set +a
url="smb://127.0.0.1:$SMBCOPY_TEST_PORT/$SMBCOPY_TEST_SHARE/sample"
echo "Throwaway Samba server on 127.0.0.1:$SMBCOPY_TEST_PORT; copying $url to $dest"
rm -rf "$dest"
build/smbcopy -A "$dir/smbclient.auth" "$url" "$dest"
diff -r "$SMBCOPY_TEST_SHARE_DIR/sample" "$dest" && echo "The copy in $dest is identical to the share's sample directory."
echo "Again: nothing to copy the second time."
build/smbcopy -A "$dir/smbclient.auth" "$url" "$dest"
