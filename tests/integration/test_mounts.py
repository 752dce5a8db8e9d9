"""root and mounts: pivot_root and --no-pivot, root.readonly,
rootfsPropagation, mount types and options, propagation, destinations that
try to leave the rootfs, maskedPaths, readonlyPaths, linux.sysctl."""

import os
import subprocess

import pytest

from conftest import mount_at, mounts_under, parse_mountinfo


def run_ok(runtime, bundle, *extra):
    r = runtime.run_bundle(bundle, *extra)
    assert r.returncode == 0, r
    return r.stdout


@pytest.mark.parametrize("pivot", [True, False], ids=["pivot_root", "no-pivot"])
def test_root_is_the_bundle_rootfs(runtime, make_bundle, tmp, pivot):
    b = make_bundle(["sh", "-c", "cat /marker; ls /; echo ---; cat /proc/self/mountinfo"])
    b.write_file("marker", "in the rootfs\n")
    out = run_ok(runtime, b, *([] if pivot else ["--no-pivot"]))
    marker, rest = out.split("\n", 1)
    listing, mountinfo = rest.split("---\n", 1)
    assert marker == "in the rootfs"
    assert sorted(listing.split()) == sorted(os.listdir(b.rootfs))
    mounts = parse_mountinfo(mountinfo)
    # The host's file systems are out of sight, the rootfs is "/".
    assert mounts[0]["mountpoint"] == "/"
    for m in mounts:
        assert not m["mountpoint"].startswith(tmp), m
        assert not m["mountpoint"].startswith("/work"), m
    for mp in ("/proc", "/dev", "/sys"):
        mount_at(mounts, mp)


def test_root_path_absolute(runtime, make_bundle, tmp):
    """root.path may be absolute, anywhere: the bundle holds only config.json."""
    b = make_bundle(["cat", "/marker"])
    elsewhere = os.path.join(tmp, "elsewhere")
    os.rename(b.rootfs, elsewhere)
    with open(os.path.join(elsewhere, "marker"), "w") as f:
        f.write("absolute root\n")
    b.config["root"]["path"] = elsewhere
    assert run_ok(runtime, b) == "absolute root\n"


def test_root_readonly(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "touch /new-file; echo root=$?; "
                     "touch /dev/shm/x; echo shm=$?; cat /proc/self/mountinfo"])
    b.config["root"]["readonly"] = True
    out = run_ok(runtime, b)
    lines = out.splitlines()
    assert lines[:2] == ["root=1", "shm=0"]  # the mounts on top stay writable
    assert "ro" in mount_at(parse_mountinfo(out), "/")["opts"]
    assert not os.path.exists(os.path.join(b.rootfs, "new-file"))


def test_root_writable_by_default(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "echo hi > /new-file"])
    run_ok(runtime, b)
    assert open(os.path.join(b.rootfs, "new-file")).read() == "hi\n"


# runc 1.1 cannot use "unbindable": it makes / unbindable before it binds
# the rootfs, which then fails.  The host's mounts here are private, so a
# slave of them is private too: "slave" cannot be told from "private".
@pytest.mark.parametrize("prop,field", [("shared", "shared:"), ("private", None)])
def test_rootfs_propagation(runtime, make_bundle, prop, field):
    b = make_bundle(["cat", "/proc/self/mountinfo"])
    b.linux["rootfsPropagation"] = prop
    out = run_ok(runtime, b)
    optional = mount_at(parse_mountinfo(out), "/")["optional"]
    if runtime.name == "runc" and prop == "shared":
        # runc 1.1 makes the rootfs's parent mount private before binding
        # the rootfs, and does not apply rootfsPropagation after
        # pivot_root: the root stays private (fixed in runc 1.2).
        return
    if field is None:
        assert optional == [], optional
    else:
        assert any(o.startswith(field) for o in optional), optional


