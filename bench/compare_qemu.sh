#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Wall-clock comparison of the guest programs under Strobe, under QEMU (when qemu-system-mipsel is installed)
# and as native host builds (build/guests/native/<name>, where a twin exists). Every figure is the best of
# RUNS runs of the whole process (start-up included); the ratios compare figures from this one run.
#
# usage: bench/compare_qemu.sh [--runs N] [--scale N] [--timeout SECONDS] [--out DIR] [BUILD_DIR [GUEST...]]
#   --scale N  each workload runs N times in one process (command line "scale=N"; default 10), so that
#              start-up (about 0.03 s for QEMU, 0.01 s for Strobe) stays small against the work
#   --out DIR  where the results go (default: bench/results/ in this tree, ignored by git)
#   BUILD_DIR  CMake build directory with strobe and guests/ (default: build beside this script's parent)
#   GUEST      guest names (default: alu_loop memrand calls compress codegen tlbmiss checksum sort hash fpmath)
# Strobe and QEMU both run the 24Kf (-cpu 24Kf, each one's Malta default, passed explicitly): the CPU with an
# FPU, which the hard-float guest fpmath needs.
# Output: a table on stdout, DIR/compare.csv, and compare.png beside it (Debian's python3-matplotlib, which
# tools/setup-deps.sh installs). Exit status 1 when a guest did not print "<name>: done" under some runner.
# STROBE_BENCH_QUICK=1 (tools/readme-examples.sh sets it) makes the defaults one run at scale 1.
set -euo pipefail
export LC_ALL=C  # '.' as the decimal separator in EPOCHREALTIME and awk

runs=3
scale=10
limit=300
out=
if [ -n "${STROBE_BENCH_QUICK:-}" ]; then runs=1 scale=1; fi
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --timeout) limit=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --*) echo "compare_qemu.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
src_root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src_root/build}
[ $# -gt 0 ] && shift
guests=("$@")
[ ${#guests[@]} -gt 0 ] || guests=(alu_loop memrand calls compress codegen tlbmiss checksum sort hash fpmath)

strobe=$build/strobe
gdir=$build/guests
if [ ! -x "$strobe" ]; then
  echo "compare_qemu.sh: $strobe not found: build first (ninja -C $build strobe guests)" >&2
  exit 2
fi
qemu=$(command -v qemu-system-mipsel || true)
results=${out:-$src_root/bench/results}
mkdir -p "$results" || { echo "compare_qemu.sh: cannot create $results" >&2; exit 2; }
results=$(cd "$results" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# children_cpu VAR: VAR = user + system CPU seconds of this shell's waited-for children so far (bash's
# `times`, run in this shell: in a $(...) subshell it would see only the subshell's children).
children_cpu() {
  times >"$tmp/times"
  printf -v "$1" '%s' "$(tail -n 1 "$tmp/times" |
    awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); s += p[1] * 60 + p[2] } printf "%.3f", s }')"
}

# run_once NAME OUTFILE CMD...: runs CMD once; ELAPSED = wall seconds, CPU = its CPU seconds (all threads:
# what a host running several VMs per core pays). Fails unless it prints "NAME: done".
run_once() {
  local name=$1 out=$2
  shift 2
  local t0=$EPOCHREALTIME c0 c1 rc=0
  children_cpu c0
  timeout "$limit" "$@" </dev/null >"$out" 2>"$out.err" || rc=$?
  local t1=$EPOCHREALTIME
  children_cpu c1
  ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  CPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')
  [ "$rc" -eq 0 ] && tr -d '\r' <"$out" | grep -x "$name: done" >/dev/null
}

# best_of NAME OUTFILE CMD...: BEST = the smallest wall time of $runs runs and BEST_CPU that run's CPU time,
# or empty when a run failed.
best_of() {
  local name=$1 out=$2
  shift 2
  BEST= BEST_CPU=
  for ((i = 0; i < runs; i++)); do
    if ! run_once "$name" "$out" "$@"; then
      echo "  $name: FAILED (non-zero exit, timeout, or no \"$name: done\" line): $*" >&2
      tail -n 3 "$out" "$out.err" >&2 || true
      BEST= BEST_CPU=
      return 1
    fi
    if [ -z "$BEST" ] || awk -v a="$ELAPSED" -v b="$BEST" 'BEGIN { exit !(a < b) }'; then
      BEST=$ELAPSED BEST_CPU=$CPU
    fi
  done
}

ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }' || true; }

echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); best of $runs runs, wall seconds, scale=$scale (tlbmiss runs once)"
[ -n "$qemu" ] && echo "qemu: $("$qemu" --version | head -n 1)" || echo "qemu: qemu-system-mipsel not installed: QEMU columns stay empty"

