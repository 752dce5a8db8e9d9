"""process: args, env, cwd, user, groups, umask, the five capability sets,
noNewPrivileges, rlimits, oomScoreAdj, --preserve-fds."""

import os

import pytest

from conftest import parse_status

CAP = {"CAP_CHOWN": 0, "CAP_KILL": 5, "CAP_SETUID": 7, "CAP_NET_BIND_SERVICE": 10,
       "CAP_NET_RAW": 13, "CAP_SYS_ADMIN": 21, "CAP_AUDIT_WRITE": 29}


def mask(*names):
    return sum(1 << CAP[n] for n in names)


def run_ok(runtime, bundle, **kw):
    r = runtime.run_bundle(bundle, **kw)
    assert r.returncode == 0, r
    return r.stdout


def test_args_env_cwd(runtime, make_bundle):
    b = make_bundle(["sh", "-c", 'pwd; echo "$GREETING"; echo "$EMPTY|"; '
                     'for a in "$@"; do echo "[$a]"; done',
                     "sh", "two words", "", "*", "quote\"d"])
    b.process["env"] += ["GREETING=hello world", "EMPTY="]
    b.process["cwd"] = "/home/user"
    out = run_ok(runtime, b)
    assert out.splitlines() == ["/home/user", "hello world", "|", "[two words]", "[]",
                                "[*]", '[quote"d]']


@pytest.mark.parametrize("readonly", [False, True], ids=["rw-root", "ro-root"])
def test_missing_cwd_is_created(runtime, make_bundle, readonly):
    """runc and crun make a missing cwd (inside the rootfs) rather than fail."""
    b = make_bundle(["sh", "-c", "pwd; stat -c '%a %u' ."])
    b.process["cwd"] = "/no/such/../dir/made"
    b.process["user"] = {"uid": 1000, "gid": 1000}
    b.config["root"]["readonly"] = readonly
    assert run_ok(runtime, b).split() == ["/no/dir/made", "755", "0"]
    assert os.path.isdir(os.path.join(b.rootfs, "no", "dir", "made"))


def test_env_is_exactly_the_configured_one(runtime, make_bundle):
    b = make_bundle(["env"])
    b.process["env"] = ["PATH=/bin", "ONLY=this", "HOME=/custom"]
    out = run_ok(runtime, b)
    assert sorted(out.splitlines()) == ["HOME=/custom", "ONLY=this", "PATH=/bin"]


@pytest.mark.parametrize("uid,home", [(0, "/root"), (1000, "/home/user")])
def test_home_from_passwd(runtime, make_bundle, uid, home):
    """Without HOME in env, the runtime takes it from the container's
    /etc/passwd."""
    b = make_bundle(["sh", "-c", 'echo "$HOME"'])
    b.process["user"] = {"uid": uid, "gid": uid}
    assert run_ok(runtime, b) == home + "\n"


def test_user_group_additional_gids(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "id; cat /proc/self/status"])
    b.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 65534]}
    out = run_ok(runtime, b)
    assert out.splitlines()[0].startswith("uid=1000(user) gid=1000(user)")
    st = parse_status(out)
    assert st["Uid"].split() == ["1000"] * 4
    assert st["Gid"].split() == ["1000"] * 4
    assert sorted(int(g) for g in st["Groups"].split()) == [5, 65534]


def test_root_user_without_additional_gids(runtime, make_bundle):
    b = make_bundle(["cat", "/proc/self/status"])
    st = parse_status(run_ok(runtime, b))
    assert st["Uid"].split() == ["0"] * 4
    assert st["Groups"] == ""


@pytest.mark.parametrize("umask,mode", [(None, "644"), (0o077, "600"), (0o027, "640")])
def test_umask(runtime, make_bundle, umask, mode):
    b = make_bundle(["sh", "-c", "umask; touch /tmp/f; stat -c %a /tmp/f"])
    if umask is not None:
        b.process["user"]["umask"] = umask
    out = run_ok(runtime, b).split()
    assert out == ["%04o" % (0o022 if umask is None else umask), mode]


