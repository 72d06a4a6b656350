#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Puts perf samples beside the host code of translated regions.

usage:
  perf record -o perf.data strobe dump [run options] --perf-map all > dump.txt
  perf script -i perf.data -F ip > ips.txt
  tools/annotate_jit.py dump.txt ips.txt [--top N] [--context K]

The dump and the samples must come from the same run (host addresses differ between runs). For the N
regions with the most samples (default 5) it prints the region's heading and its host code, each
instruction prefixed with its sample count; runs of cold code longer than 2*K+1 lines are elided.
"""
import argparse
import collections
import os
import re
import sys

HOST_LINE = re.compile(r"^\s+([0-9a-f]{6,16})\s+(.*)$")


def parse_dump(path):
    """Yields (heading, [(address, text)]) for each region's host code."""
    heading, host, in_host = None, [], False
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("=== region"):
                if heading is not None:
                    yield heading, host
                heading, host, in_host = line, [], False
            elif line.startswith("--- "):
                in_host = line.startswith("--- host code")
            elif in_host:
                m = HOST_LINE.match(line)
                if m:
                    host.append((int(m.group(1), 16), m.group(2)))
    if heading is not None:
        yield heading, host


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dump")
    ap.add_argument("ips")
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--context", type=int, default=3)
    args = ap.parse_args()
    for path in (args.dump, args.ips):
        if not os.path.isfile(path):
            sys.exit("annotate_jit.py: no such file: " + path)

    samples = collections.Counter()
    total = 0
    with open(args.ips) as f:
        for line in f:
            word = line.split()
            if not word:
                continue
            try:
                samples[int(word[0], 16)] += 1
                total += 1
            except ValueError:
                continue
    if total == 0:
        sys.exit("annotate_jit.py: no samples in " + args.ips)

    regions = []
    for heading, host in parse_dump(args.dump):
        if not host:
            continue
        counts = [samples.get(addr, 0) for addr, _ in host]
        regions.append((sum(counts), heading, host, counts))
    if not regions:
        sys.exit("annotate_jit.py: no host code in " + args.dump + " (was it made by strobe dump?)")
    regions.sort(key=lambda r: -r[0])
    in_regions = sum(r[0] for r in regions)
    print(f"{total} samples, {in_regions} ({100.0 * in_regions / total:.1f}%) in translated regions")
    for hits, heading, host, counts in regions[: args.top]:
        print(f"\n{heading}\n  {hits} samples ({100.0 * hits / total:.1f}%)")
        hot = [i for i, c in enumerate(counts) if c]
        keep = set()
        for i in hot:
            keep.update(range(max(0, i - args.context), min(len(host), i + args.context + 1)))
        skipped = 0
        for i, (addr, text) in enumerate(host):
            if i not in keep:
                skipped += 1
                continue
            if skipped:
                print(f"        ... {skipped} cold instructions")
                skipped = 0
            mark = f"{counts[i]:6d}" if counts[i] else "      "
            print(f"{mark}  {addr:x}  {text}")
        if skipped:
            print(f"        ... {skipped} cold instructions")


if __name__ == "__main__":
    main()
