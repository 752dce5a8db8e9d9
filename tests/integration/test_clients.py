"""polis-runtime under real clients: containerd (through its runc shim, as
`ctr run --runc-binary`) and podman (`podman --runtime`).

Each test starts its own containerd (own root, state and socket) or gives
podman its own storage, run root and containers.conf, so nothing global
changes.  These tests are about polis-runtime; they are skipped for the
peers (RUNTIME=runc/crun), which containerd and podman already know.
"""

import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import build_rootfs, runtime_argv, runtime_name, require_root

pytestmark = pytest.mark.skipif(runtime_name() != "polis",
                                reason="client tests exercise polis-runtime only")


def _run(argv, timeout=60, env=None, check=True):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s %s" % (argv, p.returncode, p.stdout,
                                                       p.stderr))
    return p


@pytest.fixture
def rootfs(tmp_path):
    path = str(tmp_path / "rootfs")
    build_rootfs(path)
    return path


class Containerd:
    def __init__(self, base):
        self.base = base
        self.sock = os.path.join(base, "containerd.sock")
        self.ns = "polis-test-" + uuid.uuid4().hex[:8]
        cfg = os.path.join(base, "config.toml")
        with open(cfg, "w") as f:
            f.write('version = 2\nroot = "%s/root"\nstate = "%s/state"\n'
                    'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                    '[grpc]\n  address = "%s"\n[debug]\n  level = "warn"\n'
                    % (base, base, self.sock))
        self.log = open(os.path.join(base, "containerd.log"), "w")
        self.proc = subprocess.Popen(["containerd", "--config", cfg],
                                     stdout=self.log, stderr=self.log)
        for _ in range(200):
            if os.path.exists(self.sock):
                break
            time.sleep(0.025)
        else:
            raise AssertionError("containerd did not start")

    def ctr(self, *args, check=True, timeout=60):
        return _run(["ctr", "--address", self.sock, "-n", self.ns] + list(args),
                    timeout=timeout, check=check)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        # The runc shim keeps its runtime state per namespace here.
        shutil.rmtree("/run/containerd/runc/" + self.ns, ignore_errors=True)
        # containerd puts a namespace's containers in cgroups under
        # /<namespace>; those it leaves, empty, once they are deleted.
        for top in glob.glob("/sys/fs/cgroup/*/") + ["/sys/fs/cgroup/"]:
            try:
                os.rmdir(os.path.join(top, self.ns))
            except OSError:
                pass
        subprocess.run(["umount", "-R", os.path.join(self.base, "state")],
                       capture_output=True)


def test_containerd_run_exec_pause_kill_delete(tmp_path, rootfs):
    require_root()
    if shutil.which("containerd") is None:
        pytest.fail("containerd is not installed (scripts/deps.sh installs it)")
    os.makedirs(str(tmp_path / "ctd"))
    c = Containerd(str(tmp_path / "ctd"))
    rt = runtime_argv()[0]
    try:
        # Foreground run: output and exit status come back through the shim.
        r = c.ctr("run", "--rm", "--runc-binary", rt, "--rootfs", rootfs, "fg",
                  "sh", "-c", "echo hello from containerd; exit 3", check=False)
        assert r.stdout.strip() == "hello from containerd"
        assert r.returncode == 3

        c.ctr("run", "-d", "--runc-binary", rt, "--rootfs", rootfs, "bg", "sleep", "300")
        tasks = c.ctr("task", "ls").stdout
        assert "bg" in tasks and "RUNNING" in tasks

        r = c.ctr("task", "exec", "--exec-id", "e1", "bg", "sh", "-c", "echo in; cat /proc/1/cmdline")
        assert r.stdout.startswith("in\n")
        assert "sleep" in r.stdout

        c.ctr("task", "pause", "bg")
        assert "PAUSED" in c.ctr("task", "ls").stdout
        c.ctr("task", "resume", "bg")
        assert "RUNNING" in c.ctr("task", "ls").stdout

        ps = c.ctr("task", "ps", "bg").stdout.split("\n")
        assert len([l for l in ps[1:] if l.strip()]) >= 1

        metrics = c.ctr("task", "metrics", "--format", "json", "bg").stdout
        assert "memory" in metrics.lower() or "pids" in metrics.lower()

        c.ctr("task", "kill", "-s", "KILL", "bg")
        for _ in range(200):
            if "STOPPED" in c.ctr("task", "ls").stdout:
                break
            time.sleep(0.025)
        assert "STOPPED" in c.ctr("task", "ls").stdout
        c.ctr("task", "delete", "bg")
        c.ctr("container", "delete", "bg")
        assert "bg" not in c.ctr("task", "ls").stdout
    finally:
        c.stop()