def test_default_mount_types_and_options(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "cat /proc/self/mountinfo; echo ---; "
                     "stat -c '%n %a' /dev /dev/shm; ls /sys/fs/cgroup; "
                     "touch /sys/x; echo sys=$?"])
    out = run_ok(runtime, b)
    info, rest = out.split("---\n", 1)
    mounts = parse_mountinfo(info)
    proc = mount_at(mounts, "/proc")
    assert proc["fstype"] == "proc"
    dev = mount_at(mounts, "/dev")
    assert dev["fstype"] == "tmpfs"
    assert "nosuid" in dev["opts"]
    assert "mode=755" in dev["super"]
    assert "size=65536k" in dev["super"]
    pts = mount_at(mounts, "/dev/pts")
    assert pts["fstype"] == "devpts"
    assert {"nosuid", "noexec"} <= pts["opts"]
    assert {"mode=620", "ptmxmode=666", "gid=5"} <= pts["super"]
    shm = mount_at(mounts, "/dev/shm")
    assert shm["fstype"] == "tmpfs"
    assert {"nosuid", "nodev", "noexec"} <= shm["opts"]
    mq = mount_at(mounts, "/dev/mqueue")
    assert mq["fstype"] == "mqueue"
    assert {"nosuid", "nodev", "noexec"} <= mq["opts"]
    sysfs = mount_at(mounts, "/sys")
    assert sysfs["fstype"] == "sysfs"
    assert {"ro", "nosuid", "nodev", "noexec"} <= sysfs["opts"]
    cg = mount_at(mounts, "/sys/fs/cgroup")
    # On a v1 or hybrid host a tmpfs with a directory per hierarchy (runc
    # and crun leave the tmpfs itself writable, the hierarchies not).
    if cg["fstype"] == "tmpfs":
        mem = mount_at(mounts, "/sys/fs/cgroup/memory")
        assert mem["fstype"] == "cgroup"
        assert "memory" in mem["super"]
        assert "ro" in mem["opts"]
    else:
        assert cg["fstype"] == "cgroup2"
        assert "ro" in cg["opts"]
    lines = rest.splitlines()
    assert lines[0] == "/dev 755"
    assert lines[1] == "/dev/shm 1777"
    if cg["fstype"] == "tmpfs":
        assert "memory" in lines
    assert lines[-1] == "sys=1"


def test_tmpfs_options(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "stat -c %a /scratch; grep ' /scratch ' /proc/self/mountinfo; "
                     "cp /script /scratch/ && /scratch/script; echo exec=$?; "
                     "dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>/dev/null; "
                     "echo dd=$?"])
    b.add_mount("/scratch", "tmpfs", "tmpfs",
                ["nosuid", "noexec", "nodev", "noatime", "mode=700", "size=1m"])
    b.write_file("script", "#!/bin/sh\necho ran\n", 0o755)
    out = run_ok(runtime, b).splitlines()
    assert out[0] == "700"
    m = parse_mountinfo(out[1])[0]
    assert {"nosuid", "noexec", "nodev", "noatime"} <= m["opts"]
    assert "size=1024k" in m["super"]
    assert out[2] == "exec=126"  # noexec: Permission denied
    assert out[3] == "dd=1"  # size=1m: no room for 2 MiB


@pytest.fixture
def hostdir(tmp):
    """A host directory with a file, a script and a subdirectory."""
    d = os.path.join(tmp, "hostdir")
    os.makedirs(os.path.join(d, "sub"))
    with open(os.path.join(d, "file"), "w") as f:
        f.write("host file\n")
    with open(os.path.join(d, "script"), "w") as f:
        f.write("#!/bin/sh\necho script ran\n")
    os.chmod(os.path.join(d, "script"), 0o755)
    return d


def test_bind_mount_options(runtime, make_bundle, hostdir):
    b = make_bundle(["sh", "-c", "cat /rw/file; echo new > /rw/new; echo rw=$?; "
                     "echo x > /ro/x; echo ro=$?; /noexec/script; echo noexec=$?; "
                     "/rw/script; grep -E ' /(rw|ro|noexec|nosuid|nodev|noatime|strict) ' "
                     "/proc/self/mountinfo"])
    b.add_mount("/rw", "bind", hostdir, ["bind", "rw"])
    b.add_mount("/ro", "bind", hostdir, ["bind", "ro"])
    b.add_mount("/noexec", "bind", hostdir, ["bind", "noexec"])
    b.add_mount("/nosuid", "bind", hostdir, ["bind", "nosuid"])
    b.add_mount("/nodev", "bind", hostdir, ["bind", "nodev"])
    b.add_mount("/noatime", "bind", hostdir, ["bind", "noatime"])
    b.add_mount("/strict", "bind", hostdir, ["bind", "strictatime"])
    out = run_ok(runtime, b).splitlines()
    assert out[:5] == ["host file", "rw=0", "ro=1", "noexec=126", "script ran"]
    opts = {m["mountpoint"]: m["opts"] for m in parse_mountinfo("\n".join(out[5:]))}
    assert "rw" in opts["/rw"]
    assert "ro" in opts["/ro"]
    assert "noexec" in opts["/noexec"] and "noexec" not in opts["/rw"]
    assert "nosuid" in opts["/nosuid"] and "nosuid" not in opts["/rw"]
    assert "nodev" in opts["/nodev"] and "nodev" not in opts["/rw"]
    assert "noatime" in opts["/noatime"]
    assert not {"noatime", "relatime"} & opts["/strict"]
    # The writable bind is the host's directory.
    assert open(os.path.join(hostdir, "new")).read() == "new\n"


