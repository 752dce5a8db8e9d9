"""linux.namespaces: each of the eight kinds created new, or joined by path,
observed from inside the container through /proc/self/ns and what each
namespace isolates (pids, hostname, id maps, cgroup paths, clocks)."""

import os
import subprocess
import time
import uuid

import pytest

NS_FILES = ("cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts")
# The config's name for each /proc/self/ns file.
NS_TYPE = {"cgroup": "cgroup", "ipc": "ipc", "mnt": "mount", "net": "network",
           "pid": "pid", "time": "time", "user": "user", "uts": "uts"}
SHOW_NS = "for n in %s; do echo $n $(readlink /proc/self/ns/$n); done" % " ".join(NS_FILES)


def host_ns():
    return {n: os.readlink("/proc/self/ns/" + n) for n in NS_FILES}


def parse_ns(out):
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def test_default_namespaces_are_new(runtime, make_bundle):
    b = make_bundle(["sh", "-c", SHOW_NS + "; echo self=$$"])
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    inside = parse_ns(r.stdout)
    host = host_ns()
    # The default config asks for pid, network, ipc, uts, mount, cgroup.
    for n in ("cgroup", "ipc", "mnt", "net", "pid", "uts"):
        assert inside[n] != host[n], n
        assert inside[n].startswith(n + ":[")
    # Not asked for: shared with the host.
    assert inside["user"] == host["user"]
    assert inside["time"] == host["time"]
    assert inside["pid"] != host["pid"]
    assert r.stdout.splitlines()[-1] == "self=1"


def test_all_eight_namespaces(runtime, make_bundle):
    b = make_bundle(["sh", "-c", SHOW_NS], traversable=True)
    b.set_userns()
    b.add_namespace("time")
    r = runtime.run_bundle(b)
    if runtime.name == "runc":
        # runc 1.1 predates time namespaces (runc 1.2): it must refuse the
        # config rather than run the container without one.
        assert r.returncode != 0
        assert "time" in r.stderr
        return
    assert r.returncode == 0, r
    inside = parse_ns(r.stdout)
    host = host_ns()
    for n in NS_FILES:
        assert inside[n] != host[n], n


def test_no_pid_namespace_shares_host_pids(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "echo $$; readlink /proc/self/ns/pid"])
    b.drop_namespace("pid")
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    pid, ns = r.stdout.split()
    assert int(pid) != 1
    assert ns == os.readlink("/proc/self/ns/pid")


def test_pid_namespace_sees_only_its_processes(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "cat /proc/1/comm; sleep 30 & "
                     "ls /proc | grep '^[0-9]' | sort -n"])
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    lines = r.stdout.split()
    assert lines[0] == "sh"
    # sh (1), sleep, ls, grep and sort: nothing of the host's.
    pids = [int(x) for x in lines[1:]]
    assert pids[0] == 1
    assert len(pids) <= 5, pids


def test_hostname_and_domainname(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "hostname; cat /proc/sys/kernel/domainname"])
    b.config["hostname"] = "box-one"
    b.config["domainname"] = "example.test"
    host_name = os.uname().nodename
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    if runtime.name == "runc":
        # runc 1.1 ignores domainname (support came in runc 1.2).
        assert r.stdout.split()[0] == "box-one"
    else:
        assert r.stdout.split() == ["box-one", "example.test"]
    assert os.uname().nodename == host_name


def test_network_namespace_has_only_loopback(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "cat /proc/net/dev; ls /sys/class/net"])
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    devs = [l.split(":")[0].strip() for l in r.stdout.splitlines() if ":" in l]
    assert devs == ["lo"]
    assert r.stdout.split()[-1] == "lo"


def test_user_namespace_several_ranges(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id; "
                     "grep -E '^(Uid|Gid):' /proc/self/status"], traversable=True)
    b.set_userns(uid_maps=[(0, 100000, 1000), (1000, 300000, 10)],
                 gid_maps=[(0, 200000, 1000), (1000, 400000, 20)])
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    lines = [l.split() for l in r.stdout.splitlines()]
    assert lines[0] == ["0", "100000", "1000"]
    assert lines[1] == ["1000", "300000", "10"]
    assert lines[2] == ["0", "200000", "1000"]
    assert lines[3] == ["1000", "400000", "20"]
    assert r.stdout.splitlines()[4].startswith("uid=0(root) gid=0(root)")
    assert lines[5][1:] == ["0"] * 4
    assert lines[6][1:] == ["0"] * 4


def test_user_namespace_user_seen_from_host(runtime, make_bundle):
    """A user in the container is a mapped, unprivileged user on the host,
    and files the host's root owns are not its own."""
    b = make_bundle(["sh", "-c", "id -u; touch /etc/new-file; echo touch=$?; "
                     "touch /tmp/ok; echo tmp=$?; sleep 30"], traversable=True)
    b.set_userns(uid_maps=[(0, 100000, 1000), (1000, 300000, 10)],
                 gid_maps=[(0, 200000, 1000), (1000, 400000, 20)])
    b.process["user"] = {"uid": 1000, "gid": 1000}
    cid = runtime.create_bundle(b)
    pid = runtime.pid(cid)
    runtime.run("start", cid, check=True)
    out = os.path.join(b.rootfs, "tmp", "ok")
    for _ in range(250):
        if os.path.exists(out):
            break
        time.sleep(0.02)
    # The user process replaced the init: its credentials, as the host sees them.
    with open("/proc/%d/status" % pid) as f:
        status = dict(l.split(":", 1) for l in f)
    assert status["Uid"].split() == ["300000"] * 4
    assert status["Gid"].split() == ["400000"] * 4
    st = os.stat(out)
    assert (st.st_uid, st.st_gid) == (300000, 400000)
    assert not os.path.exists(os.path.join(b.rootfs, "etc", "new-file"))
    runtime.run("delete", "--force", cid, check=True)


