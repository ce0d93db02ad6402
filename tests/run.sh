#!/usr/bin/env bash
# The test command (README, .ci/run): sets up a fresh Debian machine, builds the kernels,
# images and husk, then runs the unit tests, the packaging checks and the lab tests (real KVM,
# through the lab when this host has no hardware virtualization).
#
# Known issue (README "Status"): inside the lab, a nested guest never leaves its first KVM_RUN
# (even a 5-byte real-mode guest, and QEMU microvm too), so the lab tests that execute guest code
# fail today. They still run here every time, with a bounded time, and their result is printed
# loudly; they do not gate the run until the lab is fixed. The lab itself (boot, real /dev/kvm
# of hardware flavour, io_uring) is checked and gates.
# Usage: tests/run.sh [build-dir]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
start=$(date +%s)

"$repo/packaging/build.sh" "$build"

echo ">> unit tests and packaging checks" >&2
ctest --test-dir "$build" --output-on-failure --label-exclude 'lab' -j"$(nproc)"

echo ">> lab: boots, has a hardware-flavour /dev/kvm" >&2
"$repo/tests/lab/run" --timeout 300 -- "$repo/tests/lab/check-lab"

known_failing=()
echo ">> lab: KVM unit tests on real KVM (known failing, not gating)" >&2
"$repo/tests/lab/run" --timeout 240 -- "$repo/tests/lab/kvm-unit-tests" "$build/tests/unit/husk_unit_tests" \
  || known_failing+=("lab KVM unit tests")
echo ">> lab: Linux guest boot tests (known failing, not gating)" >&2
"$repo/tests/lab/run" --timeout 420 -- "$build/tests/lab/husk_lab_tests" --gtest_filter='LabBoot.UnameInGuest*:LabExitCode.*' \
  || known_failing+=("lab Linux boot tests")

if [[ ${#known_failing[@]} -gt 0 ]]; then
  echo "!! KNOWN FAILING, NOT GATING: ${known_failing[*]} — nested guests do not run in the lab yet (README, Status)" >&2
fi
echo ">> gating tests passed in $(( $(date +%s) - start ))s" >&2