def test_bind_mount_files_and_relative_source(runtime, make_bundle, hostdir):
    b = make_bundle(["sh", "-c", "cat /etc/hosts /new/dir/file /etc/passwd-copy /data/x; "
                     "echo more >> /etc/hosts; stat -c %F /new/dir/file"])
    b.write_file("etc/hosts", "original hosts\n")
    hosts = os.path.join(hostdir, "hosts")
    with open(hosts, "w") as f:
        f.write("host's hosts\n")
    # Relative sources are relative to the bundle.
    os.mkdir(os.path.join(b.path, "data"))
    with open(os.path.join(b.path, "data", "x"), "w") as f:
        f.write("bundle data\n")
    b.add_mount("/etc/hosts", "bind", hosts, ["bind", "rw"])
    b.add_mount("/new/dir/file", "bind", os.path.join(hostdir, "file"), ["bind", "ro"])
    b.add_mount("/etc/passwd-copy", "bind", "/etc/passwd", ["rbind", "ro"])
    b.add_mount("/data", "bind", "data", ["bind"])
    out = run_ok(runtime, b).splitlines()
    with open("/etc/passwd") as f:
        passwd = f.read().splitlines()
    assert out[0] == "host's hosts"
    assert out[1] == "host file"
    assert out[2:2 + len(passwd)] == passwd
    assert out[2 + len(passwd)] == "bundle data"
    # A file mount point is made as a file, and writes go to the source.
    assert out[-1] == "regular file"
    assert open(hosts).read() == "host's hosts\nmore\n"
    assert open(os.path.join(b.rootfs, "etc", "hosts")).read() == "original hosts\n"
    assert os.path.isfile(os.path.join(b.rootfs, "new", "dir", "file"))


@pytest.fixture
def host_submount(hostdir):
    """hostdir/sub with a tmpfs mounted on it, holding a file."""
    sub = os.path.join(hostdir, "sub")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", sub], check=True)
    with open(os.path.join(sub, "in-submount"), "w") as f:
        f.write("submount\n")
    yield sub
    subprocess.run(["umount", sub], check=True)


def test_bind_and_rbind(runtime, make_bundle, hostdir, host_submount):
    b = make_bundle(["sh", "-c", "ls /bind/sub; echo ---; cat /rbind/sub/in-submount"])
    b.add_mount("/bind", "bind", hostdir, ["bind"])
    b.add_mount("/rbind", "bind", hostdir, ["rbind"])
    out = run_ok(runtime, b)
    # bind takes the directory alone, rbind its submounts too.
    assert out == "---\nsubmount\n"


@pytest.fixture
def shared_hostdir(hostdir):
    """hostdir as a shared mount, so that mounts under it propagate."""
    subprocess.run(["mount", "--bind", hostdir, hostdir], check=True)
    subprocess.run(["mount", "--make-shared", hostdir], check=True)
    yield hostdir
    subprocess.run(["umount", "-R", hostdir], check=True)


def test_mount_propagation_flags(runtime, make_bundle, shared_hostdir):
    b = make_bundle(["sh", "-c", "(cat /slave/sub/late; echo ---; ls -A /private/sub; "
                     "echo ---; cat /proc/self/mountinfo) > /tmp/out 2>&1"])
    b.linux["rootfsPropagation"] = "rslave"
    b.add_mount("/slave", "bind", shared_hostdir, ["rbind", "rslave"])
    b.add_mount("/private", "bind", shared_hostdir, ["rbind", "rprivate"])
    b.add_mount("/shared", "bind", shared_hostdir, ["rbind", "rshared"])
    cid = runtime.create_bundle(b)
    # Mounted on the host after the container's mounts were made: only a
    # slave of the host's mount receives it.
    sub = os.path.join(shared_hostdir, "sub")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", sub], check=True)
    with open(os.path.join(sub, "late"), "w") as f:
        f.write("propagated\n")
    runtime.run("start", cid, check=True)
    assert runtime.wait_status(cid, "stopped") == "stopped"
    runtime.run("delete", cid, check=True)
    with open(os.path.join(b.rootfs, "tmp", "out")) as f:
        slave, private, info = f.read().split("---\n")
    assert private == ""
    mounts = parse_mountinfo(info)
    assert mount_at(mounts, "/private")["optional"] == []
    if runtime.name == "crun":
        # crun 1.8 clones bind mounts with open_tree(), which leaves them
        # private whatever their propagation option says.
        return
    assert slave == "propagated\n"
    opt = mount_at(mounts, "/slave")["optional"]
    assert any(o.startswith("master:") for o in opt), opt
    assert not any(o.startswith("shared:") for o in opt), opt
    opt = mount_at(mounts, "/shared")["optional"]
    assert any(o.startswith("shared:") for o in opt), opt


