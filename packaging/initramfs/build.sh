#!/usr/bin/env bash
# Packs husk's default guest image: an uncompressed newc cpio (the guest kernel has no gzip) with
# /init = husk-init, /bin/busybox from Debian's busybox-static plus one symlink per applet, empty
# mount points and a root-only /etc/passwd and /etc/group. No root needed and no device nodes:
# husk-init mounts devtmpfs itself. Output is reproducible (sorted list, fixed owner and mtimes;
# SOURCE_DATE_EPOCH overrides the mtime, default 0).
# Usage: packaging/initramfs/build.sh <husk-init binary> <output.cpio>
# HUSK_BUSYBOX selects another busybox binary (default /bin/busybox).
set -euo pipefail

die() { echo "initramfs/build.sh: $*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: build.sh <husk-init binary> <output.cpio>"
init_binary=$1
output=$2
busybox=${HUSK_BUSYBOX:-/bin/busybox}
mtime=${SOURCE_DATE_EPOCH:-0}

command -v cpio >/dev/null || die "cpio is missing (apt-get install cpio)"

# A dynamically linked binary has a PT_INTERP program header; the guest has no loader or libc.
is_static_elf() {
  local header
  header=$(head -c 4 "$1" | od -An -c | tr -d ' ')
  [[ $header == 177ELF ]] || return 1
  if command -v readelf >/dev/null; then
    ! LC_ALL=C readelf -lW "$1" 2>/dev/null | grep -q 'INTERP'
  else
    LC_ALL=C file -L "$1" | grep -q 'statically linked'
  fi
}

[[ -f $init_binary && -x $init_binary ]] || die "husk-init binary '$init_binary' missing or not executable"
is_static_elf "$init_binary" || die "'$init_binary' is not a static ELF executable"
[[ -f $busybox && -x $busybox ]] ||
  die "busybox '$busybox' is missing: install Debian's busybox-static (apt-get install busybox-static)"
is_static_elf "$busybox" ||
  die "'$busybox' is not statically linked: install busybox-static instead of busybox"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# The archive carries "." too: its mode becomes the guest's / (the kernel's default is 1777).
chmod 0755 "$stage"

install -d -m 0755 "$stage"/{bin,dev,etc,proc,run,sys}
install -d -m 0700 "$stage/root"
install -d -m 1777 "$stage/tmp"
install -m 0755 "$init_binary" "$stage/init"
# Debug info is for the host; the guest unpacks every byte of this archive at boot.
if command -v strip >/dev/null; then strip --strip-all "$stage/init"; fi
install -m 0755 "$busybox" "$stage/bin/busybox"

applets=$("$busybox" --list) || die "'$busybox --list' failed"
count=0
while IFS= read -r applet; do
  # Applet names are plain file names; anything else would escape /bin.
  [[ $applet =~ ^[A-Za-z0-9._+-]+$ && $applet != . && $applet != .. ]] || continue
  [[ -e $stage/bin/$applet || -L $stage/bin/$applet ]] && continue
  ln -s busybox "$stage/bin/$applet"
  count=$((count + 1))
done <<< "$applets"
[[ -L $stage/bin/sh ]] || die "'$busybox' has no sh applet"

printf 'root:x:0:0:root:/root:/bin/sh\n' > "$stage/etc/passwd"
printf 'root:x:0:\n' > "$stage/etc/group"
chmod 0644 "$stage/etc/passwd" "$stage/etc/group"

find "$stage" -exec touch -h -d "@$mtime" {} +
mkdir -p "$(dirname "$output")"
( cd "$stage" && { echo .; find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort; } |
    cpio --quiet -o -H newc -R 0:0 --reproducible ) > "$output.tmp"
mv "$output.tmp" "$output"
echo "initramfs/build.sh: $output ($(stat -c %s "$output") bytes, busybox with $count applets)" >&2
