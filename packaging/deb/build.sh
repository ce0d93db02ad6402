#!/usr/bin/env bash
# Builds husk's Debian packages (husk, libhusk1, libhusk-dev) into OUT-DIR: a build tree of
# their own configured for packages (prefix /usr, no tests, no test hooks in husk-vmm), the
# guest kernel and root filesystem images from the cache (as packaging/build.sh), then cpack.
# Usage: packaging/deb/build.sh OUT-DIR [BUILD-DIR]   (BUILD-DIR default: OUT-DIR/build)
# Prints the paths of the three .debs on stdout; progress goes to stderr.
set -euo pipefail

die() { echo "deb/build.sh: $*" >&2; exit 1; }
[[ $# -ge 1 && $# -le 2 ]] || die "usage: packaging/deb/build.sh OUT-DIR [BUILD-DIR]"
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
build=${2:-$out/build}

"$repo/packaging/setup.sh"
guest_kernel=$("$repo/packaging/kernel/build.sh" guest)
mkdir -p "$build/assets"
if [[ $(id -u) -eq 0 ]]; then
  "$repo/packaging/rootfs/build.sh" debian-python "$build/assets" >/dev/null
else
  echo ">> warning: not root, so the husk package gets no debian-python image" >&2
fi
ln -sfn "$guest_kernel/vmlinux" "$build/assets/vmlinux"

# Debian's build flags (packaging/debian-build-flags.sh). Warnings are not errors in a package
# build, as in Debian's: fortify may warn where a newer compiler looks deeper, and that must not
# stop a user's package build. The install test (tests/packaging/install-test.sh) passes the
# -Werror choice of the tree it tests in HUSK_PACKAGE_WERROR, so both builds compile the same
# command lines and the package build takes their common objects from the compiler cache.
werror=${HUSK_PACKAGE_WERROR:-OFF}
[[ $werror == ON || $werror == OFF ]] || die "HUSK_PACKAGE_WERROR must be ON or OFF, not '$werror'"
source "$repo/packaging/debian-build-flags.sh"
echo ">> configuring a package build in $build" >&2
source "$repo/packaging/compiler-cache.sh"
cmake -S "$repo" -B "$build" -G Ninja "${husk_compiler_cache_arguments[@]}" "${husk_debian_flag_arguments[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr -DHUSK_TESTS=OFF -DHUSK_TEST_HOOKS=OFF \
  -DHUSK_WERROR="$werror" >/dev/null
echo ">> building" >&2
cmake --build "$build" -j"$(nproc)" >&2
echo ">> cpack" >&2
rm -f "$build"/*.deb
(cd "$build" && cpack -G DEB >&2)
debs=("$build"/*.deb)
[[ ${#debs[@]} -eq 3 ]] || die "cpack made ${#debs[@]} packages, expected 3: ${debs[*]}"
rm -f "$out"/husk_*.deb "$out"/libhusk1_*.deb "$out"/libhusk-dev_*.deb
for deb in "${debs[@]}"; do
  cp "$deb" "$out/"
  echo "$out/$(basename "$deb")"
done
