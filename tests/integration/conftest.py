"""Fixtures for the integration tests of polis-runtime.

Every test gets its own state root (--root) in a temporary directory and
its own busybox bundle, so tests run in parallel and leave nothing behind.

RUNTIME selects the runtime under test:
  RUNTIME=polis  (default) build/polis-runtime (POLIS_RUNTIME overrides the path)
  RUNTIME=runc   Debian's runc
  RUNTIME=crun   Debian's crun, run through tests/integration/crun-hybrid.sh
                 (crun 1.8 refuses hybrid cgroup hosts otherwise)
The same tests pass against all three: they test the OCI spec and runc's
command line, not polis' quirks.  Where runc 1.1 or crun 1.8 differ from
the spec or from each other, a test asserts the common behaviour and
handles the peer explicitly, with a comment saying why.

One file per concern: test_lifecycle (create/start/state/kill/delete),
test_namespaces, test_mounts, test_devices, test_process, test_console,
test_hooks, test_security, test_bad_input, test_cli, test_clients
(containerd and podman driving polis-runtime).  After each test the
runtime fixture checks that the state root is empty and that no mount is
left on the host.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("POLIS_BUILD", os.path.join(TOP, "build"))
BUSYBOX = os.environ.get("POLIS_BUSYBOX", "/bin/busybox")


def runtime_name():
    return os.environ.get("RUNTIME", "polis")


def runtime_argv():
    name = runtime_name()
    if name == "polis":
        return [os.environ.get("POLIS_RUNTIME", os.path.join(BUILD, "polis-runtime"))]
    if name == "runc":
        return [shutil.which("runc") or "/usr/sbin/runc"]
    if name == "crun":
        return [os.path.join(HERE, "crun-hybrid.sh")]
    raise RuntimeError("unknown RUNTIME %r" % name)


def test_init_path():
    """The static PID-1 helper built with the tests."""
    return os.path.join(BUILD, "tests", "helpers", "polis-test-init")


def require_root():
    if os.geteuid() != 0:
        pytest.skip("integration tests need root")


def default_config(args):
    """A runc-like default config, without a terminal."""
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(args),
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                k: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
                for k in ("bounding", "effective", "permitted")
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "polis-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                         "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in
                           ("pid", "network", "ipc", "uts", "mount", "cgroup")],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                            "/proc/latency_stats", "/proc/timer_list",
                            "/proc/timer_stats", "/proc/sched_debug",
                            "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


_ROOTFS_CACHE = {}


def build_rootfs(dest):
    """A busybox rootfs: the static binary, a link per applet, /etc files,
    and the static test init at /sbin/polis-test-init."""
    os.makedirs(dest)
    for d in ("bin", "sbin", "etc", "tmp", "proc", "sys", "dev", "root", "home/user",
              "var", "usr/bin", "usr/sbin"):
        os.makedirs(os.path.join(dest, d), exist_ok=True)
    os.chmod(os.path.join(dest, "tmp"), 0o1777)
    shutil.copy2(BUSYBOX, os.path.join(dest, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    for a in applets:
        p = os.path.join(dest, "bin", a)
        if not os.path.exists(p):
            os.symlink("busybox", p)
    init = test_init_path()
    if os.path.exists(init):
        shutil.copy2(init, os.path.join(dest, "sbin", "polis-test-init"))
    with open(os.path.join(dest, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n"
                "user:x:1000:1000:user:/home/user:/bin/sh\n"
                "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    with open(os.path.join(dest, "etc", "group"), "w") as f:
        f.write("root:x:0:\ntty:x:5:\nuser:x:1000:\nnogroup:x:65534:\n")
    os.chown(os.path.join(dest, "home", "user"), 1000, 1000)


# The rootfs' large binaries, never written to: a bundle hard-links them,
# and its symlinks (one per busybox applet), instead of copying them:
# copying megabytes and making hundreds of symlinks per test dominated the
# suite's time.
SHARED_FILES = {"bin/busybox", "sbin/polis-test-init"}


def copy_rootfs(src, dst):
    """Copy the cached rootfs SRC to DST: directories and small files are
    the bundle's own, symlinks and SHARED_FILES hard links to the cache's."""
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        d = dst if rel == "." else os.path.join(dst, rel)
        os.mkdir(d)
        st = os.lstat(dirpath)
        os.chown(d, st.st_uid, st.st_gid)
        os.chmod(d, st.st_mode & 0o7777)
        for name in dirnames + filenames:
            s_path = os.path.join(dirpath, name)
            d_path = os.path.join(d, name)
            if os.path.islink(s_path):
                os.link(s_path, d_path, follow_symlinks=False)
            elif name in filenames:
                if os.path.normpath(os.path.join(rel, name)) in SHARED_FILES:
                    os.link(s_path, d_path)
                else:
                    shutil.copy2(s_path, d_path)
        dirnames[:] = [n for n in dirnames if not os.path.islink(os.path.join(dirpath, n))]


class Bundle:
    """A bundle directory: config.json plus rootfs (a copy per test)."""

    def __init__(self, path, args):
        self.path = path
        self.rootfs = os.path.join(path, "rootfs")
        self.config = default_config(args)
        self.id = None  # set by Runtime.run_bundle

    def save(self):
        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(self.config, f, indent=1)
        return self

    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config["linux"]

    def namespaces(self):
        return [n["type"] for n in self.linux["namespaces"]]

    def drop_namespace(self, kind):
        self.linux["namespaces"] = [n for n in self.linux["namespaces"]
                                    if n["type"] != kind]

    def add_namespace(self, kind, path=None):
        self.drop_namespace(kind)
        ns = {"type": kind}
        if path is not None:
            ns["path"] = path
        self.linux["namespaces"].append(ns)

    def add_mount(self, destination, type=None, source=None, options=None):
        m = {"destination": destination}
        if type is not None:
            m["type"] = type
        if source is not None:
            m["source"] = source
        if options is not None:
            m["options"] = list(options)
        self.config.setdefault("mounts", []).append(m)
        return m

    def set_userns(self, uid_maps=((0, 100000, 65536),), gid_maps=None):
        """A new user namespace with the given (container, host, size) ranges."""
        gid_maps = uid_maps if gid_maps is None else gid_maps
        self.add_namespace("user")
        self.linux["uidMappings"] = [{"containerID": c, "hostID": h, "size": n}
                                     for c, h, n in uid_maps]
        self.linux["gidMappings"] = [{"containerID": c, "hostID": h, "size": n}
                                     for c, h, n in gid_maps]

    def add_hook(self, kind, path, args=None, env=None, timeout=None):
        h = {"path": path}
        if args is not None:
            h["args"] = list(args)
        if env is not None:
            h["env"] = list(env)
        if timeout is not None:
            h["timeout"] = timeout
        self.config.setdefault("hooks", {}).setdefault(kind, []).append(h)
        return h

    def write_file(self, rel, content, mode=0o644):
        p = os.path.join(self.rootfs, rel.lstrip("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(content)
        os.chmod(p, mode)
        return p


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: ")


class Result:
    def __init__(self, proc):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def __repr__(self):
        return "Result(rc=%r, stdout=%r, stderr=%r)" % (self.returncode, self.stdout,
                                                        self.stderr)


class Runtime:
    """The runtime under test, bound to one state root."""

    def __init__(self, root, log_dir):
        self.root = root
        self.log_dir = log_dir
        self.argv = runtime_argv()
        self.name = runtime_name()
        self.created = []

    def cmd(self, *args, global_args=(), **kw):
        return self.argv + ["--root", self.root] + list(global_args) + list(args)

    def run(self, *args, check=False, timeout=60, input=None, global_args=(),
            cwd=None, pass_fds=(), stdin=None, extra_fds=None):
        """Run the runtime with ARGS and return its exit status and output.

        Output goes through files, not pipes: a detached container inherits
        the runtime's stdout/stderr and would hold pipes open forever.
        EXTRA_FDS {n: fd} hands the runtime FD as its fd N (inheritable)."""
        argv = self.cmd(*args, global_args=global_args)
        if extra_fds:
            # The shell moves each fd to its number, then execs the runtime.
            moves = " ".join("%d<&%d %d<&-" % (n, fd, fd) for n, fd in extra_fds.items())
            argv = ["/bin/bash", "-c", "exec %s; exec \"$@\"" % moves, "bash"] + argv
            pass_fds = tuple(pass_fds) + tuple(extra_fds.values())
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            if input is not None:
                stdin_file = tempfile.TemporaryFile()
                stdin_file.write(input.encode())
                stdin_file.seek(0)
            else:
                stdin_file = stdin if stdin is not None else subprocess.DEVNULL
            p = subprocess.run(argv,
                               stdout=out, stderr=err, stdin=stdin_file,
                               timeout=timeout, cwd=cwd, pass_fds=pass_fds)
            out.seek(0)
            err.seek(0)
            p.stdout = out.read().decode(errors="replace")
            p.stderr = err.read().decode(errors="replace")
        r = Result(p)
        # The ASan/UBSan build reports on stderr; a failing command's report
        # would otherwise pass as its expected error message.
        for mark in SANITIZER_MARKS:
            assert mark not in r.stderr, "sanitizer report: %r" % r
        if check and p.returncode != 0:
            raise AssertionError("%s failed: %r" % (" ".join(args), r))
        return r

    @property
    def binary(self):
        """The runtime's executable file (not a wrapper script)."""
        if self.name == "crun":
            return shutil.which("crun") or "/usr/bin/crun"
        return os.path.realpath(self.argv[0])

    def run_bundle(self, bundle, *extra, **kw):
        """`run` BUNDLE in the foreground (saving its config first): the
        container's output and exit status, and it is gone afterwards."""
        bundle.save()
        cid = self.new_id()
        bundle.id = cid
        return self.run("run", "--bundle", bundle.path, *extra, cid, **kw)

    def create_bundle(self, bundle, *extra, check=True, **kw):
        """`create` BUNDLE; returns the id (the Result when CHECK is false)."""
        bundle.save()
        cid = self.new_id()
        bundle.id = cid
        r = self.run("create", "--bundle", bundle.path, *extra, cid, check=check, **kw)
        return cid if check else r

    def pid(self, cid):
        return self.state(cid)["pid"]

    def new_id(self, prefix="t"):
        cid = "%s-%s" % (prefix, uuid.uuid4().hex[:12])
        self.created.append(cid)
        return cid

    def state(self, cid):
        r = self.run("state", cid)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def status(self, cid):
        st = self.state(cid)
        return st["status"] if st else None

    def wait_status(self, cid, want, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            s = self.status(cid)
            if s == want:
                return s
            time.sleep(0.02)
        return self.status(cid)

    def cleanup(self):
        for cid in self.created:
            self.run("delete", "--force", cid, timeout=30)
            if self.name == "crun":
                remove_empty_cgroups(cid)


def remove_empty_cgroups(name):
    """rmdir the cgroup NAME in every hierarchy, at the root and under this
    process's own cgroup: crun 1.8 run through crun-hybrid.sh leaves the
    directories of deleted containers behind."""
    roots = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4]
            if mp.startswith("/sys/fs/cgroup/") and " - cgroup" in line:
                roots.add(mp)
    with open("/proc/self/cgroup") as f:
        own = [l.rstrip("\n").split(":", 2)[2] for l in f]
    for r in roots:
        for o in set(own) | {"/"}:
            d = os.path.normpath(r + o + "/" + name)
            try:
                os.rmdir(d)
            except OSError:
                pass


