#!/usr/bin/python3
"""Networking benchmarks, side by side in one run (not a test; run as root).

  sudo bench/network.py [--build build] [--runs 20] [--seconds 10]
                        [--base-build DIR]

1. start of a detached container (`run -d busybox sleep`, wall time of the
   CLI, median of --runs, bridge and none alternating, each removed
   before the next): polis on the default bridge, polis with
   --network none, podman 4 with --network bridge (its own root, netavark
   or CNI as Debian configures it).  Goal: bridge <= 1.2 x none.
2. HTTP requests per second with wrk (2 threads, 32 connections) against a
   busybox httpd in a container: through the published port on 127.0.0.1
   (nftables DNAT, no proxy process) and straight to the container's
   address on the bridge.  Goal: published >= 0.9 x direct.
3. polisd's idle RSS after start, with its networks set up; with
   --base-build, also that of another build's polisd (the one before
   networking) for comparison.  Goal (issue 6): <= 4 MB.

The daemon gets its own bridge, nftables table and subnets
(tests/integration/testnet.py), removed at the end with its containers.
Traffic goes only to 127.0.0.1 and to the container's address.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from testnet import DaemonNet  # noqa: E402


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Polisd:
    def __init__(self, build, network=True):
        self.build = build
        self.base = tempfile.mkdtemp(prefix="polis-netbench-")
        self.sock = os.path.join(self.base, "polis.sock")
        self.env = dict(os.environ, DOCKER_HOST="unix://" + self.sock,
                        POLIS_NO_AUTOSTART="1")
        self.net = DaemonNet() if network else None
        args = [os.path.join(build, "polisd"), "-H", "unix://" + self.sock,
                "--root", os.path.join(self.base, "root"),
                "--run-root", os.path.join(self.base, "run"),
                "--cgroup-parent", "polis-netbench-%d" % os.getpid()]
        if network:
            args += self.net.args()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.base, "log"), "w"))
        for _ in range(1000):
            if self.cli("version", check=False).returncode == 0:
                break
            time.sleep(0.01)

    def cli(self, *args, check=True):
        r = subprocess.run([os.path.join(TOP, "build", "polis"), *args], env=self.env,
                           capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError("polis %s: %s" % (" ".join(args), r.stderr))
        return r

    def load_busybox(self):
        r = subprocess.run([os.path.join(TOP, "scripts", "busybox-image.sh")], env=self.env,
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)

    def close(self):
        ids = self.cli("ps", "-aq", check=False).stdout.split()
        if ids:
            self.cli("rm", "-f", *ids, check=False)
        bridges = None
        if self.net:
            nets = []
            for n in self.cli("network", "ls", "-q", "--no-trunc", check=False).stdout.split():
                try:
                    nets.append(json.loads(self.cli("network", "inspect", "-f", "{{json .}}", n).stdout))
                except (ValueError, RuntimeError):
                    pass
            bridges = self.net.bridges(nets)
        self.proc.terminate()
        self.proc.wait()
        if self.net:
            self.net.cleanup(bridges)
        subprocess.run(["umount", "-R", self.base], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


def start_times(d, runs):
    """Bridge and none alternate (so that drift in the machine's load hits
    both), each container removed (untimed) before the next start."""
    modes = {"polis bridge": [], "polis none": ["--network", "none"]}
    times = {k: [] for k in modes}
    for i in range(runs + 1):
        for name, extra in modes.items():
            t = time.perf_counter()
            cid = d.cli("run", "-d", *extra, "busybox", "sleep", "600").stdout.strip()
            ms = (time.perf_counter() - t) * 1000
            d.cli("rm", "-f", cid)
            if i > 0:  # the first is a warm-up
                times[name].append(ms)
    res = {k: statistics.median(v) for k, v in times.items()}
    res["podman bridge"] = podman_start(runs)
    return res


def podman_start(runs):
    if shutil.which("podman") is None:
        return None
    base = tempfile.mkdtemp(prefix="polis-netbench-podman-", dir="/tmp")
    # as bench/cli.py runs it: crun cannot lower RLIMIT_NOFILE here
    conf = os.path.join(base, "containers.conf")
    os.makedirs(os.path.join(base, "tmp"))
    with open(conf, "w") as f:
        f.write('[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
                '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
                'tmp_dir = "%s/tmp"\nruntime = "runc"\n' % base)
    env = dict(os.environ, CONTAINERS_CONF=conf)
    common = ["podman", "--root", os.path.join(base, "root"), "--runroot",
              os.path.join(base, "run"), "--storage-driver", "vfs"]
    try:
        tar = os.path.join(base, "bb.tar")
        rootfs = os.path.join(base, "rootfs")
        os.makedirs(os.path.join(rootfs, "bin"))
        shutil.copy("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
        for a in ("sh", "sleep"):
            os.symlink("busybox", os.path.join(rootfs, "bin", a))
        subprocess.run(["tar", "-C", rootfs, "-cf", tar, "."], check=True)
        r = subprocess.run(common + ["import", tar, "localhost/bb:latest"], env=env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            return "import failed: " + r.stderr.strip()[:200]
        times = []
        try:
            for i in range(runs + 1):
                t = time.perf_counter()
                r = subprocess.run(common + ["run", "-d", "--network", "bridge", "localhost/bb",
                                             "sleep", "600"], env=env, capture_output=True,
                                   text=True)
                ms = (time.perf_counter() - t) * 1000
                if r.returncode != 0:
                    raise RuntimeError(r.stderr.strip()[:300])
                subprocess.run(common + ["rm", "-f", "-t", "0", r.stdout.strip()], env=env,
                               capture_output=True)
                if i > 0:
                    times.append(ms)
        except RuntimeError as e:
            return "failed: %s" % e
        finally:
            subprocess.run(common + ["system", "reset", "-f"], env=env, capture_output=True)
        return statistics.median(times)
    finally:
        subprocess.run(["umount", "-R", base], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def wrk(url, seconds):
    r = subprocess.run(["wrk", "-t2", "-c32", "-d%ds" % seconds, url],
                       capture_output=True, text=True, timeout=seconds + 60)
    m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    if not m:
        raise RuntimeError("wrk: %s %s" % (r.stdout, r.stderr))
    return float(m.group(1))


def http_rates(d, seconds):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    d.cli("run", "-d", "--name", "web", "-p", "127.0.0.1:%d:80" % port, "busybox",
          "httpd", "-f", "-p", "80", "-h", "/etc")
    ip = d.cli("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "web").stdout.strip()
    time.sleep(0.5)
    res = {}
    # alternate, so that a noisy neighbour hurts both
    pub, direct = [], []
    for _ in range(2):
        pub.append(wrk("http://127.0.0.1:%d/hostname" % port, seconds))
        direct.append(wrk("http://%s/hostname" % ip, seconds))
    res["published 127.0.0.1"] = statistics.median(pub)
    res["direct"] = statistics.median(direct)
    d.cli("rm", "-f", "web")
    return res


def idle_rss(build, network):
    d = Polisd(build, network=network)
    try:
        time.sleep(2)
        return rss_kb(d.proc.pid)
    finally:
        d.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--base-build", default=None)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=10)
    a = ap.parse_args()
    rss = {"polisd (networking)": idle_rss(a.build, True)}
    if a.base_build:
        rss["polisd (before networking)"] = idle_rss(a.base_build, False)
    d = Polisd(a.build)
    try:
        d.load_busybox()
        starts = start_times(d, a.runs)
        rates = http_rates(d, a.seconds)
    finally:
        d.close()
    print("## start of `run -d busybox sleep` (median of %d, ms)" % a.runs)
    for k, v in starts.items():
        print("| %s | %s |" % (k, "%.1f" % v if isinstance(v, float) else v))
    if isinstance(starts["polis none"], float):
        print("bridge / none = %.2f (goal <= 1.2)"
              % (starts["polis bridge"] / starts["polis none"]))
    print("## HTTP requests/s (wrk -t2 -c32, %d s, median of 2)" % a.seconds)
    for k, v in rates.items():
        print("| %s | %.0f |" % (k, v))
    print("published / direct = %.2f (goal >= 0.9)"
          % (rates["published 127.0.0.1"] / rates["direct"]))
    print("## polisd idle RSS (kB)")
    for k, v in rss.items():
        print("| %s | %d |" % (k, v))


if __name__ == "__main__":
    main()
