"""The HostConfig and Config fields people set, seen from inside the
container (docker v28 CLI)."""

import os

import pytest


def run(docker, *args):
    return docker("run", "--rm", *args).stdout


def test_env_workdir_user_entrypoint(docker):
    out = run(docker, "-e", "FOO=bar", "-w", "/tmp/work", "-u", "65534:65534",
              "busybox", "sh", "-c", "echo $FOO; pwd; id -u; id -g; echo $HOSTNAME")
    foo, pwd, uid, gid, host = out.split()
    assert (foo, pwd, uid, gid) == ("bar", "/tmp/work", "65534", "65534")
    assert len(host) == 12
    assert run(docker, "--entrypoint", "echo", "busybox", "a", "b").strip() == "a b"
    assert run(docker, "-u", "nobody", "busybox", "id", "-un").strip() == "nobody"
    r = docker("run", "--rm", "-u", "ghost", "busybox", "true", check=False)
    assert r.returncode != 0 and "unable to find user ghost" in r.stderr


def test_binds_tmpfs_readonly_shm(docker, tmp_path):
    (tmp_path / "in.txt").write_text("from the host\n")
    out = run(docker, "-v", "%s:/data" % tmp_path, "busybox", "sh", "-c",
              "cat /data/in.txt; echo written > /data/out.txt")
    assert out == "from the host\n"
    assert (tmp_path / "out.txt").read_text() == "written\n"
    r = docker("run", "--rm", "-v", "%s:/data:ro" % tmp_path, "busybox", "touch", "/data/x",
               check=False)
    assert r.returncode != 0
    out = run(docker, "--read-only", "--tmpfs", "/scratch:size=1m", "busybox", "sh", "-c",
              "touch /scratch/ok && echo ok; touch /nope 2>/dev/null || echo ro")
    assert out.split() == ["ok", "ro"]
    out = run(docker, "--shm-size", "8m", "busybox", "df", "-k", "/dev/shm")
    assert out.splitlines()[1].split()[1] == "8192"


def test_capabilities_privileged_and_seccomp(docker):
    def capeff(*flags):
        line = [l for l in run(docker, *flags, "busybox", "cat", "/proc/self/status").splitlines()
                if l.startswith("CapEff:")][0]
        return int(line.split()[1], 16)
    default = capeff()
    assert default == 0xa80425fb  # Docker's 14 default capabilities
    assert capeff("--cap-drop", "ALL", "--cap-add", "CHOWN") == 1
    assert capeff("--cap-add", "NET_ADMIN") == default | (1 << 12)
    assert capeff("--privileged") > default
    seccomp = [l for l in run(docker, "busybox", "cat", "/proc/self/status").splitlines()
               if l.startswith("Seccomp:")][0]
    assert seccomp.split()[1] == "2"
    out = run(docker, "--security-opt", "seccomp=unconfined", "busybox", "grep", "Seccomp:",
              "/proc/self/status")
    assert out.split()[1] == "0"
    out = run(docker, "--security-opt", "no-new-privileges", "busybox", "grep", "NoNewPrivs",
              "/proc/self/status")
    assert out.split()[1] == "1"


def test_resources_and_update(docker):
    docker("run", "-d", "--name", "res", "--memory", "64m", "--cpus", "0.5",
           "--pids-limit", "40", "--cpu-shares", "512", "busybox", "sleep", "60")
    st = docker("inspect", "--format", "{{.State.Pid}}", "res").stdout.strip()
    with open("/proc/%s/cgroup" % st) as f:
        cg = f.read()
    if os.path.exists("/sys/fs/cgroup/memory"):
        path = [l.split(":", 2)[2] for l in cg.splitlines() if ":memory:" in l][0]
        with open("/sys/fs/cgroup/memory%s/memory.limit_in_bytes" % path) as f:
            assert int(f.read()) == 64 << 20
        ppath = [l.split(":", 2)[2] for l in cg.splitlines() if ":pids:" in l][0]
        with open("/sys/fs/cgroup/pids%s/pids.max" % ppath) as f:
            assert f.read().strip() == "40"
    docker("update", "--memory", "128m", "--memory-swap", "256m", "--pids-limit", "50", "res")
    out = docker("inspect", "--format", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}",
                 "res").stdout.split()
    assert out == [str(128 << 20), "50"]
    if os.path.exists("/sys/fs/cgroup/memory"):
        with open("/sys/fs/cgroup/memory%s/memory.limit_in_bytes" % path) as f:
            assert int(f.read()) == 128 << 20
    docker("update", "--restart", "always", "res")
    assert docker("inspect", "--format", "{{.HostConfig.RestartPolicy.Name}}",
                  "res").stdout.strip() == "always"


def test_ulimits_hosts_devices_labels_init(docker):
    assert run(docker, "--ulimit", "nofile=123:456", "busybox", "sh", "-c",
               "ulimit -n").strip() == "123"
    out = run(docker, "--add-host", "db.example:10.1.2.3", "busybox", "cat", "/etc/hosts")
    assert "10.1.2.3\tdb.example" in out
    assert run(docker, "--device", "/dev/null:/dev/mynull", "busybox", "sh", "-c",
               "echo x > /dev/mynull && echo ok").strip() == "ok"
    out = run(docker, "--init", "busybox", "ps", "-o", "pid,args")
    assert "/sbin/docker-init" in out.splitlines()[1]
    docker("create", "--name", "lab", "--label", "tier=web", "busybox", "true")
    assert docker("ps", "-a", "--filter", "label=tier=web", "--format",
                  "{{.Names}}").stdout.strip() == "lab"


def test_log_config_and_stop_signal(docker):
    docker("run", "-d", "--name", "nolog", "--log-driver", "none", "busybox", "echo", "x")
    docker("wait", "nolog")
    r = docker("logs", "nolog", check=False)
    assert r.returncode != 0 and "does not support reading" in r.stderr
    docker("run", "-d", "--name", "sig", "--stop-signal", "USR1", "busybox", "sh", "-c",
           "trap 'echo usr1; exit 0' USR1; while true; do sleep 0.1; done")
    docker("stop", "-t", "5", "sig")
    assert docker("logs", "sig").stdout == "usr1\n"
    assert docker("inspect", "--format", "{{.State.ExitCode}}", "sig").stdout.strip() == "0"
