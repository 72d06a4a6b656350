#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every command example of README.md (the lines of its indented code blocks) in the order written, from
# the top of this tree, and fails if one fails. tools/test.sh (CI) runs it before building the rest.
#
# usage: tools/readme-examples.sh [--list] [--skip COMMAND]... [--failures FILE] [README]
#   --list          print the examples and exit
#   --failures FILE also write each failed example and the last lines of its output to FILE (tools/test.sh
#                   prints it again after the test suite, at the end of a CI log, where its tail shows it)
#   --skip COMMAND  do not run this example (exact line; tools/test.sh skips the test-suite commands it runs
#                   itself)
# Bounded time and input:
#   - every example gets STROBE_README_TIMEOUT seconds (default 1800) and ends with status 0 to pass;
#   - stdin stays open (Strobe keeps running at the end of its input, as QEMU does); when the output shows
#     the Linux guest's prompt "strobe:~# ", the script types `poweroff`, which ends the run with status 0;
#   - STROBE_BENCH_QUICK=1 is set: bench/compare_qemu.sh and bench/boot_time.py then default to one short run.
# Each example's output goes to a log; the last lines are shown when it fails.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
readme=
list=0
skips=()
failures=
while [ $# -gt 0 ]; do
  case $1 in
    --list) list=1; shift ;;
    --skip) [ $# -ge 2 ] || { echo "readme-examples: --skip needs a command" >&2; exit 2; }; skips+=("$2"); shift 2 ;;
    --failures) [ $# -ge 2 ] || { echo "readme-examples: --failures needs a file" >&2; exit 2; }; failures=$2; shift 2 ;;
    -h | --help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "readme-examples: unknown option $1" >&2; exit 2 ;;
    *) readme=$1; shift ;;
  esac
done
readme=${readme:-$top/README.md}
[ -f "$readme" ] || { echo "readme-examples: $readme: no such file" >&2; exit 2; }

# Markdown indented code blocks: lines indented by 4 spaces (or a tab) after a blank line, outside fenced
# blocks; a trailing backslash continues a command on the next line.
mapfile -t examples < <(awk '
  /^```/ { fenced = !fenced; prev_blank = 0; next }
  fenced { next }
  /^[ \t]*$/ { if (!inblock) prev_blank = 1; next }
  /^(    |\t)/ && (inblock || prev_blank) {
    inblock = 1
    line = $0; sub(/^(    |\t)/, "", line)
    cmd = cmd line
    if (cmd ~ /\\$/) { sub(/\\$/, "", cmd); next }
    print cmd; cmd = ""; next
  }
  { inblock = 0; prev_blank = 0 }
' "$readme")
[ ${#examples[@]} -gt 0 ] || { echo "readme-examples: no indented code blocks in $readme" >&2; exit 1; }
if [ "$list" = 1 ]; then
  printf '%s\n' "${examples[@]}"
  exit 0
fi

cd "$top"
export STROBE_BENCH_QUICK=1
export STROBE_IN_README_EXAMPLES=1  # tools/test.sh, run as an example, does not start this script again
limit=${STROBE_README_TIMEOUT:-1800}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# run_example N COMMAND: runs COMMAND under bash with a bounded time, watching its output for the prompt.
run_example() {
  local n=$1 cmd=$2 log=$logs/$1.log fifo=$logs/$1.in pid rc=0 sent=0
  mkfifo "$fifo"
  : >"$log"
  exec {in}<>"$fifo"  # held open here, so the example never sees the end of its input
  timeout -k 10 "$limit" bash -c "set -o pipefail; $cmd" <&"$in" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ $sent = 0 ] && grep -qF 'strobe:~# ' "$log"; then
      sleep 0.5
      echo poweroff >&"$in"
      sent=1
    fi
    sleep 0.5
  done
  wait "$pid" || rc=$?
  exec {in}>&-
  if [ $rc -ne 0 ]; then
    {
      echo "--- last lines of its output (exit status $rc):"
      tail -n 40 "$log" | tr -d '\r' | cut -c1-200
      [ $rc -eq 124 ] && echo "--- timed out after $limit s"
    } >"$logs/$n.tail"
    cat "$logs/$n.tail"
  fi
  return $rc
}

failed=0
n=0
for ex in "${examples[@]}"; do
  n=$((n + 1))
  for s in "${skips[@]+"${skips[@]}"}"; do
    if [ "$ex" = "$s" ]; then
      echo "readme-examples: [$n] skipped: $ex"
      continue 2
    fi
  done
  t0=$EPOCHREALTIME
  if run_example "$n" "$ex"; then
    echo "readme-examples: [$n] ok ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s): $ex"
  else
    echo "readme-examples: [$n] FAILED: $ex"
    [ -n "$failures" ] && { echo "readme-examples: [$n] FAILED: $ex"; cat "$logs/$n.tail"; } >>"$failures"
    failed=$((failed + 1))
  fi
done
for s in "${skips[@]+"${skips[@]}"}"; do
  printf '%s\n' "${examples[@]}" | grep -qxF -- "$s" || echo "readme-examples: note: --skip '$s' matched no example"
done
echo "readme-examples: ${#examples[@]} examples, $failed failed"
[ $failed -eq 0 ]
