#!/usr/bin/python3
"""Private memory of polis-shim next to podman's conmon, one monitor per
running container.

For N in --counts (1 and 5 by default) it starts N busybox containers
running `sleep`, each under its own monitor, waits for them to settle,
and reads every monitor's /proc/PID/smaps_rollup:

  private = Private_Clean + Private_Dirty  (pages only this process maps)
  dirty   = Private_Dirty                  (its own heap, stack, data)
  pss     = Pss                            (its share of everything)

polis-shim is started as polisd starts it (build/polis-shim, static);
conmon by podman 4 with a private root, run root and containers.conf (as
tests/integration/test_clients.py runs it), cgroupfs, no network, and
polis-runtime as its OCI runtime (conmon's size does not depend on it).
With one container a static shim's touched program text is private; from
two on it is shared, and only its own heap and stack stay private.  Both
figures are reported.

Usage: sudo bench/shim_memory.py [--counts 1,5] [--out FILE.md]
"""

import argparse
import importlib.util
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BUILD = os.path.join(TOP, "build")

_spec = importlib.util.spec_from_file_location(
    "polis_integration_common", os.path.join(TOP, "tests", "integration", "conftest.py"))
common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(common)


def rollup(pid):
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                out[parts[0][:-1]] = int(parts[1])
    return {"private": out["Private_Clean"] + out["Private_Dirty"],
            "dirty": out["Private_Dirty"], "pss": out["Pss"], "rss": out["Rss"]}


def shim_call(path, req):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(json.dumps(req).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(4096)
        if not d:
            break
        buf += d
    s.close()
    return json.loads(buf)


class Shims:
    def __init__(self, work, rootfs):
        self.work = work
        self.rootfs = rootfs
        self.runroot = tempfile.mkdtemp(prefix="polis-sm-")
        self.started = []

    def start(self):
        cid = uuid.uuid4().hex + uuid.uuid4().hex
        bundle = os.path.join(self.work, "shim-" + cid[:12])
        os.mkdir(bundle)
        common.copy_rootfs(self.rootfs, os.path.join(bundle, "rootfs"))
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(common.default_config(["sleep", "1000"]), f)
        sock = os.path.join(self.runroot, cid, "shim.sock")
        r, w = os.pipe()
        pid = os.posix_spawn(os.path.join(BUILD, "polis-shim"), [
            "polis-shim", "--id", cid, "--bundle", bundle, "--dir", bundle,
            "--socket", sock, "--runtime-root", os.path.join(self.runroot, "runtime")],
            os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, w, 3)])
        os.close(w)
        with os.fdopen(r) as f:
            ready = json.loads(f.readline())
        os.waitpid(pid, 0)
        assert ready["ok"], ready
        self.started.append(sock)
        return ready["shim_pid"]

    def stop(self):
        for sock in self.started:
            try:
                shim_call(sock, {"op": "delete", "force": True})
            except OSError:
                pass
        self.started = []
        time.sleep(0.3)
        shutil.rmtree(self.runroot, ignore_errors=True)


class Podman:
    def __init__(self, work, rootfs):
        self.base = os.path.join(work, "podman")
        os.makedirs(os.path.join(self.base, "tmp"))
        conf = os.path.join(self.base, "containers.conf")
        with open(conf, "w") as f:
            f.write('[containers]\n'
                    'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
                    '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
                    'tmp_dir = "%s/tmp"\nruntime = "polis"\n'
                    '[engine.runtimes]\npolis = ["%s"]\n'
                    % (self.base, os.path.join(BUILD, "polis-runtime")))
        self.env = dict(os.environ, CONTAINERS_CONF=conf)
        self.runroot = tempfile.mkdtemp(prefix="polis-pm-", dir="/tmp")
        self.argv = ["podman", "--root", self.base + "/root", "--runroot", self.runroot,
                     "--storage-driver", "vfs"]
        tar = os.path.join(self.base, "busybox.tar")
        subprocess.run(["tar", "-C", rootfs, "-cf", tar, "."], check=True)
        self.podman("import", tar, "localhost/polis-bench:sm")

    def podman(self, *args):
        r = subprocess.run(self.argv + list(args), env=self.env, capture_output=True,
                           text=True)
        if r.returncode:
            raise RuntimeError("podman %s: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout

    def start(self):
        cid = self.podman("run", "-d", "--network", "none", "localhost/polis-bench:sm",
                          "sleep", "1000").strip()
        return int(self.podman("inspect", "--format", "{{.State.ConmonPid}}", cid).strip())

    def stop(self):
        subprocess.run(self.argv + ["rm", "-f", "-t", "0", "--all"], env=self.env,
                       capture_output=True)

    def close(self):
        self.stop()
        subprocess.run(self.argv + ["rmi", "-f", "--all"], env=self.env, capture_output=True)
        subprocess.run(["umount", "-R", self.base + "/root"], capture_output=True)
        subprocess.run(["umount", "-R", self.runroot], capture_output=True)
        shutil.rmtree(self.runroot, ignore_errors=True)


def measure(mon, n):
    pids = [mon.start() for _ in range(n)]
    time.sleep(1.0)
    rows = [rollup(p) for p in pids]
    mon.stop()
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def main():
    if os.geteuid() != 0:
        sys.exit("run as root")
    ap = argparse.ArgumentParser()
    ap.add_argument("--counts", default="1,5")
    ap.add_argument("--out")
    a = ap.parse_args()
    counts = [int(c) for c in a.counts.split(",")]
    # A freshly linked binary's page-cache pages are dirty until written
    # back, and would count as the shim's private dirty memory.
    os.sync()
    work = tempfile.mkdtemp(prefix="polis-shim-mem-")
    rootfs = os.path.join(work, "rootfs")
    common.build_rootfs(rootfs)
    shims = Shims(work, rootfs)
    podman = Podman(work, rootfs) if shutil.which("podman") and shutil.which("conmon") else None
    res = {}
    try:
        for n in counts:
            res[("polis-shim", n)] = measure(shims, n)
            if podman:
                res[("conmon", n)] = measure(podman, n)
    finally:
        shims.stop()
        if podman:
            podman.close()
        shutil.rmtree(work, ignore_errors=True)

    lines = ["| monitor | containers | private (clean+dirty) | private dirty | Pss | Rss |",
             "|---|---:|---:|---:|---:|---:|"]
    for (name, n), r in res.items():
        lines.append("| %s | %d | %d KB | %d KB | %d KB | %d KB |"
                     % (name, n, r["private"], r["dirty"], r["pss"], r["rss"]))
    lines.append("")
    lines.append("Medians over the monitors of each run; smaps_rollup, 1 s after start.")
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