@pytest.fixture
def netns():
    """A named network namespace made with `ip netns add`."""
    name = "polis-test-%s" % uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", name], check=True)
    yield name
    subprocess.run(["ip", "netns", "delete", name], check=True)


def test_join_network_namespace_by_path(runtime, make_bundle, netns):
    path = "/run/netns/" + netns
    # Something to recognise it by: loopback up, with an extra address.
    subprocess.run(["ip", "-n", netns, "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "-n", netns, "addr", "add", "127.0.0.77/8", "dev", "lo"],
                   check=True)
    b = make_bundle(["sh", "-c", "readlink /proc/self/ns/net; ip addr show lo"])
    b.add_namespace("network", path)
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    ino = os.stat(path).st_ino
    assert r.stdout.splitlines()[0] == "net:[%d]" % ino
    assert "127.0.0.77" in r.stdout
    # Joining did not take the namespace away from the host.
    assert os.stat(path).st_ino == ino


def test_join_namespaces_of_another_container(runtime, make_bundle):
    a = make_bundle(["sleep", "30"])
    a.config["hostname"] = "first-box"
    cid = runtime.new_id()
    a.save()
    runtime.run("run", "-d", "--bundle", a.path, cid, check=True)
    apid = runtime.pid(cid)

    b = make_bundle(["sh", "-c", "hostname; " + SHOW_NS])
    del b.config["hostname"]
    for kind in ("network", "uts", "ipc"):
        ns = {"network": "net"}.get(kind, kind)
        b.add_namespace(kind, "/proc/%d/ns/%s" % (apid, ns))
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    assert r.stdout.splitlines()[0] == "first-box"
    inside = parse_ns(r.stdout)
    for n in ("net", "uts", "ipc"):
        assert inside[n] == os.readlink("/proc/%d/ns/%s" % (apid, n)), n
    # Its own mount and pid namespaces, not the first container's.
    for n in ("mnt", "pid"):
        assert inside[n] != os.readlink("/proc/%d/ns/%s" % (apid, n)), n
    runtime.run("delete", "--force", cid, check=True)


def test_join_user_namespace_of_another_container(runtime, make_bundle):
    a = make_bundle(["sleep", "30"], traversable=True)
    a.set_userns(uid_maps=[(0, 100000, 65536)])
    cid = runtime.new_id()
    a.save()
    runtime.run("run", "-d", "--bundle", a.path, cid, check=True)
    apid = runtime.pid(cid)

    b = make_bundle(["sh", "-c", "cat /proc/self/uid_map; " + SHOW_NS + "; id -u"],
                    traversable=True)
    b.add_namespace("user", "/proc/%d/ns/user" % apid)
    b.add_namespace("network", "/proc/%d/ns/net" % apid)
    # runc wants the mappings repeated even when it joins the namespace.
    b.linux["uidMappings"] = a.linux["uidMappings"]
    b.linux["gidMappings"] = a.linux["gidMappings"]
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["0", "100000", "65536"]
    assert lines[-1] == "0"
    inside = parse_ns(r.stdout)
    for n in ("user", "net"):
        assert inside[n] == os.readlink("/proc/%d/ns/%s" % (apid, n)), n
    # The rest is its own, owned by the joined user namespace.
    assert inside["mnt"] != os.readlink("/proc/%d/ns/mnt" % apid)
    runtime.run("delete", "--force", cid, check=True)


def _memory_cgroup(out):
    for line in out.splitlines():
        _, ctrl, path = line.split(":", 2)
        if "memory" in ctrl.split(","):
            return path
    raise AssertionError("no memory cgroup in %r" % out)


@pytest.mark.parametrize("cgroupns", [True, False], ids=["cgroupns", "host-cgroupns"])
def test_cgroup_namespace(runtime, make_bundle, cgroupns):
    b = make_bundle(["sh", "-c", "cat /proc/self/cgroup"])
    cgpath = "/polis-test-" + uuid.uuid4().hex[:12]
    b.linux["cgroupsPath"] = cgpath
    if not cgroupns:
        b.drop_namespace("cgroup")
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    # Inside its own cgroup namespace the container's cgroup is its root.
    assert _memory_cgroup(r.stdout) == ("/" if cgroupns else cgpath)
    assert not os.path.exists("/sys/fs/cgroup/memory" + cgpath)


def test_time_namespace_offsets(runtime, make_bundle):
    days = 400
    b = make_bundle(["cat", "/proc/uptime"])
    b.add_namespace("time")
    b.linux["timeOffsets"] = {"boottime": {"secs": days * 86400, "nanosecs": 0},
                              "monotonic": {"secs": days * 86400, "nanosecs": 0}}
    r = runtime.run_bundle(b)
    if runtime.name in ("runc", "crun"):
        # runc 1.1 has no time namespaces (see test_all_eight_namespaces);
        # crun 1.8 makes one only inside a user namespace, and ignores
        # timeOffsets.  Both must refuse rather than run with the host's
        # clocks.
        assert r.returncode != 0
        return
    assert r.returncode == 0, r
    with open("/proc/uptime") as f:
        host_up = float(f.read().split()[0])
    inside_up = float(r.stdout.split()[0])
    assert abs(inside_up - host_up - days * 86400) < 60
