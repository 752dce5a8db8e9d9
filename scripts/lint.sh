#!/bin/sh
# Project rules a compiler does not check (STYLE.md rule 14): no banned
# string functions, no VLAs (-Wvla is on), files under 1,500 lines.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
status=0
banned=$(grep -rnE '\b(sprintf|vsprintf|strcpy|strcat|strncat|strncpy|gets|alloca)[[:space:]]*\(' src tests/unit tests/helpers || true)
if [ -n "$banned" ]; then
  echo "lint: banned functions:" >&2
  echo "$banned" >&2
  status=1
fi
for f in $(find src -name '*.[ch]'); do
  n=$(wc -l < "$f")
  if [ "$n" -gt 1500 ]; then
    echo "lint: $f has $n lines (split it by concept)" >&2
    status=1
  fi
done
exit $status
