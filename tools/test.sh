#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sets up, builds and runs the whole test suite (the README's test command; .ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-deps.sh
BUILD=${BUILD:-build}
cmake -S . -B "$BUILD" -G Ninja ${STROBE_CMAKE_ARGS:-}
cmake --build "$BUILD" -j"${JOBS:-2}"
# Debian's kernel and busybox for the Linux boot tests (cached in .cache/linux).
bash guests/linux/fetch.sh
cd "$BUILD"
ctest --output-on-failure -j"${JOBS:-2}" --timeout 600
