#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sets up, builds and boots the default guest (the README's first command). Extra arguments go to
# `strobe run`, e.g. tools/boot.sh -kernel my.elf.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-deps.sh >&2
BUILD=${BUILD:-build}
cmake -S . -B "$BUILD" -G Ninja >&2
cmake --build "$BUILD" -j"${JOBS:-2}" --target strobe >&2
exec "$BUILD/strobe" run -nographic "$@"
