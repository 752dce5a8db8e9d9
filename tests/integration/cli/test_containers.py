"""The container commands of the polis CLI against a real server:
run/create/start/stop/kill/rm/wait, logs, exec, cp, inspect, stats,
events, top, port, update, pause, rename, and exit codes."""

import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import threading
import time

import pytest

from conftest import POLIS, skip_if_missing, wait_for


def test_run_rm_echo(engine):
    r = engine.cli("run", "--rm", "busybox", "echo", "hi")
    assert r.returncode == 0, r
    assert r.stdout == "hi\n"
    # --rm: nothing is left behind.
    assert engine.cli("ps", "-aq").stdout == ""


def test_run_exit_status_is_the_containers(engine):
    r = engine.cli("run", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert r.returncode == 3, r
    assert r.stdout == "out\n"
    assert r.stderr == "err\n"


def test_run_stdin_with_i(engine):
    r = engine.cli("run", "--rm", "-i", "busybox", "sh", "-c", "tr a-z A-Z", input="hello\n")
    assert r.returncode == 0, r
    assert r.stdout == "HELLO\n"


def test_run_detached_logs_follow_stop(engine):
    r = engine.cli("run", "-d", "--name", "ticker", "busybox", "sh", "-c",
                   "echo start; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done")
    assert r.returncode == 0, r
    cid = r.stdout.strip()
    assert len(cid) == 64
    skip_if_missing(engine.cli("logs", "ticker"))
    assert wait_for(lambda: "tick 2" in engine.cli("logs", "ticker").stdout)
    p = subprocess.Popen([POLIS, "logs", "-f", "--tail", "1", "ticker"], env=engine.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("tick "), line
        line2 = p.stdout.readline()
        assert line2.startswith("tick ") and line2 != line
        r = engine.cli("stop", "-t", "1", "ticker")
        assert r.returncode == 0 and r.stdout == "ticker\n", r
        # logs -f ends when the container does.
        p.wait(timeout=20)
        assert p.returncode == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    st = engine.cli("inspect", "--format", "{{.State.Status}} {{.State.Running}}", "ticker")
    assert st.stdout.strip() in ("exited false", "stopped false"), st
    r = engine.cli("logs", "--tail", "2", "ticker")
    assert len(r.stdout.splitlines()) == 2
    r = engine.cli("logs", "-t", "--tail", "1", "ticker")
    assert r.stdout[:4].isdigit() and "T" in r.stdout.split()[0], r.stdout


def test_create_start_attach_wait(engine):
    r = engine.cli("create", "--name", "c1", "busybox", "sh", "-c", "sleep 0.5; echo done; exit 7")
    assert r.returncode == 0, r
    assert engine.cli("inspect", "-f", "{{.State.Status}}", "c1").stdout.strip() in ("created", "configured")
    r = engine.cli("start", "-a", "c1")
    assert r.stdout == "done\n"
    assert r.returncode == 7
    r = engine.cli("wait", "c1")
    assert r.stdout == "7\n"
    r = engine.cli("start", "c1")
    assert r.stdout == "c1\n"
    r = engine.cli("wait", "c1")
    assert r.stdout == "7\n" and r.returncode == 0


def _pty_run(argv, env, inp=b"", timeout=30):
    """Run ARGV on a new pty; type INP; return (status, output)."""
    pid, fd = pty.fork()
    if pid == 0:
        # A terminal of 24x80, as a real one has (a new pty is 0x0).
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.execve(argv[0], argv, env)
    out = b""
    sent = False
    end = time.time() + timeout
    status = None
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            out += chunk
        if not sent and inp and time.time() > end - timeout + 1.0:
            os.write(fd, inp)
            sent = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_run_it_has_a_terminal(engine):
    # Not --rm: podman 4.3 reports 0 for a "removed" wait.
    status, out = _pty_run([POLIS, "run", "-it", "busybox", "sh", "-c",
                            "tty; stty size; exit 5"], engine.env)
    assert status == 5, out
    assert "/dev/pts/" in out
    if engine.name != "podman":  # podman 4.3 applies the console size late
        assert "24 80" in out, out


def test_run_it_interactive_shell(engine):
    status, out = _pty_run([POLIS, "run", "-it", "busybox", "sh"], engine.env,
                           inp=b"echo $((6*7))\rexit 3\r")
    assert "42" in out, out
    assert status == 3


def test_exec(engine):
    engine.cli("run", "-d", "--name", "x1", "busybox", "sleep", "300", check=True)
    r = engine.cli("exec", "x1", "sh", "-c", "echo in exec; exit 4")
    assert r.stdout == "in exec\n" and r.returncode == 4
    r = engine.cli("exec", "-e", "A=b", "-w", "/tmp", "-u", "nobody", "x1", "sh", "-c",
                   "echo $A $(pwd) $(id -u)")
    assert r.stdout == "b /tmp 65534\n", r
    r = engine.cli("exec", "-i", "x1", "cat", input="piped\n")
    assert r.stdout == "piped\n"
    r = engine.cli("exec", "-d", "x1", "sh", "-c", "echo bg > /tmp/bg")
    assert r.returncode == 0 and r.stdout == ""
    assert wait_for(lambda: engine.cli("exec", "x1", "cat", "/tmp/bg").stdout == "bg\n")
    status, out = _pty_run([POLIS, "exec", "-it", "x1", "sh", "-c", "tty; exit 6"], engine.env)
    assert status == 6 and "/dev/pts/" in out, out
    r = engine.cli("exec", "nonexist", "true")
    assert r.returncode == 1
    assert "No such container: nonexist" in r.stderr or "no such container" in r.stderr


def test_cp_both_ways(engine, tmp_path):
    engine.cli("run", "-d", "--name", "cp1", "busybox", "sleep", "300", check=True)
    src = tmp_path / "hello.txt"
    src.write_text("hello from the host\n")
    r = engine.cli("cp", str(src), "cp1:/tmp/")
    assert r.returncode == 0, r
    assert engine.cli("exec", "cp1", "cat", "/tmp/hello.txt").stdout == "hello from the host\n"
    r = engine.cli("cp", str(src), "cp1:/tmp/renamed.txt")
    assert r.returncode == 0, r
    assert engine.cli("exec", "cp1", "cat", "/tmp/renamed.txt").stdout == "hello from the host\n"
    engine.cli("exec", "cp1", "sh", "-c", "mkdir -p /d/sub && echo deep > /d/sub/f", check=True)
    out = tmp_path / "out"
    out.mkdir()
    r = engine.cli("cp", "cp1:/d", str(out))
    assert r.returncode == 0, r
    assert (out / "d" / "sub" / "f").read_text() == "deep\n"
    r = engine.cli("cp", "cp1:/tmp/renamed.txt", str(out / "new.txt"))
    assert r.returncode == 0, r
    assert (out / "new.txt").read_text() == "hello from the host\n"
    r = engine.cli("cp", "cp1:/etc/passwd", "-")
    assert r.returncode == 0 and "passwd" in r.stdout  # a tar stream
    r = engine.cli("cp", "cp1:/nonexistent", str(out))
    assert r.returncode == 1 and "Error" in r.stderr


def test_inspect_format(engine):
    engine.cli("run", "-d", "--name", "i1", "-e", "FOO=bar", "-l", "tier=web",
               "busybox", "sleep", "300", check=True)
    r = engine.cli("inspect", "--format",
                   '{{.State.Status}}|{{.Name}}|{{index .Config.Labels "tier"}}|'
                   '{{json .Config.Labels}}|{{range .Config.Env}}{{if eq . "FOO=bar"}}found{{end}}{{end}}',
                   "i1")
    assert r.stdout == 'running|/i1|web|{"tier":"web"}|found\n', r
    r = engine.cli("inspect", "-f", "{{.Config.Cmd}} {{len .Config.Cmd}}", "i1")
    assert r.stdout == "[sleep 300] 2\n"
    doc = json.loads(engine.cli("inspect", "i1").stdout)
    assert isinstance(doc, list) and doc[0]["Name"] == "/i1"
    r = engine.cli("container", "inspect", "-f", "{{.Id}}", "i1")
    assert len(r.stdout.strip()) == 64
    r = engine.cli("inspect", "nonexist")
    assert r.returncode == 1 and "Error: No such object: nonexist" in r.stderr
    assert r.stdout == "[]\n"
    r = engine.cli("inspect", "-f", "{{.Image}}", "busybox")  # an image
    assert r.returncode == 0 and r.stdout.startswith("sha256:") or r.stdout.strip(), r


def test_wait_exit_code(engine):
    engine.cli("run", "-d", "--name", "w1", "busybox", "sh", "-c", "sleep 0.3; exit 42", check=True)
    r = engine.cli("wait", "w1")
    assert r.stdout == "42\n" and r.returncode == 0
    r = engine.cli("wait", "nonexist")
    assert r.returncode == 1 and "Error response from daemon" in r.stderr


def test_kill_pause_unpause_restart_rename(engine):
    engine.cli("run", "-d", "--name", "k1", "busybox", "sleep", "300", check=True)
    assert engine.cli("pause", "k1").stdout == "k1\n"
    assert engine.cli("inspect", "-f", "{{.State.Status}}", "k1").stdout == "paused\n"
    assert engine.cli("unpause", "k1").stdout == "k1\n"
    assert engine.cli("inspect", "-f", "{{.State.Status}}", "k1").stdout == "running\n"
    r = engine.cli("rename", "k1", "k2")
    assert r.returncode == 0 and r.stdout == ""
    assert engine.cli("inspect", "-f", "{{.Name}}", "k2").stdout == "/k2\n"
    pid1 = engine.cli("inspect", "-f", "{{.State.Pid}}", "k2").stdout
    assert engine.cli("restart", "-t", "1", "k2").stdout == "k2\n"
    pid2 = engine.cli("inspect", "-f", "{{.State.Pid}}", "k2").stdout
    assert pid1 != pid2
    assert engine.cli("kill", "-s", "KILL", "k2").stdout == "k2\n"
    assert wait_for(lambda: engine.cli("inspect", "-f", "{{.State.Running}}", "k2").stdout == "false\n")
    assert engine.cli("inspect", "-f", "{{.State.ExitCode}}", "k2").stdout == "137\n"
    r = engine.cli("rm", "k2", "nonexist")
    assert r.returncode == 1 and r.stdout == "k2\n"
    assert "nonexist" in r.stderr


def test_rm_running_needs_force(engine):
    engine.cli("run", "-d", "--name", "r1", "busybox", "sleep", "300", check=True)
    r = engine.cli("rm", "r1")
    assert r.returncode == 1 and "Error response from daemon" in r.stderr
    r = engine.cli("rm", "-f", "r1")
    assert r.returncode == 0 and r.stdout == "r1\n"


def test_top_port_update(engine):
    r = engine.cli("run", "-d", "--name", "t1", "-p", "127.0.0.1:18080:80", "-p", "18081:81/udp",
                   "busybox", "sleep", "300", check=True)
    r = engine.cli("top", "t1")
    assert r.returncode == 0 and "PID" in r.stdout.splitlines()[0] and "sleep 300" in r.stdout
    r = engine.cli("port", "t1")
    assert "80/tcp -> 127.0.0.1:18080" in r.stdout, r
    assert "81/udp -> " in r.stdout and ":18081" in r.stdout
    r = engine.cli("port", "t1", "80")
    assert r.stdout == "127.0.0.1:18080\n"
    r = engine.cli("ps", "--format", "{{.Ports}}", "--filter", "name=t1")
    assert "127.0.0.1:18080->80/tcp" in r.stdout, r
    r = engine.cli("update", "--memory", "64m", "--cpus", "0.5", "t1")
    if engine.name == "podman":  # podman 4.3 has no /containers/{id}/update
        assert r.returncode == 1 and r.stderr.startswith("Error response from daemon: ")
        return
    skip_if_missing(r)
    assert r.returncode == 0 and r.stdout == "t1\n", r
    r = engine.cli("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}", "t1")
    assert r.stdout == "67108864 500000000\n", r


def test_stats_no_stream(engine):
    engine.cli("run", "-d", "--name", "s1", "busybox", "sleep", "300", check=True)
    r = engine.cli("stats", "--no-stream")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["CONTAINER", "ID", "NAME", "CPU", "%", "MEM", "USAGE", "/",
                                "LIMIT", "MEM", "%", "NET", "I/O", "BLOCK", "I/O", "PIDS"]
    assert any(" s1 " in l for l in lines[1:]), r.stdout
    r = engine.cli("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "s1")
    assert r.stdout == "s1 1\n", r
    r = engine.cli("stats", "--no-stream", "nonexist", "s1")
    assert r.returncode == 1 and "nonexist" in r.stderr
    # Streaming: a table a second until interrupted.
    p = subprocess.Popen([POLIS, "stats", "--format", "{{.Name}}"], env=engine.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3.5)
    p.terminate()
    out, _ = p.communicate(timeout=10)
    assert out.count("s1\n") >= 2, out


def test_events_while_containers_start_and_stop(engine):
    p = subprocess.Popen([POLIS, "events", "--filter", "type=container",
                          "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"],
                         env=engine.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    t = threading.Thread(target=lambda: [lines.append(l) for l in p.stdout])
    t.start()
    try:
        time.sleep(1)
        engine.cli("run", "--name", "ev1", "busybox", "true", check=True)
        engine.cli("rm", "ev1", check=True)
        assert wait_for(lambda: any(l.startswith("container destroy ev1") or
                                    l.startswith("container remove ev1") for l in lines))
    finally:
        p.terminate()
        p.wait()
        t.join()
    actions = [l.split()[1] for l in lines if l.endswith(" ev1\n")]
    for a in ("create", "start", "die"):
        assert a in actions, lines


def test_events_default_format(engine):
    since = str(int(time.time()) - 1)
    engine.cli("run", "--name", "ev2", "busybox", "true", check=True)
    until = str(int(time.time()) + 1)
    r = engine.cli("events", "--since", since, "--until", until, "--filter", "container=ev2",
                   timeout=30)
    assert r.returncode == 0, r
    start = [l for l in r.stdout.splitlines() if " container start " in l]
    assert start, r.stdout
    # 2006-01-02T15:04:05.000000000Z07:00 container start <id> (k=v, ...)
    ts, typ, action, cid = start[0].split()[:4]
    assert ts[10] == "T" and len(cid) == 64 and "name=ev2" in start[0]


def test_exit_codes(engine):
    # Usage errors: 125.
    r = engine.cli("run", "--no-such-flag", "busybox")
    assert r.returncode == 125 and "unknown flag: --no-such-flag" in r.stderr
    # A daemon error in run: 125, with docker's wording.
    r = engine.cli("run", "--rm", "--name", "bad", "--restart", "sometimes", "busybox", "true")
    assert r.returncode == 125, r
    # The command cannot be found: 127; cannot be run: 126.  (podman 4.3
    # fails these at attach, before the start, so its answer is 125.)
    r = engine.cli("run", "--rm", "busybox", "/no/such/binary")
    assert "no such file or directory" in r.stderr.lower() or "not found" in r.stderr.lower()
    assert r.returncode == (125 if engine.name == "podman" else 127), r
    r = engine.cli("run", "--rm", "busybox", "/etc/passwd")
    assert "permission denied" in r.stderr.lower(), r
    assert r.returncode == (125 if engine.name == "podman" else 126), r
    r = engine.cli("run", "--rm", "busybox", "/tmp")
    assert r.returncode == (125 if engine.name == "podman" else 126), r


def test_no_such_container_wording(engine):
    for cmd in (["stop", "nope"], ["kill", "nope"], ["logs", "nope"], ["start", "nope"]):
        r = engine.cli(*cmd)
        assert r.returncode == 1
        assert r.stderr.startswith("Error response from daemon: "), r
        assert "nope" in r.stderr


def test_unable_to_find_image_then_pull(engine):
    r = engine.cli("run", "--rm", "localhost:1/missing:tag", "true")
    assert r.returncode == 125
    assert "Unable to find image 'localhost:1/missing:tag' locally" in r.stderr


def test_run_flags_reach_the_container(engine, tmp_path):
    envf = tmp_path / "env"
    envf.write_text("# a comment\nFROMFILE=yes\n")
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "f").write_text("bound\n")
    # podman 4.3 on Debian lacks catatonit, its --init.
    init = [] if engine.name == "podman" else ["--init"]
    r = engine.cli("run", "--rm", "-e", "A=1", "--env-file", str(envf), "-w", "/tmp",
                   "-u", "65534", "-v", "%s:/mnt:ro" % vol, "--entrypoint", "sh",
                   "-l", "x=y", "--read-only", "--cap-drop", "ALL", *init,
                   "-m", "64m", "--cpus", "1",
                   "busybox", "-c", "echo $A $FROMFILE $(pwd) $(id -u) $(cat /mnt/f); touch /x 2>/dev/null || echo ro")
    assert r.returncode == 0, r
    assert r.stdout == "1 yes /tmp 65534 bound\nro\n", r


def test_restart_and_health_flags(engine):
    engine.cli("run", "-d", "--name", "h1", "--restart", "on-failure:3",
               "--health-cmd", "true", "--health-interval", "1s", "--health-retries", "2",
               "--log-opt", "max-size=1m", "busybox", "sleep", "300", check=True)
    r = engine.cli("inspect", "-f",
                   "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}} "
                   "{{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}} "
                   "{{.Config.Healthcheck.Retries}}", "h1")
    assert r.stdout == 'on-failure 3 ["CMD-SHELL","true"] 1000000000 2\n', r


def test_run_forwards_signals(engine):
    p = subprocess.Popen([POLIS, "run", "--name", "sig1", "busybox", "sh", "-c",
                          "trap 'echo got TERM; exit 9' TERM; echo ready; "
                          "while true; do sleep 0.1; done"],
                         env=engine.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        p.send_signal(15)
        out, err = p.communicate(timeout=30)
        assert out == "got TERM\n", (out, err)
        assert p.returncode == 9
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_attach_to_running_container(engine):
    engine.cli("run", "-d", "-i", "--name", "att1", "busybox", "sh", "-c",
               "read line; echo got $line; exit 3", check=True)
    r = engine.cli("attach", "att1", input="hello\n", timeout=30)
    assert r.stdout == "got hello\n", r
    assert r.returncode == 3
    r = engine.cli("attach", "att1")
    assert r.returncode == 1
    assert "You cannot attach to a stopped container, start it first" in r.stderr


def test_window_size_follows_the_terminal(engine):
    if engine.name == "podman":
        pytest.skip("podman 4.3 applies the console size after the process starts")
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(POLIS, [POLIS, "run", "--rm", "-it", "busybox", "sh", "-c",
                          "stty size; sleep 2; stty size"], engine.env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    out = b""
    resized = False
    end = time.time() + 30
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if not resized and b"30 100" in out:
                fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
                os.kill(pid, signal.SIGWINCH)
                resized = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = out.decode(errors="replace")
    assert "30 100" in text and "40 120" in text, text


def test_detach_with_ctrl_p_ctrl_q(engine):
    status, out = _pty_run([POLIS, "run", "-it", "--name", "det1", "busybox", "sh"], engine.env,
                           inp=b"\x10\x11")
    assert status == 0, out
    assert engine.cli("inspect", "-f", "{{.State.Running}}", "det1").stdout == "true\n"
    status, out = _pty_run([POLIS, "run", "-it", "--detach-keys", "ctrl-a,x", "--name", "det2",
                            "busybox", "sh"], engine.env, inp=b"\x01x")
    assert status == 0, out
    assert engine.cli("inspect", "-f", "{{.State.Running}}", "det2").stdout == "true\n"
