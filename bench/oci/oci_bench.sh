#!/usr/bin/env bash
# bench/oci: `podman run --rm IMAGE true` with husk-oci as podman's runtime against podman's own
# container runtime (crun, else runc: whichever works on this host) in the same run, on the same
# locally imported busybox image, and husk-oci's overhead over `husk run --rootfs DIR true` of
# the same root filesystem (the VM alone, without podman and the OCI layer). Wall time of each
# command, interleaved runs; prints every run, medians, p99 and the ratios. Runs where it is
# started: use bench/oci/run to get real KVM (the lab when this host has none; under TCG only the
# ratios mean something).
# Usage: oci_bench.sh HUSK_OCI HUSK_CLI [RUNS] (default 20)
set -euo pipefail
husk_oci=$(realpath "$1") husk_cli=$(realpath "$2") runs=${3:-20}
work=$(mktemp -d /tmp/husk-oci-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/rootfs/bin" "$work/rootfs/tmp"
cp /bin/busybox "$work/rootfs/bin/busybox"
for applet in sh true echo; do ln -s busybox "$work/rootfs/bin/$applet"; done
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
# vfs and cgroupfs, no network: nothing the lab's kernel lacks (as lab_oci does).
podman() {
  command podman --root "$work/podman/root" --runroot "$work/podman/run" --storage-driver vfs \
    --cgroup-manager cgroupfs --events-backend none "$@"
}
# The same run for every runtime; modest open-file and process limits any host lets a container set.
run_args=(run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/husk-oci-bench true)
podman import -q "$work/rootfs.tar" localhost/husk-oci-bench:latest >/dev/null

# The peer: the first of crun and runc that runs the image here.
peer=none
for candidate in crun runc; do
  if path=$(command -v "$candidate") && podman --runtime "$path" "${run_args[@]}" >"$work/peer-check" 2>&1; then
    peer=$candidate peer_path=$path
    break
  fi
  echo "oci_bench: $candidate does not run containers here: $(tail -n 1 "$work/peer-check")" >&2
done

now_ms() { date +%s%3N; }
timed() { # command... -> milliseconds, or n/a when it failed
  local start end
  start=$(now_ms)
  if "$@" >"$work/last" 2>&1; then
    end=$(now_ms)
    echo $((end - start))
  else
    echo "oci_bench: failed: $*: $(tail -n 2 "$work/last" | tr '\n' ' ')" >&2
    echo n/a
  fi
}

declare -A times
for ((i = 0; i < runs; i++)); do
  times[husk-oci]+="$(timed podman --runtime "$husk_oci" "${run_args[@]}") "
  if [[ $peer != none ]]; then
    times[$peer]+="$(timed podman --runtime "$peer_path" "${run_args[@]}") "
  fi
  times[husk-run]+="$(timed "$husk_cli" run --rootfs "$work/rootfs" -- true) "
done

stats() { # "ms ms ..." -> "median p99" (nearest rank)
  tr ' ' '\n' <<<"$1" | { grep -E '^[0-9]+$' || true; } | sort -n |
    awk '{ v[NR] = $1 } END { if (!NR) { print "n/a n/a"; exit }
      m = v[int((NR + 1) / 2)]; r = int(NR * 0.99 + 0.999); if (r < 1) r = 1; print m, v[r] }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else printf "n/a" }'; }

echo "podman run --rm IMAGE true, wall ms, $runs runs each (interleaved)"
for name in husk-oci "$peer" husk-run; do
  [[ $name == none ]] && continue
  read -r median p99 <<<"$(stats "${times[$name]}")"
  declare "median_${name//-/_}=$median"
  printf '  %-9s median %6s  p99 %6s   runs: %s\n' "$name" "$median" "$p99" "${times[$name]% }"
done
if [[ $peer != none ]]; then
  peer_median_var="median_${peer}"
  echo "  husk-oci/$peer ratio (medians): $(ratio "$median_husk_oci" "${!peer_median_var}")"
else
  echo "  no peer: neither crun nor runc runs containers on this host"
fi
if [[ $median_husk_oci =~ ^[0-9]+$ && $median_husk_run =~ ^[0-9]+$ ]]; then
  echo "  husk-oci over husk run of the same rootfs: $(ratio "$median_husk_oci" "$median_husk_run")x," \
    "+$((median_husk_oci - median_husk_run)) ms (podman, conmon and the OCI layer)"
fi
podman rmi -f localhost/husk-oci-bench >/dev/null 2>&1 || true