def _podman_env(base):
    conf = os.path.join(base, "containers.conf")
    rt = runtime_argv()[0]
    os.makedirs(os.path.join(base, "tmp"), exist_ok=True)
    with open(conf, "w") as f:
        f.write('[containers]\n'
                'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
                '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
                'tmp_dir = "%s/tmp"\nvolume_path = "%s/volumes"\n'
                'runtime = "polis"\n[engine.runtimes]\npolis = ["%s"]\n'
                % (base, base, rt))
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = conf
    return env


def test_podman_run_exec_stop_pause_stats_top(tmp_path, rootfs):
    require_root()
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed (scripts/deps.sh installs it)")
    base = str(tmp_path / "podman")
    os.makedirs(base)
    env = _podman_env(base)
    # podman refuses a run root longer than 50 characters.
    runroot = tempfile.mkdtemp(prefix="polis-pd-", dir="/tmp")
    P = ["podman", "--root", base + "/root", "--runroot", runroot,
         "--storage-driver", "vfs"]

    def podman(*args, check=True, timeout=120):
        return _run(P + list(args), timeout=timeout, env=env, check=check)

    tar = os.path.join(base, "busybox.tar")
    subprocess.run(["tar", "-C", rootfs, "-cf", tar, "."], check=True)
    podman("import", tar, "localhost/polis-busybox:test")
    try:
        r = podman("run", "--rm", "--network", "none", "localhost/polis-busybox:test",
                   "sh", "-c", "echo hello from podman; exit 4", check=False)
        assert r.stdout.strip() == "hello from podman"
        assert r.returncode == 4

        podman("run", "-d", "--name", "p1", "--network", "none",
               "localhost/polis-busybox:test", "sleep", "300")
        r = podman("exec", "p1", "sh", "-c", "echo exec ok; cat /proc/1/cmdline")
        assert r.stdout.startswith("exec ok\n")
        r = podman("exec", "-t", "p1", "sh", "-c", "test -t 0 && echo tty")
        assert r.stdout.strip() == "tty"

        podman("pause", "p1")
        st = json.loads(podman("inspect", "p1").stdout)[0]["State"]
        assert st["Status"] == "paused"
        podman("unpause", "p1")
        st = json.loads(podman("inspect", "p1").stdout)[0]["State"]
        assert st["Status"] == "running"

        stats = podman("stats", "--no-stream", "--format", "json", "p1").stdout
        doc = json.loads(stats)
        assert doc and doc[0].get("name", doc[0].get("Name")) == "p1"

        top = podman("top", "p1").stdout
        assert "sleep" in top

        podman("stop", "-t", "2", "p1")
        st = json.loads(podman("inspect", "p1").stdout)[0]["State"]
        assert st["Status"] in ("exited", "stopped")
        podman("rm", "p1")
    finally:
        podman("rm", "-f", "--all", check=False)
        podman("rmi", "-f", "--all", check=False)
        subprocess.run(["umount", "-R", base + "/root"], capture_output=True)
        subprocess.run(["umount", "-R", runroot], capture_output=True)
        shutil.rmtree(runroot, ignore_errors=True)
