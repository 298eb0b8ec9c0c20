#!/usr/bin/env python
"""Families benchmark: exact mode from an architecture's stored generic solutions against
``phc -b`` on the same gradient system (issue 11).

For each network (relu surrogate of degree 2, identity output, biases, weight decay 0.01,
five data points: ``bench/network.py``'s specs, with a data seed the family never saw):

1. **Exact mode by the family** (``find_critical_points(method="family")``): the
   architecture's generic solutions from the store (shipped or cached; a row whose family
   is missing says so and is skipped unless ``--compute``), one parameter-homotopy path per
   neuron-permutation orbit. Time of the whole request (system build, paths, orbit
   expansion, Hessian classification); paths; finite, real critical points; complete.
2. **phc -b** on the same gradient system (its own polyhedral start, one process), in the
   same run: its time, paths, finite and real solutions; whether every real ``phc -b``
   solution is among ours (1e-6, relative to ``max(1, |x|)``).
3. **The one-time family solve** as the store records it: method, seed, paths, generic
   count, seconds.

The ratio ours / phc -b is of the two times measured in this run (JIT excluded: a warm-up
solve runs first). Run::

    NUMBA_NUM_THREADS=2 .venv/bin/python bench/families.py                 # 1-1-1, 2-1-1, 1-2-1
    NUMBA_NUM_THREADS=2 .venv/bin/python bench/families.py --specs 2-2-1 1-3-1      # no phc -b on these

Prints a markdown table on stdout and writes JSON (default ``bench/results/families.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/families.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

from bench.network import make_spec, parse_widths  # noqa: E402


#: networks on which phc -b is not run: it does not finish in the benchmark's time
PHC_TOO_SLOW = {
    "2-2-1": "not run: phc -b did not finish 2-2-1 in over an hour (issue 11)",
    "1-3-1": "not run: 1-3-1's polyhedral start is larger than 2-2-1's",
}


def contains(ours: np.ndarray, theirs: np.ndarray, tol: float = 1e-6) -> int:
    """How many rows of ``theirs`` are within ``tol`` (relative) of a row of ``ours``."""
    if len(theirs) == 0:
        return 0
    if len(ours) == 0:
        return 0
    hits = 0
    for p in theirs:
        d = np.abs(ours - p).max(axis=1) / max(1.0, float(np.abs(p).max()))
        hits += int(d.min() <= tol)
    return hits


def phc_row(res, spec, seed: int, timeout: float) -> dict:
    """``phc -b`` on the same gradient system: time, paths, finite and real solutions, and
    how many of its real solutions exact mode found."""
    from solver.engine.backends.phcpack import PHCpackError, solve_phc

    t = time.perf_counter()
    try:
        theirs = solve_phc(res.loss.system, seed=seed, timeout=timeout)
    except PHCpackError as exc:
        return {"error": str(exc)}
    real = np.array([s.values.real for s in theirs.solutions if s.real]).reshape(-1, spec.n_parameters)
    return {"seconds": time.perf_counter() - t, "paths": theirs.paths, "finite": len(theirs.solutions),
            "real": len(real), "real_found_by_ours": contains(res.real_points, real)}


def row(name: str, seed: int, phc: bool, phc_timeout: float, compute: bool) -> dict:
    """One network: ours by the family, then phc -b, on the same spec."""
    from solver.networks.critical_points import find_critical_points
    from solver.networks.family import family_key
    from solver.networks.family_store import load_generic

    spec = make_spec(parse_widths(name), seed=seed)
    stored = load_generic(family_key(spec))
    out: dict = {"network": name, "data_seed": seed, "family": family_key(spec).id}
    if stored is None and not compute:
        out["skipped"] = "family not stored (run scripts/build_families.py, or --compute)"
        return out
    if stored is not None:
        out["family_solve"] = {"method": stored.method, "seed": stored.seed, "generic": len(stored.solutions), **stored.counts}
    t = time.perf_counter()
    res = find_critical_points(spec, method="family", mixed_volume=False)
    out["ours"] = {"seconds": time.perf_counter() - t, **res.solve_summary, "finite": res.n_real + res.n_complex,
                   "real": res.n_real, "minima_orbits": res.counts()["minimum_orbits"]}
    if phc and name in PHC_TOO_SLOW:
        out["phc"] = {"error": PHC_TOO_SLOW[name]}
    elif phc:
        out["phc"] = phc_row(res, spec, seed, phc_timeout)
        if "seconds" in out["phc"]:
            out["ratio"] = out["ours"]["seconds"] / out["phc"]["seconds"]
    return out


def markdown(rows: list[dict]) -> str:
    head = ("| network | family (generic, method) | ours: s, paths, finite/real, complete | phc -b: s, paths, finite/real "
            "| phc's real found by ours | ours / phc -b |\n|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['network']} | {r['family']} | {r['skipped']} | | | |")
            continue
        o, f = r["ours"], r.get("family_solve", {})
        p = r.get("phc", {})
        ours = f"{o['seconds']:.2f} s, {o['paths']}, {o['finite']}/{o['real']}, {o.get('complete')}"
        theirs = f"{p['seconds']:.2f} s, {p['paths']}, {p['finite']}/{p['real']}" if "seconds" in p else p.get("error", "-")
        found = f"{p.get('real_found_by_ours', '-')}/{p.get('real', '-')}" if p else "-"
        ratio = f"{r['ratio']:.3f}" if "ratio" in r else "-"
        lines.append(f"| {r['network']} | {r['family']} ({f.get('generic', o.get('generic_count'))}, "
                     f"{f.get('method', o.get('generic_method'))}) | {ours} | {theirs} | {found} | {ratio} |")
    return head + "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--specs", nargs="+", default=["1-1-1", "2-1-1", "1-2-1"])
    ap.add_argument("--seed", type=int, default=11, help="data seed (the families never saw it)")
    ap.add_argument("--no-phc", action="store_true", help="skip phc -b")
    ap.add_argument("--phc-timeout", type=float, default=600.0)
    ap.add_argument("--compute", action="store_true", help="compute and store a missing family first")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "families.json"))
    args = ap.parse_args(argv)
    from solver.networks.critical_points import find_critical_points

    t = time.perf_counter()
    find_critical_points(make_spec((1, 1, 1), seed=99), method="family", mixed_volume=False)  # JIT / cache load
    warm = time.perf_counter() - t
    rows = []
    for name in args.specs:
        print(f"{name} ...", file=sys.stderr, flush=True)
        rows.append(row(name, args.seed, not args.no_phc, args.phc_timeout, args.compute))
    report = {"threads": os.environ.get("NUMBA_NUM_THREADS", "default"), "warm_up_seconds": warm, "rows": rows}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1, default=str))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
