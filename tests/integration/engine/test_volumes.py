"""Volumes: named and anonymous volumes of the local driver, copy-up, binds,
tmpfs, the /volumes API, and hostile input.  Each test has its own polisd
(own --root), so volumes never leak between tests."""

import io
import json
import os
import tarfile
import urllib.parse

import pytest

from conftest import busybox_tar, mounts_under, wait_until

ANON = "com.docker.volume.anonymous"


def import_image(d, repo, files=None, dirs=(), symlinks=None, changes=()):
    """The busybox rootfs plus FILES {path: bytes}, DIRS, SYMLINKS {path: target},
    imported as REPO:latest with Dockerfile CHANGES."""
    buf = io.BytesIO()
    with tarfile.open(busybox_tar()) as src, tarfile.open(fileobj=buf, mode="w") as t:
        for m in src.getmembers():
            t.addfile(m, src.extractfile(m) if m.isfile() else None)
        for p in dirs:
            ti = tarfile.TarInfo("./" + p.strip("/"))
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            t.addfile(ti)
        for p, data in (files or {}).items():
            ti = tarfile.TarInfo("./" + p.strip("/"))
            ti.size, ti.mode, ti.uid, ti.gid = len(data), 0o640, 1234, 4321
            t.addfile(ti, io.BytesIO(data))
        for p, target in (symlinks or {}).items():
            ti = tarfile.TarInfo("./" + p.strip("/"))
            ti.type, ti.linkname = tarfile.SYMTYPE, target
            t.addfile(ti)
    q = "fromSrc=-&repo=%s&tag=latest" % repo
    for c in changes:
        q += "&changes=" + urllib.parse.quote(c)
    st, _, body = d.request("POST", "/images/create?" + q, body=buf.getvalue(),
                            headers={"Content-Type": "application/x-tar"})
    assert st == 200, body


def api(d, method, path, body=None):
    st, _, data = d.request(method, path, body=json.dumps(body).encode() if body is not None
                            else None, headers={"Content-Type": "application/json"})
    return st, (json.loads(data) if data.strip() else None)


def volume_names(d):
    st, r = api(d, "GET", "/volumes")
    assert st == 200
    return sorted(v["Name"] for v in r["Volumes"])


# --- named volumes ------------------------------------------------------------------


def test_named_volume_survives_rm(docker, polisd):
    assert docker("volume", "create", "data").stdout == "data\n"
    docker("run", "--name", "wr", "-v", "data:/data", "busybox", "sh", "-c",
           "echo kept > /data/f")
    docker("rm", "wr")
    r = docker("run", "--rm", "-v", "data:/data", "busybox", "cat", "/data/f")
    assert r.stdout == "kept\n"
    # -v with a name that does not exist yet makes it.
    docker("run", "--rm", "-v", "fresh:/x", "busybox", "true")
    assert volume_names(polisd) == ["data", "fresh"]
    v = json.loads(docker("volume", "inspect", "data").stdout)[0]
    assert v["Driver"] == "local" and v["Scope"] == "local" and v["Name"] == "data"
    assert v["Mountpoint"] == os.path.join(polisd.root, "volumes", "data", "_data")
    assert v["CreatedAt"].endswith("Z")


def test_mounts_in_inspect(docker, tmp_path):
    docker("volume", "create", "nv")
    docker("create", "--name", "mm", "-v", "nv:/n", "-v", "%s:/b:ro" % tmp_path,
           "--mount", "type=tmpfs,dst=/t", "-v", "/anon", "busybox", "true")
    mounts = {m["Destination"]: m for m in
              json.loads(docker("inspect", "-f", "{{json .Mounts}}", "mm").stdout)}
    assert mounts["/n"]["Type"] == "volume" and mounts["/n"]["Name"] == "nv"
    assert mounts["/n"]["Driver"] == "local" and mounts["/n"]["RW"] is True
    assert mounts["/n"]["Mode"] == "z"
    assert mounts["/b"] == {"Type": "bind", "Source": str(tmp_path), "Destination": "/b",
                            "Mode": "ro", "RW": False, "Propagation": "rprivate"}
    assert mounts["/t"]["Type"] == "tmpfs"
    assert mounts["/anon"]["Type"] == "volume" and len(mounts["/anon"]["Name"]) == 64
    # ps knows them too.
    r = docker("ps", "-a", "--filter", "name=mm", "--format", "{{.Mounts}}")
    assert "nv" in r.stdout
    assert docker("ps", "-aq", "--filter", "volume=nv").stdout.strip() != ""
    assert docker("ps", "-aq", "--filter", "volume=/b").stdout.strip() != ""
    assert docker("ps", "-aq", "--filter", "volume=other").stdout == ""