@pytest.fixture
def tmp(tmp_path):
    return str(tmp_path)


@pytest.fixture
def _bundle_dirs():
    """Bundle directories made outside tmp_path: checked for leaked mounts
    once every container of the test is gone, then removed."""
    dirs = []
    yield dirs
    for d in dirs:
        if not mounts_under(d):
            shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def runtime(tmp_path, _bundle_dirs):
    require_root()
    root = tmp_path / "state"
    root.mkdir()
    rt = Runtime(str(root), str(tmp_path))
    yield rt
    rt.cleanup()
    leftovers = [e for e in os.listdir(rt.root) if not e.startswith(".")]
    assert leftovers == [], "containers left in the state root: %r" % leftovers
    leaked = mounts_under(str(tmp_path))
    for d in _bundle_dirs:
        leaked += mounts_under(d)
    assert leaked == [], "mounts left on the host: %r" % leaked


@pytest.fixture
def make_bundle(tmp_path, _bundle_dirs):
    """make_bundle(args) -> Bundle with its own copy of the busybox rootfs.

    With traversable=True the bundle lives in a directory every user may
    search (pytest's tmp_path is 0700), for containers whose root is not
    the host's root (user namespaces)."""
    require_root()
    counter = [0]

    def make(args=("true",), traversable=False):
        if "rootfs" not in _ROOTFS_CACHE:
            cache = tempfile.mkdtemp(prefix="polis-rootfs-")
            build_rootfs(os.path.join(cache, "rootfs"))
            _ROOTFS_CACHE["rootfs"] = os.path.join(cache, "rootfs")
        counter[0] += 1
        if traversable:
            base = tempfile.mkdtemp(prefix="polis-bundle-")
            os.chmod(base, 0o711)
            _bundle_dirs.append(base)
            path = os.path.join(base, "bundle")
        else:
            path = str(tmp_path / ("bundle%d" % counter[0]))
        os.mkdir(path)
        if traversable:
            os.chmod(path, 0o711)
        copy_rootfs(_ROOTFS_CACHE["rootfs"], os.path.join(path, "rootfs"))
        return Bundle(path, args)

    yield make


