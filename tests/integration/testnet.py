"""Per-daemon network settings for tests that run polisd.

Several polisd test daemons (and other suites) run on this machine at once:
each gets its own default bridge, nftables table and subnets, derived from a
random id, and everything is removed afterwards.  Subnets are /16s of
10.128.0.0/9 that no host route overlaps, claimed with a lock file per
prefix under /run/polis-test-nets (a claim whose process is gone is taken
over)."""

import os
import random
import subprocess
import uuid

NET_CLAIMS = "/run/polis-test-nets"


def _routes():
    """The host's IPv4 routes as (network, mask) in host order, without
    default routes."""
    import struct
    out = []
    with open("/proc/net/route") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            dst, mask = (struct.unpack("!I", struct.pack("<I", int(x, 16)))[0]
                         for x in (fields[1], fields[7]))
            if mask:
                out.append((dst & mask, mask))
    return out


def _routed(a, b, routes):
    """Does 10.B.0.0/16 (A = 10) overlap a route?"""
    net = (a << 24) | (b << 16)
    for dst, mask in routes:
        m = mask & 0xffff0000
        if (net & m) == (dst & m):
            return True
    return False


def free_subnets(count):
    os.makedirs(NET_CLAIMS, exist_ok=True)
    routes = _routes()
    cands = [(10, b) for b in range(128, 256)]
    random.shuffle(cands)
    out = []
    for a, b in cands:
        if _routed(a, b, routes):
            continue
        path = os.path.join(NET_CLAIMS, "%d.%d" % (a, b))
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                with open(path) as f:
                    pid = int(f.read() or 0)
                os.kill(pid, 0)
                continue
            except (ValueError, ProcessLookupError, FileNotFoundError):
                fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        out.append((path, "%d.%d" % (a, b)))
        if len(out) == count:
            return out
    raise AssertionError("no free 10.x.0.0/16 for a test daemon")


class DaemonNet:
    """A daemon's bridge, nftables table and subnets."""

    def __init__(self):
        self.id = uuid.uuid4().hex[:8]
        self.bridge = "pt" + self.id
        self.nft_table = "polis_t" + self.id
        claims = free_subnets(2)
        self.claims = [c[0] for c in claims]
        self.bip = "%s.0.1/24" % claims[0][1]
        self.pool = "base=%s.0.0/16,size=24" % claims[1][1]

    def args(self, dns_upstream="127.0.0.1:9"):
        """polisd's flags.  The resolver's upstream defaults to a closed
        port on loopback: tests never reach the host's resolver."""
        return ["--bridge", self.bridge, "--bip", self.bip,
                "--default-address-pool", self.pool, "--nft-table", self.nft_table,
                "--dns-upstream", dns_upstream]

    def bridges(self, networks):
        """Our bridges, from a GET /networks answer (None: the default only)."""
        out = {self.bridge}
        for n in networks or []:
            if n.get("Driver") == "bridge":
                b = (n.get("Options") or {}).get("com.docker.network.bridge.name")
                out.add(b or "br-" + n["Id"][:12])
        return out

    def cleanup(self, bridges):
        """Remove what the daemon made in the kernel: its bridges and its
        nftables table (nothing else of the host's); release the subnets."""
        for b in bridges:
            subprocess.run(["ip", "link", "del", b], capture_output=True)
        subprocess.run(["nft", "delete", "table", "ip", self.nft_table],
                       capture_output=True)
        for c in self.claims:
            try:
                os.unlink(c)
            except OSError:
                pass


def veths_on(bridges):
    """Interfaces still enslaved to one of BRIDGES."""
    out = []
    for b in bridges:
        d = "/sys/class/net/%s/brif" % b
        if os.path.isdir(d):
            out += os.listdir(d)
    return out
