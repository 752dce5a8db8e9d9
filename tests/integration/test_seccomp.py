"""linux.seccomp: what a process in the container can and cannot do under a
profile, for Docker's default profile and for each feature of the OCI
object (actions, errnoRet, argument conditions, flags, seccomp notify).

Every test looks at what a user sees: a command's output, its error
message, its exit status."""

import errno
import fcntl
import json
import os
import select
import socket
import struct
import threading

import pytest

import docker_seccomp

INIT = "/sbin/polis-test-init"
EPERM_TEXT = "Operation not permitted"


def docker_profile(bundle):
    """Docker's default profile as dockerd would put it in config.json."""
    return docker_seccomp.default_profile(bundle.process["capabilities"]["bounding"])


def run(runtime, bundle):
    cid = runtime.new_id()
    return runtime.run("run", "--bundle", bundle.path, cid)


def shell(make_bundle, script):
    return make_bundle(["sh", "-c", script])


# The commands of the Docker profile tests, and what each prints.
DOCKER_SCRIPT = ("unshare -U true; echo \"userns=$?\"; "
                 "unshare -n true; echo \"netns=$?\"; "
                 + INIT + " --keyctl; "
                 "ls / > /dev/null && echo ls-ok; echo hello")


def check_docker_profile_effective(r):
    assert r.returncode == 0, r
    out = r.stdout.splitlines()
    # unshare(2) is not in the profile for a container without
    # CAP_SYS_ADMIN: EPERM, the profile's defaultErrnoRet.
    assert "userns=1" in out, r
    assert "netns=1" in out, r
    assert r.stderr.count(EPERM_TEXT) == 2, r
    assert "keyctl: errno %d (%s)" % (errno.EPERM, EPERM_TEXT) in out, r
    # Ordinary programs run.
    assert "ls-ok" in out and out[-1] == "hello", r


def test_docker_default_profile(runtime, make_bundle):
    b = shell(make_bundle, DOCKER_SCRIPT)
    b.linux["seccomp"] = docker_profile(b)
    check_docker_profile_effective(run(runtime, b.save()))


def test_docker_default_profile_loaded_before_dropping_privileges(runtime, make_bundle):
    # Without noNewPrivileges the filter goes in while the init still has
    # CAP_SYS_ADMIN, before it changes its identity: the profile must
    # allow that change, and still be effective afterwards.
    b = shell(make_bundle, DOCKER_SCRIPT)
    b.process["noNewPrivileges"] = False
    b.linux["seccomp"] = docker_profile(b)
    check_docker_profile_effective(run(runtime, b.save()))


def test_without_profile_the_same_commands_work(runtime, make_bundle):
    # The control: what the profile refuses is otherwise allowed here.
    b = shell(make_bundle, DOCKER_SCRIPT).save()
    r = run(runtime, b)
    assert r.returncode == 0, r
    assert "userns=0" in r.stdout.splitlines(), r
    assert "keyctl: ok" in r.stdout.splitlines(), r


def test_exec_runs_under_the_profile(runtime, make_bundle):
    b = make_bundle(["sleep", "30"])
    b.linux["seccomp"] = docker_profile(b)
    b.save()
    cid = runtime.new_id()
    runtime.run("create", "--bundle", b.path, cid, check=True)
    runtime.run("start", cid, check=True)
    r = runtime.run("exec", cid, INIT, "--keyctl")
    assert r.returncode == 0, r
    assert r.stdout == "keyctl: errno %d (%s)\n" % (errno.EPERM, EPERM_TEXT), r
    runtime.run("delete", "--force", cid, check=True)


def allow_all(*rules, **extra):
    prof = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": list(rules)}
    prof.update(extra)
    return prof


