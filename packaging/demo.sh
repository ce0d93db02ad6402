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
  set -- sh -c 'echo "6*7 = $((6*7)), computed by $(uname -sr) on $(nproc) vCPU inside a husk VM"'
fi
exec "$repo/tests/lab/run" -- "$build/runtime/main/husk-vmm" \
  --kernel "$build/assets/vmlinux" --initrd "$build/assets/initramfs.cpio" --serial stdout -- "$@"
