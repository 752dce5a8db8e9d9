"""polis-shim driven through its socket, as polisd drives it
(docs/internals/engine-contracts.md).  Each test starts real shims on
busybox bundles; the fixture deletes what is left and checks that the
runtime's state root is empty afterwards."""

import json
import os
import signal
import socket
import subprocess
import time

import pytest

from shimlib import alive, demux, joined, wait_until

SEC = 1000000000


def test_output_reaches_log_and_attach_before_start(shims):
    sh = shims.start(["sh", "-c", "echo out; echo err >&2; echo more"], extra=["--no-start"])
    assert sh.ready["pid"] == 0
    assert sh.state()["status"] == "created"
    # docker run's order: attach, wait next-exit, then start.
    att = sh.stream("attach", stdin=False, stdout=True, stderr=True)
    wait = sh.stream("wait", condition="next-exit")
    started = sh.call("start")
    assert started["pid"] > 0
    frames = demux(att.read_all())
    assert joined(frames, 1) == b"out\nmore\n"
    assert joined(frames, 2) == b"err\n"
    assert next(wait.lines()) == {"exit_code": 0, "error": None}
    log = sh.log_entries()
    assert [(e["stream"], e["log"]) for e in log] == [
        ("stdout", "out\n"), ("stderr", "err\n"), ("stdout", "more\n")] or \
        sorted((e["stream"], e["log"]) for e in log) == sorted(
            [("stdout", "out\n"), ("stderr", "err\n"), ("stdout", "more\n")])
    for e in log:
        assert e["time"].endswith("Z")
    # The index has a record for the file's first entry.
    assert os.path.getsize(sh.log_path() + ".idx") == 16


def test_state_files(shims):
    sh = shims.start(["sh", "-c", "exit 3"], extra=["--no-start"])
    wait = sh.stream("wait", condition="next-exit")
    sh.call("start")
    assert next(wait.lines())["exit_code"] == 3
    st = sh.read_json("shim.json")
    assert st["status"] == "exited"
    assert st["exit_code"] == 3
    assert st["pid"] == 0
    assert st["oom_killed"] is False
    assert st["restart_count"] == 0
    assert st["manually_stopped"] is False
    assert st["started_at"] != "0001-01-01T00:00:00Z"
    assert st["finished_at"] >= st["started_at"]
    ex = sh.read_json("exit.json")
    assert ex == {"exit_code": 3, "oom_killed": False, "finished_at": st["finished_at"]}
    assert sh.state() == st
    # not-running on an exited container answers at once.
    wait = sh.stream("wait", condition="not-running")
    assert next(wait.lines())["exit_code"] == 3
    with open(os.path.join(shims.runroot, sh.id, "shim.pid")) as f:
        assert int(f.read()) == sh.shim_pid


def test_wait_registered_before_start_catches_fast_true(shims):
    for _ in range(3):
        sh = shims.start(["true"], extra=["--no-start"])
        wait = sh.stream("wait", condition="next-exit")
        sh.call("start")
        assert next(wait.lines()) == {"exit_code": 0, "error": None}


def test_stdin_half_close(shims):
    sh = shims.start(["sh", "-c", "cat; echo done"],
                     extra=["--no-start", "--stdin", "--stdin-once"])
    att = sh.stream("attach", stdin=True, stdout=True, stderr=True)
    sh.call("start")
    att.send(b"hello\n")
    att.send(b"world\n")
    # Half-close: the container's stdin closes (StdinOnce), its output
    # still arrives on the same connection.
    att.close_write()
    frames = demux(att.read_all())
    assert joined(frames, 1) == b"hello\nworld\ndone\n"
    assert sh.wait_state(lambda s: s["status"] == "exited")["exit_code"] == 0


