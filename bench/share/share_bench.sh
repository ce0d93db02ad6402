#!/usr/bin/env bash
# bench/share: host directory sharing under husk-vmm (virtio-9p served by husk-vmm itself)
# against QEMU microvm with `-fsdev local,security_model=none` + virtio-9p-device, on the same
# directory, with the same kernel and initramfs (husk-init mounts the share in both:
# husk.mount=x:/mnt/x, 9p msize 512000, cache=mmap), in the same run. Each VM boot measures with
# the guest's own clock:
#   - sequential write of a SIZE MiB file (busybox dd, 1 MiB blocks, conv=fsync), MiB/s;
#   - sequential read of it back (cache=mmap reads go to the server every time), MiB/s;
#   - small files: create+write, stat and read FILES files of 100 bytes each (busybox sh loops,
#     the same guest work for both), in ops/s (3 ops per file).
# Prints each run's figures, the medians and husk/QEMU ratios. Runs where it is started: use
# bench/share/run to get real KVM.
# Before the counted runs, warm-up boots of each VMM (not counted); then each round boots both,
# alternating which goes first. Also prints the share's mount options as each guest saw them
# (the negotiated msize and cache mode must be the same for both VMMs), per husk-vmm run its
# virtio-9p device's event-thread time (husk-vmm --debug's statistics line at exit), and the
# ratios of the two boots of each round beside the ratio of the medians.
# Usage: share_bench.sh VMM KERNEL INITRD [RUNS] (HUSK_SHARE_BENCH_MIB default 64,
# HUSK_SHARE_BENCH_FILES default 300, HUSK_SHARE_BENCH_WORKLOADS: any of "write read small",
# default all three, "read" alone writes its file first, untimed; HUSK_SHARE_BENCH_WARMUP: warm-up
# boots of each VMM, default 2)
set -euo pipefail
vmm=$1 kernel=$2 initrd=$3 runs=${4:-3}
size_mib=${HUSK_SHARE_BENCH_MIB:-64}
files=${HUSK_SHARE_BENCH_FILES:-300}
workloads=${HUSK_SHARE_BENCH_WORKLOADS:-write read small}
warmup=${HUSK_SHARE_BENCH_WARMUP:-2}
[[ $warmup =~ ^[0-9]+$ ]] || { echo "share_bench: HUSK_SHARE_BENCH_WARMUP must be a number" >&2; exit 2; }
for workload in $workloads; do
  [[ $workload =~ ^(write|read|small)$ ]] || { echo "share_bench: unknown workload '$workload' (write, read, small)" >&2; exit 2; }
done
wants() { [[ " $workloads " == *" $1 "* ]]; }
work=$(mktemp -d /tmp/husk-share-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
share=$work/share
mkdir -p "$share"
chmod 0777 "$share"

# t NAME: prints "bench-NAME=<uptime seconds>" so the host can subtract. The job has no double
# quote: QEMU gets it inside the kernel command line's quotes.
job="t() { echo bench-\$1=\$(cut -d' ' -f1 /proc/uptime); }; cd /mnt/x; rm -rf small big;
grep ' /mnt/x ' /proc/mounts | sed 's/^/bench-mount=/';"
if wants write; then
  job+=" t w0; dd if=/dev/zero of=big bs=1M count=$size_mib conv=fsync 2>/dev/null; t w1;"
elif wants read; then
  job+=" dd if=/dev/zero of=big bs=1M count=$size_mib conv=fsync 2>/dev/null;"
fi
wants read && job+=" echo 3 > /proc/sys/vm/drop_caches; t r0; dd if=big of=/dev/null bs=1M 2>/dev/null; t r1;"
wants small && job+=" mkdir small; cd small; t s0; i=0; while [ \$i -lt $files ]; do echo 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789 > f\$i; i=\$((i+1)); done;
i=0; while [ \$i -lt $files ]; do stat -c %s f\$i >/dev/null; i=\$((i+1)); done;
i=0; while [ \$i -lt $files ]; do cat f\$i >/dev/null; i=\$((i+1)); done; t s1"
job=$(tr '\n' ' ' <<<"$job") # the kernel command line carries no newline

elapsed() { # output, start mark, end mark -> seconds
  tr -d '\r' <"$1" | awk -v a="bench-$2=" -v b="bench-$3=" '
    index($0, a) { s = substr($0, index($0, a) + length(a)) + 0 }
    index($0, b) { e = substr($0, index($0, b) + length(b)) + 0 }
    END { if (e > s) printf "%.3f\n", e - s }'
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s + 0 > 0) printf "%.1f\n", n / s }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }
complain() {
  echo "share_bench: $1 gave no figures; its last lines:" >&2
  tr -d '\r' <"$2" | tail -n 5 | sed 's/^/    /' >&2
}

