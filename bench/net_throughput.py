#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Network throughput: TCP guest->host and host->guest, MB/s, under Strobe and QEMU on the same command line.

usage: bench/net_throughput.py [--runs N] [--mb N] [--model pcnet|virtio-net-pci] [--no-qemu] [--timeout S]
                               [BUILD_DIR]
Each round boots Strobe, then qemu-system-mipsel, with the same options (-M malta -cpu 24Kf -m 256 -kernel
-initrd -append console=ttyS0 -nic user,model=MODEL; the PCnet by default), so a slow spell of this shared
machine hits both.
In the guest: `udhcpc -i eth0`, then
  guest->host: dd of N MiB of zeros piped into busybox nc to a sink on the host's 127.0.0.1 (10.0.2.2 for
               the guest), which counts the bytes and closes when all have come;
  host->guest: busybox wget of an N MiB body from an HTTP server on the host's loopback, to /dev/null.
Wall time runs from typing the command to its end marker (bench/linux/linux_guest.py's Guest); MB/s = N MiB
/ time.
STROBE_BENCH_QUICK=1 (tools/readme-examples.sh) makes it one round of 2 MiB. Prints a table of medians.
"""
import argparse
import os
import shutil
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "linux"))
from linux_guest import DEFAULT_BUILD, Guest, vmm_args  # noqa: E402


def listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    return s


def serve(sock, handle, stop):
    """Accepts connections until stop is set; handle(conn) serves each, then it is closed."""
    sock.settimeout(0.5)
    while not stop.is_set():
        try:
            c, _ = sock.accept()
        except socket.timeout:
            continue
        c.settimeout(120)
        try:
            handle(c)
        except OSError:
            pass
        c.close()


def sink(expected):
    """Reads `expected` bytes, then the connection closes (busybox nc then exits)."""
    def handle(c):
        got = 0
        while got < expected:
            d = c.recv(1 << 16)
            if not d:
                break
            got += len(d)
    return handle


def source(body_bytes):
    """A minimal HTTP/1.0 server: every request gets body_bytes of zeros."""
    chunk = b"\0" * (1 << 16)

    def handle(c):
        req = b""
        while b"\r\n\r\n" not in req:
            d = c.recv(4096)
            if not d:
                break
            req += d
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % body_bytes)
        left = body_bytes
        while left > 0:
            n = min(left, len(chunk))
            c.sendall(chunk[:n])
            left -= n
    return handle


def main():
    quick = bool(os.environ.get("STROBE_BENCH_QUICK"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1 if quick else 3)
    ap.add_argument("--mb", type=int, default=2 if quick else 32, help="MiB per transfer")
    ap.add_argument("--model", default="pcnet", choices=["pcnet", "virtio-net-pci"],
                    help="the NIC both VMMs get (default pcnet)")
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per boot and its transfers")
    ap.add_argument("build", nargs="?", default=DEFAULT_BUILD)
    args = ap.parse_args()
    if args.runs < 1 or args.mb < 1:
        sys.exit("net_throughput.py: --runs and --mb must be at least 1")
    strobe, common = vmm_args("net_throughput.py", args.build)
    common += ["-nic", "user,model=" + args.model]
    runners = [("strobe", [strobe, "run"] + common)]
    qemu = None if args.no_qemu else shutil.which("qemu-system-mipsel")
    if qemu:
        runners.append(("qemu", [qemu] + common + ["-vga", "none"]))

    nbytes = args.mb << 20
    stop = threading.Event()
    sink_sock, source_sock = listener(), listener()
    threads = [threading.Thread(target=serve, args=(sink_sock, sink(nbytes), stop), daemon=True),
               threading.Thread(target=serve, args=(source_sock, source(nbytes), stop), daemon=True)]
    for t in threads:
        t.start()
    sink_port, source_port = sink_sock.getsockname()[1], source_sock.getsockname()[1]
    tests = [
        ("guest->host", "dd if=/dev/zero bs=64k count=%d 2>/dev/null | nc 10.0.2.2 %d >/dev/null; echo sent" %
         (nbytes >> 16, sink_port)),
        ("host->guest", "wget -q -O /dev/null http://10.0.2.2:%d/data && echo got" % source_port),
    ]
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    print("host: %d CPUs, load average %s; %s; %d round(s), %d MiB per transfer, NIC %s" %
          (os.cpu_count(), load, time.strftime("%Y-%m-%d %H:%M"), args.runs, args.mb, args.model))
    results = {}  # (runner, test) -> [MB/s]
    failed = False
    for rnd in range(args.runs):
        for label, cmd in runners:
            g = None
            try:
                g = Guest(cmd, args.timeout)
                g.run("udhcpc -i eth0 -n -q >/dev/null 2>&1 && echo up")
                for name, command in tests:
                    wall, _, check = g.run(command)
                    if check not in ("sent", "got"):
                        raise RuntimeError("%s: unexpected output %r" % (name, check))
                    results.setdefault((label, name), []).append(args.mb / wall)
                g.poweroff()
            except (RuntimeError, OSError) as e:
                print("%s, round %d: %s" % (label, rnd + 1, e))
                failed = True
                if g:
                    g.kill()
    stop.set()
    print("%-12s %14s %14s %8s" % ("transfer", "strobe MB/s", "qemu MB/s", "ratio"))
    for name, _ in tests:
        s = results.get(("strobe", name))
        q = results.get(("qemu", name))
        sm = statistics.median(s) if s else float("nan")
        qm = statistics.median(q) if q else float("nan")
        print("%-12s %14.2f %14.2f %8.2f" % (name, sm, qm, sm / qm if q and s else float("nan")))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
