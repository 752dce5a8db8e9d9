#!/bin/sh
# Install what Polis needs to build and test on Debian bookworm (as root).
# The one list of packages: run.sh, test.sh and .ci/run all call this.
set -eu

# time: GNU time, which bench/image_pull.py uses for each command's peak RSS.
# libmicrohttpd-dev: polisd's HTTP server.  python3-docker, python3-yaml: the
# engine tests (docker-py as a client; the swagger the route table is
# checked against).  Debian's docker 20.10 CLI is fetched by the tests with
# `apt-get download docker.io` (never installed: it would start a dockerd).
# libnftables-dev: polis-nft, polisd's helper for its nftables table;
# nftables: the nft command the engine tests use to look at and remove a
# test daemon's table; wrk: bench/network.py.
# qemu-system-x86, kmod, cpio: the cgroup v2 guest that
# tests/integration/run-v2.sh boots (../shared/tools/cgroup2-vm.sh, which
# fetches Debian's kernel itself with apt-get download).
PACKAGES="
  meson ninja-build pkg-config gcc libc6-dev
  libjansson-dev libseccomp-dev
  libcmocka-dev python3-pytest
  busybox-static util-linux procps iproute2
  runc crun containerd podman skopeo
  qemu-system-x86 kmod cpio
  libcurl4-openssl-dev libarchive-dev libssl-dev libsqlite3-dev zstd
  docker-registry python3-bcrypt
  time
  libmicrohttpd-dev python3-docker python3-yaml
  libnftables-dev nftables wrk
"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "polis: installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || true
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
