"""docs/api-compat.md is generated from polisd's route table, and the
table covers every route of the Docker Engine API v1.51 swagger."""

import os
import re
import subprocess

import yaml

from conftest import TOP, polisd_path

import pytest

# ../shared/spec beside the repository (a worktree sits one level deeper).
_CANDIDATES = [os.environ.get("POLIS_SWAGGER", ""),
               os.path.join(TOP, "..", "shared", "spec", "docker-engine-api-v1.51.yaml"),
               os.path.join(TOP, "..", "..", "shared", "spec",
                            "docker-engine-api-v1.51.yaml")]
SWAGGER = next((p for p in _CANDIDATES if p and os.path.exists(p)), None)


def table():
    out = subprocess.run([polisd_path(), "--api-compat"], check=True,
                         capture_output=True, text=True).stdout
    rows = re.findall(r"^\| (GET|POST|PUT|DELETE|HEAD) \| `([^`]+)` \| (\w+) \|", out,
                      re.M)
    return out, rows


def test_doc_is_generated_from_the_table():
    out, _ = table()
    with open(os.path.join(TOP, "docs", "api-compat.md")) as f:
        assert f.read() == out, "docs/api-compat.md is stale: run " \
            "build/polisd --api-compat > docs/api-compat.md"


def test_every_swagger_route_has_a_row():
    if SWAGGER is None:
        pytest.skip("../shared/spec/docker-engine-api-v1.51.yaml is not there")
    _, rows = table()
    with open(SWAGGER) as f:
        spec = yaml.safe_load(f)
    want = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops
            if m in ("get", "post", "put", "delete", "head")}
    have = {(m, p) for m, p, _ in rows}
    assert want - have == set(), "routes of the swagger missing from the table"
    assert have - want == set(), "routes in the table that the swagger lacks"
    assert len(rows) == len(have), "a route is listed twice"
    assert {s for _, _, s in rows} <= {"implemented", "partial", "missing"}


def test_summary_counts_match():
    out, rows = table()
    counts = {s: sum(1 for r in rows if r[2] == s)
              for s in ("implemented", "partial", "missing")}
    assert ("Summary: %d implemented, %d partial, %d missing, of %d routes."
            % (counts["implemented"], counts["partial"], counts["missing"],
               len(rows))) in out
