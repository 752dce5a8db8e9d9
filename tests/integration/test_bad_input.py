"""Bad input: each is refused with a clear error on stderr and a non-zero
exit status, and leaves nothing behind (state, cgroup, mounts, processes)."""

import os

import pytest

from conftest import cgroup_leftovers, mounts_under, unique_cgroups_path


def assert_clean_failure(runtime, r, bundle, words=()):
    assert r.returncode != 0, r
    assert r.stderr.strip() != "", r
    for w in words:
        assert w.lower() in r.stderr.lower(), (w, r.stderr)
    assert runtime.state(bundle.id) is None
    assert runtime.run("list", "-q").stdout == ""
    cgpath = bundle.linux.get("cgroupsPath")
    if cgpath:
        assert cgroup_leftovers(cgpath) == []
    assert mounts_under(bundle.path) == []


def create(runtime, bundle, *extra):
    """Create with a cgroup of its own, to check that it is gone after."""
    bundle.linux["cgroupsPath"] = unique_cgroups_path()
    return runtime.create_bundle(bundle, *extra, check=False)


def write_raw_config(bundle, text):
    with open(os.path.join(bundle.path, "config.json"), "w") as f:
        f.write(text)


@pytest.mark.parametrize("text", ['{"ociVersion": "1.0.2", "root": ', "[]", ""],
                         ids=["truncated", "not-an-object", "empty"])
def test_malformed_json(runtime, make_bundle, text):
    b = make_bundle()
    cid = runtime.new_id()
    b.id = cid
    write_raw_config(b, text)
    r = runtime.run("create", "--bundle", b.path, cid)
    assert_clean_failure(runtime, r, b)


def test_missing_config(runtime, make_bundle):
    b = make_bundle()
    cid = runtime.new_id()
    b.id = cid
    r = runtime.run("create", "--bundle", b.path, cid)
    assert_clean_failure(runtime, r, b, ["config.json"])


def test_missing_bundle(runtime, tmp):
    cid = runtime.new_id()
    r = runtime.run("create", "--bundle", os.path.join(tmp, "nowhere"), cid)
    assert r.returncode != 0
    assert r.stderr.strip() != ""
    assert runtime.state(cid) is None


def _del(path):
    def f(b):
        obj = b.config
        for k in path[:-1]:
            obj = obj[k]
        del obj[path[-1]]
    return f


def _set(path, value):
    def f(b):
        obj = b.config
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
    return f


# Configs every runtime must refuse, and words that polis, runc and crun
# all put in the error.
BAD_CONFIGS = {
    "no-root": (_del(["root"]), ["root"]),
    "no-process": (_del(["process"]), ["process"]),
    "no-args": (_del(["process", "args"]), ["args"]),
    "empty-args": (_set(["process", "args"], []), ["args"]),
    "args-not-a-list": (_set(["process", "args"], "sh"), ["args"]),
    "rootfs-missing": (_set(["root", "path"], "no-such-rootfs"), ["no-such-rootfs"]),
    "relative-cwd": (_set(["process", "cwd"], "tmp"), ["cwd"]),
    "mount-without-destination": (lambda b: b.config["mounts"].append(
        {"type": "tmpfs", "source": "tmpfs"}), ["destination"]),
    "unknown-namespace": (lambda b: b.linux["namespaces"].append({"type": "bogus"}),
                          ["bogus"]),
    "userns-without-mappings": (lambda b: b.add_namespace("user"), ["mapping"]),
    "hostname-without-uts": (lambda b: b.drop_namespace("uts"), ["hostname"]),
    "unknown-rlimit": (_set(["process", "rlimits"],
                            [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]),
                       ["RLIMIT_BOGUS"]),
    "rlimit-soft-above-hard": (_set(["process", "rlimits"],
                                    [{"type": "RLIMIT_NOFILE", "soft": 2000, "hard": 1000}]),
                               ["rlimit"]),
    "unknown-mount-type": (lambda b: b.add_mount("/mnt", "no-such-fs", "none"),
                           ["no such device"]),
    "bind-source-missing": (lambda b: b.add_mount("/mnt", "bind", "/no/such/source",
                                                  ["bind"]), ["/no/such/source"]),
    # Set to the host's value: harmless even if a runtime took it.
    "sysctl-not-namespaced": (
        lambda b: b.linux.update(sysctl={"vm.overcommit_ratio": open(
            "/proc/sys/vm/overcommit_ratio").read().strip()}), ["vm.overcommit_ratio"]),
    "sysctl-net-without-netns": (
        lambda b: (b.drop_namespace("network"),
                   b.linux.update(sysctl={"net.ipv4.ip_forward": "0"})),
        ["net.ipv4.ip_forward"]),
    "oom-score-adj-out-of-range": (_set(["process", "oomScoreAdj"], 5000), ["oom"]),
    "device-bad-type": (_set(["linux", "devices"],
                             [{"path": "/dev/x", "type": "x", "major": 1, "minor": 3}]),
                        ["device"]),
}

