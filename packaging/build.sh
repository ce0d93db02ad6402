#!/usr/bin/env bash
# Sets up the machine, builds the guest kernel, fetches the lab's (Debian's own), builds the Debian
# root filesystem image (all cached outside the repo), and builds husk with CMake into the build directory (default: build/
# in the repo) with Debian's hardening flags. Prints progress on stderr.
# Usage: packaging/build.sh [build-dir [target...]]; without targets it builds everything,
# with some (the demo: husk husk-vmm husk-initramfs) only those and what they need.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
targets=("${@:2}")

"$repo/packaging/setup.sh"
mkdir -p "$build/assets"

# The kernels and the image are made while husk compiles: on a fresh machine their
# single-threaded stretches (unpacking the kernel source, configuring, linking and compressing
# the kernel, downloads) would otherwise leave a core idle. Each prints its cache directory.
build_assets() {
  "$repo/packaging/kernel/lab-host.sh" >"$build/assets/.lab-kernel"
  "$repo/packaging/kernel/build.sh" guest >"$build/assets/.guest-kernel"
}
build_assets &
kernels=$!
# The Debian root filesystem (`husk run --rootfs debian-python`, the demo, the disk lab tests;
# cached by recipe; needs root and the Debian mirror the first time). Without root it is left
# out and what needs it fails saying the image is missing.
if [[ $(id -u) -eq 0 ]]; then
  "$repo/packaging/rootfs/build.sh" debian-python "$build/assets" >/dev/null &
  image=$!
else
  echo ">> warning: not root, so no debian-python image (packaging/rootfs/build.sh needs root)" >&2
  image=''
fi

echo ">> configuring husk in $build" >&2
source "$repo/packaging/compiler-cache.sh"
source "$repo/packaging/debian-build-flags.sh"
status=0
cmake -S "$repo" -B "$build" -G Ninja -DHUSK_WERROR=ON "${husk_compiler_cache_arguments[@]}" \
  "${husk_debian_flag_arguments[@]}" >/dev/null || status=$?
if [[ $status -eq 0 && ${#targets[@]} -gt 0 ]]; then
  echo ">> building ${targets[*]}" >&2
  cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" || status=$?
elif [[ $status -eq 0 ]]; then
  echo ">> building husk" >&2
  cmake --build "$build" -j"$(nproc)" || status=$?
fi
# Waited for also when husk failed to build: nothing is left running, and the cache keeps them.
wait "$kernels" || { echo "build.sh: building the kernels failed" >&2; status=1; }
if [[ -n $image ]]; then
  wait "$image" || { echo "build.sh: building the debian-python image failed" >&2; status=1; }
fi
[[ $status -eq 0 ]] || exit "$status"

guest_kernel=$(<"$build/assets/.guest-kernel")
lab_kernel=$(<"$build/assets/.lab-kernel")
ln -sfn "$guest_kernel/vmlinux" "$build/assets/vmlinux"
ln -sfn "$guest_kernel/bzImage" "$build/assets/bzImage"
ln -sfn "$lab_kernel" "$build/assets/lab-kernel"