def test_copy_up_image_content(docker, polisd):
    import_image(polisd, "withdata", files={"data/hello": b"from the image\n"},
                 changes=['VOLUME ["/data"]'])
    # An anonymous volume from the image's VOLUME takes its content, owner and mode.
    r = docker("run", "--rm", "withdata", "sh", "-c",
               "cat /data/hello; stat -c '%u:%g %a' /data/hello")
    assert r.stdout == "from the image\n1234:4321 640\n"
    # A new named volume takes it too, and keeps what the container wrote.
    docker("run", "--rm", "-v", "nv:/data", "withdata", "sh", "-c",
           "echo mine > /data/hello")
    r = docker("run", "--rm", "-v", "nv:/data", "withdata", "cat", "/data/hello")
    assert r.stdout == "mine\n"
    # A volume that is not empty is never overwritten.
    docker("volume", "create", "full")
    docker("run", "--rm", "-v", "full:/x", "busybox", "sh", "-c", "echo x > /x/own")
    r = docker("run", "--rm", "-v", "full:/data", "withdata", "ls", "/data")
    assert r.stdout == "own\n"
    # nocopy: nothing copied.
    r = docker("run", "--rm", "-v", "empty:/data:nocopy", "withdata", "ls", "-A", "/data")
    assert r.stdout == ""
    r = docker("run", "--rm", "--mount", "type=volume,src=empty2,dst=/data,volume-nocopy",
               "withdata", "ls", "-A", "/data")
    assert r.stdout == ""
    # Binds never take the image's content.
    r = docker("run", "--rm", "-v", "%s:/data" % os.path.join(polisd.base, "bindsrc"),
               "withdata", "ls", "-A", "/data")
    assert r.stdout == ""


def test_anonymous_volumes_rm_v(docker, polisd):
    import_image(polisd, "withvol", dirs=["data"], changes=['VOLUME ["/data"]'])
    docker("create", "--name", "ca", "withvol", "true")
    docker("create", "--name", "cb", "-v", "/scratch", "-v", "named:/n", "busybox", "true")
    vols = volume_names(polisd)
    assert len(vols) == 3 and "named" in vols
    anon = [v for v in vols if v != "named"]
    for name in anon:
        st, v = api(polisd, "GET", "/volumes/" + name)
        assert st == 200 and v["Labels"] == {ANON: ""}
    def anon_of(name):
        mounts = json.loads(docker("inspect", "-f", "{{json .Mounts}}", name).stdout)
        return [m["Name"] for m in mounts if len(m.get("Name", "")) == 64]
    a_vol, b_vol = anon_of("ca"), anon_of("cb")
    assert sorted(a_vol + b_vol) == sorted(anon)
    # rm keeps them, rm -v removes the anonymous ones, never a named one.
    docker("rm", "ca")
    assert len(volume_names(polisd)) == 3
    docker("rm", "-v", "cb")
    assert volume_names(polisd) == sorted(a_vol + ["named"])
    # run --rm takes its anonymous volumes along, not named ones.
    docker("run", "--rm", "-v", "/tmpvol", "-v", "named:/n", "withvol", "true")
    assert volume_names(polisd) == sorted(a_vol + ["named"])


