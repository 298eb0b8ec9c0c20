"""The family of an architecture (solver.networks.family) against the direct builder.

Oracle: :func:`solver.networks.gradient_system.gradient_system`, which expands the loss
per data point (no moments, no symbolic parameters): the family's member at a spec's
parameters must be the same polynomial system, equation by equation.
"""

from __future__ import annotations

import numpy as np
import pytest

from network_specs import make_spec
from solver.engine.system import Polynomial, System
from solver.networks.family import (
    FamilyError,
    FamilyKey,
    LayerKey,
    NetworkFamily,
    family_key,
    family_of,
    parameters_of,
    random_parameters,
)
from solver.networks.gradient_system import gradient_system
from solver.networks.spec import load_spec

#: a term counts when its coefficient exceeds this times the equation's largest one
TERM_FLOOR = 1e-12
#: coefficients and values must agree to this, relative to the equation's scale
AGREEMENT = 1e-9


def _repeated_x_spec() -> object:
    """1-2-1 ReLU on data with repeated and symmetric x values (exact cancellations)."""
    return load_spec(
        {
            "layers": [
                {"in_features": 1, "out_features": 2, "activation": "relu", "bias": True},
                {"in_features": 2, "out_features": 1, "activation": "identity", "bias": True},
            ],
            "surrogate": {"degree": 2},
            "weight_decay": 0.05,
            "data": {"x": [[-1.0], [-1.0], [0.0], [1.0], [1.0], [0.5]], "y": [[1.0], [1.0], [0.0], [1.0], [1.0], [0.25]]},
            "mode": "exact",
        }
    )


SPECS = {
    "1-1-1 relu d2": lambda: make_spec((1, 1, 1), "relu", 2, seed=1),
    "1-1-1 relu d3 nobias": lambda: make_spec((1, 1, 1), "relu", 3, seed=2, bias=False),
    "2-1-1 tanh d3": lambda: make_spec((2, 1, 1), "tanh", 3, seed=3),
    "2-1-1 sigmoid d2 nobias": lambda: make_spec((2, 1, 1), "sigmoid", 2, seed=4, bias=False, weight_decay=0.1),
    "1-2-1 relu d2 nobias": lambda: make_spec((1, 2, 1), "relu", 2, seed=5, bias=False),
    "1-2-1 identity": lambda: make_spec((1, 2, 1), "identity", 2, seed=6),
    "1-2-1 relu d3": lambda: make_spec((1, 2, 1), "relu", 3, seed=7),
    "1-2-1 repeated x": _repeated_x_spec,
    "2-2-1 relu d2": lambda: make_spec((2, 2, 1), "relu", 2, seed=8, n_samples=7),
    "1-3-1 tanh d2": lambda: make_spec((1, 3, 1), "tanh", 2, seed=9),
    "1-3-1 relu d2": lambda: make_spec((1, 3, 1), "relu", 2, seed=10),
    "1-1-1-1 relu d2": lambda: make_spec((1, 1, 1, 1), "relu", 2, seed=11),
    "1-1-2 relu d2": lambda: make_spec((1, 1, 2), "relu", 2, seed=12),
}


def _terms(p: Polynomial) -> dict[bytes, complex]:
    return {e.tobytes(): complex(c) for c, e in zip(p.coefficients, p.exponents)}


def _assert_same_terms(ours: Polynomial, oracle: Polynomial, where: str) -> None:
    """Every term above :data:`TERM_FLOOR` on either side is on both, with equal coefficients."""
    a, b = _terms(ours), _terms(oracle)
    scale = max(max(map(abs, a.values()), default=0.0), max(map(abs, b.values()), default=0.0))
    assert scale > 0, where
    for mine, other, side in ((a, b, "oracle"), (b, a, "family")):
        for k, c in mine.items():
            if abs(c) > TERM_FLOOR * scale:
                assert k in other, f"{where}: a term of coefficient {c} is missing from the {side} side"
                assert abs(c - other[k]) <= AGREEMENT * scale, f"{where}: {c} != {other[k]}"


