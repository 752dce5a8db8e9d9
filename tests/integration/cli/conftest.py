"""Fixtures for the tests of the polis CLI (build/polis).

The CLI is a client of the Docker Engine API, so these tests need a real
server.  SERVER picks it:
  SERVER=polisd  build/polisd with its own --root, --run-root and socket
  SERVER=podman  Debian's podman serving the Docker API
                 (`podman system service`) with private storage, run root,
                 containers.conf and runc (crun 1.8 refuses this hybrid
                 cgroup host)
The default is polisd when build/polisd and build/polis-shim exist, else
podman.  The server
is started once per session by PID and stopped by PID; the busybox image
is made by scripts/busybox-image.sh through the CLI itself (no registry).
After each test every container is removed.

The docker CLI (/usr/local/bin/docker, when present) is the oracle:
`engine.docker(...)` runs it against the same server, so a test can
compare outputs (with "docker" read as "polis").
"""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from testnet import DaemonNet, veths_on  # noqa: E402
TOP = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BUILD = os.environ.get("POLIS_BUILD", os.path.join(TOP, "build"))
POLIS = os.environ.get("POLIS_CLI", os.path.join(BUILD, "polis"))
POLISD = os.environ.get("POLISD", os.path.join(BUILD, "polisd"))
DOCKER = shutil.which("docker")


def server_name():
    s = os.environ.get("SERVER")
    if s:
        return s
    shim = os.path.join(os.path.dirname(POLISD), "polis-shim")
    return "polisd" if os.path.exists(POLISD) and os.path.exists(shim) else "podman"


