#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sets up, builds and runs the whole test suite (the README's test command; .ci/run calls it), and runs the
# README's command examples (tools/readme-examples.sh) first: from a fresh clone that checks they work in
# the order written, before anything else has been built. They use build/, so they run only when BUILD is
# build; the two examples that run the test suite are skipped, because this script runs it next.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-deps.sh
BUILD=${BUILD:-build}
examples=0
failures=$(mktemp)
trap 'rm -f "$failures"' EXIT
if [ -n "${STROBE_IN_README_EXAMPLES:-}" ]; then
  echo "test.sh: run as a README example: not running the examples again"
elif [ "$BUILD" != build ]; then
  echo "test.sh: BUILD=$BUILD: the README examples use build/, not run"
else
  bash tools/readme-examples.sh --skip "bash tools/test.sh" --skip "(cd build && ctest -j2 --output-on-failure)" \
    --failures "$failures" ||
    examples=1
fi
cmake -S . -B "$BUILD" -G Ninja ${STROBE_CMAKE_ARGS:-}
cmake --build "$BUILD" -j"${JOBS:-2}"
# Debian's kernel and busybox for the Linux boot tests (cached in .cache/linux).
bash guests/linux/fetch.sh
tests=0
(cd "$BUILD" && ctest --output-on-failure -j"${JOBS:-2}" --timeout 600) || tests=1
# The failed examples again, at the end of the log (CI shows its tail).
if [ $examples -ne 0 ]; then
  cat "$failures" >&2
  echo "test.sh: README examples failed (above, and with their whole output before the test suite's)" >&2
fi
[ $tests -eq 0 ] || echo "test.sh: the test suite failed (ctest's summary above)" >&2
[ $examples -eq 0 ] && [ $tests -eq 0 ]
