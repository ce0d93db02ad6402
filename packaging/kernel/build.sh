#!/usr/bin/env bash
# Builds the husk guest kernel from Debian's linux-source-6.1 and our config fragments, cached by
# a hash of the source version, the fragments and this script. (The lab host runs Debian's
# packaged kernel: packaging/kernel/lab-host.sh.)
# Usage: packaging/kernel/build.sh guest   → prints the cache directory holding vmlinux, bzImage
# and config. Progress goes to stderr.
set -euo pipefail

flavour=${1:?usage: build.sh guest}
here=$(cd "$(dirname "$0")" && pwd)
case "$flavour" in
  guest) fragments=("$here/guest.config" "$here/guest-only.config") ;;
  *) echo "build.sh: unknown flavour '$flavour' (only guest)" >&2; exit 2 ;;
esac

tarball=/usr/src/linux-source-6.1.tar.xz
[[ -f $tarball ]] || { echo "build.sh: $tarball missing; run packaging/setup.sh" >&2; exit 1; }
source_version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
cache=${HUSK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk}
# Bump when a change to this script changes what it produces. The fragments count by their
# options only, so a reworded comment does not rebuild the kernel.
recipe_version=2
hash=$( { echo "$source_version recipe $recipe_version"; grep -hv -e '^[[:space:]]*#' -e '^[[:space:]]*$' "${fragments[@]}"; } |
  sha256sum | cut -c1-16)
out=$cache/kernel/$flavour-$hash
if [[ -f $out/vmlinux && -f $out/bzImage ]]; then echo "$out"; exit 0; fi

# One build per flavour and hash at a time: a second caller waits for the first and then finds
# the result in the cache.
mkdir -p "$cache/kernel"
exec {lock}>"$cache/kernel/.$flavour-$hash.lock"
if ! flock -n "$lock"; then
  echo ">> waiting for another build of the $flavour kernel to finish" >&2
  flock "$lock"
fi
if [[ -f $out/vmlinux && -f $out/bzImage ]]; then echo "$out"; exit 0; fi

src=$cache/src/linux-$source_version
if [[ ! -f $src/.husk-extracted ]]; then
  echo ">> extracting linux-source $source_version (about a minute)" >&2
  rm -rf "$src" && mkdir -p "$src"
  tar -xf "$tarball" -C "$src" --strip-components=1
  touch "$src/.husk-extracted"
fi

objdir=$cache/build/$flavour-$hash
mkdir -p "$objdir"
echo ">> configuring $flavour kernel in $objdir" >&2
make -s -C "$src" O="$objdir" tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$objdir" "$objdir/.config" "${fragments[@]}" >/dev/null
make -s -C "$src" O="$objdir" olddefconfig >/dev/null

# A fragment line that did not survive olddefconfig means a missing dependency: fail loudly
# instead of booting a kernel that silently lacks a feature.
missing=0
while IFS= read -r line; do
  [[ $line =~ ^CONFIG_ ]] || continue
  name=${line%%=*}; value=${line#*=}
  if [[ $value == n ]]; then
    grep -q "^$name=" "$objdir/.config" && { echo "build.sh: $name should be off" >&2; missing=1; }
  elif ! grep -qx "$line" "$objdir/.config"; then
    echo "build.sh: $line not honoured ($(grep "^$name=\|$name is not set" "$objdir/.config" || echo absent))" >&2
    missing=1
  fi
done < <(cat "${fragments[@]}")
[[ $missing == 0 ]] || exit 1

jobs=$(nproc)
echo ">> building $flavour kernel with $jobs jobs (about 8 minutes on 2 idle cores)" >&2
start=$(date +%s)
make -s -C "$src" O="$objdir" -j"$jobs" vmlinux bzImage >&2
echo ">> $flavour kernel built in $(( $(date +%s) - start ))s" >&2

mkdir -p "$out.tmp"
cp "$objdir/vmlinux" "$out.tmp/vmlinux"
cp "$objdir/arch/x86/boot/bzImage" "$out.tmp/bzImage"
cp "$objdir/.config" "$out.tmp/config"
rm -rf "$out" && mv "$out.tmp" "$out"
rm -rf "$objdir"
echo "$out"
