#!/usr/bin/env python
"""Network benchmark: exact mode on the surrogate networks against ``phc -b`` (issue 3).

Rows: the one-hidden-layer networks 1-1-1, 1-2-1, 1-3-1, 1-4-1, 2-1-1 and 2-2-1 (ReLU
surrogate of degree 2, identity output, biases, weight decay 0.01, five data points with
x uniform in [-1, 1] and y standard normal, seed 0: the specs of the network tests).

For each row:

1. **Root counts.** Total degree; the network linear-product (LPS) count, exact, for every
   bias alignment of :func:`solver.networks.structure.bias_variants` (the smallest is the
   one exact mode tracks); their ratio; phcpy's mixed volume and stable mixed volume, in a
   subprocess with a time limit (``--mv-timeout``) so a slow count is reported as
   ``timeout``, never waited for.
2. **Solve**, only when the LPS count is at most ``--max-paths`` (otherwise the row says
   "not tracked (over --max-paths)"). Interleaved repeats: ours, ``phc -b``, ours, ... .
   Ours is exact mode as ``lps critical`` runs it
   (:func:`solver.networks.critical_points.find_critical_points`, LPS start, our Numba tracker on
   one thread): paths tracked and how they ended, finite / real critical points, minima.
   ``phc -b`` (one thread, its own polyhedral start): paths, finite / real solutions.
   Whether every real ``phc -b`` solution is among our real critical points (1e-6,
   max-norm relative to ``max(1, |x|)``), and ours that ``phc -b`` lacks (how many with a
   zero coordinate). Time: ours is the ``solve`` inside exact mode (start system,
   tracking, re-tracking, refinement; ``solve_seconds``) and all of exact mode including
   the budget count, system construction and Hessian classification
   (``exact_seconds``); ``phc -b`` is its process time. Ratios are of medians from the
   same run.
3. Optionally (on by default for tracked rows) our tracker from phcpy's polyhedral start
   (``solve(system, start="polyhedral")``): its paths are the mixed volume, but it misses
   solutions with a zero coordinate (DESIGN.md); the row says how many of our LPS real
   critical points it lacks.

JIT compilation is excluded (a warm-up exact solve of 1-1-1 runs first and is reported);
the script checks that no kernel compiled a new signature while a row was timed.

Run::

    NUMBA_NUM_THREADS=1 .venv/bin/python bench/network.py            # default rows (~15 min)
    NUMBA_NUM_THREADS=1 .venv/bin/python bench/network.py --quick    # 1-1-1, 2-1-1 (~1 min)
    NUMBA_NUM_THREADS=1 .venv/bin/python bench/network.py --specs 2-2-1 --max-paths 250000 --repeats 1

Prints a markdown table on stdout, progress on stderr, and writes JSON (default
``bench/results/network.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/network.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.engine import (  # noqa: E402  (the engine benchmark's conventions, reused)
    _json_default,
    environment,
    has_zero_coordinate,
    jit_signatures,
    log,
    match_solutions,
    median,
    ratio,
    timed,
)

FULL = ["1-1-1", "1-2-1", "1-3-1", "1-4-1", "2-1-1", "2-2-1"]
QUICK = ["1-1-1", "2-1-1"]
#: default path budget: 1-1-1 (105), 2-1-1 (490), 1-2-1 (10,761) are tracked; 2-2-1
#: (224,950), 1-3-1 (1.1M) and 1-4-1 (121M) are counted only
DEFAULT_MAX_PATHS = 20_000
MATCH_TOLERANCE = 1e-6


# ---------------------------------------------------------------------------------------
# specs


def parse_widths(name: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(w) for w in name.split("-"))
    except ValueError:
        raise ValueError(f"bad network {name!r}: widths joined by '-', e.g. 1-2-1") from None
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"bad network {name!r}: at least two positive widths")
    return widths


def make_spec(widths: tuple[int, ...], seed: int = 0, n_samples: int = 5, max_paths: int = 10**9):
    """The network tests' spec (``tests/network_specs.make_spec`` with its defaults):
    relu surrogate of degree 2 on the default interval, identity output layer, biases,
    weight decay 0.01, x ~ U[-1, 1], y ~ N(0, 1); ``max_paths`` lifts exact mode's budget
    (the bench applies its own, ``--max-paths``)."""
    from solver.networks.spec import load_spec

    rng = np.random.default_rng(seed)
    layers = [
        {"in_features": a, "out_features": b, "activation": "relu" if k < len(widths) - 2 else "identity", "bias": True}
        for k, (a, b) in enumerate(zip(widths, widths[1:]))
    ]
    x = rng.uniform(-1, 1, (n_samples, widths[0]))
    y = rng.normal(size=(n_samples, widths[-1]))
    return load_spec(
        {
            "layers": layers,
            "data": {"x": x.tolist(), "y": y.tolist()},
            "surrogate": {"degree": 2},
            "weight_decay": 0.01,
            "mode": "exact",
            "max_paths": int(max_paths),
        }
    )


# ---------------------------------------------------------------------------------------
# counts


def lps_counts(spec) -> dict:
    """Exact LPS count of every bias alignment; the smallest is reported."""
    from solver.networks.structure import bias_variants, lps_count, network_set_structure

    variants = []
    for flags in bias_variants(spec):
        t, count = timed(lambda: lps_count(network_set_structure(spec, bias_down=flags)))
        variants.append({"bias_down": list(flags), "count": int(count), "seconds": t})
    best = min(variants, key=lambda v: v["count"])
    return {"linear_product": best["count"], "variants": variants}


def mixed_volume_subprocess(name: str, seed: int, timeout: float) -> dict:
    """phcpy's mixed volume and stable mixed volume in a child process with a time limit.

    The child prints one JSON line per count as soon as it has it, so a timeout during the
    stable mixed volume keeps the plain one."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_mixed-volume", name, "--seed", str(seed)]
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    t0 = time.perf_counter()
    out: dict = {"mixed_volume": None, "stable_mixed_volume": None, "timeout_seconds": timeout}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
        stdout, status = proc.stdout, ("ok" if proc.returncode == 0 else f"error (exit {proc.returncode})")
        if proc.returncode != 0:
            out["stderr_tail"] = (proc.stderr or "").strip().splitlines()[-3:]
    except subprocess.TimeoutExpired as exc:
        raw = exc.stdout or b""
        stdout = raw.decode() if isinstance(raw, bytes) else raw
        status = "timeout"
    for line in stdout.splitlines():
        try:
            out.update(json.loads(line))
        except ValueError:
            continue
    out["status"] = status
    out["seconds"] = time.perf_counter() - t0
    return out