def test_ro_bind_and_propagation(docker, tmp_path):
    (tmp_path / "f").write_text("host\n")
    r = docker("run", "--rm", "-v", "%s:/b:ro" % tmp_path, "busybox", "sh", "-c",
               "cat /b/f; echo x > /b/g", check=False)
    assert r.returncode != 0 and r.stdout == "host\n"
    assert "Read-only file system" in r.stderr
    assert not (tmp_path / "g").exists()
    r = docker("run", "--rm", "--mount", "type=bind,src=%s,dst=/b,readonly" % tmp_path,
               "busybox", "sh", "-c", "touch /b/g", check=False)
    assert r.returncode != 0 and not (tmp_path / "g").exists()
    # rw, SELinux labels (accepted) and propagation modes.
    docker("run", "--rm", "-v", "%s:/b:rw,z,private" % tmp_path, "busybox", "sh", "-c",
           "echo y > /b/g")
    assert (tmp_path / "g").read_text() == "y\n"
    docker("run", "--rm", "--mount",
           "type=bind,src=%s,dst=/b,bind-propagation=rprivate" % tmp_path, "busybox", "true")
    r = docker("run", "--rm", "-v", "%s:/b:Z" % tmp_path, "busybox", "grep", " /b ",
               "/proc/self/mountinfo")
    assert r.returncode == 0
    # -v makes a missing source directory; --mount refuses it.
    src = tmp_path / "made" / "here"
    docker("run", "--rm", "-v", "%s:/m" % src, "busybox", "true")
    assert src.is_dir()
    r = docker("run", "--rm", "--mount", "type=bind,src=%s/nope,dst=/m" % tmp_path,
               "busybox", "true", check=False)
    assert r.returncode == 125
    assert "bind source path does not exist: %s/nope" % tmp_path in r.stderr


def test_tmpfs_mounts(docker):
    r = docker("run", "--rm", "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770",
               "busybox", "sh", "-c", "df -k /t | tail -1; stat -c %a /t")
    fields = r.stdout.split()
    assert fields[1] == "1024" and fields[-1] == "1770", r.stdout
    r = docker("run", "--rm", "--tmpfs", "/t:size=2m", "busybox", "sh", "-c",
               "df -k /t | tail -1")
    assert r.stdout.split()[1] == "2048"


def test_volume_with_driver_options(docker, polisd, tmp_path):
    """Docker's local driver options: a tmpfs, and a bind of a host directory,
    mounted while a container uses them."""
    docker("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs",
           "-o", "o=size=3m,mode=0700", "tv")
    data = os.path.join(polisd.root, "volumes", "tv", "_data")
    docker("run", "-d", "--name", "user", "-v", "tv:/t", "busybox", "sleep", "60")
    assert data in mounts_under(polisd.base)
    r = docker("exec", "user", "sh", "-c", "df -k /t | tail -1; stat -c %a /t")
    assert r.stdout.split()[1] == "3072" and r.stdout.split()[-1] == "700"
    docker("run", "--rm", "-v", "tv:/t", "busybox", "true")
    assert data in mounts_under(polisd.base)  # still used by "user"
    docker("rm", "-f", "user")
    wait_until(lambda: data not in mounts_under(polisd.base), what="unmount")
    (tmp_path / "hostfile").write_text("bound\n")
    docker("volume", "create", "-o", "type=none", "-o", "device=%s" % tmp_path,
           "-o", "o=bind", "bv")
    r = docker("run", "--rm", "-v", "bv:/b", "busybox", "cat", "/b/hostfile")
    assert r.stdout == "bound\n"
    assert not any("bv" in m for m in mounts_under(polisd.base))
    v = json.loads(docker("volume", "inspect", "bv").stdout)[0]
    assert v["Options"] == {"type": "none", "device": str(tmp_path), "o": "bind"}
    r = docker("volume", "create", "-o", "bogus=1", "bad", check=False)
    assert r.returncode != 0 and 'invalid option: "bogus"' in r.stderr
    assert "bad" not in volume_names(polisd)