def test_stdin_stays_open_without_stdin_once(shims):
    sh = shims.start(["sh", "-c", "read a; echo got $a; read b; echo got $b"],
                     extra=["--no-start", "--stdin"])
    a1 = sh.stream("attach", stdin=True, stdout=True, stderr=False)
    sh.call("start")
    a1.send(b"one\n")
    a1.read_until(b"got one\n")
    a1.close_write()  # not StdinOnce: stdin stays open for the next client
    time.sleep(0.2)
    assert sh.state()["status"] == "running"
    a2 = sh.stream("attach", stdin=True, stdout=True, stderr=False)
    a2.send(b"two\n")
    a2.read_until(b"got two\n")
    assert sh.wait_state(lambda s: s["status"] == "exited")["exit_code"] == 0


def test_tty_attach_resize_and_detach_keys(shims):
    sh = shims.start(["sh"], tty=True, extra=["--no-start", "--stdin", "--stdin-once"])
    att = sh.stream("attach", stdin=True, stdout=True, stderr=True)
    wait = sh.stream("wait", condition="next-exit")
    sh.call("start")
    sh.call("resize", height=40, width=100)
    att.send(b"stty size\n")
    att.read_until(b"40 100")
    sh.call("resize", height=24, width=80)
    att.send(b"tty; stty size\n")
    att.read_until(b"24 80")
    # Raw bytes with a TTY: no stdcopy header anywhere.
    att.send(b"echo a-b-c\n")
    assert b"a-b-c" in att.read_until(b"a-b-c\r\n")
    # ctrl-p ctrl-q ends this attach; the container goes on.
    att.send(b"\x10\x11")
    att.read_all()
    assert sh.state()["status"] == "running"
    att2 = sh.stream("attach", stdin=True, stdout=True, stderr=True,
                     detach_keys="ctrl-x")
    att2.send(b"\x10echo still here\n")
    att2.read_until(b"still here")
    att2.send(b"exit 3\n")
    att2.read_all()
    assert next(wait.lines())["exit_code"] == 3


def exec_process(args, tty=False):
    return {"args": list(args), "env": ["PATH=/bin:/usr/bin"], "cwd": "/",
            "user": {"uid": 0, "gid": 0}, "terminal": tty}


def test_exec(shims):
    sh = shims.start(["sleep", "100"])
    ev = sh.stream("events")
    x = sh.stream("exec", exec_id="e1", process=exec_process(
        ["sh", "-c", "echo x; echo y >&2; exit 5"]))
    assert x.reply["pid"] > 0
    frames = demux(x.read_all())
    assert joined(frames, 1) == b"x\n" and joined(frames, 2) == b"y\n"
    rec = wait_until(lambda: (lambda r: r if not r["running"] else None)(
        sh.read_json("execs/e1.json")))
    assert rec == {"exit_code": 5, "pid": x.reply["pid"], "running": False}
    die = next(e for e in ev.lines() if e["action"] == "exec_die")
    assert die["exec_id"] == "e1" and die["exit_code"] == 5

    # stdin with half-close: an exec's stdin always closes on EOF.
    x = sh.stream("exec", exec_id="e2", stdin=True, process=exec_process(["cat"]))
    x.send(b"ping\n")
    x.close_write()
    assert joined(demux(x.read_all()), 1) == b"ping\n"

    # A TTY exec, resized by its id.
    x = sh.stream("exec", exec_id="e3", tty=True, stdin=True, process=exec_process(["sh"]))
    sh.call("resize", exec_id="e3", height=33, width=77)
    x.send(b"stty size; exit 7\n")
    out = x.read_all()
    assert b"33 77" in out
    assert wait_until(lambda: not sh.read_json("execs/e3.json")["running"])
    assert sh.read_json("execs/e3.json")["exit_code"] == 7

    # Detached: the reply, then nothing; the record says when it ended.
    r = sh.call("exec", exec_id="e4", detach=True,
                process=exec_process(["sh", "-c", "sleep 0.2; exit 2"]))
    assert r["pid"] > 0
    assert sh.read_json("execs/e4.json")["running"] is True
    assert wait_until(lambda: not sh.read_json("execs/e4.json")["running"])
    assert sh.read_json("execs/e4.json")["exit_code"] == 2

    # A missing program: Docker's message and 127.
    r = sh.call("exec", check=False, exec_id="e5", process=exec_process(["nope"]))
    assert r["ok"] is False
    assert 'exec: "nope": executable file not found in $PATH' in r["message"]
    assert sh.read_json("execs/e5.json")["exit_code"] == 127
    r = sh.call("exec", check=False, exec_id="../x", process=exec_process(["true"]))
    assert r["ok"] is False and r["code"] == 400


