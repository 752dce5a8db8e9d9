#!/usr/bin/python3
"""polisd benchmarks, side by side in one run (not a test; run as root).

  sudo bench/engine.py [--build build] [--seconds 30] [--list-requests 2000]

1. the docker CLI (v28) against polisd: wall time of everyday commands
   (median of N);
2. sequential create -> start -> wait -> rm through the API, per minute
   (goal >= 3,000);
3. polisd's RSS when idle: fresh, and again after the load (goal <= 4 MB);
4. p50/p99 of GET /containers/json with 100 containers (goal p99 <= 1 ms).

Every daemon runs on its own --root/--run-root in a temporary directory,
which is removed at the end (containers first).
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from testnet import DaemonNet  # noqa: E402  (own bridge, table, subnets)
DOCKER = os.environ.get("POLIS_DOCKER28", "/usr/local/bin/docker")


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path_ = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path_)


class Daemon:
    def __init__(self, build):
        self.base = tempfile.mkdtemp(prefix="polis-bench-")
        self.sock = os.path.join(self.base, "polis.sock")
        self.cgroup_parent = "polis-bench-%d" % os.getpid()
        self.net = DaemonNet()
        self.proc = subprocess.Popen(
            [os.path.join(build, "polisd"), "-H", "unix://" + self.sock,
             "--root", os.path.join(self.base, "root"),
             "--run-root", os.path.join(self.base, "run"),
             "--cgroup-parent", self.cgroup_parent, *self.net.args()],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.base, "log"), "w"))
        for _ in range(500):
            if os.path.exists(self.sock):
                try:
                    self.call("GET", "/_ping")
                    break
                except OSError:
                    pass
            time.sleep(0.01)
        self.conn = UnixHTTP(self.sock)

    def call(self, method, path, body=None, conn=None):
        c = conn or UnixHTTP(self.sock)
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        c.request(method, path, body=data,
                  headers={"Content-Type": "application/json"} if data else {})
        r = c.getresponse()
        out = r.read()
        if conn is None:
            c.close()
        if r.status >= 400:
            raise RuntimeError("%s %s: %d %s" % (method, path, r.status, out))
        if r.getheader("Content-Type") != "application/json":
            return out
        return json.loads(out) if out.strip() else None

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def import_busybox(self):
        root = tempfile.mkdtemp(prefix="bb-", dir=self.base)
        for d in ("bin", "etc", "dev", "proc", "sys", "tmp"):
            os.makedirs(os.path.join(root, d))
        shutil.copy2("/bin/busybox", os.path.join(root, "bin", "busybox"))
        for a in subprocess.run(["/bin/busybox", "--list"], capture_output=True,
                                text=True).stdout.split():
            p = os.path.join(root, "bin", a)
            if not os.path.exists(p):
                os.symlink("busybox", p)
        with open(os.path.join(root, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
        tar = os.path.join(self.base, "bb.tar")
        with tarfile.open(tar, "w") as t:
            t.add(root, arcname=".")
        with open(tar, "rb") as f:
            self.call("POST", "/images/create?fromSrc=-&repo=busybox&tag=latest", f.read())

    def close(self):
        for c in self.call("GET", "/containers/json?all=1"):
            self.call("DELETE", "/containers/%s?force=1" % c["Id"])
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        self.net.cleanup(self.net.bridges(None))
        shutil.rmtree(self.base, ignore_errors=True)
        for d in os.listdir("/sys/fs/cgroup"):
            try:
                os.rmdir(os.path.join("/sys/fs/cgroup", d, self.cgroup_parent))
            except OSError:
                pass


def docker_cli(d, rounds):
    env = dict(os.environ, DOCKER_HOST="unix://" + d.sock,
               DOCKER_CONFIG=tempfile.mkdtemp(prefix="bench-docker-"))
    cmds = [
        ("docker run --rm busybox true", ["run", "--rm", "busybox", "true"]),
        ("docker create + rm", None),
        ("docker ps -a", ["ps", "-a"]),
        ("docker images", ["images"]),
        ("docker version", ["version"]),
    ]
    out = []
    for label, args in cmds:
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            if args is None:
                cid = subprocess.run([DOCKER, "create", "busybox", "true"], env=env,
                                     capture_output=True, text=True, check=True).stdout.strip()
                subprocess.run([DOCKER, "rm", cid], env=env, capture_output=True, check=True)
            else:
                subprocess.run([DOCKER] + args, env=env, capture_output=True, check=True)
            times.append(time.perf_counter() - t0)
        out.append((label, statistics.median(times) * 1000))
    shutil.rmtree(env["DOCKER_CONFIG"], ignore_errors=True)
    return out


def lifecycles(d, seconds):
    conn = UnixHTTP(d.sock)
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        cid = d.call("POST", "/containers/create",
                     {"Image": "busybox", "Cmd": ["true"]}, conn=conn)["Id"]
        d.call("POST", "/containers/%s/start" % cid, conn=conn)
        d.call("POST", "/containers/%s/wait" % cid, conn=conn)
        d.call("DELETE", "/containers/%s" % cid, conn=conn)
        n += 1
    dt = time.perf_counter() - t0
    conn.close()
    return n * 60 / dt, n


def list_latency(d, requests):
    for _ in range(100):
        d.call("POST", "/containers/create", {"Image": "busybox", "Cmd": ["true"]})
    conn = UnixHTTP(d.sock)
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        conn.request("GET", "/v1.51/containers/json?all=1")
        r = conn.getresponse()
        body = r.read()
        times.append(time.perf_counter() - t0)
        assert r.status == 200 and body.count(b'"Id"') == 100
    conn.close()
    times.sort()
    return times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--list-requests", type=int, default=2000)
    ap.add_argument("--cli-rounds", type=int, default=10)
    a = ap.parse_args()
    d = Daemon(a.build)
    try:
        time.sleep(0.5)
        rss_fresh = d.rss_kb()
        d.import_busybox()
        cli = docker_cli(d, a.cli_rounds) if os.access(DOCKER, os.X_OK) else []
        per_min, n = lifecycles(d, a.seconds)
        p50, p99 = list_latency(d, a.list_requests)
        time.sleep(1)
        rss_after = d.rss_kb()
    finally:
        d.close()
    print("## polisd (%s)\n" % time.strftime("%Y-%m-%d"))
    print("| measure | value | goal |")
    print("|---|---:|---:|")
    print("| lifecycles/min (create, start, wait, rm; %d in %.0f s) | %.0f | >= 3000 |"
          % (n, a.seconds, per_min))
    print("| idle RSS, fresh daemon | %.1f MB | <= 4 MB |" % (rss_fresh / 1024))
    print("| idle RSS, after the load (100 containers left) | %.1f MB | <= 4 MB |"
          % (rss_after / 1024))
    print("| GET /containers/json, 100 containers, p50 | %.3f ms | |" % p50)
    print("| GET /containers/json, 100 containers, p99 | %.3f ms | <= 1 ms |" % p99)
    for label, ms in cli:
        print("| `%s` (docker v28 CLI, median) | %.1f ms | |" % (label, ms))


if __name__ == "__main__":
    sys.exit(main())
