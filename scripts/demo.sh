#!/usr/bin/env bash
# The main job of this release: list a share with the library's quickstart.
#   scripts/demo.sh                 start a throwaway local Samba server with
#                                   sample data, list it, stop the server
#   scripts/demo.sh HOST[:PORT] SHARE [DIR]
#                                   list a real server (SMB_USERNAME,
#                                   SMB_PASSWORD, SMB_DOMAIN from the environment)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target quickstart smbcopy_cli >/dev/null

if [ $# -ge 2 ]; then
  exec build/quickstart "$@"
fi

dir=$(pwd)/build/demo-samba
trap 'tests/fixtures/samba-fixture.sh stop "$dir" >/dev/null 2>&1 || true' EXIT
tests/fixtures/samba-fixture.sh start "$dir" >/dev/null
set -a
# shellcheck disable=SC1091
. "$dir/env"
set +a
echo "Throwaway Samba server on 127.0.0.1:$SMBCOPY_TEST_PORT, share '$SMBCOPY_TEST_SHARE'"
SMB_USERNAME=$SMBCOPY_TEST_USER SMB_PASSWORD=$SMBCOPY_TEST_PASSWORD SMB_DOMAIN=$SMBCOPY_TEST_DOMAIN \
  build/quickstart "127.0.0.1:$SMBCOPY_TEST_PORT" "$SMBCOPY_TEST_SHARE" sample