def test_kill_and_stop(shims):
    # As pid 1, sleep ignores SIGTERM: stop must fall back to SIGKILL.
    sh = shims.start(["sleep", "100"])
    t0 = time.time()
    sh.call("stop", timeout=1)
    st = sh.wait_state(lambda s: s["status"] == "exited", timeout=10)
    assert st["exit_code"] == 137
    assert 0.9 <= time.time() - t0 < 5
    assert st["manually_stopped"] is True

    # A process that handles SIGTERM exits at once.
    # (Stopped only once the trap is set: before that, SIGTERM to pid 1 is
    # ignored and the stop would end in SIGKILL.)
    sh = shims.start(["sh", "-c", "trap 'exit 0' TERM; echo trapped; while :; do sleep 0.05; done"])
    wait_until(lambda: any(e.get("log") == "trapped\n" for e in sh.log_entries()))
    t0 = time.time()
    sh.call("stop", timeout=10)
    st = sh.wait_state(lambda s: s["status"] == "exited", timeout=10)
    assert st["exit_code"] == 0
    assert time.time() - t0 < 5

    sh = shims.start(["sleep", "100"])
    sh.call("kill", signal=signal.SIGKILL)
    assert sh.wait_state(lambda s: s["status"] == "exited")["exit_code"] == 137
    r = sh.call("kill", check=False, signal=signal.SIGKILL)
    assert r["ok"] is False and r["code"] == 409


def test_pause_resume(shims):
    sh = shims.start(["sleep", "100"])
    sh.call("pause")
    assert sh.state()["status"] == "paused"
    r = sh.call("exec", check=False, exec_id="p", process=exec_process(["true"]))
    assert r["code"] == 409 and "paused" in r["message"]
    sh.call("resume")
    assert sh.state()["status"] == "running"
    r = sh.call("resume", check=False)
    assert r["code"] == 409


def test_restart_on_failure_counts(shims):
    sh = shims.start(["sh", "-c", "exit 1"], extra=["--no-start", "--restart", "on-failure:3"])
    ev = sh.stream("events")
    sh.call("start")
    dies = restarts = 0
    for e in ev.lines(timeout=15):
        if e["action"] == "die":
            dies += 1
            assert e["exit_code"] == 1
        elif e["action"] == "restart":
            restarts += 1
            assert e["restart_count"] == restarts
        if dies == 4:
            break
    assert restarts == 3
    st = sh.wait_state(lambda s: s["status"] == "exited")
    assert st["restart_count"] == 3
    time.sleep(0.5)
    assert sh.state()["status"] == "exited"


def test_restart_always_and_stop_disables_it(shims):
    sh = shims.start(["sh", "-c", "sleep 0.1"], extra=["--no-start", "--restart", "always"])
    ev = sh.stream("events")
    sh.call("start")
    starts = 0
    for e in ev.lines(timeout=15):
        if e["action"] == "start":
            starts += 1
        if starts == 3:
            break
    # Exit code 0 and still restarted; then a stop ends it for good.
    sh.call("stop", timeout=1)
    st = sh.wait_state(lambda s: s["status"] == "exited", timeout=10)
    assert st["restart_count"] >= 2
    assert st["manually_stopped"] is True
    count = st["restart_count"]
    time.sleep(1.0)
    st = sh.state()
    assert st["status"] == "exited" and st["restart_count"] == count
    # A start by hand: running again, count and back-off reset.
    sh.call("start")
    assert sh.state()["restart_count"] == 0


