"""hooks: the six kinds, when they run and in which namespaces, the state
on their stdin, their args, env and timeout."""

import json
import os
import sys
import time

from conftest import cgroup_leftovers, unique_cgroups_path

# A hook run on the host: records what it was given and where it ran.
RECORDER = r"""
import json, os, sys
name, outdir = sys.argv[1], sys.argv[2]
state = json.load(sys.stdin)
ns = {n: os.readlink("/proc/self/ns/" + n) for n in ("mnt", "net", "pid")}
with open("/proc/self/cmdline", "rb") as f:
    cmdline = f.read().split(b"\0")[:-1]
rec = {"state": state, "argv": [a.decode() for a in cmdline], "env": dict(os.environ),
       "ns": ns, "pid": os.getpid()}
with open(os.path.join(outdir, name + ".json"), "w") as f:
    json.dump(rec, f)
with open(os.path.join(outdir, "order"), "a") as f:
    f.write(name + "\n")
"""
PYTHON = sys.executable if sys.executable.startswith("/usr/") else "/usr/bin/python3"
HOST_HOOKS = ("prestart", "createRuntime", "createContainer", "poststart", "poststop")


def add_recorder(bundle, kind, outdir, extra_args=(), env=("PATH=/usr/bin:/bin",), **kw):
    return bundle.add_hook(kind, PYTHON,
                           ["python3", "-c", RECORDER, kind, outdir] + list(extra_args),
                           env=list(env), **kw)


def records(outdir):
    res = {}
    for name in HOST_HOOKS:
        p = os.path.join(outdir, name + ".json")
        if os.path.exists(p):
            with open(p) as f:
                res[name] = json.load(f)
    return res


def order(outdir):
    p = os.path.join(outdir, "order")
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return f.read().split()


def ns_of(pid):
    return {n: os.readlink("/proc/%d/ns/%s" % (pid, n)) for n in ("mnt", "net", "pid")}


def assert_in_runtime_ns(runtime, rec, host, container):
    assert rec["ns"]["net"] == host["net"]
    assert rec["ns"]["mnt"] != container["mnt"]
    # crun-hybrid.sh runs crun in a mount namespace of its own.
    if runtime.name != "crun":
        assert rec["ns"]["mnt"] == host["mnt"]


def test_all_hooks_order_state_and_namespaces(runtime, make_bundle, tmp):
    out = os.path.join(tmp, "hooks")
    os.mkdir(out)
    b = make_bundle(["sh", "-c", "echo ran > /tmp/process"])
    for kind in HOST_HOOKS:
        add_recorder(b, kind, out)
    # startContainer runs in the container: its path is the container's.
    b.add_hook("startContainer", "/bin/sh",
               ["sh", "-c", "cat > /tmp/startContainer.json; "
                "readlink /proc/self/ns/mnt > /tmp/startContainer.mnt; "
                "test -e /tmp/process || echo before > /tmp/startContainer.when"])
    host = ns_of(os.getpid())

    cid = runtime.create_bundle(b)
    pid = runtime.pid(cid)
    container = ns_of(pid)
    expected = ["prestart", "createRuntime", "createContainer"]
    if runtime.name == "runc":
        # runc 1.1 runs poststart hooks at the end of create, before the
        # user process runs (fixed in runc 1.2).
        expected.append("poststart")
    assert order(out) == expected
    rec = records(out)
    for kind in ("prestart", "createRuntime", "createContainer"):
        st = rec[kind]["state"]
        assert st["id"] == cid, kind
        assert st["bundle"] == b.path, kind
        # In the runtime's namespaces, the pid as the runtime sees it; in the
        # container's, as the container sees it (crun 1.8 passes 0).
        if kind != "createContainer":
            assert st["pid"] == pid, kind
        elif runtime.name != "crun":
            assert st["pid"] == 1, kind
        # crun 1.8 says "created" while it is still creating.
        assert st["status"] == ("created" if runtime.name == "crun" else "creating"), kind
        assert "ociVersion" in st, kind
    # prestart and createRuntime: the runtime's namespaces, with the
    # container's already there to be set up (its network, say).
    assert container["net"] != host["net"]
    for kind in ("prestart", "createRuntime"):
        assert_in_runtime_ns(runtime, rec[kind], host, container)
    # createContainer: inside the container's namespaces.
    assert rec["createContainer"]["ns"]["mnt"] == container["mnt"]
    assert rec["createContainer"]["ns"]["net"] == container["net"]
    assert rec["createContainer"]["ns"]["pid"] == container["pid"]
    assert not os.path.exists(os.path.join(b.rootfs, "tmp", "startContainer.json"))

    runtime.run("start", cid, check=True)
    # poststart has run by the time start returns.
    assert order(out) == ["prestart", "createRuntime", "createContainer", "poststart"]
    st = records(out)["poststart"]["state"]
    assert (st["id"], st["pid"]) == (cid, pid)
    if runtime.name != "runc":  # "created" in runc 1.1 (see above)
        assert st["status"] == "running"
    assert_in_runtime_ns(runtime, records(out)["poststart"], host, container)
    assert runtime.wait_status(cid, "stopped") == "stopped"
    tmpdir = os.path.join(b.rootfs, "tmp")
    with open(os.path.join(tmpdir, "startContainer.json")) as f:
        st = json.load(f)
    assert st["id"] == cid
    if runtime.name != "crun":  # crun 1.8 says bundle "/" and pid 0 here
        assert st["bundle"] == b.path
        assert st["pid"] == 1
        assert st["status"] == "created"
    with open(os.path.join(tmpdir, "startContainer.mnt")) as f:
        assert f.read().strip() == container["mnt"]
    with open(os.path.join(tmpdir, "startContainer.when")) as f:
        assert f.read() == "before\n"  # before the user process

    runtime.run("delete", cid, check=True)
    assert order(out)[-1] == "poststop"
    st = records(out)["poststop"]["state"]
    assert (st["id"], st["bundle"], st["status"]) == (cid, b.path, "stopped")
    assert_in_runtime_ns(runtime, records(out)["poststop"], host, container)


