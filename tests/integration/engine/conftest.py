"""Fixtures for polisd's integration tests: real Docker clients against
real daemons.

Each daemon gets its own --root, --run-root, socket and cgroup parent in a
temporary directory, so tests run in parallel with each other and with a
dockerd; at the end every container is removed through the API, the
daemon is stopped by PID and the test checks that nothing is left: no
mount under its root, no shim process, no cgroup, no sanitizer report in
its log.

Clients:
  docker v28   /usr/local/bin/docker (API 1.51)
  docker 20.10 Debian's docker.io CLI (API 1.41), taken out of the package
               with `apt-get download` + `dpkg-deb -x` (never installed:
               that would start a dockerd) and cached in $POLIS_TEST_CACHE
  docker-py    Debian's python3-docker (5.0.3)
The busybox image is made from Debian's busybox-static (no registry) and
imported through each daemon's API, as `docker import` does.
"""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from testnet import DaemonNet, veths_on  # noqa: E402
TOP = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BUILD = os.environ.get("POLIS_BUILD", os.path.join(TOP, "build"))
BUSYBOX = os.environ.get("POLIS_BUSYBOX", "/bin/busybox")
CACHE = os.environ.get("POLIS_TEST_CACHE", "/var/tmp/polis-test-cache")
DOCKER28 = os.environ.get("POLIS_DOCKER28", "/usr/local/bin/docker")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: ")


def polisd_path():
    return os.environ.get("POLISD", os.path.join(BUILD, "polisd"))


def helper_path(name):
    """polis-shim / polis-image / polis-init beside the polisd under test."""
    return os.path.join(os.path.dirname(polisd_path()), name)


def require_root():
    if os.geteuid() != 0:
        pytest.skip("engine tests need root")


# --- the daemon -------------------------------------------------------------------


class Polisd:
    """One polisd with its own directories, and its own bridge, nftables
    table and subnets (derived from a per-daemon id), all removed by
    cleanup()."""

    def __init__(self, base):
        self.base = base
        self.net = DaemonNet()
        self.bridge = self.net.bridge
        self.nft_table = self.net.nft_table
        self.bip = self.net.bip
        self.pool = self.net.pool
        self.root = os.path.join(base, "root")
        self.run_root = os.path.join(base, "run")
        self.sock = os.path.join(base, "polis.sock")
        self.cgroup_parent = "polisd-test-" + uuid.uuid4().hex[:12]
        self.log_path = os.path.join(base, "polisd.log")
        self.proc = None
        self.logs = []

    @property
    def host(self):
        return "unix://" + self.sock

    def start(self, *extra):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [polisd_path(), "-H", self.host, "--root", self.root,
             "--run-root", self.run_root, "--cgroup-parent", self.cgroup_parent,
             *self.net.args(), *extra],
            stdout=log, stderr=log)
        log.close()
        end = time.time() + 20
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError("polisd exited: %s" % self.log())
            try:
                st, _, _ = self.request("GET", "/_ping")
                if st == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.02)
        raise AssertionError("polisd did not answer: %s" % self.log())

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("polisd did not stop on signal %d" % sig)
        finally:
            self.proc = None

    def kill9(self):
        self.stop(signal.SIGKILL)

    @property
    def pid(self):
        return self.proc.pid

    def request(self, method, path, body=None, headers=None, timeout=30):
        """One HTTP request on the socket: (status, headers, body bytes)."""
        import http.client

        class Conn(http.client.HTTPConnection):
            def __init__(s, sock_path):
                super().__init__("localhost", timeout=timeout)
                s.sock_path = sock_path

            def connect(s):
                s.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.sock.settimeout(timeout)
                s.sock.connect(s.sock_path)

        c = Conn(self.sock)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = dict(headers or {}, **{"Content-Type": "application/json"})
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, data

    def json(self, method, path, body=None, expect=None):
        st, h, data = self.request(method, path, body)
        if expect is not None:
            assert st == expect, (st, data)
        return json.loads(data) if data.strip() else None

    def containers(self):
        return self.json("GET", "/containers/json?all=1", expect=200)

    def bridges(self):
        """Our bridges: the default one and every user network's."""
        nets = None
        if self.proc is not None and self.proc.poll() is None:
            nets = self.json("GET", "/networks", expect=200)
        return self.net.bridges(nets)

    def cleanup(self):
        """Remove every container, stop, and check nothing is left."""
        leaks = []
        bridges = {self.bridge}
        if self.proc is not None and self.proc.poll() is None:
            for c in self.containers():
                self.request("DELETE", "/containers/%s?force=1" % c["Id"])
            left = self.containers()
            if left:
                leaks.append("containers not removed: %r" % [c["Id"] for c in left])
            bridges = self.bridges()
            self.stop()
        leaks += ["veth left: " + v for v in veths_on(bridges)]
        self.net.cleanup(bridges)
        log = self.log()
        for mark in SANITIZER_MARKS:
            if mark in log:
                leaks.append("sanitizer report in polisd's log:\n" + log)
        leaks += ["mount left: " + m for m in mounts_under(self.base)]
        leaks += ["shim left: %d" % p for p in shims_of(self.run_root)]
        # The parent (like dockerd's /docker) stays; a container's does not.
        for d in cgroup_dirs(self.cgroup_parent):
            leaks += ["cgroup left: " + os.path.join(d, c) for c in os.listdir(d)
                      if os.path.isdir(os.path.join(d, c))]
        for d in cgroup_dirs(self.cgroup_parent):
            try:
                os.rmdir(d)
            except OSError:
                pass
        return leaks