def test_errno_ret(runtime, make_bundle):
    b = shell(make_bundle, "mkdir /tmp/d; echo \"rc=$?\"; touch /tmp/f && echo touched")
    b.linux["seccomp"] = allow_all({"names": ["mkdir", "mkdirat"],
                                    "action": "SCMP_ACT_ERRNO",
                                    "errnoRet": errno.ENOSPC})
    r = run(runtime, b.save())
    assert r.returncode == 0, r
    assert "No space left on device" in r.stderr, r
    assert r.stdout == "rc=1\ntouched\n", r
    assert not os.path.exists(os.path.join(b.rootfs, "tmp", "d"))


def test_default_errno_with_allow_list(runtime, make_bundle):
    # Docker's allow-list without mkdir: everything else runs, mkdir gets
    # the defaultErrnoRet.
    b = shell(make_bundle, "mkdir /tmp/d; echo \"rc=$?\"; ls /tmp > /dev/null && echo ls-ok")
    prof = docker_profile(b)
    for rule in prof["syscalls"]:
        rule["names"] = [n for n in rule["names"] if n not in ("mkdir", "mkdirat")]
    prof["defaultErrnoRet"] = errno.EROFS
    b.linux["seccomp"] = prof
    r = run(runtime, b.save())
    assert r.returncode == 0, r
    assert "Read-only file system" in r.stderr, r
    assert r.stdout == "rc=1\nls-ok\n", r


def test_default_errno_is_eperm(runtime, make_bundle):
    b = shell(make_bundle, "mkdir /tmp/d; echo \"rc=$?\"")
    prof = docker_profile(b)
    for rule in prof["syscalls"]:
        rule["names"] = [n for n in rule["names"] if n not in ("mkdir", "mkdirat")]
    del prof["defaultErrnoRet"]
    b.linux["seccomp"] = prof
    r = run(runtime, b.save())
    assert EPERM_TEXT in r.stderr, r
    assert r.stdout == "rc=1\n", r


def test_argument_condition(runtime, make_bundle):
    # Only personality(0xffffffff) (the query) is refused; personality(0)
    # is the same system call with another argument.
    b = shell(make_bundle, INIT + " --personality 0xffffffff; " + INIT + " --personality 0")
    b.linux["seccomp"] = allow_all({
        "names": ["personality"], "action": "SCMP_ACT_ERRNO",
        "args": [{"index": 0, "value": 0xffffffff, "op": "SCMP_CMP_EQ"}]})
    r = run(runtime, b.save())
    assert r.returncode == 0, r
    assert r.stdout == ("personality: errno %d (%s)\npersonality: ok\n"
                        % (errno.EPERM, EPERM_TEXT)), r


