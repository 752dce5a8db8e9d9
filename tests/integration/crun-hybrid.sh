#!/bin/sh
# Run Debian's crun 1.8 on a hybrid cgroup host: inside a private mount
# namespace, hide the (controller-less) cgroup v2 mount's controller list so
# that crun treats the host as cgroup v1.  The host is left untouched.
set -e
empty=${TMPDIR:-/tmp}/polis-crun-empty-controllers
[ -f "$empty" ] || : > "$empty"
exec unshare -m --propagation private sh -c '
  if [ -e /sys/fs/cgroup/unified/cgroup.controllers ]; then
    mount --bind "$0" /sys/fs/cgroup/unified/cgroup.controllers
  fi
  exec crun "$@"' "$empty" "$@"
