#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Two Strobe builds (or one build under two option sets) side by side on run.py's Linux workloads.

usage: bench/linux/ab.py [--rounds N] [--only W,W...] [--scale F] [--a-args ARGS] [--b-args ARGS]
                         [--timeout S] [--alone] BUILD_A BUILD_B
A and B run at the same time, each pinned to its own CPU (taskset; its LLVM threads share that CPU with
its vCPU, a VMM on one core), and swap CPUs every round. Rounds one after another on this shared machine
moved by up to 30% (bench/README.md, "Chained jumps"); two VMMs running together see the same spell of it,
so their ratio is steadier than either time. Both boot Debian's kernel and the initramfs, type run.py's
set-up, then the same workloads in the same order. Prints per workload the medians of A and B (wall / CPU
seconds) and B's ratios to A; every check line must be the same in A and B, or the run fails. Needs 2 CPUs.
With --alone, A and B run one after the other, unpinned, as a user runs one VMM (its second-tier thread then
has the other CPU, which pinned it gets only when the vCPU idles); the order swaps every round.
"""
import argparse
import os
import statistics
import sys
import threading
import time

from linux_guest import Guest, cpu_seconds, vmm_args
from run import SETUP, SETUP_N, choose


def one_vmm(cmd, cpu, timeout, commands, out):
    """Boots cmd pinned to cpu (None: unpinned), runs commands; out gets [(name, wall, cpu, check)] or an
    error string."""
    g = None
    try:
        g = Guest((["taskset", "-c", str(cpu)] if cpu is not None else []) + cmd, timeout)
        rows = [("boot", g.boot, cpu_seconds(g.p.pid), "")]
        for name, command in commands:
            wall, cpu_s, check = g.run(command)
            rows.append((name, wall, cpu_s, check))
        g.poweroff()
        out.append(rows)
    except (RuntimeError, OSError) as e:
        out.append(str(e))
        if g:
            g.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated workload names (run.py --list)")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--a-args", default="", help="extra strobe options for A")
    ap.add_argument("--b-args", default="", help="extra strobe options for B")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per boot and its workloads")
    ap.add_argument("--alone", action="store_true", help="run A and B one after the other, unpinned")
    ap.add_argument("build_a")
    ap.add_argument("build_b")
    args = ap.parse_args()
    chosen = choose(args.only, "ab.py")
    if args.rounds < 1 or args.scale <= 0:
        sys.exit("ab.py: --rounds must be at least 1 and --scale positive")
    if (os.cpu_count() or 1) < 2:
        sys.exit("ab.py: needs 2 CPUs (one for each build)")
    size = lambda n: max(1, int(round(n * args.scale)))
    commands = [("setup", SETUP.format(n=size(SETUP_N)))] + [(w[0], w[2].format(n=size(w[3]))) for w in chosen]
    cmds = {}
    for label, build, extra in (("A", args.build_a, args.a_args), ("B", args.build_b, args.b_args)):
        strobe, common = vmm_args("ab.py", build)
        cmds[label] = [strobe, "run"] + common + ["--code-cache", "off"] + extra.split()
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    print("host: %d CPUs, load average %s; %s; %d round(s), scale %g%s" %
          (os.cpu_count(), load, time.strftime("%Y-%m-%d %H:%M"), args.rounds, args.scale,
           "; one VMM at a time, unpinned" if args.alone else ""))
    print("A: %s\nB: %s" % (" ".join(cmds["A"]), " ".join(cmds["B"])))

    rows = {"A": [], "B": []}  # per label: every round's rows
    for rnd in range(args.rounds):
        out = {"A": [], "B": []}
        if args.alone:
            for label in (("A", "B") if rnd % 2 == 0 else ("B", "A")):
                one_vmm(cmds[label], None, args.timeout, commands, out[label])
        else:
            threads = [threading.Thread(target=one_vmm, args=(cmds[l], (rnd + i) % 2, args.timeout, commands,
                                                              out[l])) for i, l in enumerate(("A", "B"))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        for label in ("A", "B"):
            if isinstance(out[label][0], str):
                sys.exit("ab.py: %s, round %d: %s" % (label, rnd + 1, out[label][0]))
            rows[label].append(out[label][0])
        for (name, _, _, ca), (_, _, _, cb) in zip(*(out[l][0] for l in ("A", "B"))):
            if ca != cb:
                sys.exit("ab.py: %s printed %r under A and %r under B" % (name, ca, cb))

    print("%-10s %16s %16s  %s" % ("workload", "A wall/CPU", "B wall/CPU", "B/A wall, CPU"))
    for i, name in enumerate(["boot"] + [c[0] for c in commands]):
        if name == "setup":
            continue
        med = {}
        for label in ("A", "B"):
            med[label] = (statistics.median(r[i][1] for r in rows[label]),
                          statistics.median(r[i][2] for r in rows[label]))
        a, b = med["A"], med["B"]
        print("%-10s %16s %16s  %.2f, %.2f" % (name, "%.2f / %.2f" % a, "%.2f / %.2f" % b,
                                               b[0] / a[0] if a[0] else 0, b[1] / a[1] if a[1] else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
