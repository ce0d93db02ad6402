#!/usr/bin/env bash
# Runs a command in a chroot with what husk needs from the system, for the package install test:
# run inside the lab (tests/lab/run -- tests/packaging/lab-chroot.sh ROOT CMD...), where the host
# root, and so ROOT, is read-only. It mounts the lab's /dev (with /dev/kvm), a fresh /proc, /sys
# and cgroup2 (the jail puts each VM in a cgroup), and tmpfs on /tmp and /run (husk's sandbox
# and jail directories) into ROOT, itself bind-mounted on itself so it is a mount point, all in a
# private mount namespace so nothing stays mounted.
# Usage: lab-chroot.sh ROOT CMD ARGS...   Exit status: CMD's; 125 when the set-up failed.
set -euo pipefail

if [[ ${HUSK_LAB_CHROOT_INSIDE:-} != 1 ]]; then
  [[ $# -ge 2 ]] || { echo "usage: lab-chroot.sh ROOT CMD ARGS..." >&2; exit 125; }
  [[ -d $1 ]] || { echo "lab-chroot.sh: $1 is not a directory (not visible here? the lab has its own /tmp)" >&2; exit 125; }
  command -v unshare >/dev/null || { echo "lab-chroot.sh: unshare missing" >&2; exit 125; }
  HUSK_LAB_CHROOT_INSIDE=1 exec unshare --mount --propagation private "$0" "$@"
fi

root=$1
shift
setup() {
  # The root a mount of its own: pivot_root (the jail's) fails in a chroot whose root is not the
  # root of a mount.
  mount --bind "$root" "$root"
  mount --rbind /dev "$root/dev"
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup" 2>/dev/null || echo "lab-chroot.sh: no cgroup2 here" >&2
  mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
  mount -t tmpfs -o mode=755 tmpfs "$root/run"
}
if ! setup; then
  echo "lab-chroot.sh: cannot set up the mounts in $root" >&2
  exit 125
fi
[[ -c $root/dev/kvm ]] || echo "lab-chroot.sh: warning: no /dev/kvm in $root/dev" >&2
exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  TERM=dumb "$@"
