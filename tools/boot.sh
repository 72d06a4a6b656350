#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sets up, builds and boots the default guest: Debian's Linux 6.1 Malta kernel with a busybox initramfs, to
# a shell on this terminal (the README's first command). `poweroff` ends the run with status 0 (so does
# `reboot`, with -no-reboot); Ctrl-A x quits. At the end of stdin the guest keeps running, as under QEMU.
# Extra arguments go to `strobe run` (e.g. --engine interp, -m 128, --stats).
# BOOT_DEMO=1 boots the bundled bare-metal demo instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-deps.sh >&2
BUILD=${BUILD:-build}
cmake -S . -B "$BUILD" -G Ninja >&2
# strobe, plus what the README's later examples use: the guest programs (build/guests/*.elf and their
# native twins, for compare_qemu.sh) and strobe_bench. The test suite is tools/test.sh's business.
targets=(strobe guests)
if grep -q '^STROBE_BUILD_BENCH:BOOL=ON' "$BUILD/CMakeCache.txt"; then targets+=(strobe_bench); fi
cmake --build "$BUILD" -j"${JOBS:-2}" --target "${targets[@]}" >&2
if [ -n "${BOOT_DEMO:-}" ]; then
  exec "$BUILD/strobe" run -nographic "$@"
fi
bash guests/linux/fetch.sh
exec "$BUILD/strobe" run -M malta -m 256 -kernel .cache/linux/vmlinuz -initrd .cache/linux/initramfs.cpio.gz \
  -append "console=ttyS0" -nographic "$@"
