"""Fixtures for the polis-image integration tests.

registry: Debian's docker-registry on 127.0.0.1 with a free port, its own
storage, started and stopped by PID.  basic_registry: the same behind
htpasswd basic auth.  proxy: a small HTTP proxy in front of a registry that
can demand bearer tokens (with its own token endpoint, whose tokens may
expire after a few requests), inject faults (corrupt a blob, hang up mid-blob, refuse a
blob once with 401, serve an oversized manifest) and throttle blobs.
Every test gets its own --root.
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client
import http.server

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BUILD = os.environ.get("POLIS_BUILD", os.path.join(TOP, "build"))
sys.path.insert(0, HERE)
import imagelib  # noqa: E402


def polis_image_path():
    return os.environ.get("POLIS_IMAGE", os.path.join(BUILD, "polis-image"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d never opened" % port)


class Registry:
    def __init__(self, workdir, htpasswd=None):
        if shutil.which("docker-registry") is None:
            pytest.skip("docker-registry is not installed")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="reg-", dir=workdir)
        cfg = ["version: 0.1", "log:", "  level: error", "storage:",
               "  filesystem:", "    rootdirectory: %s/data" % self.dir,
               "  delete:", "    enabled: true",
               "http:", "  addr: 127.0.0.1:%d" % self.port]
        if htpasswd:
            cfg += ["auth:", "  htpasswd:", "    realm: basic-realm",
                    "    path: %s" % htpasswd]
        path = os.path.join(self.dir, "config.yml")
        with open(path, "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", path],
                                     stdout=self.log, stderr=self.log)
        wait_port(self.port)
        self.host = "127.0.0.1:%d" % self.port

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Proxy:
    """HTTP proxy to UPSTREAM (host:port) with auth and fault modes."""

    def __init__(self, upstream, bearer=False, token_uses=None):
        self.upstream = upstream
        self.bearer = bearer
        # Requests a token is good for (None: any number): expiry that
        # does not depend on how fast the client is.
        self.token_uses = token_uses
        self.token_delay = 0.0      # the token endpoint's answer takes this long
        self.tokens = {}            # token -> requests it has left (None: any)
        self.expired = 0            # requests refused for an expired token
        self.faults = {}     # digest -> "corrupt" | "hangup" | "hangup-once" | "401-once"
        self.rate = None     # bytes per second for blob bodies (None: at once)
        self.big_manifest = False
        self.requests = []   # (method, path, range)
        self.token_scopes = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _auth_ok(self):
                if not proxy.bearer or self.path == "/token" or self.path.startswith("/token?"):
                    return True
                tok = (self.headers.get("Authorization") or "")[len("Bearer "):]
                if tok not in proxy.tokens:
                    return False
                left = proxy.tokens[tok]
                if left is not None:
                    if left <= 0:
                        proxy.expired += 1
                        return False
                    proxy.tokens[tok] = left - 1
                return True

            def do_GET(self):
                self._handle("GET")

            def do_HEAD(self):
                self._handle("HEAD")

            def do_PUT(self):
                self._handle("PUT")

            def do_POST(self):
                self._handle("POST")

            def do_PATCH(self):
                self._handle("PATCH")

            def _handle(self, method):
                proxy.requests.append((method, self.path, self.headers.get("Range")))
                # Read the body first: a reply that left it unread would
                # corrupt the next request on this connection.
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                if self.path.startswith("/token"):
                    q = self.path.partition("?")[2]
                    proxy.token_scopes.append(q)
                    time.sleep(proxy.token_delay)
                    tok = "tok-" + os.urandom(8).hex()
                    proxy.tokens[tok] = proxy.token_uses
                    body = json.dumps({"token": tok, "expires_in": 300}).encode()
                    return self._reply(200, body, {"Content-Type": "application/json"})
                digest = self.path.rsplit("/", 1)[-1]
                if "/blobs/sha256:" in self.path and proxy.faults.get(digest) == "401-once":
                    del proxy.faults[digest]
                    return self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"token expired"}]}',
                                       {"WWW-Authenticate": self._challenge(),
                                        "Content-Type": "application/json"})
                if not self._auth_ok():
                    return self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                                       {"WWW-Authenticate": self._challenge(),
                                        "Content-Type": "application/json"})
                if proxy.big_manifest and "/manifests/" in self.path and method == "GET":
                    body = b"{" + b" " * (5 << 20) + b"}"
                    return self._reply(200, body, {
                        "Content-Type": "application/vnd.oci.image.manifest.v1+json"})
                conn = http.client.HTTPConnection(proxy.upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "authorization")}
                conn.request(method, self.path, body=data, headers=headers)
                resp = conn.getresponse()
                body = resp.read() if method != "HEAD" else b""
                digest = self.path.rsplit("/", 1)[-1]
                fault = proxy.faults.get(digest) if "/blobs/sha256:" in self.path else None
                hdrs = {k: v for k, v in resp.getheaders()
                        if k.lower() not in ("content-length", "transfer-encoding", "connection")}
                if "Location" in hdrs:
                    hdrs["Location"] = hdrs["Location"].replace(proxy.upstream, "127.0.0.1:%d" % proxy.port)
                if method == "GET" and fault == "corrupt" and resp.status in (200, 206):
                    body = bytes([body[0] ^ 0xff]) + body[1:]
                if method == "GET" and fault in ("hangup", "hangup-once") and resp.status in (200, 206):
                    if fault == "hangup-once":
                        del proxy.faults[digest]
                    self.send_response(resp.status)
                    for k, v in hdrs.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if method == "GET" and proxy.rate and fault is None and resp.status in (200, 206) \
                        and "/blobs/sha256:" in self.path:
                    return self._slow_reply(resp.status, body, hdrs)
                self._reply(resp.status, body, hdrs, head=(method == "HEAD"),
                            length=resp.getheader("Content-Length"))

            def _challenge(self):
                return ('Bearer realm="http://127.0.0.1:%d/token",service="polis-test",'
                        'scope="repository:x:pull"' % proxy.port)

            def _slow_reply(self, status, body, headers):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                step = max(1, int(proxy.rate / 20))
                try:
                    for i in range(0, len(body), step):
                        self.wfile.write(body[i:i + step])
                        self.wfile.flush()
                        time.sleep(0.05)
                except OSError:
                    self.close_connection = True  # the client went away

            def _reply(self, status, body, headers, head=False, length=None):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", length if head and length else str(len(body)))
                self.end_headers()
                # A body after HEAD would be read as the next response.
                if not head and self.command != "HEAD":
                    self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.host = "127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class PolisImage:
    def __init__(self, root):
        self.root = root

    def run(self, *args, check=False, timeout=120, env=None):
        p = subprocess.run([polis_image_path(), "--root", self.root,
                            "--progress", "plain"] + list(args),
                           capture_output=True, text=True, timeout=timeout,
                           env=env)
        if check and p.returncode != 0:
            raise AssertionError("polis-image %s failed: %s %s" % (args, p.stdout, p.stderr))
        return p

    def inspect(self, ref):
        return json.loads(self.run("inspect", ref, check=True).stdout)[0]


@pytest.fixture(scope="session")
def workdir():
    if os.geteuid() != 0:
        pytest.skip("image tests need root (ownership, device nodes, overlay)")
    d = tempfile.mkdtemp(prefix="polis-image-it-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def registry(workdir):
    r = Registry(workdir)
    yield r
    r.stop()


@pytest.fixture(scope="session")
def basic_registry(workdir):
    try:
        import bcrypt  # noqa: F401
    except ImportError:
        bcrypt = None
    htpasswd = os.path.join(workdir, "htpasswd")
    if bcrypt is None:
        if shutil.which("htpasswd") is None:
            pytest.skip("neither python3-bcrypt nor htpasswd is installed")
        subprocess.run(["htpasswd", "-Bbc", htpasswd, "alice", "s3cret"],
                       check=True, capture_output=True)
    else:
        with open(htpasswd, "w") as f:
            f.write("alice:%s\n" % bcrypt.hashpw(b"s3cret", bcrypt.gensalt(4)).decode())
    r = Registry(workdir, htpasswd=htpasswd)
    yield r
    r.stop()


@pytest.fixture(scope="session")
def test_image(workdir, registry):
    """test/busybox:latest: three layers with deletions, hardlinks, symlinks,
    an opaque dir, ownership, a setuid file and an xattr."""
    layout = os.path.join(workdir, "oci-busybox")
    md, config = imagelib.make_image(layout, imagelib.busybox_layers())
    imagelib.skopeo_push(layout, registry.host + "/test/busybox:latest")
    return {"ref": registry.host + "/test/busybox:latest", "layout": layout,
            "config": config, "manifest": md}


@pytest.fixture
def pi(tmp_path):
    return PolisImage(str(tmp_path / "root"))


@pytest.fixture
def proxy_factory():
    made = []

    def make(upstream, bearer=False, token_uses=None):
        p = Proxy(upstream, bearer, token_uses)
        made.append(p)
        return p
    yield make
    for p in made:
        p.stop()