def caps_of(out):
    st = parse_status(out)
    return {k: int(st[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


def test_capabilities_root(runtime, make_bundle):
    b = make_bundle(["/sbin/polis-test-init", "--print-caps"])
    names = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"]
    b.process["capabilities"] = {"bounding": names, "effective": names,
                                 "permitted": names}
    caps = caps_of(run_ok(runtime, b))
    m = mask(*names)
    assert caps == {"CapInh": 0, "CapPrm": m, "CapEff": m, "CapBnd": m, "CapAmb": 0}


def test_capabilities_five_sets_non_root(runtime, make_bundle):
    """As a user other than root, execve keeps the bounding and inheritable
    sets and rebuilds permitted and effective from the ambient set: each
    of the five is seen in /proc/self/status."""
    b = make_bundle(["/sbin/polis-test-init", "--print-caps"])
    b.process["user"] = {"uid": 1000, "gid": 1000}
    b.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"],
        "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "ambient": ["CAP_NET_BIND_SERVICE"],
    }
    caps = caps_of(run_ok(runtime, b))
    assert caps == {
        "CapBnd": mask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"),
        "CapInh": mask("CAP_KILL", "CAP_NET_BIND_SERVICE"),
        "CapAmb": mask("CAP_NET_BIND_SERVICE"),
        "CapPrm": mask("CAP_NET_BIND_SERVICE"),
        "CapEff": mask("CAP_NET_BIND_SERVICE"),
    }


def test_capabilities_are_enforced(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "chown 1000 /tmp; echo chown=$?; "
                     "hostname other 2>/dev/null; echo hostname=$?"])
    names = ["CAP_CHOWN"]  # no CAP_SYS_ADMIN: no sethostname
    b.process["capabilities"] = {"bounding": names, "effective": names,
                                 "permitted": names}
    assert run_ok(runtime, b).split() == ["chown=0", "hostname=1"]


@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(runtime, make_bundle, nnp):
    b = make_bundle(["cat", "/proc/self/status"])
    b.process["noNewPrivileges"] = nnp
    assert parse_status(run_ok(runtime, b))["NoNewPrivs"] == ("1" if nnp else "0")


def test_rlimits(runtime, make_bundle):
    b = make_bundle(["cat", "/proc/self/limits"])
    b.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 2000},
        {"type": "RLIMIT_CORE", "soft": 4096, "hard": 8192},
        {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
    ]
    limits = {}
    for line in run_ok(runtime, b).splitlines()[1:]:
        parts = line.split()
        # "Max open files            1000                 2000                 files"
        name = " ".join(p for p in parts if not p.isdigit() and p != "unlimited")
        nums = [p for p in parts if p.isdigit() or p == "unlimited"]
        limits[name] = nums[:2]
    assert limits["Max open files files"] == ["1000", "2000"]
    assert limits["Max core file size bytes"] == ["4096", "8192"]
    assert limits["Max processes processes"] == ["300", "400"]


@pytest.mark.parametrize("userns", [False, True], ids=["host-userns", "userns"])
def test_oom_score_adj(runtime, make_bundle, userns):
    # This host refuses a negative adjustment even to root; a positive one
    # is always allowed.
    b = make_bundle(["cat", "/proc/self/oom_score_adj"], traversable=userns)
    if userns:
        b.set_userns()
    b.process["oomScoreAdj"] = 500
    assert run_ok(runtime, b) == "500\n"


