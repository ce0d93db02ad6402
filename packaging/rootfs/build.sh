#!/usr/bin/env bash
# Builds a husk root filesystem image: Debian bookworm from debootstrap (minbase plus a recipe's
# packages), stripped of docs, man pages and locales, turned into a sparse raw ext4 image with
# `mkfs.ext4 -d` (no mount, no loop device). The image carries no husk binary: husk-init stays
# in the initramfs and switches into this root (husk.root= on the kernel command line).
# Cached by a hash of the recipe (name, packages, mirror, size) and this script under
# ~/.cache/husk/rootfs/; one build per hash at a time (flock). Progress goes to stderr.
# Usage: packaging/rootfs/build.sh <name> <out-dir>   → writes <out-dir>/<name>.ext4 (a symlink
# into the cache) and prints its path. Needs root (debootstrap chroots and creates devices).
set -euo pipefail

die() { echo "rootfs/build.sh: $*" >&2; exit 1; }
[[ $# -eq 2 ]] || die "usage: build.sh <name> <out-dir>"
name=$1
out_dir=$2

# Recipes: packages on top of minbase. Add one here to add an image.
case "$name" in
  debian-python) packages=(python3-minimal) ;;
  *) die "unknown image '$name' (known: debian-python)" ;;
esac
suite=bookworm
# The host's own Debian mirror (its apt sources; HUSK_DEBIAN_MIRROR overrides).
mirror=$("$(dirname "$0")/../debian-mirror.sh" "$suite")
# Free space left in the image on top of the files; the guest writes into a tmpfs overlay, so
# this only matters for disks used writable.
headroom_mib=64

[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap chroots into the new tree)"
for tool in debootstrap mkfs.ext4; do
  command -v "$tool" >/dev/null || die "$tool is missing: run packaging/setup.sh"
done

cache=${HUSK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk}
# Bump when a change to this script changes what it produces.
recipe_version=1
hash=$( { echo "$name $suite $mirror recipe $recipe_version headroom $headroom_mib"; printf '%s\n' "${packages[@]}"; } |
  sha256sum | cut -c1-16)
image=$cache/rootfs/$name-$hash.ext4

publish() {
  mkdir -p "$out_dir"
  ln -sfn "$image" "$out_dir/$name.ext4"
  echo "$out_dir/$name.ext4"
}
if [[ -f $image ]]; then publish; exit 0; fi

mkdir -p "$cache/rootfs"
exec {lock}>"$cache/rootfs/.$name-$hash.lock"
if ! flock -n "$lock"; then
  echo ">> waiting for another build of the $name image to finish" >&2
  flock "$lock"
fi
if [[ -f $image ]]; then publish; exit 0; fi

start=$(date +%s)
tree=$cache/rootfs/$name-$hash.tree
rm -rf "$tree"
trap 'rm -rf "$tree" "$image.tmp"' EXIT
include=$(IFS=,; echo "${packages[*]}")
echo ">> debootstrap $suite (minbase + $include) from $mirror (a few minutes)" >&2
debootstrap --variant=minbase --include="$include" "$suite" "$tree" "$mirror" >&2

echo ">> trimming docs, man pages, locales and caches" >&2
rm -rf "$tree"/usr/share/{doc,man,info,locale,lintian,linda}/* \
  "$tree"/var/cache/apt/* "$tree"/var/lib/apt/lists/* "$tree"/var/cache/debconf/*-old \
  "$tree"/var/log/*.log "$tree"/var/log/apt/*
find "$tree" -name '__pycache__' -type d -prune -exec rm -rf {} +
# The guest has no network by default and one job at a time: a fixed hostname and resolv stub.
echo husk >"$tree/etc/hostname"
: >"$tree/etc/resolv.conf"
# husk-init mounts these itself after switching root; they must exist as mount points.
mkdir -p "$tree"/{proc,sys,dev,run,tmp}

used_kib=$(du -sk --apparent-size "$tree" | cut -f1)
size_mib=$(( used_kib * 12 / 10 / 1024 + headroom_mib ))
echo ">> mkfs.ext4 -d into a ${size_mib} MiB sparse image" >&2
rm -f "$image.tmp"
truncate -s "${size_mib}M" "$image.tmp"
# No journal: the base image is mounted read-only under an overlay; 256-byte inodes for
# nanosecond timestamps; fixed UUID and hash seed so the same tree gives the same image.
mkfs.ext4 -q -F -O ^has_journal -I 256 -L "$name" -U clear -E root_owner=0:0,hash_seed=00000000-0000-0000-0000-000000000000 \
  -d "$tree" "$image.tmp" >&2
mv "$image.tmp" "$image"
rm -rf "$tree"
trap - EXIT
echo ">> $name image built in $(( $(date +%s) - start ))s: $(du -h --apparent-size "$image" | cut -f1) apparent," \
  "$(du -h "$image" | cut -f1) on disk" >&2
publish
