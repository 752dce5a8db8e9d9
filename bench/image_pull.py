#!/usr/bin/python3
"""Benchmark: pull of a ~100 MiB, 5-layer image from a loopback registry
with polis-image, `skopeo copy` (to an OCI dir) and `podman pull`; a
re-pull of an image already present; save/load; peak RSS of each.

Usage: bench/image_pull.py [--size-mib 100] [--rounds 7] [--baseline BIN]
Run as root on an idle machine.  Prints markdown tables.  --baseline adds
another polis-image (say, main's) as a fourth tool, for before/after
figures from the same run.

Fairness:
- the tools take turns, in a shuffled order each round, so that drift in
  the machine's load spreads over all of them;
- `sync` runs before every timed command, untimed, so that no command
  pays for the dirty pages an earlier one left behind (syncfs and fsync
  flush whatever is dirty on the file system, not only one's own);
- "then sync" rows time a `sync` right after the pull: the write-back a
  tool leaves to the kernel instead of waiting for it;
- peak RSS comes from GNU time (%M), a small parent of each command (the
  Python process's own high-water mark is not in it).
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "integration", "image"))
import imagelib  # noqa: E402
from conftest import Registry  # noqa: E402

PI = os.environ.get("POLIS_IMAGE", os.path.join(TOP, "build", "polis-image"))
GNU_TIME = "/usr/bin/time"


def sync():
    subprocess.run(["sync"], check=True)


def timed(argv, env=None):
    """Run ARGV under GNU time after a sync; return (ms, peak RSS MiB)."""
    sync()
    t0 = time.monotonic()
    p = subprocess.run([GNU_TIME, "-f", "%M"] + argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, env=env, text=True)
    dt = (time.monotonic() - t0) * 1000
    if p.returncode != 0:
        raise SystemExit("%s failed: %s" % (" ".join(argv), p.stderr))
    rss_kib = int(p.stderr.strip().splitlines()[-1])
    return dt, rss_kib / 1024.0


def sync_ms():
    t0 = time.monotonic()
    sync()
    return (time.monotonic() - t0) * 1000


def make_layers(size_mib, n=5):
    """N layers of mixed content: half random (incompressible), half text."""
    per = size_mib * (1 << 20) // n
    layers = []
    for i in range(n):
        l = imagelib.Layer()
        l.dir("d%d" % i)
        for k in range(8):
            rnd = os.urandom(per // 16)
            txt = (("line %d of layer %d: polis benchmark data\n" % (k, i)) * (per // 16 // 40 + 1))[: per // 16]
            l.file("d%d/bin%d" % (i, k), rnd)
            l.file("d%d/txt%d" % (i, k), txt)
        layers.append(l.bytes())
    return layers


def polis_round(work, ref, add, binary=PI, tool="polis"):
    root = os.path.join(work, "pi")
    base = [binary, "--root", root, "--progress", "none"]
    add("pull", tool, *timed(base + ["pull", ref]))
    add("pull, then sync", tool, sync_ms())
    add("re-pull (present)", tool, *timed(base + ["pull", ref]))
    tar = os.path.join(work, "pi-save.tar")
    add("save", tool, *timed(base + ["save", "-o", tar, ref]))
    add("load", tool, *timed([binary, "--root", root + "-l", "--progress", "none",
                              "load", "-i", tar]))
    for d in (root, root + "-l", tar):
        subprocess.run(["rm", "-rf", d])


def skopeo_round(work, ref, add):
    oci = os.path.join(work, "sk")
    sk = ["skopeo", "copy", "--quiet", "--src-tls-verify=false", "docker://" + ref, "oci:" + oci]
    add("pull", "skopeo", *timed(sk))
    add("pull, then sync", "skopeo", sync_ms())
    add("re-pull (present)", "skopeo", *timed(sk))
    subprocess.run(["rm", "-rf", oci])


def podman_round(work, ref, add, env):
    proot = os.path.join(work, "pr")
    prun = tempfile.mkdtemp(prefix="prr", dir="/tmp")  # podman: <= 50 chars
    pod = ["podman", "--root", proot, "--runroot", prun, "--storage-driver", "overlay"]
    add("pull", "podman", *timed(pod + ["pull", "-q", ref], env=env))
    add("pull, then sync", "podman", sync_ms())
    add("re-pull (present)", "podman", *timed(pod + ["pull", "-q", ref], env=env))
    ptar = os.path.join(work, "psave.tar")
    add("save", "podman", *timed(pod + ["save", "-o", ptar, ref], env=env))
    subprocess.run(pod + ["rmi", "-a", "-f"], env=env, capture_output=True)
    add("load", "podman", *timed(pod + ["load", "-i", ptar], env=env))
    subprocess.run(pod + ["rmi", "-a", "-f"], env=env, capture_output=True)
    subprocess.run(pod + ["system", "reset", "-f"], env=env, capture_output=True)
    subprocess.run(["umount", "-l", os.path.join(proot, "overlay")], capture_output=True)
    for d in (prun, proot, ptar):
        subprocess.run(["rm", "-rf", d])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--baseline", help="another polis-image, shown as polis (baseline)")
    ap.add_argument("--build-layout", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.build_layout:
        imagelib.make_image(a.build_layout, make_layers(a.size_mib))
        return
    if not os.path.exists(GNU_TIME):
        raise SystemExit("needs GNU time (apt-get install time)")
    work = tempfile.mkdtemp(prefix="polis-bench-", dir="/var/tmp")
    reg = Registry(work)
    try:
        layout = os.path.join(work, "oci")
        subprocess.run([sys.executable, os.path.abspath(__file__), "--size-mib",
                        str(a.size_mib), "--build-layout", layout], check=True)
        ref = reg.host + "/bench/big:latest"
        imagelib.skopeo_push(layout, ref)
        conf = os.path.join(work, "containers.conf")
        with open(conf, "w") as f:
            f.write('[engine]\ncgroup_manager = "cgroupfs"\n[containers]\n'
                    'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n')
        with open(os.path.join(work, "registries.conf"), "w") as f:
            f.write('[[registry]]\nlocation = "%s"\ninsecure = true\n' % reg.host)
        penv = dict(os.environ, CONTAINERS_CONF=conf,
                    CONTAINERS_REGISTRIES_CONF=os.path.join(work, "registries.conf"))
        rows = {}  # (operation, tool) -> [(ms, rss)]; "pull, then sync": the sync

        def add(op, tool, ms, rss=None):
            rows.setdefault((op, tool), []).append((ms, rss))

        rounds = [lambda: polis_round(work, ref, add),
                  lambda: skopeo_round(work, ref, add),
                  lambda: podman_round(work, ref, add, penv)]
        if a.baseline:
            rounds.append(lambda: polis_round(work, ref, add, a.baseline, "baseline"))
        for _ in range(a.rounds):
            random.shuffle(rounds)
            for r in rounds:
                r()
        report(rows, a)
    finally:
        reg.stop()
        subprocess.run("grep -o ' %s[^ ]*' /proc/self/mounts | xargs -r -n1 umount -l" % work,
                       shell=True)
        subprocess.run(["rm", "-rf", work])


def med(rows, op, tool, i=0):
    v = [x[i] for x in rows.get((op, tool), []) if x[i] is not None]
    return statistics.median(v) if v else None


def report(rows, a):
    tools = ["polis", "skopeo", "podman"]
    if a.baseline:
        tools.append("baseline")
    ops = ("pull", "pull, then sync", "re-pull (present)", "save", "load")

    def cell(v, fmt="%.0f ms"):
        return fmt % v if v is not None else "-"

    def ratio(x, y):
        return cell(x / y if x and y else None, "%.2f")

    print("Medians of %d shuffled rounds, %d MiB, 5 layers.\n" % (a.rounds, a.size_mib))
    print("| operation | %s | polis/skopeo | polis/podman |" % " | ".join(tools))
    print("|---|%s---:|---:|" % ("---:|" * len(tools)))
    for op in ops:
        if op == "pull, then sync":
            v = {t: (med(rows, "pull", t) or 0) + (med(rows, op, t) or 0) for t in tools}
        else:
            v = {t: med(rows, op, t) for t in tools}
        print("| %s | %s | %s | %s |" % (op, " | ".join(cell(v[t]) for t in tools),
                                          ratio(v["polis"], v["skopeo"]),
                                          ratio(v["polis"], v["podman"])))
    print()
    print("Peak RSS (GNU time %M, median):\n")
    print("| operation | %s |" % " | ".join(tools))
    print("|---|%s" % ("---:|" * len(tools)))
    for op in ("pull", "re-pull (present)", "save", "load"):
        print("| %s | %s |" % (op, " | ".join(cell(med(rows, op, t, 1), "%.1f MiB")
                                              for t in tools)))


if __name__ == "__main__":
    main()
