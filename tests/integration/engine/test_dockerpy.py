"""docker-py (Debian's python3-docker 5.0.3) against polisd: it negotiates
with an unversioned GET /version and uses the API its own way (logs
streams for run, exec sockets, archives, one-shot stats)."""

import io
import json
import tarfile
import time

import pytest

from conftest import wait_until


def test_version_negotiation(dockerpy):
    assert dockerpy.api.api_version == "1.51"
    assert dockerpy.version()["ApiVersion"] == "1.51"
    assert dockerpy.ping() is True


def test_run_echo(dockerpy):
    assert dockerpy.containers.run("busybox", "echo hi", remove=True) == b"hi\n"


def test_run_error_exit(dockerpy):
    import docker
    with pytest.raises(docker.errors.ContainerError) as e:
        dockerpy.containers.run("busybox", ["sh", "-c", "echo oops >&2; exit 4"])
    assert e.value.exit_status == 4


def test_detached_logs_exec_stop(dockerpy):
    c = dockerpy.containers.run("busybox", ["sh", "-c", "echo ready; exec sleep 60"],
                                detach=True, name="py")
    wait_until(lambda: b"ready" in c.logs(), what="output")
    c.reload()
    assert c.status == "running" and c.name == "py"
    r = c.exec_run(["sh", "-c", "echo $((6*7))"])
    assert r.exit_code == 0 and r.output == b"42\n"
    r = c.exec_run("false")
    assert r.exit_code == 1
    out, err = c.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True).output
    assert out == b"o\n" and err == b"e\n"
    c.stop(timeout=1)
    c.reload()
    assert c.status == "exited"
    assert c.wait()["StatusCode"] == 137


def test_archives(dockerpy):
    c = dockerpy.containers.run("busybox", "sleep 60", detach=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        ti = tarfile.TarInfo("note.txt")
        data = b"from docker-py\n"
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    assert c.put_archive("/tmp", buf.getvalue())
    stream, stat = c.get_archive("/tmp/note.txt")
    assert stat["name"] == "note.txt" and stat["size"] == 15
    t = tarfile.open(fileobj=io.BytesIO(b"".join(stream)))
    assert t.extractfile("note.txt").read() == b"from docker-py\n"
    c.remove(force=True)


def test_stats_one_shot_and_stream(dockerpy):
    c = dockerpy.containers.run("busybox", "sleep 60", detach=True)
    s = c.stats(stream=False)
    assert s["name"].startswith("/") and s["id"] == c.id
    assert s["pids_stats"]["current"] == 1
    assert s["memory_stats"]["usage"] > 0
    assert s["cpu_stats"]["online_cpus"] >= 1
    it = c.stats(decode=True)
    first, second = next(it), next(it)
    assert second["precpu_stats"]["cpu_usage"]["total_usage"] == \
        first["cpu_stats"]["cpu_usage"]["total_usage"]
    c.remove(force=True)


def test_events_and_filters(dockerpy):
    since = time.time()
    c = dockerpy.containers.create("busybox", "true", labels={"suite": "py"})
    c.start()
    c.wait()
    c.remove()
    evs = list(dockerpy.events(since=since, until=time.time() + 1, decode=True,
                               filters={"label": "suite=py"}))
    acts = [e["Action"] for e in evs]
    assert acts[0] == "create" and acts[-1] == "destroy" and "die" in acts
    assert all(e["status"] == e["Action"] for e in evs)


def test_images_api(dockerpy):
    img = dockerpy.images.get("busybox")
    assert "busybox:latest" in img.tags
    img.tag("py/busybox", "v1")
    assert dockerpy.images.get("py/busybox:v1").id == img.id
    dockerpy.images.remove("py/busybox:v1")
    import docker
    with pytest.raises(docker.errors.ImageNotFound):
        dockerpy.images.get("py/busybox:v1")


def test_errors(dockerpy):
    import docker
    with pytest.raises(docker.errors.NotFound) as e:
        dockerpy.containers.get("nope")
    assert "No such container: nope" in str(e.value)
    dockerpy.containers.create("busybox", "true", name="same")
    with pytest.raises(docker.errors.APIError) as e:
        dockerpy.containers.create("busybox", "true", name="same")
    assert e.value.status_code == 409
    with pytest.raises(docker.errors.ImageNotFound):
        dockerpy.containers.create("nosuchimage", "true")
