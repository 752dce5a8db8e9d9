"""The OCI lifecycle through the runtime's command line: create, start,
state, kill, delete, list, run."""

import json
import os
import time

from conftest import mounts_under


def test_run_prints_output_and_exit_status(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "echo hello from the container; exit 7"]).save()
    cid = runtime.new_id()
    r = runtime.run("run", "--bundle", b.path, cid)
    assert r.stdout == "hello from the container\n"
    assert r.returncode == 7
    assert runtime.state(cid) is None  # run deletes the container


def test_create_start_state_delete(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "echo started > /tmp/marker; sleep 30"]).save()
    cid = runtime.new_id()
    pidfile = os.path.join(runtime.log_dir, "pid")
    r = runtime.run("create", "--bundle", b.path, "--pid-file", pidfile, cid)
    assert r.returncode == 0, r
    st = runtime.state(cid)
    assert st["status"] == "created"
    assert st["id"] == cid
    assert st["bundle"] == b.path
    assert st["pid"] > 0
    assert int(open(pidfile).read()) == st["pid"]
    # The user process has not run yet.
    assert not os.path.exists(os.path.join(b.rootfs, "tmp", "marker"))

    runtime.run("start", cid, check=True)
    assert runtime.wait_status(cid, "running") == "running"
    for _ in range(200):
        if os.path.exists(os.path.join(b.rootfs, "tmp", "marker")):
            break
        time.sleep(0.02)
    assert open(os.path.join(b.rootfs, "tmp", "marker")).read() == "started\n"

    r = runtime.run("delete", cid)
    assert r.returncode != 0  # running: needs --force
    runtime.run("kill", cid, "KILL", check=True)
    assert runtime.wait_status(cid, "stopped") == "stopped"
    runtime.run("delete", cid, check=True)
    assert runtime.state(cid) is None
    assert mounts_under(b.rootfs) == []


def test_start_twice_fails(runtime, make_bundle):
    b = make_bundle(["sleep", "30"]).save()
    cid = runtime.new_id()
    runtime.run("create", "--bundle", b.path, cid, check=True)
    runtime.run("start", cid, check=True)
    r = runtime.run("start", cid)
    assert r.returncode != 0
    runtime.run("delete", "--force", cid, check=True)


def test_delete_created_container(runtime, make_bundle):
    b = make_bundle(["sleep", "30"]).save()
    cid = runtime.new_id()
    runtime.run("create", "--bundle", b.path, cid, check=True)
    pid = runtime.state(cid)["pid"]
    runtime.run("delete", cid, check=True)
    assert runtime.state(cid) is None
    # The waiting init is gone too.
    for _ in range(100):
        if not os.path.exists("/proc/%d" % pid) or \
                open("/proc/%d/stat" % pid).read().split(")")[-1].split()[0] == "Z":
            break
        time.sleep(0.02)
    else:
        raise AssertionError("init %d still alive after delete" % pid)


def test_kill_signal_names_and_numbers(runtime, make_bundle):
    b = make_bundle(["/sbin/polis-test-init", "--wait-signal"]).save()
    for sig in ("TERM", "SIGTERM", "15"):
        cid = runtime.new_id()
        runtime.run("run", "--detach", "--bundle", b.path, cid, check=True)
        runtime.run("kill", cid, sig, check=True)
        assert runtime.wait_status(cid, "stopped") == "stopped"
        runtime.run("delete", cid, check=True)


def test_kill_unknown_signal_fails(runtime, make_bundle):
    b = make_bundle(["sleep", "30"]).save()
    cid = runtime.new_id()
    runtime.run("run", "--detach", "--bundle", b.path, cid, check=True)
    r = runtime.run("kill", cid, "NOTASIGNAL")
    # crun 1.8 ignores an unknown signal name and exits 0; runc and polis
    # refuse it.  Either way the container must be left alone.
    if runtime.name != "crun":
        assert r.returncode != 0
        assert "NOTASIGNAL" in r.stderr
    assert runtime.status(cid) == "running"


def test_kill_all(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "sleep 30 & sleep 30 & wait"]).save()
    cid = runtime.new_id()
    runtime.run("run", "-d", "--bundle", b.path, cid, check=True)
    runtime.run("kill", "--all", cid, "KILL", check=True)
    assert runtime.wait_status(cid, "stopped") == "stopped"


def test_list_formats(runtime, make_bundle):
    b = make_bundle(["sleep", "30"]).save()
    ids = [runtime.new_id() for _ in range(2)]
    for cid in ids:
        runtime.run("run", "-d", "--bundle", b.path, cid, check=True)
    r = runtime.run("list", check=True)
    lines = r.stdout.splitlines()
    assert lines[0].split()[1:3] == ["PID", "STATUS"]  # crun says NAME, runc ID
    assert sorted(l.split()[0] for l in lines[1:]) == sorted(ids)
    r = runtime.run("list", "--format", "json", check=True)
    doc = json.loads(r.stdout)
    assert sorted(c["id"] for c in doc) == sorted(ids)
    assert all(c["status"] == "running" for c in doc)
    r = runtime.run("list", "-q", check=True)
    assert sorted(r.stdout.split()) == sorted(ids)


def test_list_empty_root(runtime):
    r = runtime.run("list", "--format", "json", check=True)
    assert json.loads(r.stdout) in ([], None)


def test_duplicate_id_refused(runtime, make_bundle):
    b = make_bundle(["sleep", "30"]).save()
    cid = runtime.new_id()
    runtime.run("create", "--bundle", b.path, cid, check=True)
    r = runtime.run("create", "--bundle", b.path, cid)
    assert r.returncode != 0
    assert "exist" in r.stderr
    assert runtime.status(cid) == "created"


def test_state_of_missing_container(runtime):
    r = runtime.run("state", "no-such-container")
    assert r.returncode != 0
    assert r.stdout == ""
    assert r.stderr.strip() != ""


def test_run_stopped_state_after_exit(runtime, make_bundle):
    b = make_bundle(["true"]).save()
    cid = runtime.new_id()
    runtime.run("run", "--detach", "--bundle", b.path, cid, check=True)
    assert runtime.wait_status(cid, "stopped") == "stopped"
    st = runtime.state(cid)
    assert st["status"] == "stopped"
    runtime.run("delete", cid, check=True)
