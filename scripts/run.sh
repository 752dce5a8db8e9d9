#!/bin/sh
# Set up a fresh Debian machine, build Polis, and run a container:
# a busybox bundle made from Debian's busybox-static, run by polis-runtime.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh"

work=$(mktemp -d /tmp/polis-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/proc" "$work/rootfs/dev" "$work/rootfs/sys"
cp /bin/busybox "$work/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ -e "$work/rootfs/bin/$applet" ] || ln -s busybox "$work/rootfs/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$work/rootfs/etc/passwd"

rt="$top/build/polis-runtime"
( cd "$work" && "$rt" spec )
# Not a terminal session: print the container's view of itself.
sed -i 's/"terminal": true/"terminal": false/' "$work/config.json"
sed -i 's|"sh"|"sh", "-c", "echo Hello from a Polis container; echo hostname: $(hostname); echo pid: $$; id; uname -r"|' "$work/config.json"
"$rt" --root "$work/state" run --bundle "$work" "polis-demo-$$"
