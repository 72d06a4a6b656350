#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Linux userland benchmarks: workloads inside Debian's Malta kernel and busybox, under Strobe and QEMU.

usage: bench/linux/run.py [--runs N] [--engines tiered[,jit,interp]] [--only W,W...] [--scale F]
                          [--variant 'LABEL:ARGS']... [--no-qemu] [--out DIR] [--list] [BUILD_DIR]
Each round boots every runner once (Strobe under each engine, then qemu-system-mipsel -cpu 24Kf), types the
set-up commands, then each workload, and powers off; the runners take turns round after round, so a slow
spell of this shared machine hits all of them. A workload's wall time runs from typing its command to the
end marker it prints; its CPU time is the VMM process's user + system time over that span (all threads:
the LLVM compiler threads count, as they do for a host running several VMs per core). Every workload prints
a check line (a checksum or a count) that must be the same under every runner, or the run fails.
--scale F multiplies the workloads' sizes (STROBE_BENCH_QUICK=1, set by tools/readme-examples.sh, makes the
default one round at scale 0.1). Output: a table of medians with ratios to QEMU, DIR/linux.csv (every run)
and DIR/linux.png (Debian's python3-matplotlib); DIR defaults to bench/results/.
"""
import argparse
import csv
import os
import shutil
import statistics
import sys
import time

from linux_guest import DEFAULT_BUILD, TOP, Guest, cpu_seconds, vmm_args

# (name, what it exercises, command with {n} for its size, default n). Each command's output ends in one
# check line. The commands run in busybox sh; /tmp is a tmpfs mounted by the set-up below.
WORKLOADS = [
    ("fp_awk", "FP: seq | awk sum (issue 10's script)",
     "seq 1 {n} | awk '{{s+=$1*0.5}} END {{printf \"%.1f\\n\", s}}'", 300000),
    ("seq", "FP formatting, one write per line", "seq 1 {n} | tail -n 1", 60000),
    ("sha256", "integer: sha256sum over a file", "for i in $(seq 1 {n}); do sha256sum /tmp/nums; done | sort -u", 4),
    ("md5", "integer: md5sum over a file", "for i in $(seq 1 {n}); do md5sum /tmp/nums; done | sort -u", 6),
    ("gzip", "gzip -6 and gunzip", "gzip -6 -c /tmp/nums > /tmp/nums.gz && gunzip -c /tmp/nums.gz | md5sum", 1),
    ("sort", "sort -r of text lines", "head -n {n} /tmp/nums | sort -r | md5sum", 100000),
    ("sed_grep", "sed and grep over text", "sed 's/1/x/g' /tmp/nums | grep -c x", 1),
    ("forkexec", "fork + exec of /bin/true",
     "i=0; while [ $i -lt {n} ]; do /bin/true; i=$((i+1)); done; echo $i", 1000),
    ("pipes", "shell pipelines", "for i in $(seq 1 {n}); do echo $i | sed s/1/one/ | tr a-z A-Z; done | md5sum",
     200),
    ("tmpfs_io", "dd and cat on tmpfs",
     "dd if=/dev/zero of=/tmp/big bs=64k count={n} 2>/dev/null && cat /tmp/big /tmp/big | wc -c && rm /tmp/big",
     256),
]


def choose(only, script):
    """The WORKLOADS named in the comma-separated `only` (all when empty); exits naming unknown ones."""
    unknown = set(only.split(",")) - {w[0] for w in WORKLOADS} - {""}
    if unknown:
        sys.exit("%s: unknown workload(s) %s (run.py --list shows them)" % (script, ", ".join(sorted(unknown))))
    return [w for w in WORKLOADS if not only or w[0] in only.split(",")]


SETUP = "mkdir -p /tmp && mount -t tmpfs tmpfs /tmp && seq 1 {n} > /tmp/nums && wc -c < /tmp/nums"
SETUP_N = 400000


def main():
    quick = bool(os.environ.get("STROBE_BENCH_QUICK"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1 if quick else 3)
    ap.add_argument("--engines", default="tiered")
    ap.add_argument("--only", default="", help="comma-separated workload names")
    ap.add_argument("--scale", type=float, default=0.1 if quick else 1.0)
    ap.add_argument("--variant", action="append", default=[], help="LABEL:EXTRA STROBE OPTIONS")
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per boot and its workloads")
    ap.add_argument("--out", default="")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("build", nargs="?", default=DEFAULT_BUILD)
    args = ap.parse_args()
    if args.list:
        for name, what, cmd, n in WORKLOADS:
            print("%-10s %s: %s" % (name, what, cmd.format(n=n)))
        return 0
    chosen = choose(args.only, "run.py")
    if args.runs < 1 or args.scale <= 0:
        sys.exit("run.py: --runs must be at least 1 and --scale positive")
    strobe, common = vmm_args("run.py", args.build)
    # Cold (--code-cache off): every run compiles what it runs; a variant may add a warm cache.
    runners = [("strobe " + e, [strobe, "run"] + common + ["--engine", e, "--code-cache", "off"])
               for e in args.engines.split(",")]
    for v in args.variant:
        label, _, extra = v.partition(":")
        runners.append(("strobe " + label, [strobe, "run"] + common + extra.split()))
    qemu = None if args.no_qemu else shutil.which("qemu-system-mipsel")
    if qemu:
        runners.append(("qemu", [qemu] + common + ["-net", "none", "-vga", "none"]))
    size = lambda n: max(1, int(round(n * args.scale)))
    results_dir = os.path.abspath(args.out or os.path.join(TOP, "bench", "results"))
    os.makedirs(results_dir, exist_ok=True)
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    print("host: %d CPUs, load average %s; %s; %d round(s), scale %g" %
          (os.cpu_count(), load, time.strftime("%Y-%m-%d %H:%M"), args.runs, args.scale))

    rows = []  # (round, runner, workload, wall, cpu, check)
    checks = {}
    failed = False
    for rnd in range(args.runs):
        for label, cmd in runners:
            g = None
            try:
                g = Guest(cmd, args.timeout)
                rows.append((rnd, label, "boot", g.boot, cpu_seconds(g.p.pid), ""))
                g.run(SETUP.format(n=size(SETUP_N)))
                for name, _, command, n in chosen:
                    wall, cpu, check = g.run(command.format(n=size(n)))
                    rows.append((rnd, label, name, wall, cpu, check))
                    if checks.setdefault(name, (check, label))[0] != check:
                        print("%s: %s printed %r, %s printed %r" %
                              (name, label, check, checks[name][1], checks[name][0]))
                        failed = True
                g.poweroff()
            except (RuntimeError, OSError) as e:
                print("%s, round %d: %s" % (label, rnd + 1, e))
                failed = True
                if g:
                    g.kill()

    with open(os.path.join(results_dir, "linux.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["round", "runner", "workload", "wall_s", "cpu_s", "check"])
        w.writerows(rows)
    names = ["boot"] + [w[0] for w in chosen]
    med = {}
    for label, _ in runners:
        for name in names:
            walls = [r[3] for r in rows if r[1] == label and r[2] == name]
            cpus = [r[4] for r in rows if r[1] == label and r[2] == name]
            if walls:
                med[label, name] = (statistics.median(walls), statistics.median(cpus))
    head = "%-10s" % "workload"
    for label, _ in runners:
        head += " %16s" % (label + " wall/CPU")
    if qemu:
        head += "  " + "  ".join("%s/qemu wall,CPU" % l for l, _ in runners if l != "qemu")
    print(head)
    for name in names:
        line = "%-10s" % name
        for label, _ in runners:
            m = med.get((label, name))
            line += " %16s" % ("%.2f / %.2f" % m if m else "-")
        q = med.get(("qemu", name))
        if q:
            for label, _ in runners:
                m = med.get((label, name))
                if label != "qemu":
                    line += "  %6s, %-6s" % (("%.2f" % (m[0] / q[0]), "%.2f" % (m[1] / q[1])) if m and q[1] > 0
                                             else ("-", "-"))
        print(line)
    if qemu:
        for label, _ in runners:
            if label == "qemu":
                continue
            pairs = [(med[label, n], med["qemu", n]) for n in names[1:] if (label, n) in med and ("qemu", n) in med]
            if pairs:
                gw = statistics.geometric_mean([a[0] / b[0] for a, b in pairs])
                gc = statistics.geometric_mean([a[1] / max(b[1], 0.01) for a, b in pairs])
                print("%s / qemu over %d workloads (geometric mean): wall %.2f, CPU %.2f" % (label, len(pairs), gw, gc))
    chart(results_dir, runners, names, med)
    print("results: %s" % os.path.join(results_dir, "linux.csv"))
    return 1 if failed else 0


def chart(results_dir, runners, names, med):
    """linux.png: wall and CPU time per workload and runner (medians); skipped without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("chart: skipped (python3 with matplotlib not available)")
        return
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    width = 0.8 / max(1, len(runners))
    for k, (title, idx) in enumerate((("wall seconds (median)", 0), ("CPU seconds (median)", 1))):
        ax = axes[k]
        for j, (label, _) in enumerate(runners):
            ys = [med.get((label, n), (0, 0))[idx] for n in names]
            ax.bar([i + j * width for i in range(len(names))], ys, width, label=label)
        ax.set_xticks([i + width * (len(runners) - 1) / 2 for i in range(len(names))])
        ax.set_xticklabels(names, rotation=45, ha="right")
        ax.set_title(title)
        ax.set_yscale("log")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(results_dir, "linux.png"))


if __name__ == "__main__":
    sys.exit(main())
