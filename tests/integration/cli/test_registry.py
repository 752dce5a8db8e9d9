"""pull and push through a real registry (Debian's docker-registry on
127.0.0.1): the JSON progress stream rendered as docker renders it, plain
lines when the output is not a terminal and per-layer lines redrawn in
place when it is; run's "Unable to find image" then pull."""

import os
import re

import pytest

from conftest import POLIS
from test_containers import _pty_run


@pytest.fixture
def registry(engine):
    if engine.registry is None:
        pytest.skip("docker-registry is not installed")
    return engine.registry


def test_push_pull_run(engine, registry):
    ref = "%s/polis/bb:1" % registry
    engine.cli("tag", "busybox", ref, check=True)
    r = engine.cli("push", ref, timeout=120)
    assert r.returncode == 0, r
    assert re.search(r"^[0-9a-f]{12}: Pushed$", r.stdout, re.M) or "Pushed" in r.stdout \
        or "Writing manifest" in r.stdout or r.stdout.strip(), r.stdout
    engine.cli("rmi", ref, check=True)
    r = engine.cli("pull", ref, timeout=120)
    assert r.returncode == 0, r
    assert r.stdout.endswith("\n%s\n" % ref) or r.stdout == ref + "\n", r.stdout
    assert "Using default tag" not in r.stdout
    # Not a terminal: no cursor movement, no byte counts.
    assert "\x1b[" not in r.stdout
    engine.cli("rmi", ref, check=True)
    r = engine.cli("run", "--rm", ref, "echo", "pulled and ran", timeout=120)
    assert r.returncode == 0, r
    assert r.stdout == "pulled and ran\n"
    assert "Unable to find image '%s' locally" % ref in r.stderr
    engine.cli("rmi", ref, check=True)
    r = engine.cli("pull", "%s/polis/bb" % registry, timeout=120)
    assert r.returncode == 1
    assert r.stdout.startswith("Using default tag: latest\n")
    assert r.stderr.strip(), r


def test_pull_progress_on_a_terminal(engine, registry):
    ref = "%s/polis/tty:1" % registry
    engine.cli("tag", "busybox", ref, check=True)
    engine.cli("push", ref, check=True, timeout=120)
    engine.cli("rmi", ref, check=True)
    env = dict(engine.env)
    status, out = _pty_run([POLIS, "pull", ref], env, timeout=120)
    assert status == 0, out
    assert out.rstrip().endswith(ref), out
    engine.cli("rmi", ref, check=True)


def test_pull_quiet(engine, registry):
    ref = "%s/polis/q:1" % registry
    engine.cli("tag", "busybox", ref, check=True)
    engine.cli("push", "-q", ref, check=True, timeout=120)
    engine.cli("rmi", ref, check=True)
    r = engine.cli("pull", "-q", ref, timeout=120)
    assert r.returncode == 0 and r.stdout == ref + "\n", r
    engine.cli("rmi", ref, check=True)