def _wait_socket(path, proc, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("the server exited with %d" % proc.returncode)
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("no server on %s" % path)


class Engine:
    def __init__(self, name):
        self.name = name
        # podman refuses a run root longer than 50 characters.
        self.base = tempfile.mkdtemp(prefix="polis-cli-", dir="/tmp")
        self.sock = os.path.join(self.base, "api.sock")
        self.host = "unix://" + self.sock
        self.log = open(os.path.join(self.base, "server.log"), "w")
        self.env = dict(os.environ)
        self.env["DOCKER_HOST"] = self.host
        self.env.pop("DOCKER_API_VERSION", None)
        # Never start a daemon behind the test's back.
        self.env["POLIS_NO_AUTOSTART"] = "1"
        self.registry = None
        self.registry_proc = None
        if shutil.which("docker-registry"):
            self._start_registry()
        if name == "podman":
            self._start_podman()
        elif name == "polisd":
            self._start_polisd()
        else:
            raise RuntimeError("unknown SERVER %r" % name)
        _wait_socket(self.sock, self.proc)
        r = subprocess.run([os.path.join(TOP, "scripts", "busybox-image.sh")],
                           env=self.env, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            self.stop()
            raise RuntimeError("busybox image: %s %s" % (r.stdout, r.stderr))

    def _start_registry(self):
        """Debian's docker-registry on 127.0.0.1, for pull and push."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        d = os.path.join(self.base, "registry")
        os.makedirs(d)
        cfg = os.path.join(d, "config.yml")
        with open(cfg, "w") as f:
            f.write("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                    "    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%d\n" % (d, port))
        self.registry_log = open(os.path.join(d, "log"), "w")
        self.registry_proc = subprocess.Popen(["docker-registry", "serve", cfg],
                                              stdout=self.registry_log, stderr=self.registry_log)
        end = time.time() + 20
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        self.registry = "127.0.0.1:%d" % port

    def _start_podman(self):
        if shutil.which("podman") is None:
            pytest.fail("podman is not installed (scripts/deps.sh installs it)")
        conf = os.path.join(self.base, "containers.conf")
        os.makedirs(os.path.join(self.base, "tmp"))
        with open(conf, "w") as f:
            f.write('[containers]\n'
                    'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
                    '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
                    'tmp_dir = "%s/tmp"\nvolume_path = "%s/volumes"\nruntime = "runc"\n'
                    # networks the tests make stay in the test's directory,
                    # not in the host's /etc/cni/net.d
                    '[network]\nnetwork_config_dir = "%s/networks"\n'
                    % (self.base, self.base, self.base))
        self.env["CONTAINERS_CONF"] = conf
        # podman's default network bridge, made at its first container:
        # removed at the end unless it was there before.
        self.podman_bridge_made = not os.path.exists("/sys/class/net/cni-podman0")
        if self.registry:
            # Docker treats loopback registries as insecure; podman must be told.
            reg = os.path.join(self.base, "registries.conf")
            with open(reg, "w") as f:
                f.write('[[registry]]\nlocation = "%s"\ninsecure = true\n' % self.registry)
            self.env["CONTAINERS_REGISTRIES_CONF"] = reg
        self.root = os.path.join(self.base, "root")
        self.runroot = os.path.join(self.base, "run")
        self.proc = subprocess.Popen(
            ["podman", "--root", self.root, "--runroot", self.runroot,
             "--storage-driver", "vfs", "system", "service", "--time=0", self.host],
            stdout=self.log, stderr=self.log, env=self.env, start_new_session=True)

    def _start_polisd(self):
        if not os.path.exists(POLISD):
            pytest.fail("SERVER=polisd but %s is not built" % POLISD)
        self.root = os.path.join(self.base, "root")
        self.runroot = os.path.join(self.base, "run")
        self.cgroup_parent = "polis-cli-test-" + uuid.uuid4().hex[:12]
        self.net = DaemonNet()
        self.proc = subprocess.Popen(
            [POLISD, "-H", self.host, "--root", self.root, "--run-root", self.runroot,
             "--cgroup-parent", self.cgroup_parent, *self.net.args()],
            stdout=self.log, stderr=self.log, env=self.env, start_new_session=True)

    def cli(self, *args, input=None, timeout=60, check=False):
        """Run build/polis against the server."""
        r = subprocess.run([POLIS] + [str(a) for a in args], input=input,
                           capture_output=True, text=True, timeout=timeout, env=self.env)
        if check and r.returncode != 0:
            raise AssertionError("polis %s failed (%d): %s %s"
                                 % (" ".join(map(str, args)), r.returncode, r.stdout, r.stderr))
        return r

    def docker(self, *args, input=None, timeout=60):
        """Run the docker CLI against the same server (the oracle)."""
        if DOCKER is None:
            pytest.skip("the docker CLI is not installed")
        return subprocess.run([DOCKER] + [str(a) for a in args], input=input,
                              capture_output=True, text=True, timeout=timeout, env=self.env)

    def clean(self):
        ids = self.cli("ps", "-aq").stdout.split()
        if ids:
            self.cli("rm", "-f", *ids, timeout=120)

    def stop(self):
        try:
            self.clean()
        except Exception:
            pass
        bridges = None
        if getattr(self, "net", None) is not None:
            nets = []
            for n in self.cli("network", "ls", "-q", "--no-trunc").stdout.split():
                r = self.cli("network", "inspect", "-f", "{{json .}}", n)
                try:
                    nets.append(json.loads(r.stdout))
                except ValueError:
                    pass
            bridges = self.net.bridges(nets)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        # podman's conmon lingers after an exec (--exit-delay 300): end the
        # ones of this server, found by its directory on their command line.
        for pid in _pids_mentioning(self.base):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.registry_proc:
            self.registry_proc.terminate()
            self.registry_proc.wait()
            self.registry_log.close()
        for d in (self.runroot, self.root):
            subprocess.run(["umount", "-R", d], capture_output=True)
        if bridges is not None:
            self.net.cleanup(bridges)
        if getattr(self, "podman_bridge_made", False):
            subprocess.run(["ip", "link", "del", "cni-podman0"], capture_output=True)
        if getattr(self, "cgroup_parent", None):
            dirs = []
            for top in glob.glob("/sys/fs/cgroup/*/") + ["/sys/fs/cgroup/"]:
                p = os.path.join(top, self.cgroup_parent)
                for sub, _, _ in os.walk(p):
                    dirs.append(sub)
            for d in sorted(dirs, key=len, reverse=True):
                try:
                    os.rmdir(d)
                except OSError:
                    pass
        shutil.rmtree(self.base, ignore_errors=True)


def _pids_mentioning(path):
    out = []
    for p in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(p, "rb") as f:
                cmd = f.read().decode(errors="replace")
        except OSError:
            continue
        if path + "/" in cmd and int(p.split("/")[2]) != os.getpid():
            out.append(int(p.split("/")[2]))
    return out


@pytest.fixture(scope="session")
def engine():
    if os.geteuid() != 0:
        pytest.skip("the CLI tests run a container engine: they need root")
    e = Engine(server_name())
    yield e
    e.stop()


@pytest.fixture(autouse=True)
def _clean(request):
    yield
    if "engine" in request.fixturenames:
        request.getfixturevalue("engine").clean()


MISSING = ("not yet", "is not supported by polisd", "not implemented")


def skip_if_missing(result):
    """Skip (never pass) when the server says it lacks the feature."""
    if result.returncode != 0 and any(m in result.stderr for m in MISSING):
        pytest.skip("the server lacks this: %s" % result.stderr.strip())


def wait_for(pred, timeout=20, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()