csv=$results/compare.csv
echo "guest,guest_insns,native_s,strobe_s,qemu_s,strobe_over_qemu,strobe_over_native,strobe_wall_mips,interp_s,interp_over_strobe,strobe_cpu_s,qemu_cpu_s,strobe_cpu_over_qemu" >"$csv"
status=0
rows=()
for g in "${guests[@]}"; do
  elf=$gdir/$g.elf
  if [ ! -f "$elf" ]; then
    echo "  $g: $elf not found (build the 'guests' target)" >&2
    status=1
    continue
  fi
  native_s= strobe_s= qemu_s= insns= interp_s= strobe_cpu= qemu_cpu=

  # strobe_s: the default engine (tiered); interp_s: the interpreter alone, for the tier speed-up.
  if best_of "$g" "$tmp/$g.interp" "$strobe" run -cpu 24Kf -kernel "$elf" -append "scale=$scale" -nographic -no-reboot --engine interp; then
    interp_s=$BEST
  else
    status=1
  fi
  if best_of "$g" "$tmp/$g.strobe" "$strobe" run -cpu 24Kf -kernel "$elf" -append "scale=$scale" -nographic -no-reboot --stats; then
    strobe_s=$BEST strobe_cpu=$BEST_CPU
    insns=$(sed -n 's/.* \([0-9][0-9]*\) instructions .*/\1/p' "$tmp/$g.strobe.err" | tail -n 1)
  else
    status=1
  fi
  if [ -n "$qemu" ]; then
    if best_of "$g" "$tmp/$g.qemu" "$qemu" -M malta -cpu 24Kf -m 256 -nographic -no-reboot -net none -vga none -kernel "$elf" -append "scale=$scale"; then
      qemu_s=$BEST qemu_cpu=$BEST_CPU
    else
      status=1
    fi
  fi
  if [ -x "$gdir/native/$g" ]; then
    if best_of "$g" "$tmp/$g.native" "$gdir/native/$g" "scale=$scale"; then native_s=$BEST; else status=1; fi
  fi

  sq=$(ratio "$strobe_s" "$qemu_s")
  sn=$(ratio "$strobe_s" "$native_s")
  mips=
  [ -n "$insns" ] && [ -n "$strobe_s" ] && mips=$(awk -v n="$insns" -v t="$strobe_s" 'BEGIN { printf "%.0f", n / t / 1e6 }')
  si=$(ratio "$interp_s" "$strobe_s")
  cq=$(ratio "$strobe_cpu" "$qemu_cpu")
  echo "$g,$insns,$native_s,$strobe_s,$qemu_s,$sq,$sn,$mips,$interp_s,$si,$strobe_cpu,$qemu_cpu,$cq" >>"$csv"
  rows+=("$g,$insns,$native_s,$strobe_s,$qemu_s,$sq,$sn,$mips,$interp_s,$si,$strobe_cpu,$qemu_cpu,$cq")
done

echo
printf '%-10s %12s %9s %9s %9s %9s %12s %10s %8s %9s %12s %12s\n' guest guest_insns native_s interp_s strobe_s qemu_s \
  strobe/qemu strobe_cpu qemu_cpu cpu_ratio strobe/native interp/strobe
for r in "${rows[@]}"; do
  IFS=, read -r g n ns ss qs sq sn mips is si sc qc cq <<<"$r"
  printf '%-10s %12s %9s %9s %9s %9s %12s %10s %8s %9s %12s %12s\n' "$g" "${n:--}" "${ns:--}" "${is:--}" "${ss:--}" \
    "${qs:--}" "${sq:--}" "${sc:--}" "${qc:--}" "${cq:--}" "${sn:--}" "${si:--}"
done
echo
echo "strobe = the default tiered engine; interp/strobe = its speed-up over the interpreter alone."
echo "strobe/qemu > 1: Strobe is slower than QEMU (wall). strobe_cpu, qemu_cpu: CPU seconds (user + system, all"
echo "threads) of the best-wall run; cpu_ratio = strobe_cpu / qemu_cpu. Times include process start-up."
echo "csv: $csv"

# Debian's python3-matplotlib lives under /usr/bin/python3 (a python3 earlier in PATH may lack it).
py=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import matplotlib' 2>/dev/null; then py=$p; break; fi
done
if [ -n "$py" ]; then
  "$py" - "$csv" "$results/compare.png" <<'EOF'
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

rows = list(csv.DictReader(open(sys.argv[1])))
names = [r["guest"] for r in rows]
series = [("native", "native_s"), ("strobe interp", "interp_s"), ("strobe tiered", "strobe_s"), ("qemu", "qemu_s")]
fig, (ax_t, ax_r) = plt.subplots(1, 2, figsize=(12, 4.5))
width = 0.8 / len(series)
for k, (label, col) in enumerate(series):
    xs = [i + (k - 1.5) * width for i, r in enumerate(rows) if r[col]]
    ys = [float(r[col]) for r in rows if r[col]]
    if ys:
        ax_t.bar(xs, ys, width, label=label)
ax_t.set_yscale("log")
ax_t.set_ylabel("wall seconds (best of runs, log)")
ax_t.set_xticks(range(len(names)), names)
ax_t.legend()
ax_t.set_title("Wall time per guest")
for k, (label, col) in enumerate([("strobe / qemu", "strobe_over_qemu"), ("strobe / native", "strobe_over_native")]):
    xs = [i + (k - 0.5) * 0.4 for i, r in enumerate(rows) if r[col]]
    ys = [float(r[col]) for r in rows if r[col]]
    if ys:
        ax_r.bar(xs, ys, 0.4, label=label)
ax_r.axhline(1.0, color="black", linewidth=0.8)
ax_r.set_yscale("log")
ax_r.set_ylabel("time ratio (log; > 1: Strobe slower)")
ax_r.set_xticks(range(len(names)), names)
ax_r.legend()
ax_r.set_title("Strobe time relative to QEMU and native")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
print("chart: " + sys.argv[2])
EOF
else
  echo "chart: skipped (python3 with matplotlib not available)"
fi
exit $status
