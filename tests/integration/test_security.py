"""What must not cross from the host into the container: open files of the
runtime's caller, and the runtime's own binary (CVE-2019-5736)."""

import os
import subprocess

import pytest


def fd_listing(text):
    return dict(line.split(" ", 1) for line in text.splitlines() if line)


@pytest.fixture
def leaky_fd(tmp):
    """An fd the caller leaves open and inheritable (no O_CLOEXEC)."""
    path = os.path.join(tmp, "host-secret")
    with open(path, "w") as f:
        f.write("secret\n")
    fd = os.open(path, os.O_RDONLY)
    os.set_inheritable(fd, True)
    yield fd
    os.close(fd)


def test_no_caller_fd_leaks_into_run(runtime, make_bundle, leaky_fd):
    b = make_bundle(["/sbin/polis-test-init", "--fds"])
    r = runtime.run_bundle(b, pass_fds=(leaky_fd,))
    assert r.returncode == 0, r
    fds = fd_listing(r.stdout)
    assert sorted(fds) == ["0", "1", "2"], fds


def test_no_fd_leaks_through_create_and_start(runtime, make_bundle, leaky_fd):
    b = make_bundle(["sh", "-c", "exec /sbin/polis-test-init --fds > /tmp/fds"])
    cid = runtime.create_bundle(b, pass_fds=(leaky_fd,))
    # start runs with the fd too: the container must not get it from there.
    runtime.run("start", cid, check=True, pass_fds=(leaky_fd,))
    out = os.path.join(b.rootfs, "tmp", "fds")
    assert runtime.wait_status(cid, "stopped") == "stopped"
    runtime.run("delete", cid, check=True)
    with open(out) as f:
        fds = fd_listing(f.read())
    assert sorted(fds) == ["0", "1", "2"], fds
    assert fds["1"] == "/tmp/fds"


def _probe(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return p, None
    return p, dict(line.split(" ", 1) for line in p.stdout.splitlines())


def _assert_no_handle_on(runtime, results, out):
    assert set(results) == {"readlink", "open-path", "open-write"}, out
    assert not results["open-write"].startswith("ok"), results
    if runtime.name == "runc":
        # Debian's runc 1.1.5 leaves its init dumpable and running from
        # /usr/sbin/runc itself (no cloned binary): /proc/1/exe opens, and
        # only ETXTBSY stops the write while runc runs.  Not the behaviour
        # to copy; see polis' init_main (PR_SET_DUMPABLE).
        return
    binary = runtime.binary
    if results["open-path"].startswith("ok"):
        # Only harmless if what PID 1 runs is a copy (runc's sealed memfd),
        # not the runtime's file on the host.
        st = os.stat(binary)
        assert results["open-path"].split()[1] != "%d:%d" % (st.st_dev, st.st_ino), results
    else:
        assert results["open-path"] in ("EACCES", "EPERM"), results
        assert results["readlink"] in ("EACCES", "EPERM"), results


def test_runtime_binary_unreachable_from_created_container(runtime, make_bundle):
    """CVE-2019-5736: while the container is `created`, its PID 1 is the
    runtime.  A process joined into the container without CAP_SYS_PTRACE
    (as an exec is) must not get a handle on the runtime's binary through
    /proc/1/exe, to overwrite it once the runtime exits."""
    b = make_bundle(["true"])
    cid = runtime.create_bundle(b)
    pid = runtime.pid(cid)
    binary_before = open(runtime.binary, "rb").read()
    probe = ["/sbin/polis-test-init", "--probe-exe", "1"]
    enter = ["nsenter", "-t", str(pid), "-m", "-u", "-i", "-n", "-p", "-r", "-w"]

    # Joining without CAP_SYS_PTRACE: a non-dumpable init does not even
    # let its namespaces be opened.
    p, results = _probe(["setpriv", "--bounding-set", "-sys_ptrace", "--inh-caps",
                         "-sys_ptrace"] + enter + probe)
    if results is None:
        assert "Permission denied" in p.stderr, p
    else:
        _assert_no_handle_on(runtime, results, p.stdout)

    # Joining with it, then dropping it before looking.
    p, results = _probe(enter + probe)
    assert results is not None, p
    _assert_no_handle_on(runtime, results, p.stdout)

    assert runtime.status(cid) == "created"
    runtime.run("delete", cid, check=True)
    assert open(runtime.binary, "rb").read() == binary_before


def test_cwd_through_leaked_fd_stays_inside(runtime, make_bundle):
    """CVE-2024-21626: a cwd of /proc/self/fd/N must not land in a
    directory the runtime had open on the host (its state, the cgroup
    tree), from where ".." climbs to the host's root: either the container
    is refused, or going up from its cwd ends at its own root."""
    up = "/".join([".."] * 30)
    b = make_bundle(["sh", "-c", "ls -a " + up])
    want = sorted(os.listdir(b.rootfs) + [".", ".."])
    for n in range(3, 10):
        b.process["cwd"] = "/proc/self/fd/%d" % n
        r = runtime.run_bundle(b)
        if r.returncode != 0:
            assert r.stderr.strip() != "", n
            continue
        assert sorted(r.stdout.split()) == want, (n, r.stdout)
