"""The docker CLI, v28 (API 1.51) and Debian's 20.10 (API 1.41), against
polisd: each scenario runs with both (the `any_docker` fixture)."""

import json
import os
import pty
import select
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import wait_until


def test_version_and_info(any_docker):
    out = any_docker("version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}").stdout
    assert out.split() == ["1.51", "linux"]
    info = json.loads(any_docker("info", "--format", "{{json .}}").stdout)
    assert info["Images"] == 1 and info["OSType"] == "linux"


def test_run_rm_echo(any_docker):
    r = any_docker("run", "--rm", "busybox", "echo", "hi")
    assert r.stdout == "hi\n"
    assert any_docker("ps", "-aq").stdout == ""


def test_run_exit_code_and_wait(any_docker):
    r = any_docker("run", "--name", "ex", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3",
                   check=False)
    assert r.returncode == 3
    assert r.stdout == "out\n" and r.stderr == "err\n"
    any_docker("run", "-d", "--name", "wt", "busybox", "sh", "-c", "sleep 0.3; exit 7")
    assert any_docker("wait", "wt").stdout.strip() == "7"
    st = any_docker("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "wt").stdout
    assert st.split() == ["exited", "7"]


def test_run_detached_logs_follow_stop(any_docker):
    cid = any_docker("run", "-d", "--name", "ticker", "busybox", "sh", "-c",
                     "trap 'echo bye; exit 0' TERM; i=0; while true; do echo tick $i;"
                     " i=$((i+1)); sleep 0.1; done").stdout.strip()
    assert len(cid) == 64
    p = any_docker.popen("logs", "-f", "ticker", stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline()
    assert first.startswith("tick ")
    time.sleep(0.3)
    any_docker("stop", "ticker")
    out, _ = p.communicate(timeout=20)
    assert p.returncode == 0
    assert out.rstrip("\n").endswith("bye")
    ps = any_docker("ps", "-a", "--format", "{{.Names}} {{.Status}}").stdout
    assert ps.startswith("ticker Exited (0)")
    # logs after the fact: tail, timestamps
    tail = any_docker("logs", "--tail", "2", "ticker").stdout.splitlines()
    assert len(tail) == 2 and tail[-1] == "bye"
    ts = any_docker("logs", "-t", "--tail", "1", "ticker").stdout
    assert ts.split(" ", 1)[0].endswith("Z") and ts.rstrip().endswith("bye")
    # stop of a stopped container is fine (304)
    any_docker("stop", "ticker")


def test_inspect_format(any_docker):
    any_docker("create", "--name", "fmt", "-e", "X=1", "--label", "a=b", "--memory", "64m",
               "--cpus", "1.5", "--pids-limit", "33", "-w", "/tmp", "busybox", "true")
    out = any_docker("inspect", "--format",
                     "{{.Name}} {{.Config.WorkingDir}} {{index .Config.Labels \"a\"}} "
                     "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} "
                     "{{.State.Status}} {{json .Config.Cmd}}", "fmt").stdout.strip()
    assert out == '/fmt /tmp b 67108864 1500000000 33 created ["true"]'


def test_exec_with_a_tty(any_docker):
    any_docker("run", "-d", "--name", "ex", "busybox", "sleep", "60")
    # a non-TTY exec, and its exit code
    assert any_docker("exec", "ex", "echo", "plain").stdout == "plain\n"
    assert any_docker("exec", "ex", "sh", "-c", "exit 5", check=False).returncode == 5
    # exec -it needs a terminal: give the CLI one
    pid, fd = pty.fork()
    if pid == 0:
        env = any_docker.env()
        os.execve(any_docker.binary, [any_docker.binary, "exec", "-it", "ex", "sh", "-c",
                                      "tty; stty size; read x; echo got:$x"], env)
    out = b""
    def read_until(marker, timeout=20):
        nonlocal out
        end = time.time() + timeout
        while marker not in out and time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
        return marker in out
    assert read_until(b"/dev/pts/"), out
    os.write(fd, b"hello\r")
    assert read_until(b"got:hello"), out
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    any_docker("rm", "-f", "ex")


def pty_run(cli, args, script, timeout=20):
    """Run the CLI with ARGS on a pseudo-terminal; SCRIPT is a list of
    (text to wait for, bytes to type or None).  Returns (output, status)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(cli.binary, [cli.binary] + list(args), cli.env())
    out = b""
    try:
        for want, send in script:
            end = time.time() + timeout
            while want.encode() not in out and time.time() < end:
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    try:
                        out += os.read(fd, 4096)
                    except OSError:
                        break
            assert want.encode() in out, out
            if send:
                os.write(fd, send)
        end = time.time() + timeout
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.2)
            if not r:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    break
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        return out, os.WEXITSTATUS(status)
    finally:
        os.close(fd)


def test_run_interactive_tty_and_detach_keys(any_docker):
    out, rc = pty_run(any_docker, ["run", "-it", "--rm", "busybox", "sh", "-c",
                                   "tty; read x; echo got:$x; exit 4"],
                      [("/dev/pts/", None), ("", b"typed\r"), ("got:typed", None)])
    assert rc == 4, out
    # detach with ctrl-p ctrl-q: the container keeps running
    out, rc = pty_run(any_docker, ["run", "-it", "--name", "det", "busybox", "sh"],
                      [("#", b"\x10\x11")])
    assert rc == 0, out
    assert any_docker("inspect", "--format", "{{.State.Running}}", "det").stdout.strip() == "true"


def test_cp_both_ways(any_docker, tmp_path):
    any_docker("run", "-d", "--name", "cp", "busybox", "sleep", "60")
    src = tmp_path / "in.txt"
    src.write_text("payload\n")
    any_docker("cp", str(src), "cp:/tmp/")
    assert any_docker("exec", "cp", "cat", "/tmp/in.txt").stdout == "payload\n"
    any_docker("exec", "cp", "sh", "-c", "mkdir -p /data/sub && echo deep > /data/sub/f")
    any_docker("cp", "cp:/data", str(tmp_path / "out"))
    assert (tmp_path / "out" / "sub" / "f").read_text() == "deep\n"
    any_docker("cp", "cp:/etc/hostname", str(tmp_path / "hn"))
    assert (tmp_path / "hn").read_text().strip() == \
        any_docker("inspect", "--format", "{{.Config.Hostname}}", "cp").stdout.strip()
    r = any_docker("cp", "cp:/nope", str(tmp_path / "x"), check=False)
    # the 404 is rendered by the CLI: v28 prints the daemon's message
    assert r.returncode != 0 and ("Could not find the file /nope" in r.stderr
                                  or "No such container:path: cp:/nope" in r.stderr)


def test_stats_no_stream(any_docker):
    any_docker("run", "-d", "--name", "st", "busybox", "sleep", "60")
    out = any_docker("stats", "--no-stream", "--format",
                     "{{.Name}} {{.PIDs}} {{.MemUsage}}", "st").stdout.split()
    assert out[0] == "st" and out[1] == "1"
    assert out[2].endswith("iB") or out[2].endswith("B")
    # without arguments: every running container (events + list + stats)
    out = any_docker("stats", "--no-stream", "--format", "{{.Name}}").stdout.split()
    assert out == ["st"]


def test_events_while_containers_start_and_stop(any_docker):
    since = str(int(time.time()) - 1)
    any_docker("run", "--name", "e1", "busybox", "true")
    any_docker("rm", "e1")
    until = str(int(time.time()) + 1)
    out = any_docker("events", "--since", since, "--until", until,
                     "--filter", "type=container", "--format",
                     "{{.Action}} {{.Actor.Attributes.name}}").stdout.splitlines()
    acts = [l.split()[0] for l in out if l.endswith(" e1")]
    for a in ("create", "attach", "start", "die", "destroy"):
        assert a in acts, out
    assert acts.index("create") < acts.index("start") < acts.index("die") < acts.index("destroy")


def test_restart_on_failure_counts_three(any_docker):
    any_docker("run", "-d", "--name", "rf", "--restart", "on-failure:3", "busybox",
               "sh", "-c", "exit 1")
    wait_until(lambda: any_docker("inspect", "--format", "{{.State.Status}} {{.RestartCount}}",
                                  "rf").stdout.split() == ["exited", "3"],
               timeout=60, what="three restarts")
    time.sleep(1)
    assert any_docker("inspect", "--format", "{{.RestartCount}}", "rf").stdout.strip() == "3"


def test_health_turns_healthy_then_unhealthy(any_docker):
    any_docker("run", "-d", "--name", "hc", "--health-cmd", "test ! -e /tmp/sick",
               "--health-interval", "200ms", "--health-retries", "2", "busybox",
               "sleep", "120")
    fmt = "{{.State.Health.Status}}"
    wait_until(lambda: any_docker("inspect", "--format", fmt, "hc").stdout.strip() == "healthy",
               timeout=30, what="healthy")
    assert "(healthy)" in any_docker("ps", "--format", "{{.Status}}").stdout
    any_docker("exec", "hc", "touch", "/tmp/sick")
    wait_until(lambda: any_docker("inspect", "--format", fmt, "hc").stdout.strip() == "unhealthy",
               timeout=30, what="unhealthy")
    log = json.loads(any_docker("inspect", "--format", "{{json .State.Health.Log}}",
                                "hc").stdout)
    assert log and log[-1]["ExitCode"] == 1


def test_pause_unpause_kill_rm(any_docker):
    any_docker("run", "-d", "--name", "pk", "busybox", "sleep", "60")
    any_docker("pause", "pk")
    assert "(Paused)" in any_docker("ps", "--format", "{{.Status}}").stdout
    any_docker("unpause", "pk")
    r = any_docker("rm", "pk", check=False)
    assert r.returncode != 0 and "stop the container before removing or force remove" in r.stderr
    any_docker("kill", "pk")
    r = any_docker("kill", "pk", check=False)
    assert r.returncode != 0 and "is not running" in r.stderr
    any_docker("rm", "pk")


def test_top_and_rename_and_restart(any_docker):
    any_docker("run", "-d", "--name", "tp", "busybox", "sleep", "60")
    top = any_docker("top", "tp").stdout.splitlines()
    assert top[0].split()[:2] == ["UID", "PID"] and "sleep 60" in top[1]
    any_docker("rename", "tp", "tp2")
    old = any_docker("inspect", "--format", "{{.State.StartedAt}}", "tp2").stdout
    any_docker("restart", "-t", "1", "tp2")
    assert any_docker("inspect", "--format", "{{.State.StartedAt}}", "tp2").stdout != old
    assert any_docker("inspect", "--format", "{{.State.Running}}", "tp2").stdout.strip() == "true"


def test_bad_input_keeps_the_daemon_serving(any_docker):
    r = any_docker("run", "--rm", "nosuchimage", check=False)
    assert r.returncode == 125
    assert "Unable to find image 'nosuchimage:latest' locally" in r.stderr
    any_docker("create", "--name", "dup", "busybox", "true")
    r = any_docker("create", "--name", "dup", "busybox", "true", check=False)
    assert r.returncode != 0 and 'The container name "/dup" is already in use' in r.stderr
    r = any_docker("start", "nosuch", check=False)
    assert "No such container: nosuch" in r.stderr
    r = any_docker("exec", "dup", "true", check=False)
    assert r.returncode != 0 and "is not running" in r.stderr
    r = any_docker("run", "--rm", "busybox", "nosuchcommand", check=False)
    assert r.returncode == 127, r.stderr
    assert any_docker("version", "--format", "{{.Server.APIVersion}}").stdout.strip() == "1.51"


def test_networking_none_bridge_and_host(any_docker):
    # a namespace of its own with loopback up (--network none)
    out = any_docker("run", "--rm", "--network", "none", "busybox", "ip", "-o",
                     "link").stdout.splitlines()
    assert len(out) == 1 and ": lo:" in out[0] and "UP" in out[0]
    # the default bridge: loopback and eth0
    out = any_docker("run", "--rm", "busybox", "ip", "-o", "link").stdout
    assert ": lo:" in out and ": eth0@" in out
    assert any_docker("run", "--rm", "busybox", "ping", "-c", "1", "-W", "2",
                      "127.0.0.1").returncode == 0
    # or the host's
    host = any_docker("run", "--rm", "--network", "host", "busybox", "ip", "-o", "link").stdout
    assert len(host.splitlines()) > 1
    any_docker("run", "-d", "--name", "sb", "busybox", "sleep", "60")
    key = any_docker("inspect", "--format", "{{.NetworkSettings.SandboxKey}}", "sb").stdout.strip()
    assert "/netns/" in key
