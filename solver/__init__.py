"""lps-init: homotopy continuation for polynomial systems, and initial weights for neural
networks from the critical points of a polynomial surrogate of their loss.

The package has four rooms, read in this order:

- :mod:`solver.engine`: every isolated solution of a square polynomial system (knows
  nothing of networks);
- :mod:`solver.networks`: layer specs, surrogate activations, the gradient system of the
  surrogate loss, its linear product structure and its critical points;
- :mod:`solver.init`: the initialisation modes (``exact``, ``start``, ``layerwise``,
  ``auto``) and :func:`init_` for PyTorch models;
- :mod:`solver.cli`: the ``lps`` command.

The names below load their modules on first use, so ``import solver`` stays cheap and
PyTorch stays optional (only :func:`init_` needs it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "solve",
    "solve_many",
    "System",
    "parse_system",
    "TrackerOptions",
    "SolveResult",
    "NetworkSpec",
    "LpsError",
    "init_",
]

_WHERE = {
    "solve": "solver.engine.solve",
    "solve_many": "solver.engine.solve",
    "System": "solver.engine.system",
    "parse_system": "solver.engine.formats.phc",
    "TrackerOptions": "solver.engine.options",
    "SolveResult": "solver.engine.result",
    "NetworkSpec": "solver.networks.spec",
    "LpsError": "solver.errors",
    "init_": "solver.init.pytorch",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from solver.engine.formats.phc import parse_system
    from solver.engine.options import TrackerOptions
    from solver.engine.result import SolveResult
    from solver.engine.solve import solve, solve_many
    from solver.engine.system import System
    from solver.errors import LpsError
    from solver.init.pytorch import init_
    from solver.networks.spec import NetworkSpec


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'solver' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
