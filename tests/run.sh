#!/usr/bin/env bash
# The test command (README, .ci/run): sets up a fresh Debian machine, builds the kernels,
# images and husk, then runs the unit tests, the packaging checks and the lab tests (real KVM,
# through the lab when this host has no hardware virtualization).
# Usage: tests/run.sh [build-dir]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
start=$(date +%s)

"$repo/packaging/build.sh" "$build"

echo ">> unit tests and packaging checks" >&2
ctest --test-dir "$build" --output-on-failure --label-exclude lab -j"$(nproc)"

echo ">> lab tests (real KVM)" >&2
ctest --test-dir "$build" --output-on-failure --label-regex lab

echo ">> all tests passed in $(( $(date +%s) - start ))s" >&2