def test_volume_in_use_409(docker, polisd):
    docker("volume", "create", "busy")
    cid = docker("create", "-v", "busy:/b", "busybox", "true").stdout.strip()
    st, r = api(polisd, "DELETE", "/volumes/busy")
    assert st == 409 and r["message"] == "remove busy: volume is in use - [%s]" % cid
    st, r = api(polisd, "DELETE", "/volumes/busy?force=1")
    assert st == 409
    r = docker("volume", "rm", "busy", check=False)
    assert r.returncode == 1 and "volume is in use" in r.stderr
    docker("rm", cid)
    st, _ = api(polisd, "DELETE", "/volumes/busy")
    assert st == 204
    st, r = api(polisd, "DELETE", "/volumes/busy")
    assert st == 404 and r["message"] == "get busy: no such volume"
    st, _ = api(polisd, "DELETE", "/volumes/busy?force=1")
    assert st == 204
    assert not os.path.exists(os.path.join(polisd.root, "volumes", "busy"))


def test_prune(docker, polisd):
    docker("volume", "create", "--label", "keep=yes", "named1")
    docker("volume", "create", "named2")
    docker("create", "--name", "holder", "-v", "/held", "-v", "named2:/n", "busybox", "true")
    docker("create", "--name", "gone", "-v", "/loose", "busybox", "true")
    docker("rm", "gone")
    vols = volume_names(polisd)
    assert len(vols) == 4
    # API >= 1.42: anonymous volumes only.
    st, r = api(polisd, "POST", "/v1.51/volumes/prune")
    assert st == 200 and len(r["VolumesDeleted"]) == 1 and len(r["VolumesDeleted"][0]) == 64
    assert len(volume_names(polisd)) == 3
    # all=true with a label filter: named ones not in use and not labelled keep.
    st, r = api(polisd, "POST", "/volumes/prune?filters=" + urllib.parse.quote(
        json.dumps({"all": ["true"], "label!": ["keep"]})))
    assert st == 200 and r["VolumesDeleted"] == []  # named2 is used by holder
    docker("rm", "holder")
    r = docker("volume", "prune", "-af", "--filter", "label!=keep")
    assert "named2" in r.stdout
    assert volume_names(polisd) == ["named1"]
    # API 1.41 prunes every unused volume.
    st, r = api(polisd, "POST", "/v1.41/volumes/prune")
    assert st == 200 and r["VolumesDeleted"] == ["named1"]
    st, r = api(polisd, "POST", "/volumes/prune?filters=" + urllib.parse.quote(
        json.dumps({"bogus": ["1"]})))
    assert st == 400


def test_list_filters_and_labels(docker, polisd):
    docker("volume", "create", "--label", "tier=db", "--label", "x", "dbvol")
    docker("volume", "create", "--label", "tier=web", "webvol")
    docker("create", "-v", "webvol:/w", "busybox", "true")

    def ls(*f):
        return docker("volume", "ls", "-q", *f).stdout.split()
    assert ls() == ["dbvol", "webvol"]
    assert ls("--filter", "label=tier=db") == ["dbvol"]
    assert ls("--filter", "label=tier") == ["dbvol", "webvol"]
    assert ls("--filter", "label=x") == ["dbvol"]
    assert ls("--filter", "name=web") == ["webvol"]
    assert ls("--filter", "dangling=true") == ["dbvol"]
    assert ls("--filter", "dangling=false") == ["webvol"]
    assert ls("--filter", "driver=local") == ["dbvol", "webvol"]
    st, r = api(polisd, "GET", "/volumes?filters=" + urllib.parse.quote(
        json.dumps({"nope": {"x": True}})))
    assert st == 400 and "invalid filter 'nope'" in r["message"]
    v = json.loads(docker("volume", "inspect", "dbvol").stdout)[0]
    assert v["Labels"] == {"tier": "db", "x": ""}
    # system df lists volumes with their use and size.
    docker("run", "--rm", "-v", "dbvol:/d", "busybox", "sh", "-c", "head -c 5000 /dev/zero > /d/z")
    st, df = api(polisd, "GET", "/system/df")
    sizes = {v["Name"]: v["UsageData"] for v in df["Volumes"]}
    assert sizes["dbvol"] == {"Size": 5000, "RefCount": 0}
    assert sizes["webvol"] == {"Size": 0, "RefCount": 1}
    st, df = api(polisd, "GET", "/system/df?type=volume")
    assert st == 200 and len(df["Volumes"]) == 2 and df["Containers"] == []
    st, df = api(polisd, "GET", "/system/df?type=container")
    assert st == 200 and df["Volumes"] == [] and len(df["Containers"]) == 1
    assert api(polisd, "GET", "/system/df?type=bogus")[0] == 400


