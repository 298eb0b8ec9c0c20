"""Kernels never raise (issue 10, D5): high-degree univariate systems are solved, and every
path outcome the kernels write is a PathStatus / FailureReason member.

Before the fix, ``x^500 - 1`` left garbage outcome codes (``2624 is not a valid
FailureReason``) and ``x^1000 - 1`` raised ZeroDivisionError inside a kernel: powers of the
projective point overflowed to inf, the Jacobian became NaN, and the LU's pivot ratio
divided by zero.
"""

import numpy as np
import pytest

from solver.engine.formats.phc import parse_system
from solver.engine.homotopy import homotopy_data
from solver.engine.options import TrackerOptions
from solver.engine.result import FailureReason, PathStatus
from solver.engine.solve import solve, track
from solver.engine.start_systems.choice import choose_start


def _roots_of_unity_found(d: int, seed: int = 0) -> None:
    result = solve(parse_system(f"1\n x^{d} - 1;\n"), start="total-degree", seed=seed)
    assert result.paths == d
    assert result.counts["regular"] == d and result.counts["failed"] == 0
    got = np.sort_complex(np.array([s.values[0] for s in result.solutions]))
    closed_form = np.sort_complex(np.exp(2j * np.pi * np.arange(d) / d))
    # every closed-form root has a computed solution next to it, and vice versa
    dist = np.abs(got[:, None] - closed_form[None, :])
    assert dist.min(axis=1).max() < 1e-8 and dist.min(axis=0).max() < 1e-8
    assert result.counts["real"] == (2 if d % 2 == 0 else 1)


@pytest.mark.parametrize("d", [50, 500])
def test_roots_of_unity(d):
    _roots_of_unity_found(d)


def test_degree_1000_is_solved():
    # ParseLimits.max_degree is 1000: the largest univariate degree the parser lets through
    _roots_of_unity_found(1000, seed=3)


@pytest.mark.parametrize("text", ["1\n x^1000 - 1;\n", "1\n x^700 + 3*x^350 - 2;\n", "2\n x^40 - y;\n y^20 - 2;\n"])
def test_outcome_codes_are_enum_members(text):
    system = parse_system(text)
    rng = np.random.default_rng(1)
    start = choose_start(system, "total-degree", rng, 1)
    hom = homotopy_data(system, start, rng)
    starts = np.concatenate(list(start.solutions()))
    # the fast preset takes big steps: predictor points far out, where powers overflow
    for options in (TrackerOptions.preset("fast"), TrackerOptions.default()):
        endpoints, status, reason, winding, steps = track(starts, hom, options)
        assert {int(v) for v in status} <= {int(m) for m in PathStatus}
        assert {int(v) for v in reason} <= {int(m) for m in FailureReason}
        assert (steps >= 0).all() and (winding >= 0).all()
        assert np.isfinite(endpoints[status == PathStatus.REGULAR]).all()