def _mixed_volume_child(name: str, seed: int) -> int:
    from solver.networks.gradient_system import network_loss
    from solver.engine.backends.phcpack import phcpy_mixed_volume

    system = network_loss(make_spec(parse_widths(name), seed=seed)).system
    t, mv = timed(lambda: phcpy_mixed_volume(system))
    print(json.dumps({"mixed_volume": mv, "mixed_volume_seconds": t}), flush=True)
    t, smv = timed(lambda: phcpy_mixed_volume(system, stable=True))
    print(json.dumps({"stable_mixed_volume": smv, "stable_mixed_volume_seconds": t}), flush=True)
    return 0


# ---------------------------------------------------------------------------------------
# solving


class _Progress:
    """Progress of our tracker on stderr, every tenth of the paths."""

    def __init__(self, label: str):
        self.label, self.next = label, 0.1

    def __call__(self, done: int, total: int) -> None:
        if total and done / total >= self.next:
            log(f"    {self.label}: {done}/{total} paths")
            while done / total >= self.next:
                self.next += 0.1


def ours_exact(spec, label: str):
    """Exact mode as ``lps critical`` runs it (no mixed volume: counted apart)."""
    from solver.networks.critical_points import find_critical_points

    return find_critical_points(spec, method="linear-product", mixed_volume=False, progress=_Progress(label))


