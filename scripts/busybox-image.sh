#!/bin/sh
# Make the image "busybox:latest" from Debian's busybox-static, with no
# registry: a root filesystem of /bin/busybox and its applet links, tarred
# and imported through the API (POST /images/create?fromSrc=-) by
# `polis import`, with CMD ["sh"] as Docker Hub's busybox has.
#
#   scripts/busybox-image.sh [--force] [polis global flags, e.g. -H unix:///x.sock]
#
# POLIS names the client (default: build/polis beside this script, else
# `polis` on PATH; `docker` works too); BUSYBOX the static binary.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
force=
if [ "${1:-}" = --force ]; then force=1; shift; fi
polis=${POLIS:-}
if [ -z "$polis" ]; then
  if [ -x "$top/build/polis" ]; then polis="$top/build/polis"; else polis=polis; fi
fi
busybox=${BUSYBOX:-/bin/busybox}
if [ -z "$force" ] && "$polis" "$@" image inspect busybox:latest >/dev/null 2>&1; then
  exit 0
fi
if ! "$busybox" --list >/dev/null 2>&1; then
  echo "busybox-image: $busybox is not a busybox binary (apt-get install busybox-static)" >&2
  exit 1
fi
work=$(mktemp -d /tmp/polis-busybox.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root/bin" "$root/etc" "$root/dev" "$root/proc" "$root/sys" \
         "$root/tmp" "$root/root" "$root/home" "$root/var" "$root/usr/bin"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
tar -C "$root" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/rootfs.tar" .
"$polis" "$@" import --change 'CMD ["sh"]' --message "busybox from $busybox" "$work/rootfs.tar" busybox:latest >/dev/null
echo "busybox:latest"
