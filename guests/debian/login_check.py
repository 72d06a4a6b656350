#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boots the Debian image built by tools/debian.sh (with -snapshot: the image is not changed), logs in as
root on the serial console, checks the system and powers it off. Prints how long each step took, wall and
the VMM's CPU time.

  guests/debian/login_check.py [--vmm strobe|qemu] [--timeout S] [DIR]

DIR is where tools/debian.sh put debian.img, vmlinuz and initrd.img (default .cache/debian). --vmm qemu runs
qemu-system-mipsel with the same command line, for comparison. Exit status 0 only if every check passed."""
import argparse
import os
import re
import select
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Console:
    def __init__(self, cmd, cwd, timeout):
        self.t0 = time.monotonic()
        self.timeout = timeout
        self.p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""
        self.cpu = 0.0

    def wait_for(self, needle, start):
        while True:
            i = self.buf.find(needle, start)
            if i >= 0:
                return i
            left = self.t0 + self.timeout - time.monotonic()
            if left <= 0:
                raise RuntimeError("timed out waiting for %r; last output:\n%s" %
                                   (needle, self.buf[-800:].decode(errors="replace")))
            r, _, _ = select.select([self.p.stdout], [], [], min(left, 1.0))
            if r:
                data = os.read(self.p.stdout.fileno(), 65536)
                if not data:
                    raise RuntimeError("the VMM exited (status %s); last output:\n%s" %
                                       (self.p.wait(), self.buf[-800:].decode(errors="replace")))
                self.buf += data
                try:
                    self.cpu = cpu_seconds(self.p.pid)
                except OSError:
                    pass

    def send(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()

    def mark(self, what):
        print("login_check: %-28s %6.1f s wall, %6.1f s CPU" % (what, time.monotonic() - self.t0, self.cpu),
              flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", choices=["strobe", "qemu"], default="strobe")
    ap.add_argument("--timeout", type=float, default=1200)
    ap.add_argument("dir", nargs="?", default=os.path.join(TOP, ".cache", "debian"))
    a = ap.parse_args()
    for f in ("debian.img", "vmlinuz", "initrd.img"):
        if not os.path.isfile(os.path.join(a.dir, f)):
            sys.exit("login_check: no %s in %s (build it with tools/debian.sh --build)" % (f, a.dir))
    vmm = [os.path.join(TOP, "build", "strobe"), "run"] if a.vmm == "strobe" else ["qemu-system-mipsel"]
    cmd = vmm + ["-M", "malta", "-m", "256", "-kernel", "vmlinuz", "-initrd", "initrd.img", "-drive",
                 "file=debian.img,format=raw,if=ide,index=0", "-snapshot", "-append",
                 "root=/dev/sda1 console=ttyS0", "-nographic", "-no-reboot"]
    c = Console(cmd, a.dir, a.timeout)
    try:
        i = c.wait_for(b"login:", 0)
        c.mark("login prompt")
        c.send("root\n")
        i = c.wait_for(b"# ", i)
        c.mark("root shell")
        # The check line is built by the shell, so the echo of the typed command does not match it.
        c.send("cat /etc/debian_version; uname -r; dpkg -l | grep -c ^ii; systemctl is-system-running; "
               "echo CHECK-$((6*7))\n")
        j = c.wait_for(b"CHECK-42", i)
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", c.buf[i:j].decode(errors="replace").replace("\r", ""))
        out = [l.strip() for l in text.split("\n")][1:]  # [0] is the echo of the command
        out = [l for l in out if l]
        c.mark("commands")
        print("login_check: " + " | ".join(out))
        c.send("poweroff\n")
        c.p.wait(timeout=max(c.t0 + a.timeout - time.monotonic(), 1))
        c.mark("powered off (status %d)" % c.p.returncode)
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
