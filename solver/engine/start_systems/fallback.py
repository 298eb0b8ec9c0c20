"""When a solve from a product start looks incomplete: the polyhedral start with constants.

``solve(start="auto")`` tracks the total-degree or linear-product start unless the
polyhedral start with constants is cheaper by its weighted count
(:mod:`.choice`). Both are complete in theory; in double precision a product start's
many diverging paths are where the endgame goes wrong. On PHCpack's cassou (368
linear-product paths, 16 solutions) the 4 paths to solutions whose coordinates span 3e-3
to 147 end ``endgame_not_converged`` in double (or, re-run in double-double, at
infinity): 12 of 368 paths end finite; on chemequs (56 paths, 16 solutions up to 1.9e4)
every path is put at infinity before its coordinates stop growing. From the polyhedral
start with constants, whose count is the mixed volume of the supports with the origin
added (Li and Wang, "The BKK root count in C^n", Math. Comp. 65, 1996,
doi:10.1090/S0025-5718-96-00746-2), they have 24 and 16 paths, and no path need diverge
on a system with generic coefficients on its supports.

So a product-start solve is *doubtful* (:func:`doubt`) when a path failed (after the
re-runs) or when fewer than :data:`FINITE_SHARE` of its paths ended at finite points.
Then, below the :data:`~.choice.MIN_PATHS_FOR_MIXED_VOLUME` product-start paths from
which the choice weighs the polyhedral start itself (and found it dearer, or it would have
taken it), the polyhedral count with constants is computed (as the choice computes it:
in a forked child under a time budget), and the system is solved again from that start,
with ``recheck_infinity`` (:mod:`solver.engine.infinity_recheck`; cheap on so few
paths), when (:func:`fallback_decision`)

- fewer paths ended finite than that count: a start with more paths to finite points
  than the first solve reached (the mixed volume is attained for generic coefficients,
  and is often attained by the system itself: it equals the number of solutions on
  every benchmark and network gradient system of ``bench/POLICY_RESULTS.md``), and
- its paths, weighted by :data:`~.choice.POLYHEDRAL_PATH_COST`, cost at most
  :data:`BUDGET` times the first solve's paths, and it fits in ``max_paths``.

``solve`` keeps the result with more solutions. The twelve benchmark systems and the
network gradient systems of ``bench/POLICY_RESULTS.md`` are never doubtful (no failed
path; 25-100 % of the paths end finite), so the policy costs them nothing; the large
product-start solves of the network families (1-1-1-1 at degree 2: 94,473 paths, 1.3 %
finite) are above the gate, so a fallback never doubles hours of tracking; below it the
first solve tracks fewer than 1,000 paths, and the fallback at most twice their weight.
"""

from __future__ import annotations

from typing import NamedTuple

from solver.engine.result import SolveResult
from solver.engine.start_systems.choice import MIN_PATHS_FOR_MIXED_VOLUME, POLYHEDRAL_PATH_COST, mixed_volume_budget
from solver.engine.start_systems.polyhedral_constants import POLYHEDRAL_CONSTANTS, constants_mixed_volume
from solver.engine.system import System

__all__ = ["FINITE_SHARE", "BUDGET", "Fallback", "doubt", "fallback_decision"]

#: a solve whose paths end finite fewer than this share of the time is doubtful (25-100 %
#: on the benchmark and network systems; cassou 3 %, chemequs 0 %, heart 2 %, butcher 6 %)
FINITE_SHARE = 0.1
#: the fallback's weighted paths may be at most this many times the first solve's paths
#: (chemequs: 16 x 5 = 80 against 56; cassou 120 against 368; heart, 121 x 5 against 193,
#: is left as it is: its 4 solutions are all found)
BUDGET = 2.0


class Fallback(NamedTuple):
    """The fallback's decision: ``run`` it or not, the polyhedral count with constants
    (None: not computed or no answer) and why, for ``root_counts["start_choice"]``."""

    run: bool
    count: int | None
    reason: str


def finite_paths(result: SolveResult) -> int:
    """Paths of ``result`` that ended at a finite solution (regular or singular)."""
    return int(result.counts["regular"] + result.counts["singular"])


def doubt(result: SolveResult) -> str | None:
    """Why ``result`` may have missed solutions (failed paths, or too few paths ending
    finite), or None."""
    failed, finite = int(result.counts["failed"]), finite_paths(result)
    if failed:
        return f"{failed} failed paths"
    if finite < FINITE_SHARE * result.paths:
        return f"{finite} of {result.paths} paths finite"
    return None


def fallback_decision(system: System, result: SolveResult, max_paths: int | None) -> Fallback:
    """Whether to solve ``system`` again from the polyhedral start with constants after
    the product-start ``result`` (see the module docstring)."""
    why = doubt(result)
    if why is None:
        return Fallback(False, None, "")
    if result.paths >= MIN_PATHS_FOR_MIXED_VOLUME:
        return Fallback(False, result.root_counts.get("mixed_volume_constants"),
                        f"{why}; no fallback: from {MIN_PATHS_FOR_MIXED_VOLUME} paths on the choice weighs the polyhedral start itself")
    from solver.engine.backends.phcpack import phcpy_available

    if not phcpy_available():
        return Fallback(False, None, f"{why}; no fallback: phcpy is not installed")
    seconds = mixed_volume_budget(result.paths, max_paths)
    count = constants_mixed_volume(system, seconds)
    if count is None:
        return Fallback(False, None, f"{why}; no fallback: MixedVol gave no answer within {seconds:.1f} s")
    finite, weighted = finite_paths(result), count * POLYHEDRAL_PATH_COST
    seen = f"{why}; {POLYHEDRAL_CONSTANTS} {count} (x{POLYHEDRAL_PATH_COST} = {weighted}, budget {BUDGET:g} x {result.paths})"
    if finite >= count:
        return Fallback(False, count, f"{seen}: no fallback, {finite} paths finite already")
    if weighted > BUDGET * result.paths or (max_paths is not None and count > max_paths):
        return Fallback(False, count, f"{seen}: no fallback, over the budget")
    return Fallback(True, count, seen)
