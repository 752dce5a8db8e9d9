"""linux.resources: limits written to the container's cgroup and enforced,
on cgroup v1 (this host) and v2 (tests/integration/run-v2.sh runs this file
in a QEMU guest).  The same tests run against runc and crun; where a peer
behaves differently on purpose, the test says so.

The cgroup of a container is found from its init's /proc/PID/cgroup while
it waits in `created`, so the tests do not depend on how a runtime names
cgroups.  Operations the command line does not offer yet for polis (update,
stats, freeze, the OOM count) go through tests/helpers/polis-cgroup-tool.
"""

import json
import os
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import BUILD

CGROUP_ROOT = "/sys/fs/cgroup"
V2 = os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers"))
MiB = 1 << 20

only_v1 = pytest.mark.skipif(V2, reason="cgroup v1 only")
only_v2 = pytest.mark.skipif(not V2, reason="cgroup v2 only")


def cgroup_tool():
    return os.path.join(BUILD, "tests", "helpers", "polis-cgroup-tool")


def tool(runtime, cid, *args):
    """Run polis-cgroup-tool on container CID of RUNTIME (polis only)."""
    return subprocess.run([cgroup_tool(), runtime.root, cid] + list(args),
                          capture_output=True, text=True, timeout=60)


def cgroup_mounts():
    """{frozenset(controllers) or "": mount point} for every cgroup mount
    under /sys/fs/cgroup ("" is a cgroup2 mount)."""
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, post = line.split(" - ", 1)
            mp = pre.split()[4]
            fstype, _src, opts = post.split()[:3]
            if not mp.startswith(CGROUP_ROOT):
                continue
            if fstype == "cgroup2":
                out[""] = mp
            elif fstype == "cgroup":
                ctrls = frozenset(o for o in opts.split(",")
                                  if o not in ("rw", "ro") and "=" not in o
                                  or o.startswith("name="))
                out.setdefault(ctrls, mp)
    return out


def cgroup_dirs(pid):
    """{controller: directory} of process PID; on v2 the key is ""."""
    mounts = cgroup_mounts()
    dirs = {}
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _n, ctrls, path = line.rstrip("\n").split(":", 2)
            key = frozenset(ctrls.split(",")) if ctrls else ""
            if key in mounts:
                d = mounts[key] + path
                if key == "":
                    dirs[""] = d
                else:
                    for c in key:
                        dirs[c] = d
    return dirs


def cgdir(pid, controller):
    dirs = cgroup_dirs(pid)
    return dirs[""] if V2 else dirs[controller]


def read(d, name):
    with open(os.path.join(d, name)) as f:
        return f.read().strip()


def keyed(d, name):
    out = {}
    for line in read(d, name).splitlines():
        k, _, v = line.partition(" ")
        out[k] = v
    return out


def own_cgroup_dirs():
    """Every hierarchy's directory of this process (where a relative
    cgroupsPath lands)."""
    return set(cgroup_dirs(os.getpid()).values())


def unique_cgroup_name():
    return "polis-cgtest-" + uuid.uuid4().hex[:12]


def with_resources(b, resources, cgroups_path=None):
    res = b.linux.setdefault("resources", {})
    res.update(resources)
    if cgroups_path:
        b.linux["cgroupsPath"] = cgroups_path
    return b.save()


def create(runtime, b):
    cid = runtime.new_id()
    r = runtime.run("create", "--bundle", b.path, cid)
    assert r.returncode == 0, r
    return cid, runtime.state(cid)["pid"]


def add_caps(b, *caps):
    for k in ("bounding", "effective", "permitted"):
        b.process["capabilities"][k] += list(caps)


# --- memory -------------------------------------------------------------------