def mounts_under(path):
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4]
            if mp == path or mp.startswith(path.rstrip("/") + "/"):
                out.append(mp)
    return out


def shims_of(run_root):
    """Processes whose command line names RUN_ROOT (shims of this daemon)."""
    out = []
    for p in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(p, "rb") as f:
                cmd = f.read().decode(errors="replace")
        except OSError:
            continue
        if run_root + "/" in cmd and "polis-shim" in cmd:
            out.append(int(p.split("/")[2]))
    return out


def cgroup_dirs(parent):
    out = []
    for d in glob.glob("/sys/fs/cgroup/*/") + ["/sys/fs/cgroup/"]:
        p = os.path.join(d, parent)
        if os.path.isdir(p):
            out.append(p)
    return out


# --- images -----------------------------------------------------------------------


_SESSION = {}


def busybox_tar():
    """A rootfs tarball of Debian's busybox-static (made once a session)."""
    if "busybox" in _SESSION:
        return _SESSION["busybox"]
    d = tempfile.mkdtemp(prefix="polis-busybox-")
    root = os.path.join(d, "rootfs")
    for sub in ("bin", "etc", "dev", "proc", "sys", "tmp", "root", "home", "var",
                "usr/bin"):
        os.makedirs(os.path.join(root, sub))
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    shutil.copy2(BUSYBOX, os.path.join(root, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    for a in applets:
        p = os.path.join(root, "bin", a)
        if not os.path.exists(p):
            os.symlink("busybox", p)
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n"
                "nobody:x:65534:65534:nobody:/home:/bin/false\n")
    with open(os.path.join(root, "etc", "group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")
    path = os.path.join(d, "busybox.tar")
    with tarfile.open(path, "w") as t:
        t.add(root, arcname=".")
    _SESSION["busybox"] = path
    _SESSION.setdefault("dirs", []).append(d)
    return path


def import_busybox(d):
    with open(busybox_tar(), "rb") as f:
        data = f.read()
    q = "fromSrc=-&repo=busybox&tag=latest&changes=" + \
        __import__("urllib.parse").parse.quote('CMD ["sh"]')
    st, _, body = d.request("POST", "/images/create?" + q, body=data,
                            headers={"Content-Type": "application/x-tar"})
    assert st == 200, body


# --- clients ----------------------------------------------------------------------


def docker20_path():
    """Debian's docker 20.10 CLI out of the docker.io package (cached)."""
    dest = os.path.join(CACHE, "docker-20.10", "usr", "bin", "docker")
    if os.path.exists(dest):
        return dest
    os.makedirs(CACHE, exist_ok=True)
    work = tempfile.mkdtemp(prefix="docker-deb-", dir=CACHE)
    try:
        r = subprocess.run(["apt-get", "download", "docker.io"], cwd=work,
                           capture_output=True, text=True, timeout=300)
        debs = glob.glob(os.path.join(work, "docker.io_*.deb"))
        if r.returncode != 0 or not debs:
            return None
        x = os.path.join(work, "x")
        subprocess.run(["dpkg-deb", "-x", debs[0], x], check=True)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(os.path.join(x, "usr", "bin", "docker"), dest + ".tmp")
        os.rename(dest + ".tmp", dest)
        return dest
    finally:
        shutil.rmtree(work, ignore_errors=True)


class DockerCLI:
    """A docker CLI pointed at one polisd (its own config directory)."""

    def __init__(self, binary, daemon, name):
        self.binary = binary
        self.daemon = daemon
        self.name = name
        self.config = tempfile.mkdtemp(prefix="docker-config-")

    def env(self):
        e = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        e.update(DOCKER_HOST=self.daemon.host, DOCKER_CONFIG=self.config,
                 DOCKER_CLI_HINTS="false")
        return e

    def __call__(self, *args, check=True, timeout=60, input=None):
        r = subprocess.run([self.binary, *args], capture_output=True, text=True,
                           timeout=timeout, env=self.env(), input=input)
        if check and r.returncode != 0:
            raise AssertionError("docker %s failed (%d):\nstdout: %s\nstderr: %s\n"
                                 "polisd log:\n%s"
                                 % (" ".join(args), r.returncode, r.stdout, r.stderr,
                                    self.daemon.log()[-4000:]))
        return r

    def popen(self, *args, **kw):
        return subprocess.Popen([self.binary, *args], env=self.env(), **kw)

    def close(self):
        shutil.rmtree(self.config, ignore_errors=True)


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture
def daemon_factory():
    """Start daemons (own directories each); all cleaned and checked."""
    require_root()
    made = []

    def make(*extra, busybox=True):
        base = tempfile.mkdtemp(prefix="polisd-")
        d = Polisd(base)
        d.start(*extra)
        if busybox:
            import_busybox(d)
        made.append(d)
        return d

    yield make
    leaks = []
    for d in made:
        leaks += d.cleanup()
        if not mounts_under(d.base):
            shutil.rmtree(d.base, ignore_errors=True)
    assert leaks == [], "\n".join(leaks)


@pytest.fixture
def polisd(daemon_factory):
    return daemon_factory()


def require_docker28():
    if not os.access(DOCKER28, os.X_OK):
        pytest.skip("the docker v28 CLI is not at %s" % DOCKER28)


@pytest.fixture
def docker(polisd):
    require_docker28()
    cli = DockerCLI(DOCKER28, polisd, "docker-v28")
    yield cli
    cli.close()


@pytest.fixture
def docker20(polisd):
    path = docker20_path()
    if path is None:
        pytest.skip("the docker.io 20.10 package could not be downloaded")
    cli = DockerCLI(path, polisd, "docker-20.10")
    yield cli
    cli.close()


@pytest.fixture(params=["v28", "v20"])
def any_docker(request, polisd):
    """The same scenario with both CLIs."""
    if request.param == "v28":
        require_docker28()
        path = DOCKER28
    else:
        path = docker20_path()
        if path is None:
            pytest.skip("the docker.io 20.10 package could not be downloaded")
    cli = DockerCLI(path, polisd, request.param)
    yield cli
    cli.close()


@pytest.fixture
def dockerpy(polisd):
    docker_mod = pytest.importorskip("docker")
    client = docker_mod.DockerClient(base_url=polisd.host, version="auto", timeout=60)
    yield client
    client.close()


def wait_until(fn, timeout=15, interval=0.05, what="condition"):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def pytest_sessionfinish(session, exitstatus):
    for d in _SESSION.get("dirs", []):
        shutil.rmtree(d, ignore_errors=True)