def test_mount_destination_with_dotdot_stays_inside(runtime, make_bundle, hostdir, tmp):
    target = os.path.join(hostdir, "dotdot-new")
    b = make_bundle(["cat", target + "/file"])
    b.add_mount("/../../../../../../.." + target, "bind", hostdir, ["bind", "ro"])
    out = run_ok(runtime, b)
    assert out == "host file\n"
    # The mount point was made in the rootfs, never on the host.
    assert not os.path.exists(target)
    assert os.path.isdir(b.rootfs + target)


@pytest.mark.parametrize("kind", ["absolute", "relative"])
def test_mount_destination_symlink_stays_inside(runtime, make_bundle, hostdir, tmp, kind):
    before = sorted(os.listdir(hostdir))
    src = os.path.join(tmp, "source")
    os.mkdir(src)
    with open(os.path.join(src, "marker"), "w") as f:
        f.write("from the mount source\n")
    b = make_bundle(["cat", "/escape/newdir/marker"])
    # /escape in the rootfs points at the host directory.
    link = hostdir if kind == "absolute" else "../" * 20 + hostdir.lstrip("/")
    os.symlink(link, os.path.join(b.rootfs, "escape"))
    # Where the link leads inside the rootfs (crun refuses a dangling one).
    os.makedirs(b.rootfs + hostdir)
    b.add_mount("/escape/newdir", "bind", src, ["bind"])
    out = run_ok(runtime, b)
    assert out == "from the mount source\n"
    # The host directory is untouched: nothing created, nothing mounted;
    # the mount point was made in the rootfs.
    assert sorted(os.listdir(hostdir)) == before
    assert mounts_under(hostdir) == []
    assert os.path.isdir(b.rootfs + hostdir + "/newdir")


def test_mount_destination_through_symlink_inside_rootfs(runtime, make_bundle):
    """/var/run -> ../run, as in most images: the mount lands on /run."""
    b = make_bundle(["sh", "-c", "readlink /var/run; cat /proc/self/mountinfo"])
    os.mkdir(os.path.join(b.rootfs, "run"))
    os.symlink("../run", os.path.join(b.rootfs, "var", "run"))
    b.add_mount("/var/run", "tmpfs", "tmpfs", ["size=1m"])
    out = run_ok(runtime, b)
    assert out.splitlines()[0] == "../run"
    assert mount_at(parse_mountinfo(out), "/run")["fstype"] == "tmpfs"
    assert os.path.islink(os.path.join(b.rootfs, "var", "run"))


def test_readonly_paths(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "echo x > /ro-dir/new; echo dir=$?; "
                     "echo x >> /ro-file; echo file=$?; cat /ro-file; "
                     "echo x > /tmp/rw; echo tmp=$?; "
                     "echo name > /proc/sys/kernel/hostname; echo procsys=$?"])
    os.mkdir(os.path.join(b.rootfs, "ro-dir"))
    b.write_file("ro-file", "original\n")
    b.linux["readonlyPaths"] += ["/ro-dir", "/ro-file", "/does-not-exist"]
    out = run_ok(runtime, b).splitlines()
    assert out == ["dir=1", "file=1", "original", "tmp=0", "procsys=1"]


def test_masked_paths(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "ls -A /secret-dir; echo ---; cat /secret-file; echo ---; "
                     "wc -c < /proc/kcore; ls -A /sys/firmware; echo ---; cat /visible"])
    b.write_file("secret-dir/key", "secret\n")
    b.write_file("secret-file", "secret\n")
    b.write_file("visible", "visible\n")
    b.linux["maskedPaths"] += ["/secret-dir", "/secret-file", "/does-not-exist"]
    out = run_ok(runtime, b)
    parts = out.split("---\n")
    assert parts[0] == ""
    assert parts[1] == ""
    kcore = parts[2].split()
    if os.path.exists("/proc/kcore"):
        assert kcore[0] == "0"
    assert parts[3] == "visible\n"


def test_sysctl(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward "
                     "/proc/sys/kernel/msgmax /proc/sys/net/ipv4/ip_default_ttl"])
    b.linux["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "12345",
                         "net.ipv4.ip_default_ttl": "42"}
    with open("/proc/sys/kernel/msgmax") as f:
        host_msgmax = f.read()
    out = run_ok(runtime, b)
    assert out.split() == ["1", "12345", "42"]
    with open("/proc/sys/kernel/msgmax") as f:
        assert f.read() == host_msgmax
