"""process.terminal: the pty master sent over --console-socket with
SCM_RIGHTS, the container's stdio on the slave, consoleSize."""

import errno
import os
import select
import socket
import time

import pytest


class ConsoleSocket:
    """The receiving end of --console-socket, as containerd's and conmon's.

    The runtime connects, sends one message carrying the pty master and
    closes; the connection waits in the backlog until we accept it, so the
    runtime's command can run to completion first."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.master = None

    def receive(self, timeout=5):
        self.sock.settimeout(timeout)
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(timeout)
            msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
        assert len(fds) == 1, (msg, fds)
        self.master = fds[0]
        return msg

    def read_until(self, needle, timeout=10):
        """Read the master until NEEDLE shows up or the slave side closes."""
        buf = b""
        end = time.time() + timeout
        while needle.encode() not in buf and time.time() < end:
            r, _, _ = select.select([self.master], [], [], 0.1)
            if not r:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError as e:
                if e.errno == errno.EIO:  # every slave fd closed
                    break
                raise
            if not chunk:
                break
            buf += chunk
        return buf.decode(errors="replace")

    def close(self):
        if self.master is not None:
            os.close(self.master)
        self.sock.close()


@pytest.fixture
def console(tmp):
    c = ConsoleSocket(os.path.join(tmp, "console.sock"))
    yield c
    c.close()


def test_terminal_through_console_socket(runtime, make_bundle, console):
    b = make_bundle(["sh", "-c", "tty; stty size; [ -t 0 ] && [ -t 1 ] && echo stdio-is-tty; "
                     "stat -c %t /dev/console; read line; echo got:$line"])
    b.process["terminal"] = True
    b.process["consoleSize"] = {"height": 40, "width": 120}
    cid = runtime.create_bundle(b, "--console-socket", console.path)
    console.receive()
    runtime.run("start", cid, check=True)
    os.write(console.master, b"hello\n")
    out = console.read_until("got:hello")
    lines = [l.strip() for l in out.splitlines()]
    assert "/dev/pts/0" in lines
    assert "40 120" in lines
    assert "stdio-is-tty" in lines
    assert "88" in lines  # /dev/console is the pty (major 136)
    assert "got:hello" in lines
    assert runtime.wait_status(cid, "stopped") == "stopped"
    runtime.run("delete", cid, check=True)


def test_terminal_run_detached(runtime, make_bundle, console):
    b = make_bundle(["sh", "-c", "echo session $(cut -d' ' -f6,7 /proc/self/stat) end; "
                     "sleep 30"])
    b.process["terminal"] = True
    b.save()
    cid = runtime.new_id()
    runtime.run("run", "-d", "--bundle", b.path, "--console-socket", console.path, cid,
                check=True)
    console.receive()
    out = console.read_until(" end")
    line = [l for l in out.splitlines() if l.startswith("session")][0].split()
    # The shell is the session leader with the pty as its controlling tty.
    assert int(line[2]) != 0
    assert runtime.status(cid) == "running"
    runtime.run("delete", "--force", cid, check=True)


def test_terminal_in_user_namespace(runtime, make_bundle, console):
    b = make_bundle(["sh", "-c", "tty; id -u; cat /proc/self/uid_map"], traversable=True)
    b.set_userns()
    b.process["terminal"] = True
    cid = runtime.create_bundle(b, "--console-socket", console.path)
    console.receive()
    runtime.run("start", cid, check=True)
    out = console.read_until("65536")
    lines = [l.split() for l in out.splitlines()]
    assert lines[:3] == [["/dev/pts/0"], ["0"], ["0", "100000", "65536"]], out
    runtime.run("delete", "--force", cid, check=True)


def test_terminal_requires_console_socket(runtime, make_bundle):
    b = make_bundle(["true"])
    b.process["terminal"] = True
    r = runtime.create_bundle(b, check=False)
    assert r.returncode != 0
    assert "console" in r.stderr.lower() or "tty" in r.stderr.lower(), r


def test_console_socket_that_does_not_exist(runtime, make_bundle, tmp):
    b = make_bundle(["true"])
    b.process["terminal"] = True
    r = runtime.create_bundle(b, "--console-socket", os.path.join(tmp, "missing.sock"),
                              check=False)
    assert r.returncode != 0
    assert r.stderr.strip() != ""
