#!/usr/bin/env python
"""Engine benchmark: our Numba homotopy engine against PHCpack (issue 2, "Benchmark").

For each benchmark system (katsura-6..8, cyclic-5..7, noon-3..5, eco-6..8) it measures,
in one run and interleaved so that the shared machine's load hits both sides alike:

1. **End to end.** ``solver.engine.solve.solve(system, start="auto")`` (start system, tracking,
   re-tracking of failures, refinement, merging) against ``phc -b`` (its own polyhedral
   start, one thread). Ours is the wall time of ``solve()``; phc's is the time of the
   ``phc -b`` process. Median of ``--repeats``. Also: the solutions each side found, and
   whether every ``phc -b`` solution matches one of ours within 1e-6 (relative to
   ``max(1, |x|)``); ours that phc missed are listed, flagged when a coordinate is zero.
2. **Tracker per path, same start system.** Our start system (``choose_start``, the one
   ``solve`` uses) and its solutions, written as PHCpack text, tracked once by our Numba
   kernel (``solver.engine.solve.track``) and once by phcpy's ``trackers.track`` (standard
   double precision, its default parameters and random gamma). Only the tracking call is
   timed on both sides (no start-solution computation, no refinement). With
   ``--tracker-paths K`` both track the same random sample of K start solutions.

JIT compilation is excluded: a warm-up solve runs first and is reported apart
(``warmup``); the script also checks that no kernel compiled a new signature while a
system was being timed (``new_jit_signatures``).

Run::

    .venv/bin/python bench/engine.py                      # everything (10-20 min)
    .venv/bin/python bench/engine.py --quick              # a small subset (~1-2 min)
    .venv/bin/python bench/engine.py --systems katsura-6,cyclic-5 --threads 1 --repeats 3

Prints a markdown table and writes JSON (default ``bench/results/engine.json``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/engine.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

FULL = [
    "katsura-6", "katsura-7", "katsura-8",
    "cyclic-5", "cyclic-6", "cyclic-7",
    "noon-3", "noon-4", "noon-5",
    "eco-6", "eco-7", "eco-8",
]  # fmt: skip
QUICK = ["katsura-6", "cyclic-5", "noon-3", "eco-6"]

#: solution counts known independently of both engines (DESIGN.md, "Oracles")
KNOWN_SOLUTIONS = {
    "katsura-6": 64, "katsura-7": 128, "katsura-8": 256,
    "cyclic-5": 70, "cyclic-6": 156, "cyclic-7": 924,
    "noon-3": 21,
}  # fmt: skip

MATCH_TOLERANCE = 1e-6
#: a coordinate below this (relative to max(1, |x|)) counts as zero
ZERO_TOLERANCE = 1e-8
#: phcpy endpoints beyond this are at infinity (phcpy's affine tracker lets them grow)
INFINITY_THRESHOLD = 1e8
#: phcpy stops a diverging path before t = 1; beyond this size such a path counts as
#: diverged (at infinity), below it as failed (measured: cyclic-5 stops at |x| 3e5..1e13)
DIVERGED_THRESHOLD = 1e4
PHC_TIMEOUT = 900.0

#: issue 12: 20x phcpy per path from the same start, 10x `phc -b` end to end
TARGETS = {"tracker_ratio": 0.05, "end_to_end_ratio": 0.1}


class BenchError(RuntimeError):
    """A benchmark step could not run (missing PHCpack, inconsistent phcpy state)."""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# helpers


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(wall seconds, result) of ``fn()``."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def median(xs: Sequence[float]) -> float | None:
    xs = [x for x in xs if x is not None]
    return float(statistics.median(xs)) if xs else None


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def jit_signatures() -> int:
    """Compiled signatures over all Numba dispatchers of the engine: a change between
    two points means something was compiled in between (and was timed)."""
    import importlib

    total = 0
    for mod in ("solver.engine.evaluation", "solver.engine.homotopy", "solver.engine.tracker", "solver.engine.endgame", "solver.engine.path_kernels"):
        try:
            m = importlib.import_module(mod)
        except ImportError:
            continue
        for obj in vars(m).values():
            sigs = getattr(obj, "signatures", None)
            if isinstance(sigs, list) and hasattr(obj, "py_func"):
                total += len(sigs)
    return total


def match_solutions(ours: np.ndarray, theirs: np.ndarray, tol: float = MATCH_TOLERANCE) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``theirs`` with no row of ``ours`` within ``tol`` (max-norm, relative to
    ``max(1, |theirs|)``), and rows of ``ours`` that match no row of ``theirs``."""
    if theirs.shape[0] == 0:
        return np.zeros(0, np.int64), np.arange(ours.shape[0])
    if ours.shape[0] == 0:
        return np.arange(theirs.shape[0]), np.zeros(0, np.int64)
    dist = np.abs(theirs[:, None, :] - ours[None, :, :]).max(axis=2)
    scale = np.maximum(1.0, np.abs(theirs).max(axis=1))[:, None]
    close = dist <= tol * scale
    return np.flatnonzero(~close.any(axis=1)), np.flatnonzero(~close.any(axis=0))