def bench_solve(spec, name: str, repeats: int, repeat_limit: float, seed: int, have_phc: bool, phc_timeout: float) -> dict:
    """Ours (exact mode, LPS start) against ``phc -b``, interleaved. Returns the JSON
    entry, our last exact-mode result and the real ``phc -b`` solutions (or None)."""
    from solver.networks.gradient_system import network_loss
    from solver.engine.backends.phcpack import PHCpackError, solve_phc

    system = network_loss(spec).system
    solve_t, exact_t, phc_t = [], [], []
    ours = phc = None
    phc_error = None
    for r in range(repeats):
        t_pair = time.perf_counter()
        res = ours_exact(spec, f"{name} ours, repeat {r + 1}")
        solve_t.append(res.solve_summary["seconds"])
        exact_t.append(res.seconds)
        ours = ours or res
        msg = f"  {name} repeat {r + 1}: ours solve {solve_t[-1]:.2f} s (exact mode {exact_t[-1]:.2f} s)"
        if have_phc and phc_error is None:
            try:
                pres = solve_phc(system, seed=seed, timeout=phc_timeout)
                phc_t.append(pres.seconds)
                phc = phc or pres
                msg += f", phc -b {phc_t[-1]:.2f} s"
            except PHCpackError as exc:
                phc_error = str(exc)
                msg += f", phc -b: {exc}"
        log(msg)
        if time.perf_counter() - t_pair > repeat_limit and r + 1 < repeats:
            log(f"  {name}: one repeat took over {repeat_limit:.0f} s: no more repeats")
            break

    counts = ours.counts()
    s = ours.solve_summary
    minima = [p for p in ours.points if p.kind == "minimum"]
    out: dict = {
        "repeats": len(solve_t),
        "ours_start_system": s["start_system"],
        "ours_paths": s["paths"],
        "ours_path_status": {k: s[k] for k in ("regular", "singular", "at_infinity", "failed")},
        "ours_finite": counts["finite"],
        "ours_real": counts["real"],
        "ours_real_orbits": counts["real_orbits"],
        "ours_complex": counts["complex"],
        "ours_minima": sum(p.found for p in minima),
        "ours_minima_orbits": len(minima),
        "ours_kinds_orbits": {k: counts[f"{k}_orbits"] for k in ("minimum", "saddle", "maximum", "degenerate")},
        "ours_singular_real_orbits": sum(p.singular for p in ours.points),
        "ours_solve_seconds": solve_t,
        "ours_solve_seconds_median": median(solve_t),
        "ours_exact_seconds": exact_t,
        "ours_exact_seconds_median": median(exact_t),
        "ours_best_minimum_loss": min((p.loss for p in minima), default=None),
    }
    if phc_error:
        out["phc_error"] = phc_error
    phc_real = None
    if phc is not None:
        ours_real = np.asarray(ours.real_points, dtype=np.float64).reshape(-1, spec.n_parameters)
        phc_real = phc.values(real_only=True)
        phc_unmatched, ours_unmatched = match_solutions(ours_real, phc_real, MATCH_TOLERANCE)
        out.update(
            {
                "phc_seconds": phc_t,
                "phc_seconds_median": median(phc_t),
                "phc_paths": phc.paths,
                "phc_root_counts": phc.root_counts,
                "phc_path_status": {k: phc.counts[k] for k in ("regular", "singular", "at_infinity", "failed")},
                "phc_finite": len(phc.solutions),
                "phc_real": phc.counts["real"],
                "phc_real_all_in_ours": bool(phc_unmatched.size == 0),
                "phc_real_not_in_ours": int(phc_unmatched.size),
                "ours_real_not_in_phc": int(ours_unmatched.size),
                "ours_real_not_in_phc_zero_coordinate": int(sum(has_zero_coordinate(ours_real[k]) for k in ours_unmatched)),
                "ratio_solve": ratio(median(solve_t), median(phc_t)),
                "ratio_exact": ratio(median(exact_t), median(phc_t)),
            }
        )
    return out, ours, phc_real


