#!/usr/bin/env python3
# bench/cost.py RUN WARMUP N TOP CASE...: the table of make bench-cost,
# from the callgrind files bench/cost.sh left in RUN/{gw,plain}/.
import re
import subprocess
import sys

run, warmup, n, ntop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4])
names = sys.argv[5:]


def total(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise SystemExit(f"bench-cost: no total in {path}")


def functions(path):
    """self instructions by function name"""
    out = subprocess.run(["callgrind_annotate", "--threshold=100",
                          "--auto=no", "--show-percs=no", path],
                         capture_output=True, text=True, check=True).stdout
    fns = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(\S.*)$", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name = m.group(2)
        name = re.sub(r"\s*\[.*\]$", "", name)     # the object
        name = name.rsplit(":", 1)[-1]             # the file
        fns[name] = fns.get(name, 0) + int(m.group(1).replace(",", ""))
    return fns


def per_request(side, name, f):
    a = f(f"{run}/{side}/{name}.{warmup}.cg")
    b = f(f"{run}/{side}/{name}.{warmup + n}.cg")
    if isinstance(a, int):
        return (b - a) / n
    return {k: (b.get(k, 0) - a.get(k, 0)) / n for k in set(a) | set(b)}


def k(v):
    return f"{v / 1000:.1f}k"


print(f"instructions per request (callgrind, {n} requests after {warmup})")
print()
print(f"| case | plain proxy_pass | gateway | gateway adds |")
print(f"|---|---|---|---|")
diffs = {}
for name in names:
    p = per_request("plain", name, total)
    g = per_request("gw", name, total)
    print(f"| {name} | {k(p)} | {k(g)} | +{k(g - p)} |")
    fp = per_request("plain", name, functions)
    fg = per_request("gw", name, functions)
    diffs[name] = sorted(((fg.get(x, 0) - fp.get(x, 0), x)
                          for x in set(fp) | set(fg)), reverse=True)

for name in names:
    print()
    print(f"{name}: functions the gateway spends more in (self, per request)")
    for d, fn in diffs[name][:ntop]:
        if d <= 0:
            break
        print(f"  {d:>10.0f}  {fn}")
