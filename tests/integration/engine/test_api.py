"""polisd's API at the HTTP level: negotiation, headers, Docker's errors,
and the routes that need no running container (create, inspect, list,
rename, remove, images, events, files)."""

import io
import json
import tarfile
import time
import urllib.parse

import pytest

from conftest import wait_until


def create(d, body=None, name=None, expect=201):
    body = body if body is not None else {"Image": "busybox", "Cmd": ["true"]}
    q = "?name=" + name if name else ""
    return d.json("POST", "/v1.51/containers/create" + q, body, expect=expect)


# --- negotiation and headers ------------------------------------------------------


def test_ping_get_and_head(polisd):
    for method in ("GET", "HEAD"):
        st, h, body = polisd.request(method, "/_ping")
        assert st == 200
        assert h["api-version"] == "1.51"
        assert h["ostype"] == "linux"
        assert h["docker-experimental"] == "false"
        assert h["builder-version"] == "1"
        assert h["swarm"] == "inactive"
        assert h["cache-control"] == "no-cache, no-store, must-revalidate"
        assert body == (b"OK" if method == "GET" else b"")


@pytest.mark.parametrize("prefix", ["", "/v1.24", "/v1.41", "/v1.51"])
def test_versions_in_range_are_served(polisd, prefix):
    v = polisd.json("GET", prefix + "/version", expect=200)
    assert v["ApiVersion"] == "1.51"
    assert v["MinAPIVersion"] == "1.24"
    assert v["Components"][0]["Name"] == "Engine"


def test_versions_out_of_range_are_refused(polisd):
    st, h, body = polisd.request("GET", "/v1.12/version")
    assert st == 400 and h["content-type"] == "application/json"
    assert json.loads(body)["message"] == (
        "client version 1.12 is too old. Minimum supported API version is 1.24, "
        "please upgrade your client to a newer version")
    st, _, body = polisd.request("GET", "/v1.52/containers/json")
    assert st == 400
    assert json.loads(body)["message"] == (
        "client version 1.52 is too new. Maximum supported API version is 1.51")


def test_unknown_route_is_a_json_404(polisd):
    st, h, body = polisd.request("GET", "/v1.51/nothing/here")
    assert st == 404
    assert h["content-type"] == "application/json"
    assert json.loads(body) == {"message": "page not found"}
    st, _, _ = polisd.request("PATCH", "/containers/json")
    assert st == 404


def test_missing_routes_answer_as_docker_would(polisd):
    # inspect's auto-detection moves on after a 404 from these
    assert polisd.request("GET", "/networks/x")[0] == 404
    assert polisd.request("GET", "/volumes/x")[0] == 404
    assert polisd.request("GET", "/plugins/x/json")[0] == 404
    st, _, body = polisd.request("GET", "/services")
    assert st == 503 and b"not a swarm manager" in body


# --- create and its errors ------------------------------------------------------------


def test_create_inspect_list_rename_remove(polisd):
    r = create(polisd, {"Image": "busybox", "Cmd": ["echo", "hi"], "Env": ["A=1"],
                        "Labels": {"k": "v"}, "HostConfig": {"Memory": 64 << 20}},
               name="web")
    cid = r["Id"]
    assert len(cid) == 64 and r["Warnings"] == []
    ins = polisd.json("GET", "/containers/web/json", expect=200)
    assert ins["Id"] == cid and ins["Name"] == "/web"
    assert ins["Path"] == "echo" and ins["Args"] == ["hi"]
    assert ins["State"]["Status"] == "created"
    assert ins["State"]["StartedAt"] == "0001-01-01T00:00:00Z"
    assert ins["Config"]["Labels"] == {"k": "v"}
    assert "A=1" in ins["Config"]["Env"]
    assert ins["Config"]["Hostname"] == cid[:12]
    assert ins["HostConfig"]["Memory"] == 64 << 20
    assert ins["HostConfig"]["NetworkMode"] == "bridge"
    assert list(ins["NetworkSettings"]["Networks"]) == ["bridge"]
    assert ins["NetworkSettings"]["Networks"]["bridge"]["IPAddress"] != ""
    # by short id and unique prefix too
    assert polisd.json("GET", "/containers/%s/json" % cid[:12], expect=200)["Id"] == cid
    assert polisd.json("GET", "/containers/json", expect=200) == []
    lst = polisd.json("GET", "/containers/json?all=1", expect=200)
    assert [c["Names"] for c in lst] == [["/web"]]
    assert lst[0]["Command"] == "echo hi" and lst[0]["State"] == "created"
    assert lst[0]["Status"] == "Created"
    polisd.request("POST", "/containers/web/rename?name=db")
    assert polisd.json("GET", "/containers/db/json", expect=200)["Name"] == "/db"
    assert polisd.request("DELETE", "/containers/db")[0] == 204
    st, _, body = polisd.request("GET", "/containers/db/json")
    assert st == 404 and json.loads(body)["message"] == "No such container: db"


