"""Helpers for the polis-shim integration tests (see conftest.py).

Each test gets a run root and a state root of its own, and busybox
bundles built with the runtime suite's rootfs builder.  `shims.start()`
runs the real build/polis-shim (POLIS_SHIM overrides the path) as polisd
does, with a pipe on fd 3 for its readiness line, and returns a Shim that
speaks the socket protocol.  Afterwards every shim still alive is
deleted (force), the runtime's state root must be empty, and the shims'
stderr must hold no sanitizer report.
"""

import importlib.util
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BUILD = os.environ.get("POLIS_BUILD", os.path.join(TOP, "build"))

# The runtime suite's conftest holds the rootfs builder and the default
# config; load it under its own name (both files are "conftest").
_spec = importlib.util.spec_from_file_location(
    "polis_integration_common", os.path.join(os.path.dirname(HERE), "conftest.py"))
common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(common)

SANITIZER_MARKS = common.SANITIZER_MARKS


def shim_path():
    return os.environ.get("POLIS_SHIM", os.path.join(BUILD, "polis-shim"))


def new_id():
    return uuid.uuid4().hex + uuid.uuid4().hex


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(fn, timeout=10, step=0.02):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


class Stream:
    """A connection turned into a stream (attach, exec, events, wait)."""

    def __init__(self, sock, reply, rest=b""):
        self.sock = sock
        self.reply = reply
        self.buf = rest

    def recv_some(self, timeout=10):
        self.sock.settimeout(timeout)
        d = self.sock.recv(65536)
        return d

    def read_all(self, timeout=10):
        """Everything until the shim closes the stream."""
        out = self.buf
        self.buf = b""
        end = time.time() + timeout
        while True:
            self.sock.settimeout(max(0.01, end - time.time()))
            d = self.sock.recv(65536)
            if not d:
                return out
            out += d

    def read_until(self, needle, timeout=10):
        end = time.time() + timeout
        while needle not in self.buf:
            self.sock.settimeout(max(0.01, end - time.time()))
            d = self.sock.recv(65536)
            if not d:
                break
            self.buf += d
        i = self.buf.find(needle)
        assert i >= 0, "%r not in %r" % (needle, self.buf)
        out, self.buf = self.buf[:i + len(needle)], self.buf[i + len(needle):]
        return out

    def lines(self, timeout=10):
        """One JSON line at a time (events, wait)."""
        while True:
            while b"\n" not in self.buf:
                self.sock.settimeout(timeout)
                d = self.sock.recv(65536)
                if not d:
                    return
                self.buf += d
            line, self.buf = self.buf.split(b"\n", 1)
            yield json.loads(line)

    def send(self, data):
        self.sock.sendall(data)

    def close_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        self.sock.close()


def demux(data):
    """stdcopy frames -> [(stream, bytes)], checking the headers."""
    out = []
    while data:
        assert len(data) >= 8, data
        st, z1, z2, z3, n = struct.unpack(">BBBBI", data[:8])
        assert st in (1, 2) and (z1, z2, z3) == (0, 0, 0), data[:8]
        out.append((st, data[8:8 + n]))
        assert len(data) >= 8 + n
        data = data[8 + n:]
    return out


def joined(frames, stream):
    return b"".join(d for s, d in frames if s == stream)


