#!/usr/bin/python3
"""Benchmark: pull of a ~100 MiB, 5-layer image from a loopback registry
with polis-image, `skopeo copy` (to an OCI dir) and `podman pull`; a
re-pull of an image already present; save/load; peak RSS of each.

Usage: bench/image_pull.py [--size-mib 100] [--runs 3]
Run as root on an idle machine.  Prints a markdown table."""

import argparse
import os
import shutil
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


def timed(argv, env=None):
    """Run ARGV; return (seconds, peak RSS in MiB)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode()
    p.stderr.close()
    if p.returncode != 0:
        raise SystemExit("%s failed: %s" % (" ".join(argv), err))
    return dt, ru.ru_maxrss / 1024.0


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--build-layout", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.build_layout:
        imagelib.make_image(a.build_layout, make_layers(a.size_mib))
        return
    work = tempfile.mkdtemp(prefix="polis-bench-", dir="/var/tmp")
    reg = Registry(work)
    try:
        layout = os.path.join(work, "oci")
        # In a child: ru_maxrss survives exec, so this process must stay
        # small for the children's peak RSS to mean anything.
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
        rows = {}

        def add(name, dt, rss):
            rows.setdefault(name, []).append((dt, rss))

        for run in range(a.runs):
            root = os.path.join(work, "pi%d" % run)
            add("polis-image pull", *timed([PI, "--root", root, "--progress", "none", "pull", ref]))
            add("polis-image re-pull", *timed([PI, "--root", root, "--progress", "none", "pull", ref]))
            tar = os.path.join(work, "save.tar")
            add("polis-image save", *timed([PI, "--root", root, "save", "-o", tar, ref]))
            add("polis-image load", *timed([PI, "--root", root + "-l", "load", "-i", tar]))
            oci = os.path.join(work, "sk%d" % run)
            sk = ["skopeo", "copy", "--quiet", "--src-tls-verify=false", "docker://" + ref, "oci:" + oci]
            add("skopeo copy", *timed(sk))
            add("skopeo re-copy", *timed(sk))
            proot = os.path.join(work, "pr%d" % run)
            prun = tempfile.mkdtemp(prefix="prr", dir="/tmp")
            pod = ["podman", "--root", proot, "--runroot", prun, "--storage-driver", "overlay"]
            add("podman pull", *timed(pod + ["pull", "-q", ref], env=penv))
            add("podman re-pull", *timed(pod + ["pull", "-q", ref], env=penv))
            ptar = os.path.join(work, "psave.tar")
            if os.path.exists(ptar):
                os.unlink(ptar)
            add("podman save", *timed(pod + ["save", "-o", ptar, ref], env=penv))
            subprocess.run(pod + ["rmi", "-a", "-f"], env=penv, capture_output=True)
            add("podman load", *timed(pod + ["load", "-i", ptar], env=penv))
            subprocess.run(pod + ["rmi", "-a", "-f"], env=penv, capture_output=True)
            subprocess.run(["podman", "--root", proot, "--runroot", prun, "system", "reset", "-f"],
                           env=penv, capture_output=True)
            subprocess.run(["umount", "-l", os.path.join(proot, "overlay")], capture_output=True)
            shutil.rmtree(prun, ignore_errors=True)
            for d in (root, root + "-l", oci, proot):
                subprocess.run(["rm", "-rf", d])
        med = {k: sorted(v)[len(v) // 2] for k, v in rows.items()}
        print("| operation (%d MiB, 5 layers, median of %d) | time (ms) | peak RSS (MiB) |"
              % (a.size_mib, a.runs))
        print("|---|---:|---:|")
        for k, (dt, rss) in med.items():
            print("| %s | %.0f | %.1f |" % (k, dt * 1000, rss))
        pull = med["polis-image pull"][0]
        print()
        print("pull ratio vs skopeo: %.2f, vs podman: %.2f" %
              (pull / med["skopeo copy"][0], pull / med["podman pull"][0]))
    finally:
        reg.stop()
        subprocess.run("grep -o ' %s[^ ]*' /proc/self/mounts | xargs -r -n1 umount -l" % work,
                       shell=True)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
