#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Times the Linux boot (start -> shell prompt -> poweroff -> exit) under Strobe's engines and under
qemu-system-mipsel on the same kernel and initramfs, in one run, and prints the ratios.

usage: bench/boot_time.py [--runs N] [--engines interp,tiered] [--warm-engines tiered]
                          [--variant 'LABEL:ARGS']... [--binary 'LABEL:PATH']... [--idle SECONDS] [--no-qemu]
                          [BUILD_DIR]
The engines boot cold (--code-cache off: everything compiled in the run); each warm engine boots with a code
cache that an untimed boot before the rounds filled (a folder of its own under /tmp, removed at the end):
the boot as a user sees it from the second time on.
A variant is one more Strobe runner with extra options, e.g. --variant 'reopt500:--jit-reoptimize 500'; a
binary is one more runner with another strobe executable (default engine), e.g. a build of the previous commit.
The kernel and initramfs come from guests/linux/fetch.sh (.cache/linux). The runners take turns, round after
round, so that a slow spell of this shared machine hits all of them; best and median of N runs per runner.
Each run's CPU time (user + system, all threads: what a host running several VMs per core pays) is shown
beside its wall time. --idle SECONDS leaves the guest at its prompt that long before powering it off and
reports the CPU it used meanwhile, as a share of one core (an idle guest should cost nearly nothing).
STROBE_BENCH_QUICK=1 (tools/readme-examples.sh sets it) makes the default one run.
"""
import argparse
import os
import select
import shutil
import tempfile
import subprocess
import sys
import time

PROMPT = b"strobe:~# "


def cpu_seconds(pid):
    """User + system CPU time of a running process (all its threads), from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def boot_once(cmd, timeout, idle=0.0):
    """Returns (seconds to 'Linux version', to the prompt, to process exit, CPU seconds of the whole run,
    share of a core used while idle at the prompt) or None on failure."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    buf = b""
    marks = {}
    sent = False
    while True:
        if time.monotonic() - t0 > timeout:
            p.kill()
            p.wait()
            return None
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if not r:
            if p.poll() is not None:
                break
            continue
        data = os.read(p.stdout.fileno(), 65536)
        if not data:
            break
        buf += data
        if b"Linux version" in buf and "version" not in marks:
            marks["version"] = time.monotonic() - t0
        if PROMPT in buf and not sent:
            marks["prompt"] = time.monotonic() - t0
            if idle > 0:
                c0, w0 = cpu_seconds(p.pid), time.monotonic()
                time.sleep(idle)
                marks["idle"] = (cpu_seconds(p.pid) - c0) / (time.monotonic() - w0)
            p.stdin.write(b"poweroff -f\n")
            p.stdin.flush()
            sent = True
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    rc = p.returncode
    end = time.monotonic() - t0
    if rc != 0 or "prompt" not in marks:
        sys.stderr.write("boot failed (exit %d): %s\n" % (rc, buf[-400:].decode(errors="replace")))
        return None
    return marks.get("version", 0.0), marks["prompt"], end, usage.ru_utime + usage.ru_stime, marks.get("idle")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1 if os.environ.get("STROBE_BENCH_QUICK") else 3)
    ap.add_argument("--engines", default="interp,tiered")
    ap.add_argument("--warm-engines", default="tiered", help="engines also timed with a warm code cache")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--variant", action="append", default=[], help="LABEL:EXTRA STROBE OPTIONS")
    ap.add_argument("--binary", action="append", default=[], help="LABEL:PATH OF ANOTHER STROBE")
    ap.add_argument("--idle", type=float, default=0, help="seconds to sit at the prompt before poweroff")
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("build", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    args = ap.parse_args()
    top = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    kernel = os.path.join(top, ".cache/linux/vmlinuz")
    initrd = os.path.join(top, ".cache/linux/initramfs.cpio.gz")
    if not (os.path.exists(kernel) and os.path.exists(initrd)):
        sys.exit("no kernel/initramfs: run guests/linux/fetch.sh first")
    common = ["-M", "malta", "-m", "256", "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0",
              "-nographic"]
    runners = [("strobe " + e, [os.path.join(args.build, "strobe"), "run"] + common +
                ["--engine", e, "--code-cache", "off"]) for e in args.engines.split(",") if e]
    warm_dirs = []
    for e in [e for e in args.warm_engines.split(",") if e]:
        d = tempfile.mkdtemp(prefix="strobe-boot-cache-")
        warm_dirs.append(d)
        runners.append(("strobe %s warm" % e, [os.path.join(args.build, "strobe"), "run"] + common +
                        ["--engine", e, "--code-cache", d]))
    for v in args.variant:
        label, _, extra = v.partition(":")
        runners.append(("strobe " + label, [os.path.join(args.build, "strobe"), "run"] + common + extra.split()))
    for b in args.binary:
        label, _, path = b.partition(":")
        if not os.access(path, os.X_OK):
            sys.exit("--binary %s: %s is not an executable" % (label, path))
        runners.append(("strobe " + label, [path, "run"] + common))
    qemu = None if args.no_qemu else shutil.which("qemu-system-mipsel")
    if qemu:
        runners.append(("qemu", [qemu] + common + ["-no-reboot", "-net", "none", "-vga", "none"]))
    print("host: %d CPUs, load average %s; best of %d runs, wall seconds" %
          (os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3]), args.runs))
    results = {name: [] for name, _ in runners}
    for name, cmd in runners:  # fill the warm runners' caches (untimed)
        if name.endswith(" warm") and not boot_once(cmd, args.timeout):
            print("%s: the boot that fills the code cache failed" % name)
    for _ in range(args.runs):
        for name, cmd in runners:
            r = boot_once(cmd, args.timeout + args.idle, args.idle)
            if r:
                results[name].append(r)
    best = {}
    median = {}
    for name, rs in results.items():
        if not rs:
            print("%-20s FAILED" % name)
            continue
        rs.sort(key=lambda r: r[2])
        best[name] = rs[0]
        median[name] = rs[len(rs) // 2]
    print("%-20s %14s %8s %12s %11s %11s %11s" %
          ("runner", "Linux version", "shell", "powered off", "median off", "CPU (best)", "CPU median"))
    for name, (v, p, e, cpu, _) in best.items():
        cpus = sorted(r[3] for r in results[name])
        print("%-20s %14.2f %8.2f %12.2f %11.2f %11.2f %11.2f" %
              (name, v, p, e, median[name][2], cpu, cpus[len(cpus) // 2]))
    if args.idle > 0:
        for name, rs in results.items():
            idle = sorted(r[4] for r in rs if r[4] is not None)
            if idle:
                print("%-20s idle at the prompt for %.0f s: %.1f%% of a core (median of %d)" %
                      (name, args.idle, 100 * idle[len(idle) // 2], len(idle)))
    if "qemu" in best:
        q_cpu = sorted(r[3] for r in results["qemu"])
        for name in best:
            if name != "qemu":
                cpus = sorted(r[3] for r in results[name])
                print("%s / qemu, start to power-off: wall best %.2f, median %.2f; CPU best %.2f, median %.2f" %
                      (name, best[name][2] / best["qemu"][2], median[name][2] / median["qemu"][2],
                       cpus[0] / q_cpu[0], cpus[len(cpus) // 2] / q_cpu[len(q_cpu) // 2]))
    for d in warm_dirs:
        shutil.rmtree(d, ignore_errors=True)
    return 0 if len(best) == len(runners) else 1


if __name__ == "__main__":
    sys.exit(main())
