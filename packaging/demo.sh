#!/usr/bin/env bash
# The main job, from a fresh machine: set up, build, and boot a husk VM that computes something
# in the guest and prints it. Runs through the lab when this host has no hardware KVM.
# Usage: packaging/demo.sh [-- CMD ARGS...]   (default: a shell one-liner computed in the guest)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build
"$repo/packaging/build.sh" "$build" >&2

[[ ${1:-} == -- ]] && shift
if [[ $# -eq 0 ]]; then
  # No double quotes: the job travels on the kernel command line, which cannot carry them.
  set -- sh -c 'echo 6x7 = $((6*7)), computed by $(uname -sr) on $(nproc) vCPU inside a husk VM'
fi
# The guest console goes to a pipe (cat) rather than straight into the lab's results file.
exec "$repo/tests/lab/run" -- bash -o pipefail -c '"$@" | cat' husk-demo "$build/runtime/main/husk-vmm" \
  --kernel "$build/assets/vmlinux" --initrd "$build/assets/initramfs.cpio" --serial stdout -- "$@"
