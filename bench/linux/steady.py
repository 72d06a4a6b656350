#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The translated code itself: run.py's workloads repeated in one boot under Strobe and QEMU, side by side.

usage: bench/linux/steady.py [--reps N] [--only W,W...] [--scale F] [--a-args ARGS] [BUILD_DIR]
run.py times each workload once in a fresh boot, so Strobe's figures there include compiling what the
workload runs. Here Strobe (tiered, --code-cache off) and qemu-system-mipsel -cpu 24Kf boot once each and
stay up; every workload runs N times in both, taking turns (Strobe, then QEMU, then Strobe again...), so a
slow spell of this shared machine hits both. The first repetition is the cold one; the median of the last
half is the steady state, where the code is compiled and what is left is how fast it runs and how much of
it still goes through the interpreter. Prints per workload both VMMs' wall / CPU seconds (first and steady)
and Strobe's ratios to QEMU; every repetition's check line must be the same in both, or the run fails.
STROBE_BENCH_QUICK=1 (tools/readme-examples.sh) makes it 2 repetitions at scale 0.1.
"""
import argparse
import os
import shutil
import statistics
import sys
import time

from linux_guest import DEFAULT_BUILD, Guest, vmm_args
from run import SETUP, SETUP_N, choose


def main():
    quick = bool(os.environ.get("STROBE_BENCH_QUICK"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2 if quick else 6)
    ap.add_argument("--only", default="", help="comma-separated workload names (run.py --list)")
    ap.add_argument("--scale", type=float, default=0.1 if quick else 1.0)
    ap.add_argument("--a-args", default="", help="extra strobe options")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds for each VMM's boot and its workloads")
    ap.add_argument("build", nargs="?", default=DEFAULT_BUILD)
    args = ap.parse_args()
    chosen = choose(args.only, "steady.py")
    if args.reps < 2 or args.scale <= 0:
        sys.exit("steady.py: --reps must be at least 2 and --scale positive")
    qemu = shutil.which("qemu-system-mipsel")
    if not qemu:
        sys.exit("steady.py: qemu-system-mipsel not found (tools/setup-deps.sh installs it)")
    strobe, common = vmm_args("steady.py", args.build)
    size = lambda n: max(1, int(round(n * args.scale)))
    cmds = {
        "strobe": [strobe, "run"] + common + ["--code-cache", "off"] + args.a_args.split(),
        "qemu": [qemu] + common + ["-net", "none", "-vga", "none"],
    }
    print("host: %d CPUs, load average %s; %s; %d repetitions, scale %g" %
          (os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3]),
           time.strftime("%Y-%m-%d %H:%M"), args.reps, args.scale))
    for name, cmd in cmds.items():
        print("%s: %s" % (name, " ".join(cmd)))
    guests = {}
    try:
        for name, cmd in cmds.items():
            guests[name] = Guest(cmd, args.timeout)
        for name, g in guests.items():
            g.run(SETUP.format(n=size(SETUP_N)))
        print("%-9s %-6s %15s %15s %15s" % ("workload", "VMM", "first wall/CPU", "steady wall/CPU", "runs (wall)"))
        summary = []
        for wname, _, command, n in chosen:
            command = command.format(n=size(n))
            times = {name: [] for name in guests}
            checks = set()
            for _ in range(args.reps):
                for name, g in guests.items():
                    wall, cpu, check = g.run(command)
                    times[name].append((wall, cpu))
                    checks.add(check)
            if len(checks) != 1:
                raise RuntimeError("%s printed different check lines: %s" % (wname, sorted(checks)))
            steady = {}
            for name, runs in times.items():
                last = runs[len(runs) // 2:]
                steady[name] = (statistics.median(w for w, _ in last), statistics.median(c for _, c in last))
                print("%-9s %-6s %6.2f / %6.2f  %6.2f / %6.2f  %s" %
                      (wname, name, runs[0][0], runs[0][1], steady[name][0], steady[name][1],
                       " ".join("%.2f" % w for w, _ in runs)))
            first = [times[v][0] for v in ("strobe", "qemu")]
            ratio = lambda a, b: a / b if b > 0 else float("nan")
            summary.append((wname, ratio(first[0][0], first[1][0]), ratio(first[0][1], first[1][1]),
                            ratio(steady["strobe"][0], steady["qemu"][0]),
                            ratio(steady["strobe"][1], steady["qemu"][1])))
        for g in guests.values():
            g.poweroff()
    except (RuntimeError, OSError) as e:
        for g in guests.values():
            g.kill()
        sys.exit("steady.py: %s" % e)
    print("\nStrobe / QEMU   first wall, CPU   steady wall, CPU")
    for wname, fw, fc, sw, sc in summary:
        print("%-14s %7.2f, %5.2f     %7.2f, %5.2f" % (wname, fw, fc, sw, sc))
    # Over the ratios that can be formed: a CPU time under the clock tick (10 ms) reads as 0 at small scales.
    geo = lambda xs: statistics.geometric_mean([x for x in xs if 0 < x < float("inf")] or [float("nan")])
    if summary:
        print("%-14s %7.2f, %5.2f     %7.2f, %5.2f" %
              ("geometric mean", geo([s[1] for s in summary]), geo([s[2] for s in summary]),
               geo([s[3] for s in summary]), geo([s[4] for s in summary])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
