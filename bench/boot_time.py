#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Times the Linux boot (start -> shell prompt -> poweroff -> exit) under Strobe's engines and under
qemu-system-mipsel on the same kernel and initramfs, in one run, and prints the ratios.

usage: bench/boot_time.py [--runs N] [--engines interp,tiered] [--variant 'LABEL:ARGS']...
                          [--binary 'LABEL:PATH']... [--no-qemu] [BUILD_DIR]
A variant is one more Strobe runner with extra options, e.g. --variant 'reopt500:--jit-reoptimize 500'; a
binary is one more runner with another strobe executable (default engine), e.g. a build of the previous commit.
The kernel and initramfs come from guests/linux/fetch.sh (.cache/linux). The runners take turns, round after
round, so that a slow spell of this shared machine hits all of them; best and median of N runs per runner.
STROBE_BENCH_QUICK=1 (tools/readme-examples.sh sets it) makes the default one run.
"""
import argparse
import os
import select
import shutil
import subprocess
import sys
import time

PROMPT = b"strobe:~# "


def boot_once(cmd, timeout):
    """Returns (seconds to 'Linux version', to the prompt, to process exit) or None on failure."""
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
            p.stdin.write(b"poweroff -f\n")
            p.stdin.flush()
            sent = True
    rc = p.wait()
    end = time.monotonic() - t0
    if rc != 0 or "prompt" not in marks:
        sys.stderr.write("boot failed (exit %d): %s\n" % (rc, buf[-400:].decode(errors="replace")))
        return None
    return marks.get("version", 0.0), marks["prompt"], end


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1 if os.environ.get("STROBE_BENCH_QUICK") else 3)
    ap.add_argument("--engines", default="interp,tiered")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--variant", action="append", default=[], help="LABEL:EXTRA STROBE OPTIONS")
    ap.add_argument("--binary", action="append", default=[], help="LABEL:PATH OF ANOTHER STROBE")
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
    runners = [("strobe " + e, [os.path.join(args.build, "strobe"), "run"] + common + ["--engine", e])
               for e in args.engines.split(",")]
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
    for _ in range(args.runs):
        for name, cmd in runners:
            r = boot_once(cmd, args.timeout)
            if r:
                results[name].append(r)
    best = {}
    median = {}
    for name, rs in results.items():
        if not rs:
            print("%-16s FAILED" % name)
            continue
        rs.sort(key=lambda r: r[2])
        best[name] = rs[0]
        median[name] = rs[len(rs) // 2]
    print("%-16s %14s %12s %14s %14s" % ("runner", "Linux version", "shell", "powered off", "median off"))
    for name, (v, p, e) in best.items():
        print("%-16s %14.2f %12.2f %14.2f %14.2f" % (name, v, p, e, median[name][2]))
    if "qemu" in best:
        for name in best:
            if name != "qemu":
                print("%s / qemu, start to power-off: best %.2f, median %.2f" %
                      (name, best[name][2] / best["qemu"][2], median[name][2] / median["qemu"][2]))
    return 0 if len(best) == len(runners) else 1


if __name__ == "__main__":
    sys.exit(main())
