#!/usr/bin/env python3
"""Issue 14's goals from one or more compare.sh result folders: python3 bench/goals.py DIR... > summary.md

Reads DIR/results.csv (one row per wrk run, as ../shared/bench/compare.sh writes it) from every folder given, e.g.
the cookie-new and cookie-hit halves of one bench/run.sh run, and prints one table over all cases (body, connections,
cookie mode) for Tether and the Vert.x baseline next to the base, nginx-ka1024, then whether each goal is met in
the worst case. Ratios are taken round by round (the same folder and round, so the same outside load), then the
median over the rounds; CPU µs/req is the proxy's CPU time (user + system, all its processes) per request served.

Options: --base TARGET (default nginx-ka1024), --targets "T1 T2" (default "tether vertx-epoll-j17", those present).
"""
import argparse
import csv
import statistics
import sys
from pathlib import Path

DISTURBED = 10.0  # % CPU used by other processes in a kept run (as summarize.py)
GOALS = {  # issue 14
    "rps": 0.9,  # req/s >= 0.9 x base
    "p99": 1.5,  # p99 <= 1.5 x base's, same rounds
    "cpu": 1.3,  # CPU µs/req <= 1.3 x base's
    "rss_mib": 128,  # RSS at 500 connections
    "rss_conns": 500,
}
ERROR_COLUMNS = ("err_connect", "err_read", "err_write", "err_timeout", "non2xx")


def median(values):
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def per_request_us(row):
    rps = float(row["rps"])
    return float(row["proxy_cpu"]) * 1e4 / rps if rps else float("nan")  # % of a core -> µs per request


def div(a, b):
    return a / b if b else float("nan")


def load(dirs):
    rows, envs = [], []
    for d in dirs:
        path = Path(d) / "results.csv"
        if not path.exists():
            sys.exit(f"{path}: not found")
        for r in csv.DictReader(open(path)):
            r["folder"] = str(d)
            rows.append(r)
        env = Path(d) / "env.txt"
        keep = ("date:", "machine:", "settings:", "extra:")
        envs.append((d, [line for line in env.read_text().splitlines() if line.startswith(keep)]
                     if env.exists() else []))
    return rows, envs


def cases_of(rows):
    bodies = list(dict.fromkeys(r["body"] for r in rows))
    modes = {"new": 0, "hit": 1}
    keys = {(r["body"], int(r["conns"]), r["cookie_mode"]) for r in rows}
    return sorted(keys, key=lambda k: (bodies.index(k[0]), k[1], modes.get(k[2], 2), k[2]))


def label(case):
    body, conns, mode = case
    return f"{body} c={conns} {mode}"


def figures(rows, case, target, base):
    """The figures of one target in one case, or None when it has no runs there."""
    runs = {(r["folder"], r["round"]): r for r in rows
            if (r["body"], int(r["conns"]), r["cookie_mode"]) == case and r["target"] == target}
    bases = {(r["folder"], r["round"]): r for r in rows
             if (r["body"], int(r["conns"]), r["cookie_mode"]) == case and r["target"] == base}
    if not runs:
        return None
    paired = [k for k in sorted(runs) if k in bases]
    f = lambda k, key: float(runs[k][key])
    b = lambda k, key: float(bases[k][key])
    return {
        "rounds": len(paired),
        "runs": len(runs),
        "rps": median([float(r["rps"]) for r in runs.values()]),
        "rps_ratio": median([div(f(k, "rps"), b(k, "rps")) for k in paired]),
        "rps_min": min([div(f(k, "rps"), b(k, "rps")) for k in paired], default=float("nan")),
        "p99": median([float(r["p99_ms"]) for r in runs.values()]),
        "p99_ratio": median([div(f(k, "p99_ms"), b(k, "p99_ms")) for k in paired]),
        "cpu": median([per_request_us(r) for r in runs.values()]),
        "cpu_ratio": median([div(per_request_us(runs[k]), per_request_us(bases[k])) for k in paired]),
        "errors": sum(int(r[c]) for r in runs.values() for c in ERROR_COLUMNS),
        "upstream": max(int(r["upstream_new_conns"]) for r in runs.values()),
        "rss": max(int(r["rss_kb"]) for r in runs.values()) / 1024,
        "disturbed": sum(float(r["other_cpu"]) > DISTURBED for r in runs.values()),
    }


