#!/usr/bin/python3
"""Volume benchmarks for polisd (not a test; run as root).

  sudo bench/volumes.py [--build build] [--rounds 20] [--files 2000] [--kib 32]

Through the API, interleaved round by round, medians of ROUNDS:
1. create -> start -> wait -> rm of `busybox true`: without a volume, with a
   named volume (-v name:/data, exists already), with an anonymous volume
   removed with the container (rm -v), with a bind mount;
2. copy-up: the first start of a container whose image has FILES files of
   KIB KiB at its VOLUME, into a new empty volume, against the same with
   nocopy (the volume is made, nothing copied), and `cp -a` of the same
   directory from a container's mounted root.  Each round uses a new
   named volume; the image's data is in the page cache after round one.

One daemon on its own --root in a temporary directory, removed at the end.
"""

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine import TOP, Daemon  # noqa: E402


def import_image(d, files, kib):
    buf = io.BytesIO()
    blob = os.urandom(kib * 1024)
    with tarfile.open(fileobj=buf, mode="w") as t:
        root = os.path.join(d.base, "bbroot")
        for sub in ("bin", "etc", "dev", "proc", "sys", "tmp"):
            os.makedirs(os.path.join(root, sub), exist_ok=True)
        shutil.copy2("/bin/busybox", os.path.join(root, "bin", "busybox"))
        for a in subprocess.run(["/bin/busybox", "--list"], capture_output=True,
                                text=True).stdout.split():
            p = os.path.join(root, "bin", a)
            if not os.path.exists(p):
                os.symlink("busybox", p)
        t.add(root, arcname=".")
        for i in range(files):
            ti = tarfile.TarInfo("./data/d%02d/f%05d" % (i % 50, i))
            ti.size = len(blob)
            t.addfile(ti, io.BytesIO(blob))
    q = ("/images/create?fromSrc=-&repo=voldata&tag=latest&changes="
         "VOLUME%20%5B%22%2Fdata%22%5D")
    d.call("POST", q, buf.getvalue())


def lifecycle(d, hc, rm_v=False, image="busybox"):
    t0 = time.perf_counter()
    cid = d.call("POST", "/containers/create",
                 {"Image": image, "Cmd": ["true"], "HostConfig": hc})["Id"]
    d.call("POST", "/containers/%s/start" % cid)
    d.call("POST", "/containers/%s/wait" % cid)
    d.call("DELETE", "/containers/%s%s" % (cid, "?v=1" if rm_v else ""))
    return (time.perf_counter() - t0) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--kib", type=int, default=32)
    a = ap.parse_args()
    d = Daemon(os.path.abspath(a.build))
    try:
        d.import_busybox()
        import_image(d, a.files, a.kib)
        bind = os.path.join(d.base, "bindsrc")
        os.makedirs(bind)
        d.call("POST", "/volumes/create", {"Name": "named"})
        cases = [
            ("no volume", lambda: lifecycle(d, {})),
            ("named volume (-v named:/data)", lambda: lifecycle(d, {"Binds": ["named:/data"]})),
            ("anonymous volume (-v /data, rm -v)",
             lambda: lifecycle(d, {"Binds": ["/data"]}, rm_v=True)),
            ("bind mount (-v /host:/data)", lambda: lifecycle(d, {"Binds": [bind + ":/data"]})),
        ]
        times = {name: [] for name, _ in cases}
        copy = {"copy-up": [], "nocopy": []}
        for r in range(a.rounds):
            for name, fn in cases:
                times[name].append(fn())
            for kind in copy:
                vol = "cu%d%s" % (r, kind[:2])
                mode = ":nocopy" if kind == "nocopy" else ""
                copy[kind].append(lifecycle(d, {"Binds": ["%s:/data%s" % (vol, mode)]},
                                            image="voldata"))
                d.call("DELETE", "/volumes/" + vol)
        # The same copy by cp -a, from a container's mounted root (kept
        # mounted until the container is removed).
        cid = d.call("POST", "/containers/create", {
            "Image": "voldata", "Cmd": ["true"],
            "HostConfig": {"Binds": ["cpvol:/data:nocopy"]}})["Id"]
        d.call("POST", "/containers/%s/start" % cid)
        d.call("POST", "/containers/%s/wait" % cid)
        rootfs = os.path.join(d.base, "root", "containers", cid, "rootfs")
        cpa = []
        for r in range(min(a.rounds, 5)):
            dst = os.path.join(d.base, "cpa%d" % r)
            t0 = time.perf_counter()
            subprocess.run(["cp", "-a", rootfs + "/data", dst], check=True)
            cpa.append((time.perf_counter() - t0) * 1000)
            shutil.rmtree(dst)
        d.call("DELETE", "/containers/%s?v=1" % cid)
        print("| create → start → wait → rm | ms (median of %d) |" % a.rounds)
        print("|---|---:|")
        for name, _ in cases:
            print("| %s | %.1f |" % (name, statistics.median(times[name])))
        mib = a.files * a.kib / 1024
        print()
        print("| first run with `voldata` (%d files, %.1f MiB at /data) | ms |"
              % (a.files, mib))
        print("|---|---:|")
        for kind in copy:
            print("| into a new volume, %s | %.1f |" % (kind, statistics.median(copy[kind])))
        print("| `cp -a` of the same directory (median of %d) | %.1f |"
              % (len(cpa), statistics.median(cpa)))
        cu = statistics.median(copy["copy-up"]) - statistics.median(copy["nocopy"])
        print()
        print("copy-up cost: %.1f ms for %.1f MiB (%.0f MiB/s, %.0f files/ms)"
              % (cu, mib, mib / (cu / 1000) if cu > 0 else 0,
                 a.files / cu if cu > 0 else 0))
    finally:
        d.close()


if __name__ == "__main__":
    main()
