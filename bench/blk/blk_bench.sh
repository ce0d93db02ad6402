#!/usr/bin/env bash
# bench/blk (first cut, sequential only): the guest reads a disk image end to end with direct
# I/O (busybox dd, 1 MiB blocks), under husk-vmm and under QEMU microvm with virtio-blk-device
# and aio=io_uring on the same image (both through the host page cache: husk opens images
# without O_DIRECT, and the lab's /tmp is a tmpfs), same kernel and initramfs, in the same run. Prints each
# run's MiB/s (from the guest's own clock), the medians and husk/QEMU. Runs where it is started:
# use bench/blk/run to get real KVM. Random-read IOPS at queue depth 1 and 32 are NOT measured
# yet (the initramfs has no fio).
# Usage: blk_bench.sh VMM KERNEL INITRD [RUNS]
set -euo pipefail
vmm=$1 kernel=$2 initrd=$3 runs=${4:-5}
size_mib=256
image=$(mktemp /tmp/husk-blk-bench.XXXXXX)
trap 'rm -f "$image"' EXIT
head -c $((size_mib << 20)) /dev/urandom >"$image"

# The guest times the read itself, so boot time stays out of the figure. QEMU gets reboot=t:
# microvm ignores the keyboard-controller reset, a triple fault ends it (-no-reboot).
job='start=$(cat /proc/uptime); dd if=/dev/vda of=/dev/null bs=1M iflag=direct 2>/dev/null; end=$(cat /proc/uptime); echo bench-seconds=$start,$end'

mibps() { # "bench-seconds=a b,c d" on stdin -> MiB/s
  sed -n 's/.*bench-seconds=\([0-9.]*\) [0-9.]*,\([0-9.]*\) .*/\1 \2/p' | tr -d '\r' |
    awk -v size="$size_mib" 'NR == 1 { if ($2 > $1) printf "%.1f\n", size / ($2 - $1) }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }

husk=() qemu=()
for ((i = 0; i < runs; i++)); do
  husk+=("$("$vmm" --kernel "$kernel" --initrd "$initrd" --memory 256M --serial stdout --disk "$image,ro" \
    -- sh -c "$job" 2>/dev/null | mibps || true)")
  qemu+=("$(timeout 300 qemu-system-x86_64 -M microvm,x-option-roms=off,rtc=off,acpi=off,auto-kernel-cmdline=off -accel kvm \
    -cpu host -m 256 -smp 1 -nodefaults -no-user-config -display none -no-reboot -serial stdio \
    -kernel "$kernel" -initrd "$initrd" \
    -drive "file=$image,format=raw,if=none,id=d0,aio=io_uring,readonly=on" \
    -device virtio-blk-device,drive=d0 \
    -append "console=ttyS0 reboot=t panic=-1 pci=off tsc=reliable quiet virtio_mmio.device=512@0xfeb00e00:12 -- sh -c \"$job\"" \
    2>/dev/null | mibps || true)")
done
echo "sequential read, ${size_mib} MiB, 1 MiB direct reads, $runs runs each"
echo "  husk-vmm runs (MiB/s): ${husk[*]}"
echo "  qemu     runs (MiB/s): ${qemu[*]}"
husk_median=$(printf '%s\n' "${husk[@]}" | grep -v '^$' | median)
qemu_median=$(printf '%s\n' "${qemu[@]}" | grep -v '^$' | median)
echo "  median husk-vmm ${husk_median} MiB/s, qemu ${qemu_median} MiB/s"
awk -v h="$husk_median" -v q="$qemu_median" 'BEGIN { if (h + 0 > 0 && q + 0 > 0) printf "  ratio husk/qemu %.2f\n", h / q }'
