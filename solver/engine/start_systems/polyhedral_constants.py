"""The polyhedral start that keeps solutions with zero coordinates.

A polyhedral start (:mod:`.polyhedral`) counts solutions in the torus ``(C*)^n`` only:
its count, the mixed volume of the supports, can miss every solution with a zero
coordinate. Li and Wang ("The BKK root count in C^n", Math. Comp. 65, 1996,
doi:10.1090/S0025-5718-96-00746-2) add the origin to every support that lacks it: the
mixed volume of the supports ``S_i + {0}`` bounds the isolated solutions in all of
``C^n``. A system with random coefficients on those supports has that many solutions,
all regular and in the torus (a constant term in every equation puts none on a
coordinate subspace), so phcpy's polyhedral homotopy (Huber and Sturmfels, Math. Comp. 64,
1995) finds all of them. From there the straight-line homotopy with a random ``gamma``
reaches every isolated solution of the target: both ends lie in the family of systems on
the supports ``S_i + {0}`` (the target has zero constant terms where it lacks them), a
coefficient-parameter homotopy in the sense of Morgan and Sommese (Appl. Math. Comput.
29, 1989). HomotopyContinuation.jl does the same with ``only_non_zero = false``.

PHCpack's *stable* mixed volume (``phc -b``'s count) is another bound on the same
solutions, at most this one; it needs stable mixed cells that phcpy's start solver does
not expose, so it is reported, not used.
"""

from __future__ import annotations

import os
import select
import signal
import time
from typing import Callable

import numpy as np

from solver.engine.start_systems.polyhedral import SparseStart
from solver.engine.system import Polynomial, System

#: the start's name in :data:`~solver.engine.start_systems.choice.STARTS` and in results
POLYHEDRAL_CONSTANTS = "polyhedral-constants"


def with_constants(system: System) -> System:
    """``system`` with a constant term 1 added to every polynomial that lacks one (phcpy
    draws new random coefficients for all terms, so the value does not matter)."""
    n = system.n_variables
    polys = []
    for p in system.polynomials:
        if (p.exponents.sum(axis=1) == 0).any():
            polys.append(p)
        else:
            polys.append(Polynomial(np.append(p.coefficients, 1.0), np.vstack([p.exponents, np.zeros((1, n), np.int64)])))
    return System(tuple(polys), system.variables)


def constants_mixed_volume(system: System, seconds: float | None = None) -> int | None:
    """The mixed volume of ``system``'s supports with the origin added (Li and Wang's root
    count in C^n), by phcpy's MixedVol.

    With ``seconds``, MixedVol runs in a forked child that is killed after that long
    (it cannot be interrupted in-process, and it can take minutes: 1-2-2-1's gradient
    system ran for more than 14 minutes); None then means it did not finish in time.
    Also None without phcpy or without ``os.fork``.
    """
    from solver.engine.backends.phcpack import phcpy_available, phcpy_mixed_volume

    if not phcpy_available():
        return None
    augmented = with_constants(system)
    if seconds is None:
        return phcpy_mixed_volume(augmented)
    if not hasattr(os, "fork"):
        return None
    return within_seconds(lambda: phcpy_mixed_volume(augmented), seconds)


def within_seconds(compute: Callable[[], int], seconds: float) -> int | None:
    """``compute()`` in a forked child, its integer answer read from a pipe; None when the
    child fails or is still running after ``seconds`` (then it is killed). ``os.fork``,
    not multiprocessing: the engine may itself run in a daemonic worker, which
    multiprocessing forbids to have children."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer, then leave without running the parent's cleanup
        code = 1
        try:
            os.close(read)
            os.write(write, str(int(compute())).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    try:
        answer = _read_within(read, seconds)
    finally:
        os.close(read)
        if answer is None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.waitpid(pid, 0)
    return answer


def _read_within(fd: int, seconds: float) -> int | None:
    """The integer written to ``fd`` before it closes, if that happens within ``seconds``."""
    deadline = time.monotonic() + seconds
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 64)
        if not chunk:
            return int(data) if data else None
        data += chunk


def polyhedral_constants_start(system: System, seed: int, check: Callable[[int], None] | None = None) -> SparseStart:
    """The random-coefficient system on the supports with constants and its solutions,
    from phcpy's polyhedral homotopy (seeded by ``seed``). ``check`` gets the count before
    any start solution is computed (it raises to refuse the start)."""
    from solver.engine.backends.phcpack import phcpy_random_coefficient_start

    start_system, sols = phcpy_random_coefficient_start(with_constants(system), seed=seed, check=check)
    return SparseStart(POLYHEDRAL_CONSTANTS, start_system, sols, int(sols.shape[0]))
