#!/bin/sh
# Create and run time with Docker's default seccomp profile: polis-runtime
# (program cache cold and warm) against crun and runc, with hyperfine.
# As root; needs a build (./scripts/build.sh) and hyperfine.
#   bench/seccomp-create.sh [RUNS]
# crun runs through tests/integration/crun-hybrid.sh on hybrid cgroup
# hosts (as the tests do); the wrapper's own cost (unshare + sh) is
# measured too, so that it can be subtracted.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-40}
work=$(mktemp -d /tmp/polis-bench-seccomp.XXXXXX)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$work" "$top" <<'PY'
import json, os, sys
work, top = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(top, "tests", "integration"))
import conftest, docker_seccomp
for name, profile in (("plain", False), ("docker", True)):
    d = os.path.join(work, name)
    os.makedirs(d)
    # A copy each: runc refuses a rootfs that is a symlink.
    conftest.build_rootfs(os.path.join(d, "rootfs"))
    cfg = conftest.default_config(["true"])
    if profile:
        cfg["linux"]["seccomp"] = docker_seccomp.default_profile(
            cfg["process"]["capabilities"]["bounding"])
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f)
PY

polis="$top/build/polis-runtime --root $work/polis"
crun="$top/tests/integration/crun-hybrid.sh --root $work/crun"
runc="runc --root $work/runc"
hf() { hyperfine -N -w 3 -r "$runs" "$@"; }

# Each timing run starts from no container; "cold" also empties polis'
# program cache.  hyperfine takes one --prepare per command, in order.
del() { echo "sh -c '$1 delete --force b >/dev/null 2>&1; true'"; }
cold="sh -c '$polis delete --force b >/dev/null 2>&1; rm -rf $work/polis/.seccomp-cache'"

echo "== create (the container is deleted between timing runs)"
hf --prepare "$(del "$polis")" -n "polis create, docker profile, cache warm" \
     "$polis create --bundle $work/docker b" \
   --prepare "$cold" -n "polis create, docker profile, cache cold" \
     "$polis create --bundle $work/docker b" \
   --prepare "$(del "$crun")" -n "crun create, docker profile" \
     "$crun create --bundle $work/docker b" \
   --prepare "$(del "$runc")" -n "runc create, docker profile" \
     "$runc create --bundle $work/docker b" \
   --prepare "$(del "$polis")" -n "polis create, no profile" \
     "$polis create --bundle $work/plain b" \
   --prepare "$(del "$crun")" -n "crun create, no profile" \
     "$crun create --bundle $work/plain b"
for rt in "$polis" "$crun" "$runc"; do $rt delete --force b >/dev/null 2>&1 || true; done

echo "== run (create, start, wait for the exit, delete)"
hf --prepare true -n "polis run, docker profile, cache warm" "$polis run --bundle $work/docker r" \
   --prepare "rm -rf $work/polis/.seccomp-cache" \
     -n "polis run, docker profile, cache cold" "$polis run --bundle $work/docker r" \
   --prepare true -n "crun run, docker profile" "$crun run --bundle $work/docker r" \
   --prepare true -n "runc run, docker profile" "$runc run --bundle $work/docker r" \
   --prepare true -n "polis run, no profile" "$polis run --bundle $work/plain r" \
   --prepare true -n "crun run, no profile" "$crun run --bundle $work/plain r"

echo "== the crun wrapper alone"
hf "unshare -m --propagation private sh -c 'exec true'"
