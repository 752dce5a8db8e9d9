"""Networking: user networks and their resolver, isolation, published ports
through nftables, live restore, errors, and nothing left behind.

Every daemon of the fixture has its own bridge, nftables table and subnets
(conftest.Polisd), so these run beside other suites.  Traffic goes only to
127.0.0.1 and to addresses inside the containers' namespaces; the resolver's
upstream is a stub started here on 127.0.0.1."""

import json
import os
import socket
import sqlite3
import struct
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import DockerCLI, DOCKER28, require_docker28, veths_on, wait_until


HTTPD = ["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]


@pytest.fixture
def dk(polisd):
    require_docker28()
    cli = DockerCLI(DOCKER28, polisd, "v28")
    yield cli
    cli.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_http(url, timeout=10):
    end = time.time() + timeout
    while True:
        try:
            return http_get(url, timeout=2)
        except OSError:
            if time.time() > end:
                raise
            time.sleep(0.05)


def nft_table(d):
    r = subprocess.run(["nft", "-j", "list", "table", "ip", d.nft_table],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["nftables"]


def map_elements(d):
    """Every element of the table's published-port maps."""
    out = []
    for o in nft_table(d):
        m = o.get("map")
        if m and m["name"].startswith("pub"):
            out += m.get("elem", [])
    return out


def chains(d):
    return sorted(o["chain"]["name"] for o in nft_table(d) if "chain" in o)


def ipam_rows(d):
    db = sqlite3.connect(os.path.join(d.root, "polis.db"))
    try:
        return db.execute("SELECT network, addr, container FROM ipam").fetchall()
    finally:
        db.close()


def links():
    return set(os.listdir("/sys/class/net"))


def our_veths(d):
    """Interfaces on the daemon's bridges (other suites run beside us)."""
    return veths_on(d.bridges())


def test_two_containers_resolve_each_other_and_exchange_data(dk):
    dk("network", "create", "app")
    dk("run", "-d", "--name", "web", "--network", "app", "--network-alias", "www", *HTTPD)
    out = dk("run", "--rm", "--network", "app", "busybox", "sh", "-c",
             "wget -qO- http://web/hostname && wget -qO- http://www/hostname"
             " && nslookup web.app").stdout
    cid = dk("inspect", "-f", "{{.Id}}", "web").stdout.strip()
    assert out.count(cid[:12]) == 2
    ip = dk("inspect", "-f", "{{.NetworkSettings.Networks.app.IPAddress}}", "web").stdout.strip()
    assert ip in out
    # the container's own files
    resolv = dk("run", "--rm", "--network", "app", "busybox", "cat", "/etc/resolv.conf").stdout
    gw = dk("network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", "app").stdout.strip()
    assert "nameserver %s" % gw in resolv
    hosts = dk("exec", "web", "cat", "/etc/hosts").stdout
    assert "%s\t%s" % (ip, cid[:12]) in hosts


def test_names_are_answered_per_network_and_others_forwarded(daemon_factory):
    require_docker28()
    # a stub upstream on 127.0.0.1: every A question gets 192.0.2.7
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.bind(("127.0.0.1", 0))
    port = up.getsockname()[1]
    asked = []

    def serve():
        while True:
            try:
                q, peer = up.recvfrom(1500)
            except OSError:
                return
            end = 12
            while q[end]:
                end += q[end] + 1
            end += 5
            name = q[12:end - 5]
            asked.append(name)
            r = q[:2] + b"\x81\x80" + b"\x00\x01\x00\x01\x00\x00\x00\x00" + q[12:end]
            r += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes([192, 0, 2, 7])
            up.sendto(r, peer)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    d = daemon_factory("--dns-upstream", "127.0.0.1:%d" % port)
    docker = DockerCLI(DOCKER28, d, "v28")
    try:
        docker("network", "create", "n1")
        docker("network", "create", "n2")
        docker("run", "-d", "--name", "aa", "--network", "n1", "busybox", "sleep", "600")
        docker("run", "-d", "--name", "bb", "--network", "n2", "busybox", "sleep", "600")
        r = docker("exec", "bb", "nslookup", "aa", check=False)
        assert "192.0.2.7" in r.stdout  # not ours on n2: forwarded
        r = docker("exec", "bb", "nslookup", "example.test")
        assert "192.0.2.7" in r.stdout
        assert any(b"example" in n for n in asked)
        ip_a = docker("inspect", "-f", "{{.NetworkSettings.Networks.n1.IPAddress}}", "aa").stdout.strip()
        r = docker("run", "--rm", "--network", "n1", "busybox", "nslookup", "aa")
        assert ip_a in r.stdout
    finally:
        docker.close()
        up.close()


def test_networks_are_isolated(dk):
    dk("network", "create", "left")
    dk("network", "create", "right")
    dk("run", "-d", "--name", "ll", "--network", "left", *HTTPD)
    dk("run", "-d", "--name", "rr", "--network", "right", *HTTPD)
    ip_l = dk("inspect", "-f", "{{.NetworkSettings.Networks.left.IPAddress}}", "ll").stdout.strip()
    # same network: reachable
    dk("run", "--rm", "--network", "left", "busybox", "timeout", "3", "wget", "-qO-",
       "http://%s/hostname" % ip_l)
    # from the other network: not
    r = dk("exec", "rr", "timeout", "2", "wget", "-qO-", "http://%s/hostname" % ip_l, check=False)
    assert r.returncode != 0


def test_internal_network_has_no_route_out(dk):
    dk("network", "create", "--internal", "inner")
    out = dk("run", "--rm", "--network", "inner", "busybox", "ip", "route").stdout
    assert "default" not in out
    assert dk("network", "inspect", "-f", "{{.Internal}}", "inner").stdout.strip() == "true"


def test_publish_on_localhost(dk, polisd):
    port = free_port()
    dk("run", "-d", "--name", "pub", "-p", "127.0.0.1:%d:80" % port, *HTTPD)
    cid = dk("inspect", "-f", "{{.Id}}", "pub").stdout.strip()
    assert wait_http("http://127.0.0.1:%d/hostname" % port).strip() == cid[:12]
    assert dk("port", "pub").stdout.strip() == "80/tcp -> 127.0.0.1:%d" % port
    ps = polisd.json("GET", "/containers/json", expect=200)[0]
    assert ps["Ports"] == [{"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": port,
                            "Type": "tcp"}]
    settings = polisd.json("GET", "/containers/pub/json")["NetworkSettings"]
    assert settings["Ports"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    assert settings["Networks"]["bridge"]["IPAddress"] == settings["IPAddress"]
    # a neighbour on the bridge reaches it through the gateway's address
    gw = settings["Gateway"]
    out = dk("run", "--rm", "busybox", "timeout", "5", "wget", "-qO-",
             "http://%s:%d/hostname" % (gw, port), check=False)
    # (published on 127.0.0.1 only: the gateway's address is not it)
    assert out.returncode != 0
    # -P draws a host port for every exposed one
    dk("run", "-d", "--name", "all", "--expose", "80", "-P", *HTTPD)
    line = dk("port", "all", "80/tcp").stdout.strip().splitlines()[0]
    hp = int(line.rsplit(":", 1)[1])
    assert wait_http("http://127.0.0.1:%d/hostname" % hp)
    out = dk("run", "--rm", "busybox", "timeout", "5", "wget", "-qO-",
             "http://%s:%d/hostname" % (gw, hp)).stdout
    assert out.strip() == dk("inspect", "-f", "{{.Id}}", "all").stdout.strip()[:12]
    # a stopped container gives its port up; it wants it back at its start
    dk("stop", "-t", "0", "pub")
    dk("run", "-d", "--name", "pub2", "-p", "127.0.0.1:%d:80" % port, *HTTPD)
    cid2 = dk("inspect", "-f", "{{.Id}}", "pub2").stdout.strip()
    assert wait_http("http://127.0.0.1:%d/hostname" % port).strip() == cid2[:12]
    r = dk("start", "pub", check=False)
    assert r.returncode != 0 and "port is already allocated" in r.stderr
    dk("rm", "-f", "pub2")
    dk("start", "pub")
    assert wait_http("http://127.0.0.1:%d/hostname" % port).strip() == cid[:12]
    dk("rm", "-f", "pub", "all")
    assert map_elements(polisd) == []


def test_kill9_keeps_ports_and_addresses(daemon_factory):
    require_docker28()
    d = daemon_factory()
    docker = DockerCLI(DOCKER28, d, "v28")
    try:
        port = free_port()
        docker("network", "create", "keep")
        docker("run", "-d", "--name", "web", "--network", "keep", "-p",
               "127.0.0.1:%d:80" % port, *HTTPD)
        docker("run", "-d", "--name", "cli", "--network", "keep", "busybox", "sleep", "600")
        wait_http("http://127.0.0.1:%d/hostname" % port)
        before = {n: docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", n).stdout
                  for n in ("web", "cli")}
        d.kill9()
        # the kernel kept everything: the port answers without a daemon
        assert http_get("http://127.0.0.1:%d/hostname" % port)
        d.start()
        assert http_get("http://127.0.0.1:%d/hostname" % port)
        for n in ("web", "cli"):
            assert docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", n).stdout == before[n]
        # the resolver answers again, from the new daemon
        docker("exec", "cli", "timeout", "3", "wget", "-qO-", "http://web/hostname")
        # a new container does not get an address in use
        docker("run", "-d", "--name", "third", "--network", "keep", "busybox", "sleep", "600")
        ips = [docker("inspect", "-f", "{{.NetworkSettings.Networks.keep.IPAddress}}", n).stdout
               for n in ("web", "cli", "third")]
        assert len(set(ips)) == 3
    finally:
        docker.close()


def test_create_remove_cycles_leave_nothing(dk, polisd):
    base_chains = chains(polisd)
    port = free_port()
    for i in range(200):
        net = "cyc%d" % (i % 3)
        if i < 3:
            dk("network", "create", net)
        args = ["-p", "127.0.0.1:%d:80" % port] if i % 10 == 0 else []
        if i % 4 == 0:
            dk("run", "-d", "--name", "c%d" % i, "--network", net, *args, *HTTPD)
        else:
            dk("create", "--name", "c%d" % i, "--network", net, *args, *HTTPD)
        dk("rm", "-f", "c%d" % i)
    assert ipam_rows(polisd) == []
    assert map_elements(polisd) == []
    # (host interfaces go in polisd's reaper, after `rm` has answered)
    wait_until(lambda: our_veths(polisd) == [], what="the veths deleted")
    bridges = polisd.bridges() - {polisd.bridge}
    assert len(bridges) == 3 and bridges <= links()
    for n in range(3):
        dk("network", "rm", "cyc%d" % n)
    assert chains(polisd) == base_chains
    assert bridges & links() == set()


def test_errors(dk, polisd):
    port = free_port()
    dk("run", "-d", "--name", "aa", "-p", "127.0.0.1:%d:80" % port, *HTTPD)
    veths0 = our_veths(polisd)
    r = dk("run", "-d", "--name", "bb", "-p", "127.0.0.1:%d:80" % port, *HTTPD, check=False)
    assert r.returncode != 0
    assert "port is already allocated" in r.stderr
    # nothing half-made: no interface, no rule for b
    assert our_veths(polisd) == veths0
    assert len(map_elements(polisd)) == 1
    dk("rm", "-f", "bb")
    # a host process on the port
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hp = free_port()
    s.bind(("127.0.0.1", hp))
    s.listen()
    try:
        r = dk("run", "-d", "--name", "cc", "-p", "127.0.0.1:%d:80" % hp, *HTTPD, check=False)
        assert "address already in use" in r.stderr
    finally:
        s.close()
    dk("rm", "-f", "cc")

    sub = polisd.json("GET", "/networks/bridge")["IPAM"]["Config"][0]["Subnet"]
    st, _, body = polisd.request("POST", "/networks/create", {"Name": "x", "IPAM": {"Config": [{"Subnet": sub}]}})
    assert st == 403 and b"Pool overlaps with other one on this address space" in body
    st, _, body = polisd.request("POST", "/networks/create", {"Name": "x", "IPAM": {"Config": [{"Subnet": "10.1.2.300/24"}]}})
    assert st == 400 and b"invalid CIDR address" in body
    dk("network", "create", "used")
    r = dk("network", "create", "used", check=False)
    assert "network with name used already exists" in r.stderr
    dk("create", "--name", "uu", "--network", "used", "busybox")
    r = dk("network", "rm", "used", check=False)
    assert "has active endpoints" in r.stderr
    st, _, _ = polisd.request("DELETE", "/networks/used")
    assert st == 403
    st, _, body = polisd.request("DELETE", "/networks/bridge")
    assert st == 403 and b"pre-defined network" in body
    st, _, body = polisd.request("GET", "/networks/nosuch")
    assert st == 404 and b"network nosuch not found" in body
    # (the CLI takes any 404 of a create for a missing image: asked directly)
    st, _, body = polisd.request("POST", "/containers/create",
                                 {"Image": "busybox", "HostConfig": {"NetworkMode": "nosuch"}})
    assert st == 404 and b"network nosuch not found" in body
    dk("rm", "uu")
    dk("network", "rm", "used")
    out = dk("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert sorted(out) == ["bridge", "host", "none"]


def test_modes_and_etc_files(dk, polisd):
    out = dk("run", "--rm", "--network", "none", "busybox", "ip", "-o", "link").stdout
    assert [l.split(":")[1].strip() for l in out.splitlines()] == ["lo"]
    out = dk("run", "--rm", "--network", "host", "busybox", "ip", "-o", "link").stdout
    assert polisd.bridge in out
    out = dk("run", "--rm", "--hostname", "h1", "--add-host", "db:10.9.9.9", "--dns", "127.0.0.1",
             "--dns-search", "example.test", "--dns-option", "ndots:2",
             "busybox", "sh", "-c", "hostname; cat /etc/hosts /etc/resolv.conf").stdout
    assert out.startswith("h1\n")
    assert "10.9.9.9\tdb" in out
    assert "nameserver 127.0.0.1" in out
    assert "search example.test\n" in out and "options ndots:2\n" in out
    # container:<id> joins another's namespace
    dk("run", "-d", "--name", "owner", *HTTPD)
    cid = dk("inspect", "-f", "{{.Id}}", "owner").stdout.strip()
    out = dk("run", "--rm", "--network", "container:owner", "busybox", "wget", "-qO-",
             "http://127.0.0.1/hostname").stdout
    assert out.strip() == cid[:12]
    dk("create", "--name", "joiner", "--network", "container:owner", "busybox", "true")
    assert dk("inspect", "-f", "{{.HostConfig.NetworkMode}}", "joiner").stdout.strip() == \
        "container:" + cid
    dk("stop", "-t", "0", "owner")
    r = dk("start", "joiner", check=False)
    assert r.returncode != 0 and "non running container" in r.stderr
    r = dk("run", "--rm", "--network", "container:owner", "-p", "81:80", "busybox", "true",
           check=False)
    assert "conflicting options: port publishing" in r.stderr


def test_connect_disconnect_and_prune(dk, polisd):
    # a subnet of our own pool, given explicitly (10.X.200.0/24)
    prefix = polisd.pool.split("=")[1].split(".0.0/")[0]
    dk("network", "create", "--label", "k=v", "--subnet", prefix + ".200.0/24",
       "--ip-range", prefix + ".200.128/25", "p1")
    dk("network", "create", "p2")
    dk("run", "-d", "--name", "ww", "--network", "p1", *HTTPD)
    dk("run", "-d", "--name", "cc", "--network", "p2", "busybox", "sleep", "600")
    dk("network", "connect", "--alias", "web2", "p1", "cc")
    nets = json.loads(dk("inspect", "-f", "{{json .NetworkSettings.Networks}}", "cc").stdout)
    assert sorted(nets) == ["p1", "p2"]
    w_ip = dk("inspect", "-f", "{{.NetworkSettings.Networks.p1.IPAddress}}", "ww").stdout.strip()
    assert w_ip == prefix + ".200.128" or w_ip.startswith(prefix + ".200.1")
    assert dk("network", "ls", "-q", "--filter", "label=k=v").stdout.strip() != ""
    dk("exec", "cc", "timeout", "3", "wget", "-qO-", "http://ww/hostname")
    dk("network", "disconnect", "p1", "cc")
    r = dk("exec", "cc", "timeout", "2", "wget", "-qO-", "http://ww/hostname", check=False)
    assert r.returncode != 0
    # connected while stopped: wired at the next start
    dk("stop", "-t", "0", "cc")
    dk("network", "connect", "p1", "cc")
    dk("start", "cc")
    out = dk("exec", "cc", "ip", "-o", "-4", "addr").stdout
    assert len([l for l in out.splitlines() if ": eth" in l]) == 2, out
    dk("exec", "cc", "timeout", "3", "wget", "-qO-", "http://ww/hostname")
    dk("rm", "-f", "ww", "cc")
    out = dk("network", "prune", "-f").stdout
    assert "p1" in out and "p2" in out
    assert ipam_rows(polisd) == []
