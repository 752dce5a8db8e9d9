#!/bin/sh
# Run every test of Polis: unit tests (release and ASan/UBSan builds),
# the integration suite against polis-runtime (both builds), and the same
# suite against Debian's runc and crun to show that it tests the spec;
# polis-shim through its socket (both builds); polis-image; then
# the cgroup tests again on a pure cgroup v2 kernel in a QEMU guest.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/scripts/deps.sh"
"$top/scripts/build.sh" asan
"$top/scripts/lint.sh"

echo "== unit tests (release)"
meson test -C build --suite unit --print-errorlogs
echo "== unit tests (asan+ubsan)"
meson test -C build-asan --suite unit --print-errorlogs

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
pytest() { /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@"; }

echo "== integration (polis-runtime, release)"
RUNTIME=polis pytest tests/integration --ignore=tests/integration/image --ignore=tests/integration/shim --ignore=tests/integration/engine --ignore=tests/integration/cli
echo "== integration (polis-runtime, asan+ubsan)"
RUNTIME=polis POLIS_RUNTIME="$top/build-asan/polis-runtime" pytest tests/integration --ignore=tests/integration/image --ignore=tests/integration/shim --ignore=tests/integration/engine --ignore=tests/integration/cli
echo "== integration (runc, peer)"
RUNTIME=runc pytest tests/integration --ignore=tests/integration/image --ignore=tests/integration/shim --ignore=tests/integration/engine --ignore=tests/integration/cli
echo "== integration (crun, peer)"
RUNTIME=crun pytest tests/integration --ignore=tests/integration/image --ignore=tests/integration/shim --ignore=tests/integration/engine --ignore=tests/integration/cli
echo "== shim (polis-shim driven through its socket, release)"
pytest tests/integration/shim
echo "== shim (polis-shim, asan+ubsan)"
POLIS_SHIM="$top/build-asan/polis-shim" pytest tests/integration/shim
echo "== CLI (polis against a Docker-API server: polisd with its shim when built, else podman)"
pytest tests/integration/cli
echo "== CLI (polis, asan+ubsan)"
POLIS_CLI="$top/build-asan/polis" pytest tests/integration/cli
if [ -x "$top/build/polisd" ] && [ -x "$top/build/polis-shim" ]; then
  echo "== CLI (polis against podman, peer)"
  SERVER=podman pytest tests/integration/cli
fi
echo "== images (polis-image against a local docker-registry, release)"
pytest tests/integration/image
echo "== images (polis-image, asan+ubsan)"
POLIS_IMAGE="$top/build-asan/polis-image" pytest tests/integration/image
# The engine suite includes networking (test_network.py): every daemon
# gets its own bridge, nftables table and subnets (tests/integration/
# testnet.py) and the fixture removes them; it needs the nft command.
echo "== engine (polisd under docker v28, docker 20.10 and docker-py, release)"
pytest tests/integration/engine
echo "== engine (polisd, asan+ubsan)"
POLISD="$top/build-asan/polisd" pytest tests/integration/engine
echo "== cgroup v2 (a QEMU guest: this host's cgroup2 mount has no controllers)"
"$top/tests/integration/run-v2.sh"
echo "== all tests passed"
