#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian bookworm packages Strobe needs to build, test and benchmark.
# Idempotent: it does nothing but a quick check when everything is present.
# ipxe-qemu and seabios hold the option ROMs (efi-pcnet.rom, vgabios-cirrus.bin) of the NIC and VGA card that
# QEMU's Malta has by default; without them a plain `qemu-system-mipsel -M malta ...` stops with "failed to
# find romfile" (qemu-system-mips only recommends them, and this script installs no recommends).
# e2fsprogs (mke2fs, e2fsck, debugfs) makes and checks the ext4 disk images of the IDE tests.
# qemu-utils (qemu-img, qemu-io) makes and checks the qcow2 images of the disk tests (QEMU as the oracle).
# gdb-multiarch drives the gdb stub's tests (tests/debug) and the README's gdb example.
# xorriso makes the ISO 9660 images of the CD-ROM tests (xorriso -as mkisofs).
# libxbyak-dev (Xbyak, header only) is the x86-64 assembler of the interpreter's baseline code.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  llvm-19-dev clang-19 lld-19 libzstd-dev zlib1g-dev libedit-dev libxml2-dev libffi-dev
  libcapstone-dev libgtest-dev libgmock-dev libbenchmark-dev libunicorn-dev
  qemu-system-mips qemu-utils ipxe-qemu seabios python3 python3-matplotlib clang-format cpio gzip xz-utils
  e2fsprogs gdb-multiarch libslirp-dev tcpdump xorriso libxbyak-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q -o Acquire::Retries=5
$SUDO apt-get install -y -q -o Acquire::Retries=5 --no-install-recommends "${missing[@]}"
echo "setup-deps: done"
