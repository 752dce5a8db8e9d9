#!/bin/sh
# Build Polis: build/ (release, static programs) and, with "asan",
# build-asan/ (AddressSanitizer + UBSan).  Warnings are errors.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

setup() { # dir, extra meson args...
  dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" -Dwerror=true "$@" >/dev/null
  fi
  ninja -C "$dir" >/dev/null
}

setup build --buildtype=debugoptimized
if [ "${1:-}" = asan ]; then
  setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
fi