def test_restart_keeps_volumes(daemon_factory):
    d = daemon_factory()
    st, _ = api(d, "POST", "/volumes/create", {"Name": "persist", "Labels": {"a": "b"}})
    assert st == 201
    st, r = api(d, "POST", "/containers/create?name=uu", {
        "Image": "busybox", "Cmd": ["sh", "-c", "echo hi > /p/f; sleep 60"],
        "HostConfig": {"Binds": ["persist:/p"]}})
    assert st == 201
    assert api(d, "POST", "/containers/uu/start")[0] == 204
    wait_until(lambda: os.path.exists(os.path.join(d.root, "volumes/persist/_data/f")))
    d.kill9()
    d.start()
    st, v = api(d, "GET", "/volumes/persist")
    assert st == 200 and v["Labels"] == {"a": "b"}
    assert api(d, "DELETE", "/volumes/persist")[0] == 409
    d.stop()
    d.start()
    assert api(d, "DELETE", "/containers/uu?force=1")[0] == 204
    assert api(d, "DELETE", "/volumes/persist")[0] == 204
    d.stop()
    d.start()
    assert volume_names(d) == []


def test_options_volume_after_daemon_restart(daemon_factory):
    """A tmpfs volume used by a running container stays mounted across a
    killed daemon and is unmounted when that container stops."""
    d = daemon_factory()
    api(d, "POST", "/volumes/create", {"Name": "tv", "DriverOpts": {
        "type": "tmpfs", "device": "tmpfs", "o": "size=1m"}})
    api(d, "POST", "/containers/create?name=uu", {
        "Image": "busybox", "Cmd": ["sleep", "60"], "HostConfig": {"Binds": ["tv:/t"]}})
    assert api(d, "POST", "/containers/uu/start")[0] == 204
    data = os.path.join(d.root, "volumes", "tv", "_data")
    assert data in mounts_under(d.base)
    d.kill9()
    d.start()
    assert data in mounts_under(d.base)
    assert api(d, "POST", "/containers/uu/kill")[0] == 204
    wait_until(lambda: data not in mounts_under(d.base), what="unmount after the stop")
    # Its last user ends while polisd is down: unmounted at the next start.
    assert api(d, "POST", "/containers/uu/start")[0] == 204
    assert data in mounts_under(d.base)
    pid = api(d, "GET", "/containers/uu/json")[1]["State"]["Pid"]
    d.kill9()
    os.kill(pid, 9)
    wait_until(lambda: not os.path.exists("/proc/%d" % pid), what="the container to end")
    d.start()
    wait_until(lambda: data not in mounts_under(d.base), what="unmount after the restart")
    assert api(d, "POST", "/containers/uu/start")[0] == 204
    assert api(d, "POST", "/containers/uu/kill")[0] == 204
    wait_until(lambda: data not in mounts_under(d.base), what="unmount after the stop")
    # Docker's volume events.
    st, _, body = d.request("GET", "/events?since=0&until=%d&filters=%s" % (
        int(__import__("time").time()) + 1,
        urllib.parse.quote(json.dumps({"type": ["volume"]}))))
    actions = [json.loads(l)["Action"] for l in body.decode().splitlines() if l.strip()]
    assert st == 200 and "mount" in actions and "unmount" in actions, actions


