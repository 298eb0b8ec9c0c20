"""Hard systems from the literature (issue 12): the engine finds each one's documented
number of isolated solutions, over three seeds.

The collection is ``tests/data/hard`` (``index.json`` cites each system's source, its
documented counts, its kind of hardness and the ``solve`` options it needs). Isolated
solutions are the regular ones and the singular ones that
:func:`solver.engine.local_dimension.isolated_solutions` does not put on a
positive-dimensional component; where the source lists a multiple root once per path
(``with_multiplicity``), the multiplicities must add up to the listed count too. The
oracles are the sources' counts and, where it is cheap, ``phc -b``: every isolated
solution it reports must be one of ours. A system the engine cannot solve yet is
``xfail(strict=True)`` with the reason in ``index.json``; so is each gap of the default
options on the systems that need options (``default_gap``), so that a fix shows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from solver.engine.backends.phcpack import phc_available, phcpy_available, solve_phc
from solver.engine.formats.phc import parse_system
from solver.engine.local_dimension import isolated_solutions
from solver.engine.solve import solve
from solver.engine.system import System

DATA = Path(__file__).parent / "data" / "hard"
SYSTEMS = json.loads((DATA / "index.json").read_text())["systems"]
SEEDS = (0, 1, 2)
#: two solutions are the same point when they agree to this, relative to max(1, |x|)
SAME_POINT = 1e-6


def _load(entry: dict) -> System:
    return parse_system((DATA / entry["file"]).read_text())


def _needs(entry: dict) -> None:
    if entry["solve"].get("start") == "polyhedral" and not phcpy_available():
        pytest.skip("the polyhedral start needs phcpy: run scripts/setup.sh")


def _params(reason_key: str, with_options_only: bool = False) -> list:
    """One param per system (those with ``solve`` options only, if asked), xfail(strict)
    where ``index.json`` gives a reason under ``reason_key``."""
    out = []
    for entry in SYSTEMS:
        if with_options_only and not entry["solve"]:
            continue
        reason = entry[reason_key]
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(entry, id=entry["name"], marks=marks))
    return out


def test_collection_is_complete() -> None:
    # at least ten systems, every kind of hardness the issue names, a file each
    assert len(SYSTEMS) >= 10
    kinds = {k for e in SYSTEMS for k in e["hardness"]}
    assert {"badly-scaled", "wide-range", "near-singular", "positive-dimensional"} <= kinds
    for entry in SYSTEMS:
        assert (DATA / entry["file"]).is_file()
        assert entry["references"] and entry["documented"]["listed"] >= entry["documented"]["distinct"]
        assert _load(entry).is_square


@pytest.mark.parametrize("entry", _params("expected_failure"))
def test_documented_number_of_isolated_solutions(entry: dict) -> None:
    _needs(entry)
    _check_counts(entry, entry["solve"])


@pytest.mark.parametrize("entry", _params("default_gap", with_options_only=True))
def test_default_options(entry: dict) -> None:
    # the systems that need options: what the default solve misses is in index.json
    _check_counts(entry, {})


def _check_counts(entry: dict, options: dict) -> None:
    """The documented counts over every seed (the first seed that misses fails)."""
    system = _load(entry)
    documented = entry["documented"]
    expected = documented.get("isolated", documented["distinct"])
    for seed in SEEDS:
        result = solve(system, seed=seed, **options)
        isolated = isolated_solutions(system, result, seed=seed)
        values = np.array([s.values for s in isolated]).reshape(len(isolated), system.n_variables)
        # each one solves the system, judged here by the coefficient-scaled residual
        assert _scaled_residuals(system, values).max(initial=0.0) < 1e-8
        where = f"{entry['name']}, seed {seed}, options {options}"
        assert len(isolated) == expected, f"{where}: documented {expected}, found {len(isolated)}"
        if documented.get("with_multiplicity"):
            assert sum(s.multiplicity for s in isolated) == documented["listed"], where
        if documented["real"] is not None:
            assert sum(s.real for s in isolated) == documented["real"], where


def test_wilkinson12_roots_are_the_integers() -> None:
    # closed form: prod_{k=1..12} (x - k) has integer coefficients exact in double
    entry = next(e for e in SYSTEMS if e["name"] == "wilkinson12")
    roots = np.sort_complex(solve(_load(entry), seed=0).values()[:, 0])
    np.testing.assert_allclose(roots, np.arange(1, 13), rtol=1e-10, atol=0)


def _scaled_residuals(system: System, x: np.ndarray) -> np.ndarray:
    """``|f_i(x)| / sum_k |c_k| max(1, |x|)^deg_k`` (DESIGN.md): a residual that judges the
    equation, not its terms at ``x``, and means the same at every scale."""
    out = np.zeros((x.shape[0], system.n_equations))
    size = np.maximum(1.0, np.abs(x).max(axis=1, initial=0.0))
    values = np.abs(system(x)) if len(x) else out
    for i, p in enumerate(system.polynomials):
        scale = (np.abs(p.coefficients)[None, :] * size[:, None] ** p.exponents.sum(axis=1)[None, :]).sum(axis=1)
        out[:, i] = values[:, i] / scale
    return out


@pytest.mark.skipif(not phc_available(), reason="PHCpack's phc is not installed: run scripts/setup.sh")
@pytest.mark.parametrize("entry", [pytest.param(e, id=e["name"]) for e in SYSTEMS if e["phc_check"]])
def test_every_isolated_phc_solution_is_one_of_ours(entry: dict) -> None:
    _needs(entry)
    system = _load(entry)
    ours = np.array([s.values for s in solve(system, seed=1, **entry["solve"]).solutions])
    theirs = solve_phc(system, seed=1)
    for sol in isolated_solutions(system, theirs, seed=1):
        distance = np.abs(ours - sol.values).max(axis=1).min() / max(1.0, np.abs(sol.values).max())
        assert distance < SAME_POINT, f"{entry['name']}: phc -b's {sol.values} is not among ours"
