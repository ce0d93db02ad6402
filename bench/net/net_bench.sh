#!/usr/bin/env bash
# bench/net: virtio-net under husk-vmm against QEMU microvm's virtio-net-device on the same tap,
# without vhost (QEMU's own userspace device) and with vhost-net (the kernel's), with the same
# kernel and initramfs, in the same run. Each VM boot measures, from the guest:
#   - iperf3 TCP throughput guest → host and host → guest (-R), in Mbit/s (the receiver's figure);
#   - TCP round trips with 1-byte messages (husk-net-rr, netperf TCP_RR style), per second.
# The host side is a tap with 10.88.0.1/24 in a network namespace of the benchmark's own, with an
# iperf3 server and a husk-net-rr echo server on it; the guest is 10.88.0.2 (husk.ip, set up by
# husk-init in both VMMs). The initramfs has no iperf3: it travels, with its shared libraries and
# the dynamic loader, in a second newc cpio appended to a copy of the initramfs (Linux unpacks
# concatenated archives), together with husk-net-rr. The product initramfs is never changed.
# Prints each run's figures, the medians and husk/QEMU ratios. Runs where it is started, as root:
# use bench/net/run to get real KVM.
# Usage: net_bench.sh VMM KERNEL INITRD RR_TOOL [RUNS] (HUSK_NET_SECONDS: per measure, default 4)
set -euo pipefail
vmm=$1 kernel=$2 initrd=$3 rr_tool=$4 runs=${5:-3}
seconds=${HUSK_NET_SECONDS:-4}

# Everything below happens in a network namespace of our own, never the host's.
if [[ ${HUSK_NET_BENCH_IN_NETNS:-} != 1 ]]; then
  exec env HUSK_NET_BENCH_IN_NETNS=1 unshare --net -- "$0" "$@"
fi

work=$(mktemp -d /tmp/husk-net-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

tap=hbench0
mac=02:00:00:00:88:02
ip tuntap add dev "$tap" mode tap vnet_hdr
ip addr add 10.88.0.1/24 dev "$tap"
ip link set lo up
ip link set "$tap" up
iperf3 -s -B 10.88.0.1 >"$work/iperf3-server.log" 2>&1 &
pids+=($!)
"$rr_tool" server 7300 &
pids+=($!)

# The bench initramfs: the product archive, then one with iperf3, its libraries and husk-net-rr.
extra=$work/extra
mkdir -p "$extra/bin"
install -m 0755 "$rr_tool" "$extra/bin/husk-net-rr"
install -m 0755 "$(command -v iperf3)" "$extra/bin/iperf3"
for library in $(ldd "$(command -v iperf3)" | grep -o '/[^ ]*'); do
  real=$(readlink -f "$library")
  mkdir -p "$extra$(dirname "$library")"
  cp "$real" "$extra$library"
done
(cd "$extra" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$work/extra.cpio"
cat "$initrd" "$work/extra.cpio" >"$work/initramfs.cpio"
initrd=$work/initramfs.cpio

network="husk.ip=10.88.0.2/24 husk.gw=10.88.0.1"
job="export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu; ping -c 1 -W 5 10.88.0.1 >/dev/null; \
iperf3 -c 10.88.0.1 -t $seconds -f m | sed -n 's/.* \\([0-9.]*\\) Mbits\\/sec.*receiver.*/gh-mbps=\\1/p'; \
iperf3 -c 10.88.0.1 -t $seconds -f m -R | sed -n 's/.* \\([0-9.]*\\) Mbits\\/sec.*receiver.*/hg-mbps=\\1/p'; \
husk-net-rr client 10.88.0.1 7300 $seconds"

figure() { # a run's output, key -> value
  tr -d '\r' <"$1" | sed -n "s/^$2=\([0-9.]*\).*/\1/p" | head -n 1
}
round_trips() {
  tr -d '\r' <"$1" | sed -n 's/^rr transactions=[0-9]* seconds=[0-9.]* per_second=\([0-9]*\).*/\1/p' | head -n 1
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }
complain() { # name, run's output: a run without figures says why, on stderr
  echo "net_bench: $1 gave no figures; its last lines:" >&2
  tr -d '\r' <"$2" | tail -n 8 | sed 's/^/    /' >&2
}

run_husk() {
  timeout 600 "$vmm" --kernel "$kernel" --initrd "$initrd" --memory 256M --serial stdout \
    --net-tap "$tap,mac=$mac" --cmdline "$network" -- sh -c "$job" >"$1" 2>&1 || true
}
run_qemu() { # output, vhost=on|off
  timeout 600 qemu-system-x86_64 -M microvm,x-option-roms=off,rtc=off,acpi=off,auto-kernel-cmdline=off -accel kvm \
    -cpu host -m 256 -smp 1 -nodefaults -no-user-config -display none -no-reboot -serial stdio \
    -kernel "$kernel" -initrd "$initrd" \
    -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=$2" \
    -device "virtio-net-device,netdev=n0,mac=$mac" \
    -append "console=ttyS0 reboot=t panic=-1 pci=off tsc=reliable quiet virtio_mmio.device=512@0xfeb00e00:12 $network -- sh -c \"$job\"" \
    >"$1" 2>&1 || true
}
run_qemu_plain() { run_qemu "$1" off; }
run_qemu_vhost() { run_qemu "$1" on; }

peers=(husk qemu_plain)
if [[ -c /dev/vhost-net ]]; then
  peers+=(qemu_vhost)
else
  echo "net_bench: no /dev/vhost-net here; QEMU with vhost-net is left out" >&2
fi

declare -A figures # [peer,measure] -> space-separated per-run values
for ((i = 0; i < runs; i++)); do
  for peer in "${peers[@]}"; do
    out=$work/$peer.$i
    "run_$peer" "$out"
    gh=$(figure "$out" gh-mbps) hg=$(figure "$out" hg-mbps) rr=$(round_trips "$out")
    [[ -n $gh && -n $hg && -n $rr ]] || complain "$peer run $((i + 1))" "$out"
    figures[$peer,gh]+="${gh:-n/a} " figures[$peer,hg]+="${hg:-n/a} " figures[$peer,rr]+="${rr:-n/a} "
  done
done

median_of() { tr ' ' '\n' <<<"${figures[$1,$2]}" | grep -E '^[0-9.]+$' | median; }
report() { # measure, unit, title
  local husk_median peer_median
  echo "$3"
  husk_median=$(median_of husk "$1")
  for peer in "${peers[@]}"; do
    printf '  %-10s runs (%s): %s  median %s\n' "$peer" "$2" "${figures[$peer,$1]% }" "$(median_of "$peer" "$1")"
  done
  for peer in "${peers[@]:1}"; do
    peer_median=$(median_of "$peer" "$1")
    awk -v h="$husk_median" -v q="$peer_median" -v p="$peer" \
      'BEGIN { if (h + 0 > 0 && q + 0 > 0) printf "  ratio husk/%s %.2f\n", p, h / q }'
  done
}
echo "virtio-net, husk-vmm vs qemu microvm virtio-net-device on a tap (vhost off$([[ ${#peers[@]} -gt 2 ]] && echo ', and on')), $runs runs each, ${seconds} s per measure"
report gh Mbit/s "iperf3 TCP guest -> host"
report hg Mbit/s "iperf3 TCP host -> guest (-R)"
report rr "round trips/s" "TCP round trips, 1-byte request and response"
