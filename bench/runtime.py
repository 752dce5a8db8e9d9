#!/usr/bin/python3
"""Side-by-side benchmark of OCI runtimes: polis-runtime, crun and runc.

Everything runs in one private mount namespace in which Debian's crun 1.8
sees a pure cgroup v1 host (it refuses hybrid hosts otherwise): an empty
file is bind-mounted over /sys/fs/cgroup/unified/cgroup.controllers.  The
host is not changed.  All runtimes get the same busybox bundle and run in
the same namespace, interleaved round by round, so machine noise hits them
alike; results are reported as medians and as ratios to crun.

Usage: sudo bench/runtime.py [--rounds N] [--runtimes polis,crun,runc]
                             [--out FILE.md]
"""

import argparse
import copy
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SECCOMP_PROFILE = os.path.join(TOP, "tests", "data", "seccomp-default.json")


def reexec_in_private_mount_ns():
    if os.environ.get("POLIS_BENCH_NS") == "1":
        return
    empty = tempfile.NamedTemporaryFile(prefix="polis-bench-empty-", delete=False)
    empty.close()
    script = ('if [ -e /sys/fs/cgroup/unified/cgroup.controllers ]; then '
              'mount --bind "$0" /sys/fs/cgroup/unified/cgroup.controllers; fi; '
              'exec "$@"')
    env = dict(os.environ, POLIS_BENCH_NS="1")
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                        empty.name, sys.executable] + sys.argv, env=env)
    os.unlink(empty.name)
    sys.exit(r.returncode)


def spawn_timed(argv):
    """Run ARGV; return (seconds, exit status)."""
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
    ])
    _, status = os.waitpid(pid, 0)
    return time.perf_counter() - t0, os.waitstatus_to_exitcode(status)


def peak_rss_kib(argv):
    """Peak RSS of ARGV, measured by GNU time (a small parent, so the
    child's pre-exec pages do not count; wait4 from this Python process
    would report Python's own size)."""
    with tempfile.NamedTemporaryFile("r") as f:
        subprocess.run(["/usr/bin/time", "-o", f.name, "-f", "%M"] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return int(f.read().strip().splitlines()[-1])


def make_bundle(base, args, netns=True, seccomp=None):
    rootfs = os.path.join(base, "rootfs")
    if not os.path.exists(rootfs):
        os.makedirs(os.path.join(rootfs, "bin"))
        for d in ("proc", "sys", "dev", "etc", "tmp"):
            os.makedirs(os.path.join(rootfs, d))
        shutil.copy2("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
        for a in ("sh", "true", "sleep", "cat"):
            os.symlink("busybox", os.path.join(rootfs, "bin", a))
    sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
    from conftest import default_config  # the same config the tests use
    cfg = default_config(args)
    cfg["root"]["readonly"] = True
    if not netns:
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                      if n["type"] != "network"]
    if seccomp:
        cfg["linux"]["seccomp"] = seccomp
    with open(os.path.join(base, "config.json"), "w") as f:
        json.dump(cfg, f)
    return base


class Runtime:
    def __init__(self, name, argv, root):
        self.name = name
        self.argv = argv
        self.root = root

    def cmd(self, *args):
        return self.argv + ["--root", self.root] + list(args)


def runtimes(names, work):
    table = {
        "polis": [os.path.join(TOP, "build", "polis-runtime")],
        "crun": [shutil.which("crun") or "/usr/bin/crun"],
        "runc": [shutil.which("runc") or "/usr/sbin/runc"],
    }
    out = []
    for n in names:
        root = os.path.join(work, "state-" + n)
        os.makedirs(root)
        out.append(Runtime(n, table[n], root))
    return out


def must(argv):
    # stderr through a file, not a pipe: a detached container inherits it
    # and would hold a pipe open for as long as it lives.
    with tempfile.TemporaryFile() as err:
        r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=err)
        if r.returncode != 0:
            err.seek(0)
            raise RuntimeError("%s: %s" % (" ".join(argv), err.read().decode()))


