"""docs/cli.md lists exactly the commands and flags build/polis has."""

import os
import subprocess

from conftest import TOP


def test_cli_reference_is_current():
    r = subprocess.run([os.path.join(TOP, "scripts", "cli-doc.sh"), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
