#!/usr/bin/env python
"""Evaluation kernels: dense exponent columns against sparse term lists (issue 12).

For each system, the target of the homotopy the solver builds (``choose_start`` and
``homotopy_data``, homogenised to the start's degrees) is evaluated with its Jacobian at
random points of the unit polydisc by

* ``dense``: :func:`solver.engine.evaluation.eval_sparse_jacobian` (every term loops over
  all n + 1 exponent columns, testing each), and
* ``sparse``: :func:`solver.engine.evaluation.eval_terms_jacobian` on
  :func:`solver.engine.evaluation.sparse_terms` (each term visits its own factors only),

interleaved in one run, best of ``--repeats`` rounds of ``--calls`` calls each; the ratio
sparse / dense of the best times is the figure (the median of the rounds' ratios is kept
in the JSON). The two must agree to rounding (checked).

It also measures the target evaluation's share of a tracked path: ``track_paths`` (one
thread, ``--paths`` paths) on the homotopy and on the same homotopy with every target term
split into two halves (the same H up to rounding, so the same steps, and twice the target's
evaluation work): the extra time over the time is the share, with whichever kernel the
homotopy uses.

Run::

    NUMBA_NUM_THREADS=1 .venv/bin/python bench/evaluation_kernels.py [--systems katsura-6,...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT = ["katsura-6", "katsura-7", "katsura-8", "cyclic-6", "eco-7", "network-1-2-1"]


def system_and_homotopy(name: str, seed: int):
    """The system and the homotopy ``solve`` would track (network: its gradient system
    with a linear-product start on the network structure, as bench/network.py does)."""
    from solver.engine.examples import by_name
    from solver.engine.homotopy import homotopy_data
    from solver.engine.start_systems.choice import choose_start

    rng = np.random.default_rng(seed)
    if name.startswith("network-"):
        sys.path.insert(0, str(ROOT / "bench"))
        from network import make_spec, parse_widths
        from solver.networks.gradient_system import network_loss
        from solver.networks.structure import best_network_structure

        spec = make_spec(parse_widths(name[len("network-"):]), seed=seed)
        system = network_loss(spec).system
        structure = best_network_structure(spec)[0]
        start = choose_start(system, "linear-product", rng, seed, structure)
    else:
        system = by_name(name)
        start = choose_start(system, "auto", rng, seed)
    return system, start, homotopy_data(system, start, rng)


def time_kernels(hom, calls: int, repeats: int, seed: int) -> dict:
    """Best-of-``repeats`` seconds per call of the dense and sparse target kernels."""
    from solver.engine.evaluation import eval_sparse_jacobian, eval_terms_jacobian, power_table, sparse_terms
    from solver.engine.homotopy import max_degree

    fc, fe, fo = hom.fc, hom.fe, hom.fo
    m, N = fo.shape[0] - 1, fe.shape[1]
    terms = sparse_terms(fe)
    tp = terms[: fe.shape[0] + 1]
    rng = np.random.default_rng(seed)
    pts = (rng.uniform(-1, 1, (calls, N)) + 1j * rng.uniform(-1, 1, (calls, N))) / np.sqrt(2)
    pw = np.empty((N, max_degree(hom) + 1), np.complex128)
    f1, f2 = np.empty(m, np.complex128), np.empty(m, np.complex128)
    j1, j2 = np.empty((m, N), np.complex128), np.empty((m, N), np.complex128)
    prefix = np.empty(N + 1, np.complex128)
    worst = 0.0
    for x in pts[:20]:
        power_table(x, pw)
        eval_sparse_jacobian(fc, fe, fo, pw, f1, j1, prefix)
        eval_terms_jacobian(fc, terms, fo, pw, f2, j2, prefix)
        scale = max(1.0, np.abs(f1).max(), np.abs(j1).max())
        worst = max(worst, np.abs(f1 - f2).max() / scale, np.abs(j1 - j2).max() / scale)
    pws = np.empty((calls, N, pw.shape[1]), np.complex128)
    for c in range(calls):
        power_table(pts[c], pws[c])
    dense, sparse, ratios = np.inf, np.inf, []
    for _ in range(repeats):
        t = time.perf_counter()
        _loop_dense(fc, fe, fo, pws, f1, j1, prefix)
        d = (time.perf_counter() - t) / calls
        t = time.perf_counter()
        _loop_sparse(fc, terms, fo, pws, f2, j2, prefix)
        s = (time.perf_counter() - t) / calls
        dense, sparse = min(dense, d), min(sparse, s)
        ratios.append(s / d)
    return {
        "terms": int(fe.shape[0]),
        "columns": int(N),
        "factors_per_term": float(np.diff(tp).mean()) if fe.shape[0] else 0.0,
        "dense_us": dense * 1e6,
        "sparse_us": sparse * 1e6,
        "sparse_over_dense": sparse / dense,
        "median_round_ratio": float(np.median(ratios)),
        "max_rel_difference": worst,
    }


def _loops():
    """The timing loops, compiled on first use (one call per power table)."""
    from numba import njit

    from solver.engine.evaluation import eval_sparse_jacobian, eval_terms_jacobian

    @njit
    def dense(fc, fe, fo, pws, f, jac, prefix):
        for c in range(pws.shape[0]):
            eval_sparse_jacobian(fc, fe, fo, pws[c], f, jac, prefix)

    @njit
    def sparse(fc, terms, fo, pws, f, jac, prefix):
        for c in range(pws.shape[0]):
            eval_terms_jacobian(fc, terms, fo, pws[c], f, jac, prefix)

    return dense, sparse


_loop_dense, _loop_sparse = None, None


def doubled_target(hom):
    """The same homotopy with every target term split into two halves: the same H up to
    rounding (the same paths and steps), twice the target's evaluation work."""
    from solver.engine.homotopy import make_homotopy

    fc, fe, fo = [], [], [0]
    for i in range(len(hom.fo) - 1):
        a, b = hom.fo[i], hom.fo[i + 1]
        fc += [hom.fc[a:b] / 2, hom.fc[a:b] / 2]
        fe += [hom.fe[a:b], hom.fe[a:b]]
        fo.append(fo[-1] + 2 * (b - a))
    fe = np.ascontiguousarray(np.vstack(fe))
    return make_homotopy(hom.kind, hom.lin, hom.n_factors, hom.gc, hom.ge, hom.go, np.concatenate(fc), fe,
                         np.array(fo, np.int64), hom.gamma, hom.patch)