def test_create_errors_have_dockers_codes_and_words(polisd):
    create(polisd, name="taken")
    cases = [
        (b"{not json", None, 400, None),
        (b"", None, 400, "config cannot be empty in order to create a container"),
        ({"Image": "busybox", "Cmd": "true", "Env": "A=1"}, None, 400,
         "json: cannot unmarshal string into Go struct field Config.Env of type []string"),
        ({"Image": "nope", "Cmd": ["true"]}, None, 404, "No such image: nope:latest"),
        ({"Image": "busybox", "Cmd": ["true"]}, "taken", 409, None),
        ({"Image": "busybox", "Cmd": ["true"]}, "bad/name", 400,
         "Invalid container name (bad/name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"),
        ({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"Memory": 1024}}, None,
         400, "Minimum memory limit allowed is 6MB"),
        ({"Image": "busybox", "Cmd": ["true"],
          "HostConfig": {"RestartPolicy": {"Name": "sometimes"}}}, None, 400, None),
        ({"Image": "busybox", "Cmd": ["true"],
          "HostConfig": {"AutoRemove": True, "RestartPolicy": {"Name": "always"}}},
         None, 400, "can't create 'AutoRemove' container with restart policy"),
        ({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"CapAdd": ["FOO"]}},
         None, 400, 'invalid CapAdd: unknown capability: "CAP_FOO"'),
    ]
    for body, name, status, message in cases:
        q = "?name=" + urllib.parse.quote(name, safe="") if name else ""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        st, h, out = polisd.request("POST", "/containers/create" + q, body=raw,
                                    headers={"Content-Type": "application/json"})
        assert st == status, (body, st, out)
        assert h["content-type"] == "application/json"
        msg = json.loads(out)["message"]
        if message:
            assert msg == message
    st, _, out = polisd.request("POST", "/containers/create?name=taken",
                                body=json.dumps({"Image": "busybox", "Cmd": ["x"]}).encode(),
                                headers={"Content-Type": "application/json"})
    assert json.loads(out)["message"].startswith(
        'Conflict. The container name "/taken" is already in use by container "')
    # unknown fields are ignored, as Go's decoder does; null collections too
    r = create(polisd, {"Image": "busybox", "Cmd": ["true"], "NoSuchField": 1,
                        "Env": None, "Labels": None, "HostConfig": {"Binds": None}})
    assert len(r["Id"]) == 64
    # and the daemon keeps serving
    assert polisd.request("GET", "/_ping")[0] == 200


def test_image_config_is_merged_as_docker_does(polisd):
    # busybox's CMD ["sh"] is used without Cmd; an Entrypoint drops it
    ins = polisd.json("GET", "/containers/%s/json" % create(polisd, {"Image": "busybox"})["Id"],
                      expect=200)
    assert ins["Config"]["Cmd"] == ["sh"] and ins["Path"] == "sh"
    ins = polisd.json("GET", "/containers/%s/json" % create(
        polisd, {"Image": "busybox", "Entrypoint": ["echo"]})["Id"], expect=200)
    assert ins["Config"]["Cmd"] is None and ins["Path"] == "echo"
    # Cmd as a plain string (Docker's StrSlice)
    ins = polisd.json("GET", "/containers/%s/json" % create(
        polisd, {"Image": "busybox", "Cmd": "top"})["Id"], expect=200)
    assert ins["Config"]["Cmd"] == ["top"]


