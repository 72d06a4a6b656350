#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Disk I/O inside Debian's kernel on a raw and a qcow2 virtio disk, Strobe against qemu-system-mipsel.

usage: bench/linux/disk_io.py [--rounds N] [--mib M] [--build DIR]
Each round boots Strobe (tiered, --code-cache off) and QEMU 7.2 (-cpu 24Kf) one after the other, each with
two fresh 256 MiB virtio disks: /dev/vda raw, /dev/vdb qcow2 (qemu-img create, so every write allocates).
On each disk the guest writes M MiB with dd (1 MiB blocks, then fsync), reads them back after dropping its
page cache, and writes 4 KiB blocks with O_DIRECT (every one a request). Prints per step the medians of
wall and CPU seconds (the VMM's, all threads) and Strobe/QEMU ratios; the guests' check lines (md5 of what
was read) must agree. The images are made and removed in a temporary folder.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from linux_guest import DEFAULT_BUILD, Guest, vmm_args

STEPS = [
    ("raw write", "dd if=/dev/zero of=/dev/vda bs=1M count={m} conv=fsync 2>/dev/null && echo ok"),
    ("raw read", "echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=1M count={m} 2>/dev/null | md5sum"),
    ("raw 4k direct", "dd if=/dev/zero of=/dev/vda bs=4k count={k} oflag=direct 2>/dev/null && echo ok"),
    ("qcow2 write", "dd if=/dev/zero of=/dev/vdb bs=1M count={m} conv=fsync 2>/dev/null && echo ok"),
    ("qcow2 read", "echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vdb bs=1M count={m} 2>/dev/null | md5sum"),
    ("qcow2 4k direct", "dd if=/dev/zero of=/dev/vdb bs=4k seek=40000 count={k} oflag=direct 2>/dev/null && echo ok"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--build", default=DEFAULT_BUILD)
    args = ap.parse_args()
    if args.rounds < 1 or not 1 <= args.mib <= 200:
        sys.exit("disk_io.py: --rounds at least 1, --mib 1-200")
    for tool in ("qemu-img", "qemu-system-mipsel"):
        if not shutil.which(tool):
            sys.exit("disk_io.py: %s not found (tools/setup-deps.sh installs it)" % tool)
    strobe, common = vmm_args("disk_io.py", args.build)
    commands = [(name, cmd.format(m=args.mib, k=2048)) for name, cmd in STEPS]
    results = {"strobe": {}, "qemu": {}}
    checks = {}
    load = os.getloadavg()
    print("host: %d CPUs, load average %.2f %.2f %.2f; %s; %d round(s), %d MiB" %
          (os.cpu_count(), *load, time.strftime("%Y-%m-%d %H:%M"), args.rounds, args.mib))
    with tempfile.TemporaryDirectory(prefix="strobe-disk-io-") as tmp:
        for r in range(args.rounds):
            order = ["strobe", "qemu"] if r % 2 == 0 else ["qemu", "strobe"]
            for who in order:
                raw, qcow2 = os.path.join(tmp, "d.raw"), os.path.join(tmp, "d.qcow2")
                with open(raw, "wb") as f:
                    f.truncate(256 << 20)
                subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", qcow2, "256M"], check=True)
                disks = ["-drive", "file=%s,format=raw,if=virtio" % raw,
                         "-drive", "file=%s,format=qcow2,if=virtio" % qcow2]
                cmd = ([strobe, "run"] + common + ["--code-cache", "off"] if who == "strobe"
                       else ["qemu-system-mipsel"] + common) + disks
                g = Guest(cmd, 600)
                try:
                    for name, command in commands:
                        wall, cpu, check = g.run(command)
                        results[who].setdefault(name, []).append((wall, cpu))
                        if checks.setdefault(name, check) != check:
                            sys.exit("disk_io.py: %s: %r under %s, %r before" % (name, check, who, checks[name]))
                    g.poweroff()
                finally:
                    g.kill()
    print("%-16s %18s %18s  %s" % ("step", "Strobe wall/CPU", "QEMU wall/CPU", "Strobe/QEMU wall, CPU"))
    for name, _ in commands:
        s = [statistics.median(x) for x in zip(*results["strobe"][name])]
        q = [statistics.median(x) for x in zip(*results["qemu"][name])]
        print("%-16s %8.2f / %7.2f %8.2f / %7.2f  %.2f, %.2f" %
              (name, s[0], s[1], q[0], q[1], s[0] / q[0], s[1] / max(q[1], 0.01)))


if __name__ == "__main__":
    main()
