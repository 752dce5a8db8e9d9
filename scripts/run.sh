#!/bin/sh
# Set up a fresh Debian machine, build Polis, start polisd and run a
# container through its Docker-compatible API: the busybox image is made
# from Debian's busybox-static (no registry needed) and imported, then
# `run --rm` prints the container's greeting, hostname, pid and ids.
#
# The client is build/polis when it is built, else the docker CLI
# (POLIS_CLIENT overrides).  polisd gets its own root and socket in a
# temporary directory, removed at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh"

client=${POLIS_CLIENT:-}
if [ -z "$client" ]; then
  if [ -x "$top/build/polis" ]; then client="$top/build/polis"
  elif command -v docker >/dev/null 2>&1; then client=$(command -v docker)
  else echo "run.sh: no client: build polis or install the docker CLI" >&2; exit 1
  fi
fi

work=$(mktemp -d /tmp/polis-demo.XXXXXX)
sock="$work/polis.sock"
# A bridge and an nftables table of its own, removed at the end, so that the
# demo neither meets nor leaves anything of a polisd the host may run.
bridge="pdemo$$"
table="polis_demo_$$"
"$top/build/polisd" -H "unix://$sock" --root "$work/root" --run-root "$work/run" \
  --bridge "$bridge" --nft-table "$table" 2>"$work/polisd.log" &
pid=$!
cleanup() {
  DOCKER_HOST="unix://$sock" "$client" rm -f polis-demo >/dev/null 2>&1 || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
  nft delete table ip "$table" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export DOCKER_HOST="unix://$sock"
i=0
until "$client" version >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 100 ]; then cat "$work/polisd.log" >&2; exit 1; fi
  sleep 0.05
done

# busybox:latest from Debian's busybox-static, imported through the API.
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp" "$work/rootfs/proc" \
         "$work/rootfs/dev" "$work/rootfs/sys" "$work/rootfs/root"
chmod 1777 "$work/rootfs/tmp"
cp /bin/busybox "$work/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ -e "$work/rootfs/bin/$applet" ] || ln -s busybox "$work/rootfs/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$work/rootfs/etc/passwd"
echo "root:x:0:" > "$work/rootfs/etc/group"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
"$client" import --change 'CMD ["sh"]' "$work/busybox.tar" busybox:latest >/dev/null

"$client" run --rm --name polis-demo busybox sh -c \
  'echo Hello from a Polis container; echo hostname: $(hostname); echo pid: $$; id; uname -r'
