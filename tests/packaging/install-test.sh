#!/usr/bin/env bash
# The Debian package install test (ctest label packaging-lab; docs/packaging.md):
#  1. builds the three .debs (packaging/deb/build.sh) unless a directory holding them is given,
#     and checks their control fields, contents, SONAME and (lintian) policy;
#  2. makes a clean Debian root with debootstrap --variant=minbase from the host's own mirror
#     (cached by recipe under ~/.cache/husk/debootstrap/, copied fresh for every run);
#  3. in a chroot there: apt-get install ./*.deb, then checks where everything went, `husk
#     --version`, `husk doctor`'s paths and pkg-config; builds sdk/examples against the installed
#     package with find_package(husk CONFIG) and with `pkg-config --cflags --libs husk`;
#  4. through the lab (real KVM): runs the installed `husk run --require-jail -- uname -r` and the
#     examples built in step 3 in that chroot;
#  5. removes the packages and checks nothing of them is left.
# Every check prints "ok: ..." or "FAIL: ..."; the first failure of a step that later steps need
# stops the test. Needs root (debootstrap, chroot, mounts).
# Usage: tests/packaging/install-test.sh WORK-DIR [DEB-DIR]
#   Without DEB-DIR the packages are built in $HUSK_PACKAGE_BUILD_DIR (default WORK-DIR/build-deb)
#   with HUSK_PACKAGE_WERROR (ON or OFF, default OFF; ctest passes its tree's choice).
#   WORK-DIR may be anywhere: tests/lab/run makes the chroot visible in the lab, under /tmp too.
#   tests/packaging/install-test.sh --prepare-root: only make (or find) the cached clean root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
started=$(date +%s)
failures=0 checked=0
say() { echo ">> [$(( $(date +%s) - started ))s] $*"; }
die() { echo "FAIL: $*" >&2; echo "install test: FAILED (stopped at the failure above)" >&2; exit 1; }
check() { # description, then a command that succeeds when the check holds
  local what=$1; shift
  checked=$((checked + 1))
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; failures=$((failures + 1)); fi
}
contains() { grep -qF -- "$2" <<<"$1"; }
matches() { grep -qE -- "$2" <<<"$1"; }
not_matches() { ! grep -qE -- "$2" <<<"$1"; }

prepare_only=0
if [[ ${1:-} == --prepare-root ]]; then
  prepare_only=1
  set -- "${HUSK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk}/debootstrap"
fi
[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: install-test.sh WORK-DIR [DEB-DIR] | --prepare-root" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap, chroot, mounts): this test did not run"
mkdir -p "$1"
work=$(cd "$1" && pwd)
for tool in debootstrap chroot unshare dpkg-deb readelf lintian; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install debootstrap lintian binutils): this test did not run"
done

