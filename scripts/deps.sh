#!/bin/sh
# Install what Polis needs to build and test on Debian bookworm (as root).
# The one list of packages: run.sh, test.sh and .ci/run all call this.
set -eu

PACKAGES="
  meson ninja-build pkg-config gcc libc6-dev
  libjansson-dev libseccomp-dev
  libcmocka-dev python3-pytest
  busybox-static util-linux
  runc crun
  libcurl4-openssl-dev libarchive-dev libssl-dev libsqlite3-dev zstd
  docker-registry skopeo podman python3-bcrypt
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