COMM_RECORDER = r"""
import json, sys
st = json.load(sys.stdin)
with open("/proc/%d/comm" % st["pid"]) as f, open(sys.argv[1], "w") as out:
    out.write(f.read())
"""


def test_poststart_runs_after_the_process_starts(runtime, make_bundle, tmp):
    """poststart: after the user's program is executed, before start
    returns, even when the init takes its time to get there."""
    b = make_bundle(["sleep", "30"])
    b.add_hook("startContainer", "/bin/sleep", ["sleep", "0.3"])
    comm = os.path.join(tmp, "comm")
    b.add_hook("poststart", PYTHON, ["python3", "-c", COMM_RECORDER, comm])
    cid = runtime.create_bundle(b)
    runtime.run("start", cid, check=True)
    assert runtime.status(cid) == "running"
    with open(comm) as f:
        seen = f.read().strip()
    runtime.run("delete", "--force", cid, check=True)
    if runtime.name in ("runc", "crun"):
        # runc 1.1 runs poststart hooks during create; crun 1.8 runs them
        # as soon as it has told the init to go, while the startContainer
        # hook still runs: both see their own init.
        return
    assert seen == "sleep"


def _state_hook(runtime, cid, out):
    """A hook that asks the runtime for the container's state."""
    cmd = "%s --root %s state %s > %s 2>&1" % (" ".join(runtime.argv), runtime.root, cid, out)
    return ["sh", "-c", cmd]


def test_hooks_may_ask_for_the_state(runtime, make_bundle, tmp):
    """A hook may run the runtime itself: start and delete must not hold
    the container's lock while it runs (a deadlock until the hook's
    timeout, or forever without one)."""
    b = make_bundle(["sleep", "30"]).save()
    cid = runtime.new_id()
    started, stopped = os.path.join(tmp, "poststart"), os.path.join(tmp, "poststop")
    b.add_hook("poststart", "/bin/sh", _state_hook(runtime, cid, started), timeout=10)
    b.add_hook("poststop", "/bin/sh", _state_hook(runtime, cid, stopped), timeout=10)
    b.save()
    t = time.time()
    runtime.run("create", "--bundle", b.path, cid, check=True)
    runtime.run("start", cid, check=True)
    with open(started) as f:
        st = json.loads(f.read())
    assert st["id"] == cid
    # runc 1.1 runs poststart hooks during create (see above).
    assert st["status"] == ("created" if runtime.name == "runc" else "running")
    r = runtime.run("delete", "--force", cid)
    assert r.returncode == 0, r
    assert time.time() - t < 5
    # After delete, or during it (crun 1.8 runs them first).
    with open(stopped) as f:
        out = f.read()
    if runtime.name == "crun":
        assert json.loads(out)["status"] == "stopped"
    else:
        assert "does not exist" in out