def test_memory_limits_written(runtime, make_bundle):
    b = with_resources(make_bundle(["sleep", "30"]), {
        "memory": {"limit": 64 * MiB, "reservation": 32 * MiB, "swap": 96 * MiB}})
    cid, pid = create(runtime, b)
    d = cgdir(pid, "memory")
    if V2:
        assert read(d, "memory.max") == str(64 * MiB)
        assert read(d, "memory.low") == str(32 * MiB)
        # v2's swap excludes memory: swap = memory+swap - memory.
        assert read(d, "memory.swap.max") == str(32 * MiB)
    else:
        assert read(d, "memory.limit_in_bytes") == str(64 * MiB)
        assert read(d, "memory.soft_limit_in_bytes") == str(32 * MiB)
        if os.path.exists(os.path.join(d, "memory.memsw.limit_in_bytes")):
            assert read(d, "memory.memsw.limit_in_bytes") == str(96 * MiB)
    runtime.run("delete", "--force", cid, check=True)


@only_v2
def test_memory_reservation_unlimited_v2(runtime, make_bundle):
    b = with_resources(make_bundle(["sleep", "30"]), {"memory": {"reservation": -1}})
    cid, pid = create(runtime, b)
    # v1's "no soft limit" is no protection on v2; runc 1.1.5 and crun 1.8
    # write "max" (protect everything) instead.
    want = "0" if runtime.name == "polis" else "max"
    assert read(cgdir(pid, ""), "memory.low") == want
    runtime.run("delete", "--force", cid, check=True)


@only_v2
def test_caller_in_a_cgroup_with_processes_v2(runtime, make_bundle):
    # The runtime started from a cgroup that has processes (a login
    # session's scope, say): with no cgroupsPath the container cannot go
    # below it (v2 enables no controller there), so it goes beside it.
    caller = os.path.join(CGROUP_ROOT, unique_cgroup_name())
    os.mkdir(caller)
    try:
        b = with_resources(make_bundle(["cat", "/sys/fs/cgroup/memory.max"]),
                           {"memory": {"limit": 32 * MiB}})
        cid = runtime.new_id()
        argv = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', caller] + \
            runtime.cmd("run", "--bundle", b.path, cid)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r
        assert r.stdout.strip() == str(32 * MiB)
    finally:
        os.rmdir(caller)


@only_v1
def test_memory_v1_knobs(runtime, make_bundle):
    b = with_resources(make_bundle(["sleep", "30"]), {
        "memory": {"limit": 64 * MiB, "swappiness": 7, "disableOOMKiller": True}})
    cid, pid = create(runtime, b)
    d = cgdir(pid, "memory")
    assert read(d, "memory.swappiness") == "7"
    assert keyed(d, "memory.oom_control")["oom_kill_disable"] == "1"
    runtime.run("delete", "--force", cid, check=True)


def oom_count_inside():
    """A shell snippet printing the cgroup's OOM kill count from inside."""
    if V2:
        return "grep '^oom_kill ' /sys/fs/cgroup/memory.events"
    return "grep '^oom_kill ' /sys/fs/cgroup/memory/memory.oom_control"


def test_memory_limit_enforced(runtime, make_bundle):
    # dd allocates its 64 MiB block and fills it from /dev/zero: far over
    # the 16 MiB limit, so the kernel's OOM killer ends it (SIGKILL: 137).
    alloc = "dd if=/dev/zero of=/dev/null bs=64M count=1"
    b = with_resources(make_bundle(["sh", "-c", alloc + "; echo dd=$?; " + oom_count_inside()]),
                       {"memory": {"limit": 16 * MiB, "swap": 16 * MiB}})
    cid = runtime.new_id()
    r = runtime.run("run", "--bundle", b.path, cid, timeout=120)
    assert r.returncode == 0, r
    assert "dd=137" in r.stdout
    assert int(r.stdout.split("oom_kill ")[1].split()[0]) >= 1, r

    # The container's own init killed: the runtime reports 137.
    b2 = with_resources(make_bundle(alloc.split()),
                        {"memory": {"limit": 16 * MiB, "swap": 16 * MiB}})
    cid = runtime.new_id()
    r = runtime.run("run", "--bundle", b2.path, cid, timeout=120)
    assert r.returncode == 137, r


