#!/usr/bin/env bash
# Sets up the machine, builds the guest and lab kernels (cached outside the repo), and builds
# husk with CMake into the build directory (default: build/ in the repo). Prints progress on
# stderr. Usage: packaging/build.sh [build-dir [target...]]; without targets it builds everything,
# with some (the demo: husk husk-vmm husk-initramfs) only those and what they need.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
targets=("${@:2}")

"$repo/packaging/setup.sh"

guest_kernel=$("$repo/packaging/kernel/build.sh" guest)
lab_kernel=$("$repo/packaging/kernel/build.sh" lab-host)

# The Debian root filesystem (`husk run --rootfs debian-python`, the demo, the disk lab tests;
# cached by recipe; needs root and the Debian mirror the first time). Without root it is left
# out and what needs it fails saying the image is missing.
mkdir -p "$build/assets"
if [[ $(id -u) -eq 0 ]]; then
  "$repo/packaging/rootfs/build.sh" debian-python "$build/assets" >/dev/null
else
  echo ">> warning: not root, so no debian-python image (packaging/rootfs/build.sh needs root)" >&2
fi

echo ">> configuring husk in $build" >&2
source "$repo/packaging/compiler-cache.sh"
cmake -S "$repo" -B "$build" -G Ninja -DHUSK_WERROR=ON "${husk_compiler_cache_arguments[@]}" >/dev/null
mkdir -p "$build/assets"
ln -sfn "$guest_kernel/vmlinux" "$build/assets/vmlinux"
ln -sfn "$guest_kernel/bzImage" "$build/assets/bzImage"
ln -sfn "$lab_kernel/bzImage" "$build/assets/lab-bzImage"
if [[ ${#targets[@]} -gt 0 ]]; then
  echo ">> building ${targets[*]}" >&2
  cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"
else
  echo ">> building husk" >&2
  cmake --build "$build" -j"$(nproc)"
fi