def fmt(v, spec):
    return "n/a" if v != v else format(v, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+", help="compare.sh result folders (each with results.csv)")
    ap.add_argument("--base", default="nginx-ka1024")
    ap.add_argument("--targets", default="tether vertx-epoll-j17")
    args = ap.parse_args()

    rows, envs = load(args.dirs)
    if not any(r["target"] == args.base for r in rows):
        sys.exit(f"no {args.base} rows in {' '.join(args.dirs)}: it is the ratio base (add it to PROXIES)")
    targets = [t for t in args.targets.split() if any(r["target"] == t for r in rows)]
    if not targets:
        sys.exit(f"none of {args.targets} in {' '.join(args.dirs)}")
    cases = cases_of(rows)
    table = {(c, t): figures(rows, c, t, b) for c in cases for t in targets + [args.base] for b in [args.base]}
    base = args.base

    print(f"## Issue 14 goals: Tether next to {base} (ratios per round, median over rounds)\n")
    print("```")
    for d, lines in envs:
        print(f"{d}:")
        for line in lines:
            print(f"  {line}")
    print("```\n")

    print(f"| case | target | rounds | req/s | req/s ÷ {base} | p99 ms | p99 ÷ {base} | CPU µs/req "
          f"| CPU ÷ {base} | errors | upstream conns opened (max/run) | RSS MiB (max) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in cases:
        for t in targets + [base]:
            x = table[(c, t)]
            if x is None:
                continue
            ratio = (lambda v: "·") if t == base else (lambda v: fmt(v, ".2f"))
            print(f"| {label(c)} | {t} | {x['rounds']} | {fmt(x['rps'], ',.0f')} | {ratio(x['rps_ratio'])} "
                  f"| {fmt(x['p99'], '.2f')} | {ratio(x['p99_ratio'])} | {fmt(x['cpu'], '.1f')} "
                  f"| {ratio(x['cpu_ratio'])} | {x['errors']} | {x['upstream']} | {x['rss']:.0f} |")
    disturbed = sum(x["disturbed"] for x in table.values() if x)
    runs = sum(x["runs"] for x in table.values() if x)
    print(f"\nKept runs disturbed by other processes (> {DISTURBED:.0f} % CPU) among these: {disturbed} of {runs}.\n")

    # goals: whether met, with the worst case's figure
    def cell(t, key, pick, ok, show, cases_=cases):
        found = [(table[(c, t)][key], c) for c in cases_ if table[(c, t)] and table[(c, t)][key] == table[(c, t)][key]]
        if not found:
            return "n/a (no such case)"
        value, c = pick(found, key=lambda p: p[0])
        if key == "errors" and value == 0:
            return f"met: 0 in all {len(found)} cases"
        return f"{'met' if ok(value) else '**NOT met**'}: {show(value, c)} ({label(c)})"

    for (c, t), x in table.items():
        if x:
            x["churn"] = x["upstream"] / c[1]  # upstream conns opened per client connection, worst run
    ratio = lambda v, c: f"{v:.2f}×"
    big = [c for c in cases if c[1] >= GOALS["rss_conns"]]
    goals = [
        (f"req/s ≥ {GOALS['rps']} × {base}", lambda t: cell(t, "rps_ratio", min, lambda v: v >= GOALS["rps"], ratio)),
        (f"p99 ≤ {GOALS['p99']} × {base}'s", lambda t: cell(t, "p99_ratio", max, lambda v: v <= GOALS["p99"], ratio)),
        ("0 errors (socket errors + non-2xx)", lambda t: cell(t, "errors", max, lambda v: v == 0,
                                                             lambda v, c: f"{v}")),
        ("no backend connection churn (≤ 2 × conns opened in a run)",
         lambda t: cell(t, "churn", max, lambda v: v <= 2,
                        lambda v, c: f"{table[(c, t)]['upstream']} opened at {c[1]} conns")),
        (f"RSS ≤ {GOALS['rss_mib']} MiB at {GOALS['rss_conns']} connections",
         lambda t: cell(t, "rss", max, lambda v: v <= GOALS["rss_mib"], lambda v, c: f"{v:.0f} MiB", big)),
        (f"CPU µs/req ≤ {GOALS['cpu']} × {base}'s", lambda t: cell(t, "cpu_ratio", max, lambda v: v <= GOALS["cpu"],
                                                                   ratio)),
    ]
    print(f"### Goals (worst case over {len(cases)} cases)\n")
    print("| goal | " + " | ".join(targets) + " |")
    print("|---|" + "---|" * len(targets))
    for name, f in goals:
        print(f"| {name} | " + " | ".join(f(t) for t in targets) + " |")


if __name__ == "__main__":
    main()
