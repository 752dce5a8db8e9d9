"""When nobody answers on the socket, polis starts the polisd that sits
beside it (detached, with the same -H and --root) and waits for its
ping.  A small fake polisd stands in for the real one here, so the test
checks exactly the command line and the hand-over."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

from conftest import POLIS

FAKE = r'''#!/usr/bin/python3
import http.server, json, os, socket, socketserver, sys
args = sys.argv[1:]
host = args[args.index("-H") + 1]
path = host[len("unix://"):]
with open(os.path.join(os.path.dirname(path), "fake.json"), "w") as f:
    json.dump({"argv": args, "pid": os.getpid(), "sid": os.getsid(0),
               "stdin": os.readlink("/proc/self/fd/0")}, f)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def _send(self, body, ctype="application/json"):
        self.send_response(200)
        self.send_header("Api-Version", "1.44")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
    def do_HEAD(self): self._send(b"", "text/plain")
    def do_GET(self):
        if self.path == "/_ping": return self._send(b"OK", "text/plain")
        self._send(json.dumps({"Version": "fake", "ApiVersion": "1.44", "path": self.path}).encode())
class S(socketserver.UnixStreamServer):
    def get_request(self):
        r, _ = self.socket.accept()
        return r, ("local", 0)
S(path, H).serve_forever()
'''


def test_polis_starts_polisd_beside_it(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shutil.copy2(POLIS, bindir / "polis")
    (bindir / "polisd").write_text(FAKE)
    (bindir / "polisd").chmod(0o755)
    sock = tmp_path / "run" / "polis.sock"
    sock.parent.mkdir()
    env = dict(os.environ)
    env.pop("POLIS_NO_AUTOSTART", None)
    env.pop("DOCKER_HOST", None)
    # Not the default address: without POLIS_AUTOSTART=1 nothing is started.
    r = subprocess.run([str(bindir / "polis"), "-H", "unix://%s" % sock, "version"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "Cannot connect to the Docker daemon" in r.stderr, r
    assert not (sock.parent / "fake.json").exists()
    env["POLIS_AUTOSTART"] = "1"
    r = subprocess.run([str(bindir / "polis"), "-H", "unix://%s" % sock, "--root", str(tmp_path / "root"),
                        "version", "--format", "{{.Server.Version}} {{.Client.ApiVersion}} {{.Server.path}}"],
                       env=env, capture_output=True, text=True, timeout=60)
    info = json.loads((sock.parent / "fake.json").read_text())
    try:
        assert r.returncode == 0, r
        # negotiated down to the server's 1.44, and the requests carry it
        assert r.stdout == "fake 1.44 /v1.44/version\n", r
        assert info["argv"] == ["-H", "unix://%s" % sock, "--root", str(tmp_path / "root")]
        assert info["sid"] != os.getsid(0)  # a session of its own: detached
        assert info["stdin"] == "/dev/null"
        assert (sock.parent / "polisd.log").exists()
        # A second command finds it running and starts nothing.
        os.unlink(sock.parent / "fake.json")
        r = subprocess.run([str(bindir / "polis"), "-H", "unix://%s" % sock, "version",
                            "--format", "{{.Server.Version}}"], env=env, capture_output=True,
                           text=True, timeout=60)
        assert r.stdout == "fake\n"
        assert not (sock.parent / "fake.json").exists()
    finally:
        os.kill(info["pid"], signal.SIGKILL)


def test_no_polisd_beside_it(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shutil.copy2(POLIS, bindir / "polis")
    env = dict(os.environ)
    env.pop("POLIS_NO_AUTOSTART", None)
    env["POLIS_AUTOSTART"] = "1"
    host = "unix://%s/none.sock" % tmp_path
    r = subprocess.run([str(bindir / "polis"), "-H", host, "ps"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr == "Cannot connect to the Docker daemon at %s. Is the docker daemon running?\n" % host
    r = subprocess.run([str(bindir / "polis"), "-H", "tcp://1.2.3.4:2375", "ps"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "unix://" in r.stderr