def test_restart_unless_stopped_after_kill_from_outside(shims):
    sh = shims.start(["sleep", "100"], extra=["--restart", "unless-stopped"])
    pid = sh.ready["pid"]
    ev = sh.stream("events")
    os.kill(pid, signal.SIGKILL)  # behind the shim's back: a crash
    actions = []
    for e in ev.lines(timeout=10):
        actions.append(e["action"])
        if e["action"] == "start":
            break
    assert actions[:3] == ["die", "restart", "start"]
    st = sh.wait_state(lambda s: s["status"] == "running" and s["pid"] != pid)
    assert st["restart_count"] == 1


def test_health_healthy_then_unhealthy(shims, tmp_path):
    health = tmp_path / "health.json"
    health.write_text(json.dumps({
        "Test": ["CMD-SHELL", "test -e /tmp/healthy && echo fine"],
        "Interval": SEC // 10, "Timeout": SEC, "Retries": 2,
        "StartPeriod": 10 * SEC, "StartInterval": SEC // 20}))
    sh = shims.start(["sh", "-c", "touch /tmp/healthy; sleep 1; rm /tmp/healthy; sleep 100"],
                     extra=["--no-start", "--health", str(health)])
    ev = sh.stream("events")
    sh.call("start")
    assert sh.state()["health"]["status"] == "starting"
    seen = []
    for e in ev.lines(timeout=15):
        if e["action"] == "health_status":
            seen.append(e["health"])
        if len(seen) == 2:
            break
    assert seen == ["healthy", "unhealthy"]
    h = sh.state()["health"]
    assert h["status"] == "unhealthy"
    assert h["failing_streak"] >= 2
    assert 1 <= len(h["log"]) <= 5
    assert h["log"][-1]["exit_code"] == 1
    assert any(l["output"] == "fine\n" for l in sh.read_json("shim.json")["health"]["log"]) \
        or h["log"][0]["exit_code"] == 1


def test_health_timeout(shims, tmp_path):
    health = tmp_path / "health.json"
    health.write_text(json.dumps({"Test": ["CMD", "sleep", "10"], "Interval": SEC // 10,
                                  "Timeout": SEC // 5, "Retries": 1}))
    sh = shims.start(["sleep", "100"], extra=["--health", str(health)])
    st = sh.wait_state(lambda s: s["health"]["status"] == "unhealthy", timeout=10)
    last = st["health"]["log"][-1]
    assert last["exit_code"] == -1
    assert last["output"] == "Health check exceeded timeout (200ms)"


def test_shim_survives_its_starter(shims):
    sh = shims.start(["sh", "-c", "i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.05; done"],
                     wrapper=["/bin/sh", "-c", '"$@"; exec sleep 1000', "sh"])
    starter = sh.starter_pid
    assert alive(starter)
    os.kill(starter, signal.SIGKILL)
    os.waitpid(starter, 0)
    n = len(sh.log_entries())
    assert wait_until(lambda: len(sh.log_entries()) > n + 5, timeout=10)
    assert sh.alive()
    # Not the starter's child, and in a session of its own.
    with open("/proc/%d/stat" % sh.shim_pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    assert int(fields[1]) != starter
    assert os.getsid(sh.shim_pid) != os.getsid(0)
    assert sh.state()["status"] == "running"


def test_delete_and_shutdown(shims):
    sh = shims.start(["sleep", "100"])
    r = sh.call("delete", check=False)
    assert r["ok"] is False and r["code"] == 409
    r = sh.call("shutdown", check=False)
    assert r["ok"] is False and r["code"] == 409
    sh.call("delete", force=True)
    assert wait_until(lambda: not sh.alive())
    assert not os.path.exists(sh.socket)
    assert shims.leftovers() == []
    assert sh.read_json("exit.json")["exit_code"] == 137

    sh = shims.start(["true"], extra=["--no-start"])
    sh.call("shutdown")  # created, never started: removed, no exit recorded
    assert wait_until(lambda: not sh.alive())
    assert shims.leftovers() == []
    assert not os.path.exists(os.path.join(sh.dir, "exit.json"))


def test_auto_remove(shims):
    sh = shims.start(["true"], extra=["--no-start", "--auto-remove"])
    wait = sh.stream("wait", condition="next-exit")
    sh.call("start")
    assert next(wait.lines())["exit_code"] == 0
    assert wait_until(lambda: not sh.alive())
    assert shims.leftovers() == []


def test_readiness_error(shims):
    sh = shims.start(["nope"], expect_ok=False)
    assert sh.ready["ok"] is False
    assert sh.ready["message"] == 'exec: "nope": executable file not found in $PATH'
    assert shims.leftovers() == []
    assert not os.path.exists(sh.socket)


def test_tty_must_match_the_config(shims):
    bundle, cfg = shims.bundle(["true"], tty=True)
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(cfg, f)
    sh = shims.start(bundle=bundle, expect_ok=False)
    assert sh.ready == {"ok": False, "message":
                        "config.json: process.terminal is true but --tty was not given"}
    assert shims.leftovers() == []


def test_log_rotation_and_none(shims):
    sh = shims.start(["sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done"],
                     extra=["--no-start", "--log-max-size", "2000", "--log-max-file", "3"])
    wait = sh.stream("wait", condition="next-exit")
    sh.call("start")
    next(wait.lines())
    assert os.path.exists(sh.log_path() + ".1")
    assert os.path.exists(sh.log_path() + ".2")
    assert not os.path.exists(sh.log_path() + ".3")
    assert os.path.exists(sh.log_path() + ".1.idx")
    last = sh.log_entries()[-1]
    assert last["log"] == "line 199\n"

    sh = shims.start(["echo", "hi"], extra=["--no-start", "--log-driver", "none"])
    att = sh.stream("attach", stdout=True, stderr=True)
    sh.call("start")
    assert joined(demux(att.read_all()), 1) == b"hi\n"
    assert not os.path.exists(sh.log_path())


def test_bad_requests(shims):
    sh = shims.start(["sleep", "100"])
    r = sh.call("nope", check=False)
    assert r == {"ok": False, "message": 'unknown op "nope"', "code": 400}
    s = sh.connect()
    s.sendall(b"{not json\n")
    reply = json.loads(s.makefile().readline())
    assert reply["ok"] is False and reply["code"] == 400
    s.close()
    r = sh.call("wait", check=False, condition="removed")
    assert r["ok"] is False
    r = sh.call("update", restart="sometimes", check=False)
    assert r["ok"] is False and "unknown policy" in r["message"]
    sh.call("update", restart="on-failure:2")
    assert sh.state()["restart_policy"] == "on-failure:2"
    # A client that disconnects mid-stream does not disturb the shim.
    att = sh.stream("attach", stdin=True, stdout=True)
    att.close()
    assert sh.state()["status"] == "running"


def test_oom_event_and_state(shims):
    def limit(cfg):
        cfg["linux"]["resources"]["memory"] = {"limit": 16 << 20}
    # busybox tail keeps the current "line" of /dev/zero in memory: it
    # grows until the OOM killer ends it; the shell goes on.
    sh = shims.start(["sh", "-c", "tail /dev/zero; echo survived; sleep 100"], config=limit,
                     extra=["--no-start"])
    ev = sh.stream("events")
    sh.call("start")
    # Reported while the container still runs, not only at its exit.
    e = next(e for e in ev.lines(timeout=30) if e["action"] in ("oom", "die"))
    assert e["action"] == "oom"
    st = sh.state()
    assert st["status"] == "running" and st["oom_killed"] is True
    sh.call("kill", signal=9)
    e = next(e for e in ev.lines(timeout=30) if e["action"] in ("oom", "die"))
    assert e["action"] == "die" and e["oom_killed"] is True
    assert sh.read_json("exit.json")["oom_killed"] is True
