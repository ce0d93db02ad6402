#!/usr/bin/env bash
# Sets up the machine, builds the guest and lab kernels (cached outside the repo), and builds
# husk with CMake into the build directory (default: build/ in the repo). Prints progress on
# stderr. Usage: packaging/build.sh [build-dir]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}

"$repo/packaging/setup.sh"

guest_kernel=$("$repo/packaging/kernel/build.sh" guest)
lab_kernel=$("$repo/packaging/kernel/build.sh" lab-host)

# The Debian root filesystem the disk lab tests boot (cached by recipe; needs root and the
# network the first time). Without it those tests skip, so a failure here is only a warning.
mkdir -p "$build/assets"
if [[ $(id -u) -eq 0 ]]; then
  "$repo/packaging/rootfs/build.sh" debian-python "$build/assets" >/dev/null ||
    echo ">> warning: the debian-python image could not be built; disk lab tests will skip" >&2
else
  echo ">> skipping the debian-python image (packaging/rootfs/build.sh needs root)" >&2
fi

echo ">> configuring husk in $build" >&2
cmake -S "$repo" -B "$build" -G Ninja -DHUSK_WERROR=ON >/dev/null
mkdir -p "$build/assets"
ln -sfn "$guest_kernel/vmlinux" "$build/assets/vmlinux"
ln -sfn "$guest_kernel/bzImage" "$build/assets/bzImage"
ln -sfn "$lab_kernel/bzImage" "$build/assets/lab-bzImage"
echo ">> building husk" >&2
cmake --build "$build" -j"$(nproc)"
