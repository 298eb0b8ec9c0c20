#!/usr/bin/env python
"""Start-system benchmark (issue 12, "Polyhedral start that keeps zero coordinates").

For the twelve engine benchmark systems (``bench/engine.py``) and the 1-1-1 / 1-2-1
network gradient systems (``bench/network.py``'s specs: relu degree 2, biases, weight
decay 0.01, five data points, seed 0), and two systems with solutions on coordinate
subspaces (:data:`ZERO_CASES`), it reports, in one run:

1. **Counts.** Total degree; our best linear-product count (``best_structure``); phcpy's
   mixed volume (torus solutions only); PHCpack's stable mixed volume; the mixed volume
   with constants (Li and Wang's count in C^n: the polyhedral-constants start's paths),
   with MixedVol's time.
2. **auto's choice.** ``auto_counts`` as :func:`~solver.engine.solve.solve` runs it: the
   start taken, ``root_counts["start_choice"]`` (the reason) and the time of the decision
   (structure search and, where computed, the mixed volume in a forked child).
3. **Solves, one thread.** ``solve`` from the product start (the smaller of total degree
   and linear product), from ``polyhedral-constants`` (its phcpy start solve timed apart
   as well) and from the plain ``polyhedral`` start: solutions, those with a zero
   coordinate, and whether every product-start solution is among the polyhedral-constants
   ones. ``cost/path`` = (polyhedral-constants seconds per path) / (product seconds per
   path): what :data:`~solver.engine.start_systems.choice.POLYHEDRAL_PATH_COST` stands for.
   Solves whose product start has more than ``--max-solve-paths`` paths are skipped.

Run::

    NUMBA_NUM_THREADS=1 .venv/bin/python bench/start_counts.py            # ~5 min
    NUMBA_NUM_THREADS=1 .venv/bin/python bench/start_counts.py --systems katsura-6,1-1-1 --no-md

Writes JSON (``bench/results/start_counts.json``) and ``bench/START_RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/start_counts.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.engine import FULL, _json_default, environment, has_zero_coordinate, log, match_solutions, timed  # noqa: E402

NETWORKS = ["1-1-1", "1-2-1"]
#: systems with solutions on coordinate subspaces: 1-1-1 on data with E[x] = E[xy] = 0
#: (nine critical points with w = 0) and the scalar linear chain of five weights (the origin)
ZERO_CASES = ["1-1-1-sym", "chain-5"]
DEFAULT_MAX_SOLVE_PATHS = 20_000
SEED = 0


def load_system(name: str):
    """A benchmark system by name: ``bench/engine.py``'s examples, a network ``a-b-c`` or
    one of :data:`ZERO_CASES`."""
    if name in ZERO_CASES:
        return _zero_case(name)
    if name in NETWORKS or name[0].isdigit():
        from bench.network import make_spec, parse_widths
        from solver.networks.gradient_system import network_loss

        return network_loss(make_spec(parse_widths(name), seed=SEED)).system
    from solver.engine.examples import by_name

    return by_name(name)


def _zero_case(name: str):
    from solver.networks.gradient_system import network_loss
    from solver.networks.spec import load_spec

    if name == "1-1-1-sym":
        x, y, bias, act, m = [-1.0, 0.0, 1.0], [1.0, -0.5, 1.0], True, "relu", 2
    else:  # tests/test_stable_polyhedral.py's chain
        rng = np.random.default_rng(0)
        x = rng.uniform(-1, 1, 6)
        y = (x + 0.3 + 0.1 * rng.normal(size=6)).tolist()
        x, bias, act, m = x.tolist(), False, "identity", 5
    layers = [{"in_features": 1, "out_features": 1, "activation": act if k < m - 1 else "identity", "bias": bias} for k in range(m)]
    spec = {"layers": layers, "data": {"x": [[v] for v in x], "y": [[v] for v in y]},
            "weight_decay": 0.01 if name == "1-1-1-sym" else 0.05, "mode": "exact"}
    if act == "relu":
        spec["surrogate"] = {"degree": 2}
    return network_loss(load_spec(spec)).system


def counts_of(system) -> dict:
    """Every root count, with MixedVol's times."""
    from solver.engine.backends.phcpack import phcpy_mixed_volume
    from solver.engine.start_systems.polyhedral_constants import constants_mixed_volume
    from solver.engine.start_systems.set_structure import best_structure

    t_lp, (_, lp, structure_name) = timed(lambda: best_structure(system))
    t_mv, mv = timed(lambda: phcpy_mixed_volume(system))
    stable = phcpy_mixed_volume(system, stable=True)
    t_mvc, mvc = timed(lambda: constants_mixed_volume(system))
    return {
        "n": system.n_variables,
        "total_degree": system.total_degree,
        "linear_product": lp,
        "structure": structure_name,
        "mixed_volume": mv,
        "stable_mixed_volume": stable,
        "mixed_volume_constants": mvc,
        "seconds": {"structure_search": t_lp, "mixed_volume": t_mv, "mixed_volume_constants": t_mvc},
    }


