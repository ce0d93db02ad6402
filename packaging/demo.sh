#!/usr/bin/env bash
# The main job, from a fresh machine: set up, build, and run a Python one-liner in a husk sandbox
# with `husk run` (Debian root filesystem with python3, read-only and shared, private overlay).
# Runs through the lab when this host has no hardware KVM.
# Usage: packaging/demo.sh [-- HUSK-RUN-ARGS...]   e.g. packaging/demo.sh -- -- uname -a
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build
# Only what the demo needs, so its result shows early; tests/run.sh builds the rest.
"$repo/packaging/build.sh" "$build" husk husk-vmm husk-initramfs >&2

[[ ${1:-} == -- ]] && shift
if [[ $# -eq 0 ]]; then
  set -- --rootfs debian-python -- python3 -c 'import platform
print(f"6*7 = {6*7}, computed by Python {platform.python_version()} on Linux {platform.release()} inside a husk VM")'
fi
# Output goes through a pipe (cat) rather than straight into the lab's results file.
exec "$repo/tests/lab/run" -- bash -o pipefail -c '"$@" | cat' husk-demo "$build/sdk/cli/husk" run "$@"
