"""/dev: the default device nodes, the /dev/fd and /dev/std* links,
/dev/pts/ptmx, and linux.devices (mknod, or bind mounts of the host's
nodes inside a user namespace)."""

import os
import uuid

from conftest import mount_at, parse_mountinfo

DEFAULT_DEVICES = {  # name: (major, minor)
    "null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8),
    "urandom": (1, 9), "tty": (5, 0),
}
STAT = "stat -c '%n|%F|%t:%T|%a|%u|%g'"


def parse_stat(out):
    """STAT output: {path: (type, "major:minor" in decimal, mode, uid, gid)}."""
    res = {}
    for line in out.splitlines():
        if line.count("|") != 5:
            continue
        name, kind, dev, mode, uid, gid = line.split("|")
        major, minor = (int(x, 16) for x in dev.split(":"))
        res[name] = (kind, (major, minor), mode, int(uid), int(gid))
    return res


def run_ok(runtime, bundle):
    r = runtime.run_bundle(bundle)
    assert r.returncode == 0, r
    return r.stdout


def test_default_devices(runtime, make_bundle):
    names = " ".join("/dev/" + n for n in DEFAULT_DEVICES)
    b = make_bundle(["sh", "-c", STAT + " " + names + "; ls /dev; "
                     "echo x > /dev/null && echo null=ok; "
                     "head -c 5 /dev/zero | wc -c; head -c 5 /dev/urandom | wc -c; "
                     "echo x > /dev/full; echo full=$?"])
    out = run_ok(runtime, b)
    st = parse_stat(out)
    for name, dev in DEFAULT_DEVICES.items():
        kind, got, mode, _, _ = st["/dev/" + name]
        assert kind == "character special file", name
        assert got == dev, name
        assert mode == "666", name
    rest = [l for l in out.splitlines() if "|" not in l]
    assert rest[-4:] == ["null=ok", "5", "5", "full=1"]
    listing = set(rest[:-4])
    required = set(DEFAULT_DEVICES) | {"fd", "stdin", "stdout", "stderr", "ptmx",
                                       "pts", "shm", "mqueue"}
    assert required <= listing
    # Nothing of the host's /dev besides (core is a link to /proc/kcore).
    assert listing - required <= {"core"}, listing - required


def test_dev_links(runtime, make_bundle):
    # /dev/stdout and /dev/stderr reopen fds 1 and 2: pipes here, so that
    # the reopening does not truncate the runtime's output file.
    b = make_bundle(["sh", "-c", "for l in fd stdin stdout stderr ptmx; do "
                     "echo $l $(readlink /dev/$l); done; "
                     "ls /dev/fd/ | sort -n | head -3 | tr '\\n' ' '; echo; "
                     "echo out > /dev/stdout | cat; "
                     "{ echo err > /dev/stderr; } 2>&1 | cat"])
    r = runtime.run_bundle(b)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[:5] == ["fd /proc/self/fd", "stdin /proc/self/fd/0",
                         "stdout /proc/self/fd/1", "stderr /proc/self/fd/2",
                         "ptmx pts/ptmx"]
    assert lines[5].split() == ["0", "1", "2"]
    assert lines[6:] == ["out", "err"]


def test_dev_pts_ptmx(runtime, make_bundle):
    b = make_bundle(["sh", "-c", STAT + " /dev/pts/ptmx; /sbin/polis-test-init --openpty; "
                     "ls /dev/pts"])
    out = run_ok(runtime, b)
    kind, dev, mode, _, _ = parse_stat(out)["/dev/pts/ptmx"]
    assert (kind, dev, mode) == ("character special file", (5, 2), "666")
    lines = out.splitlines()
    # A new devpts instance: the container's first pty is number 0.
    assert lines[1] == "/dev/pts/0"
    assert "ptmx" in lines[2:]


def test_linux_devices_mknod(runtime, make_bundle):
    b = make_bundle(["sh", "-c", STAT + " /dev/polis-full /dev/polis/sub/null /dev/polis-fifo; "
                     "echo x > /dev/polis/sub/null && echo null=ok; "
                     "echo x > /dev/polis-full; echo full=$?"])
    b.linux["devices"] = [
        {"path": "/dev/polis-full", "type": "c", "major": 1, "minor": 7,
         "fileMode": 0o620, "uid": 1000, "gid": 5},
        {"path": "/dev/polis/sub/null", "type": "c", "major": 1, "minor": 3,
         "fileMode": 0o666, "uid": 0, "gid": 0},
        {"path": "/dev/polis-fifo", "type": "p", "fileMode": 0o600},
    ]
    # The device cgroup of the default config denies everything but the
    # default devices: allow /dev/full's numbers explicitly.
    b.linux["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 1, "minor": 7, "access": "rwm"})
    out = run_ok(runtime, b)
    st = parse_stat(out)
    assert st["/dev/polis-full"] == ("character special file", (1, 7), "620", 1000, 5)
    assert st["/dev/polis/sub/null"][:3] == ("character special file", (1, 3), "666")
    assert st["/dev/polis-fifo"][0] == "fifo"
    assert st["/dev/polis-fifo"][2] == "600"
    lines = out.splitlines()
    assert lines[-2:] == ["null=ok", "full=1"]  # ENOSPC: it is /dev/full


def test_devices_in_user_namespace(runtime, make_bundle):
    """mknod is not allowed in a user namespace: the host's nodes are bind
    mounted instead, and work the same."""
    b = make_bundle(["sh", "-c", STAT + " /dev/null /dev/kmsg; "
                     "echo x > /dev/null && echo null=ok; cat /proc/self/mountinfo"],
                    traversable=True)
    b.set_userns()
    b.linux["devices"] = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11,
                           "fileMode": 0o644, "uid": 0, "gid": 0}]
    out = run_ok(runtime, b)
    st = parse_stat(out)
    assert st["/dev/null"][:2] == ("character special file", (1, 3))
    assert st["/dev/kmsg"][:2] == ("character special file", (1, 11))
    assert "null=ok" in out.splitlines()
    mounts = parse_mountinfo(out)
    mount_at(mounts, "/dev/null")
    mount_at(mounts, "/dev/kmsg")
    assert os.path.exists("/dev/kmsg")


def test_device_path_with_dotdot_stays_inside(runtime, make_bundle):
    target = "/tmp/polis-test-dev-" + uuid.uuid4().hex[:8]
    b = make_bundle(["sh", "-c", STAT + " " + target])
    b.linux["devices"] = [{"path": "/dev/../../../.." + target, "type": "c",
                           "major": 1, "minor": 3, "fileMode": 0o666}]
    out = run_ok(runtime, b)
    assert parse_stat(out)[target][:2] == ("character special file", (1, 3))
    assert not os.path.exists(target)
    assert os.path.exists(b.rootfs + target)
