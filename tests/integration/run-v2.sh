#!/bin/sh
# Run the cgroup integration tests on a pure cgroup v2 host: a throw-away
# QEMU guest booted once by the shared cgroup2-vm.sh (the build machines
# are hybrid, whose cgroup2 mount has no controllers).  Everything runs in
# that one boot, because under TCG a boot costs seconds and CPU-bound work
# is ~12x slower:
#   - the cgroup unit tests (the device program attached to a real v2 cgroup),
#   - tests/integration/test_cgroups.py against polis-runtime, and with
#     POLIS_V2_PEERS=1 against runc and crun too (to check that the tests
#     test the spec; it takes ~4 min instead of ~1 under TCG),
#   - polis-shim's OOM events (an inotify watch of memory.events on v2).
#
#   tests/integration/run-v2.sh            from the host, as root, after a build
#   tests/integration/run-v2.sh --in-guest what the guest runs
#
# cgroup2-vm.sh is looked up in $CGROUP2_VM, then ../shared/tools next to
# the checkout (or next to its parent, for worktrees).  Without it, or
# without qemu, the tests are reported as skipped, not as passed.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

if [ "${1:-}" = --in-guest ]; then
  [ -f /sys/fs/cgroup/cgroup.controllers ] || { echo "run-v2: not a cgroup v2 host" >&2; exit 1; }
  echo "== cgroup v2 guest: $(uname -r), controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
  status=0
  echo "== unit tests (cgroup)"
  "$top/build/tests/test_cgroup" || status=1
  pytest() { /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@"; }
  runtimes=polis
  [ "${POLIS_V2_PEERS:-0}" = 0 ] || runtimes="polis runc crun"
  for rt in $runtimes; do
    echo "== integration on cgroup v2 ($rt)"
    RUNTIME=$rt pytest -rs --durations=6 tests/integration/test_cgroups.py || status=1
  done
  echo "== polis-shim on cgroup v2 (OOM events through memory.events)"
  pytest -rs tests/integration/shim -k "oom or output_reaches" || status=1
  exit $status
fi

vm=${CGROUP2_VM:-}
if [ -z "$vm" ]; then
  for cand in "$top/../shared/tools/cgroup2-vm.sh" "$top/../../shared/tools/cgroup2-vm.sh" /work/shared/tools/cgroup2-vm.sh; do
    [ -x "$cand" ] && { vm=$cand; break; }
  done
fi
if [ -z "$vm" ] || ! command -v qemu-system-x86_64 >/dev/null; then
  echo "run-v2: SKIPPED: cgroup v2 tests need cgroup2-vm.sh (CGROUP2_VM) and qemu-system-x86" >&2
  exit 0
fi
[ -x "$top/build/polis-runtime" ] || { echo "run-v2: build first (scripts/build.sh)" >&2; exit 1; }

# /tmp in the guest is a fresh tmpfs: pytest's bundles and the loop
# device's backing file live there.  16 MiB of memory limits and a few
# loop-device writes fit easily in the default 1 GiB.
# A checkout under /tmp (a CI clone, say) is only visible with the host's
# /tmp; the tests' scratch space then moves to the guest's fresh /run.
set --
case "$top" in
  /tmp/*) set -- --host-tmp -e TMPDIR=/run -e PYTEST_ADDOPTS=--basetemp=/run/pytest-v2 ;;
esac
exec "$vm" -t "${POLIS_V2_TIMEOUT:-900}" -E POLIS_V2_PEERS "$@" -- "$top/tests/integration/run-v2.sh" --in-guest