def has_zero_coordinate(x: np.ndarray) -> bool:
    return bool((np.abs(x) <= ZERO_TOLERANCE * max(1.0, float(np.abs(x).max(initial=0.0)))).any())


def describe_point(x: np.ndarray, names: Sequence[str]) -> str:
    """Short text for a solution: its zero coordinates, or its first values."""
    zeros = [names[j] for j in range(len(x)) if abs(x[j]) <= ZERO_TOLERANCE * max(1.0, float(np.abs(x).max()))]
    if zeros:
        return "zero " + ",".join(zeros)
    return "(" + ", ".join(f"{v.real:.3g}{v.imag:+.3g}i" for v in x[:3]) + (", ...)" if len(x) > 3 else ")")


# ---------------------------------------------------------------------------------------
# our start system as PHCpack text (for phcpy)


def _phc_names(n: int) -> list[str]:
    return [f"x{j + 1}" for j in range(n)]


def _polynomial_strings(text: str) -> list[str]:
    """The polynomials of a PHC text, one string each ending in ';' (phcpy's input)."""
    body = text.split("\n", 1)[1]
    return [s.strip().replace("\n", " ") + ";" for s in body.split(";") if s.strip()]


def _cplx(c: complex) -> str:
    return f"({c.real:.17E}{c.imag:+.17E}*i)"


def product_start_as_phc(start, n: int) -> list[str]:
    """Our start system (a product start, affine: x0 = 1, or a sparse one such as the
    polyhedral start with constants) as phcpy polynomial strings in x1..xn.

    The products are expanded by our own parser and written back by ``format_system``,
    which makes x1..xn *first appear* in that order: phcpy numbers variables by first
    appearance, and the start solutions are given in x1..xn order.
    """
    from solver.engine.formats.phc import format_system, parse_system
    from solver.engine.system import Polynomial, System

    names = _phc_names(n)
    if hasattr(start, "n_factors"):
        lines = []
        for i, nf in enumerate(start.n_factors):
            factors = []
            for k in range(int(nf)):
                row = start.lin[i, k]
                terms = [_cplx(complex(row[0]))] + [f"{_cplx(complex(row[1 + j]))}*{names[j]}" for j in range(n) if row[1 + j] != 0]
                factors.append("(" + " + ".join(terms) + ")")
            lines.append("*".join(factors) + ";")
        text = f"{n}\n" + "\n".join(lines) + "\n"
    else:  # a sparse start: its own polynomials, renamed
        text = format_system(System(start.system.polynomials, tuple(names)), names)
    parsed = parse_system(text)
    missing = [v for v in names if v not in parsed.variables]
    if missing:
        raise BenchError(f"the start system does not involve {missing}")
    cols = [parsed.variables.index(v) for v in names]
    polys = tuple(Polynomial(p.coefficients, p.exponents[:, cols]) for p in parsed.polynomials)
    expanded = System(polys, tuple(names))
    return _polynomial_strings(format_system(expanded, names)), expanded


def start_solutions_as_phc(points: np.ndarray) -> list[str]:
    from solver.engine.backends.phcpack import _phcpy

    _phcpy()  # first import through solver.engine.backends.phcpack, which silences phcpy's banner
    make_solution = __import__("phcpy.solutions", fromlist=["make_solution"]).make_solution
    names = _phc_names(points.shape[1])
    return [make_solution(names, [complex(v) for v in p]) for p in points]


