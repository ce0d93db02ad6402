#!/usr/bin/env bash
# CTest check of a built initramfs: it must hold /init as a static ELF executable, /bin/busybox
# and /bin/sh, with every entry owned by root.
# Usage: packaging/initramfs/check.sh <initramfs.cpio>
set -euo pipefail

die() { echo "initramfs/check.sh: FAIL: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: check.sh <initramfs.cpio>"
archive=$1
[[ -f $archive ]] || die "'$archive' does not exist"

listing=$(cpio --quiet -it < "$archive") || die "'$archive' is not a readable cpio archive"
for entry in init bin/busybox bin/sh proc sys dev tmp run etc/passwd; do
  grep -qx -- "$entry" <<< "$listing" || die "'$entry' missing from $archive"
done

owners=$(cpio --quiet -itv < "$archive" | awk '$3 != "root" || $4 != "root" { print $NF }')
[[ -z $owners ]] || die "entries not owned by root:root: $owners"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
( cd "$scratch" && cpio --quiet -id init ) < "$archive" || die "cannot extract init"
[[ $(head -c 4 "$scratch/init" | od -An -c | tr -d ' ') == 177ELF ]] || die "/init is not an ELF file"
[[ -x $scratch/init ]] || die "/init is not executable"
if LC_ALL=C readelf -lW "$scratch/init" | grep -q INTERP; then
  die "/init is dynamically linked (has a PT_INTERP header)"
fi
LC_ALL=C readelf -hW "$scratch/init" | grep -q 'Type:.*EXEC' || die "/init is not an ELF executable"
echo "initramfs/check.sh: $archive ok ($(wc -l <<< "$listing") entries)"
