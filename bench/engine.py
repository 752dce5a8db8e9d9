#!/usr/bin/python3
"""polisd benchmarks, side by side in one run (not a test; run as root).

  sudo bench/engine.py [--build build] [--seconds 30] [--list-requests 2000]

1. the docker CLI (v28) against polisd: wall time of everyday commands
   (median of N);
2. sequential create -> start -> wait -> rm through the API, per minute
   (goal >= 3,000), polisd and `podman system service` side by side;
3. the servers' RSS when idle: fresh, and again after the load (goal for
   polisd <= 4 MB);
4. p50/p99 of GET /containers/json with 100 containers (goal p99 <= 1 ms),
   both servers;
5. `logs --tail 100` (and --since the last second) of a container whose
   json-file log is over 1 GB (goal <= 10 ms), through the API and the
   docker CLI.

Every server runs on its own root in a temporary directory, which is
removed at the end (containers first).  podman is started as
bench/cli.py starts it (private storage, cgroupfs, runc).
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


class ApiServer:
    sock = None

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
        if not (r.getheader("Content-Type") or "").startswith("application/json"):
            return out
        return json.loads(out) if out.strip() else None

    def rss_kb(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


class Podman(ApiServer):
    """`podman system service` serving the Docker API, as bench/cli.py runs it."""

    def __init__(self):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import cli
        self.work = tempfile.mkdtemp(prefix="pcb-", dir="/tmp")  # run root <= 50 chars
        self.srv = cli.Servers(self.work, False, True)
        self.sock = self.srv.podman_env["DOCKER_HOST"][len("unix://"):]
        self.pid = self.srv.procs[0].pid

    def close(self):
        for c in self.call("GET", "/containers/json?all=1"):
            self.call("DELETE", "/containers/%s?force=1" % c["Id"])
        self.srv.stop()
        shutil.rmtree(self.work, ignore_errors=True)


class Daemon(ApiServer):
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
        self.pid = self.proc.pid
        for _ in range(500):
            if os.path.exists(self.sock):
                try:
                    self.call("GET", "/_ping")
                    break
                except OSError:
                    pass
            time.sleep(0.01)
        self.conn = UnixHTTP(self.sock)

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


def log_tail(d, size, requests):
    """A container whose json-file log is over SIZE bytes, then the time of
    GET .../logs?tail=100 and ?since=<a second ago>, and of `docker logs
    --tail 100`."""
    cid = d.call("POST", "/containers/create", {
        "Image": "busybox",
        "Cmd": ["sh", "-c", "yes 'a line of the log of a busy service, long enough to be "
                "realistic: 0123456789 abcdefghij' | head -c %d; sleep 2; echo last" % (size * 10 // 16)],
        "HostConfig": {"LogConfig": {"Type": "json-file",
                                     "Config": {"max-size": str(size * 2), "max-file": "1"}}},
    })["Id"]
    d.call("POST", "/containers/%s/start" % cid)
    d.call("POST", "/containers/%s/wait" % cid)
    log = d.call("GET", "/containers/%s/json" % cid)["LogPath"]
    log_size = os.path.getsize(log)
    conn = UnixHTTP(d.sock)

    def timed(path, expect):
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            times.append(time.perf_counter() - t0)
            assert r.status == 200 and expect(body), body[-200:]
        times.sort()
        return times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000

    tail = timed("/v1.51/containers/%s/logs?stdout=1&tail=100" % cid,
                 lambda b: b.count(b"\n") == 100 and b.endswith(b"last\n"))
    finished = subprocess.run(["date", "-d", d.call("GET", "/containers/%s/json" % cid)
                               ["State"]["FinishedAt"], "+%s"], capture_output=True,
                              text=True).stdout.strip()
    since = timed("/v1.51/containers/%s/logs?stdout=1&since=%d" % (cid, int(finished) - 1),
                  lambda b: b.endswith(b"last\n") and b.count(b"\n") < 100)
    conn.close()
    cli = None
    if os.access(DOCKER, os.X_OK):
        env = dict(os.environ, DOCKER_HOST="unix://" + d.sock,
                   DOCKER_CONFIG=tempfile.mkdtemp(prefix="bench-docker-"))
        times = []
        for _ in range(10):
            t0 = time.perf_counter()
            out = subprocess.run([DOCKER, "logs", "--tail", "100", cid], env=env,
                                 capture_output=True, check=True).stdout
            times.append(time.perf_counter() - t0)
            assert out.count(b"\n") == 100
        cli = statistics.median(times) * 1000
        shutil.rmtree(env["DOCKER_CONFIG"], ignore_errors=True)
    d.call("DELETE", "/containers/%s" % cid)
    return log_size, tail, since, cli


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--list-requests", type=int, default=2000)
    ap.add_argument("--cli-rounds", type=int, default=10)
    ap.add_argument("--log-size", type=int, default=1 << 30)
    ap.add_argument("--no-podman", action="store_true")
    a = ap.parse_args()
    d = Daemon(a.build)
    pm = None
    try:
        pm = None if a.no_podman else Podman()
        time.sleep(0.5)
        rss_fresh = d.rss_kb()
        pm_rss_fresh = pm.rss_kb() if pm else 0
        d.import_busybox()
        cli = docker_cli(d, a.cli_rounds) if os.access(DOCKER, os.X_OK) else []
        per_min, n = lifecycles(d, a.seconds)
        pm_per_min, pm_n = lifecycles(pm, a.seconds) if pm else (0, 0)
        p50, p99 = list_latency(d, a.list_requests)
        pm_p50, pm_p99 = list_latency(pm, a.list_requests // 10) if pm else (0, 0)
        time.sleep(1)
        rss_after = d.rss_kb()
        pm_rss_after = pm.rss_kb() if pm else 0
        log_size, tail, since, tail_cli = log_tail(d, a.log_size, 50)
    finally:
        d.close()
        if pm:
            pm.close()
    print("## polisd (%s)\n" % time.strftime("%Y-%m-%d"))
    print("| measure | polisd | podman service | goal (polisd) |")
    print("|---|---:|---:|---:|")
    print("| lifecycles/min (create, start, wait, rm; %d / %d in %.0f s) | %.0f | %.0f | >= 3000 |"
          % (n, pm_n, a.seconds, per_min, pm_per_min))
    print("| idle RSS, fresh | %.1f MB | %.1f MB | <= 4 MB |"
          % (rss_fresh / 1024, pm_rss_fresh / 1024))
    print("| idle RSS, after the load (100 containers left) | %.1f MB | %.1f MB | <= 4 MB |"
          % (rss_after / 1024, pm_rss_after / 1024))
    print("| GET /containers/json, 100 containers, p50 | %.3f ms | %.3f ms | |" % (p50, pm_p50))
    print("| GET /containers/json, 100 containers, p99 | %.3f ms | %.3f ms | <= 1 ms |"
          % (p99, pm_p99))
    print("| logs --tail 100 of a %.2f GB log (API), p50 / p99 | %.2f / %.2f ms | | <= 10 ms |"
          % (log_size / 1e9, tail[0], tail[1]))
    print("| logs --since 1 s ago, same log (API), p50 / p99 | %.2f / %.2f ms | | |"
          % since)
    if tail_cli is not None:
        print("| `docker logs --tail 100`, same log (docker v28 CLI, median) | %.1f ms | | |"
              % tail_cli)
    for label, ms in cli:
        print("| `%s` (docker v28 CLI, median) | %.1f ms | | |" % (label, ms))


if __name__ == "__main__":
    sys.exit(main())
