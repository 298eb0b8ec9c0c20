"""PHCpack backends: ``phc -b`` (the executable) and phcpy (its Python bindings)
(Verschelde, "Algorithm 795: PHCpack: a general-purpose solver for polynomial systems by
homotopy continuation", ACM TOMS 25, 1999, doi:10.1145/317275.317286).

Both return a :class:`~solver.engine.result.SolveResult` built by
:func:`~solver.engine.endpoints.collect_solutions`, so PHCpack's endpoints are refined, merged and
judged by exactly the rules that judge our own tracker. They are also the test oracles.

Conventions (DESIGN.md, "PHCpack pitfalls"):

- Variables are renamed ``x1..xn`` before PHCpack sees them (PHCpack reads ``e``/``E`` as
  part of a number) and :func:`~solver.engine.formats.phc.format_system` writes them so that they
  first appear in that order; values are mapped back by position.
- ``phc -b`` appends its solutions to its *input* file: it runs on a copy in a temporary
  directory.
- phcpy keeps global state (systems, solutions, cells, set structures, symbols) in
  containers that leak from one call into the next (``mixed_volume`` after
  ``random_linear_product_system`` measures the start system!). Every phcpy call here holds
  one lock, clears the containers first and silences phcpy's output at the file-descriptor
  level. All phcpy use of the project lives in this module.
- Polyhedral start systems (phc -b's stable mixed volume aside) count solutions in the
  torus only: solutions with a zero coordinate can be missed. Never treat a PHCpack list as
  complete.
"""

from __future__ import annotations

from solver.errors import LpsError

import contextlib
import ctypes
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from solver.engine.formats.phc import PHCSolution, appearance_order, format_system, parse_solutions, parse_system
from solver.engine.result import FailureReason, PathStatus, SolveResult
from solver.engine.endpoints import SINGULAR_CONDITION, collect_solutions, path_counts
from solver.engine.system import InvalidSystem, Polynomial, System

__all__ = [
    "PHCpackError",
    "phc_available",
    "phcpy_available",
    "solve_phc",
    "run_phc",
    "PHCRun",
    "solve_phcpy",
    "phcpy_root_counts",
    "phcpy_mixed_volume",
    "phcpy_linear_product_count",
    "phcpy_random_coefficient_start",
    "PHCPY_STARTS",
]

PHC_COMMAND = "phc"
PHCPY_STARTS = ("linear-product", "total-degree", "polyhedral")
#: endpoints larger than this are at infinity (PHCpack's own path tolerance)
INFINITY_THRESHOLD = 1e8
#: a path that PHCpack stopped short of t = 1 with coordinates beyond this diverged
DIVERGED_THRESHOLD = 1e4


class PHCpackError(LpsError, RuntimeError):
    """PHCpack failed to run (missing, crashed, timed out, unreadable output)."""


# ---------------------------------------------------------------------------------------
# availability


def phc_available() -> bool:
    """True when the ``phc`` executable is on the PATH."""
    return shutil.which(PHC_COMMAND) is not None


_phcpy_modules: dict | None = None
_phcpy_error: str | None = None
_LOCK = threading.RLock()


def phcpy_available() -> bool:
    """True when phcpy imports (it prints a banner on import; silenced here)."""
    try:
        _phcpy()
    except PHCpackError:
        return False
    return True


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """Send everything written to fd 1 (phcpy's C and Ada code) and ``sys.stdout`` to
    nowhere. Holds the phcpy lock: phcpy is neither thread-safe nor reentrant."""
    with _LOCK:
        _flush_c_stdout()
        try:
            sys.stdout.flush()
        except (AttributeError, ValueError):
            pass
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            with contextlib.redirect_stdout(io.StringIO()):
                yield
        finally:
            _flush_c_stdout()  # buffered C output must go to /dev/null, not later to fd 1
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)


def _flush_c_stdout() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass


def _phcpy() -> dict:
    """phcpy's modules, imported once with the banner silenced."""
    global _phcpy_modules, _phcpy_error
    if _phcpy_modules is not None:
        return _phcpy_modules
    if _phcpy_error is not None:
        raise PHCpackError(_phcpy_error)
    with _silenced():
        try:
            import phcpy.interface as interface
            import phcpy.phcpy2c3 as c
            from phcpy import solver, trackers
        except Exception as exc:  # ImportError, or a broken shared library
            _phcpy_error = f"phcpy is not available: {exc}"
            raise PHCpackError(_phcpy_error) from None
    _phcpy_modules = {"c": c, "solver": solver, "trackers": trackers, "interface": interface}
    return _phcpy_modules


