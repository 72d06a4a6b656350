#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boots the Debian image built by tools/debian.sh (with -snapshot: the image is not changed), logs in as
root on the serial console, checks the system and powers it off. Prints how long each step took, wall and
the VMM's CPU time.

  guests/debian/login_check.py [--vmm strobe|qemu] [--cold] [--timeout S] [DIR]

DIR is where tools/debian.sh put debian.img, vmlinuz and initrd.img (default .cache/debian). --vmm qemu runs
qemu-system-mipsel with the same command line, for comparison. Exit status 0 only if every check passed."""
import argparse
import os
import re
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


sys.path.insert(0, os.path.join(TOP, "bench", "linux"))
from linux_guest import Guest, cpu_seconds  # noqa: E402  (the console driver the Linux benchmarks use)


def mark(g, what):
    """Prints the wall and CPU time so far; once the VMM has exited, its last CPU time sampled."""
    try:
        g.cpu = cpu_seconds(g.p.pid)
    except OSError:
        pass
    print("login_check: %-28s %6.1f s wall, %6.1f s CPU" % (what, time.monotonic() - g.t0, g.cpu), flush=True)


def send(g, text):
    g.p.stdin.write(text.encode())
    g.p.stdin.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", choices=["strobe", "qemu"], default="strobe")
    ap.add_argument("--timeout", type=float, default=1200)
    ap.add_argument("--cold", action="store_true", help="Strobe without its persistent code cache")
    ap.add_argument("dir", nargs="?", default=os.path.join(TOP, ".cache", "debian"))
    a = ap.parse_args()
    for f in ("debian.img", "vmlinuz", "initrd.img"):
        if not os.path.isfile(os.path.join(a.dir, f)):
            sys.exit("login_check: no %s in %s (build it with tools/debian.sh --build)" % (f, a.dir))
    vmm = [os.path.join(TOP, "build", "strobe"), "run"] if a.vmm == "strobe" else ["qemu-system-mipsel"]
    if a.cold and a.vmm == "strobe":
        vmm += ["--code-cache", "off"]
    cmd = vmm + ["-M", "malta", "-m", "256", "-kernel", "vmlinuz", "-initrd", "initrd.img", "-drive",
                 "file=debian.img,format=raw,if=ide,index=0", "-snapshot", "-append",
                 "root=/dev/sda1 console=ttyS0", "-nographic", "-no-reboot"]
    c = Guest(cmd, a.timeout, ready=None, cwd=a.dir)
    c.cpu = 0.0
    try:
        i = c.wait_for(b"login:", 0)
        mark(c, "login prompt")
        send(c, "root\n")
        i = c.wait_for(b"# ", i)
        mark(c, "root shell")
        # The check line is built by the shell, so the echo of the typed command does not match it.
        send(c, "cat /etc/debian_version; uname -r; dpkg -l | grep -c ^ii; systemctl is-system-running; "
               "echo CHECK-$((6*7))\n")
        j = c.wait_for(b"CHECK-42", i)
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", c.buf[i:j].decode(errors="replace").replace("\r", ""))
        out = [l.strip() for l in text.split("\n")][1:]  # [0] is the echo of the command
        out = [l for l in out if l]
        mark(c, "commands")
        print("login_check: " + " | ".join(out))
        send(c, "poweroff\n")
        c.p.wait(timeout=max(c.t0 + a.timeout - time.monotonic(), 1))
        mark(c, "powered off (status %d)" % c.p.returncode)
        ok = (c.p.returncode == 0 and len(out) >= 4 and out[0].startswith("12.") and out[3] == "running")
        print("login_check: %s" % ("ok" if ok else "FAILED"))
        return 0 if ok else 1
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print("login_check: FAILED: %s" % e)
        return 1
    finally:
        if c.p.poll() is None:
            c.p.kill()
            c.p.wait()


if __name__ == "__main__":
    sys.exit(main())
