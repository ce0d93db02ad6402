#!/usr/bin/env bash
# The lab host's kernel (tests/lab/run): Debian's own packaged kernel, linux-image-amd64's
# current version, with its modules, instead of a kernel of ours. Building one took about 12
# minutes of both cores on a fresh machine; this takes about 10 seconds, and Debian's kernel has
# everything the lab needs (KVM with nested SVM, virtio-pci and 9p, namespaces, cgroups,
# nftables, tun, vhost, audit) as it ships to users.
# Prints the cache directory holding:
#   vmlinux     the uncompressed kernel, which QEMU boots directly through its PVH entry point
#               (no bootloader, no decompression under TCG)
#   initrd.img  busybox, the modules that reach the host root over virtio-9p and those of KVM,
#               tun and vhost, and init (lab-host-init), which loads them, mounts that root and
#               hands over to tests/lab/lab-init
#   modules/    the package's /lib/modules with depmod's indexes, for modprobe -d in the lab
#   release     the kernel release (uname -r)
# Cached by the package's version and the recipe. Progress goes to stderr.
# Usage: packaging/kernel/lab-host.sh   (--lists-refreshed: its own retry after apt-get update)
set -euo pipefail
# depmod and modprobe (kmod) live in sbin, which a user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

here=$(cd "$(dirname "$0")" && pwd)
cache=${HUSK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk}

# The versioned image package linux-image-amd64 points at, and its version.
resolve_package() {
  package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
  [[ -n $package ]] && version=$(apt-cache show --no-all-versions "$package" 2>/dev/null | awk '$1 == "Version:" { print $2; exit }')
  [[ -n $package && -n ${version:-} ]]
}
if ! resolve_package; then
  # A fresh machine may have no package lists yet.
  [[ $(id -u) -eq 0 ]] && apt-get update -q >&2
  resolve_package || { echo "lab-host.sh: apt knows no linux-image-amd64 (run apt-get update)" >&2; exit 1; }
fi

# Keyed by the package and the recipe (this script and the initramfs's init).
hash=$( { echo "$package $version"; cat "$here/lab-host.sh" "$here/lab-host-init"; } | sha256sum | cut -c1-16)
out=$cache/kernel/lab-host-$hash
if [[ -f $out/vmlinux && -f $out/initrd.img ]]; then echo "$out"; exit 0; fi

mkdir -p "$cache/kernel"
exec {lock}>"$cache/kernel/.lab-host-$hash.lock"
if ! flock -n "$lock"; then
  echo ">> waiting for another preparation of the lab host kernel to finish" >&2
  flock "$lock"
fi
if [[ -f $out/vmlinux && -f $out/initrd.img ]]; then echo "$out"; exit 0; fi

work=$(mktemp -d "$cache/kernel/.lab-host-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo ">> lab host kernel: fetching $package $version" >&2
# Downloaded as the invoking user into a directory of ours; apt checks the file against the
# signed package index.
if ! (cd "$work" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "$package=$version" >&2); then
  # Stale package lists name a version the mirror has replaced (Debian's kernel moves on with
  # every security update): refresh them once and start over, which may pick a newer version.
  if [[ $(id -u) -eq 0 && ${1:-} != --lists-refreshed ]]; then
    rm -rf "$work"
    exec {lock}>&-
    apt-get update -q >&2
    exec "$here/lab-host.sh" --lists-refreshed
  fi
  echo "lab-host.sh: could not download $package $version (run apt-get update)" >&2
  exit 1
fi
deb=("$work"/*.deb)
[[ -f ${deb[0]} ]] || { echo "lab-host.sh: apt-get download left no package" >&2; exit 1; }
dpkg-deb -x "${deb[0]}" "$work/package"
release=$(ls "$work/package/lib/modules")
[[ $release =~ ^[0-9][A-Za-z0-9._+-]*$ ]] || { echo "lab-host.sh: unexpected modules directory '$release'" >&2; exit 1; }
compressed=$work/package/boot/vmlinuz-$release
[[ -f $compressed ]] || { echo "lab-host.sh: the package has no boot/vmlinuz-$release" >&2; exit 1; }

mkdir -p "$work/out"
# The compressed kernel sits in the bzImage at the offset and length its setup header gives
# (the x86 boot protocol, 2.08 and later): setup_sects at 0x1f1 (protected-mode code starts
# after 1 + setup_sects sectors), payload_offset at 0x248 and payload_length at 0x24c.
header_field() { od -An -t "u$2" -j "$1" -N "$2" "$compressed" | tr -d ' '; }
setup_sectors=$(header_field $((0x1f1)) 1)
(( setup_sectors == 0 )) && setup_sectors=4
payload_offset=$(( (setup_sectors + 1) * 512 + $(header_field $((0x248)) 4) ))
payload_length=$(header_field $((0x24c)) 4)
tail -c +$((payload_offset + 1)) "$compressed" | head -c "$payload_length" | xz -dc -q > "$work/out/vmlinux" 2>/dev/null || true
[[ $(head -c 4 "$work/out/vmlinux" | od -An -tx1 | tr -d ' ') == 7f454c46 ]] ||
  { echo "lab-host.sh: could not unpack an ELF kernel from $(basename "$compressed") (not xz?)" >&2; exit 1; }

mkdir -p "$work/out/modules/lib"
mv "$work/package/lib/modules" "$work/out/modules/lib/modules"
depmod -b "$work/out/modules" "$release"
echo "$release" > "$work/out/release"

# The initramfs: what it takes to mount the host root over virtio-9p, and the drivers whose
# device nodes the lab needs before anything could ask for them (KVM, tun, vhost-vsock and
# vhost-net), in load order: loading them here from memory is quicker than with kmod over 9p.
initrd=$work/initrd
mkdir -p "$initrd"/{bin,dev,proc,newroot,modules}
cp /bin/busybox "$initrd/bin/busybox"
cp "$here/lab-host-init" "$initrd/init"
modprobe -d "$work/out/modules" -S "$release" --show-depends -a virtio_pci 9pnet_virtio 9p kvm_amd tun vhost_vsock vhost_net |
  awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r module; do
    cp "$module" "$initrd/modules/"
    basename "$module" >> "$initrd/modules/order"
  done
for module in 9p.ko kvm-amd.ko tun.ko vhost_vsock.ko vhost_net.ko; do
  grep -qx "$module" "$initrd/modules/order" || { echo "lab-host.sh: the package has no $module" >&2; exit 1; }
done
(cd "$initrd" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1 > "$work/out/initrd.img")

rm -rf "$out" && mv "$work/out" "$out"
echo ">> lab host kernel: $release ready" >&2
echo "$out"
