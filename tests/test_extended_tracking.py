"""Path tracking in double-double (solver/engine/extended_tracking.py), against mpmath's
roots of the polynomials actually solved (80 digits) and closed forms: it finishes the
paths to ill-conditioned roots that double precision cannot, leaves singular endpoints
failed, and does not run when no path failed."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest

import solver.engine.extended_tracking as extended
import solver.engine.solve as solve_module
from solver.engine.examples import katsura
from solver.engine.formats.phc import parse_system
from solver.engine.homotopy import evaluate_homotopy, homotopy_data, make_workspace, max_degree
from solver.engine.options import TrackerOptions
from solver.engine.path_kernels import track_paths
from solver.engine.result import PathStatus
from solver.engine.start_systems.choice import choose_start
from solver.engine.system import System

WILKINSON20 = Path(__file__).parent / "data" / "hard" / "wilkinson20.phc"


def _wilkinson(n: int, extra: str = "") -> System:
    """prod_{k=1..n} (x - k) expanded with exact integer coefficients (the parser rounds
    those beyond 2^53), plus the equations ``extra``."""
    c = [1]
    for k in range(1, n + 1):  # multiply by (x - k), exactly
        c = [(c[i - 1] if i else 0) - k * (c[i] if i < len(c) else 0) for i in range(len(c) + 1)]
    poly = " + ".join(f"({int(v)})*x^{i}" for i, v in enumerate(c))
    return parse_system(f"{1 + extra.count(';')}\n {poly};\n{extra}")


def _mpmath_roots(system: System) -> np.ndarray:
    """The roots of the univariate ``system`` as its double coefficients define it, at 80
    digits, rounded to double."""
    coeffs, exps, _ = system.packed
    degree = int(exps.max())
    c = [mpmath.mpf(0)] * (degree + 1)
    for a, e in zip(coeffs, exps[:, 0]):
        c[degree - int(e)] += mpmath.mpf(float(a.real))
    with mpmath.workdps(80):
        roots = mpmath.polyroots(c, maxsteps=500, extraprec=600)
    return np.array([complex(r) for r in roots])


def _homotopy(system: System, seed: int = 0):
    rng = np.random.default_rng(seed)
    start = choose_start(system, "total-degree", rng, seed, None, 10**6, polyhedral=False)
    return homotopy_data(system, start, rng), np.concatenate(list(start.solutions()))


def _matches(found: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """For each exact root, the relative distance to the nearest found point, each found
    point used once."""
    found = list(found)
    out = []
    for r in sorted(exact, key=abs):
        d = [abs(f - r) / abs(r) for f in found]
        out.append(min(d))
        found.pop(int(np.argmin(d)))
    return np.array(out)


def test_low_parts_make_the_target_coefficients_exact() -> None:
    system = parse_system(WILKINSON20.read_text())
    hom, _ = _homotopy(system)
    low = extended.target_low_parts(system, hom)
    coeffs = system.packed[0]
    m = Fraction(float(np.abs(coeffs).max()))
    worst = max(abs(Fraction(float(h.real)) + Fraction(float(lo.real)) - Fraction(float(c.real)) / m) / (Fraction(float(c.real)) / m)
                for c, h, lo in zip(coeffs, hom.fc, low))
    assert worst < 1e-30
    assert np.abs(low).max() > 0  # the rounding of c / m was not exact


def test_newton_step_near_an_ill_conditioned_root_matches_mpmath() -> None:
    # at s = 0 beside Wilkinson-20's root near 15 (componentwise condition 5e13) the Newton
    # step from double-double values is mpmath's; the one from double values is noise
    system = parse_system(WILKINSON20.read_text())
    hom, _ = _homotopy(system)
    root = min(_mpmath_roots(system), key=lambda r: abs(r - 15)).real
    with mpmath.workdps(50):
        X, dd = _near(root, hom.patch)
    ws = make_workspace(1, max_degree(hom))
    dws = extended.make_dd_workspace(1, max_degree(hom))
    low = extended.target_low_parts(system, hom)
    extended.evaluate_homotopy_dd(dd, 0.0j, hom, low, np.zeros_like(hom.gc), dws, ws)
    step = np.linalg.solve(ws.jac, ws.f)
    # the affine Newton step, to first order: d(x1/x0) from the projective step
    affine = lambda X0, X1: X1 / X0  # noqa: E731
    moved = affine(complex(X[0]) - step[0], complex(X[1]) - step[1])
    assert abs(moved - root) < 1e-12 * root
    evaluate_homotopy(dd[:, 0] + 1j * dd[:, 2], 0.0j, hom, ws)
    step = np.linalg.solve(ws.jac, ws.f)
    assert abs(affine(complex(X[0]) - step[0], complex(X[1]) - step[1]) - root) > 1e-8 * root


def _near(root: float, patch: np.ndarray) -> tuple[list, np.ndarray]:
    """The projective point on the patch over ``x = root + 1e-9`` (mpmath), and it in
    double-double (2, 4)."""
    x = mpmath.mpf(root) + mpmath.mpf("1e-9")
    a = [mpmath.mpc(complex(v)) for v in patch]
    scale = 1 / (a[0] + a[1] * x)
    X = [scale, x * scale]
    dd = np.zeros((2, 4))
    for j, v in enumerate(X):
        for part, value in ((0, mpmath.re(v)), (2, mpmath.im(v))):
            dd[j, part] = float(value)
            dd[j, part + 1] = float(value - mpmath.mpf(dd[j, part]))
    return X, dd


def test_wilkinson20_paths_end_at_mpmath_roots() -> None:
    system = parse_system(WILKINSON20.read_text())
    hom, starts = _homotopy(system)
    in_double = track_paths(starts, hom, TrackerOptions.preset("ill_conditioned").as_array())[1]
    assert (in_double == PathStatus.FAILED).sum() >= 10
    ends, status, _, _ = extended.track_paths_dd(starts, hom, extended.target_low_parts(system, hom), np.zeros_like(hom.gc),
                                                  extended.EXTENDED.as_array())
    assert (status == PathStatus.REGULAR).all()
    X = (ends[..., 0] + ends[..., 1]) + 1j * (ends[..., 2] + ends[..., 3])
    assert _matches(X[:, 1] / X[:, 0], _mpmath_roots(system)).max() < 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solve_finds_the_20_roots_of_wilkinson20(seed: int) -> None:
    system = parse_system(WILKINSON20.read_text())
    result = solve_module.solve(system, seed=seed)
    assert len(result.solutions) == 20 and result.counts["failed"] == 0
    # the tracker's endpoints are within 1e-12 (above), and the refinement of
    # solver.engine.endpoints keeps them there: Newton with double-double residuals,
    # judged by its next step, not by a residual that is rounding noise near these roots
    assert _matches(result.values()[:, 0], _mpmath_roots(system)).max() < 1e-12


def test_small_system_double_fails_and_double_double_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    # Wilkinson-14 beside x y = 1: exact integer coefficients, roots (k, 1/k)
    system = _wilkinson(14, " x*y - 1;\n")
    exact = np.array([[k, 1.0 / k] for k in range(1, 15)])
    finished = []

    retrack = extended.retrack_extended

    def stage(target, starts, hom, tracked, options=extended.EXTENDED):
        failed = np.flatnonzero(tracked[1] == PathStatus.FAILED)
        done = retrack(target, starts, hom, tracked, options)
        finished.append((tracked[1][failed].copy(), tracked[0][failed] / tracked[0][failed, :1]))
        return done

    monkeypatch.setattr(extended, "retrack_extended", stage)
    result = solve_module.solve(system, seed=0, scale=False)
    (status, ends), = finished
    assert len(status) >= 8 and (status == PathStatus.REGULAR).all()
    assert np.abs(ends[:, 1:, None] - exact.T[None]).max(axis=1).min(axis=1).max() < 1e-12
    # the reported solutions: Newton in double alone would move roots of condition 4e7 by
    # up to cond * eps (13 -> 13.00000004); solver.engine.endpoints keeps them exact
    found = np.array(sorted(result.values().real.tolist()))
    assert found.shape == exact.shape and (np.abs(found - exact) / exact).max() < 1e-12
    monkeypatch.setattr(extended, "retrack_extended", lambda *args, **kwargs: 0)
    assert len(solve_module.solve(system, seed=0, scale=False).solutions) < 14


def test_singular_endpoints_stay_failed() -> None:
    # (x - 1)^2 (x + 1): no Cauchy endgame here, so the paths to the double root fail
    system = parse_system("1\n x^3 - x^2 - x + 1;\n")
    hom, starts = _homotopy(system)
    ends, status, _, _ = extended.track_paths_dd(starts, hom, extended.target_low_parts(system, hom), np.zeros_like(hom.gc),
                                                  extended.EXTENDED.as_array())
    assert sorted(status.tolist()) == [PathStatus.REGULAR, PathStatus.FAILED, PathStatus.FAILED]
    X = ends[status == PathStatus.REGULAR][0]
    assert abs(complex(X[1, 0], X[1, 2]) / complex(X[0, 0], X[0, 2]) + 1) < 1e-14


def test_nothing_runs_when_no_path_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args):
        raise AssertionError("the double-double kernel ran")

    monkeypatch.setattr(extended, "track_paths_dd", refuse)
    result = solve_module.solve(katsura(3), seed=0)
    assert len(result.solutions) == 8 and result.counts["failed"] == 0