def test_dockerpy_volume_api(dockerpy, polisd):
    import docker
    v = dockerpy.volumes.create("pyvol", labels={"k": "v"})
    assert v.name == "pyvol" and v.attrs["Labels"] == {"k": "v"}
    assert [x.name for x in dockerpy.volumes.list(filters={"label": "k=v"})] == ["pyvol"]
    assert dockerpy.volumes.get("pyvol").attrs["Driver"] == "local"
    out = dockerpy.containers.run("busybox", ["sh", "-c", "echo py > /v/f; cat /v/f"],
                                  volumes={"pyvol": {"bind": "/v", "mode": "rw"}},
                                  remove=True)
    assert out == b"py\n"
    c = dockerpy.containers.create("busybox", "true", volumes=["pyvol:/v:ro"])
    with pytest.raises(docker.errors.APIError) as e:
        v.remove()
    assert e.value.status_code == 409
    c.remove()
    v.remove()
    with pytest.raises(docker.errors.NotFound):
        dockerpy.volumes.get("pyvol")
    dockerpy.volumes.create("other")
    r = dockerpy.volumes.prune()
    assert r["VolumesDeleted"] in (None, [])
    assert dockerpy.api.prune_volumes(filters={"all": "true"})["VolumesDeleted"] == ["other"]
    m = docker.types.Mount("/t", None, type="tmpfs", tmpfs_size=1 << 20)
    out = dockerpy.containers.run("busybox", ["sh", "-c", "df -k /t | tail -1"],
                                  mounts=[m], remove=True)
    assert out.split()[1] == b"1024"


# --- hostile input ---------------------------------------------------------------------


@pytest.mark.parametrize("body,status,message", [
    ({"Name": "a/b"}, 400, 'create a/b: "a/b" includes invalid characters for a local '
                           'volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed'),
    ({"Name": ".."}, 400, 'create ..: ".." includes invalid characters'),
    ({"Name": "../../etc"}, 400, "includes invalid characters"),
    ({"Name": "x"}, 400, "volume name is too short"),
    ({"Name": "n" * 300}, 400, "volume name is longer than 255 bytes"),
    ({"Name": "ok", "Driver": "nfsplugin"}, 404, 'plugin "nfsplugin" not found'),
    ({"Name": "ok", "DriverOpts": {"o": "x" * 5000, "type": "tmpfs", "device": "tmpfs"}},
     400, "longer than 4096 bytes"),
    ({"Name": "ok", "Labels": {"l%d" % i: "" for i in range(300)}}, 400, "more than 256 Labels"),
    ({"Name": "ok", "DriverOpts": {"type": "tmpfs"}}, 400, 'missing required option: "device"'),
    ({"Name": "ok", "Labels": ["not", "a", "map"]}, 400, "cannot unmarshal"),
])
def test_volume_create_refused(polisd, body, status, message):
    st, r = api(polisd, "POST", "/volumes/create", body)
    assert st == status and message in r["message"], r
    assert volume_names(polisd) == []
    assert os.listdir(os.path.join(polisd.root, "volumes")) == []