def auto_of(system) -> dict:
    """auto's decision as ``solve`` makes it (default ``max_paths``), and its time."""
    from solver.engine.solve import DEFAULT_MAX_PATHS
    from solver.engine.start_systems.choice import auto_counts
    from solver.engine.start_systems.set_structure import best_structure

    def decide():
        _, count, _ = best_structure(system)
        return auto_counts(system, count, DEFAULT_MAX_PATHS)

    seconds, (kind, counts) = timed(decide)
    return {"kind": kind, "reason": counts["start_choice"], "seconds": seconds}


def solve_with(system, start: str) -> dict:
    from solver.engine.solve import solve

    seconds, r = timed(lambda: solve(system, start=start, seed=SEED, threads=1, max_paths=10**9))
    values = r.values()
    return {
        "start": r.start_system,
        "paths": r.paths,
        "solutions": len(r.solutions),
        "zero_coordinate": int(sum(has_zero_coordinate(x) for x in values)),
        "failed": r.counts["failed"],
        "seconds": seconds,
        "values": values,
    }


def solves_of(system, counts: dict) -> dict:
    """The three solves and how the polyhedral-constants one compares."""
    from solver.engine.start_systems.choice import choose_start

    product_kind = "total-degree" if counts["linear_product"] >= counts["total_degree"] else "linear-product"
    out = {"product": solve_with(system, product_kind)}
    t_start, _ = timed(lambda: choose_start(system, "polyhedral-constants", np.random.default_rng(SEED), SEED))
    out["constants"] = solve_with(system, "polyhedral-constants")
    out["constants"]["start_seconds"] = t_start
    out["polyhedral"] = solve_with(system, "polyhedral")
    missed, _ = match_solutions(out["constants"]["values"], out["product"]["values"])
    out["product_solutions_missed_by_constants"] = int(missed.size)
    p, c = out["product"], out["constants"]
    out["cost_per_path"] = (c["seconds"] / c["paths"]) / (p["seconds"] / p["paths"]) if c["paths"] and p["paths"] else None
    out["seconds_ratio"] = c["seconds"] / p["seconds"]
    for k in ("product", "constants", "polyhedral"):
        out[k].pop("values")
    return out


def run(names: list[str], max_solve_paths: int) -> list[dict]:
    from solver.engine.examples import by_name
    from solver.engine.solve import solve

    solve(by_name("katsura-3"), threads=1)  # JIT / kernel cache load, excluded
    rows = []
    for name in names:
        system = load_system(name)
        row: dict[str, Any] = {"system": name}
        row["counts"] = counts_of(system)
        row["auto"] = auto_of(system)
        c = row["counts"]
        product = min(c["total_degree"], c["linear_product"])
        if product <= max_solve_paths:
            row["solves"] = solves_of(system, c)
        log(f"{name}: {json.dumps({k: v for k, v in row.items() if k != 'system'}, default=_json_default)}")
        rows.append(row)
    return rows


