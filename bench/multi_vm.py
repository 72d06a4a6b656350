#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Several VMs booting the same Debian kernel and initramfs to user space and powering off: one Strobe
process with --vms N against N qemu-system-mipsel processes started side by side, in one interleaved run.

usage: bench/multi_vm.py [--counts 1,2,4,8] [--rounds N] [--no-qemu] [--results DIR] [BUILD_DIR]
For each N it reports wall time (until every VM has ended), CPU time (user + system of every process) and
peak memory (the largest sum of the processes' resident sets, sampled every 20 ms), and the issue's ratios:
Strobe's N VMs against its 1 VM (memory and CPU) and against N QEMUs (wall). The guests boot with
strobe.poweroff on the kernel command line (the initramfs powers off once user space is up).
Writes DIR/multi_vm.txt and DIR/multi_vm.png (python3-matplotlib); DIR defaults to bench/results/.
STROBE_BENCH_QUICK=1 runs one round of counts 1,2 only.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "linux"))
import linux_guest  # noqa: E402


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_side_by_side(cmds, timeout, logdir):
    """Starts every command at once; returns (wall s, CPU s, peak summed RSS in MiB, exit codes)."""
    t0 = time.monotonic()
    procs = []
    for i, cmd in enumerate(cmds):
        out = open(os.path.join(logdir, "proc%d.log" % i), "wb")
        procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT))
    peak = 0
    cpu = 0.0
    codes = [None] * len(procs)
    while any(c is None for c in codes):
        if time.monotonic() - t0 > timeout:
            for p in procs:
                p.kill()
        peak = max(peak, sum(rss_kb(p.pid) for i, p in enumerate(procs) if codes[i] is None))
        for i, p in enumerate(procs):
            if codes[i] is not None:
                continue
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                codes[i] = os.waitstatus_to_exitcode(status)
                cpu += usage.ru_utime + usage.ru_stime
        time.sleep(0.02)
    return time.monotonic() - t0, cpu, peak / 1024.0, codes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick = bool(os.environ.get("STROBE_BENCH_QUICK"))
    ap.add_argument("--counts", default="1,2" if quick else "1,2,4,8")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--results", default=os.path.join(linux_guest.TOP, "bench", "results"))
    ap.add_argument("build", nargs="?", default=linux_guest.DEFAULT_BUILD)
    args = ap.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    strobe, common = linux_guest.vmm_args("multi_vm.py", args.build)
    common = [a if a != "console=ttyS0" else "console=ttyS0 strobe.poweroff" for a in common]
    qemu = shutil.which("qemu-system-mipsel")
    if not args.no_qemu and not qemu:
        sys.exit("multi_vm.py: qemu-system-mipsel not found (tools/setup-deps.sh installs it), or --no-qemu")
    os.makedirs(args.results, exist_ok=True)
    load_before = open("/proc/loadavg").read().split()[0]
    runs = {}  # (runner, n) -> list of (wall, cpu, rss)
    timeout = 900
    for rnd in range(args.rounds):
        for n in counts:
            # Cold: no code cache, so that each count compiles afresh and only the VMs share code.
            runners = [("strobe", [[strobe, "run"] + common +
                                   ["--code-cache", "off", "--vms", str(n), "--console-dir", None]])]
            if not args.no_qemu:
                runners.append(("qemu", [[qemu] + common for _ in range(n)]))
            for name, cmds in runners:
                with tempfile.TemporaryDirectory() as logdir:
                    cmds = [[logdir if a is None else a for a in c] for c in cmds]
                    wall, cpu, rss, codes = run_side_by_side(cmds, timeout, logdir)
                    if any(c != 0 for c in codes):
                        sys.exit("multi_vm.py: %s with %d VMs failed (exit %s); logs were in %s" %
                                 (name, n, codes, logdir))
                runs.setdefault((name, n), []).append((wall, cpu, rss))
                print("round %d: %-6s %d VMs: wall %.1f s, CPU %.1f s, peak RSS %.0f MiB" %
                      (rnd + 1, name, n, wall, cpu, rss), flush=True)

    def med(name, n, k):
        vals = sorted(r[k] for r in runs.get((name, n), []))
        return vals[len(vals) // 2] if vals else float("nan")

    lines = ["machine: %s; load average before the run: %s; %s" % (
        os.uname().nodename, load_before, time.strftime("%Y-%m-%d %H:%M"))]
    lines.append("%4s | %-30s | %-30s | %s" % ("VMs", "Strobe wall / CPU / RSS", "QEMU wall / CPU / RSS",
                                                "Strobe/QEMU wall, CPU, RSS | Strobe N/1 CPU, RSS"))
    for n in counts:
        s = [med("strobe", n, k) for k in range(3)]
        q = [med("qemu", n, k) for k in range(3)]
        one = [med("strobe", 1, k) for k in range(3)]
        lines.append("%4d | %6.1f s %7.1f s %6.0f MiB | %6.1f s %7.1f s %6.0f MiB | %.2f %.2f %.2f | %.2f %.2f" % (
            n, s[0], s[1], s[2], q[0], q[1], q[2], s[0] / q[0], s[1] / q[1], s[2] / q[2], s[1] / one[1],
            s[2] / one[2]))
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(args.results, "multi_vm.txt"), "w") as f:
        f.write(text + "\n")
    chart(args.results, counts, med)
    return 0


def chart(results_dir, counts, med):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("chart: skipped (python3 with matplotlib not available)")
        return
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for k, title in enumerate(("wall seconds", "CPU seconds", "peak RSS (MiB)")):
        for name in ("strobe", "qemu"):
            ys = [med(name, n, k) for n in counts]
            axes[k].plot(counts, ys, marker="o", label=name)
        axes[k].set_title(title)
        axes[k].set_xlabel("VMs")
        axes[k].set_xticks(counts)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(results_dir, "multi_vm.png"))


if __name__ == "__main__":
    sys.exit(main())