@contextlib.contextmanager
def _phcpy_session(seed: int | None = None) -> Iterator[dict]:
    """Lock, silence, clear phcpy's containers and (optionally) seed its generator."""
    mods = _phcpy()
    with _silenced():
        c = mods["c"]
        for clear in (
            "py2c_syscon_clear_standard_system",
            "py2c_syscon_clear_standard_Laurent_system",
            "py2c_solcon_clear_standard_solutions",
            "py2c_celcon_clear_container",
            "py2c_product_clear_set_structure",
        ):
            getattr(c, clear)()
        if seed is not None:
            c.py2c_set_seed(_phc_seed(seed))
        yield mods


#: ``phc -0`` (no number) fixes PHCpack's seed to this value; our seed 0 means the same
PHC_DEFAULT_SEED = 68717


def _phc_seed(seed: int) -> int:
    """Our seed -> PHCpack's. PHCpack's generator is degenerate for seed 0 (phcpy then
    builds start systems with zero coefficients and tracks nothing), so 0 maps to the seed
    ``phc -0`` uses."""
    seed = int(seed)
    if seed < 0:
        raise InvalidSystem(f"the seed must be a nonnegative integer, got {seed}")
    seed %= 2_147_483_647
    return PHC_DEFAULT_SEED if seed == 0 else seed


def _gamma(seed: int) -> complex:
    """The homotopy's gamma constant, a random unit complex number drawn from ``seed``.
    phcpy's own random gamma (``gamma=0``) loses paths: on katsura-3 from the
    total-degree start it leaves 2 of 8 paths at t = 0 for every seed we tried."""
    u = np.random.default_rng([int(seed), 0x9E3779B9]).uniform()
    return complex(np.exp(2j * np.pi * u))


# ---------------------------------------------------------------------------------------
# shared helpers


def _prepare(system: System) -> tuple[list[str], str]:
    """Validate, rename and write for PHCpack; returns (names, PHC text).

    ``names[j]`` is the PHCpack name of ``system.variables[j]``: ``x1..xn`` numbered in
    order of first appearance in the text, so that PHCpack's symbol table is ``x1..xn`` and
    no zero-term declaration is written (PHCpack would keep it in the supports)."""
    system.require_square()
    used = np.zeros(system.n_variables, dtype=bool)
    for p in system.polynomials:
        used |= (p.exponents > 0).any(axis=0)
    if not used.all():
        missing = [v for v, u in zip(system.variables, used) if not u]
        raise InvalidSystem(f"variables {missing} occur in no equation: the solution set is not isolated")
    names = [""] * system.n_variables
    for k, j in enumerate(appearance_order(system)):
        names[j] = f"x{k + 1}"
    text = format_system(system, names, declare=False)
    if " 0*x" in text:  # never expected: every variable occurs, names follow appearance
        raise PHCpackError("internal error: the PHC text needs variable declarations")
    return names, text


def _polynomial_strings(text: str) -> list[str]:
    """The polynomials of a PHC text as phcpy wants them: one string each, ending in ';'."""
    body = text.split("\n", 1)[1]
    return [s.strip().replace("\n", " ") + ";" for s in body.split(";") if s.strip()]