run_husk() {
  "$vmm" --debug --kernel "$kernel" --initrd "$initrd" --memory 256M --serial stdout --timeout 600 \
    --share "$share:x" --cmdline "husk.mount=x:/mnt/x" -- sh -c "$job" >"$1" 2>&1 || true
}
run_qemu() {
  timeout 600 qemu-system-x86_64 -M microvm,x-option-roms=off,rtc=off,acpi=off,auto-kernel-cmdline=off -accel kvm \
    -cpu host -m 256 -smp 1 -nodefaults -no-user-config -display none -no-reboot -serial stdio \
    -kernel "$kernel" -initrd "$initrd" \
    -fsdev "local,id=s0,path=$share,security_model=none" -device virtio-9p-device,fsdev=s0,mount_tag=x \
    -append "console=ttyS0 reboot=t panic=-1 pci=off tsc=reliable quiet virtio_mmio.device=512@0xfeb00e00:12 husk.mount=x:/mnt/x -- sh -c \"$job\"" \
    >"$1" 2>&1 || true
}

# The guest's mount line for the share (options only), and husk-vmm's virtio-9p statistics line.
mount_options() { tr -d '\r' <"$1" | sed -n 's/^bench-mount=[^ ]* [^ ]* [^ ]* \([^ ]*\).*/\1/p' | head -n 1; }
share_stats() { tr -d '\r' <"$1" | grep -o 'virtio-9p x: [0-9]* requests served.*' | head -n 1; }

# Warm-up boots, not counted: under the lab's TCG the first boots pay for touching the lab's
# memory for the first time (1.4 GiB of tmpfs writes took 77 s there against 0.6 s for the
# 64 MiB write once warm), and whichever VMM boots first paid it alone: husk-vmm's first runs
# used to be its slowest (13-36 MiB/s against 70-110). Then the order alternates per round.
for ((i = 0; i < warmup; i++)); do
  for peer in husk qemu; do
    out=$work/warmup.$peer.$i
    "run_$peer" "$out"
    w=$(elapsed "$out" w0 w1) r=$(elapsed "$out" r0 r1) s=$(elapsed "$out" s0 s1)
    echo "warm-up $((i + 1)) (not counted): $peer seconds write ${w:-n/a} read ${r:-n/a} small ${s:-n/a}" >&2
  done
done

declare -A figures mounts
for ((i = 0; i < runs; i++)); do
  order="husk qemu"
  ((i % 2)) && order="qemu husk"
  for peer in $order; do
    out=$work/$peer.$i
    "run_$peer" "$out"
    w=$(elapsed "$out" w0 w1) r=$(elapsed "$out" r0 r1) s=$(elapsed "$out" s0 s1)
    wants write && [[ -z $w ]] && complain "$peer run $((i + 1))" "$out"
    wants read && [[ -z $r ]] && complain "$peer run $((i + 1))" "$out"
    wants small && [[ -z $s ]] && complain "$peer run $((i + 1))" "$out"
    figures[$peer,write]+="$([[ -n $w ]] && rate "$size_mib" "$w" || echo n/a) "
    figures[$peer,read]+="$([[ -n $r ]] && rate "$size_mib" "$r" || echo n/a) "
    figures[$peer,small]+="$([[ -n $s ]] && rate $((files * 3)) "$s" || echo n/a) "
    [[ -n ${mounts[$peer]:-} ]] || mounts[$peer]=$(mount_options "$out")
    [[ $peer == husk ]] && echo "husk-vmm run $((i + 1)): $(share_stats "$out")" >&2
  done
done

report() { # measure, unit, title
  local husk_median qemu_median
  echo "$3"
  echo "  husk-vmm runs ($2): ${figures[husk,$1]% }"
  echo "  qemu     runs ($2): ${figures[qemu,$1]% }"
  husk_median=$(tr ' ' '\n' <<<"${figures[husk,$1]}" | { grep -E '^[0-9.]+$' || true; } | median)
  qemu_median=$(tr ' ' '\n' <<<"${figures[qemu,$1]}" | { grep -E '^[0-9.]+$' || true; } | median)
  echo "  median husk-vmm ${husk_median} $2, qemu ${qemu_median} $2"
  awk -v h="$husk_median" -v q="$qemu_median" 'BEGIN { if (h + 0 > 0 && q + 0 > 0) printf "  ratio husk/qemu %.2f\n", h / q }'
  # Each husk-vmm boot against the QEMU boot of the same round: on a loaded machine the load
  # moves both of a pair alike, so these spread less than the two sets of runs.
  awk -v h="${figures[husk,$1]}" -v q="${figures[qemu,$1]}" 'BEGIN {
      count = split(h, hs, " "); split(q, qs, " ")
      for (i = 1; i <= count; i++) if (hs[i] + 0 > 0 && qs[i] + 0 > 0) r[++n] = hs[i] / qs[i]
      if (!n) exit
      line = ""; for (i = 1; i <= n; i++) line = line sprintf(" %.2f", r[i])
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
      printf "  paired ratios:%s, median %.2f\n", line, r[int((n + 1) / 2)]
    }'
}
echo "virtio-9p shares, husk-vmm vs qemu microvm (-fsdev local, security_model=none), $runs runs each after $warmup warm-up boots each, alternating which boots first"
echo "guest mount options: husk-vmm ${mounts[husk]:-n/a}; qemu ${mounts[qemu]:-n/a}"
wants write && report write MiB/s "sequential write, ${size_mib} MiB, 1 MiB blocks, fsync"
wants read && report read MiB/s "sequential read, ${size_mib} MiB, 1 MiB blocks"
wants small && report small ops/s "small files: create+write, stat, read of ${files} files (3 ops per file)"
true
