# SPDX-License-Identifier: MIT
"""What the Linux benchmarks share (bench/linux/run.py, bench/net_throughput.py): where Debian's kernel and
the initramfs are, the strobe binary, the QEMU-style command line both VMMs take, and Guest, a VMM booted
to the busybox prompt and driven through its serial console."""
import os
import select
import subprocess
import sys
import time

PROMPT = b"strobe:~# "
TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_BUILD = os.path.join(TOP, "build")


def vmm_args(script, build):
    """(strobe binary, common args): the Malta command line (-cpu 24Kf, 256 MiB, the kernel and the
    initramfs from guests/linux/fetch.sh, console=ttyS0) both Strobe and qemu-system-mipsel take. Exits
    with one line when the kernel or the binary is missing."""
    kernel = os.path.join(TOP, ".cache/linux/vmlinuz")
    initrd = os.path.join(TOP, ".cache/linux/initramfs.cpio.gz")
    if not (os.path.exists(kernel) and os.path.exists(initrd)):
        sys.exit("%s: no kernel/initramfs: run guests/linux/fetch.sh first" % script)
    strobe = os.path.join(build, "strobe")
    if not os.access(strobe, os.X_OK):
        sys.exit("%s: %s not found: build first (ninja -C %s strobe)" % (script, strobe, build))
    common = ["-M", "malta", "-cpu", "24Kf", "-m", "256", "-kernel", kernel, "-initrd", initrd,
              "-append", "console=ttyS0", "-nographic", "-no-reboot"]
    return strobe, common


def cpu_seconds(pid):
    """User + system CPU time of a running process (all its threads), from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Guest:
    """One VMM process booted to the busybox prompt, driven through its serial console."""

    def __init__(self, cmd, timeout, ready=PROMPT, cwd=None):
        """Starts cmd (in cwd) and waits until its console shows `ready` (None: does not wait)."""
        self.timeout = timeout
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""
        if ready is not None:
            self.wait_for(ready, 0)
        self.boot = time.monotonic() - self.t0

    def wait_for(self, needle, start):
        """Reads output until needle appears at or after offset start; returns its offset."""
        while True:
            i = self.buf.find(needle, start)
            if i >= 0:
                return i
            left = self.t0 + self.timeout - time.monotonic()
            if left <= 0:
                raise RuntimeError("timed out waiting for %r; last output:\n%s" %
                                   (needle, self.buf[-600:].decode(errors="replace")))
            r, _, _ = select.select([self.p.stdout], [], [], min(left, 1.0))
            if r:
                data = os.read(self.p.stdout.fileno(), 65536)
                if not data:
                    raise RuntimeError("the VMM exited (status %s); last output:\n%s" %
                                       (self.p.wait(), self.buf[-600:].decode(errors="replace")))
                self.buf += data

    def run(self, command):
        """Types command; returns (wall seconds, CPU seconds, the check line it printed)."""
        start = len(self.buf)
        # The echo of the typed line shows @@E""ND@@; only the command's own output shows @@END@@.
        line = "%s; echo @@E\"\"ND@@ $?\n" % command
        c0, w0 = cpu_seconds(self.p.pid), time.monotonic()
        self.p.stdin.write(line.encode())
        self.p.stdin.flush()
        end = self.wait_for(b"@@END@@", start + len(line))
        wall, cpu = time.monotonic() - w0, cpu_seconds(self.p.pid) - c0
        self.wait_for(PROMPT, end)
        out = self.buf[start:end].decode(errors="replace").replace("\r", "").split("\n")
        status = self.buf[end:].split(b"\n", 1)[0].decode(errors="replace").split()
        lines = [l for l in out[1:] if l.strip()]  # out[0] is the echo of the command
        if len(status) < 2 or status[1] != "0":
            raise RuntimeError("%r failed: %s" % (command, " | ".join(lines[-5:])))
        return wall, cpu, (lines[-1].strip() if lines else "")

    def poweroff(self):
        self.p.stdin.write(b"poweroff -f\n")
        self.p.stdin.flush()
        try:
            self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