def test_list_filters(polisd):
    a = create(polisd, {"Image": "busybox", "Cmd": ["true"], "Labels": {"app": "x"}},
               name="fa")["Id"]
    create(polisd, name="fb")
    def names(filters):
        q = urllib.parse.quote(json.dumps(filters))
        return sorted(c["Names"][0] for c in
                      polisd.json("GET", "/containers/json?all=1&filters=" + q, expect=200))
    assert names({"label": {"app=x": True}}) == ["/fa"]
    assert names({"name": {"fb": True}}) == ["/fb"]
    assert names({"id": {a[:10]: True}}) == ["/fa"]
    assert names({"status": {"created": True}}) == ["/fa", "/fb"]
    assert names({"status": ["running"]}) == []
    st, _, body = polisd.request("GET", "/containers/json?filters=" +
                                 urllib.parse.quote('{"nope":{"x":true}}'))
    assert st == 400 and json.loads(body)["message"] == "invalid filter 'nope'"
    lst = polisd.json("GET", "/containers/json?all=1&limit=1", expect=200)
    assert len(lst) == 1 and lst[0]["Names"] == ["/fb"]


# --- images ----------------------------------------------------------------------------


def test_images(polisd):
    lst = polisd.json("GET", "/images/json", expect=200)
    assert [i["RepoTags"] for i in lst] == [["busybox:latest"]]
    iid = lst[0]["Id"]
    ins = polisd.json("GET", "/images/busybox/json", expect=200)
    assert ins["Id"] == iid and ins["Config"]["Cmd"] == ["sh"]
    assert isinstance(ins["GraphDriver"]["Data"]["LowerDir"], str)
    assert polisd.request("POST", "/images/busybox/tag?repo=example.com/team/bb&tag=1")[0] == 201
    ins = polisd.json("GET", "/images/example.com/team/bb:1/json", expect=200)
    assert ins["Id"] == iid
    out = polisd.json("DELETE", "/images/example.com/team/bb:1", expect=200)
    assert out == [{"Untagged": "example.com/team/bb:1"}]
    st, _, body = polisd.request("GET", "/images/nope/json")
    assert st == 404 and json.loads(body)["message"] == "No such image: nope"
    hist = polisd.json("GET", "/images/busybox/history", expect=200)
    assert hist[0]["Id"] == iid


def test_image_in_use_cannot_be_removed(polisd):
    create(polisd)
    st, _, body = polisd.request("DELETE", "/images/busybox")
    assert st == 409, body


def test_save_and_load(polisd):
    st, h, tar = polisd.request("GET", "/images/busybox/get")
    assert st == 200 and h["content-type"] == "application/x-tar"
    names = tarfile.open(fileobj=io.BytesIO(tar)).getnames()
    assert "manifest.json" in names
    assert polisd.request("DELETE", "/images/busybox")[0] == 200
    st, _, body = polisd.request("POST", "/images/load", body=tar,
                                 headers={"Content-Type": "application/x-tar"})
    assert st == 200, body
    lines = [json.loads(l) for l in body.decode().splitlines() if l.strip()]
    assert {"stream": "Loaded image: busybox:latest\n"} in lines
    assert polisd.json("GET", "/images/busybox/json", expect=200)


def test_pull_of_an_unknown_image_is_a_404(polisd):
    # nothing answers on this port: the pull fails before any output
    st, h, body = polisd.request(
        "POST", "/images/create?fromImage=127.0.0.1:1/nope&tag=latest")
    assert st in (404, 500), body
    assert h["content-type"] == "application/json"
    assert json.loads(body)["message"]


# --- events ----------------------------------------------------------------------------