def test_create_hook_asking_for_the_state(runtime, make_bundle, tmp):
    """While it is created the container has no state yet: a hook asking
    for it fails at once rather than wait for the create waiting for it."""
    b = make_bundle(["true"])
    cid = runtime.new_id()
    b.id = cid
    out = os.path.join(tmp, "out")
    b.add_hook("createRuntime", "/bin/sh", _state_hook(runtime, cid, out), timeout=10)
    b.save()
    t = time.time()
    r = runtime.run("create", "--bundle", b.path, cid)
    assert r.returncode != 0
    assert time.time() - t < 5
    assert "hook" in r.stderr.lower()
    assert runtime.state(cid) is None


def test_poststop_runs_when_run_deletes(runtime, make_bundle, tmp):
    b = make_bundle(["true"])
    add_recorder(b, "poststop", tmp)
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    assert order(tmp) == ["poststop"]
    assert records(tmp)["poststop"]["state"]["id"] == b.id


def test_hook_args_and_env(runtime, make_bundle, tmp):
    os.environ["POLIS_TEST_LEAK"] = "from the caller"
    try:
        b = make_bundle(["true"])
        b.add_hook("prestart", PYTHON,
                   ["hook-argv0", "-c", RECORDER, "prestart", tmp, "one arg", ""],
                   env=["HOOK_VAR=some value", "OTHER=x=y"])
        r = runtime.run_bundle(b)
    finally:
        del os.environ["POLIS_TEST_LEAK"]
    assert r.returncode == 0, r
    rec = records(tmp)["prestart"]
    assert rec["argv"] == ["hook-argv0", "-c", RECORDER, "prestart", tmp, "one arg", ""]
    assert rec["env"]["HOOK_VAR"] == "some value"
    assert rec["env"]["OTHER"] == "x=y"
    # The hook's environment is the configured one, not the runtime's.
    assert "POLIS_TEST_LEAK" not in rec["env"]


def _wait_gone(pid, timeout=5):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def test_hook_timeout_fails_create(runtime, make_bundle, tmp):
    b = make_bundle(["true"])
    pidfile = os.path.join(tmp, "hook.pid")
    b.add_hook("createRuntime", "/bin/sh",
               ["sh", "-c", "echo $$ > %s; exec sleep 20" % pidfile], timeout=1)
    b.linux["cgroupsPath"] = unique_cgroups_path()
    start = time.time()
    r = runtime.create_bundle(b, check=False)
    elapsed = time.time() - start
    assert r.returncode != 0
    assert r.stderr.strip() != ""
    assert elapsed < 10, elapsed
    # The hook was killed, and nothing of the container is left.
    with open(pidfile) as f:
        assert _wait_gone(int(f.read()))
    assert runtime.state(b.id) is None
    assert cgroup_leftovers(b.linux["cgroupsPath"]) == []


def test_failing_hook_fails_create(runtime, make_bundle, tmp):
    b = make_bundle(["true"])
    b.add_hook("prestart", "/bin/sh", ["sh", "-c", "echo hook says no >&2; exit 3"])
    b.linux["cgroupsPath"] = unique_cgroups_path()
    r = runtime.create_bundle(b, check=False)
    assert r.returncode != 0
    assert "hook" in r.stderr.lower()
    assert runtime.state(b.id) is None
    assert cgroup_leftovers(b.linux["cgroupsPath"]) == []


def test_missing_hook_program_fails_create(runtime, make_bundle):
    b = make_bundle(["true"])
    b.add_hook("prestart", "/no/such/hook")
    b.linux["cgroupsPath"] = unique_cgroups_path()
    r = runtime.create_bundle(b, check=False)
    assert r.returncode != 0
    assert "/no/such/hook" in r.stderr
    assert runtime.state(b.id) is None
    assert cgroup_leftovers(b.linux["cgroupsPath"]) == []


def test_failing_create_container_hook(runtime, make_bundle, tmp):
    b = make_bundle(["true"])
    b.add_hook("createContainer", "/bin/false")
    b.linux["cgroupsPath"] = unique_cgroups_path()
    r = runtime.create_bundle(b, check=False)
    assert r.returncode != 0
    assert runtime.state(b.id) is None
    assert cgroup_leftovers(b.linux["cgroupsPath"]) == []