def wait_stopped(rt, cid, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        r = subprocess.run(rt.cmd("state", cid), stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        if r.returncode == 0 and json.loads(r.stdout)["status"] == "stopped":
            return
        time.sleep(0.002)
    raise RuntimeError("%s: %s did not stop" % (rt.name, cid))


def bench(args):
    work = tempfile.mkdtemp(prefix="polis-bench-")
    rts = runtimes(args.runtimes.split(","), work)
    b_true = make_bundle(os.path.join(work, "b-true"), ["true"])
    b_true_nonet = make_bundle(os.path.join(work, "b-true-nonet"), ["true"], netns=False)
    b_sleep = make_bundle(os.path.join(work, "b-sleep"), ["sleep", "3600"], netns=False)
    seccomp = None
    if os.path.exists(SECCOMP_PROFILE):
        with open(SECCOMP_PROFILE) as f:
            seccomp = json.load(f)
        b_seccomp = make_bundle(os.path.join(work, "b-seccomp"), ["true"], netns=False,
                                seccomp=seccomp)
    results = {rt.name: {} for rt in rts}
    rss = {rt.name: 0 for rt in rts}

    def record(rt, key, dt):
        results[rt.name].setdefault(key, []).append(dt)

    n = 0
    rng = random.Random(42)
    for rnd in range(args.rounds):
        # A fresh order each round: the kernel tears network namespaces down
        # asynchronously, and whoever runs next would otherwise always pay
        # for the same predecessor's teardown.
        order = list(rts)
        rng.shuffle(order)
        for rt in order:
            n += 1
            cid = "b%d" % n
            # run /bin/true, with and without a new network namespace; let
            # earlier namespaces' teardown settle first, for everyone alike
            time.sleep(0.05)
            dt, st = spawn_timed(rt.cmd("run", "--bundle", b_true, cid + "r"))
            record(rt, "run true (netns)", dt)
            dt, st = spawn_timed(rt.cmd("run", "--bundle", b_true_nonet, cid + "n"))
            record(rt, "run true (no netns)", dt)
            # the verbs one by one
            dt, st = spawn_timed(rt.cmd("create", "--bundle", b_true_nonet, cid + "v"))
            record(rt, "create", dt)
            dt, st = spawn_timed(rt.cmd("start", cid + "v"))
            record(rt, "start", dt)
            wait_stopped(rt, cid + "v")
            dt, st = spawn_timed(rt.cmd("state", cid + "v"))
            record(rt, "state", dt)
            dt, st = spawn_timed(rt.cmd("delete", cid + "v"))
            record(rt, "delete", dt)
            # operations on a running container
            must(rt.cmd("run", "-d", "--bundle", b_sleep, cid + "s"))
            dt, st = spawn_timed(rt.cmd("exec", cid + "s", "true"))
            record(rt, "exec true", dt)
            t0 = time.perf_counter()
            must(rt.cmd("pause", cid + "s"))
            must(rt.cmd("resume", cid + "s"))
            record(rt, "pause+resume", time.perf_counter() - t0)
            dt, st = spawn_timed(rt.cmd("update", "--pids-limit", str(100 + rnd), cid + "s"))
            record(rt, "update", dt)
            must(rt.cmd("delete", "--force", cid + "s"))
            if seccomp:
                dt, st = spawn_timed(rt.cmd("create", "--bundle", b_seccomp, cid + "c"))
                record(rt, "create (docker seccomp)", dt if st == 0 else float("nan"))
                subprocess.run(rt.cmd("delete", "--force", cid + "c"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # peak RSS of the runtime process for `run` and `exec`
    for rt in rts:
        rss[rt.name] = peak_rss_kib(rt.cmd("run", "--bundle", b_true, "rss-run"))
        must(rt.cmd("run", "-d", "--bundle", b_sleep, "rss-s"))
        rss[rt.name] = max(rss[rt.name], peak_rss_kib(rt.cmd("exec", "rss-s", "true")))
        must(rt.cmd("delete", "--force", "rss-s"))
    # sequential lifecycles per minute: create, start, wait, delete
    lifecycles = {}
    for rt in rts:
        t0 = time.perf_counter()
        count = 0
        while time.perf_counter() - t0 < args.lifecycle_seconds:
            cid = "l%d" % count
            must(rt.cmd("create", "--bundle", b_true_nonet, cid))
            must(rt.cmd("start", cid))
            wait_stopped(rt, cid)
            must(rt.cmd("delete", cid))
            count += 1
        lifecycles[rt.name] = count * 60.0 / (time.perf_counter() - t0)
    shutil.rmtree(work, ignore_errors=True)
    return results, rss, lifecycles


def report(results, rss, lifecycles, names, rounds):
    base = "crun" if "crun" in names else names[0]
    keys = list(results[names[0]].keys())
    lines = ["| operation | " + " | ".join(names) + " | " +
             " | ".join("%s/%s" % (n, base) for n in names if n != base) + " |",
             "|---" * (1 + len(names) + len(names) - 1) + "|"]
    for k in keys:
        med = {n: statistics.median(results[n][k]) * 1000 for n in names}
        cells = ["%.2f ms" % med[n] for n in names]
        ratios = ["%.2f" % (med[n] / med[base]) for n in names if n != base]
        lines.append("| %s | %s | %s |" % (k, " | ".join(cells), " | ".join(ratios)))
    cells = ["%.0f" % lifecycles[n] for n in names]
    ratios = ["%.2f" % (lifecycles[n] / lifecycles[base]) for n in names if n != base]
    lines.append("| lifecycles/min (create+start+wait+delete) | %s | %s |"
                 % (" | ".join(cells), " | ".join(ratios)))
    cells = ["%.1f MB" % (rss[n] / 1024.0) for n in names]
    ratios = ["%.2f" % (rss[n] / rss[base]) for n in names if n != base]
    lines.append("| peak RSS of the runtime process | %s | %s |"
                 % (" | ".join(cells), " | ".join(ratios)))
    return "\n".join(lines) + "\n\nMedians of %d interleaved rounds.\n" % rounds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--runtimes", default="polis,crun,runc")
    ap.add_argument("--lifecycle-seconds", type=float, default=10.0)
    ap.add_argument("--out")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/runtime.py must run as root")
    reexec_in_private_mount_ns()
    names = args.runtimes.split(",")
    results, rss, lifecycles = bench(args)
    text = report(results, rss, lifecycles, names, args.rounds)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