def test_events_since_until_and_filters(polisd):
    t0 = time.time()
    cid = create(polisd, name="ev")["Id"]
    polisd.request("POST", "/containers/ev/rename?name=ev2")
    polisd.request("DELETE", "/containers/ev2")
    t1 = time.time() + 0.01
    q = "since=%.9f&until=%.9f" % (t0 - 0.001, t1)
    st, _, body = polisd.request("GET", "/events?" + q)
    assert st == 200
    evs = [json.loads(l) for l in body.decode().splitlines()]
    acts = [(e["Type"], e["Action"]) for e in evs if e["Type"] == "container"]
    assert acts == [("container", "create"), ("container", "rename"),
                    ("container", "destroy")], (q, evs)
    e = evs[0]
    assert e["status"] == "create" and e["id"] == cid and e["from"] == "busybox"
    assert e["Actor"]["Attributes"]["name"] == "ev" and e["scope"] == "local"
    assert isinstance(e["time"], int) and e["timeNano"] // 10**9 == e["time"]
    f = urllib.parse.quote(json.dumps({"event": {"destroy": True}}))
    body = polisd.request("GET", "/events?%s&filters=%s" % (q, f))[2]
    assert [json.loads(l)["Action"] for l in body.decode().splitlines()] == ["destroy"]


def test_events_stream_headers_come_at_once(polisd):
    """A client gets the 200 before any event exists (docker stats and run
    subscribe first)."""
    import socket
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(polisd.sock)
    s.sendall(b"GET /v1.51/events HTTP/1.1\r\nHost: x\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    assert head.startswith(b"HTTP/1.1 200")
    create(polisd, name="late")
    data = head.split(b"\r\n\r\n", 1)[1]
    while b"create" not in data:
        data += s.recv(4096)
    s.close()


# --- files of a created container ----------------------------------------------------


def test_copy_in_and_out_of_a_created_container(polisd):
    create(polisd, name="files")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = b"hello\n"
        ti = tarfile.TarInfo("d/hello.txt")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
        link = tarfile.TarInfo("d/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        t.addfile(link)
    st, _, body = polisd.request("PUT", "/containers/files/archive?path=/tmp",
                                 body=buf.getvalue())
    assert st == 200, body
    st, h, _ = polisd.request("HEAD", "/containers/files/archive?path=/tmp/d/hello.txt")
    assert st == 200
    import base64
    stat = json.loads(base64.b64decode(h["x-docker-container-path-stat"]))
    assert stat["name"] == "hello.txt" and stat["size"] == 6 and stat["mode"] == 0o644
    st, h, tar = polisd.request("GET", "/containers/files/archive?path=/tmp/d")
    assert st == 200
    t = tarfile.open(fileobj=io.BytesIO(tar))
    assert sorted(t.getnames()) == ["d", "d/hello.txt", "d/link"]
    assert t.extractfile("d/hello.txt").read() == b"hello\n"
    assert t.getmember("d/link").linkname == "/etc/passwd"
    assert polisd.request("HEAD", "/containers/files/archive?path=/nope")[0] == 404
    # a hostile archive cannot climb out
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as t:
        ti = tarfile.TarInfo("../../../../escaped")
        ti.size = 1
        t.addfile(ti, io.BytesIO(b"x"))
    st, _, _ = polisd.request("PUT", "/containers/files/archive?path=/tmp",
                              body=evil.getvalue())
    assert st == 400
    # writing through the symlink made above stays inside the container
    through = io.BytesIO()
    with tarfile.open(fileobj=through, mode="w") as t:
        ti = tarfile.TarInfo("link")
        ti.size = 2
        t.addfile(ti, io.BytesIO(b"ok"))
    st, _, body = polisd.request("PUT", "/containers/files/archive?path=/tmp/d",
                                 body=through.getvalue())
    assert st == 200, body
    with open("/etc/passwd", "rb") as f:
        assert not f.read().startswith(b"ok")


def test_export(polisd):
    create(polisd, name="ex")
    st, h, tar = polisd.request("GET", "/containers/ex/export")
    assert st == 200
    names = tarfile.open(fileobj=io.BytesIO(tar)).getnames()
    assert "bin/busybox" in names and "etc/passwd" in names