def _classify(sols: Sequence[PHCSolution], n: int, check_t: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Endpoints (P, n), path statuses and failure flags from PHCpack's diagnostics:
    at infinity beyond ``INFINITY_THRESHOLD`` (or beyond ``DIVERGED_THRESHOLD`` on a path
    stopped before t = 1), singular when ``rco < 1 / SINGULAR_CONDITION``; the finite ones
    are then judged by :func:`collect_solutions`. ``check_t=False`` for phc -b's final
    list: it holds solutions with ``t : 0`` (solved directly from a stable mixed cell, no
    path: the origin of ``u w^2 - 2w + u/2, u^2 w - 2u + w/2``), which are as final as the
    others; dropping them loses exactly the solutions with zero coordinates."""
    P = len(sols)
    pts = np.full((P, n), np.nan + 0j, dtype=np.complex128)
    status = np.full(P, PathStatus.FAILED, dtype=np.int64)
    for k, s in enumerate(sols):
        x = np.asarray(s, dtype=np.complex128)
        pts[k] = x
        size = np.abs(x).max(initial=0.0)
        if not np.isfinite(x).all():
            status[k] = PathStatus.FAILED
        elif check_t and abs(s.t - 1.0) > 1e-8:
            # stopped short of t = 1: diverging (PHCpack gives up as |x| blows up) or failed
            status[k] = PathStatus.AT_INFINITY if size > DIVERGED_THRESHOLD else PathStatus.FAILED
        elif size > INFINITY_THRESHOLD:
            status[k] = PathStatus.AT_INFINITY
        elif np.isfinite(s.rco) and s.rco < 1.0 / SINGULAR_CONDITION:
            status[k] = PathStatus.SINGULAR
        else:
            status[k] = PathStatus.REGULAR
    backend_failed = status == PathStatus.FAILED
    return pts, status, backend_failed


def _result(
    system: System,
    endpoints: np.ndarray,
    statuses: np.ndarray,
    backend_failed: np.ndarray,
    start_system: str,
    backend: str,
    root_counts: dict,
    seconds: float,
) -> SolveResult:
    solutions, statuses = collect_solutions(system, endpoints, statuses)
    failures = [
        (int(i), (FailureReason.BACKEND if backend_failed[i] else FailureReason.NOT_A_SOLUTION).name.lower())
        for i in np.flatnonzero(statuses == PathStatus.FAILED)
    ]
    return SolveResult(
        variables=tuple(system.variables),
        start_system=start_system,
        backend=backend,
        root_counts=root_counts,
        paths=int(len(statuses)),
        counts=path_counts(statuses, solutions),
        solutions=solutions,
        seconds=seconds,
        failures=failures,
    )


# ---------------------------------------------------------------------------------------
# phc -b

_COUNT_PATTERNS = {
    "total_degree": re.compile(r"^\s*total degree\s*:\s*(\d+)", re.M),
    "linear_product": re.compile(r"^\s*general(?:ized)? linear-product Bezout number\s*:\s*(\d+)", re.M),
    "mixed_volume": re.compile(r"^\s*mixed volume\s*:\s*(\d+)", re.M),
    "stable_mixed_volume": re.compile(r"^\s*stable mixed volume\s*:\s*(\d+)", re.M),
}
_SUMMARY = {
    "at_infinity": re.compile(r"Number of solutions at infinity\s*:\s*(\d+)"),
    "failed": re.compile(r"Number of failures\s*:\s*(\d+)"),
}


def phc_root_counts(output: str) -> dict:
    """Root counts printed in a ``phc -b`` output file (None where not printed)."""
    out = {}
    for key, pat in _COUNT_PATTERNS.items():
        m = pat.search(output)
        out[key] = int(m.group(1)) if m else None
    return out


@dataclass
class PHCRun:
    """The raw outcome of one ``phc -b`` run.

    Attributes
    ----------
    names : list of str
        PHCpack's name of each of ``system.variables`` (position by position).
    solutions : list of PHCSolution
        phc's final list (the one it appends to its input file), values in
        ``system.variables`` order, with phc's ``t``, ``m``, ``err``, ``rco``, ``res``.
    output : str
        phc's output file (root counts, tracking reports, timings).
    seconds : float
        Wall time of the run.
    """

    names: list[str]
    solutions: list[PHCSolution]
    output: str
    seconds: float


def run_phc(system: System, seed: int = 0, timeout: float | None = None) -> PHCRun:
    """Run ``phc -b -0<seed>`` on a copy of ``system`` (variables renamed ``x1..xn``) in a
    temporary directory and read its final solution list; see :func:`solve_phc`."""
    names, text = _prepare(system)
    if not phc_available():
        raise PHCpackError(f"the PHCpack executable {PHC_COMMAND!r} is not on the PATH")
    seed_flag = f"-0{_phc_seed(seed)}"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lps-phc-") as tmp:
        # phc appends its solutions to the input file and asks before overwriting the
        # output file: fresh files in a fresh directory, stdin closed
        inp, out = Path(tmp) / "input.phc", Path(tmp) / "output.phc"
        inp.write_text(text)
        cmd = [PHC_COMMAND, "-b", seed_flag, str(inp), str(out)]
        try:
            proc = subprocess.run(
                cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, cwd=tmp
            )
        except subprocess.TimeoutExpired:
            raise PHCpackError(f"phc -b did not finish within {timeout} s") from None
        seconds = time.perf_counter() - t0
        appended = inp.read_text()
        output = out.read_text() if out.exists() else ""
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout or output).strip().splitlines()[-3:]
        raise PHCpackError(f"phc -b failed with exit status {proc.returncode}: {' '.join(tail)}")
    if "THE SOLUTIONS" in appended:
        sols = parse_solutions(appended, names)
    elif "TIMING INFORMATION" in output or "Number of failures" in output:
        sols = []  # phc ran and found nothing
    else:
        raise PHCpackError("phc -b wrote no solution list and no recognisable output")
    return PHCRun(names, sols, output, seconds)


def solve_phc(system: System, seed: int = 0, timeout: float | None = None) -> SolveResult:
    """Solve with PHCpack's blackbox solver ``phc -b``.

    Parameters
    ----------
    system : System
        Square; any variable names (renamed ``x1..xn`` for phc, mapped back).
    seed : int
        ``phc -0<seed>`` fixes PHCpack's random generators; ``0`` means phc's own fixed
        seed (``-0``, 68717).
    timeout : float, optional
        Seconds before phc is killed and :class:`PHCpackError` raised.

    Returns
    -------
    SolveResult
        ``start_system="polyhedral"``, ``backend="phc"``. Every solution of phc's final
        list is an endpoint, whatever its ``t`` (phc lists solutions found from stable
        mixed cells, the ones with zero coordinates, with ``t : 0``). ``paths`` is the root
        count phc tracked (its stable mixed volume when printed); paths missing from the
        list are counted as phc summarises them (failures as ``failed``, the rest
        ``at_infinity``). ``root_counts`` holds phc's printed counts.

    Raises
    ------
    InvalidSystem
        Not square, or a variable that occurs nowhere.
    PHCpackError
        phc missing, failing, or timing out.
    """
    run = run_phc(system, seed=seed, timeout=timeout)
    sols, output, seconds = run.solutions, run.output, run.seconds
    pts, status, backend_failed = _classify(sols, system.n_variables, check_t=False)
    # phc -b lists only its finite solutions: account for the other paths as it summarises
    counts = phc_root_counts(output)
    tracked = counts["stable_mixed_volume"] or counts["mixed_volume"] or system.total_degree
    missing = max(0, int(tracked) - len(sols))
    n_failed = min(missing, sum(int(m) for m in _SUMMARY["failed"].findall(output)))
    extra = np.array([PathStatus.FAILED] * n_failed + [PathStatus.AT_INFINITY] * (missing - n_failed), dtype=np.int64)
    endpoints = np.vstack([pts, np.full((missing, system.n_variables), np.nan + 0j)])
    statuses = np.concatenate([status, extra])
    backend_failed = np.concatenate([backend_failed, extra == PathStatus.FAILED])
    root_counts = {
        "total_degree": counts["total_degree"] or system.total_degree,
        "linear_product": counts["linear_product"],
        "mixed_volume": counts["mixed_volume"],
    }
    return _result(system, endpoints, statuses, backend_failed, "polyhedral", "phc", root_counts, seconds)


# ---------------------------------------------------------------------------------------
# phcpy


def _set_structure_string(structure, names: Sequence[str], n_equations: int) -> str:
    """PHCpack's set-structure text ``{ x1 }{ x2 x3 };...`` from per-equation lists of
    variable index sets (or an object with ``.sets``)."""
    sets = getattr(structure, "sets", structure)
    sets = [list(eq) for eq in sets]
    if len(sets) != n_equations:
        raise InvalidSystem(f"the set structure has {len(sets)} equations, the system {n_equations}")
    out = []
    for i, eq in enumerate(sets):
        if not eq:
            raise InvalidSystem(f"the set structure of equation {i + 1} is empty")
        parts = []
        for s in eq:
            idx = sorted(int(v) for v in s)
            if not idx or idx[0] < 0 or idx[-1] >= len(names):
                raise InvalidSystem(f"equation {i + 1}: a set must hold variable indices 0..{len(names) - 1}, got {idx}")
            parts.append("{ " + " ".join(names[v] for v in idx) + " }")
        out.append("".join(parts) + ";")
    return "".join(out)


def _parse_set_structure(text: str, names: Sequence[str]) -> list[list[list[int]]]:
    """``{ x1 }{ x2 x3 };{ ... };`` -> per equation, per set, sorted variable indices."""
    index = {v: j for j, v in enumerate(names)}
    out = []
    for eq in text.split(";"):
        if not eq.strip():
            continue
        sets = []
        for body in re.findall(r"\{([^}]*)\}", eq):
            try:
                sets.append(sorted(index[v] for v in body.split()))
            except KeyError as exc:
                raise PHCpackError(f"phcpy's set structure names an unknown variable {exc}") from None
        out.append(sets)
    return out


def _solutions_in_order(mods: dict, target: list[str], sols: Iterable[str], names: Sequence[str]) -> list[PHCSolution]:
    """phcpy solutions with values in our variable order. Their values follow the
    *target's* symbol table (``names_of_variables``), whatever names they are printed with
    (DESIGN.md): read them by position."""
    n = len(names)
    order = mods["solver"].names_of_variables(target)
    column = {v: j for j, v in enumerate(names)}
    if sorted(order) != sorted(names):
        raise PHCpackError(f"phcpy sees the variables {order}, expected {list(names)}")
    perm = np.array([column[v] for v in order])  # position k holds our variable perm[k]
    out = []
    for s in sols:
        parsed = parse_solutions(s)
        if len(parsed) != 1 or parsed[0].shape[0] != n:
            raise PHCpackError(f"cannot read the phcpy solution {s[:80]!r}")
        p = parsed[0]
        values = np.empty(n, dtype=np.complex128)
        values[perm] = np.asarray(p)
        out.append(PHCSolution(values, names, p.t, p.multiplicity, p.err, p.rco, p.res))
    return out


def _linear_product_start(mods: dict, pols: list[str], names: list[str], set_structure) -> tuple[list[str], list[str], int]:
    c, interface = mods["c"], mods["interface"]
    interface.store_standard_system(pols)
    if set_structure is None:
        c.py2c_product_supporting_set_structure()
    else:
        s = _set_structure_string(set_structure, names, len(pols))
        if c.py2c_product_parse_set_structure(len(s), s) != 0:
            raise InvalidSystem(f"phcpy cannot read the set structure {s!r}")
        if not c.py2c_product_is_set_structure_supporting(0):
            raise InvalidSystem("the set structure does not cover (support) every monomial of the system")
    count = int(c.py2c_product_linear_product_root_count())
    c.py2c_product_random_linear_product_system()
    start = interface.load_standard_system()
    c.py2c_product_solve_linear_product_system()
    sols = interface.load_standard_solutions()
    return start, sols, count


def solve_phcpy(
    system: System,
    start: str = "linear-product",
    seed: int = 0,
    set_structure=None,
) -> SolveResult:
    """Solve with phcpy: a PHCpack start system tracked by ``phcpy.trackers.track``.

    Parameters
    ----------
    system : System
        Square; variables renamed ``x1..xn`` for phcpy and mapped back by position.
    start : {"linear-product", "total-degree", "polyhedral"}
        ``random_linear_product_system`` (PHCpack's supporting set structure, or
        ``set_structure``), ``total_degree_start_system``, or ``mixed_volume`` +
        ``random_coefficient_system`` (torus solutions only).
    seed : int
        Seeds PHCpack's generators (``py2c_set_seed``; 0 means PHCpack's 68717) for the
        start system, and draws the gamma constant.
    set_structure : optional
        For ``"linear-product"``: per equation, a list of sets of variable indices (or an
        object with ``.sets`` such as :class:`solver.engine.start_systems.set_structure.SetStructure`).
        Ignored by the other starts.

    Returns
    -------
    SolveResult
        ``backend="phcpy"``; the endpoints judged by :func:`collect_solutions`.
    """
    if start not in PHCPY_STARTS:
        raise InvalidSystem(f"unknown phcpy start system {start!r}; choose from {', '.join(PHCPY_STARTS)}")
    names, text = _prepare(system)
    pols = _polynomial_strings(text)
    n = system.n_variables
    root_counts = {"total_degree": system.total_degree, "linear_product": None, "mixed_volume": None}
    t0 = time.perf_counter()
    with _phcpy_session(seed) as mods:
        solver, trackers = mods["solver"], mods["trackers"]
        if start == "linear-product":
            start_pols, start_sols, count = _linear_product_start(mods, pols, names, set_structure)
            root_counts["linear_product"] = count
        elif start == "total-degree":
            start_pols, start_sols = solver.total_degree_start_system(pols, checkin=False)
        else:
            mv = int(solver.mixed_volume(pols, stable=False, checkin=False))
            if mv < 0:
                raise PHCpackError(f"phcpy's mixed volume failed (code {mv})")
            root_counts["mixed_volume"] = mv
            start_pols, start_sols = solver.random_coefficient_system(verbose=False)
        if start_sols:
            endpoints = trackers.track(pols, start_pols, start_sols, gamma=_gamma(seed))
            sols = _solutions_in_order(mods, pols, endpoints, names)
        else:
            sols = []
    seconds = time.perf_counter() - t0
    pts, status, backend_failed = _classify(sols, n)
    return _result(system, pts, status, backend_failed, start, "phcpy", root_counts, seconds)


def phcpy_mixed_volume(system: System, stable: bool = False) -> int:
    """PHCpack's mixed volume (MixedVol) of ``system``; with ``stable``, the stable mixed
    volume, which also counts solutions with zero coordinates."""
    names, text = _prepare(system)
    pols = _polynomial_strings(text)
    with _phcpy_session() as mods:
        r = mods["solver"].mixed_volume(pols, stable=bool(stable), checkin=False)
    value = r[1] if stable else r
    if int(value) < 0:
        raise PHCpackError(f"phcpy's mixed volume failed (code {value})")
    return int(value)


def phcpy_linear_product_count(system: System) -> tuple[int, list[list[list[int]]]]:
    """PHCpack's linear-product root count and the supporting set structure it is based
    on, per equation a list of sets of variable indices (positions in
    ``system.variables``)."""
    names, text = _prepare(system)
    pols = _polynomial_strings(text)
    with _phcpy_session() as mods:
        c = mods["c"]
        mods["interface"].store_standard_system(pols)
        c.py2c_product_supporting_set_structure()
        count = int(c.py2c_product_linear_product_root_count())
        structure = c.py2c_product_set_structure_string()
    return count, _parse_set_structure(structure, names)


def phcpy_root_counts(system: System) -> dict:
    """``{"total_degree", "linear_product", "mixed_volume"}`` as PHCpack counts them."""
    count, _ = phcpy_linear_product_count(system)
    return {
        "total_degree": system.total_degree,
        "linear_product": count,
        "mixed_volume": phcpy_mixed_volume(system),
    }


def phcpy_random_coefficient_start(
    system: System, seed: int = 0, check: Callable[[int], None] | None = None
) -> tuple[System, np.ndarray]:
    """PHCpack's random-coefficient start system (same supports as ``system``) and its
    solutions from the polyhedral homotopy, for our own tracker. ``check`` is called with
    the mixed volume before any start solution is computed (it raises to refuse).

    Returns
    -------
    start : System
        In ``system.variables`` (same names, same order).
    solutions : complex ndarray (mixed volume, n)
        Start solutions, columns in ``system.variables`` order.
    """
    names, text = _prepare(system)
    pols = _polynomial_strings(text)
    n = system.n_variables
    with _phcpy_session(seed) as mods:
        solver = mods["solver"]
        mv = int(solver.mixed_volume(pols, stable=False, checkin=False))
        if mv < 0:
            raise PHCpackError(f"phcpy's mixed volume failed (code {mv})")
        if check is not None:
            check(mv)
        start_pols, start_sols = solver.random_coefficient_system(verbose=False)
        sols = _solutions_in_order(mods, pols, start_sols, names)
    # the start polynomials may introduce x1..xn in another order: read by name
    rcs = parse_system(f"{n}\n" + "\n".join(start_pols) + "\n")
    cols = [rcs.variables.index(v) for v in names]
    polys = tuple(Polynomial(p.coefficients, p.exponents[:, cols]) for p in rcs.polynomials)
    start = System(polys, tuple(system.variables))
    values = np.array([np.asarray(s) for s in sols], dtype=np.complex128).reshape(len(sols), n)
    return start, values
