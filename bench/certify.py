#!/usr/bin/env python
"""Certification benchmark: the interval Krawczyk test's cost against the solve it proves.

For katsura-6 and cyclic-5 (``solve`` from the default start) the ratio is certify time /
solve time, where certify time is :func:`solver.engine.certify.certify_result` on the
solve's solutions and solve time the solve without it. For the 1-2-1 network (the tests'
spec: relu surrogate of degree 2, five samples, weight decay 0.01) it is exact mode as
``run_exact`` runs it (the family's parameter homotopy): the time inside
:func:`~solver.engine.certify.certify_critical` (every finite solution and each critical
point) against the rest of exact mode; ``--large`` adds 1-3-1 the same way. The target is
a ratio of at most 0.5.

The baseline of the same run is the ``acb`` ball test alone
(:func:`~solver.engine.certify.certify_arb` and the distinctness proof on the same points:
what :func:`~solver.engine.certify.certify` ran before its double-precision first pass);
its column ``arb s`` and ratio ``arb / solve``, and whether its counts equal the others (the
double-precision pass may certify more, never fewer: every point it leaves goes through the
acb test).

A warm-up run of each case goes first (Numba kernels loaded, family read); then
``--repeats`` runs, interleaved; medians of CPU seconds (``time.process_time``: less
sensitive than wall time to the other work of a shared machine; one Numba thread) and the
counts of the last run.

Run::

    NUMBA_NUM_THREADS=1 .venv/bin/python bench/certify.py

Prints a markdown table and writes JSON (default ``bench/results/certify.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def run_system(name: str) -> dict:
    """One solve of a named system, then its certification; CPU seconds of each."""
    from solver.engine.certify import certify_result
    from solver.engine.examples import by_name
    from solver.engine.solve import solve

    system = by_name(name)
    t = time.process_time()
    result = solve(system, seed=0)
    solve_s = time.process_time() - t
    t = time.process_time()
    certify_result(system, result)
    cert_s = time.process_time() - t
    arb_s, arb_counts = _arb_baseline(system, [result.values()])
    return {"solve": solve_s, "certify": cert_s, "solutions": len(result.solutions), **_counts(result.counts),
            "arb": arb_s, "arb_counts": arb_counts}


def _arb_baseline(system, point_sets: list) -> tuple[float, dict]:
    """CPU seconds of the ball test alone on each set of points (and the distinctness proof),
    and the counts of the first set."""
    import numpy as np

    from solver.engine.certify import CertificationResult, certify_arb, prove_distinct

    t = time.process_time()
    counts = None
    for points in point_sets:
        certs = certify_arb(system, np.asarray(points, np.complex128).reshape(-1, system.n_variables))
        distinct, groups = prove_distinct(certs)
        counts = counts or CertificationResult(certs, distinct, groups, 0.0).counts()
    return time.process_time() - t, counts


def run_network(widths: tuple[int, ...]) -> dict:
    """Exact mode on the network, the time inside certify_critical measured apart."""
    import solver.engine.certify as certify_module
    from network_specs import make_spec
    from solver.networks.critical_points import run_exact

    inner = certify_module.certify_critical
    spent = []
    calls = []

    def timed(*args, **kwargs):
        t = time.process_time()
        out = inner(*args, **kwargs)
        spent.append(time.process_time() - t)
        calls.append(args)
        return out

    certify_module.certify_critical = timed  # exact mode imports it at call time
    try:
        t = time.process_time()
        result = run_exact(make_spec(widths))
        total = time.process_time() - t
    finally:
        certify_module.certify_critical = inner
    counts = result.counts()
    system, solved, points = calls[-1]
    arb_s, arb_counts = _arb_baseline(system, [solved.values(), [p.params for p in points]])
    return {"solve": total - sum(spent), "certify": sum(spent), "solutions": counts["finite"], **_counts(counts),
            "arb": arb_s, "arb_counts": arb_counts}


def _counts(counts: dict) -> dict:
    return {k: int(counts[k]) for k in ("certified", "certified_real", "certified_distinct")}


CASES = {
    "katsura-6": lambda: run_system("katsura-6"),
    "cyclic-5": lambda: run_system("cyclic-5"),
    "1-2-1 exact": lambda: run_network((1, 2, 1)),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--large", action="store_true", help="also 1-3-1's exact mode (3,585 generic solutions, about 25 s a run)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "certify.json"))
    args = ap.parse_args(argv)

    cases = dict(CASES)
    if args.large:
        cases["1-3-1 exact"] = lambda: run_network((1, 3, 1))
    load_before = os.getloadavg()
    for case in cases.values():  # warm-up: kernels, family store
        case()
    runs: dict[str, list[dict]] = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, case in cases.items():
            runs[name].append(case())
    rows = {}
    for name, rs in runs.items():
        solve_s = statistics.median(r["solve"] for r in rs)
        cert_s = statistics.median(r["certify"] for r in rs)
        arb_s = statistics.median(r["arb"] for r in rs)
        last = rs[-1]
        rows[name] = {"solve_seconds": solve_s, "certify_seconds": cert_s, "ratio": cert_s / solve_s,
                      "arb_seconds": arb_s, "arb_ratio": arb_s / solve_s, "arb_counts": last["arb_counts"],
                      **{k: last[k] for k in ("solutions", "certified", "certified_real", "certified_distinct")}}
    report = {"repeats": args.repeats, "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
              "cpus": os.cpu_count(), "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")

    print("| case | solutions | certified | real | distinct | solve s | certify s | certify / solve | arb s | arb / solve | arb counts equal |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        same = r["arb_counts"] == {k: r[k] for k in ("certified", "certified_real", "certified_distinct")}
        print(f"| {name} | {r['solutions']} | {r['certified']} | {r['certified_real']} | {r['certified_distinct']} | "
              f"{r['solve_seconds']:.3f} | {r['certify_seconds']:.4f} | {r['ratio']:.3f} | {r['arb_seconds']:.3f} | "
              f"{r['arb_ratio']:.2f} | {'yes' if same else r['arb_counts']} |")
    print(f"load average before {load_before[0]:.2f}, after {report['loadavg_after'][0]:.2f} ({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
