"""polis-image against a real registry: pull, mount, push, save/load,
import, auth, and hostile registries."""

import gzip
import json
import os
import subprocess

import imagelib
from conftest import PolisImage


def blob_files(root):
    d = os.path.join(root, "content", "blobs", "sha256")
    return set(os.listdir(d)) if os.path.isdir(d) else set()


def test_pull_inspect_mount(pi, test_image, tmp_path):
    r = pi.run("pull", test_image["ref"], check=True)
    assert "Pull complete" in r.stdout
    assert "Status: Downloaded newer image for " + test_image["ref"] in r.stdout
    info = pi.inspect(test_image["ref"])
    assert info["RootFS"]["Layers"] == test_image["config"]["rootfs"]["diff_ids"]
    assert info["RepoTags"] == [test_image["ref"]]
    assert info["RepoDigests"][0].endswith(test_image["manifest"]["digest"])
    # A second pull downloads nothing.
    r = pi.run("pull", test_image["ref"], check=True)
    assert "Already exists" in r.stdout and "Image is up to date" in r.stdout
    # The container root: overlay of the snapshots + upper.
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    pi.run("mount", "--name", "c1", test_image["ref"], str(mnt), check=True)
    try:
        assert (mnt / "hello").read_text() == "hello from layer 3\n"
        assert not (mnt / "data" / "old").exists()          # whiteout
        assert sorted(os.listdir(mnt / "opq")) == ["kept"]   # opaque dir
        assert os.stat(mnt / "data" / "link").st_ino == os.stat(mnt / "data" / "new").st_ino
        assert os.readlink(mnt / "data" / "sym") == "/etc/passwd"
        st = os.stat(mnt / "owned")
        assert (st.st_uid, st.st_gid) == (1000, 1000)
        assert os.stat(mnt / "suid").st_mode & 0o4000
        assert os.getxattr(mnt / "xattr", "user.polis") == b"yes"
        # Directory mtimes are the layer's, though files went in after.
        assert os.stat(mnt / "data").st_mtime == 1700000000
        assert os.stat(mnt / "opq").st_mtime == 1700000000
        out = subprocess.run(["chroot", str(mnt), "/bin/sh", "-c", "echo hi > /tmp/x; cat /tmp/x"],
                             capture_output=True, text=True)
        assert out.stdout == "hi\n"
        # In use: rm is refused.
        r = pi.run("rm", test_image["ref"])
        assert r.returncode != 0 and "is using its referenced image" in r.stderr
    finally:
        pi.run("umount", "c1", check=True)
    assert not os.path.ismount(str(mnt))
    r = pi.run("rm", test_image["ref"], check=True)
    assert "Deleted: sha256:" in r.stdout
    assert blob_files(pi.root) == set()
    assert [e for e in os.listdir(os.path.join(pi.root, "snapshots")) if not e.startswith(".")] == []


def test_ls_tag_rm_history(pi, test_image):
    pi.run("pull", "-q", test_image["ref"], check=True)
    pi.run("tag", test_image["ref"], "mine:1", check=True)
    ls = pi.run("ls", check=True).stdout
    assert "mine " in ls and "test/busybox" in ls
    r = pi.run("rm", "mine:1", check=True)
    assert r.stdout.strip() == "Untagged: mine:1"
    hist = json.loads(pi.run("history", "--format", "json", test_image["ref"], check=True).stdout)
    assert len(hist) == 3 and hist[0]["Id"].startswith("sha256:")
    r = pi.run("rm", "nosuch:image")
    assert r.returncode == 1 and "No such image: nosuch:image" in r.stderr
    r = pi.run("pull", "Busybox")
    assert "invalid reference format: repository name (library/Busybox) must be lowercase" in r.stderr
    # --digests: the digest the repository knows the image by.
    lines = pi.run("ls", "--digests", check=True).stdout.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "DIGEST", "IMAGE", "ID", "CREATED", "SIZE"]
    row = [l.split() for l in lines if "test/busybox" in l][0]
    assert row[1] == "latest" and row[2] == test_image["manifest"]["digest"]
    # prune keeps tagged images; prune -a does not.
    assert pi.run("prune", check=True).stdout.strip() == ""
    out = pi.run("prune", "-a", check=True).stdout
    assert "Untagged: " + test_image["ref"] in out and "Deleted: sha256:" in out
    assert pi.run("ls", "-q", check=True).stdout.strip() == ""
    assert blob_files(pi.root) == set()


