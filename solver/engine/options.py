"""Tracker options: one typed, documented object with named presets.

The kernels take the options as a flat float array (:meth:`TrackerOptions.as_array`), so
adding a field here and reading it by its index constant in :mod:`solver.engine.tracker` is all
a new option needs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from solver.errors import LpsError


#: the predictors, in the order of their codes in the kernels' options array
PREDICTORS = ("rk4", "hermite")


class InvalidOptions(LpsError, ValueError):
    """Tracker options out of range, or an unknown preset name."""


@dataclass(frozen=True)
class TrackerOptions:
    """Settings of the predictor-corrector tracker and its endgame.

    The homotopy parameter is ``s``, from 1 (start system) to 0 (target). Step sizes are
    fractions of the segment being tracked, so the endgame's geometric segments
    ``s_k -> h * s_k`` take the same relative steps as the first one.

    Attributes
    ----------
    initial_step : float
        First step, as a fraction of the segment.
    min_step : float
        A step below this fraction of the segment fails the path (``STEP_SIZE_TOO_SMALL``).
    max_step : float
        Largest step, as a fraction of the segment.
    corrector_tolerance : float
        Newton stops when its update is below this, relative to ``max|x|``.
    max_corrector_iterations : int
        Newton iterations per step before the step is rejected.
    predictor_tolerance : float
        Relative predictor error the step-size control aims at: after an accepted step
        the step is scaled by ``0.9 * (predictor_tolerance / error) ** (1/5)`` (RK4's
        error is of order ``h^5``), between 0.5 and 3.
    max_steps : int
        Step budget of one path, endgame included (``TOO_MANY_STEPS``).
    endgame_start : float
        Value of ``s`` where the endgame begins.
    endgame_ratio : float
        Ratio ``h`` of the geometric sample sequence ``s_k = endgame_start * h**k``.
    endgame_min_s : float
        Smallest sample; a path still undecided there fails (``ENDGAME_NOT_CONVERGED``).
    cauchy_samples : int
        Points per loop of the Cauchy endgame.
    max_winding_number : int
        Loops the Cauchy endgame tries before giving up on a sample radius.
    endgame_tolerance : float
        Two successive Cauchy estimates closer than this (relative) accept the endpoint.
    infinity_threshold : float
        ``|x0| / max|x|`` below this, with a positive valuation, puts a path at infinity.
    loose_infinity : float
        ``|x0| / max|x|`` below this, with a positive valuation that has settled over the
        endgame's samples, puts a path at infinity early. It bounds the size of the finite
        solutions the endgame can tell from diverging paths (about ``1 / loose_infinity``
        times the size of the start points); smaller costs more endgame samples on every
        diverging path. 0.3 lost solutions of size 7-10 on cyclic-7 and eco-8
        (bench/ENGINE_RESULTS.md), 0.02 solutions of size 134-1.6e3 on PHCpack's ipp and
        camera1s, 5e-3 some of ipp's for two seeds in three; 2e-3 finds them all for 2-10%
        more tracker steps on the benchmark and network systems with diverging paths
        (1e-3: 2-14%; bench/POLICY_RESULTS.md).
    predictor : {"rk4", "hermite"}
        ``"rk4"``: fourth-order Runge-Kutta, three Jacobians a step besides the
        corrector's. ``"hermite"``: the cubic Hermite extrapolation through the last two
        accepted points and their tangents (which the corrector leaves behind), so no
        Jacobian of its own; RK4 takes the first step of each segment.
    """

    initial_step: float = 0.05
    min_step: float = 1e-9
    max_step: float = 0.25
    corrector_tolerance: float = 1e-9
    max_corrector_iterations: int = 3
    predictor_tolerance: float = 1e-4
    max_steps: int = 20_000
    endgame_start: float = 0.1
    endgame_ratio: float = 0.3
    endgame_min_s: float = 1e-14
    cauchy_samples: int = 8
    max_winding_number: int = 12
    endgame_tolerance: float = 1e-8
    infinity_threshold: float = 1e-7
    predictor: str = "rk4"
    loose_infinity: float = 2e-3

    def __post_init__(self) -> None:
        if not 0 < self.min_step <= self.initial_step <= self.max_step <= 1:
            raise InvalidOptions("need 0 < min_step <= initial_step <= max_step <= 1")
        if not 0 < self.endgame_ratio < 1:
            raise InvalidOptions("endgame_ratio must lie in (0, 1)")
        if not 0 < self.endgame_min_s < self.endgame_start < 1:
            raise InvalidOptions("need 0 < endgame_min_s < endgame_start < 1")
        if self.max_corrector_iterations < 1 or self.max_steps < 1:
            raise InvalidOptions("iteration and step budgets must be positive")
        if self.predictor not in PREDICTORS:
            raise InvalidOptions(f"unknown predictor {self.predictor!r}; choose from {', '.join(PREDICTORS)}")
        if not 0 < self.infinity_threshold <= self.loose_infinity < 1:
            raise InvalidOptions("need 0 < infinity_threshold <= loose_infinity < 1")
        if self.cauchy_samples < 3 or self.max_winding_number < 1:
            raise InvalidOptions("cauchy_samples >= 3 and max_winding_number >= 1")

    # presets ---------------------------------------------------------------------------
    @classmethod
    def default(cls) -> "TrackerOptions":
        """Balanced settings: what :func:`solver.engine.solve.solve` uses."""
        return cls()

    @classmethod
    def fast(cls) -> "TrackerOptions":
        """Bigger steps and a looser corrector: fewer steps per path, more path jumping risk."""
        return cls(initial_step=0.1, max_step=0.5, corrector_tolerance=1e-7, max_corrector_iterations=3)

    @classmethod
    def parameter(cls) -> "TrackerOptions":
        """The default settings with the Hermite predictor: for parameter homotopies
        between family members, whose paths are long and smooth (on 1-2-1's exact mode a
        quarter less CPU time than RK4, the same endpoints; on start-system paths, short
        segments of the endgame included, RK4 stays ahead: ``bench/predictors.py``)."""
        return cls(predictor="hermite")

    @classmethod
    def conservative(cls) -> "TrackerOptions":
        """Small steps and a tight corrector: the re-run for paths that failed."""
        return cls(
            initial_step=0.01,
            max_step=0.05,
            min_step=1e-12,
            corrector_tolerance=1e-11,
            max_corrector_iterations=4,
            max_steps=200_000,
            cauchy_samples=12,
            max_winding_number=24,
        )

    @classmethod
    def ill_conditioned(cls) -> "TrackerOptions":
        """The conservative steps with a corrector tolerance that double precision can
        meet near roots of condition up to about 1e8: the last re-run for paths that
        still fail. Newton's updates near a root of componentwise condition ``k`` stall
        at about ``k * eps`` relative, so a tighter tolerance rejects every step there
        (Wilkinson's polynomial of degree 12, scaled: roots 7 to 9 have ``k`` ~ 1e7-1e8)."""
        return cls.conservative().with_(corrector_tolerance=1e-7)

    @classmethod
    def preset(cls, name: str) -> "TrackerOptions":
        presets = {"default": cls.default, "fast": cls.fast, "parameter": cls.parameter, "conservative": cls.conservative,
                   "ill_conditioned": cls.ill_conditioned}
        if name not in presets:
            raise InvalidOptions(f"unknown tracker preset {name!r}; choose from {sorted(presets)}")
        return presets[name]()

    @classmethod
    def resolve(cls, options: "TrackerOptions | str | None") -> "TrackerOptions":
        """``options`` itself, or the preset it names (None: ``"default"``)."""
        if isinstance(options, str) or options is None:
            return cls.preset(options or "default")
        return options

    def with_(self, **changes) -> "TrackerOptions":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    def as_array(self) -> np.ndarray:
        """Flat float64 array in field order: what the Numba kernels read."""
        values = asdict(self)
        values["predictor"] = PREDICTORS.index(self.predictor)
        return np.array(list(values.values()), dtype=np.float64)


#: indices into :meth:`TrackerOptions.as_array`, for the kernels
OPT = {name: k for k, name in enumerate(TrackerOptions.__dataclass_fields__)}