def test_rlimits_sysctl_readonly_root_in_user_namespace(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward; ulimit -n; ulimit -Hn; "
                     "touch /x; echo root=$?"], traversable=True)
    b.set_userns()
    b.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}]
    b.config["root"]["readonly"] = True
    assert run_ok(runtime, b).split() == ["1", "100", "200", "root=1"]


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="LINUX32 is i686 on x86_64")
@pytest.mark.parametrize("domain,machine", [("LINUX32", "i686"), ("LINUX", "x86_64")])
def test_personality(runtime, make_bundle, domain, machine):
    b = make_bundle(["uname", "-m"])
    b.linux["personality"] = {"domain": domain}
    out = run_ok(runtime, b)
    if runtime.name == "runc":
        # runc 1.1 ignores linux.personality (support came in runc 1.2).
        return
    assert out == machine + "\n"


def test_personality_unknown_domain_refused(runtime, make_bundle):
    b = make_bundle(["true"])
    b.linux["personality"] = {"domain": "BOGUS"}
    r = runtime.run_bundle(b)
    if runtime.name == "runc":  # ignored altogether, see above
        return
    assert r.returncode != 0
    assert "BOGUS" in r.stderr


def _fd_listing(out):
    return dict(line.split(" ", 1) for line in out.splitlines())


def test_preserve_fds_passes_exactly_n(runtime, make_bundle, tmp):
    files = []
    for i, text in enumerate(["first\n", "second\n", "third\n"]):
        p = os.path.join(tmp, "f%d" % i)
        with open(p, "w") as f:
            f.write(text)
        files.append((p, os.open(p, os.O_RDONLY)))
    b = make_bundle(["sh", "-c", "cat <&3; cat <&4; /sbin/polis-test-init --fds"])
    try:
        r = runtime.run_bundle(b, "--preserve-fds", "2",
                               extra_fds={3: files[0][1], 4: files[1][1], 5: files[2][1]})
    finally:
        for _, fd in files:
            os.close(fd)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[:2] == ["first", "second"]
    fds = _fd_listing("\n".join(lines[2:]))
    assert sorted(int(fd) for fd in fds) == [0, 1, 2, 3, 4]
    assert fds["3"] == files[0][0]
    assert fds["4"] == files[1][0]


def _lsm_enabled():
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            apparmor = f.read().startswith("Y")
    except OSError:
        apparmor = False
    return apparmor, os.path.exists("/sys/fs/selinux/enforce")


@pytest.mark.parametrize("lsm", ["apparmor", "selinux"])
def test_lsm_label_on_a_host_without_the_lsm(runtime, make_bundle, lsm):
    """The issue asks: where the LSM is not enabled, say so once and go on.
    polis warns once and runs the container; runc 1.1 and crun 1.8 refuse
    such a config on this host (a documented difference)."""
    apparmor, selinux = _lsm_enabled()
    if (lsm == "apparmor" and apparmor) or (lsm == "selinux" and selinux):
        pytest.skip("this host runs %s: the label would apply" % lsm)
    b = make_bundle(["sh", "-c", "echo ran"])
    if lsm == "apparmor":
        b.process["apparmorProfile"] = "polis-test-profile"
        warning = "AppArmor is not enabled"
    else:
        b.process["selinuxLabel"] = "system_u:system_r:container_t:s0"
        b.config["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0"
        warning = "SELinux is not enabled"
    b.save()
    cid = runtime.new_id()
    r = runtime.run("run", "--bundle", b.path, cid)
    if runtime.name == "polis":
        assert r.returncode == 0, r
        assert r.stdout == "ran\n"
        assert r.stderr.count(warning) == 1
    else:
        assert r.returncode != 0
        assert runtime.state(cid) is None


def test_rlimit_unlimited_as_uint64_max(runtime, make_bundle):
    """RLIM_INFINITY written as the uint64 it is (above INT64_MAX)."""
    b = make_bundle(["sh", "-c", "ulimit -c; ulimit -Hc"])
    b.process["rlimits"] = [{"type": "RLIMIT_CORE", "soft": 18446744073709551615,
                             "hard": 18446744073709551615}]
    b.save()
    r = runtime.run("run", "--bundle", b.path, runtime.new_id())
    assert r.returncode == 0, r
    assert r.stdout.split() == ["unlimited", "unlimited"]