def test_platform_index(pi, registry, workdir):
    layout = os.path.join(workdir, "oci-multi")
    md_amd, _ = imagelib.make_image(layout, [imagelib.Layer().file("arch", "amd64\n").bytes()], arch="amd64")
    md_arm, _ = imagelib.make_image(layout, [imagelib.Layer().file("arch", "arm64\n").bytes()], arch="arm64")
    md_arm["platform"] = {"os": "linux", "architecture": "arm64", "variant": "v8"}
    att = dict(md_arm, platform={"os": "unknown", "architecture": "unknown"},
               annotations={"vnd.docker.reference.type": "attestation-manifest"})
    imagelib.make_index(layout, [att, md_arm, md_amd])
    imagelib.skopeo_push(layout, registry.host + "/test/multi:1", all_images=True)
    ref = registry.host + "/test/multi:1"
    pi.run("pull", "--platform", "linux/arm64", ref, check=True)
    assert pi.inspect(ref)["Architecture"] == "arm64"
    pi.run("pull", "--platform", "linux/amd64", ref, check=True)
    assert pi.inspect(ref)["Architecture"] == "amd64"
    r = pi.run("pull", "--platform", "linux/s390x", ref)
    assert r.returncode != 0 and "no matching manifest for linux/s390x" in r.stderr


def test_zstd_and_plain_layers(pi, registry, workdir):
    for comp in ("zstd", "none"):
        layout = os.path.join(workdir, "oci-" + comp)
        imagelib.make_image(layout, imagelib.busybox_layers(), compression=comp)
        ref = "%s/test/%s:1" % (registry.host, comp)
        imagelib.skopeo_push(layout, ref)
        pi.run("pull", ref, check=True)