def phcpy_track(system, start_pols: list[str], start_sols: list[str], seed: int, tasks: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Time phcpy's ``trackers.track`` on the given start system; returns (seconds,
    affine endpoints (P, n), statuses as :class:`PathStatus` codes)."""
    from solver.engine.formats.phc import format_system, parse_solutions
    from solver.engine.result import PathStatus

    try:  # lock + silenced fd 1 + cleared containers + seeded generators
        from solver.engine.backends.phcpack import _phcpy_session
    except ImportError as exc:  # pragma: no cover - depends on the other module's state
        raise BenchError(f"solver.engine.backends.phcpack has no _phcpy_session: {exc}") from None
    n = system.n_variables
    names = _phc_names(n)
    target = _polynomial_strings(format_system(system, names))
    with _phcpy_session(seed) as mods:
        order = mods["solver"].names_of_variables(target)
        if list(order) != names:
            raise BenchError(f"phcpy orders the target's variables as {order}, expected {names}")
        t0 = time.perf_counter()
        ends = mods["trackers"].track(target, start_pols, start_sols, tasks=tasks)
        seconds = time.perf_counter() - t0
    sols = parse_solutions(list(ends))
    if len(sols) != len(start_sols):
        raise BenchError(f"phcpy returned {len(sols)} endpoints for {len(start_sols)} paths")
    pts = np.full((len(sols), n), np.nan + 0j)
    status = np.full(len(sols), int(PathStatus.FAILED), dtype=np.int64)
    for k, s in enumerate(sols):
        x = np.asarray(s, dtype=np.complex128)
        pts[k] = x
        if not np.isfinite(x).all():
            continue
        size = float(np.abs(x).max(initial=0.0))
        # only Re(t): with tasks > 0, PHCpack 2.4.86 returns garbage in Im(t)
        if abs(s.t.real - 1.0) > 1e-8:  # stopped before t = 1
            if size > DIVERGED_THRESHOLD:
                status[k] = int(PathStatus.AT_INFINITY)
            continue
        status[k] = int(PathStatus.AT_INFINITY if size > INFINITY_THRESHOLD else PathStatus.REGULAR)
    return seconds, pts, status


# ---------------------------------------------------------------------------------------
# the measurements


def status_counts(status: np.ndarray) -> dict:
    from solver.engine.result import PathStatus

    return {s.name.lower(): int((status == s).sum()) for s in PathStatus}


def bench_end_to_end(system, name: str, repeats: int, seed: int, threads: int, have_phc: bool) -> dict:
    """Ours (``solve``) against ``phc -b``, interleaved; solution comparison."""
    from solver.engine.backends.phcpack import solve_phc
    from solver.engine.solve import solve

    ours_t, phc_t, phc_wall, ours_res, phc_res, n_ours, n_phc = [], [], [], None, None, [], []
    for r in range(repeats):
        t, res = timed(lambda: solve(system, start="auto", seed=seed, threads=threads))
        ours_t.append(t)
        n_ours.append(len(res.solutions))
        ours_res = ours_res or res
        if have_phc:
            t, pres = timed(lambda: solve_phc(system, seed=seed, timeout=PHC_TIMEOUT))
            phc_t.append(pres.seconds)
            phc_wall.append(t)
            n_phc.append(len(pres.solutions))
            phc_res = phc_res or pres
        log(f"  {name} end to end, repeat {r + 1}: ours {ours_t[-1]:.3f} s" + (f", phc -b {phc_t[-1]:.3f} s" if have_phc else ""))

    out: dict = {
        "ours_seconds": ours_t,
        "ours_seconds_median": median(ours_t),
        "ours_start_system": ours_res.start_system,
        "root_counts": ours_res.root_counts,
        "paths": ours_res.paths,
        "ours_counts": ours_res.counts,
        "ours_solutions": len(ours_res.solutions),
        "ours_solutions_per_repeat": n_ours,
        "ours_singular_solutions": sum(1 for s in ours_res.solutions if s.status.name == "SINGULAR"),
        "ours_failures": ours_res.failures[:20],
        "ours_zero_coordinate_solutions": sum(has_zero_coordinate(s.values) for s in ours_res.solutions),
        "known_solutions": KNOWN_SOLUTIONS.get(name),
    }
    if have_phc:
        ours_v, phc_v = ours_res.values(), phc_res.values()
        phc_unmatched, ours_unmatched = match_solutions(ours_v, phc_v)
        names = list(system.variables)
        out.update(
            {
                "phc_seconds": phc_t,
                "phc_seconds_median": median(phc_t),
                "phc_wall_seconds": phc_wall,
                "phc_paths": phc_res.paths,
                "phc_root_counts": phc_res.root_counts,
                "phc_counts": phc_res.counts,
                "phc_solutions": len(phc_res.solutions),
                "phc_solutions_per_repeat": n_phc,
                "phc_all_matched": bool(phc_unmatched.size == 0),
                "phc_unmatched": int(phc_unmatched.size),
                "phc_unmatched_examples": [describe_point(phc_v[k], names) for k in phc_unmatched[:10]],
                "phc_unmatched_max_abs": [float(np.abs(phc_v[k]).max()) for k in phc_unmatched[:10]],
                "ours_not_in_phc": int(ours_unmatched.size),
                "ours_not_in_phc_zero_coordinate": int(sum(has_zero_coordinate(ours_v[k]) for k in ours_unmatched)),
                "ours_not_in_phc_examples": [describe_point(ours_v[k], names) for k in ours_unmatched[:5]],
                "end_to_end_ratio": ratio(median(ours_t), median(phc_t)),
            }
        )
    return out


def bench_tracker(system, name: str, repeats: int, seed: int, threads: int, sample: int, have_phcpy: bool) -> dict:
    """Our Numba tracker against phcpy's ``trackers.track`` on our start system."""
    from solver.engine.options import TrackerOptions
    from solver.engine.result import PathStatus
    from solver.engine.homotopy import homotopy_data
    from solver.engine.solve import track
    from solver.engine.start_systems.choice import choose_start

    rng = np.random.default_rng(seed)
    start = choose_start(system, "auto", rng, seed)
    hom = homotopy_data(system, start, rng)
    starts = np.concatenate(list(start.solutions()))
    P = starts.shape[0]
    if sample and sample < P:
        idx = np.sort(np.random.default_rng(seed + 1).choice(P, size=sample, replace=False))
        starts = np.ascontiguousarray(starts[idx])
    k = starts.shape[0]
    options = TrackerOptions.default()
    tasks = 0 if threads <= 1 else threads

    start_pols = start_sols = None
    if have_phcpy:
        start_pols, expanded = product_start_as_phc(start, system.n_variables)
        # the start solutions must solve the start system as phcpy will read it
        worst = float(np.nanmax(expanded.relative_residuals(starts))) if k else 0.0
        if not worst < 1e-8:
            raise BenchError(f"our start solutions do not solve the written start system (residual {worst:.1e})")
        start_sols = start_solutions_as_phc(starts)

    ours_t, phc_t, ours_out, phc_out = [], [], None, None
    for r in range(repeats):
        t, res = timed(lambda: track(starts, hom, options))
        ours_t.append(t)
        ours_out = ours_out or res
        if have_phcpy:
            t, pts, pst = phcpy_track(system, start_pols, start_sols, seed, tasks)
            phc_t.append(t)
            phc_out = phc_out or (pts, pst)
        log(f"  {name} tracker ({k} paths), repeat {r + 1}: ours {ours_t[-1]:.3f} s" + (f", phcpy {phc_t[-1]:.3f} s" if have_phcpy else ""))

    endpoints, status, reason, winding, steps = ours_out
    finite = (status == PathStatus.REGULAR) | (status == PathStatus.SINGULAR)
    inf = status == PathStatus.AT_INFINITY
    out: dict = {
        "start_system": start.kind,
        "start_paths": int(P),
        "tracked_paths": int(k),
        "ours_seconds": ours_t,
        "ours_ms_per_path": 1e3 * median(ours_t) / max(k, 1),
        "ours_status": status_counts(status),
        "ours_steps_mean": float(steps.mean()) if k else None,
        "ours_steps_finite_mean": float(steps[finite].mean()) if finite.any() else None,
        "ours_steps_infinity_mean": float(steps[inf].mean()) if inf.any() else None,
        "ours_steps_max": int(steps.max()) if k else None,
        "ours_winding_gt1": int((winding > 1).sum()),
        "ours_us_per_step": 1e6 * median(ours_t) / max(int(steps.sum()), 1),
    }
    if have_phcpy:
        from solver.engine.endpoints import collect_solutions

        pts, pst = phc_out
        sols, pst2 = collect_solutions(system, pts, pst)
        out.update(
            {
                "phcpy_tasks": tasks,
                "phcpy_seconds": phc_t,
                "phcpy_ms_per_path": 1e3 * median(phc_t) / max(k, 1),
                "phcpy_status": status_counts(pst2),
                "phcpy_solutions": len(sols),
                "tracker_ratio": ratio(median(ours_t), median(phc_t)),
            }
        )
    return out