def test_same_argument_conditions_are_or_ed(runtime, make_bundle):
    # Two conditions on one argument: runc and crun turn them into two
    # rules (libseccomp refuses them in one), so either one matching is
    # enough.
    b = shell(make_bundle, "; ".join(INIT + " --personality " + v
                                      for v in ("0xffffffff", "0x8", "0")))
    b.linux["seccomp"] = allow_all({
        "names": ["personality"], "action": "SCMP_ACT_ERRNO",
        "args": [{"index": 0, "value": 0xffffffff, "op": "SCMP_CMP_EQ"},
                 {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]})
    r = run(runtime, b.save())
    assert r.returncode == 0, r
    denied = "personality: errno %d (%s)" % (errno.EPERM, EPERM_TEXT)
    assert r.stdout.splitlines() == [denied, denied, "personality: ok"], r


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"])
def test_kill_action_kills_with_sigsys(runtime, make_bundle, action):
    # sync(2): no program here makes it but the sync command.  In a
    # subshell, as busybox runs sync inside the shell's own process.
    b = shell(make_bundle, "(sync); echo \"rc=$?\"")
    b.linux["seccomp"] = allow_all({"names": ["sync"], "action": action})
    r = run(runtime, b.save())
    assert r.returncode == 0, r
    # The shell reports a child killed by signal 31 (SIGSYS) as 128 + 31.
    assert r.stdout == "rc=159\n", r


def test_init_killed_by_its_own_profile(runtime, make_bundle):
    # The container's first process itself dies: `run` exits 128 + SIGSYS.
    b = make_bundle(["sync"])
    b.linux["seccomp"] = allow_all({"names": ["sync"], "action": "SCMP_ACT_KILL_PROCESS"})
    r = run(runtime, b.save())
    assert r.returncode == 159, r
    assert r.stdout == "", r


def test_unknown_syscall_name_is_skipped(runtime, make_bundle):
    b = make_bundle([INIT, "--keyctl"])
    b.linux["seccomp"] = allow_all({"names": ["polis_no_such_syscall", "keyctl"],
                                    "action": "SCMP_ACT_ERRNO"})
    b.save()
    cid = runtime.new_id()
    r = runtime.run("run", "--bundle", b.path, cid, global_args=("--debug",))
    assert r.returncode == 0, r
    assert r.stdout == "keyctl: errno %d (%s)\n" % (errno.EPERM, EPERM_TEXT), r
    if runtime.name == "polis":
        # Said at debug level only.
        assert 'unknown syscall "polis_no_such_syscall"' in r.stderr, r
        r = run(runtime, b)
        assert r.stderr == "", r


def test_flags(runtime, make_bundle):
    if runtime.name == "runc":
        pytest.skip("runc 1.1.5 refuses every seccomp flag: \"seccomp flags are not yet supported by runc\"")
    b = make_bundle([INIT, "--keyctl"])
    b.linux["seccomp"] = allow_all(
        {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["sync"], "action": "SCMP_ACT_LOG"},
        flags=["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
               "SECCOMP_FILTER_FLAG_TSYNC"])
    r = run(runtime, b.save())
    assert r.returncode == 0, r
    assert r.stdout == "keyctl: errno %d (%s)\n" % (errno.EPERM, EPERM_TEXT), r


def create_fails(runtime, b, *wanted):
    cid = runtime.new_id()
    r = runtime.run("create", "--bundle", b.path, cid)
    assert r.returncode != 0, r
    for w in wanted:
        assert w in r.stderr, r
    # Nothing was made: no container, no mounts left on the rootfs.
    assert runtime.state(cid) is None
    assert json.loads(runtime.run("list", "--format", "json").stdout or "[]") in ([], None)
    with open("/proc/self/mountinfo") as f:
        assert b.rootfs not in f.read()
    return r


def test_invalid_profile_fails_create(runtime, make_bundle):
    b = make_bundle(["true"])
    b.linux["seccomp"] = allow_all(
        {"names": ["getpid"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["keyctl"], "action": "SCMP_ACT_FOO"})
    r = create_fails(runtime, b.save(), "SCMP_ACT_FOO")
    if runtime.name == "polis":
        assert ("config.json: linux.seccomp: syscalls[1].action: "
                "unknown action \"SCMP_ACT_FOO\"") in r.stderr, r


@pytest.mark.parametrize("field,value,message", [
    ("flags", ["SECCOMP_FILTER_FLAG_FOO"], "flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\""),
    ("architectures", ["SCMP_ARCH_FOO"], "architectures[0]: unknown architecture \"SCMP_ARCH_FOO\""),
])
def test_invalid_flag_or_arch_fails_create(runtime, make_bundle, field, value, message):
    if runtime.name == "crun":
        pytest.skip("crun 1.8 ignores unknown seccomp flags and architectures")
    b = make_bundle(["true"])
    b.linux["seccomp"] = allow_all({"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"},
                                   **{field: value})
    r = create_fails(runtime, b.save())
    if runtime.name == "polis":
        assert "config.json: linux.seccomp: " + message in r.stderr, r


def test_invalid_errno_ret_fails_create(runtime, make_bundle):
    # The runtime spec: an errnoRet on an action that returns no errno is
    # an error.
    if runtime.name != "polis":
        pytest.skip("runc 1.1.5 and crun 1.8 ignore errnoRet on actions without an errno")
    b = make_bundle(["true"])
    b.linux["seccomp"] = allow_all({"names": ["keyctl"], "action": "SCMP_ACT_KILL",
                                    "errnoRet": 5})
    r = create_fails(runtime, b.save())
    if runtime.name == "polis":
        assert ("config.json: linux.seccomp: syscalls[0].errnoRet: "
                "not allowed with action SCMP_ACT_KILL") in r.stderr, r


def test_features(runtime):
    r = runtime.run("features")
    if runtime.name == "crun" and r.returncode != 0:
        pytest.skip("crun 1.8 has no `features` command")
    assert r.returncode == 0, r
    sc = json.loads(r.stdout)["linux"]["seccomp"]
    assert sc["enabled"] is True
    for a in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
              "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",
              "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"):
        assert a in sc["actions"]
    assert sorted(sc["operators"]) == sorted(
        ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
         "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"])
    assert "SCMP_ARCH_X86_64" in sc["archs"] and "SCMP_ARCH_X86" in sc["archs"]
    if runtime.name == "polis":
        # runc 1.1 does not list flags.
        assert set(sc["supportedFlags"]) <= set(sc["knownFlags"])
        assert {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                "SECCOMP_FILTER_FLAG_SPEC_ALLOW"} <= set(sc["supportedFlags"])