# crun 1.8 creates these containers anyway (the process fails at start, or
# the field is ignored).
CRUN_ACCEPTS = {"no-args", "args-not-a-list", "relative-cwd", "device-bad-type"}
# crun 1.8 refuses these with a message that does not name the problem
# ("error loading config.json", "internal error: max number of
# capabilities not initialized", "open executable: Invalid argument", a
# devpts mount failing).
CRUN_VAGUE = {"no-process", "empty-args", "mount-without-destination",
              "userns-without-mappings"}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_refused(runtime, make_bundle, case):
    mutate, words = BAD_CONFIGS[case]
    b = make_bundle()
    mutate(b)
    host_ratio = open("/proc/sys/vm/overcommit_ratio").read()
    r = create(runtime, b)
    assert open("/proc/sys/vm/overcommit_ratio").read() == host_ratio
    if runtime.name == "crun" and case in CRUN_ACCEPTS:
        return
    if runtime.name == "crun" and case in CRUN_VAGUE:
        words = []
    assert_clean_failure(runtime, r, b, words)


@pytest.mark.parametrize("path", ["/proc/999999999/ns/net", "/etc/hostname"],
                         ids=["missing", "not-a-namespace"])
def test_bad_namespace_path(runtime, make_bundle, path):
    b = make_bundle()
    b.add_namespace("network", path)
    r = create(runtime, b)
    assert_clean_failure(runtime, r, b)


@pytest.mark.parametrize("cid", ["../escape", "a/b", ".."])
def test_invalid_container_id(runtime, make_bundle, tmp, cid):
    b = make_bundle().save()
    r = runtime.run("create", "--bundle", b.path, cid)
    assert r.returncode != 0
    assert r.stderr.strip() != ""
    assert os.listdir(runtime.root) == []
    assert not os.path.exists(os.path.join(tmp, "escape"))


@pytest.mark.parametrize("args,word", [
    (["/no/such/binary"], "/no/such/binary"),
    (["no-such-command"], "no-such-command"),
    (["/etc/passwd"], "/etc/passwd"),  # not executable
    (["/etc"], "/etc"),  # a directory
])
def test_bad_executable(runtime, make_bundle, args, word):
    b = make_bundle(args)
    b.linux["cgroupsPath"] = unique_cgroups_path()
    r = runtime.run_bundle(b)
    # crun 1.8 says "open executable: Permission denied" without the name.
    vague = runtime.name == "crun" and word in ("/etc/passwd", "/etc")
    assert_clean_failure(runtime, r, b, [] if vague else [word])


def test_exec_format_error(runtime, make_bundle):
    """An executable file the kernel cannot run: found, then execve fails."""
    b = make_bundle(["/garbage"])
    b.write_file("garbage", "\x7fELF but not really\n", 0o755)
    b.linux["cgroupsPath"] = unique_cgroups_path()
    r = runtime.run_bundle(b)
    assert_clean_failure(runtime, r, b, ["/garbage"])
    assert r.stderr.lower().count("exec format error") == 1, r.stderr


@pytest.mark.parametrize("cwd", ["/etc/passwd/x", "/etc/passwd"],
                         ids=["under-a-file", "a-file"])
def test_bad_cwd(runtime, make_bundle, cwd):
    b = make_bundle(["true"])
    b.process["cwd"] = cwd
    b.linux["cgroupsPath"] = unique_cgroups_path()
    r = runtime.run_bundle(b)
    assert_clean_failure(runtime, r, b)


def test_pid_file_in_missing_directory(runtime, make_bundle, tmp):
    b = make_bundle(["sleep", "30"])
    b.linux["cgroupsPath"] = unique_cgroups_path()
    r = runtime.create_bundle(b, "--pid-file", os.path.join(tmp, "no-dir", "pid"),
                              check=False)
    assert_clean_failure(runtime, r, b, ["no-dir"])


def test_overlapping_id_mappings(runtime, make_bundle):
    b = make_bundle(["true"], traversable=True)
    b.set_userns(uid_maps=[(0, 100000, 1000), (500, 200000, 1000)],
                 gid_maps=[(0, 100000, 65536)])
    r = create(runtime, b)
    assert_clean_failure(runtime, r, b, ["uid_map"])


def test_rlimit_above_hard_limit(runtime, make_bundle):
    """This host's hard RLIMIT_NOFILE is 20000 and the runtime has no
    CAP_SYS_RESOURCE: 30000 cannot be granted."""
    b = make_bundle(["true"])
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 30000, "hard": 30000}]
    b.linux["cgroupsPath"] = unique_cgroups_path()
    r = runtime.run_bundle(b)
    assert_clean_failure(runtime, r, b, ["rlimit"])
