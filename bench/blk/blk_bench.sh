#!/usr/bin/env bash
# bench/blk: virtio-blk under husk-vmm against QEMU microvm with virtio-blk-device and
# aio=io_uring, on the same image, with the same kernel and initramfs, in the same run. Each VM
# boot measures, with the guest's own clock and O_DIRECT in the guest:
#   - sequential read of the whole disk (busybox dd, 1 MiB blocks), in MiB/s;
#   - 4 KiB reads at random aligned offsets over the whole disk at queue depth 1 (pread) and 32
#     (native AIO), in IOPS, by husk-blk-iops (bench/blk/blk_iops.cpp).
# The initramfs has no fio, so husk-blk-iops travels in a second newc cpio appended to a copy of
# the initramfs (Linux unpacks concatenated archives); both VMMs boot that same copy. The product
# initramfs is never changed.
# The image stays in the host page cache (husk opens images without O_DIRECT, and the lab's /tmp
# is a tmpfs): the figures compare the two VMMs' device paths, not a disk.
# Prints each run's figures, the medians and husk/QEMU ratios. Runs where it is started: use
# bench/blk/run to get real KVM.
# Usage: blk_bench.sh VMM KERNEL INITRD IOPS_TOOL [RUNS] (HUSK_BLK_IOPS_SECONDS: per QD, default 3)
set -euo pipefail
vmm=$1 kernel=$2 initrd=$3 iops_tool=$4 runs=${5:-5}
iops_seconds=${HUSK_BLK_IOPS_SECONDS:-3}
size_mib=256
work=$(mktemp -d /tmp/husk-blk-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
image=$work/image
head -c $((size_mib << 20)) /dev/urandom >"$image"

# The bench initramfs: the product archive, then one holding /bin/husk-blk-iops.
mkdir -p "$work/extra/bin"
install -m 0755 "$iops_tool" "$work/extra/bin/husk-blk-iops"
(cd "$work/extra" && echo bin/husk-blk-iops | cpio --quiet -o -H newc -R 0:0) >"$work/extra.cpio"
cat "$initrd" "$work/extra.cpio" >"$work/initramfs.cpio"
initrd=$work/initramfs.cpio

# The guest times its own work, so boot time stays out of the figures. QEMU gets reboot=t:
# microvm ignores the keyboard-controller reset, a triple fault ends it (-no-reboot).
job="start=\$(cat /proc/uptime); dd if=/dev/vda of=/dev/null bs=1M iflag=direct 2>/dev/null; end=\$(cat /proc/uptime); echo bench-seconds=\$start,\$end; /bin/husk-blk-iops --seconds $iops_seconds --qd 1 --qd 32 /dev/vda"

mibps() { # a run's output -> MiB/s
  tr -d '\r' <"$1" | sed -n 's/.*bench-seconds=\([0-9.]*\) [0-9.]*,\([0-9.]*\) .*/\1 \2/p' |
    awk -v size="$size_mib" 'NR == 1 { if ($2 > $1) printf "%.1f\n", size / ($2 - $1) }'
}
iops() { # a run's output, queue depth -> IOPS
  tr -d '\r' <"$1" | sed -n "s/.*iops qd=$2 ops=[0-9]* seconds=[0-9.]* iops=\([0-9]*\).*/\1/p" | head -n 1
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }
complain() { # name, run's output: a run without figures says why, on stderr
  echo "blk_bench: $1 gave no figures; its last lines:" >&2
  tr -d '\r' <"$2" | tail -n 5 | sed 's/^/    /' >&2
}

run_husk() {
  "$vmm" --kernel "$kernel" --initrd "$initrd" --memory 256M --serial stdout --disk "$image,ro" \
    -- sh -c "$job" >"$1" 2>&1 || true
}
run_qemu() {
  timeout 300 qemu-system-x86_64 -M microvm,x-option-roms=off,rtc=off,acpi=off,auto-kernel-cmdline=off -accel kvm \
    -cpu host -m 256 -smp 1 -nodefaults -no-user-config -display none -no-reboot -serial stdio \
    -kernel "$kernel" -initrd "$initrd" \
    -drive "file=$image,format=raw,if=none,id=d0,aio=io_uring,readonly=on" \
    -device virtio-blk-device,drive=d0 \
    -append "console=ttyS0 reboot=t panic=-1 pci=off tsc=reliable quiet virtio_mmio.device=512@0xfeb00e00:12 -- sh -c \"$job\"" \
    >"$1" 2>&1 || true
}

declare -A figures # [vmm,measure] -> space-separated per-run values
for ((i = 0; i < runs; i++)); do
  for peer in husk qemu; do
    out=$work/$peer.$i
    "run_$peer" "$out"
    seq=$(mibps "$out") qd1=$(iops "$out" 1) qd32=$(iops "$out" 32)
    [[ -n $seq && -n $qd1 && -n $qd32 ]] || complain "$peer run $((i + 1))" "$out"
    figures[$peer,seq]+="${seq:-n/a} " figures[$peer,qd1]+="${qd1:-n/a} " figures[$peer,qd32]+="${qd32:-n/a} "
  done
done

report() { # measure, unit, title
  local husk_median qemu_median
  echo "$3"
  echo "  husk-vmm runs ($2): ${figures[husk,$1]% }"
  echo "  qemu     runs ($2): ${figures[qemu,$1]% }"
  husk_median=$(tr ' ' '\n' <<<"${figures[husk,$1]}" | grep -E '^[0-9.]+$' | median)
  qemu_median=$(tr ' ' '\n' <<<"${figures[qemu,$1]}" | grep -E '^[0-9.]+$' | median)
  echo "  median husk-vmm ${husk_median} $2, qemu ${qemu_median} $2"
  awk -v h="$husk_median" -v q="$qemu_median" 'BEGIN { if (h + 0 > 0 && q + 0 > 0) printf "  ratio husk/qemu %.2f\n", h / q }'
}
echo "virtio-blk, husk-vmm vs qemu microvm (aio=io_uring), ${size_mib} MiB image in the host page cache, $runs runs each"
report seq MiB/s "sequential read, ${size_mib} MiB, 1 MiB direct reads"
report qd1 IOPS "random 4 KiB direct reads, queue depth 1 (pread), ${iops_seconds} s per run"
report qd32 IOPS "random 4 KiB direct reads, queue depth 32 (native AIO), ${iops_seconds} s per run"
