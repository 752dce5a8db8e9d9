"""Build test images locally (no network): OCI image layouts made from
tarballs we generate, pushed to a local registry with Debian's skopeo."""

import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
import time

BUSYBOX = os.environ.get("POLIS_BUSYBOX", "/bin/busybox")


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Layer:
    """A layer tar built in memory from (name, kind, data/target, mode) items."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)

    def _info(self, name, kind, mode, size=0, uid=0, gid=0):
        ti = tarfile.TarInfo(name)
        ti.type = kind
        ti.mode = mode
        ti.size = size
        ti.uid, ti.gid = uid, gid
        ti.mtime = 1700000000
        return ti

    def dir(self, name, mode=0o755, uid=0, gid=0):
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode, uid=uid, gid=gid))
        return self

    def file(self, name, data, mode=0o644, uid=0, gid=0, pax=None):
        if isinstance(data, str):
            data = data.encode()
        ti = self._info(name, tarfile.REGTYPE, mode, len(data), uid, gid)
        if pax:
            ti.pax_headers = pax
        self.tar.addfile(ti, io.BytesIO(data))
        return self

    def symlink(self, name, target):
        ti = self._info(name, tarfile.SYMTYPE, 0o777)
        ti.linkname = target
        self.tar.addfile(ti)
        return self

    def hardlink(self, name, target):
        ti = self._info(name, tarfile.LNKTYPE, 0o644)
        ti.linkname = target
        self.tar.addfile(ti)
        return self

    def chardev(self, name, major, minor, mode=0o666):
        ti = self._info(name, tarfile.CHRTYPE, mode)
        ti.devmajor, ti.devminor = major, minor
        self.tar.addfile(ti)
        return self

    def whiteout(self, name):
        d, b = os.path.split(name)
        return self.file(os.path.join(d, ".wh." + b), b"")

    def opaque(self, dirname):
        return self.file(os.path.join(dirname, ".wh..wh..opq"), b"")

    def busybox(self, applets=("sh", "ls", "cat", "echo", "true")):
        self.dir("bin")
        with open(BUSYBOX, "rb") as f:
            self.file("bin/busybox", f.read(), mode=0o755)
        for a in applets:
            self.symlink("bin/" + a, "busybox")
        return self

    def bytes(self):
        self.tar.close()
        return self.buf.getvalue()


def write_blob(layout, data):
    d = sha256(data)
    p = os.path.join(layout, "blobs", "sha256", d[7:])
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return {"digest": d, "size": len(data)}


def make_image(layout, layers, compression="gzip", arch="amd64", os_="linux",
               cmd=("sh",), docker_types=False, tag="latest", index_extra=None):
    """Write an OCI layout with one image; returns its manifest descriptor.
    LAYERS are raw tar bytes."""
    os.makedirs(layout, exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    descs, diff_ids = [], []
    for raw in layers:
        diff_ids.append(sha256(raw))
        if compression == "gzip":
            blob = gzip.compress(raw, compresslevel=1, mtime=0)
            mt = ("application/vnd.docker.image.rootfs.diff.tar.gzip" if docker_types
                  else "application/vnd.oci.image.layer.v1.tar+gzip")
        elif compression == "zstd":
            blob = subprocess.run(["zstd", "-q", "-c", "-1"], input=raw,
                                  capture_output=True, check=True).stdout
            mt = "application/vnd.oci.image.layer.v1.tar+zstd"
        else:
            blob = raw
            mt = "application/vnd.oci.image.layer.v1.tar"
        d = write_blob(layout, blob)
        d["mediaType"] = mt
        descs.append(d)
    config = {
        "architecture": arch, "os": os_, "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": list(cmd), "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "layer %d" % i}
                    for i in range(len(layers))],
    }
    cd = write_blob(layout, json.dumps(config).encode())
    cd["mediaType"] = ("application/vnd.docker.container.image.v1+json" if docker_types
                       else "application/vnd.oci.image.config.v1+json")
    manifest = {"schemaVersion": 2,
                "mediaType": ("application/vnd.docker.distribution.manifest.v2+json"
                              if docker_types else
                              "application/vnd.oci.image.manifest.v1+json"),
                "config": cd, "layers": descs}
    md = write_blob(layout, json.dumps(manifest).encode())
    md["mediaType"] = manifest["mediaType"]
    md["platform"] = {"architecture": arch, "os": os_}
    index = {"schemaVersion": 2, "manifests": [
        dict(md, annotations={"org.opencontainers.image.ref.name": tag})]}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)
    return md, config


def make_index(layout, entries, tag="latest"):
    """An OCI layout whose top is an index of ENTRIES (manifest descriptors
    with platform), all blobs already in LAYOUT."""
    idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
           "manifests": entries}
    d = write_blob(layout, json.dumps(idx).encode())
    d["mediaType"] = idx["mediaType"]
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            dict(d, annotations={"org.opencontainers.image.ref.name": tag})]}, f)
    return d


def skopeo_push(layout, dest, tag="latest", creds=None, all_images=False):
    cmd = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false"]
    if all_images:
        cmd.append("--all")
    if creds:
        cmd += ["--dest-creds", creds]
    cmd += ["oci:%s:%s" % (layout, tag), "docker://" + dest]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def busybox_layers():
    """Three layers: busybox, files with deletions/hardlinks/symlinks, more."""
    l1 = Layer().busybox().dir("etc").file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n") \
        .dir("tmp", 0o1777).dir("data").file("data/old", "old\n") \
        .dir("opq").file("opq/gone", "x").file("suid", "s", mode=0o4755)
    l2 = Layer().dir("data").whiteout("data/old").file("data/new", "new\n") \
        .hardlink("data/link", "data/new").symlink("data/sym", "/etc/passwd") \
        .dir("opq").opaque("opq").file("opq/kept", "k").file("owned", "o", uid=1000, gid=1000) \
        .file("xattr", "x", pax={"SCHILY.xattr.user.polis": "yes"})
    l3 = Layer().file("hello", "hello from layer 3\n")
    return [l1.bytes(), l2.bytes(), l3.bytes()]