def evaluation_share(start, hom, repeats: int, max_paths: int) -> dict:
    """The target evaluation's share of tracking: ``track_paths`` (one thread) on the
    homotopy and on :func:`doubled_target`; the extra time per step over the time per
    step is the share (fixed costs per call, such as zeroing the Jacobian, excluded)."""
    from solver.engine.options import TrackerOptions
    from solver.engine.path_kernels import track_paths

    starts = np.ascontiguousarray(np.concatenate(list(start.solutions()))[:max_paths])
    opts = TrackerOptions.default().as_array()
    h2 = doubled_target(hom)
    track_paths(starts[:2], hom, opts)
    track_paths(starts[:2], h2, opts)
    t1 = t2 = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        steps1 = track_paths(starts, hom, opts)[4]
        t1 = min(t1, time.perf_counter() - t)
        t = time.perf_counter()
        steps2 = track_paths(starts, h2, opts)[4]
        t2 = min(t2, time.perf_counter() - t)
    step1, step2 = t1 / max(int(steps1.sum()), 1), t2 / max(int(steps2.sum()), 1)
    return {
        "paths": int(starts.shape[0]),
        "steps_per_path": float(steps1.mean()),
        "same_steps_doubled": bool((steps1 == steps2).all()),
        "step_us": step1 * 1e6,
        "target_eval_share": (step2 - step1) / step1,
    }


def main(argv=None) -> int:
    global _loop_dense, _loop_sparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--systems", default=",".join(DEFAULT))
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--paths", type=int, default=64, help="paths tracked for the share")
    ap.add_argument("--no-share", action="store_true", help="kernels only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="")
    args = ap.parse_args(argv)
    _loop_dense, _loop_sparse = _loops()
    rows = {}
    print(f"load average {os.getloadavg()}, NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS')}")
    print("| system | terms | cols | factors/term | dense us | sparse us | sparse/dense | max rel diff "
          "| steps/path | step us | target eval share |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.systems.split(","):
        system, start, hom = system_and_homotopy(name, args.seed)
        row = time_kernels(hom, args.calls, args.repeats, args.seed)
        if not args.no_share:
            row.update(evaluation_share(start, hom, args.repeats, args.paths))
        rows[name] = row
        step = (f"{row['steps_per_path']:.0f} | {row['step_us']:.1f} | {row['target_eval_share']:.2f}"
                + ("" if row["same_steps_doubled"] else " (steps differ)") if "step_us" in row else "- | - | -")
        print(f"| {name} | {row['terms']} | {row['columns']} | {row['factors_per_term']:.1f} | {row['dense_us']:.2f} | "
              f"{row['sparse_us']:.2f} | **{row['sparse_over_dense']:.2f}** | {row['max_rel_difference']:.1e} | {step} |",
              flush=True)
    print(f"load average {os.getloadavg()}")
    if args.out:
        Path(args.out).write_text(json.dumps({"load": os.getloadavg(), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
