#!/usr/bin/env bash
# Installs what husk needs to build and test from Debian packages. Idempotent: installs only
# what is missing, and runs `apt-get update` only when something is. Needs root (or sudo).
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev ccache
  # libraries
  libseccomp-dev liburing-dev libcli11-dev nlohmann-json3-dev googletest libgtest-dev libgmock-dev
  # guest kernel and images
  linux-source-6.1 flex bison bc libelf-dev libssl-dev xz-utils busybox-static cpio
  # Debian root filesystem images (packaging/rootfs/)
  debootstrap e2fsprogs
  # the lab (its kernel's modules are indexed and loaded with kmod) and the QEMU peer in benchmarks
  qemu-system-x86 iproute2 file kmod
  # sandbox networking (runtime/net/): nftables rules in-process, the per-sandbox DNS forwarder
  libnftables-dev dnsmasq-base
  # rootless networking: the user-mode network stack behind --net internet without root
  passt
  # bench/net: the throughput peer on the host side and, with its libraries, in the guest
  iperf3
  # husk-oci's lab suite drives real podman (with conmon) and containerd, and compares husk-oci
  # with runc and crun (tests/lab/oci_lifecycle_lab_test.cpp, bench/oci)
  podman containerd runc crun
  # the .deb packages' policy check in the install test (tests/packaging/install-test.sh)
  lintian
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$package")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo ">> setup: all ${#packages[@]} packages present" >&2
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo ">> setup: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
echo ">> setup: done" >&2