@pytest.mark.parametrize("hc,message", [
    ({"Binds": ["good:/g", "a/b:/x"]}, '"a/b" includes invalid characters'),
    ({"Binds": ["good:/g", "..:/x"]}, '".." includes invalid characters'),
    ({"Binds": ["good:/g", "vol:relative"]},
     "invalid mount config for type \"volume\": invalid mount path: 'relative' mount path "
     "must be absolute"),
    ({"Binds": ["good:/g", "/tmp:/"]}, "destination can't be '/'"),
    ({"Binds": ["good:/g", "/tmp:/x:bogus"]}, "invalid mode: bogus"),
    ({"Binds": ["good:/g", "/tmp:/x:ro,rw"]}, "invalid mode: ro,rw"),
    ({"Binds": ["good:/g", "/tmp:/g"]}, "Duplicate mount point: /g"),
    ({"Binds": ["good:/g"], "Mounts": [{"Type": "bind", "Source": "/nonexistent-polis",
                                       "Target": "/m"}]},
     'invalid mount config for type "bind": bind source path does not exist: '
     "/nonexistent-polis"),
    ({"Binds": ["good:/g"], "Mounts": [{"Type": "bind", "Source": "/tmp", "Target": "m"}]},
     "invalid mount config for type \"bind\": invalid mount path: 'm' mount path must be "
     "absolute"),
    ({"Binds": ["good:/g"], "Mounts": [{"Type": "tmpfs", "Source": "/tmp", "Target": "/m"}]},
     'invalid mount config for type "tmpfs": field Source must not be specified'),
    ({"Binds": ["good:/g"], "Mounts": [{"Type": "volume", "Target": "/m",
                                       "BindOptions": {"Propagation": "shared"}}]},
     'invalid mount config for type "volume": field BindOptions must not be specified'),
    ({"Binds": ["good:/g"], "Mounts": [{"Type": "nfs", "Target": "/m"}]},
     'invalid mount config for type "nfs": mount type unknown'),
    ({"Binds": ["good:/g"], "Mounts": [{"Type": "volume", "Target": "/m",
                                       "Source": "x/../../y"}]}, "includes invalid characters"),
    ({"Binds": ["good:/g", "/tmp:/" + "d" * 5000]}, "longer than 4096 bytes"),
    ({"Binds": ["good:/g"] + ["/tmp:/m%d" % i for i in range(300)]}, "more than 256 mounts"),
    ({"Binds": ["good:/g"], "Mounts": [{"Type": "volume", "Target": "/m", "Source": "lv",
                                       "VolumeOptions": {"DriverConfig": {
                                           "Options": {"bogus": "1"}}}}]},
     'invalid option: "bogus"'),
])
def test_container_mounts_refused(polisd, hc, message):
    st, r = api(polisd, "POST", "/containers/create", {"Image": "busybox", "Cmd": ["true"],
                                                       "HostConfig": hc})
    assert st == 400 and message in r["message"], r
    # Nothing half-made: no container, no volume ("good" is not left behind).
    assert polisd.containers() == []
    assert volume_names(polisd) == []


def test_symlink_destination_cannot_escape(polisd, tmp_path):
    """A symlink in the image at a volume's destination points outside the
    rootfs: copy-up and the mount both stay inside the container."""
    host = tmp_path / "host"
    host.mkdir()
    (host / "secret").write_text("host secret\n")
    up = "../" * 20
    import_image(polisd, "evil", dirs=["inside"], files={"inside/mine": b"image\n"},
                 symlinks={"data": up + str(host).lstrip("/"), "abs": str(host)})
    for dst in ("/data", "/abs"):
        st, r = api(polisd, "POST", "/containers/create", {
            "Image": "evil", "Cmd": ["sh", "-c", "ls -A %s; echo pwned > %s/secret2" % (dst, dst)],
            "HostConfig": {"Binds": ["v%s:%s" % (dst.strip("/"), dst)]}})
        assert st == 201, r
        assert api(polisd, "POST", "/containers/%s/start" % r["Id"])[0] == 204
        st, w = api(polisd, "POST", "/containers/%s/wait" % r["Id"])
        data = os.path.join(polisd.root, "volumes", "v" + dst.strip("/"), "_data")
        # Nothing of the host's was copied in, the write went to the volume.
        assert "secret" not in os.listdir(data)
        assert sorted(os.listdir(host)) == ["secret"]
    assert (host / "secret").read_text() == "host secret\n"


