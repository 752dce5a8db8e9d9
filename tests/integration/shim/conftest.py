"""Fixtures for the polis-shim integration tests.

`shims` gives each test a run root and runtime state root of its own
(shimlib.ShimEnv); afterwards every shim still alive is deleted (force),
the runtime's state root must be empty, no mount may be left, and the
shims' stderr must hold no sanitizer report.
"""

import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import shimlib  # noqa: E402
from shimlib import common  # noqa: E402


@pytest.fixture
def shims(tmp_path):
    common.require_root()
    if not os.path.exists(shimlib.shim_path()):
        pytest.fail("%s is not built" % shimlib.shim_path())
    env = shimlib.ShimEnv(str(tmp_path))
    yield env
    env.cleanup()
    left = env.leftovers()
    shutil.rmtree(env.runroot, ignore_errors=True)
    assert left == [], "containers left in the runtime root: %r" % left
    leaked = common.mounts_under(str(tmp_path))
    assert leaked == [], "mounts left on the host: %r" % leaked


def pytest_sessionfinish(session, exitstatus):
    for p in common._ROOTFS_CACHE.values():
        shutil.rmtree(os.path.dirname(p), ignore_errors=True)
