"""Docker's seccomp profile format -> the OCI linux.seccomp object.

Docker's profile (tests/data/seccomp-default.json) is not an OCI object:
it has an archMap instead of architectures, and rules that apply only
with (includes) or without (excludes) some capabilities or on some
architectures.  dockerd resolves those for each container before it
writes config.json; a runtime only ever sees the result.  This module
does the same resolution so that tests (and bench/) hand every runtime
what dockerd would.
"""

import json
import os
import platform

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROFILE = os.path.join(os.path.dirname(HERE), "data", "seccomp-default.json")

# uname -m -> (the profile's arch word, the libseccomp arch constant)
_ARCHES = {
    "x86_64": ("amd64", "SCMP_ARCH_X86_64"),
    "aarch64": ("arm64", "SCMP_ARCH_AARCH64"),
    "i686": ("x86", "SCMP_ARCH_X86"),
    "ppc64le": ("ppc64le", "SCMP_ARCH_PPC64LE"),
    "s390x": ("s390x", "SCMP_ARCH_S390X"),
    "riscv64": ("riscv64", "SCMP_ARCH_RISCV64"),
}


def _kernel_at_least(want):
    have = platform.release().split("-")[0].split(".")
    want = want.split(".")
    return [int(x) for x in have[:2]] >= [int(x) for x in want[:2]]


def _applies(rule, arch, caps):
    exc = rule.get("excludes") or {}
    inc = rule.get("includes") or {}
    if arch in (exc.get("arches") or []):
        return False
    if any(c in caps for c in (exc.get("caps") or [])):
        return False
    if exc.get("minKernel") and _kernel_at_least(exc["minKernel"]):
        return False
    if inc.get("arches") and arch not in inc["arches"]:
        return False
    if any(c not in caps for c in (inc.get("caps") or [])):
        return False
    if inc.get("minKernel") and not _kernel_at_least(inc["minKernel"]):
        return False
    return True


def to_oci(profile, bounding_caps):
    """The OCI object dockerd would make of PROFILE (a dict) for a process
    whose bounding set is BOUNDING_CAPS, on this machine's architecture."""
    arch, scmp_arch = _ARCHES.get(platform.machine(), (None, None))
    out = {k: v for k, v in profile.items()
           if k in ("defaultAction", "defaultErrnoRet", "flags", "listenerPath",
                    "listenerMetadata", "architectures")}
    if profile.get("archMap"):
        for m in profile["archMap"]:
            if m["architecture"] == scmp_arch:
                out["architectures"] = [m["architecture"]] + (m.get("subArchitectures") or [])
    out["syscalls"] = []
    for rule in profile.get("syscalls", []):
        if not _applies(rule, arch, set(bounding_caps)):
            continue
        names = rule.get("names") or [rule["name"]]
        oci = {"names": names, "action": rule["action"]}
        for k in ("errnoRet", "args"):
            if rule.get(k) is not None:
                oci[k] = rule[k]
        out["syscalls"].append(oci)
    return out


def default_profile(bounding_caps):
    with open(DEFAULT_PROFILE) as f:
        return to_oci(json.load(f), bounding_caps)
