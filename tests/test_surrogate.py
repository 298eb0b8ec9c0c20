"""Surrogate activations: exact coefficients, errors, roots (oracles: closed forms and
an independent least-squares fit on a fine grid)."""

import numpy as np
import pytest

from solver.networks.activations import ACTIVATIONS, activation_function
from solver.networks.surrogate import fit_surrogate


def test_relu_degree_two_on_unit_interval_is_exact():
    s = fit_surrogate("relu", 2, (-1.0, 1.0))
    np.testing.assert_allclose(s.coefficients, [3 / 32, 1 / 2, 15 / 32], rtol=0, atol=1e-12)
    # the error of relu - p is largest at the ends and the kink: p(0) = 3/32
    assert s.max_error == pytest.approx(3 / 32, abs=1e-6)
    # closed-form roots of 15x^2/32 + x/2 + 3/32
    np.testing.assert_allclose(s.roots, np.sort(np.roots([15 / 32, 1 / 2, 3 / 32])), atol=1e-12)


def test_relu_on_shifted_interval_matches_scaled_closed_form():
    # relu(r t) = r relu(t): on [-r, r] the fit is r * p(x / r)
    r = 2.5
    s = fit_surrogate("relu", 2, (-r, r))
    np.testing.assert_allclose(s.coefficients, [3 * r / 32, 1 / 2, 15 / (32 * r)], atol=1e-12)


def test_identity_is_exact():
    s = fit_surrogate("identity", 5, (-3.0, 7.0))
    assert s.degree == 1 and s.max_error < 1e-15 and s.rms_error < 1e-15
    np.testing.assert_array_equal(s.coefficients, [0.0, 1.0])


@pytest.mark.parametrize("name", [a for a in ACTIVATIONS if a != "identity"])
def test_matches_least_squares_on_a_fine_grid(name):
    # independent oracle: discrete least squares on 200k uniform points approximates the
    # continuous L2 projection to O(1/n^2)-ish
    lo, hi, d = -2.0, 3.0, 4
    s = fit_surrogate(name, d, (lo, hi))
    x = np.linspace(lo, hi, 200_001)
    ls = np.polynomial.polynomial.polyfit(x, activation_function(name)(x), d)
    np.testing.assert_allclose(s.coefficients, ls, atol=2e-5)
    fx = activation_function(name)(x)
    assert s.max_error == pytest.approx(np.abs(fx - s(x)).max(), rel=1e-3)
    assert s.rms_error == pytest.approx(np.sqrt(np.mean((fx - s(x)) ** 2)), rel=1e-3)


@pytest.mark.parametrize("name", [a for a in ACTIVATIONS if a != "identity"])
def test_errors_shrink_with_degree(name):
    fits = [fit_surrogate(name, d, (-2.0, 2.0)) for d in range(1, 9)]
    rms = [f.rms_error for f in fits]
    mx = [f.max_error for f in fits]
    # L2 projections are nested: the rms error never grows and shrinks over two degrees
    assert all(b <= a * (1 + 1e-9) for a, b in zip(rms, rms[1:]))
    assert all(rms[k + 2] < rms[k] for k in range(6))
    if name != "threshold":  # a step's sup error is at least 1/2 at its jump, whatever the degree
        assert mx[-1] < 0.5 * mx[0]


@pytest.mark.parametrize("name", ["relu", "tanh", "gelu", "silu", "leaky_relu"])
def test_roots_are_roots_in_the_interval(name):
    lo, hi = -2.0, 3.0
    for d in range(2, 7):
        s = fit_surrogate(name, d, (lo, hi))
        assert np.all((s.roots >= lo) & (s.roots <= hi))
        assert np.all(np.abs(s(s.roots)) < 1e-10)
        # oracle: sign changes of p on a fine grid are all found
        x = np.linspace(lo, hi, 100_001)
        changes = np.count_nonzero(np.diff(np.sign(s(x))) != 0)
        assert len(s.roots) >= changes


def test_leaky_relu_uses_its_slope():
    a = fit_surrogate("leaky_relu", 1, (-1.0, 1.0), negative_slope=0.2)
    # relu's linear fit is 1/4 + x/2; leaky: (1 - s) relu + s x
    np.testing.assert_allclose(a.coefficients, [0.8 * 0.25, 0.8 * 0.5 + 0.2], atol=1e-12)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="interval"):
        fit_surrogate("relu", 2, (1.0, -1.0))
    with pytest.raises(ValueError, match="unknown activation"):
        fit_surrogate("swish", 2, (-1.0, 1.0))
