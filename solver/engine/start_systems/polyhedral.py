"""The polyhedral start system: the target's supports with random complex coefficients,
solved by phcpy's polyhedral homotopy (Huber and Sturmfels, "A polyhedral method for
solving sparse polynomial systems", Math. Comp. 64, 1995; Verschelde, "PHCpack", ACM TOMS
25, 1999), then tracked to the target by our own tracker. Its count is the mixed volume
(the BKK bound), which misses solutions with zero coordinates: never chosen automatically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from solver.engine.system import System


@dataclass
class SparseStart:
    """A start system with the target's supports and its solutions (polyhedral).

    Attributes
    ----------
    kind : str
        ``"polyhedral"``.
    system : System
        The random-coefficient start system.
    start_solutions : complex ndarray (count, n)
    count : int
        Number of start solutions (the mixed volume).
    root_counts : dict
        Counts seen while choosing this start.
    """

    kind: str
    system: System
    start_solutions: np.ndarray
    count: int
    root_counts: dict = field(default_factory=dict)

    def solutions(self, chunk: int = 65536) -> Iterator[np.ndarray]:
        """Start solutions in chunks of shape (rows, n)."""
        for k in range(0, self.count, chunk):
            yield self.start_solutions[k : k + chunk]


def polyhedral_start(system: System, seed: int, check: Callable[[int], None] | None = None) -> SparseStart:
    """PHCpack's random-coefficient start system, solved by its polyhedral homotopy.
    ``check`` gets the mixed volume before any start solution is computed (it raises to
    refuse the start)."""
    from solver.engine.backends.phcpack import phcpy_random_coefficient_start

    start_system, sols = phcpy_random_coefficient_start(system, seed=seed, check=check)
    return SparseStart("polyhedral", start_system, sols, int(sols.shape[0]))
