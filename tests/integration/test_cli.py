"""The command line beyond the basic lifecycle: run's exit status and
signal forwarding, kill --all, delete --force, list, state, spec,
features, --log, and the exact command lines containerd's runc shim and
podman's conmon send."""

import json
import os
import signal
import subprocess
import time

import pytest

from conftest import cgroup_leftovers, mounts_under, unique_cgroups_path, wait_for_file


def _gone(pid, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] in "ZX":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def test_run_exit_status_of_signalled_process(runtime, make_bundle):
    # Without a pid namespace the shell is not an init: its own SIGUSR2
    # kills it, and run reports 128+12.
    b = make_bundle(["sh", "-c", "kill -USR2 $$; sleep 5"])
    b.drop_namespace("pid")
    r = runtime.run_bundle(b)
    assert r.returncode == 128 + signal.SIGUSR2, r


def test_run_exit_status_after_kill(runtime, make_bundle, tmp):
    b = make_bundle(["sleep", "30"]).save()
    cid = runtime.new_id()
    with open(os.path.join(tmp, "out"), "w") as out:
        p = subprocess.Popen(runtime.cmd("run", "--bundle", b.path, cid),
                             stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    try:
        assert runtime.wait_status(cid, "running") == "running"
        runtime.run("kill", cid, "KILL", check=True)
        assert p.wait(timeout=20) == 128 + signal.SIGKILL
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert runtime.state(cid) is None


def test_delete_force_during_foreground_run(runtime, make_bundle, tmp):
    b = make_bundle(["sleep", "30"]).save()
    cid = runtime.new_id()
    with open(os.path.join(tmp, "out"), "w") as out:
        p = subprocess.Popen(runtime.cmd("run", "--bundle", b.path, cid),
                             stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    try:
        assert runtime.wait_status(cid, "running") == "running"
        r = runtime.run("delete", "--force", cid)
        # crun 1.8's own `run` may clean up first; its delete then says
        # the directory is gone.
        if runtime.name != "crun":
            assert r.returncode == 0, r
        assert p.wait(timeout=20) == 128 + signal.SIGKILL
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert runtime.state(cid) is None
    assert open(os.path.join(tmp, "out")).read() == ""


def test_run_forwards_signals(runtime, make_bundle, tmp):
    b = make_bundle(["/sbin/polis-test-init", "--wait-signal"]).save()
    cid = runtime.new_id()
    out_path = os.path.join(tmp, "out")
    with open(out_path, "w") as out:
        p = subprocess.Popen(runtime.cmd("run", "--bundle", b.path, cid),
                             stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    try:
        assert runtime.wait_status(cid, "running") == "running"
        for _ in range(250):
            if "ready" in open(out_path).read():
                break
            time.sleep(0.02)
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=20) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert open(out_path).read().split("\n")[:2] == ["ready", "got signal 15"]


def test_kill_all_reaches_every_process(runtime, make_bundle):
    # Without a pid namespace, killing the init leaves its children alive:
    # --all must reach them through the cgroup.
    b = make_bundle(["sh", "-c", "sleep 31 & sleep 32 & echo $! > /tmp/child; wait"])
    b.drop_namespace("pid")
    cid = runtime.new_id()
    b.save()
    runtime.run("run", "-d", "--bundle", b.path, cid, check=True)
    child = os.path.join(b.rootfs, "tmp", "child")
    assert wait_for_file(child)
    time.sleep(0.05)
    child_pid = int(open(child).read())
    init_pid = runtime.pid(cid)
    runtime.run("kill", "--all", cid, "KILL", check=True)
    assert _gone(init_pid)
    assert _gone(child_pid)
    assert runtime.wait_status(cid, "stopped") == "stopped"
    runtime.run("delete", cid, check=True)


def test_relative_paths_are_the_callers(runtime, make_bundle, tmp):
    """--bundle and --pid-file given relative to the caller's directory."""
    b = make_bundle(["sleep", "30"]).save()
    cid = runtime.new_id()
    runtime.run("create", "--bundle", os.path.relpath(b.path, tmp), "--pid-file",
                "init.pid", cid, cwd=tmp, check=True)
    # crun 1.8 takes a relative --pid-file as relative to the bundle.
    pid_dir = b.path if runtime.name == "crun" else tmp
    assert int(open(os.path.join(pid_dir, "init.pid")).read()) == runtime.pid(cid)
    assert runtime.state(cid)["bundle"] == b.path
    runtime.run("delete", "--force", cid, check=True)


def test_kill_created_container(runtime, make_bundle):
    b = make_bundle(["sleep", "30"])
    cid = runtime.create_bundle(b)
    pid = runtime.pid(cid)
    runtime.run("kill", cid, "KILL", check=True)
    assert _gone(pid)
    assert runtime.wait_status(cid, "stopped") == "stopped"
    r = runtime.run("start", cid)
    assert r.returncode != 0
    runtime.run("delete", cid, check=True)
    assert runtime.state(cid) is None


def test_run_keep(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "exit 3"])
    r = runtime.run_bundle(b, "--keep")
    if runtime.name == "crun":
        # crun 1.8 has no run --keep.
        assert r.returncode != 0
        return
    assert r.returncode == 3
    assert runtime.status(b.id) == "stopped"
    runtime.run("delete", b.id, check=True)


def test_delete_force_running(runtime, make_bundle):
    b = make_bundle(["sleep", "30"]).save()
    cid = runtime.new_id()
    runtime.run("run", "-d", "--bundle", b.path, cid, check=True)
    pid = runtime.pid(cid)
    runtime.run("delete", "--force", cid, check=True)
    assert runtime.state(cid) is None
    assert _gone(pid)
    assert mounts_under(b.path) == []


def test_init_killed_from_outside(runtime, make_bundle):
    """The init dies behind the runtime's back (the OOM killer, say): the
    container is stopped, and delete cleans up after it."""
    b = make_bundle(["sleep", "30"])
    b.linux["cgroupsPath"] = cg = unique_cgroups_path()
    b.save()
    cid = runtime.new_id()
    runtime.run("run", "-d", "--bundle", b.path, cid, check=True)
    os.kill(runtime.pid(cid), signal.SIGKILL)
    assert runtime.wait_status(cid, "stopped") == "stopped"
    r = runtime.run("start", cid)
    assert r.returncode != 0
    runtime.run("delete", cid, check=True)
    assert runtime.state(cid) is None
    assert cgroup_leftovers(cg) == []


def test_delete_missing_container(runtime):
    r = runtime.run("delete", "no-such-container")
    assert r.returncode != 0
    assert r.stderr.strip() != ""
    # --force does not mind.
    r = runtime.run("delete", "--force", "no-such-container")
    assert r.returncode == 0, r


def test_start_and_kill_missing_container(runtime):
    for args in (("start", "nope"), ("kill", "nope", "KILL")):
        r = runtime.run(*args)
        assert r.returncode != 0, args
        assert r.stderr.strip() != "", args


def test_kill_stopped_container_fails(runtime, make_bundle):
    b = make_bundle(["true"]).save()
    cid = runtime.new_id()
    runtime.run("run", "-d", "--bundle", b.path, cid, check=True)
    assert runtime.wait_status(cid, "stopped") == "stopped"
    r = runtime.run("kill", cid, "KILL")
    assert r.returncode != 0
    runtime.run("delete", cid, check=True)


def test_state_document(runtime, make_bundle):
    b = make_bundle(["sleep", "30"])
    b.config["annotations"] = {"org.example.key": "value"}
    cid = runtime.create_bundle(b)
    st = runtime.state(cid)
    assert st["ociVersion"].startswith("1.")
    assert (st["id"], st["status"], st["bundle"]) == (cid, "created", b.path)
    assert st["pid"] > 0 and os.path.exists("/proc/%d" % st["pid"])
    assert st["annotations"] == {"org.example.key": "value"}
    runtime.run("start", cid, check=True)
    assert runtime.state(cid)["status"] == "running"
    runtime.run("kill", cid, "KILL", check=True)
    assert runtime.wait_status(cid, "stopped") == "stopped"
    runtime.run("delete", cid, check=True)


def test_list_statuses(runtime, make_bundle):
    created = runtime.create_bundle(make_bundle(["sleep", "30"]))
    stopped = runtime.new_id()
    b = make_bundle(["true"]).save()
    runtime.run("run", "-d", "--bundle", b.path, stopped, check=True)
    assert runtime.wait_status(stopped, "stopped") == "stopped"
    doc = json.loads(runtime.run("list", "--format", "json", check=True).stdout)
    statuses = {c["id"]: c["status"] for c in doc}
    assert statuses == {created: "created", stopped: "stopped"}
    for c in doc:
        assert c["bundle"].startswith(runtime.log_dir)
    table = runtime.run("list", check=True).stdout.splitlines()
    rows = {l.split()[0]: l.split()[2] for l in table[1:]}
    assert rows == statuses
    runtime.run("delete", "--force", created, check=True)
    runtime.run("delete", stopped, check=True)


def _runnable(config, args):
    config["process"]["terminal"] = False
    config["process"]["args"] = args
    return config


def test_spec_writes_a_config_that_runs(runtime, make_bundle):
    b = make_bundle()
    r = runtime.run("spec", cwd=b.path)
    assert r.returncode == 0, r
    with open(os.path.join(b.path, "config.json")) as f:
        b.config = _runnable(json.load(f), ["sh", "-c", "echo from spec; id -u"])
    # A second spec does not overwrite it.
    r = runtime.run("spec", cwd=b.path)
    assert r.returncode != 0
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    assert r.stdout.split() == ["from", "spec", "0"]


def test_spec_rootless_runs(runtime, make_bundle):
    b = make_bundle()
    r = runtime.run("spec", "--rootless", cwd=b.path)
    assert r.returncode == 0, r
    with open(os.path.join(b.path, "config.json")) as f:
        b.config = _runnable(json.load(f), ["cat", "/proc/self/uid_map"])
    assert "user" in b.namespaces()
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    # Our uid (root) is the container's root, and nothing else is mapped.
    assert r.stdout.split() == ["0", str(os.geteuid()), "1"]


def test_features(runtime):
    r = runtime.run("features")
    if runtime.name == "crun":
        # crun 1.8 predates the features command (crun 1.9).
        assert r.returncode != 0
        return
    assert r.returncode == 0, r
    doc = json.loads(r.stdout)
    assert doc["ociVersionMin"].startswith("1.")
    assert doc["ociVersionMax"].startswith("1.")
    assert set(doc["hooks"]) == {"prestart", "createRuntime", "createContainer",
                                 "startContainer", "poststart", "poststop"}
    assert {"ro", "rw", "bind", "rbind", "nosuid", "nodev", "noexec", "rprivate",
            "rslave", "rshared", "relatime", "noatime"} <= set(doc["mountOptions"])
    lnx = doc["linux"]
    assert {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"} <= \
        set(lnx["namespaces"])
    assert {"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_BIND_SERVICE"} <= set(lnx["capabilities"])
    assert isinstance(lnx["cgroup"]["v1"], bool) and isinstance(lnx["cgroup"]["v2"], bool)
    assert isinstance(lnx["seccomp"]["enabled"], bool)
    assert isinstance(doc.get("annotations", {}), dict)


def read_json_log(path):
    with open(path) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    return [json.loads(l) for l in lines]


def test_log_json_on_error(runtime, make_bundle, tmp):
    log = os.path.join(tmp, "runtime.log")
    b = make_bundle(["true"])
    b.config["root"]["path"] = "no-such-rootfs"
    b.save()
    cid = runtime.new_id()
    r = runtime.run("create", "--bundle", b.path, cid,
                    global_args=("--log", log, "--log-format", "json"))
    assert r.returncode != 0
    entries = read_json_log(log)
    errors = [e for e in entries if e.get("level") == "error"]
    assert errors, entries
    assert all(isinstance(e.get("msg"), str) and e["msg"] for e in errors)
    assert any("no-such-rootfs" in e["msg"] for e in errors), errors


def test_containerd_shim_command_lines(runtime, make_bundle, tmp):
    """The argv of containerd's runc shim (go-runc), in order."""
    log = os.path.join(tmp, "log.json")
    g = ("--log", log, "--log-format", "json")
    b = make_bundle(["sh", "-c", "sleep 30 & sleep 30"]).save()
    pidfile = os.path.join(tmp, "init.pid")
    cid = runtime.new_id()

    runtime.run("create", "--bundle", b.path, "--pid-file", pidfile, cid,
                global_args=g, check=True)
    pid = int(open(pidfile).read())
    st = json.loads(runtime.run("state", cid, global_args=g, check=True).stdout)
    assert (st["status"], st["pid"]) == ("created", pid)
    runtime.run("start", cid, global_args=g, check=True)
    assert json.loads(runtime.run("state", cid, global_args=g).stdout)["status"] == "running"
    runtime.run("kill", cid, "9", global_args=g, check=True)
    assert runtime.wait_status(cid, "stopped") == "stopped"
    runtime.run("delete", cid, global_args=g, check=True)
    assert runtime.state(cid) is None

    cid2 = runtime.new_id()
    runtime.run("create", "--bundle", b.path, "--pid-file", pidfile, cid2,
                global_args=g, check=True)
    runtime.run("start", cid2, global_args=g, check=True)
    runtime.run("kill", "--all", cid2, "9", global_args=g, check=True)
    assert runtime.wait_status(cid2, "stopped") == "stopped"
    runtime.run("delete", cid2, global_args=g, check=True)

    cid3 = runtime.new_id()
    runtime.run("create", "--bundle", b.path, "--pid-file", pidfile, cid3,
                global_args=g, check=True)
    runtime.run("start", cid3, global_args=g, check=True)
    runtime.run("delete", "--force", cid3, global_args=g, check=True)
    assert runtime.state(cid3) is None

    # An error, as the shim sees it: exit status and a JSON line in the log.
    r = runtime.run("state", cid3, global_args=g)
    assert r.returncode != 0
    assert any(e.get("level") == "error" for e in read_json_log(log))


def test_conmon_command_lines(runtime, make_bundle, tmp):
    """The argv of podman's conmon: = forms, --no-new-keyring, and
    --console-socket when the process has a terminal."""
    import socket
    log = os.path.join(tmp, "log.json")
    g = ("--log-format=json", "--log=" + log)
    pidfile = os.path.join(tmp, "pidfile")

    b = make_bundle(["sh", "-c", "cat /proc/self/status | grep -c . > /tmp/ok"]).save()
    cid = runtime.new_id()
    runtime.run("create", "--bundle", b.path, "--pid-file", pidfile, "--no-new-keyring",
                cid, global_args=g, check=True)
    assert int(open(pidfile).read()) == runtime.pid(cid)
    runtime.run("start", cid, global_args=g, check=True)
    assert runtime.wait_status(cid, "stopped") == "stopped"
    runtime.run("delete", "--force", cid, global_args=g, check=True)
    assert os.path.exists(os.path.join(b.rootfs, "tmp", "ok"))

    sock_path = os.path.join(tmp, "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    try:
        t = make_bundle(["sh", "-c", "tty"])
        t.process["terminal"] = True
        t.save()
        cid = runtime.new_id()
        runtime.run("create", "--bundle", t.path, "--pid-file", pidfile, "--no-new-keyring",
                    "--console-socket", sock_path, cid, global_args=g, check=True)
        srv.settimeout(5)
        conn, _ = srv.accept()
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
        assert len(fds) == 1
        runtime.run("start", cid, global_args=g, check=True)
        out = b""
        end = time.time() + 10
        while b"/dev/pts/" not in out and time.time() < end:
            try:
                out += os.read(fds[0], 1024)
            except OSError:
                break
        os.close(fds[0])
        assert b"/dev/pts/0" in out
        runtime.run("delete", "--force", cid, global_args=g, check=True)
    finally:
        srv.close()


@pytest.mark.parametrize("flag", ["--version", "-v"])
def test_version(runtime, flag):
    r = runtime.run(flag)
    assert r.returncode == 0, r
    assert "version" in r.stdout.lower()
