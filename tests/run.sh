#!/usr/bin/env bash
# The test command (README, .ci/run): sets up a fresh Debian machine, builds the kernels,
# images and husk, then runs the unit tests and packaging checks, a short run of every fuzz
# target, and the lab tests on real KVM
# (through the lab when this host has no hardware virtualization): the KVM unit tests (wrappers,
# vCPU threads, Machine with tiny guests) and the Linux boot tests (husk-vmm boots our kernel to
# husk-init and the job's status comes back).
# Usage: tests/run.sh [build-dir]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
start=$(date +%s)

"$repo/packaging/build.sh" "$build"

echo ">> unit tests and packaging checks" >&2
ctest --test-dir "$build" --output-on-failure --label-exclude 'lab' -j"$(nproc)"

echo ">> fuzz: a short run of every libFuzzer target" >&2
"$repo/tests/fuzz/run-short" "$build-fuzz" 20

echo ">> lab: boots and has a hardware-flavour /dev/kvm" >&2
"$repo/tests/lab/run" --timeout 300 -- "$repo/tests/lab/check-lab"

echo ">> lab tests on real KVM" >&2
ctest --test-dir "$build" --output-on-failure --label-regex 'lab'

echo ">> all tests passed in $(( $(date +%s) - start ))s" >&2