def _values_and_scales(p: Polynomial, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values and term-magnitude sums of one polynomial at points z (k, n), by numpy."""
    mono = np.prod(z[:, None, :] ** p.exponents[None], axis=2)
    return mono @ p.coefficients, np.abs(mono) @ np.abs(p.coefficients)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_member_equals_direct_gradient_system(name: str) -> None:
    spec = SPECS[name]()
    ours = family_of(spec).system(parameters_of(spec))
    oracle = gradient_system(spec)
    assert ours.variables == oracle.variables == tuple(spec.parameter_names())
    assert ours.n_equations == oracle.n_equations
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, oracle.n_variables)) + 1j * rng.normal(size=(4, oracle.n_variables))
    for i, (p, q) in enumerate(zip(ours.polynomials, oracle.polynomials)):
        _assert_same_terms(p, q, f"{name}, equation {i}")
        vp, sp_ = _values_and_scales(p, z)
        vq, sq = _values_and_scales(q, z)
        assert np.all(np.abs(vp - vq) <= AGREEMENT * np.maximum(sp_, sq)), f"{name}, equation {i}"
    # the engine's evaluation of the member agrees too
    assert np.allclose(ours(z), oracle(z), rtol=1e-9, atol=1e-9 * np.abs(oracle(z)).max())


def test_key_ignores_activation_data_and_weight_decay() -> None:
    a = make_spec((1, 2, 1), "relu", 2, seed=0, weight_decay=0.01)
    b = make_spec((1, 2, 1), "tanh", 2, seed=1, weight_decay=0.3, n_samples=9)
    c = make_spec((1, 2, 1), "gelu", 2, seed=2)
    assert family_key(a) == family_key(b) == family_key(c)
    assert family_key(a).id == "1-2-1.b11.d21"
    assert family_of(a) is family_of(b) is family_of(c) is family_of(family_key(a))
    assert not np.allclose(parameters_of(a), parameters_of(b))
    # identity hidden layers have degree 1: the family of a degree-1 surrogate
    assert family_key(make_spec((1, 2, 1), "identity", 2)) == family_key(make_spec((1, 2, 1), "relu", 1))
    # but degree and bias flags are part of the key
    assert family_key(make_spec((1, 2, 1), "relu", 3)).id == "1-2-1.b11.d31"
    assert family_key(make_spec((1, 2, 1), "relu", 2, bias=False)).id == "1-2-1.b00.d21"


def test_key_id_round_trip_and_refusals() -> None:
    key = family_key(make_spec((1, 1, 1, 1), "relu", 2, bias=False))
    assert key.id == "1-1-1-1.b000.d221"
    assert FamilyKey.parse(key.id) == key
    assert key.x_degree == 4
    for bad in ("1-2-1", "1-2-1.b1.d21", "1-2-1.b11.d20", "a-2-1.b11.d21", "1-2-1.b11.d2x"):
        with pytest.raises(FamilyError):
            FamilyKey.parse(bad)
    with pytest.raises(FamilyError):
        FamilyKey((LayerKey(1, 2, True, 2), LayerKey(3, 1, True, 1)))


def test_parameters_layout() -> None:
    spec = make_spec((2, 2, 1), "relu", 2, seed=3)
    fam = family_of(spec)
    P = parameters_of(spec)
    assert P.shape == (fam.n_parameters,) and P.dtype == np.float64
    names = fam.parameter_names
    assert len(set(names)) == len(names)
    # D = 2: E[x^b] for |b| <= 4 in two inputs (15), E[y0 x^b] for |b| <= 2 (6), lambda, q
    assert sum(n.startswith("E[") and "y" not in n for n in names) == 15
    assert sum(n.startswith("E[y0") for n in names) == 6
    assert P[names.index("E[1]")] == pytest.approx(1.0)
    assert P[names.index("lambda")] == pytest.approx(spec.weight_decay)
    x, y = spec.data.x_array(), spec.data.y_array()
    assert P[names.index("E[x0*x1^3]")] == pytest.approx(np.mean(x[:, 0] * x[:, 1] ** 3))
    assert P[names.index("E[y0*x1^2]")] == pytest.approx(np.mean(y[:, 0] * x[:, 1] ** 2))
    relu = spec.surrogates()[0].coefficients
    assert np.allclose([P[names.index(f"q0_{k}")] for k in range(3)], relu)
    assert np.allclose([P[names.index("q1_0")], P[names.index("q1_1")]], [0.0, 1.0])


def test_generic_member_has_the_whole_support() -> None:
    fam = family_of(make_spec((1, 3, 1), "relu", 2))
    P = random_parameters(fam, np.random.default_rng(4))
    assert np.iscomplexobj(P) and np.abs(P.imag).max() > 0.1
    coefficients = fam.coefficients(P)
    assert len(coefficients) == len(fam.supports) == len(fam.variables)
    for c, e in zip(coefficients, fam.supports):
        assert c.shape == (e.shape[0],) and e.shape[1] == len(fam.variables)
        assert np.abs(c).min() > 1e-12 * np.abs(c).max()
    member = fam.system(P)
    assert isinstance(member, System)
    assert [p.n_terms for p in member.polynomials] == [e.shape[0] for e in fam.supports]
    with pytest.raises(FamilyError):
        fam.coefficients(P[:-1])


@pytest.mark.parametrize("widths", [(1, 2, 1), (1, 1, 1, 1)])
def test_coefficients_along_a_segment_have_the_parameter_degree(widths: tuple[int, ...]) -> None:
    fam: NetworkFamily = family_of(make_spec(widths, "relu", 2))
    D = fam.parameter_degree
    assert D >= 2  # products of surrogate coefficients: not affine
    rng = np.random.default_rng(5)
    p0, p1 = random_parameters(fam, rng), random_parameters(fam, rng)

    def along(s: float) -> np.ndarray:
        return fam.flat_coefficients(s * p0 + (1 - s) * p1)

    def fit_error(n_samples: int, s_check: float) -> float:
        nodes = 0.5 + 0.5 * np.cos(np.pi * (np.arange(n_samples) + 0.5) / n_samples)  # Chebyshev on [0, 1]
        V = np.polynomial.chebyshev.chebvander(2 * nodes - 1, n_samples - 1)
        values = np.array([along(s) for s in nodes])
        coef = np.linalg.solve(V, values)
        predicted = np.polynomial.chebyshev.chebvander(np.array([2 * s_check - 1]), n_samples - 1) @ coef
        exact = along(s_check)
        return float(np.abs(predicted[0] - exact).max() / np.abs(exact).max())

    assert fit_error(D + 1, 0.4137) < 1e-9
    assert fit_error(D + 1, 0.9731) < 1e-9
    assert fit_error(D, 0.4137) > 1e-6  # degree D is attained


def test_build_is_fast_and_memoised() -> None:
    import time

    key = family_key(make_spec((2, 2, 1), "relu", 2, bias=False))
    t0 = time.perf_counter()
    fam = family_of(key)
    elapsed = time.perf_counter() - t0
    assert elapsed < 10.0
    assert family_of(FamilyKey.parse(key.id)) is fam


def test_batched_coefficients_match_one_by_one() -> None:
    fam = family_of(make_spec((2, 1, 1), "relu", 3))
    rng = np.random.default_rng(6)
    P = np.array([random_parameters(fam, rng) for _ in range(3)])
    batch = fam.flat_coefficients(P)
    assert batch.shape == (3, int(fam.offsets[-1]))
    for row, p in zip(batch, P):
        single = fam.flat_coefficients(p)
        assert np.allclose(row, single, rtol=1e-13, atol=1e-13 * np.abs(single).max())
        assert np.allclose(np.concatenate(fam.coefficients(p)), single, rtol=1e-13, atol=1e-13 * np.abs(single).max())
    with pytest.raises(FamilyError):
        fam.flat_coefficients(P[:, :-1])
    with pytest.raises(FamilyError):
        fam.coefficients(P)
