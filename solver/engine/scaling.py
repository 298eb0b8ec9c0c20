"""Coefficient and variable scaling of a polynomial system, undone on its solutions.

Substitute ``x_j = 2**d_j * y_j`` and multiply equation ``i`` by ``2**e_i``: the term
``c x^a`` of equation ``i`` becomes ``2**(e_i + a . d) c y^a``. The exponents ``d, e``
minimise the spread of the scaled coefficients' magnitudes about one,

    r1 = sum_i sum_{terms t of f_i} (e_i + a_t . d + log2 |c_t|)^2,

optionally plus the spread within each equation,

    r2 = sum_i sum_{t < t' in f_i} ((a_t - a_t') . d + log2 |c_t / c_t'|)^2,

a linear least-squares problem in ``(d, e)`` (Meintjes and Morgan, "A methodology for
solving chemical equilibrium systems", Appl. Math. Comput. 22, 1987; Morgan, *Solving
Polynomial Systems Using Continuation for Engineering and Scientific Problems*,
Prentice-Hall 1987, whose ``r1`` and ``r2`` these are, as PHCpack's
``Standard_Scaling.Scale`` names them when it solves the same problem in base 10). The exponents are rounded to integers, so that scaling and unscaling multiply by
powers of two and add no rounding error of their own (as LAPACK's balancing ``xGEBAL``
does for matrices).

The scaled system has the same solutions, divided coordinate by coordinate by ``2**d``:
solutions that were tiny or huge because of the units of the model (``1e-11`` next to
``3e-5`` in Morgan's combustion system) become comparable to one, where the tracker's
relative tolerances and its test for paths at infinity are meant to work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from solver.engine.system import Polynomial, System

if TYPE_CHECKING:
    from solver.engine.result import SolveResult

__all__ = ["Scaling", "scaling_exponents", "scale_system", "unscale_points", "unscale_result", "variable_scaling_gain", "worth_scaling"]

#: an equation with more term pairs than this leaves out r2 (its rows grow quadratically)
_MAX_PAIRS = 20_000
#: ``solve(scale="auto")`` also tries the scaled system when the variable scaling narrows
#: the coefficients' spread by this many decades (RMS of log10)... (measured: at most 0.13
#: on the twelve benchmark systems and network gradient systems, 0.27-2.8 on the badly
#: scaled ones of tests/data/hard, 1.5 on Wilkinson's polynomial of degree 12)
AUTO_GAIN = 0.25
#: ... or scales some variable by at least 2 to this power (at most 2 on the benchmark and
#: network systems; 11 on PHCpack's des22_24, whose solutions reach 6.7e5)
AUTO_EXPONENT = 4


class Scaling(NamedTuple):
    """Powers of two that scale a system.

    Attributes
    ----------
    variables : int64 ndarray (n,)
        ``d``: ``x_j = 2**d_j * y_j``.
    equations : int64 ndarray (m,)
        ``e``: equation ``i`` is multiplied by ``2**e_i``.
    spread : float
        Root mean square of ``log10`` of the scaled coefficients' moduli (0: all of modulus
        one); ``spread_before`` the same for the system as given.
    spread_before : float
    """

    variables: np.ndarray
    equations: np.ndarray
    spread: float
    spread_before: float

    @property
    def factors(self) -> np.ndarray:
        """``2**d``: the factor of each variable (x = factors * y)."""
        return np.ldexp(1.0, self.variables)


def _term_rows(system: System) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(exponent rows (T, n), equation of each term (T,), log2 |c| (T,)) over all terms."""
    c, e, o = system.packed
    eq = np.repeat(np.arange(system.n_equations), np.diff(o))
    return e.astype(np.float64), eq, np.log2(np.abs(c))


