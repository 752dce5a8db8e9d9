"""Live restore: containers outlive polisd; a killed daemon loses nothing."""

import json
import os
import signal
import time

from conftest import DockerCLI, DOCKER28, require_docker28, wait_until


def test_kill9_with_20_running_containers(daemon_factory):
    require_docker28()
    d = daemon_factory()
    docker = DockerCLI(DOCKER28, d, "v28")
    try:
        ids = []
        for i in range(20):
            ids.append(docker("run", "-d", "--name", "c%d" % i, "busybox", "sh", "-c",
                              "echo hello %d; exec sleep 600" % i).stdout.strip())
        wait_until(lambda: all(docker("logs", "c%d" % i).stdout == "hello %d\n" % i
                               for i in (0, 19)), what="output")
        pids = {c["Id"]: d.json("GET", "/containers/%s/json" % c["Id"])["State"]["Pid"]
                for c in d.containers()}
        d.kill9()
        # the containers did not notice
        for pid in pids.values():
            os.kill(pid, 0)
        d.start()
        lst = d.json("GET", "/containers/json", expect=200)
        assert sorted(c["Id"] for c in lst) == sorted(ids)
        assert all(c["State"] == "running" for c in lst)
        for i in range(20):
            assert docker("logs", "c%d" % i).stdout == "hello %d\n" % i
        # and they are still ours: stop, exec, wait work after the restart
        assert docker("exec", "c3", "echo", "x").stdout == "x\n"
        docker("stop", "-t", "1", "c3")
        assert docker("inspect", "--format", "{{.State.Status}}", "c3").stdout.strip() == "exited"
        for cid, pid in pids.items():
            if cid != ids[3]:
                assert d.json("GET", "/containers/%s/json" % cid)["State"]["Pid"] == pid
    finally:
        docker.close()


def test_sigterm_leaves_containers_running(daemon_factory):
    require_docker28()
    d = daemon_factory()
    docker = DockerCLI(DOCKER28, d, "v28")
    try:
        docker("run", "-d", "--name", "keep", "busybox", "sleep", "600")
        docker("create", "--name", "made", "busybox", "true")
        pid = d.json("GET", "/containers/keep/json")["State"]["Pid"]
        d.stop()
        os.kill(pid, 0)
        assert not os.path.exists(d.sock)
        d.start()
        st = {c["Names"][0]: c["State"] for c in d.containers()}
        assert st == {"/keep": "running", "/made": "created"}
    finally:
        docker.close()


def test_container_that_exits_while_the_daemon_is_down(daemon_factory):
    require_docker28()
    d = daemon_factory()
    docker = DockerCLI(DOCKER28, d, "v28")
    try:
        docker("run", "-d", "--name", "brief", "busybox", "sh", "-c", "sleep 1; exit 9")
        d.kill9()
        time.sleep(2)
        d.start()
        wait_until(lambda: d.json("GET", "/containers/brief/json")["State"]["Status"]
                   == "exited", what="exited")
        assert d.json("GET", "/containers/brief/json")["State"]["ExitCode"] == 9
        assert docker("wait", "brief").stdout.strip() == "9"
    finally:
        docker.close()


def test_snapshots_dropped_by_a_crash_are_unpacked_again(daemon_factory):
    """After a power cut (a new boot ID), the image store drops the
    snapshots that were not known synced; polisd, which links only the
    store, has polis-image unpack them again when a container needs them."""
    import sqlite3
    require_docker28()
    d = daemon_factory()
    docker = DockerCLI(DOCKER28, d, "v28")
    try:
        assert docker("run", "--rm", "busybox", "echo", "before").stdout == "before\n"
        d.stop()
        db = sqlite3.connect(os.path.join(d.root, "polis.db"))
        db.execute("UPDATE layers SET unsynced_boot = 'an-earlier-boot'")
        db.execute("UPDATE image_meta SET value = 'an-earlier-boot' WHERE key = 'boot_id'")
        db.commit()
        db.close()
        d.start()
        snapdir = os.path.join(d.root, "snapshots")
        assert [e for e in os.listdir(snapdir) if not e.startswith(".")] == []
        assert docker("run", "--rm", "busybox", "echo", "after").stdout == "after\n"
        assert [e for e in os.listdir(snapdir) if not e.startswith(".")] != []
    finally:
        docker.close()