# The clean Debian root (step 2), cached by recipe: prints its cache directory.
suite=bookworm
mirror=$("$repo/packaging/debian-mirror.sh" "$suite") || die "no Debian mirror for debootstrap"
# What the examples build needs on top of minbase.
include=(g++ cmake make pkg-config)
recipe_version=1
cache=${HUSK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk}
hash=$( { echo "install-test $suite $mirror minbase recipe $recipe_version"; printf '%s\n' "${include[@]}"; } | sha256sum | cut -c1-16)
base=$cache/debootstrap/install-test-$hash
mkdir -p "$cache/debootstrap"
exec {lock}>"$cache/debootstrap/.install-test-$hash.lock"
prepare_root() {
  flock "$lock"
  if [[ ! -f $base/.husk-complete ]]; then
    say "debootstrap --variant=minbase $suite from $mirror (+ ${include[*]}; cached as $base)"
    rm -rf "$base"
    debootstrap --variant=minbase --include="$(IFS=,; echo "${include[*]}")" "$suite" "$base" "$mirror" \
      >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }
    rm -rf "$base"/var/cache/apt/archives/*.deb
    touch "$base/.husk-complete"
  else
    say "clean root from the cache: $base"
  fi
}
if [[ $prepare_only == 1 ]]; then
  prepare_root
  exit 0
fi

# 1. The packages.
if [[ $# -eq 2 ]]; then
  debs=$(cd "$2" && pwd)
  say "using the packages in $debs"
else
  debs=$work/debs
  package_build=${HUSK_PACKAGE_BUILD_DIR:-$work/build-deb}
  say "building the packages (packaging/deb/build.sh $debs $package_build)"
  "$repo/packaging/deb/build.sh" "$debs" "$package_build" >/dev/null || die "packaging/deb/build.sh failed"
fi
version=$(sed -n 's/^project(husk VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
[[ -n $version ]] || die "cannot read the project version from CMakeLists.txt"
husk_deb=$(ls "$debs"/husk_"$version"-*_amd64.deb 2>/dev/null | head -1)
lib_deb=$(ls "$debs"/libhusk1_"$version"-*_amd64.deb 2>/dev/null | head -1)
dev_deb=$(ls "$debs"/libhusk-dev_"$version"-*_amd64.deb 2>/dev/null | head -1)
[[ -n $husk_deb && -n $lib_deb && -n $dev_deb ]] || die "expected husk, libhusk1 and libhusk-dev $version .debs in $debs, found: $(ls "$debs")"
deb_version=$(dpkg-deb -f "$husk_deb" Version)
say "checking the packages ($deb_version)"
field() { dpkg-deb -f "$1" "$2"; }
for deb in "$husk_deb" "$lib_deb" "$dev_deb"; do
  name=$(field "$deb" Package)
  check "$name: Version $deb_version" test "$(field "$deb" Version)" = "$deb_version"
  check "$name: Maintainer set" test -n "$(field "$deb" Maintainer)"
  check "$name: Section set ($(field "$deb" Section))" test -n "$(field "$deb" Section)"
  check "$name: Description with a synopsis and an extended text" test "$(field "$deb" Description | wc -l)" -ge 3
done
husk_depends=$(field "$husk_deb" Depends)
lib_depends=$(field "$lib_deb" Depends)
# husk-vmm links liburing and libseccomp statically (one mapped object fewer per VM), so only the
# husk command's C++ runtime and libc remain.
check "husk: Depends from dpkg-shlibdeps name libc6 and libstdc++6 ($husk_depends)" \
  matches "$husk_depends" 'libc6 \(>=.*libstdc\+\+6 \(>='
check "husk: no run-time dependency on libseccomp2 or liburing2 (linked into husk-vmm)" \
  not_matches "$husk_depends" 'libseccomp2|liburing2'
check "libhusk1: Depends from dpkg-shlibdeps name libc6 and libstdc++6 ($lib_depends)" \
  matches "$lib_depends" 'libc6 \(>=.*libstdc\+\+6 \(>='
check "libhusk-dev: Depends on libhusk1 (= $deb_version)" contains "$(field "$dev_deb" Depends)" "libhusk1 (= $deb_version)"
husk_files=$(dpkg-deb -c "$husk_deb" | awk '{ print $6 }')
lib_files=$(dpkg-deb -c "$lib_deb" | awk '{ print $6 $7 $8 }')
dev_files=$(dpkg-deb -c "$dev_deb" | awk '{ print $6 $7 $8 }')
for path in ./usr/bin/husk ./usr/bin/husk-vmm ./usr/lib/husk/vmlinux ./usr/lib/husk/initramfs.cpio \
  ./usr/share/doc/husk/copyright; do
  check "husk holds $path" grep -qxF "$path" <<<"$husk_files"
done
for path in "./usr/lib/x86_64-linux-gnu/libhusk.so.$version" "./usr/lib/x86_64-linux-gnu/libhusk.so.1->libhusk.so.$version" \
  ./usr/share/doc/libhusk1/copyright; do
  check "libhusk1 holds $path" grep -qxF "$path" <<<"$lib_files"
done
for path in ./usr/include/husk/husk.hpp ./usr/include/husk/husk.h ./usr/include/husk/result.hpp \
  ./usr/lib/x86_64-linux-gnu/cmake/husk/husk-config.cmake ./usr/lib/x86_64-linux-gnu/cmake/husk/husk-config-version.cmake \
  ./usr/lib/x86_64-linux-gnu/pkgconfig/husk.pc './usr/lib/x86_64-linux-gnu/libhusk.so->libhusk.so.1'; do
  check "libhusk-dev holds $path" grep -qxF "$path" <<<"$dev_files"
done
say "lintian"
lintian_output=$(lintian --tag-display-limit 0 "$husk_deb" "$lib_deb" "$dev_deb" 2>&1 || true)
[[ -n $lintian_output ]] && sed 's/^/   lintian: /' <<<"$lintian_output"
check "lintian: no errors ($(grep -c '^E:' <<<"$lintian_output" || true) errors, $(grep -c '^W:' <<<"$lintian_output" || true) warnings)" \
  test "$(grep -c '^E:' <<<"$lintian_output" || true)" -eq 0
[[ $failures -eq 0 ]] || die "the packages are not right ($failures checks failed)"

# 2. A clean Debian root: the cached one, copied.
prepare_root
root=$work/root
rm -rf "$root"
cp -a "$base" "$root"
flock -u "$lock"
rm -f "$root/.husk-complete"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# Commands in the root on this host: a private mount namespace with /proc, so nothing stays mounted.
in_root() {
  unshare --mount --propagation private /bin/sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive "$@"' \
    "$root" "$@"
}

# 3. Install, and look at the result.
mkdir -p "$root/root/debs"
cp "$husk_deb" "$lib_deb" "$dev_deb" "$root/root/debs/"
say "apt-get install ./*.deb in the clean root"
in_root sh -c 'apt-get update -q && cd /root/debs && apt-get install -y -q --no-install-recommends ./*.deb' \
  >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log" >&2; die "apt-get install of the packages failed (log: $work/apt.log)"; }
echo "ok: apt-get install ./husk_*.deb ./libhusk1_*.deb ./libhusk-dev_*.deb (log: $work/apt.log)"
installed=$(in_root dpkg-query -W -f='${Package} ${Version} ${Status}\n' husk libhusk1 libhusk-dev)
for package in husk libhusk1 libhusk-dev; do
  check "$package $deb_version installed" contains "$installed" "$package $deb_version install ok installed"
done
for path in /usr/bin/husk /usr/bin/husk-vmm /usr/lib/husk/vmlinux /usr/lib/husk/initramfs.cpio \
  /usr/lib/x86_64-linux-gnu/libhusk.so.1 /usr/include/husk/husk.hpp; do
  check "$path is there" test -e "$root$path"
done
check "/usr/lib/husk/vmlinux is a real file, not a link into a build cache" test -f "$root/usr/lib/husk/vmlinux" -a ! -L "$root/usr/lib/husk/vmlinux"
check "husk --version says husk $version" contains "$(in_root husk --version)" "husk $version"
doctor=$(in_root husk doctor || true)
sed 's/^/   husk doctor: /' <<<"$doctor"
check "husk doctor: version $version" contains "$doctor" "husk $version (job protocol"
check "husk doctor: installed under /usr" contains "$doctor" "installed under /usr"
check "husk doctor: husk-vmm /usr/bin/husk-vmm exists" contains "$doctor" "husk-vmm  /usr/bin/husk-vmm (installed, exists)"
check "husk doctor: kernel /usr/lib/husk/vmlinux exists" contains "$doctor" "kernel    /usr/lib/husk/vmlinux (installed, exists)"
check "husk doctor: initramfs /usr/lib/husk/initramfs.cpio exists" contains "$doctor" "initramfs /usr/lib/husk/initramfs.cpio (installed, exists)"
check "pkg-config --modversion husk is $version" test "$(in_root pkg-config --modversion husk)" = "$version"
# /usr/include and the multiarch libdir are the compiler's own, so pkg-config leaves them out.
check "pkg-config --cflags --libs husk gives -lhusk" test "$(in_root pkg-config --cflags --libs husk | xargs)" = "-lhusk"
[[ $failures -eq 0 ]] || die "the installation is not right ($failures checks failed)"

say "building sdk/examples against the installed husk"
rm -rf "$root/root/examples"
cp -r "$repo/sdk/examples" "$root/root/examples"
in_root sh -c 'cmake -S /root/examples -B /root/examples/build-config && cmake --build /root/examples/build-config' \
  >"$work/examples-config.log" 2>&1 || { tail -20 "$work/examples-config.log" >&2; die "examples with find_package(husk CONFIG) did not build (log: $work/examples-config.log)"; }
echo "ok: sdk/examples built with find_package(husk CONFIG) (husk::husk)"
in_root sh -c 'cd /root/examples && mkdir -p build-pc &&
  c++ -std=c++20 hello.cpp $(pkg-config --cflags --libs husk) -o build-pc/husk-example-hello &&
  cc hello_c.c $(pkg-config --cflags --libs husk) -o build-pc/husk-example-hello-c' \
  >"$work/examples-pc.log" 2>&1 || { cat "$work/examples-pc.log" >&2; die "examples with pkg-config --cflags --libs husk did not build"; }
echo "ok: sdk/examples built with pkg-config --cflags --libs husk"
for program in build-config/husk-example-hello build-config/husk-example-hello-c build-pc/husk-example-hello \
  build-pc/husk-example-hello-c; do
  # /lib is /usr/lib on a merged-/usr system: ld.so may name either.
  check "$program uses the installed libhusk.so.1" \
    matches "$(in_root ldd "/root/examples/$program")" "libhusk\.so\.1 => (/usr)?/lib/x86_64-linux-gnu/libhusk\.so\.1 "
done
[[ $failures -eq 0 ]] || die "the examples are not right ($failures checks failed)"

# 4. A VM from the installed packages, through the lab.
say "in the lab: husk run --require-jail -- uname -r and the examples, in the chroot"
kernel_release=$(strings "$root/usr/lib/husk/vmlinux" | sed -n 's/^Linux version \([^ ]*\) .*/\1/p' | head -1)
[[ -n $kernel_release ]] || die "cannot read the guest kernel's release from /usr/lib/husk/vmlinux"
lab_status=0
lab_output=$(cd "$repo" && tests/lab/run -- "$here/lab-chroot.sh" "$root" /bin/sh -c '
  out=$(husk run --require-jail -- uname -r); echo "husk run: $out (exit $?)"
  out=$(/root/examples/build-config/husk-example-hello); echo "hello (CMake): $out (exit $?)"
  out=$(/root/examples/build-pc/husk-example-hello-c); echo "hello-c (pkg-config): $out (exit $?)"' \
  2>"$work/lab.stderr") || lab_status=$?
sed 's/^/   lab: /' <<<"$lab_output"
check "the lab ran (status $lab_status)" test "$lab_status" -eq 0
check "husk run --require-jail -- uname -r (jailed, as root) printed the guest kernel's release $kernel_release" contains "$lab_output" "husk run: $kernel_release (exit 0)"
check "hello (find_package(husk CONFIG)) ran a job through the installed libhusk" \
  matches "$lab_output" "^hello \(CMake\): guest says: Linux .* $kernel_release .*\(exit 0\)$"
check "hello-c (pkg-config, C ABI) ran a job through the installed libhusk" \
  contains "$lab_output" "hello-c (pkg-config): guest kernel (libhusk $version, C ABI): $kernel_release (exit 0)"
[[ $failures -eq 0 ]] || { tail -30 "$work/lab.stderr" | sed 's/^/   lab stderr: /' >&2; die "the installed husk did not run a VM ($failures checks failed)"; }

# 5. Removal.
say "dpkg --purge libhusk-dev libhusk1 husk"
in_root dpkg --purge libhusk-dev libhusk1 husk >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; die "dpkg --purge failed"; }
for path in /usr/bin/husk /usr/bin/husk-vmm /usr/lib/husk /usr/lib/x86_64-linux-gnu/libhusk.so.1 /usr/include/husk \
  /usr/lib/x86_64-linux-gnu/cmake/husk; do
  check "$path is gone after the purge" test ! -e "$root$path"
done

rm -rf "$root"
say "install test: $checked checks"
echo "$((checked - failures)) passed, $failures failed"
[[ $failures -eq 0 ]]
