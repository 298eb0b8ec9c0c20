#!/usr/bin/env python
"""Predictor benchmark: RK4 against the cubic Hermite predictor, per class of path.

RK4 needs three Jacobians a step besides the corrector's; the Hermite predictor
extrapolates the cubic through the last two accepted points and their tangents, which
the corrector leaves behind, so it needs none, but its error is of order ``h^4`` rather
than ``h^5`` and it has no history on a segment's first step (it takes an RK4 step there).

The same paths are tracked by both, interleaved ``--repeats`` times in one process (one
Numba thread): CPU seconds (``time.process_time``, less sensitive than wall time to the
other work of a shared machine), steps, and whether both reach the same endpoints
(within 1e-6, relative to ``max(1, |x|)``). Classes:

* ``start``: whole solves from a start system (katsura-6, cyclic-5 from their default
  start; the 2-1-1 network's gradient system from its linear-product start), the endgame's
  short segments included;
* ``parameter``: exact mode's parameter homotopy, the 1-2-1 family's generic solutions to
  a data set's member (one path per orbit), and monodromy segments between two random
  members.

Run::

    NUMBA_NUM_THREADS=1 .venv/bin/python bench/predictors.py

Prints a markdown table (ratios hermite / rk4) and writes JSON
(default ``bench/results/predictors.json``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.network import make_spec, parse_widths  # noqa: E402

#: one case: (class, name, run(options) -> (endpoints (k, n) affine, steps (k,)))
Case = tuple[str, str, Callable]


def _start_case(name: str, system) -> Case:
    from solver.engine.solve import solve

    def run(options):
        res = solve(system, seed=1, options=options)
        pts = np.array([s.values for s in res.solutions]).reshape(-1, system.n_variables)
        return pts, np.array([res.counts.get("steps", 0)])

    return "start", name, run


def _parameter_cases() -> list[Case]:
    from solver.engine.parameter_homotopy import parameter_path_data
    from solver.engine.solve import track
    from solver.networks.family import family_key, family_of, parameters_of, random_parameters
    from solver.networks.family_solve import all_permutations, orbit_representatives
    from solver.networks.family_store import load_generic

    spec = make_spec(parse_widths("1-2-1"), seed=11)
    key = family_key(spec)
    fam, g = family_of(key), load_generic(key)
    starts = np.ascontiguousarray(g.solutions[orbit_representatives(all_permutations(spec), g.solutions)])
    rng = np.random.default_rng(3)
    homs = {
        "1-2-1 exact (family to data)": parameter_path_data(fam, g.parameters, parameters_of(spec), rng),
        "1-2-1 monodromy segment": parameter_path_data(fam, g.parameters, random_parameters(fam, rng), rng),
    }

    def runner(hom):
        def run(options):
            tracked = track(starts, hom, options)
            with np.errstate(all="ignore"):
                return tracked[0][:, 1:] / tracked[0][:, :1], tracked[4]

        return run

    return [("parameter", name, runner(hom)) for name, hom in homs.items()]


def _same(a: np.ndarray, b: np.ndarray) -> int:
    """Rows of ``a`` with a row of ``b`` within 1e-6 (relative)."""
    hits = 0
    for p in a:
        if len(b) and np.isfinite(p).all():
            d = np.abs(b - p).max(axis=1) / max(1.0, float(np.abs(p).max()))
            hits += int(np.nanmin(d) <= 1e-6)
    return hits


def measure(case: Case, repeats: int) -> dict:
    """Both predictors on one case, interleaved."""
    from solver.engine.options import TrackerOptions

    kind, name, run = case
    options = {"rk4": TrackerOptions.default(), "hermite": TrackerOptions.parameter()}
    for o in options.values():  # JIT and cache loads outside the timing
        run(o)
    seconds: dict[str, list[float]] = {k: [] for k in options}
    out: dict = {}
    for _ in range(repeats):
        for label, o in options.items():
            t = time.process_time()
            pts, steps = run(o)
            seconds[label].append(time.process_time() - t)
            out[label] = (pts, steps)
    row = {"class": kind, "case": name}
    for label in options:
        pts, steps = out[label]
        row[label] = {"cpu_seconds": statistics.median(seconds[label]), "steps": int(np.sum(steps)), "points": len(pts)}
    row["same_endpoints"] = f"{_same(out['hermite'][0], out['rk4'][0])}/{len(out['rk4'][0])}"
    row["cpu_ratio"] = row["hermite"]["cpu_seconds"] / row["rk4"]["cpu_seconds"]
    return row


def markdown(rows: list[dict]) -> str:
    head = ("| class | case | rk4: CPU s, steps | hermite: CPU s, steps | same endpoints | CPU hermite / rk4 |\n"
            "|---|---|---|---|---|---|\n")
    lines = [
        f"| {r['class']} | {r['case']} | {r['rk4']['cpu_seconds']:.2f}, {r['rk4']['steps'] or '-'} | "
        f"{r['hermite']['cpu_seconds']:.2f}, {r['hermite']['steps'] or '-'} | {r['same_endpoints']} | {r['cpu_ratio']:.2f} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "predictors.json"))
    args = ap.parse_args(argv)
    from solver.engine import examples
    from solver.networks.critical_points import network_loss

    cases = [
        _start_case("katsura-6", examples.katsura(6)),
        _start_case("cyclic-5", examples.cyclic(5)),
        _start_case("2-1-1 network, linear-product start", network_loss(make_spec(parse_widths("2-1-1"), seed=11)).system),
        *_parameter_cases(),
    ]
    rows = []
    for case in cases:
        print(f"{case[1]} ...", file=sys.stderr, flush=True)
        rows.append(measure(case, args.repeats))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(rows, indent=1))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