def warm_up(threads: int) -> dict:
    """First solve in this process (Numba cache load or compilation) and a second one."""
    from solver.engine.examples import by_name
    from solver.engine.solve import solve

    t_import, _ = timed(lambda: __import__("solver.engine.path_kernels"))
    s = by_name("katsura-3")
    first, _ = timed(lambda: solve(s, threads=threads))
    second, _ = timed(lambda: solve(s, threads=threads))
    return {
        "import_seconds": t_import,
        "first_solve_seconds": first,
        "second_solve_seconds": second,
        "jit_seconds": first - second,
        "system": "katsura-3",
    }


def environment(threads_requested: int) -> dict:
    import numba

    from solver.engine.backends.phcpack import phc_available, phcpy_available

    def run(cmd: list[str]) -> str | None:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=20, cwd=ROOT).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            return None

    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": run(["git", "rev-parse", "--short", "HEAD"]),
        # the tree is shared: engine files changed but not committed when the run started
        "solver_uncommitted": (run(["git", "status", "--porcelain", "--", "solver"]) or "").splitlines(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "phc_version": (run(["phc", "--version"]) or "").splitlines()[0] if phc_available() else None,
        "phc_available": phc_available(),
        "phcpy_available": phcpy_available(),
        "cpu_count": os.cpu_count(),
        "numba_threads_available": numba.config.NUMBA_NUM_THREADS,
        "threads_requested": threads_requested,
        "load_average_start": list(os.getloadavg()),
    }


