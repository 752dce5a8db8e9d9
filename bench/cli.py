#!/usr/bin/python3
"""`polis run --rm busybox true` against its peers.

Rows (each a full container run, start to exit, measured from outside):
  polis -> polisd      build/polis run --rm busybox true, build/polisd serving
  docker -> polisd     the docker CLI against the same polisd
  crun run             crun run of a bundle with the same busybox rootfs
                       (through tests/integration/crun-hybrid.sh: crun 1.8
                       refuses this hybrid cgroup host otherwise)
  podman run           podman run --rm --network none busybox true (private
                       storage and containers.conf, runc)
  polis -> podman      build/polis against `podman system service`
  docker -> podman     the docker CLI against the same service
and, to isolate the client, `polis version` / `docker version` against
polisd (one ping and one GET each).

The rows are interleaved and shuffled round by round so machine noise hits
them alike; medians are reported, with the goals of the CLI issue:
polis -> polisd <= 2 x crun run and <= 0.05 x podman run.

Usage: sudo bench/cli.py [--rounds N] [--out FILE.md] [--skip ROW,...]
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BUILD = os.path.join(TOP, "build")
POLIS = os.path.join(BUILD, "polis")
POLISD = os.path.join(BUILD, "polisd")
DOCKER = shutil.which("docker")


def timed(argv, env):
    t0 = time.perf_counter()
    r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError("%s: %d %s" % (" ".join(argv), r.returncode, r.stderr.decode()))
    return dt


def wait_socket(path, proc, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("no server on " + path)


def busybox_rootfs(dest):
    os.makedirs(os.path.join(dest, "bin"))
    for d in ("proc", "sys", "dev", "etc", "tmp"):
        os.makedirs(os.path.join(dest, d))
    shutil.copy2("/bin/busybox", os.path.join(dest, "bin", "busybox"))
    out = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True).stdout
    for a in out.split():
        p = os.path.join(dest, "bin", a)
        if not os.path.exists(p):
            os.symlink("busybox", p)
    with open(os.path.join(dest, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")


def crun_bundle(base):
    rootfs = os.path.join(base, "rootfs")
    busybox_rootfs(rootfs)
    sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
    from conftest import default_config  # the config the runtime tests use
    cfg = default_config(["true"])
    cfg["root"]["readonly"] = True
    with open(os.path.join(base, "config.json"), "w") as f:
        json.dump(cfg, f)
    return base


class Servers:
    def __init__(self, work, want_polisd, want_podman):
        self.work = work
        self.procs = []
        self.env = dict(os.environ, POLIS_NO_AUTOSTART="1")
        self.polisd_env = self.podman_env = None
        if want_polisd:
            sock = os.path.join(work, "polisd.sock")
            log = open(os.path.join(work, "polisd.log"), "w")
            sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
            from testnet import DaemonNet
            self.net = DaemonNet()
            p = subprocess.Popen([POLISD, "-H", "unix://" + sock, "--root", os.path.join(work, "proot"),
                                  "--run-root", os.path.join(work, "prun"), *self.net.args()],
                                 stdout=log, stderr=log, start_new_session=True)
            self.procs.append(p)
            wait_socket(sock, p)
            self.polisd_env = dict(self.env, DOCKER_HOST="unix://" + sock)
            subprocess.run([os.path.join(TOP, "scripts", "busybox-image.sh")],
                           env=self.polisd_env, check=True, stdout=subprocess.DEVNULL)
        if want_podman:
            conf = os.path.join(work, "containers.conf")
            os.makedirs(os.path.join(work, "tmp"))
            with open(conf, "w") as f:
                f.write('[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
                        '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
                        'tmp_dir = "%s/tmp"\nruntime = "runc"\n' % work)
            self.podman_args = ["podman", "--root", os.path.join(work, "droot"),
                                "--runroot", os.path.join(work, "drun"), "--storage-driver", "vfs"]
            penv = dict(self.env, CONTAINERS_CONF=conf)
            sock = os.path.join(work, "podman.sock")
            log = open(os.path.join(work, "podman.log"), "w")
            p = subprocess.Popen(self.podman_args + ["system", "service", "--time=0", "unix://" + sock],
                                 stdout=log, stderr=log, env=penv, start_new_session=True)
            self.procs.append(p)
            wait_socket(sock, p)
            self.podman_env = dict(penv, DOCKER_HOST="unix://" + sock)
            subprocess.run([os.path.join(TOP, "scripts", "busybox-image.sh")],
                           env=self.podman_env, check=True, stdout=subprocess.DEVNULL)

    def stop(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                p.kill()
        if getattr(self, "net", None):
            self.net.cleanup(self.net.bridges(None))
        # podman's conmon lingers after some runs: end those of this bench.
        for p in os.listdir("/proc"):
            if not p.isdigit() or int(p) == os.getpid():
                continue
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    if (self.work + "/").encode() in f.read():
                        os.kill(int(p), signal.SIGKILL)
            except OSError:
                pass
        for d in ("drun", "droot", "prun", "proot"):
            subprocess.run(["umount", "-R", os.path.join(self.work, d)], capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--out")
    ap.add_argument("--skip", default="")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    have_polisd = os.path.exists(POLISD)
    work = tempfile.mkdtemp(prefix="pcb-", dir="/tmp")  # podman: run root <= 50 chars
    srv = Servers(work, have_polisd, True)
    try:
        bundle = crun_bundle(os.path.join(work, "bundle"))
        rows = {}
        if have_polisd:
            rows["polis version -> polisd"] = ([POLIS, "version"], srv.polisd_env)
            rows["polis images -> polisd"] = ([POLIS, "images"], srv.polisd_env)
            if DOCKER:
                rows["docker version -> polisd"] = ([DOCKER, "version"], srv.polisd_env)
                rows["docker images -> polisd"] = ([DOCKER, "images"], srv.polisd_env)
        if have_polisd and os.path.exists(os.path.join(BUILD, "polis-shim")):
            rows["polis -> polisd"] = ([POLIS, "run", "--rm", "busybox", "true"], srv.polisd_env)
            if DOCKER:
                rows["docker -> polisd"] = ([DOCKER, "run", "--rm", "busybox", "true"], srv.polisd_env)
        counter = [0]
        crun = os.path.join(TOP, "tests", "integration", "crun-hybrid.sh")
        rows["crun run"] = (None, None)
        rows["podman run"] = (srv.podman_args + ["run", "--rm", "--network", "none", "busybox", "true"],
                              dict(srv.podman_env, DOCKER_HOST=""))
        rows["polis -> podman"] = ([POLIS, "run", "--rm", "busybox", "true"], srv.podman_env)
        if DOCKER:
            rows["docker -> podman"] = ([DOCKER, "run", "--rm", "busybox", "true"], srv.podman_env)
        for k in skip:
            rows.pop(k, None)
        times = {k: [] for k in rows}
        names = list(rows)
        for _ in range(args.rounds):
            random.shuffle(names)
            for n in names:
                argv, env = rows[n]
                if n == "crun run":
                    counter[0] += 1
                    argv = [crun, "--root", os.path.join(work, "crun-state"), "run", "--bundle",
                            bundle, "pcb-%d" % counter[0]]
                    env = os.environ
                times[n].append(timed(argv, env))
        med = {n: statistics.median(v) * 1000 for n, v in times.items()}
        lines = ["| command (median of %d) | ms |" % args.rounds, "|---|---:|"]
        for n in ["polis -> polisd", "docker -> polisd", "crun run", "podman run",
                  "polis -> podman", "docker -> podman", "polis version -> polisd",
                  "docker version -> polisd", "polis images -> polisd", "docker images -> polisd"]:
            if n in med:
                lines.append("| %s | %.1f |" % (n, med[n]))
        if "polis -> polisd" in med:
            lines.append("")
            lines.append("polis -> polisd: %.2f x crun run (goal <= 2), %.3f x podman run (goal <= 0.05)"
                         % (med["polis -> polisd"] / med["crun run"],
                            med["polis -> polisd"] / med["podman run"]))
        if "polis -> podman" in med and "docker -> podman" in med:
            lines.append("")
            lines.append("Client alone, same server (podman): polis %.1f ms, docker %.1f ms."
                         % (med["polis -> podman"], med["docker -> podman"]))
        text = "\n".join(lines) + "\n"
        print(text)
        if args.out:
            with open(args.out, "w") as f:
                f.write(text)
    finally:
        srv.stop()
        if os.environ.get("POLIS_BENCH_KEEP"):
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("bench/cli.py runs containers: run it as root")
    main()