def scaling_exponents(system: System, reduce_variability: bool = False) -> Scaling:
    """The exponents minimising ``r1`` (and ``r2`` when ``reduce_variability``).

    Parameters
    ----------
    system : System
    reduce_variability : bool
        Add Morgan's ``r2`` (the spread of the coefficients within each equation; PHCpack's
        ``diff`` flag). Left out for equations of more than 20,000 term pairs.

    Returns
    -------
    Scaling
        The minimum-norm least-squares solution, rounded to integers (a variable that
        enters every term of every equation the same way is left alone).
    """
    n, m = system.n_variables, system.n_equations
    exps, eq, logs = _term_rows(system)
    rows = [np.hstack([exps, np.eye(m)[eq]])]
    rhs = [-logs]
    if reduce_variability:
        for i in range(m):
            idx = np.flatnonzero(eq == i)
            if len(idx) * (len(idx) - 1) // 2 > _MAX_PAIRS:
                continue
            a, b = np.triu_indices(len(idx), 1)
            rows.append(np.hstack([exps[idx[a]] - exps[idx[b]], np.zeros((len(a), m))]))
            rhs.append(-(logs[idx[a]] - logs[idx[b]]))
    solution = np.linalg.lstsq(np.vstack(rows), np.concatenate(rhs), rcond=None)[0]
    exponents = np.rint(solution).astype(np.int64)
    d, e = exponents[:n], exponents[n:]
    scaled = logs + exps @ d + e[eq]
    return Scaling(d, e, _spread(scaled), _spread(logs))


def variable_scaling_gain(system: System, scaling: Scaling) -> float:
    """How many decades ``scaling`` narrows the coefficients' spread beyond what scaling
    the equations alone does: the RMS of log10 of the moduli, each equation's mean
    removed, less ``scaling.spread``. The homotopy normalises every equation anyway
    (:meth:`~solver.engine.system.System.scaled`), so only this part changes the paths."""
    _, eq, logs = _term_rows(system)
    if logs.size == 0:
        return 0.0
    means = np.bincount(eq, logs, minlength=system.n_equations) / np.maximum(np.bincount(eq, minlength=system.n_equations), 1)
    return _spread(logs - means[eq]) - scaling.spread


def worth_scaling(system: System, scaling: Scaling) -> bool:
    """Whether ``solve(scale="auto")`` should also try the scaled system: the variable
    scaling narrows the spread by :data:`AUTO_GAIN` decades or more, or scales some
    variable by ``2**AUTO_EXPONENT`` or more."""
    big = scaling.variables.size and int(np.abs(scaling.variables).max()) >= AUTO_EXPONENT
    return bool(big) or variable_scaling_gain(system, scaling) >= AUTO_GAIN


def _spread(log2_moduli: np.ndarray) -> float:
    """RMS of log10 moduli (from log2 ones)."""
    return float(np.sqrt(np.mean((log2_moduli * np.log10(2.0)) ** 2))) if log2_moduli.size else 0.0


def scale_system(system: System, scaling: Scaling) -> System:
    """The system in ``y = x / 2**d``, equation ``i`` times ``2**e_i`` (exact: powers of two)."""
    polys = []
    for i, p in enumerate(system.polynomials):
        shift = p.exponents @ scaling.variables + scaling.equations[i]
        polys.append(Polynomial(np.ldexp(p.coefficients.real, shift) + 1j * np.ldexp(p.coefficients.imag, shift), p.exponents))
    return System(tuple(polys), system.variables)


def unscale_points(points: np.ndarray, scaling: Scaling) -> np.ndarray:
    """Affine points ``y`` (P, n) of the scaled system back to ``x = 2**d * y``."""
    return np.asarray(points, dtype=np.complex128) * scaling.factors


def unscale_result(result: "SolveResult", scaling: Scaling) -> "SolveResult":
    """A result on the scaled system as one on the original: each solution's values times
    ``2**d`` (in place; residuals are relative, so they hold as they are; conditions and
    the real test stay those of the scaled system, where the solutions were judged)."""
    factors = scaling.factors
    for solution in result.solutions:
        solution.values = solution.values * factors
    return result