def test_volumes_from(docker, tmp_path):
    docker("create", "--name", "src", "-v", "shared:/s", "-v", "%s:/b" % tmp_path,
           "-v", "/anon", "--mount", "type=tmpfs,dst=/t", "busybox", "true")
    docker("run", "--rm", "--volumes-from", "src", "busybox", "sh", "-c",
           "echo s > /s/f; echo b > /b/f; echo a > /anon/f; ! grep -q ' /t ' /proc/mounts")
    assert (tmp_path / "f").read_text() == "b\n"
    r = docker("run", "--rm", "--volumes-from", "src:ro", "busybox", "sh", "-c",
               "cat /s/f /anon/f; touch /s/g", check=False)
    assert r.returncode == 1 and r.stdout == "s\na\n"
    r = docker("run", "--rm", "--volumes-from", "nosuch", "busybox", "true", check=False)
    assert r.returncode == 125 and "No such container: nosuch" in r.stderr
    # The source's volumes are in use by it, whatever the consumers did.
    r = docker("volume", "rm", "shared", check=False)
    assert r.returncode == 1 and "volume is in use" in r.stderr


def test_volume_commands_both_clis(any_docker, polisd):
    """docker 28 (API 1.51) and 20.10 (API 1.41): the same commands; prune
    follows each API version's rule."""
    any_docker("volume", "create", "--label", "k=v", "cv")
    assert any_docker("volume", "ls", "--format", "{{.Driver}} {{.Name}}").stdout == "local cv\n"
    assert any_docker("volume", "inspect", "-f", "{{.Labels.k}}", "cv").stdout == "v\n"
    r = any_docker("run", "--rm", "-v", "cv:/d", "busybox", "sh", "-c", "echo ok > /d/f; cat /d/f")
    assert r.stdout == "ok\n"
    any_docker("create", "--name", "holder", "-v", "cv:/d", "-v", "/anon", "busybox", "true")
    r = any_docker("volume", "rm", "cv", check=False)
    assert r.returncode == 1 and "volume is in use" in r.stderr
    any_docker("rm", "holder")
    r = any_docker("volume", "prune", "-f")
    left = any_docker("volume", "ls", "-q").stdout.split()
    if any_docker.name == "v20":
        assert left == []  # API 1.41: every unused volume
    else:
        assert left == ["cv"]  # anonymous ones only


def test_shared_propagation_needs_a_shared_source(docker, tmp_path):
    """Docker's rule: a shared (or slave) bind needs its source on a shared
    (or slave) mount."""
    import subprocess
    priv = tmp_path / "priv"
    priv.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "polis-priv", str(priv)], check=True)
    try:
        subprocess.run(["mount", "--make-private", str(priv)], check=True)
        r = docker("run", "--rm", "-v", "%s:/b:rshared" % priv, "busybox", "true", check=False)
        assert r.returncode != 0
        assert "path %s is mounted on %s but it is not a shared mount" % (priv, priv) in r.stderr
        r = docker("run", "--rm", "-v", "%s:/b:rslave" % priv, "busybox", "true", check=False)
        assert "is not a shared or slave mount" in r.stderr
        subprocess.run(["mount", "--make-shared", str(priv)], check=True)
        r = docker("run", "--rm", "-v", "%s:/b:rshared" % priv, "busybox", "grep", " /b ",
                   "/proc/self/mountinfo")
        assert "shared:" in r.stdout
        docker("run", "--rm", "-v", "%s:/b:rslave" % priv, "busybox", "true")
    finally:
        subprocess.run(["umount", "-l", str(priv)], check=False)


def test_options_volume_across_restarts(docker, polisd):
    """restart = stop + start: the stop's unmount may be reported after the
    start counted the container again; the volume stays mounted."""
    docker("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m", "rv")
    data = os.path.join(polisd.root, "volumes", "rv", "_data")
    docker("run", "-d", "--name", "rs", "-v", "rv:/t", "busybox", "sleep", "60")
    for _ in range(5):
        docker("restart", "-t", "0", "rs")
        assert data in mounts_under(polisd.base)
        r = docker("exec", "rs", "sh", "-c", "df -k /t | tail -1")
        assert r.stdout.split()[1] == "1024"
    docker("stop", "-t", "0", "rs")
    wait_until(lambda: data not in mounts_under(polisd.base), what="unmount")