class Shim:
    def __init__(self, env, cid, bundle, ready, proc_err):
        self.env = env
        self.id = cid
        self.bundle = bundle
        self.dir = bundle
        self.socket = os.path.join(env.runroot, cid, "shim.sock")
        self.ready = ready
        self.shim_pid = ready.get("shim_pid")
        self.stderr = proc_err

    # -- the protocol ------------------------------------------------------
    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.socket)
        return s

    def _request(self, req):
        s = self.connect()
        s.sendall(json.dumps(req).encode() + b"\n")
        buf = b""
        while b"\n" not in buf:
            d = s.recv(65536)
            if not d:
                raise AssertionError("no reply to %r" % req)
            buf += d
        line, rest = buf.split(b"\n", 1)
        return s, json.loads(line), rest

    def call(self, op, check=True, **fields):
        req = dict(fields, op=op)
        s, reply, rest = self._request(req)
        s.close()
        if check:
            assert reply.get("ok") is True, "%s: %r" % (op, reply)
        return reply

    def stream(self, op, **fields):
        s, reply, rest = self._request(dict(fields, op=op))
        assert reply.get("ok") is True, "%s: %r" % (op, reply)
        return Stream(s, reply, rest)

    def state(self):
        return self.call("state")["state"]

    def wait_state(self, pred, timeout=10):
        return wait_until(lambda: (lambda st: st if pred(st) else None)(self.state()),
                          timeout)

    # -- files ----------------------------------------------------------------
    def read_json(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return json.load(f)

    def log_path(self):
        return os.path.join(self.dir, self.id + "-json.log")

    def log_entries(self):
        try:
            with open(self.log_path()) as f:
                return [json.loads(l) for l in f if l.endswith("\n")]
        except FileNotFoundError:
            return []

    def alive(self):
        return alive(self.shim_pid)


class ShimEnv:
    def __init__(self, tmp):
        self.tmp = tmp
        # Short: socket paths must fit in sun_path.
        self.runroot = tempfile.mkdtemp(prefix="polis-shim-")
        self.runtime_root = os.path.join(self.runroot, "runtime")
        self.shims = []
        self.counter = 0

    def bundle(self, args, tty=False):
        """A bundle directory (config.json + rootfs), also the container's
        directory.  Returns (path, config) to edit before start()."""
        if "rootfs" not in common._ROOTFS_CACHE:
            cache = tempfile.mkdtemp(prefix="polis-rootfs-")
            common.build_rootfs(os.path.join(cache, "rootfs"))
            common._ROOTFS_CACHE["rootfs"] = os.path.join(cache, "rootfs")
        self.counter += 1
        path = os.path.join(self.tmp, "c%d" % self.counter)
        os.mkdir(path)
        common.copy_rootfs(common._ROOTFS_CACHE["rootfs"], os.path.join(path, "rootfs"))
        cfg = common.default_config(args)
        cfg["process"]["terminal"] = tty
        return path, cfg

    def start(self, args=("true",), tty=False, config=None, bundle=None,
              extra=(), expect_ok=True, cid=None, wrapper=None):
        """Run polis-shim as polisd does: fd 3 a pipe for the readiness
        line, stdin and stdout /dev/null, stderr a file.  WRAPPER (argv
        prefix) runs it through a parent process left running, whose pid
        goes in Shim.starter_pid."""
        if bundle is None:
            bundle, cfg = self.bundle(args, tty)
            if config:
                config(cfg)
            with open(os.path.join(bundle, "config.json"), "w") as f:
                json.dump(cfg, f)
        cid = cid or new_id()
        argv = [shim_path(), "--id", cid, "--bundle", bundle, "--dir", bundle,
                "--socket", os.path.join(self.runroot, cid, "shim.sock"),
                "--runtime-root", self.runtime_root]
        if tty:
            argv.append("--tty")
        argv += list(extra)
        if wrapper:
            argv = list(wrapper) + argv
        r, w = os.pipe()
        err = open(os.path.join(self.tmp, "shim-%s.err" % cid[:12]), "ab+")
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
            (os.POSIX_SPAWN_DUP2, w, 3),
        ])
        os.close(w)
        with os.fdopen(r, "rb") as f:
            line = f.readline()
        if wrapper is None:
            os.waitpid(pid, 0)
        assert line, "no readiness line (stderr: %r)" % self.stderr_of(err)
        ready = json.loads(line)
        if expect_ok:
            assert ready["ok"] is True, ready
        sh = Shim(self, cid, bundle, ready, err)
        sh.starter_pid = pid
        if ready.get("ok"):
            self.shims.append(sh)
        return sh

    @staticmethod
    def stderr_of(f):
        f.flush()
        f.seek(0)
        return f.read().decode(errors="replace")

    def cleanup(self):
        for sh in self.shims:
            if sh.alive():
                try:
                    sh.call("delete", check=False, force=True)
                except OSError:
                    pass
                if not wait_until(lambda: not sh.alive(), 10):
                    os.kill(sh.shim_pid, signal.SIGKILL)
        rt = os.path.join(TOP, "build", "polis-runtime")
        if os.path.isdir(self.runtime_root):
            for cid in os.listdir(self.runtime_root):
                if not cid.startswith("."):
                    subprocess.run([rt, "--root", self.runtime_root, "delete", "--force", cid],
                                   capture_output=True)
        for sh in self.shims:
            text = self.stderr_of(sh.stderr)
            sh.stderr.close()
            for mark in SANITIZER_MARKS:
                assert mark not in text, "sanitizer report from the shim: %s" % text

    def leftovers(self):
        if not os.path.isdir(self.runtime_root):
            return []
        return [e for e in os.listdir(self.runtime_root) if not e.startswith(".")]
