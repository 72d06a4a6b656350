#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fails if a C or C++ source file in git differs from what clang-format (Debian's, with the repository's
# .clang-format) would make of it, and lists the files and the command that fixes them. CI runs it
# (.ci/run). The hand-aligned encoding table translator/mips/mips32.inc is not checked.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format is not installed (tools/setup-deps.sh)" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.c' '*.cc' '*.cpp' '*.h' '*.hpp')
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "check-format: ${#bad[@]} file(s) not formatted ($(clang-format --version | sed 's/.*version \([0-9.]*\).*/clang-format \1/')):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "fix with: clang-format -i ${bad[*]}" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