def pytest_sessionfinish(session, exitstatus):
    for p in _ROOTFS_CACHE.values():
        shutil.rmtree(os.path.dirname(p), ignore_errors=True)


def mounts_under(path):
    """Mount points on the host at or below PATH (to check for leaks)."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4]
            if mp == path or mp.startswith(path.rstrip("/") + "/"):
                out.append(mp)
    return out


def parse_mountinfo(text):
    """/proc/self/mountinfo as a list of dicts (mountpoint, opts, optional
    fields, fstype, source, super options), in mount order."""
    out = []
    for line in text.splitlines():
        if " - " not in line:
            continue
        left, right = line.split(" - ", 1)
        f = left.split()
        fstype, source, sup = (right.split() + ["", "", ""])[:3]
        out.append({"mountpoint": f[4].replace("\\040", " "),
                    "root": f[3],
                    "opts": set(f[5].split(",")),
                    "optional": f[6:],
                    "fstype": fstype,
                    "source": source,
                    "super": set(sup.split(","))})
    return out


def mount_at(mounts, mountpoint):
    """The last (visible) mount at MOUNTPOINT in parse_mountinfo output."""
    found = [m for m in mounts if m["mountpoint"] == mountpoint]
    assert found, "nothing mounted at %s: %r" % (
        mountpoint, [m["mountpoint"] for m in mounts])
    return found[-1]


def parse_status(text):
    """/proc/<pid>/status lines as a dict of stripped values."""
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v.strip()
    return out


def wait_for_file(path, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.01)
    return os.path.exists(path)


def cgroup_leftovers(cgroups_path):
    """Directories left for CGROUPS_PATH in any mounted hierarchy."""
    base = "/sys/fs/cgroup"
    dirs = [base] + [os.path.join(base, d) for d in os.listdir(base)]
    return [os.path.join(d, cgroups_path.lstrip("/")) for d in dirs
            if os.path.isdir(os.path.join(d, cgroups_path.lstrip("/")))]


def unique_cgroups_path():
    return "/polis-test-" + uuid.uuid4().hex[:12]