def test_oom_kill_count(runtime, make_bundle):
    if runtime.name != "polis":
        pytest.skip("cgroup_oom_kills is polis' library API")
    b = with_resources(make_bundle(["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]),
                       {"memory": {"limit": 16 * MiB, "swap": 16 * MiB}})
    cid, _pid = create(runtime, b)
    assert tool(runtime, cid, "oom-kills").stdout.strip() == "0"
    runtime.run("start", cid, check=True)
    assert runtime.wait_status(cid, "stopped", timeout=60) == "stopped"
    r = tool(runtime, cid, "oom-kills")
    assert r.returncode == 0, r
    assert int(r.stdout) >= 1
    runtime.run("delete", cid, check=True)


# --- pids ---------------------------------------------------------------------


def test_pids_limit(runtime, make_bundle):
    forks = "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1 & done; echo forked-all; wait"
    b = with_resources(make_bundle(["sh", "-c", forks]), {"pids": {"limit": 5}})
    cid = runtime.new_id()
    r = runtime.run("run", "--bundle", b.path, cid, timeout=120)
    assert r.returncode != 0, r
    assert "can't fork" in r.stderr
    assert "forked-all" not in r.stdout

    b = with_resources(make_bundle(["sh", "-c", forks]), {"pids": {"limit": 40}})
    cid = runtime.new_id()
    r = runtime.run("run", "--bundle", b.path, cid, timeout=120)
    assert r.returncode == 0, r
    assert "forked-all" in r.stdout

    b = with_resources(make_bundle(["sleep", "30"]), {"pids": {"limit": 12}})
    cid, pid = create(runtime, b)
    assert read(cgdir(pid, "pids"), "pids.max") == "12"
    runtime.run("delete", "--force", cid, check=True)


# --- cpu ----------------------------------------------------------------------


def test_cpu_shares_quota_written(runtime, make_bundle):
    b = with_resources(make_bundle(["sleep", "30"]), {
        "cpu": {"shares": 512, "quota": 30000, "period": 100000}})
    cid, pid = create(runtime, b)
    d = cgdir(pid, "cpu")
    if V2:
        # runc's conversion: 1 + ((512 - 2) * 9999) / 262142 = 20
        assert read(d, "cpu.weight") == "20"
        assert read(d, "cpu.max") == "30000 100000"
    else:
        assert read(d, "cpu.shares") == "512"
        assert read(d, "cpu.cfs_quota_us") == "30000"
        assert read(d, "cpu.cfs_period_us") == "100000"
    runtime.run("delete", "--force", cid, check=True)


def test_cpu_quota_throttles(runtime, make_bundle):
    # Half a second of busy loop at 20% of a CPU: throttled in most periods.
    stat = "/sys/fs/cgroup/cpu.stat" if V2 else "/sys/fs/cgroup/cpu/cpu.stat"
    script = ("sh -c 'while :; do :; done' & sleep 0.5; kill $!; wait; cat " + stat)
    b = with_resources(make_bundle(["sh", "-c", script]),
                       {"cpu": {"quota": 20000, "period": 100000}})
    cid = runtime.new_id()
    r = runtime.run("run", "--bundle", b.path, cid, timeout=120)
    assert r.returncode == 0, r
    st = dict(l.split() for l in r.stdout.splitlines() if len(l.split()) == 2)
    assert int(st["nr_throttled"]) > 0, r
    throttled = int(st["throttled_usec"]) if V2 else int(st["throttled_time"]) // 1000
    assert throttled > 0, r


def test_cpuset(runtime, make_bundle):
    b = with_resources(make_bundle(["sh", "-c", "grep Cpus_allowed_list /proc/self/status"]),
                       {"cpu": {"cpus": "0", "mems": "0"}})
    cid = runtime.new_id()
    r = runtime.run("run", "--bundle", b.path, cid)
    assert r.returncode == 0, r
    assert r.stdout.split()[-1] == "0"

    b = with_resources(make_bundle(["sleep", "30"]), {"cpu": {"cpus": "0", "mems": "0"}})
    cid, pid = create(runtime, b)
    d = cgdir(pid, "cpuset")
    assert read(d, "cpuset.cpus") == "0"
    assert read(d, "cpuset.mems") == "0"
    runtime.run("delete", "--force", cid, check=True)


# --- devices ------------------------------------------------------------------


DEVICE_PROBE = ("mknod /dev/probe c 10 229 && echo mknod-ok; "
                "true < /dev/probe && echo probe-open-ok || echo probe-denied; "
                "true > /dev/null && echo null-ok; "
                "head -c 4 /dev/urandom | wc -c")


def test_devices_default_deny(runtime, make_bundle):
    # c 10:229 (/dev/fuse) is not among the default rules: mknod is allowed
    # (c *:* m), opening it is not; /dev/null and /dev/urandom work.
    b = make_bundle(["sh", "-c", DEVICE_PROBE])
    add_caps(b, "CAP_MKNOD")
    b.save()
    cid = runtime.new_id()
    r = runtime.run("run", "--bundle", b.path, cid)
    assert r.returncode == 0, r
    out = r.stdout.split()
    assert "mknod-ok" in out
    assert "probe-denied" in out and "probe-open-ok" not in out
    assert "null-ok" in out
    assert out[-1] == "4"


def test_devices_allow_rule(runtime, make_bundle):
    b = make_bundle(["sh", "-c", DEVICE_PROBE])
    add_caps(b, "CAP_MKNOD")
    b.linux["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "r"})
    b.save()
    cid = runtime.new_id()
    r = runtime.run("run", "--bundle", b.path, cid)
    assert r.returncode == 0, r
    assert "probe-open-ok" in r.stdout.split()


def test_devices_without_resources(runtime, make_bundle):
    # No linux.resources at all: runc (and polis) still deny by default.
    b = make_bundle(["sh", "-c", DEVICE_PROBE])
    add_caps(b, "CAP_MKNOD")
    del b.linux["resources"]
    b.save()
    cid = runtime.new_id()
    r = runtime.run("run", "--bundle", b.path, cid)
    assert r.returncode == 0, r
    if runtime.name == "crun":
        # crun 1.8 sets up no device rules when the list is empty.
        return
    assert "probe-denied" in r.stdout.split()


@only_v1
def test_devices_list_v1(runtime, make_bundle):
    b = make_bundle(["sleep", "30"]).save()
    cid, pid = create(runtime, b)
    rules = set(read(cgdir(pid, "devices"), "devices.list").splitlines())
    assert "a *:* rwm" not in rules
    want = {"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
            "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"}
    if runtime.name == "crun":
        # crun 1.8 allows /dev/console (5:1) instead of /dev/net/tun (10:200).
        want = want - {"c 10:200 rwm"} | {"c 5:1 rwm"}
    assert rules == want
    runtime.run("delete", "--force", cid, check=True)


@only_v1
def test_devices_parent_refuses_a_default(runtime, make_bundle):
    # A parent devices cgroup that denies /dev/net/tun (as when nested in
    # another container): the default rule for it cannot be written, which
    # must not fail the container.
    parent = unique_cgroup_name()
    pdir = os.path.join(cgroup_dirs(os.getpid())["devices"], parent)
    os.mkdir(pdir)
    try:
        with open(os.path.join(pdir, "devices.deny"), "w") as f:
            f.write("c 10:200 rwm")
        b = make_bundle(["sh", "-c", "true > /dev/null && echo null-ok"])
        b.linux["cgroupsPath"] = parent + "/c"
        b.save()
        cid = runtime.new_id()
        r = runtime.run("run", "--bundle", b.path, cid)
        if runtime.name != "polis":
            # runc 1.1.5 and crun 1.8 fail the container instead.
            assert r.returncode != 0, r
            return
        assert r.returncode == 0, r
        assert "null-ok" in r.stdout
        assert "default rule `c 10:200 rwm` not allowed by the parent cgroup" in r.stderr, r
    finally:
        for d in own_cgroup_dirs() | set(cgroup_mounts().values()):
            for sub in ("c", ""):
                try:
                    os.rmdir(os.path.join(d, parent, sub))
                except OSError:
                    pass


# --- block I/O ----------------------------------------------------------------


def test_blkio_weight(runtime, make_bundle):
    b = with_resources(make_bundle(["sleep", "30"]), {"blockIO": {"weight": 500}})
    cid = runtime.new_id()
    r = runtime.run("create", "--bundle", b.path, cid)
    if r.returncode != 0:
        # This host's kernel has no proportional-weight I/O scheduler
        # files; polis and runc refuse a weight they cannot set.
        assert "weight" in r.stderr, r
        pytest.skip("no blkio weight on this kernel")
    d = cgdir(runtime.state(cid)["pid"], "blkio")
    if V2:
        if os.path.exists(os.path.join(d, "io.bfq.weight")):
            assert read(d, "io.bfq.weight").split()[-1] == "500"
        else:
            # runc's conversion: 1 + (500 - 10) * 9999 / 990 = 4950
            assert read(d, "io.weight") == "default 4950"
    else:
        f = "blkio.weight" if os.path.exists(os.path.join(d, "blkio.weight")) else "blkio.bfq.weight"
        assert read(d, f).split()[-1] == "500"
    runtime.run("delete", "--force", cid, check=True)


@pytest.fixture
def loop_device(tmp_path):
    """A loop device over a sparse file: (path, major, minor)."""
    backing = tmp_path / "disk.img"
    with open(backing, "wb") as f:
        f.truncate(16 * MiB)
    r = subprocess.run(["losetup", "-f", "--show", str(backing)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.skip("no loop device: " + r.stderr.strip())
    dev = r.stdout.strip()
    st = os.stat(dev)
    yield dev, os.major(st.st_rdev), os.minor(st.st_rdev)
    subprocess.run(["losetup", "-d", dev])


def test_io_throttle(runtime, make_bundle, loop_device):
    dev, major, minor = loop_device
    write = "dd if=/dev/zero of=/dev/disk bs=64k count=32 oflag=direct 2>/dev/null; echo dd=$?"

    def run(throttle):
        b = make_bundle(["sh", "-c", write])
        b.config["mounts"].append({"destination": "/dev/disk", "type": "bind", "source": dev,
                                   "options": ["bind"]})
        b.linux["resources"]["devices"].append(
            {"allow": True, "type": "b", "major": major, "minor": minor, "access": "rw"})
        if throttle:
            b.linux["resources"]["blockIO"] = {"throttleWriteBpsDevice": [
                {"major": major, "minor": minor, "rate": MiB}]}
        b.save()
        cid = runtime.new_id()
        t0 = time.monotonic()
        r = runtime.run("run", "--bundle", b.path, cid, timeout=120)
        elapsed = time.monotonic() - t0
        assert r.returncode == 0 and "dd=0" in r.stdout, r
        return elapsed

    free = run(False)
    # 2 MiB at 1 MiB/s: at least about a second and a half.
    throttled = run(True)
    assert throttled >= 1.4, (free, throttled)
    assert throttled > free + 0.8, (free, throttled)


# --- huge pages, unified ------------------------------------------------------


def test_hugepage_limit(runtime, make_bundle):
    sizes = sorted(os.listdir("/sys/kernel/mm/hugepages")) if os.path.isdir(
        "/sys/kernel/mm/hugepages") else []
    if not sizes:
        pytest.skip("no huge pages on this kernel")
    kb = int(sizes[0].split("-")[1].rstrip("kB"))
    size = "%dMB" % (kb // 1024) if kb >= 1024 else "%dKB" % kb
    if kb >= 1024 * 1024:
        size = "%dGB" % (kb // (1024 * 1024))
    b = with_resources(make_bundle(["sleep", "30"]),
                       {"hugepageLimits": [{"pageSize": size, "limit": 4 * kb * 1024}]})
    cid = runtime.new_id()
    r = runtime.run("create", "--bundle", b.path, cid)
    dirs_have_hugetlb = V2 or any("hugetlb" in k for k in cgroup_mounts() if k)
    if not dirs_have_hugetlb:
        # A limit that cannot be set is refused (as runc does).
        assert r.returncode != 0, r
        if runtime.name == "polis":
            assert "linux.resources.hugepageLimits: the hugetlb cgroup controller is not mounted" \
                in r.stderr, r
        return
    assert r.returncode == 0, r
    d = cgdir(runtime.state(cid)["pid"], "hugetlb")
    f = "hugetlb.%s.max" % size if V2 else "hugetlb.%s.limit_in_bytes" % size
    assert read(d, f) == str(4 * kb * 1024)
    runtime.run("delete", "--force", cid, check=True)


@only_v2
def test_unified(runtime, make_bundle):
    b = with_resources(make_bundle(["sleep", "30"]), {
        "unified": {"memory.high": str(48 * MiB), "pids.max": "9"}})
    cid, pid = create(runtime, b)
    d = cgdir(pid, "")
    assert read(d, "memory.high") == str(48 * MiB)
    assert read(d, "pids.max") == "9"
    runtime.run("delete", "--force", cid, check=True)


# --- impossible values ----------------------------------------------------------

# (resources, what polis' message names, the peers that refuse it too)
BOTH, RUNC = ("runc", "crun"), ("runc",)
IMPOSSIBLE = [
    # runc and crun pass a negative quota to the kernel, which takes any
    # negative value as "no limit" on v1 and "max" on v2.
    ({"cpu": {"quota": -5}}, "linux.resources.cpu.quota", ()),
    ({"memory": {"limit": 64 * MiB, "swap": 32 * MiB}}, "linux.resources.memory.swap", BOTH),
    # crun 1.8 reads a number of the wrong JSON type as "not given".
    ({"memory": {"limit": "lots"}}, "linux.resources.memory.limit", RUNC),
    ({"pids": {"limit": "ten"}}, "linux.resources.pids.limit", RUNC),
    # No such block device (not 1:x: that loads the brd RAM disks).
    ({"blockIO": {"throttleReadBpsDevice": [{"major": 4094, "minor": 0, "rate": 1024}]}},
     "linux.resources.blockIO.throttleReadBpsDevice[0]", BOTH),
    ({"cpu": {"cpus": "4095"}}, "linux.resources.cpu.cpus", BOTH),
    # crun 1.8 checks the type only when writing v1's devices.allow.
    ({"devices": [{"allow": True, "type": "x", "access": "rwm"}]},
     "linux.resources.devices[0].type", RUNC if V2 else BOTH),
    ({"unified": {"nosuchcontroller.max": "1"}}, "linux.resources.unified", BOTH),
]


def leftover_cgroups(name):
    dirs = {os.path.normpath(d) for d in own_cgroup_dirs() | set(cgroup_mounts().values())}
    return sorted(os.path.join(d, name) for d in dirs if os.path.exists(os.path.join(d, name)))


@pytest.mark.parametrize("resources,field,refused_by", IMPOSSIBLE,
                         ids=[f for _, f, _ in IMPOSSIBLE])
def test_impossible_values(runtime, make_bundle, resources, field, refused_by):
    name = unique_cgroup_name()
    b = with_resources(make_bundle(["sleep", "30"]), resources, cgroups_path=name)
    cid = runtime.new_id()
    try:
        r = runtime.run("create", "--bundle", b.path, cid)
        if runtime.name != "polis" and runtime.name not in refused_by:
            if r.returncode == 0:
                runtime.run("delete", "--force", cid, check=True)
            return
        assert r.returncode != 0, r
        if runtime.name == "polis":
            assert field in r.stderr, r
        # Nothing left behind: no state, no cgroup in any hierarchy.
        assert runtime.state(cid) is None
        if runtime.name != "crun":
            assert leftover_cgroups(name) == []
    finally:
        # crun 1.8 leaves the directories of a failed create (and, run
        # through crun-hybrid.sh, of a deleted container) behind.
        if runtime.name == "crun":
            runtime.run("delete", "--force", cid)
            for d in leftover_cgroups(name):
                try:
                    os.rmdir(d)
                except OSError:
                    pass


# --- update, stats, freeze (a running container) ------------------------------


def update(runtime, cid, resources):
    """`update` through the runtime (runc, crun) or the library (polis)."""
    if runtime.name == "polis":
        return tool(runtime, cid, "update", json.dumps(resources))
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(resources, f)
        f.flush()
        return runtime.run("update", "-r", f.name, cid)


def test_update_running_container(runtime, make_bundle):
    b = with_resources(make_bundle(["sleep", "60"]), {
        "memory": {"limit": 64 * MiB, "swap": 64 * MiB}, "pids": {"limit": 100},
        "cpu": {"quota": 50000, "period": 100000}})
    cid, pid = create(runtime, b)
    runtime.run("start", cid, check=True)
    mem, pids, cpu = cgdir(pid, "memory"), cgdir(pid, "pids"), cgdir(pid, "cpu")

    # Raising memory and memory+swap together needs the swap limit
    # written first on v1; only the given fields change.
    r = update(runtime, cid, {"memory": {"limit": 128 * MiB, "swap": 256 * MiB},
                              "pids": {"limit": 50}})
    assert r.returncode == 0, r
    if V2:
        assert read(mem, "memory.max") == str(128 * MiB)
        assert read(mem, "memory.swap.max") == str(128 * MiB)
        assert read(cpu, "cpu.max") == "50000 100000"
    else:
        assert read(mem, "memory.limit_in_bytes") == str(128 * MiB)
        if os.path.exists(os.path.join(mem, "memory.memsw.limit_in_bytes")):
            assert read(mem, "memory.memsw.limit_in_bytes") == str(256 * MiB)
        assert read(cpu, "cpu.cfs_quota_us") == "50000"
    assert read(pids, "pids.max") == "50"

    # And back down: now the memory limit goes first.
    r = update(runtime, cid, {"memory": {"limit": 32 * MiB, "swap": 48 * MiB}})
    assert r.returncode == 0, r
    assert read(mem, "memory.max" if V2 else "memory.limit_in_bytes") == str(32 * MiB)

    # The period alone keeps the quota (polis' update changes only the
    # given fields; runc and crun fill the rest in from the config).
    r = update(runtime, cid, {"cpu": {"period": 200000}})
    assert r.returncode == 0, r
    if V2:
        # runc 1.1.5 and crun 1.8 write "max PERIOD" on v2: the quota is lost.
        want = "50000 200000" if runtime.name == "polis" else "max 200000"
        assert read(cpu, "cpu.max") == want
    else:
        assert read(cpu, "cpu.cfs_period_us") == "200000"
        assert read(cpu, "cpu.cfs_quota_us") == "50000"
    runtime.run("delete", "--force", cid, check=True)


def test_update_below_usage_refused(runtime, make_bundle):
    # A shell holding 8 MiB in a variable (and using it after the sleep,
    # so that it does not exec the sleep); a 1 MiB limit is impossible.
    hold = "x=$(head -c 8388608 /dev/zero | tr '\\0' x); sleep 60; echo ${#x}"
    b = with_resources(make_bundle(["sh", "-c", hold]), {"memory": {"limit": 128 * MiB}})
    cid, pid = create(runtime, b)
    runtime.run("start", cid, check=True)
    mem = cgdir(pid, "memory")
    usage = "memory.current" if V2 else "memory.usage_in_bytes"
    for _ in range(400):
        if int(read(mem, usage)) > 8 * MiB:
            break
        time.sleep(0.05)
    assert int(read(mem, usage)) > 8 * MiB
    if V2 and runtime.name != "polis":
        pytest.skip("runc/crun update has no checkBeforeUpdate")
    limit = {"limit": MiB}
    if V2:
        # v2 would OOM-kill instead; the spec's checkBeforeUpdate asks for
        # the v1 behaviour.
        limit["checkBeforeUpdate"] = True
    r = update(runtime, cid, {"memory": limit})
    assert r.returncode != 0, r
    if runtime.name == "polis":
        assert "linux.resources.memory.limit" in r.stderr, r
        assert "usage" in r.stderr, r
    assert runtime.status(cid) == "running"
    assert int(read(mem, "memory.max" if V2 else "memory.limit_in_bytes")) == 128 * MiB
    runtime.run("delete", "--force", cid, check=True)


def test_update_devices(runtime, make_bundle):
    if runtime.name != "polis":
        pytest.skip("runc and crun do not update device rules")
    b = make_bundle(["sleep", "60"])
    add_caps(b, "CAP_MKNOD")
    b.save()
    cid, pid = create(runtime, b)
    runtime.run("start", cid, check=True)

    def can_open():
        # A process that joins the container's cgroup (on v1 the devices
        # hierarchy's is the one that counts) and opens /dev/kmsg.
        code = ("import os,sys\n"
                "open(os.path.join(sys.argv[1],'cgroup.procs'),'w').write(str(os.getpid()))\n"
                "try:\n open('/dev/kmsg','rb').close(); print('ok')\n"
                "except PermissionError: print('denied')\n")
        r = subprocess.run(["/usr/bin/python3", "-c", code, cgdir(pid, "devices")],
                           capture_output=True, text=True)
        return r.stdout.strip()

    assert can_open() == "denied"
    r = tool(runtime, cid, "update", json.dumps({"devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 11, "access": "r"}]}))
    assert r.returncode == 0, r
    assert can_open() == "ok"
    # Changing something else leaves the device rules alone.
    r = tool(runtime, cid, "update", json.dumps({"pids": {"limit": 30}}))
    assert r.returncode == 0, r
    assert can_open() == "ok"
    runtime.run("delete", "--force", cid, check=True)


def test_stats(runtime, make_bundle):
    if runtime.name != "polis":
        pytest.skip("cgroup_stats is polis' library API (events --stats elsewhere)")
    b = with_resources(make_bundle(["sleep", "60"]), {
        "memory": {"limit": 64 * MiB}, "pids": {"limit": 20},
        "cpu": {"quota": 50000, "period": 100000}})
    cid, _pid = create(runtime, b)
    runtime.run("start", cid, check=True)
    r = tool(runtime, cid, "stats")
    assert r.returncode == 0, r
    st = json.loads(r.stdout)
    assert set(st) >= {"cpu", "memory", "pids", "blkio", "hugetlb"}
    assert st["memory"]["usage"]["limit"] == 64 * MiB
    assert st["memory"]["usage"]["usage"] > 0
    assert "failcnt" in st["memory"]["usage"]
    assert st["pids"] == {"current": 1, "limit": 20}
    assert st["cpu"]["usage"]["total"] > 0
    assert "kernel" in st["cpu"]["usage"] and "user" in st["cpu"]["usage"]
    assert isinstance(st["memory"].get("raw", {}), dict)
    runtime.run("delete", "--force", cid, check=True)


def test_freeze(runtime, make_bundle):
    if runtime.name != "polis":
        pytest.skip("cgroup_freeze is polis' library API (pause elsewhere)")
    count = "i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done"
    b = make_bundle(["sh", "-c", count]).save()
    cid, _pid = create(runtime, b)
    runtime.run("start", cid, check=True)
    counter = os.path.join(b.rootfs, "tmp", "count")

    def value():
        try:
            with open(counter) as f:
                return int(f.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    for _ in range(200):
        if value() > 0:
            break
        time.sleep(0.05)
    r = tool(runtime, cid, "freeze", "1")
    assert r.returncode == 0 and r.stdout.strip() == "frozen", r
    assert runtime.status(cid) == "paused"
    before = value()
    time.sleep(0.5)
    assert value() == before
    r = tool(runtime, cid, "freeze", "0")
    assert r.returncode == 0 and r.stdout.strip() == "thawed", r
    for _ in range(100):
        if value() > before:
            break
        time.sleep(0.05)
    assert value() > before
    assert runtime.status(cid) == "running"
    runtime.run("delete", "--force", cid, check=True)