# --- seccomp notify ---------------------------------------------------------

# struct seccomp_notif is 80 bytes, struct seccomp_notif_resp 24:
# _IOWR('!', 0, struct seccomp_notif) and _IOWR('!', 1, struct seccomp_notif_resp).
NOTIF_RECV = 0xC0502100
NOTIF_SEND = 0xC0182101


class Agent:
    """A seccomp agent: takes the listener and the container process state
    on a unix socket, then answers every notified system call with
    ENOTBLK."""

    def __init__(self, path, check_close):
        self.path = path
        self.check_close = check_close
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.states = []
        self.answered = []
        self.errors = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _receive(self, conn):
        # Read until the document is whole: a runtime may keep the
        # connection open a while after sending.
        data, fds = b"", []
        while True:
            msg, got, _flags, _addr = socket.recv_fds(conn, 65536, 4)
            fds += got
            data += msg
            try:
                doc = json.loads(data)
            except ValueError:
                if not msg:
                    raise
                continue
            # The spec: one state per connection, closed after sending.
            closed = msg == b""
            if not closed and self.check_close:
                conn.settimeout(5)
                try:
                    closed = conn.recv(1) == b""
                except socket.timeout:
                    pass
            return doc, fds, closed

    def _answer(self, fd):
        buf = bytearray(80)
        try:
            fcntl.ioctl(fd, NOTIF_RECV, buf, True)
        except OSError as e:  # the process went away meanwhile
            return e.errno != errno.ENOENT
        nid, _pid, _flags, nr = struct.unpack_from("=QIIi", buf)
        self.answered.append(nr)
        resp = bytearray(struct.pack("=QqiI", nid, 0, -errno.ENOTBLK, 0))
        try:
            fcntl.ioctl(fd, NOTIF_SEND, resp, True)
        except OSError:
            pass
        return True

    def _serve(self):
        listeners = []
        try:
            self.sock.settimeout(0.1)
            while not self.stop.is_set():
                try:
                    conn, _ = self.sock.accept()
                    conn.settimeout(None)
                    with conn:
                        state, fds, closed = self._receive(conn)
                    self.states.append((state, len(fds), closed))
                    listeners += fds
                except socket.timeout:
                    pass
                if listeners:
                    ready, _, _ = select.select(listeners, [], [], 0.05)
                    for fd in ready:
                        if not self._answer(fd):
                            listeners.remove(fd)
                            os.close(fd)
        except Exception as e:  # reported by the test
            self.errors.append(repr(e))
        finally:
            for fd in listeners:
                os.close(fd)

    def close(self):
        self.stop.set()
        self.thread.join(10)
        self.sock.close()