def _f(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def markdown(rows: list[dict], env: dict, command: str) -> str:
    from solver.engine.start_systems.choice import MIN_PATHS_FOR_MIXED_VOLUME, POLYHEDRAL_PATH_COST

    lines = [
        "# Start systems: root counts, auto's choice, cost of the polyhedral start with constants",
        "",
        f"`{command}` (written by `bench/start_counts.py`; what each column means: its docstring).",
        f"Run {env['date']} at {env['git_commit']}, Python {env['python']}, numba {env['numba']}, "
        f"one Numba thread, load average at the start {env['load_average_start'][0]:.2f} on "
        f"{env['cpu_count']} shared cores: read the ratios, not the seconds.",
        f"Constants in force: POLYHEDRAL_PATH_COST = {POLYHEDRAL_PATH_COST}, MIN_PATHS_FOR_MIXED_VOLUME = {MIN_PATHS_FOR_MIXED_VOLUME}.",
        "",
        "## Root counts and auto's choice",
        "",
        "TD total degree, LP our linear product, MV phcpy's mixed volume (torus only: not complete when a solution "
        "has a zero coordinate), SMV PHCpack's stable mixed volume, MVC the mixed volume with constants "
        "(Li and Wang; the `polyhedral-constants` start). auto weighs MVC paths x POLYHEDRAL_PATH_COST.",
        "",
        "| system | n | TD | LP | MV | SMV | MVC | MVC s | auto | auto s | why |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c, a = r["counts"], r["auto"]
        lines.append(
            f"| {r['system']} | {c['n']} | {c['total_degree']} | {c['linear_product']} | {c['mixed_volume']} | "
            f"{c['stable_mixed_volume']} | {c['mixed_volume_constants']} | {_f(c['seconds']['mixed_volume_constants'], 3)} | "
            f"{a['kind']} | {_f(a['seconds'], 3)} | {a['reason'].split(': ', 1)[1]} |"
        )
    lines += [
        "",
        "## Solves from each start (one thread, seed 0)",
        "",
        "sols / zero: distinct solutions / those with a zero coordinate. PC = polyhedral-constants "
        "(start s: phcpy's start solve alone, timed apart). missed: product-start solutions not among PC's. "
        "cost/path: PC's seconds per path over the product start's.",
        "",
        "| system | product start | paths | sols / zero | s | PC paths | sols / zero | s | start s | missed | "
        "plain polyhedral sols / zero | PC s / product s | cost/path |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s = r.get("solves")
        if s is None:
            continue
        p, c, q = s["product"], s["constants"], s["polyhedral"]
        lines.append(
            f"| {r['system']} | {p['start']} | {p['paths']} | {p['solutions']} / {p['zero_coordinate']} | {_f(p['seconds'])} | "
            f"{c['paths']} | {c['solutions']} / {c['zero_coordinate']} | {_f(c['seconds'])} | {_f(c['start_seconds'])} | "
            f"{s['product_solutions_missed_by_constants']} | {q['solutions']} / {q['zero_coordinate']} | "
            f"{_f(s['seconds_ratio'])} | {_f(s['cost_per_path'])} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--systems", default=",".join(FULL + NETWORKS + ZERO_CASES), help="comma-separated names")
    ap.add_argument("--max-solve-paths", type=int, default=DEFAULT_MAX_SOLVE_PATHS)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "start_counts.json"))
    ap.add_argument("--md", default=str(ROOT / "bench" / "START_RESULTS.md"))
    ap.add_argument("--no-md", action="store_true", help="print the markdown, do not write it")
    args = ap.parse_args(argv)
    command = " ".join(["NUMBA_NUM_THREADS=1 .venv/bin/python bench/start_counts.py", *(sys.argv[1:] if argv is None else argv)])
    env = environment(1)
    t0 = time.perf_counter()
    rows = run([s for s in args.systems.split(",") if s], args.max_solve_paths)
    env["seconds"] = time.perf_counter() - t0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"environment": env, "rows": rows}, indent=1, default=_json_default))
    text = markdown(rows, env, command)
    print(text)
    if not args.no_md:
        Path(args.md).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
