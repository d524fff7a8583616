#!/usr/bin/env python3
"""Top frames of an async-profiler collapsed-stack file: self share (leaf frame) and total share (anywhere on the
stack), as percentages of all samples. Usage: collapsed_top.py FILE [N]"""
import sys
from collections import Counter

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 40
self_c, total_c, all_samples = Counter(), Counter(), 0
for line in open(path):
    stack, _, count = line.rstrip('\n').rpartition(' ')
    if not stack:
        continue
    c = int(count)
    all_samples += c
    frames = stack.split(';')
    self_c[frames[-1]] += c
    for f in set(frames):
        total_c[f] += c
print(f"samples: {all_samples}")
print(f"\n== top {n} by self ==")
for f, c in self_c.most_common(n):
    print(f"{100.0 * c / all_samples:6.2f}%  {f}")
print(f"\n== top {n} tether.* frames by total ==")
for f, c in [x for x in total_c.most_common() if x[0].startswith(('tether/', 'tether.'))][:n]:
    print(f"{100.0 * c / all_samples:6.2f}%  {f}")
