"""Named benchmark systems (the classical families of the PHCpack and Bertini collections).

Every family is built directly as a sparse :class:`~solver.engine.system.System` (no sympy), so
large members are cheap. Known root counts, used by the tests and the benchmark:

========== ================ ============================================================
family     variables        isolated solutions
========== ================ ============================================================
katsura-n  x0 .. xn (n+1)   2^n (all finite, all regular)
cyclic-n   x1 .. xn         cyclic-5: 70, cyclic-6: 156, cyclic-7: 924
noon-n     x1 .. xn         noon-3: 21 (total degree 27), noon-4: 73, noon-5: 233
eco-n      x1 .. xn         2^(n-2) (eco-6: 16, mixed volume 16, total degree 162)
========== ================ ============================================================

``eco-n`` is written as in PHCpack's ``Demo/eco6`` (Morgan 1987, p. 148):
``(x_k + sum_{i=1}^{n-k-1} x_i x_{i+k}) x_n - k = 0`` for ``k = 1..n-1`` and
``x_1 + ... + x_{n-1} + 1 = 0``.
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np

from solver.engine.system import InvalidSystem, Polynomial, System

__all__ = ["katsura", "cyclic", "noon", "eco", "by_name", "FAMILIES"]


def _poly(terms: dict[tuple[int, ...], complex], n: int) -> Polynomial:
    """A Polynomial from ``{exponent tuple: coefficient}``."""
    exps = np.array(list(terms.keys()), dtype=np.int64).reshape(len(terms), n)
    coeffs = np.array(list(terms.values()), dtype=np.complex128)
    return Polynomial(coeffs, exps)


def _unit(n: int, *indices: int) -> tuple[int, ...]:
    """Exponent tuple of the monomial ``prod x_j`` over ``indices`` (repeats multiply)."""
    e = [0] * n
    for j in indices:
        e[j] += 1
    return tuple(e)


def _add(terms: dict, key: tuple[int, ...], c: complex) -> None:
    terms[key] = terms.get(key, 0) + c


def _check_size(name: str, n: int, least: int) -> None:
    if not isinstance(n, (int, np.integer)) or n < least:
        raise InvalidSystem(f"{name}(n) needs an integer n >= {least}, got {n!r}")


def katsura(n: int) -> System:
    """Katsura's magnetism system in ``n + 1`` unknowns ``x0..xn``; 2^n solutions.

    ``sum_{l=-n}^{n} x_|l| x_|m-l| - x_m = 0`` for ``m = 0..n-1`` (``x_k = 0`` for
    ``|k| > n``) and ``x_0 + 2 (x_1 + ... + x_n) - 1 = 0``.
    """
    _check_size("katsura", n, 1)
    nv = n + 1
    polys = []
    for m in range(n):
        terms: dict = {}
        for l in range(-n, n + 1):
            k = m - l
            if abs(k) > n:
                continue
            _add(terms, _unit(nv, abs(l), abs(k)), 1.0)
        _add(terms, _unit(nv, m), -1.0)
        polys.append(_poly(terms, nv))
    terms = {_unit(nv, 0): 1.0, _unit(nv): -1.0}
    for l in range(1, n + 1):
        terms[_unit(nv, l)] = 2.0
    polys.append(_poly(terms, nv))
    return System(tuple(polys), tuple(f"x{j}" for j in range(nv)))


def cyclic(n: int) -> System:
    """The cyclic n-roots problem in ``x1..xn``.

    ``sum_{i=0}^{n-1} prod_{j=0}^{k-1} x_{(i+j) mod n} = 0`` for ``k = 1..n-1`` and
    ``x_1 x_2 ... x_n - 1 = 0``.
    """
    _check_size("cyclic", n, 2)
    polys = []
    for k in range(1, n):
        terms: dict = {}
        for i in range(n):
            _add(terms, _unit(n, *[(i + j) % n for j in range(k)]), 1.0)
        polys.append(_poly(terms, n))
    polys.append(_poly({_unit(n, *range(n)): 1.0, _unit(n): -1.0}, n))
    return System(tuple(polys), tuple(f"x{j + 1}" for j in range(n)))


def noon(n: int, c: float = 1.1) -> System:
    """Noonburg's neural network system in ``x1..xn`` (PHCpack ``Demo/noon3``).

    ``x_i sum_{j != i} x_j^2 - c x_i + 1 = 0`` with ``c = 1.1``.
    """
    _check_size("noon", n, 2)
    polys = []
    for i in range(n):
        terms: dict = {}
        for j in range(n):
            if j != i:
                _add(terms, _unit(n, i, j, j), 1.0)
        _add(terms, _unit(n, i), -c)
        _add(terms, _unit(n), 1.0)
        polys.append(_poly(terms, n))
    return System(tuple(polys), tuple(f"x{j + 1}" for j in range(n)))


def eco(n: int) -> System:
    """The economics modelling system eco-n in ``x1..xn`` (PHCpack ``Demo/eco6``)."""
    _check_size("eco", n, 2)
    polys = []
    last = n - 1  # index of x_n
    for k in range(1, n):
        terms: dict = {}
        _add(terms, _unit(n, k - 1, last), 1.0)  # x_k x_n
        for i in range(1, n - k):  # i = 1..n-k-1
            _add(terms, _unit(n, i - 1, i + k - 1, last), 1.0)  # x_i x_{i+k} x_n
        _add(terms, _unit(n), -float(k))
        polys.append(_poly(terms, n))
    terms = {_unit(n, i): 1.0 for i in range(n - 1)}
    terms[_unit(n)] = 1.0
    polys.append(_poly(terms, n))
    return System(tuple(polys), tuple(f"x{j + 1}" for j in range(n)))


#: family name -> constructor
FAMILIES: dict[str, Callable[[int], System]] = {
    "katsura": katsura,
    "cyclic": cyclic,
    "noon": noon,
    "eco": eco,
}

_NAME = re.compile(r"^\s*([a-z]+)[-_ ]?(\d+)\s*$")


def by_name(name: str) -> System:
    """A benchmark system by name: ``"katsura-6"``, ``"cyclic-5"``, ``"noon-3"``,
    ``"eco-7"`` (``"katsura6"`` also works; case is ignored).

    Raises
    ------
    InvalidSystem
        For an unknown family or a malformed name.
    """
    m = _NAME.match(str(name).lower())
    if not m or m.group(1) not in FAMILIES:
        known = ", ".join(f"{f}-N" for f in FAMILIES)
        raise InvalidSystem(f"unknown example system {name!r}; known: {known}")
    return FAMILIES[m.group(1)](int(m.group(2)))