def phc_only(system, seed: int, timeout: float) -> dict:
    """One ``phc -b`` run on a row we do not track: its paths, solutions and time."""
    from solver.engine.backends.phcpack import PHCpackError, solve_phc

    try:
        res = solve_phc(system, seed=seed, timeout=timeout)
    except PHCpackError as exc:
        return {"error": str(exc)}
    return {
        "seconds": res.seconds,
        "paths": res.paths,
        "root_counts": res.root_counts,
        "path_status": {k: res.counts[k] for k in ("regular", "singular", "at_infinity", "failed")},
        "finite": len(res.solutions),
        "real": res.counts["real"],
    }


def bench_polyhedral(spec, ours, seed: int, phc_real: np.ndarray | None) -> dict:
    """Our tracker from phcpy's polyhedral start (one run): what it finds and misses."""
    from solver.networks.gradient_system import network_loss
    from solver.engine.solve import solve

    system = network_loss(spec).system
    t, res = timed(lambda: solve(system, start="polyhedral", seed=seed, threads=1, max_paths=10**9))
    ours_real = np.asarray(ours.real_points, dtype=np.float64).reshape(-1, spec.n_parameters)
    poly_real = res.values(real_only=True)
    missing_ours, _ = match_solutions(poly_real, ours_real, MATCH_TOLERANCE)
    out = {
        "seconds": t,
        "paths": res.paths,
        "path_status": {k: res.counts[k] for k in ("regular", "singular", "at_infinity", "failed")},
        "finite": len(res.solutions),
        "real": res.counts["real"],
        "lps_real_missing": int(missing_ours.size),
        "lps_real_missing_zero_coordinate": int(sum(has_zero_coordinate(ours_real[k]) for k in missing_ours)),
    }
    if phc_real is not None:
        phc_unmatched, _ = match_solutions(poly_real, phc_real, MATCH_TOLERANCE)
        out["phc_real_all_in_it"] = bool(phc_unmatched.size == 0)
    return out


def profile_paths(spec, seed: int, sample: int = 0) -> dict:
    """Where our tracking time goes: the pipeline of ``solve`` (same start system, same
    random choices, hence the same paths) split into its first pass and the re-tracking
    of the failed paths, each timed, with outcomes and steps per path by outcome.

    With ``sample`` > 0 and more start solutions than that, a random sample of that many
    paths is tracked and the full time projected (``projected_seconds``)."""
    from solver.networks.structure import best_network_structure
    from solver.networks.gradient_system import network_loss
    from solver.engine.options import TrackerOptions
    from solver.engine.result import FailureReason, PathStatus
    from solver.engine.homotopy import homotopy_data
    from solver.engine.solve import track
    from solver.engine.start_systems.choice import choose_start

    system = network_loss(spec).system
    structure, count, status = best_network_structure(spec)
    rng = np.random.default_rng(seed)  # as solve(): start coefficients, then gamma and patch
    t_start, start = timed(lambda: choose_start(system, "linear-product", rng, seed, structure))
    hom = homotopy_data(system, start, rng)
    t_sol, starts = timed(lambda: np.concatenate(list(start.solutions())))
    P = starts.shape[0]
    if sample and sample < P:
        idx = np.sort(np.random.default_rng(seed + 1).choice(P, size=sample, replace=False))
        starts = np.ascontiguousarray(starts[idx])
    k = starts.shape[0]
    t1, (ends, st, reason, winding, steps) = timed(lambda: track(starts, hom, TrackerOptions.default()))
    failed = np.flatnonzero(st == PathStatus.FAILED)
    t2, retry = timed(lambda: track(starts[failed], hom, TrackerOptions.conservative()))

    def by_status(status, steps_):
        out = {}
        for s in PathStatus:
            m = status == s
            out[s.name.lower()] = {"paths": int(m.sum()), "mean_steps": float(steps_[m].mean()) if m.any() else None}
        return out

    out = {
        "start_paths": int(P),
        "tracked_paths": int(k),
        "sampled": bool(k < P),
        "choose_start_seconds": t_start,
        "start_solutions_seconds": t_sol,
        "first_pass_seconds": t1,
        "first_pass": by_status(st, steps),
        "first_pass_failure_reasons": {
            FailureReason(int(r)).name.lower(): int((reason[failed] == r).sum()) for r in np.unique(reason[failed])
        },
        "retry_seconds": t2,
        "retry": by_status(retry[1], retry[4]) if failed.size else {},
        "ms_per_path_first_pass": 1e3 * t1 / max(k, 1),
    }
    if out["sampled"]:
        out["projected_seconds"] = (t1 + t2) * P / k
    return out