# ---------------------------------------------------------------------------------------
# report


def _fmt(x: Any, spec: str = ".3g") -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "**no**"
    if isinstance(x, float):
        return format(x, spec)
    return str(x)


def markdown_table(report: dict) -> str:
    head = (
        "| system | start | paths | known | ours sols | phc -b sols | every phc sol in ours | ours not in phc (zero coord.) "
        "| ours s | phc -b s | e2e ours/phc | tracked paths | ours ms/path | phcpy ms/path | tracker ours/phcpy "
        "| our steps/path finite / inf |"
    )
    sep = "|" + "---|" * (head.count("|") - 1)
    rows = [head, sep]
    for name, r in report["systems"].items():
        if "error" in r:
            rows.append(f"| {name} | error: {r['error'].splitlines()[-1][:80]} |" + " |" * 14)
            continue
        e, t = r.get("end_to_end", {}), r.get("tracker", {})
        not_in = e.get("ours_not_in_phc")
        not_in_s = "-" if not_in is None else f"{not_in} ({e.get('ours_not_in_phc_zero_coordinate')})"
        e2e, tr = e.get("end_to_end_ratio"), t.get("tracker_ratio")
        mark = lambda v, lim: "-" if v is None else (f"{v:.2f}" if v <= lim else f"**{v:.2f}**")  # noqa: E731
        steps = f"{_fmt(t.get('ours_steps_finite_mean'), '.0f')} / {_fmt(t.get('ours_steps_infinity_mean'), '.0f')}"
        matched = e.get("phc_all_matched")
        matched_s = _fmt(matched) if matched is not False else f"**no: {e.get('phc_unmatched')} missed**"
        rows.append(
            f"| {name} | {e.get('ours_start_system', '-')} | {e.get('paths', '-')} | {_fmt(e.get('known_solutions'))} "
            f"| {_fmt(e.get('ours_solutions'))} | {_fmt(e.get('phc_solutions'))} | {matched_s} | {not_in_s} "
            f"| {_fmt(e.get('ours_seconds_median'), '.2f')} | {_fmt(e.get('phc_seconds_median'), '.2f')} | {mark(e2e, TARGETS['end_to_end_ratio'])} "
            f"| {t.get('tracked_paths', '-')} | {_fmt(t.get('ours_ms_per_path'), '.2f')} | {_fmt(t.get('phcpy_ms_per_path'), '.2f')} "
            f"| {mark(tr, TARGETS['tracker_ratio'])} | {steps} |"
        )
    env, w = report["environment"], report["warmup"]
    rows.append("")
    rows.append(
        f"Threads: ours {report['threads']} (Numba), phcpy tasks {report['phcpy_tasks']}, phc -b 1. "
        f"Median of {report['repeats']}, seed {report['seed']}. Warm-up (excluded): first solve {w['first_solve_seconds']:.2f} s, "
        f"second {w['second_solve_seconds']:.2f} s (JIT/cache load ~{w['jit_seconds']:.2f} s). "
        f"Load average at start {env['load_average_start'][0]:.2f}, at end {report.get('load_average_end', [float('nan')])[0]:.2f} "
        f"on {env['cpu_count']} cores. Bold ratios miss the targets (tracker <= {TARGETS['tracker_ratio']}, "
        f"end to end <= {TARGETS['end_to_end_ratio']:.2f})."
    )
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------
# main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    p.add_argument("--systems", help="comma-separated names (default: all twelve)")
    p.add_argument("--threads", type=int, default=1, help="Numba threads for our tracker and phcpy tasks (default 1; phc -b always 1)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats per measurement (median reported)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--tracker-paths", type=int, default=200,
        help="same-start comparison: track a random sample of this many start solutions on both sides (0: all)",
    )  # fmt: skip
    p.add_argument("--skip-end-to-end", action="store_true", help="only the same-start tracker comparison")
    p.add_argument("--skip-tracker", action="store_true", help="only the end-to-end comparison")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "engine.json"), help="JSON output path")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.repeats < 1 or args.threads < 1 or args.tracker_paths < 0:
        print("error: --repeats and --threads must be at least 1, --tracker-paths at least 0", file=sys.stderr)
        return 2
    from solver.engine.examples import by_name
    from solver.engine.system import InvalidSystem

    names = args.systems.split(",") if args.systems else (QUICK if args.quick else FULL)
    names = [s.strip() for s in names if s.strip()]
    try:
        systems = {s: by_name(s) for s in names}
    except InvalidSystem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    import numba

    threads = min(args.threads, numba.config.NUMBA_NUM_THREADS)
    if threads != args.threads:
        log(f"only {threads} Numba threads available; using {threads}")
    numba.set_num_threads(threads)
    env = environment(args.threads)
    if not env["phc_available"]:
        log("phc is not on the PATH: no phc -b column")
    if not env["phcpy_available"]:
        log("phcpy does not import: no phcpy column")

    log("warm-up (JIT compilation or cache load, not timed below) ...")
    warm = warm_up(threads)
    log(f"  first solve {warm['first_solve_seconds']:.2f} s, second {warm['second_solve_seconds']:.2f} s")

    report: dict = {
        "benchmark": "engine",
        "threads": threads,
        "phcpy_tasks": 0 if threads <= 1 else threads,
        "repeats": args.repeats,
        "seed": args.seed,
        "tracker_paths_cap": args.tracker_paths,
        "match_tolerance": MATCH_TOLERANCE,
        "targets": TARGETS,
        "environment": env,
        "warmup": warm,
        "systems": {},
    }
    t_all = time.perf_counter()
    for name, system in systems.items():
        log(f"{name}: {system.n_variables} variables, total degree {system.total_degree}")
        entry: dict = {"n_variables": system.n_variables, "total_degree": system.total_degree}
        sig0 = jit_signatures()
        try:
            t_start, st = timed(
                lambda: __import__("solver.engine.start_systems.choice", fromlist=["choose_start"]).choose_start(system, "auto", np.random.default_rng(args.seed), args.seed)
            )
            entry["choose_start_seconds"] = t_start
            if not args.skip_end_to_end:
                entry["end_to_end"] = bench_end_to_end(system, name, args.repeats, args.seed, threads, env["phc_available"])
            if not args.skip_tracker:
                entry["tracker"] = bench_tracker(system, name, args.repeats, args.seed, threads, args.tracker_paths, env["phcpy_available"])
        except Exception as exc:  # one broken system must not lose the others
            entry["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            log(f"  {name} failed: {entry['error']}")
            log(traceback.format_exc())
        entry["new_jit_signatures"] = jit_signatures() - sig0
        report["systems"][name] = entry
    report["total_seconds"] = time.perf_counter() - t_all
    report["load_average_end"] = list(os.getloadavg())

    table = markdown_table(report)
    report["markdown"] = table
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
    print(table)
    log(f"wrote {out} ({report['total_seconds']:.0f} s)")
    return 0


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, complex):
        return [o.real, o.imag]
    return str(o)


if __name__ == "__main__":
    sys.exit(main())
