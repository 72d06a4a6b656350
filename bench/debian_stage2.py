#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Times Debian's installation inside the guest: debootstrap's second stage (dpkg unpacking and configuring
the ~160 packages of a bookworm base system with a kernel and its initramfs: thousands of processes, perl,
shell scripts, file I/O on an ext4 disk) under Strobe and under qemu-system-mipsel -cpu 24Kf, from the same
inputs, in one interleaved run.

usage: bench/debian_stage2.py [--runs N] [--no-qemu] [--side-by-side] [--timeout SECONDS] [BUILD_DIR]
The inputs come from `tools/debian.sh --prepare` (stage 1 on the host: the disk image after
`debootstrap --foreign` and Strobe's initramfs with guests/debian/stage2.sh): each run boots a fresh sparse
copy of that disk, with the same kernel, initramfs and command line under both VMMs, and ends when the guest
powers off after `stage2: done`. Wall time and CPU time (user + system of the VMM process, all threads) per
run, and the ratios to QEMU of the medians. A run takes tens of minutes under either VMM; --side-by-side
runs the VMMs of a round at the same time instead of one after the other, each pinned to its own host CPU
(taskset), which halves the time on a 2-CPU machine: each VMM then has one CPU for all its threads (Strobe's
compiler thread shares it with its vCPU), as when a host runs one VM per core.
"""
import argparse
import concurrent.futures
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_once(cmd, disk_copy, timeout):
    """Runs one VMM to power-off. Returns (wall seconds, CPU seconds) or raises on failure."""
    log = disk_copy + ".log"
    t0 = time.monotonic()
    with open(log, "wb") as out:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                _, status, usage = os.wait4(p.pid, 0)
                raise RuntimeError("timed out after %d s (%s)" % (timeout, log))
            time.sleep(0.5)
    wall = time.monotonic() - t0
    with open(log, "rb") as f:
        text = f.read()
    if b"stage2: done" not in text:
        raise RuntimeError("stage 2 failed, see %s:\n%s" % (log, text[-1500:].decode(errors="replace")))
    return wall, usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", nargs="?", default=os.path.join(TOP, "build"))
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--timeout", type=int, default=7200)
    ap.add_argument("--side-by-side", action="store_true")
    args = ap.parse_args()
    strobe = os.path.join(args.build, "strobe")
    if not os.access(strobe, os.X_OK):
        sys.exit("debian_stage2: no %s (build first)" % strobe)
    prep = subprocess.run(["bash", os.path.join(TOP, "tools/debian.sh"), "--prepare"], stdout=subprocess.PIPE,
                          check=True).stdout.decode().split()
    disk, initrd, kernel = prep[-3:]
    common = ["-M", "malta", "-m", "256", "-kernel", kernel, "-initrd", initrd, "-nographic", "-no-reboot",
              "-append", "console=ttyS0 rdinit=/stage2 panic=1"]
    runners = [("strobe", lambda d: [strobe, "run"] + common + ["-drive", "file=%s,format=raw,if=ide,index=0" % d])]
    if not args.no_qemu:
        if not shutil.which("qemu-system-mipsel"):
            sys.exit("debian_stage2: qemu-system-mipsel is not installed (tools/setup-deps.sh, or --no-qemu)")
        runners.append(("qemu", lambda d: ["qemu-system-mipsel", "-cpu", "24Kf", "-nic", "none"] + common +
                        ["-drive", "file=%s,format=raw,if=ide,index=0" % d]))
    load = os.getloadavg()
    print("debian_stage2: %s, %d CPUs, load %.2f %.2f %.2f, %d run(s)%s" %
          (time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(), load[0], load[1], load[2], args.runs,
           ", side by side, one CPU each" if args.side_by_side else ""))
    if args.side_by_side and not shutil.which("taskset"):
        sys.exit("debian_stage2: --side-by-side needs taskset (util-linux)")
    results = {name: [] for name, _ in runners}
    work = tempfile.mkdtemp(prefix="strobe-stage2-", dir=os.path.dirname(disk))
    try:
        for r in range(args.runs):
            copies = {}
            for name, _ in runners:
                copies[name] = os.path.join(work, "%s-%d.img" % (name, r))
                subprocess.run(["cp", "--sparse=always", disk, copies[name]], check=True)

            def one(i, name, cmd):
                c = cmd(copies[name])
                if args.side_by_side:
                    c = ["taskset", "-c", str(i % os.cpu_count())] + c
                wall, cpu = run_once(c, copies[name], args.timeout)
                print("  run %d %-7s wall %8.1f s  cpu %8.1f s" % (r + 1, name, wall, cpu), flush=True)
                return wall, cpu

            if args.side_by_side:
                with concurrent.futures.ThreadPoolExecutor(len(runners)) as pool:
                    futures = {name: pool.submit(one, i, name, cmd) for i, (name, cmd) in enumerate(runners)}
                    for name, f in futures.items():
                        results[name].append(f.result())
            else:
                for i, (name, cmd) in enumerate(runners):
                    results[name].append(one(i, name, cmd))
            for copy in copies.values():
                os.unlink(copy)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%-8s %12s %12s %10s %10s" % ("runner", "wall_s", "cpu_s", "wall/qemu", "cpu/qemu"))
    med = {n: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for n, v in results.items()}
    for name, (wall, cpu) in med.items():
        ratio = lambda a, b: "%10.2f" % (a / b) if "qemu" in med else "%10s" % "-"
        print("%-8s %12.1f %12.1f %s %s" % (name, wall, cpu, ratio(wall, med.get("qemu", (1, 1))[0]),
                                             ratio(cpu, med.get("qemu", (1, 1))[1])))


if __name__ == "__main__":
    main()