def warm_up() -> dict:
    """Two exact solves of 1-1-1: the first loads (or compiles) the Numba kernels."""
    from solver.networks.critical_points import find_critical_points

    spec = make_spec((1, 1, 1))
    t_import, _ = timed(lambda: __import__("solver.engine.path_kernels"))
    first, _ = timed(lambda: find_critical_points(spec, method="linear-product", mixed_volume=False))
    second, _ = timed(lambda: find_critical_points(spec, method="linear-product", mixed_volume=False))
    return {"import_seconds": t_import, "first_seconds": first, "second_seconds": second, "jit_seconds": first - second, "spec": "1-1-1"}


# ---------------------------------------------------------------------------------------
# report


def _int(x: Any) -> str:
    return "-" if x is None else (f"{x:,}" if isinstance(x, int) else str(x))


def _f(x: Any, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def markdown_table(report: dict) -> str:
    head = (
        "| network | unknowns | total degree | LPS count | total / LPS | mixed volume | paths tracked (ours, LPS) "
        "| ours finite / real / minima | ours failed paths | phc -b paths | phc -b finite / real "
        "| every phc -b real in ours | ours real not in phc -b (zero coord.) | ours solve s | phc -b s "
        "| ours / phc -b (solve) | ours / phc -b (exact mode) | our tracker, polyhedral start: finite / real, LPS reals missed (zero coord.) |"
    )
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, r in report["rows"].items():
        if "error" in r:
            rows.append(f"| {name} | error: {r['error'].splitlines()[-1][:100]} |" + " |" * 16)
            continue
        mv = r["mixed_volume"]
        mv_s = _int(mv.get("mixed_volume")) if mv.get("mixed_volume") is not None else mv.get("status", "-")
        if mv.get("status") == "timeout" and mv.get("mixed_volume") is None:
            mv_s = f"timeout ({mv['timeout_seconds']:.0f} s)"
        cells = [
            name,
            str(r["unknowns"]),
            _int(r["total_degree"]),
            _int(r["linear_product"]),
            _f(r["ratio_total_lps"], ".1f"),
            mv_s,
        ]
        s = r.get("solve")
        if s is None:
            text = r.get("not_tracked", "not tracked")
            pr = r.get("profile")
            if pr and pr.get("sampled"):
                text += f"; sample of {pr['tracked_paths']:,}: projected {pr['projected_seconds']:,.0f} s"
            cells.append(text)
            cells += ["-", "-"]
            po = r.get("phc_only")
            if po and "error" not in po:
                cells += [_int(po["paths"]), f"{po['finite']:,} / {po['real']}", "-", "-", "-", _f(po["seconds"]), "-", "-", "-"]
            else:
                cells += ["-"] * 9 if not po else ["-", f"phc -b: {po['error'][:40]}"] + ["-"] * 7
        else:
            matched = s.get("phc_real_all_in_ours")
            matched_s = "-" if matched is None else ("yes" if matched else f"**no: {s['phc_real_not_in_ours']} missed**")
            not_in = s.get("ours_real_not_in_phc")
            p = r.get("polyhedral")
            poly_s = "-"
            if p is not None and "error" not in p:
                poly_s = f"{p['finite']:,} / {p['real']}, {p['lps_real_missing']} ({p['lps_real_missing_zero_coordinate']})"
            elif p is not None:
                poly_s = "error"
            cells += [
                f"{s['ours_paths']:,}",
                f"{s['ours_finite']:,} / {s['ours_real']} / {s['ours_minima']}",
                f"{s['ours_path_status']['failed']:,}",
                _int(s.get("phc_paths")),
                "-" if s.get("phc_finite") is None else f"{s['phc_finite']:,} / {s['phc_real']}",
                matched_s if not s.get("phc_error") else f"phc -b: {s['phc_error'][:40]}",
                "-" if not_in is None else f"{not_in} ({s['ours_real_not_in_phc_zero_coordinate']})",
                _f(s["ours_solve_seconds_median"]),
                _f(s.get("phc_seconds_median")),
                _f(s.get("ratio_solve")),
                _f(s.get("ratio_exact")),
                poly_s,
            ]
        rows.append("| " + " | ".join(cells) + " |")
    env, w = report["environment"], report["warmup"]
    reps = {n: r["solve"]["repeats"] for n, r in report["rows"].items() if r.get("solve")}
    rows.append("")
    rows.append(
        f"Threads: ours {report['threads']} (Numba), phc -b 1. Seed {report['seed']}. Timed repeats per tracked row "
        f"(median): {', '.join(f'{n} {k}' for n, k in reps.items()) or '-'}. --max-paths {report['max_paths']:,}. "
        f"Warm-up (excluded): first exact solve of 1-1-1 {w['first_seconds']:.2f} s, second {w['second_seconds']:.2f} s. "
        f"Load average at start {env['load_average_start'][0]:.2f}, at end {report.get('load_average_end', [float('nan')])[0]:.2f} "
        f"on {env['cpu_count']} cores."
    )
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------
# main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    p.add_argument("--specs", help=f"comma-separated networks (default: {','.join(FULL)})")
    p.add_argument(
        "--max-paths", type=int, default=DEFAULT_MAX_PATHS,
        help=f"track only rows whose LPS count is at most this (default {DEFAULT_MAX_PATHS:,}); the others get counts only",
    )  # fmt: skip
    p.add_argument("--repeats", type=int, default=3, help="timed repeats per tracked row, interleaved ours / phc -b (median reported)")
    p.add_argument("--repeat-limit", type=float, default=150.0, help="no further repeats once one (ours + phc -b) took longer (s)")
    p.add_argument("--mv-timeout", type=float, default=600.0, help="time limit for phcpy's mixed volumes per row (s)")
    p.add_argument("--phc-timeout", type=float, default=3600.0, help="time limit for one phc -b run (s)")
    p.add_argument("--skip-polyhedral", action="store_true", help="no run of our tracker from the polyhedral start")
    p.add_argument("--skip-phc", action="store_true", help="no phc -b runs")
    p.add_argument("--profile", action="store_true", help="tracked rows: one more run split into first pass and re-tracking, timed")
    p.add_argument(
        "--profile-sample", type=int, default=0, metavar="K",
        help="rows over --max-paths: track a random sample of K start solutions and project the full time (0: no)",
    )  # fmt: skip
    p.add_argument(
        "--phc-untracked", default="", metavar="NAMES",
        help="comma-separated rows over --max-paths on which phc -b still runs once (its own paths), e.g. 2-2-1",
    )  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="data seed and solver seed")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "network.json"), help="JSON output path")
    p.add_argument("--_mixed-volume", dest="mixed_volume_child", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.mixed_volume_child:
        return _mixed_volume_child(args.mixed_volume_child, args.seed)
    if args.repeats < 1 or args.max_paths < 0:
        print("error: --repeats must be at least 1 and --max-paths at least 0", file=sys.stderr)
        return 2
    names = [s.strip() for s in (args.specs.split(",") if args.specs else (QUICK if args.quick else FULL)) if s.strip()]
    try:
        widths = {n: parse_widths(n) for n in names}
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    import numba

    numba.set_num_threads(1)  # one core against phc -b's one; find_critical_points uses Numba's setting
    env = environment(1)
    have_phc = env["phc_available"] and not args.skip_phc
    if not env["phc_available"]:
        log("phc is not on the PATH: no phc -b columns")
    log("warm-up (JIT compilation or cache load, not timed below) ...")
    warm = warm_up()
    log(f"  first exact solve {warm['first_seconds']:.2f} s, second {warm['second_seconds']:.2f} s")

    report: dict = {
        "benchmark": "network",
        "threads": 1,
        "numba_threads_in_use": numba.get_num_threads(),
        "phc_threads": 1,
        "repeats": args.repeats,
        "repeat_limit_seconds": args.repeat_limit,
        "max_paths": args.max_paths,
        "seed": args.seed,
        "match_tolerance": MATCH_TOLERANCE,
        "spec": "relu surrogate degree 2 (default interval), identity output, biases, weight decay 0.01, 5 samples, x ~ U[-1,1], y ~ N(0,1)",
        "command": " ".join([Path(sys.executable).name, "bench/network.py", *(argv if argv is not None else sys.argv[1:])]),
        "environment": env,
        "warmup": warm,
        "rows": {},
    }
    t_all = time.perf_counter()
    for name in names:
        from solver.networks.gradient_system import network_loss

        entry: dict = {}
        sig0 = jit_signatures()
        try:
            spec = make_spec(widths[name], seed=args.seed)
            system = network_loss(spec).system
            entry["unknowns"] = system.n_variables
            entry["total_degree"] = int(system.total_degree)
            t, lps = timed(lambda: lps_counts(spec))
            entry.update(lps)
            entry["lps_seconds"] = t
            entry["ratio_total_lps"] = entry["total_degree"] / entry["linear_product"]
            log(f"{name}: {system.n_variables} unknowns, total degree {entry['total_degree']:,}, LPS {entry['linear_product']:,} ({t:.2f} s); mixed volume ...")
            entry["mixed_volume"] = mixed_volume_subprocess(name, args.seed, args.mv_timeout)
            mv = entry["mixed_volume"]
            log(f"  mixed volume {mv.get('mixed_volume')}, stable {mv.get('stable_mixed_volume')} ({mv['status']}, {mv['seconds']:.1f} s)")
            if entry["linear_product"] > args.max_paths:
                entry["not_tracked"] = f"not tracked (over --max-paths {args.max_paths:,})"
                log(f"  {name}: {entry['not_tracked']}")
                if args.profile_sample:
                    log(f"  {name}: profiling a sample of {args.profile_sample} paths ...")
                    entry["profile"] = profile_paths(spec, args.seed, args.profile_sample)
                    log(f"  {name}: projected {entry['profile'].get('projected_seconds', 0):.0f} s for all paths")
                if name in args.phc_untracked.split(",") and have_phc:
                    entry["phc_only"] = phc_only(system, args.seed, args.phc_timeout)
                    log(f"  {name}: phc -b {entry['phc_only']}")
            else:
                entry["solve"], ours, phc_real = bench_solve(spec, name, args.repeats, args.repeat_limit, args.seed, have_phc, args.phc_timeout)
                if args.profile:
                    entry["profile"] = profile_paths(spec, args.seed)
                    pr = entry["profile"]
                    log(f"  {name} profile: first pass {pr['first_pass_seconds']:.1f} s, re-tracking {pr['retry_seconds']:.1f} s")
                if not args.skip_polyhedral:
                    try:
                        entry["polyhedral"] = bench_polyhedral(spec, ours, args.seed, phc_real)
                        p = entry["polyhedral"]
                        log(f"  {name} polyhedral start: {p['paths']} paths, {p['finite']} finite, {p['real']} real, {p['seconds']:.2f} s")
                    except Exception as exc:  # phcpy trouble must not lose the row
                        entry["polyhedral"] = {"error": "".join(traceback.format_exception_only(type(exc), exc)).strip()}
                        log(f"  {name} polyhedral start failed: {entry['polyhedral']['error']}")
        except Exception as exc:  # one broken row must not lose the others
            entry["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            log(f"  {name} failed: {entry['error']}")
            log(traceback.format_exc())
        entry["new_jit_signatures"] = jit_signatures() - sig0
        report["rows"][name] = entry
        _write(report, args.out)  # partial results survive an interrupted run
    report["total_seconds"] = time.perf_counter() - t_all
    report["load_average_end"] = list(os.getloadavg())
    report["markdown"] = markdown_table(report)
    _write(report, args.out)
    print(report["markdown"])
    log(f"wrote {args.out} ({report['total_seconds']:.0f} s)")
    return 0


def _write(report: dict, path: str) -> None:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=_json_default) + "\n")


if __name__ == "__main__":
    sys.exit(main())