def notify_supported():
    try:
        with open("/proc/sys/kernel/seccomp/actions_avail") as f:
            return "user_notif" in f.read().split()
    except OSError:
        return False


@pytest.fixture
def agent(tmp_path, runtime):
    if not notify_supported():
        pytest.skip("this kernel has no seccomp user notification (SECCOMP_RET_USER_NOTIF)")
    # runc 1.1.5 and crun 1.8 leave the connection open after sending
    # (here, while the container waited for the agent); polis closes it
    # at once, as the spec asks.
    a = Agent(str(tmp_path / "agent.sock"), check_close=runtime.name == "polis")
    yield a
    a.close()


@pytest.mark.parametrize("nnp", [True, False], ids=["noNewPrivileges", "privileged-load"])
def test_seccomp_notify_agent(runtime, make_bundle, agent, nnp):
    b = shell(make_bundle, "mkdir /tmp/d; echo \"rc=$?\"; echo after")
    # Without noNewPrivileges the listener is made, and handed over,
    # before the init changes its identity and reports ready.
    b.process["noNewPrivileges"] = nnp
    b.linux["seccomp"] = allow_all(
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"},
        listenerPath=agent.path, listenerMetadata="polis-test-metadata")
    b.save()
    cid = runtime.new_id()
    r = runtime.run("run", "--bundle", b.path, cid)
    assert agent.errors == []
    assert r.returncode == 0, r
    # The agent answered mkdir with ENOTBLK.
    assert "Block device required" in r.stderr, r
    assert r.stdout == "rc=1\nafter\n", r
    assert not os.path.exists(os.path.join(b.rootfs, "tmp", "d"))

    # One connection, one fd, the container process state of the spec.
    assert len(agent.states) == 1, agent.states
    state, nfds, closed = agent.states[0]
    assert nfds == 1
    assert closed or runtime.name != "polis"
    assert state["fds"] == ["seccompFd"]
    assert state["metadata"] == "polis-test-metadata"
    assert state["ociVersion"]
    assert state["state"]["id"] == cid
    assert state["state"]["bundle"] == b.path
    assert state["pid"] > 0 and state["pid"] == state["state"]["pid"]


def test_seccomp_notify_without_agent_fails_create(runtime, make_bundle, tmp_path):
    if not notify_supported():
        pytest.skip("this kernel has no seccomp user notification (SECCOMP_RET_USER_NOTIF)")
    b = make_bundle(["true"])
    b.linux["seccomp"] = allow_all(
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"},
        listenerPath=str(tmp_path / "nobody-listens.sock"))
    create_fails(runtime, b.save())


def test_seccomp_notify_agent_for_exec(runtime, make_bundle, agent):
    # An exec'd process loads the filter too, and its listener goes to
    # the agent with the exec'd process's pid.
    b = make_bundle(["sleep", "30"])
    b.linux["seccomp"] = allow_all(
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"},
        listenerPath=agent.path)
    b.save()
    cid = runtime.new_id()
    runtime.run("create", "--bundle", b.path, cid, check=True)
    runtime.run("start", cid, check=True)
    r = runtime.run("exec", cid, "sh", "-c", "mkdir /tmp/e; echo \"rc=$?\"")
    runtime.run("delete", "--force", cid, check=True)
    assert agent.errors == []
    assert "Block device required" in r.stderr, r
    assert r.stdout == "rc=1\n", r
    assert len(agent.states) == 2, agent.states
    init_state, exec_state = agent.states[0][0], agent.states[1][0]
    assert exec_state["state"]["id"] == cid
    # crun 1.8 sends 0 for both pids in an exec's state.
    if runtime.name != "crun":
        assert exec_state["state"]["pid"] == init_state["pid"]
        assert exec_state["pid"] > 0 and exec_state["pid"] != init_state["pid"]