def test_save_load_push_roundtrip(pi, test_image, registry, tmp_path):
    pi.run("pull", test_image["ref"], check=True)
    before = pi.inspect(test_image["ref"])
    tar = str(tmp_path / "save.tar")
    pi.run("save", "-o", tar, test_image["ref"], check=True)
    other = PolisImage(str(tmp_path / "root2"))
    r = other.run("load", "-i", tar, check=True)
    assert "Loaded image: " + test_image["ref"] in r.stdout
    new = registry.host + "/test/roundtrip:1"
    other.run("tag", test_image["ref"], new, check=True)
    r = other.run("push", "--progress", "json", new, check=True)
    pushing = [json.loads(l) for l in r.stdout.splitlines() if '"Pushing"' in l]
    done = [m for m in pushing if m["progressDetail"].get("current")
            and m["progressDetail"]["current"] == m["progressDetail"].get("total")]
    assert done, r.stdout
    third = PolisImage(str(tmp_path / "root3"))
    third.run("pull", new, check=True)
    after = third.inspect(new)
    assert after["Id"] == before["Id"]
    assert after["RootFS"] == before["RootFS"]
    assert after["ManifestDigest"] == before["ManifestDigest"]
    # skopeo reads what save writes, in both of its forms.
    for transport in ("docker-archive", "oci-archive"):
        out = subprocess.run(["skopeo", "inspect", "--raw", "%s:%s" % (transport, tar)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr


def test_podman_load(pi, test_image, tmp_path):
    pi.run("pull", test_image["ref"], check=True)
    tar = str(tmp_path / "p.tar")
    pi.run("save", "-o", tar, test_image["ref"], check=True)
    conf = tmp_path / "containers.conf"
    conf.write_text('[engine]\ncgroup_manager = "cgroupfs"\n[containers]\n'
                    'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n')
    env = dict(os.environ, CONTAINERS_CONF=str(conf))
    import tempfile
    runroot = tempfile.mkdtemp(prefix="prr", dir="/tmp")  # podman: <= 50 chars
    base = ["podman", "--root", str(tmp_path / "pr"), "--runroot", runroot,
            "--storage-driver", "vfs"]
    out = subprocess.run(base + ["load", "-i", tar], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    out = subprocess.run(base + ["image", "inspect", test_image["ref"]],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["Id"] == pi.inspect(test_image["ref"])["Id"][7:]
    subprocess.run(["rm", "-rf", runroot])


def test_import(pi, tmp_path):
    raw = imagelib.Layer().busybox().file("etc/motd", "imported\n").bytes()
    src = tmp_path / "rootfs.tar.gz"
    src.write_bytes(gzip.compress(raw))
    r = pi.run("import", "-c", "CMD [\"sh\"]", "-m", "hi", str(src), "imported:1", check=True)
    info = pi.inspect("imported:1")
    assert info["Id"] == r.stdout.strip()
    assert info["Config"]["Cmd"] == ["sh"]
    assert info["RootFS"]["Layers"] == [imagelib.sha256(raw)]


def test_basic_auth(pi, basic_registry, test_image, tmp_path):
    ref = basic_registry.host + "/test/private:1"
    imagelib.skopeo_push(test_image["layout"], ref, creds="alice:s3cret")
    r = pi.run("pull", ref)
    assert r.returncode != 0 and "unauthorized" in r.stderr.lower()
    cfg = tmp_path / "docker"
    cfg.mkdir()
    auth = __import__("base64").b64encode(b"alice:s3cret").decode()
    (cfg / "config.json").write_text(json.dumps({"auths": {basic_registry.host: {"auth": auth}}}))
    env = dict(os.environ, DOCKER_CONFIG=str(cfg))
    pi.run("pull", ref, check=True, env=env)
    pi.run("tag", ref, basic_registry.host + "/test/pushed:2", check=True)
    pi.run("push", basic_registry.host + "/test/pushed:2", check=True, env=env)


def test_bearer_token(pi, registry, test_image, proxy_factory):
    proxy = proxy_factory(registry.host, bearer=True)
    ref = proxy.host + "/test/busybox:latest"
    pi.run("pull", ref, check=True)
    assert any("scope=repository%3Atest%2Fbusybox%3Apull" in s for s in proxy.token_scopes)
    assert any(m == "GET" and "/blobs/" in p for m, p, _ in proxy.requests)
    # Push, with a cross-repository mount from the repository pulled from.
    pi.run("tag", ref, proxy.host + "/test/mounted:1", check=True)
    r = pi.run("push", proxy.host + "/test/mounted:1", check=True)
    assert "Mounted from test/busybox" in r.stdout or "Layer already exists" in r.stdout
    assert any("mount=sha256" in p for m, p, _ in proxy.requests)


def test_digest_mismatch(pi, registry, test_image, proxy_factory):
    proxy = proxy_factory(registry.host)
    layer = test_image["manifest"]  # manifest descriptor; find a layer digest
    blobs = imagelib_layers(test_image)
    proxy.faults[blobs[1]] = "corrupt"
    r = pi.run("pull", proxy.host + "/test/busybox:latest")
    assert r.returncode != 0
    assert "filesystem layer verification failed for digest " + blobs[1] in r.stderr
    assert blobs[1][7:] not in blob_files(pi.root)
    assert pi.run("ls", "-q").stdout.strip() == ""
    snaps = [e for e in os.listdir(os.path.join(pi.root, "snapshots"))]
    assert snaps == []
    del layer


def imagelib_layers(test_image):
    m = os.path.join(test_image["layout"], "blobs", "sha256",
                     test_image["manifest"]["digest"][7:])
    with open(m) as f:
        return [l["digest"] for l in json.load(f)["layers"]]


def test_hangup_then_resume(pi, registry, test_image, proxy_factory):
    proxy = proxy_factory(registry.host)
    blobs = imagelib_layers(test_image)
    proxy.faults[blobs[0]] = "hangup"
    r = pi.run("pull", proxy.host + "/test/busybox:latest")
    assert r.returncode != 0
    partial = os.path.join(pi.root, "content", "ingest", blobs[0][7:] + ".partial")
    assert os.path.getsize(partial) > 0
    done_before = blob_files(pi.root)
    del proxy.faults[blobs[0]]
    proxy.requests.clear()
    pi.run("pull", proxy.host + "/test/busybox:latest", check=True)
    gets = [(p, rg) for m, p, rg in proxy.requests if m == "GET" and "/blobs/" in p]
    assert any(p.endswith(blobs[0]) and rg and rg.startswith("bytes=") and rg != "bytes=0-"
               for p, rg in gets), gets
    for d in done_before:
        assert not any(p.endswith(d) for p, _ in gets), "re-downloaded a complete blob"
    # Within one pull, a single hang-up is resumed transparently.
    other = PolisImage(pi.root + "-2")
    proxy.faults[blobs[2]] = "hangup-once"
    other.run("pull", proxy.host + "/test/busybox:latest", check=True)


def test_hostile_layers(pi, registry, workdir):
    cases = {
        "dotdot": (imagelib.Layer().file("../../escape", "x"), "escapes the layer"),
        "symlink": (imagelib.Layer().symlink("evil", "/tmp").file("evil/polis-owned", "x"),
                    "through the symlink"),
        "device": (imagelib.Layer().chardev("usr/kmem", 1, 2), "only allowed under /dev"),
    }
    for name, (layer, msg) in cases.items():
        layout = os.path.join(workdir, "oci-hostile-" + name)
        imagelib.make_image(layout, [layer.bytes()])
        ref = "%s/hostile/%s:1" % (registry.host, name)
        imagelib.skopeo_push(layout, ref)
        r = pi.run("pull", ref)
        assert r.returncode != 0 and msg in r.stderr, (name, r.stderr)
        assert pi.run("ls", "-q").stdout.strip() == ""
        assert os.listdir(os.path.join(pi.root, "snapshots")) == []
    assert not os.path.exists("/tmp/polis-owned")
    assert not os.path.exists(os.path.join(os.path.dirname(pi.root), "escape"))


def test_oversized_manifest(pi, registry, test_image, proxy_factory):
    proxy = proxy_factory(registry.host)
    proxy.big_manifest = True
    r = pi.run("pull", proxy.host + "/test/busybox:latest")
    assert r.returncode != 0 and "larger than the limit" in r.stderr
    assert blob_files(pi.root) == set()


def boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip()


def test_snapshots_after_a_crash(pi, test_image, tmp_path):
    """Snapshots are recorded before their files reach the disk, with the
    boot ID; a new boot drops those not known synced, and mount unpacks them
    again from their blobs."""
    import sqlite3
    ref = test_image["ref"]
    pi.run("pull", ref, check=True)
    dbp = os.path.join(pi.root, "polis.db")
    db = sqlite3.connect(dbp)
    rows = db.execute("SELECT chain_id, unsynced_boot FROM layers").fetchall()
    assert len(rows) == 3 and all(b == boot_id() for _, b in rows), rows
    # A power cut: the top layer's file never reached the disk, and the
    # machine comes back with another boot ID.
    top = pi.inspect(ref)["RootFS"]["Layers"]
    chains = {c for c, _ in rows}
    snapdir = os.path.join(pi.root, "snapshots")
    hello = [os.path.join(snapdir, c[7:], "hello") for c in chains
             if os.path.exists(os.path.join(snapdir, c[7:], "hello"))]
    assert len(hello) == 1
    with open(hello[0], "w"):
        pass
    db.execute("UPDATE layers SET unsynced_boot = 'an-earlier-boot'")
    db.execute("UPDATE image_meta SET value = 'an-earlier-boot' WHERE key = 'boot_id'")
    db.commit()
    db.close()
    # Any command notices: the suspect snapshots go, the image stays.
    assert "test/busybox " in pi.run("ls", check=True).stdout
    assert [e for e in os.listdir(snapdir) if not e.startswith(".")] == []
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    pi.run("mount", "--name", "c1", ref, str(mnt), check=True)
    try:
        assert (mnt / "hello").read_text() == "hello from layer 3\n"
    finally:
        pi.run("umount", "c1", check=True)
    assert pi.inspect(ref)["RootFS"]["Layers"] == top
    # Snapshots older than 30 s are synced by the next command and marked.
    db = sqlite3.connect(dbp)
    db.execute("UPDATE layers SET created = created - 60")
    db.commit()
    pi.run("ls", check=True)
    assert db.execute("SELECT COUNT(*) FROM layers WHERE unsynced_boot IS NOT NULL").fetchone()[0] == 0
    db.close()


def manifest_layers(layout, md):
    with open(os.path.join(layout, "blobs", "sha256", md["digest"][7:])) as f:
        return [l["digest"] for l in json.load(f)["layers"]]


def sha256_file(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def test_token_expiry(pi, registry, workdir, proxy_factory):
    """Bearer tokens that expire after two requests: each 401 gets one new
    token and one retry, on pulls and pushes; a layer refused while others
    are in flight does not lose the others' completion."""
    layout = os.path.join(workdir, "oci-tokens")
    md, cfg = imagelib.make_image(
        layout, [imagelib.Layer().file("f%d" % i, os.urandom(12 << 10)).bytes() for i in range(3)])
    imagelib.skopeo_push(layout, registry.host + "/test/tokens:1")
    layers = manifest_layers(layout, md)
    # Manifests, config and blobs all meet expired tokens.
    proxy = proxy_factory(registry.host, bearer=True, token_uses=2)
    ref = proxy.host + "/test/tokens:1"
    r = pi.run("pull", ref, timeout=30)
    assert r.returncode == 0, r.stderr
    assert pi.inspect(ref)["RootFS"]["Layers"] == cfg["rootfs"]["diff_ids"]
    assert proxy.expired > 0
    # A push whose tokens expire between its requests.
    pi.run("tag", ref, proxy.host + "/test/tokens-pushed:1", check=True)
    proxy.expired = 0
    r = pi.run("push", proxy.host + "/test/tokens-pushed:1", timeout=30)
    assert r.returncode == 0, r.stderr
    assert proxy.expired > 0
    other = PolisImage(pi.root + "-2")
    other.run("pull", registry.host + "/test/tokens-pushed:1", check=True)
    # One layer refused while the others come slowly and end while the new
    # token is on its way.
    proxy.token_uses = None
    proxy.rate = 40 << 10
    proxy.token_delay = 0.5
    proxy.faults[layers[1]] = "401-once"
    third = PolisImage(pi.root + "-3")
    r = third.run("pull", ref, timeout=30)
    assert r.returncode == 0, r.stderr
    assert third.inspect(ref)["RootFS"]["Layers"] == cfg["rootfs"]["diff_ids"]


def test_kill_mid_layer_then_resume(pi, registry, workdir, proxy_factory):
    """kill -9 in the middle of a layer: nothing that looks complete is
    left, and the next pull resumes the layer with a Range request and
    downloads nothing that was complete."""
    import signal
    import time
    from conftest import polis_image_path
    layout = os.path.join(workdir, "oci-kill")
    big = imagelib.Layer().file("big", os.urandom(3 << 20)).bytes()
    small = [imagelib.Layer().file("s%d" % i, "small %d\n" % i).bytes() for i in range(2)]
    md, cfg = imagelib.make_image(layout, [small[0], big, small[1]])
    imagelib.skopeo_push(layout, registry.host + "/test/kill:1")
    layers = manifest_layers(layout, md)
    big_size = os.path.getsize(os.path.join(layout, "blobs", "sha256", layers[1][7:]))
    proxy = proxy_factory(registry.host)
    proxy.rate = 1 << 20          # the big layer takes 3 s
    ref = proxy.host + "/test/kill:1"
    p = subprocess.Popen([polis_image_path(), "--root", pi.root, "--progress", "none",
                          "pull", ref], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = os.path.join(pi.root, "content", "ingest", layers[1][7:] + ".partial")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if os.path.exists(partial) and os.path.getsize(partial) >= 256 << 10:
            break
        time.sleep(0.02)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    at_kill = os.path.getsize(partial)
    assert 0 < at_kill < big_size
    # Nothing looks complete that is not: every blob in blobs/ is whole
    # and verified, the big one is not there, no snapshot is in place.
    blobs = blob_files(pi.root)
    assert layers[1][7:] not in blobs
    for b in blobs:
        assert sha256_file(os.path.join(pi.root, "content", "blobs", "sha256", b)) == b
    snapdir = os.path.join(pi.root, "snapshots")
    assert [e for e in os.listdir(snapdir) if not e.startswith(".")] == []
    assert pi.run("ls", "-q").stdout.strip() == ""
    done = {d for d in (layers[0], layers[2])
            if d[7:] in blobs or os.path.exists(os.path.join(
                pi.root, "content", "ingest", d[7:] + ".partial"))}
    assert done == {layers[0], layers[2]}
    proxy.rate = None
    proxy.requests.clear()
    pi.run("pull", ref, check=True)
    gets = [(path, rg) for m, path, rg in proxy.requests if m == "GET" and "/blobs/" in path]
    assert [rg for path, rg in gets if path.endswith(layers[1])] == ["bytes=%d-" % at_kill], gets
    for d in done:
        assert not any(path.endswith(d) for path, _ in gets), "re-downloaded " + d
    assert pi.inspect(ref)["RootFS"]["Layers"] == cfg["rootfs"]["diff_ids"]
    assert [e for e in os.listdir(snapdir) if e.startswith(".tmp-")] == []
    assert os.listdir(os.path.join(pi.root, "content", "ingest")) == []
