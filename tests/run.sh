#!/usr/bin/env bash
# The test command (README, .ci/run): sets up a fresh Debian machine, builds the kernels,
# images and husk, then runs the unit tests and packaging checks, a short run of every fuzz
# target, and the lab tests on real KVM (through the lab when this host has no hardware
# virtualization): the KVM unit tests (wrappers, vCPU threads, Machine with tiny guests), the
# jail's cgroup tests, and the Linux boot and SDK tests (husk-vmm boots our kernel to husk-init),
# and the hostile-driver guests against husk-vmm as built and against an ASan+UBSan build of it.
# Prints how long each phase took at the end, also when a phase failed.
# Usage: tests/run.sh [build-dir]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
start=$(date +%s)

phases=()
phase_name='' phase_start=0
begin_phase() {
  end_phase
  phase_name=$1 phase_start=$(date +%s)
  echo ">> $phase_name" >&2
}
end_phase() {
  [[ -n $phase_name ]] && phases+=("$(printf '%5ds  %s' $(( $(date +%s) - phase_start )) "$phase_name")")
  phase_name=''
}
report_phases() {
  local status=$?
  end_phase
  echo ">> phase durations:" >&2
  printf '   %s\n' "${phases[@]}" >&2
  printf '%5ds  total\n' $(( $(date +%s) - start )) | sed 's/^/   /' >&2
  return $status
}
trap report_phases EXIT

begin_phase "set-up, kernels, images and build"
"$repo/packaging/setup.sh"
# deb_install's clean Debian root (debootstrap with a compiler, cached): made now, beside the
# build, whose compiles keep both cores busy while it mostly waits for downloads and dpkg. Its
# log goes to a file; deb_install makes the root itself if this failed, and says why.
prepared_root_log=$(mktemp "${TMPDIR:-/tmp}/husk-install-root.XXXXXX")
prepared_root=''
if [[ $(id -u) -eq 0 ]]; then
  "$repo/tests/packaging/install-test.sh" --prepare-root >"$prepared_root_log" 2>&1 &
  prepared_root=$!
fi
build_status=0
"$repo/packaging/build.sh" "$build" || build_status=$?
if [[ -n $prepared_root ]] && ! wait "$prepared_root"; then
  echo ">> preparing deb_install's clean root failed (deb_install will try again):" >&2
  tail -n 20 "$prepared_root_log" >&2
fi
rm -f "$prepared_root_log"
[[ $build_status -eq 0 ]] || exit "$build_status"

# husk-vmm again with ASan+UBSan, for lab_hostile_asan (tests/lab/CMakeLists.txt looks for it in
# <build>-asan); ccache makes a rebuild cheap.
begin_phase "ASan+UBSan husk-vmm"
source "$repo/packaging/compiler-cache.sh"
cmake -S "$repo" -B "$build-asan" -G Ninja -DHUSK_WERROR=ON -DHUSK_TESTS=OFF -DHUSK_SANITIZE=address,undefined \
  "${husk_compiler_cache_arguments[@]}" >/dev/null
cmake --build "$build-asan" -j"$(nproc)" --target husk-vmm

begin_phase "unit tests and packaging checks"
ctest --test-dir "$build" --output-on-failure --label-exclude 'lab' -j"$(nproc)"

begin_phase "fuzz: a short run of every libFuzzer target"
"$repo/tests/fuzz/run-short" "$build-fuzz" 5

begin_phase "lab: boots and has a hardware-flavour /dev/kvm"
"$repo/tests/lab/run" --timeout 300 -- "$repo/tests/lab/check-lab"

# Each lab suite boots a lab of its own: two at a time keep both host cores busy.
begin_phase "lab tests on real KVM"
ctest --test-dir "$build" --output-on-failure --label-regex 'lab' -j2

end_phase
echo ">> all tests passed in $(( $(date +%s) - start ))s" >&2
