"""Condensation (Zhou et al. 2022): the surrogate's multiplicity at 0 and the predicted
orientations against closed forms, and the reports that carry them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from solver.networks.condensation import multiplicities, orientation_count, surrogate_condensation
from solver.networks.surrogate import fit_surrogate
from tests.network_specs import make_spec


@pytest.mark.parametrize("activation,degree,root,mult", [
    ("tanh", 3, 1, 1),      # odd surrogate a x + c x^3: a simple root at 0
    ("tanh", 5, 1, 1),
    ("relu", 2, 0, 1),      # 3/32 + x/2 + 15 x^2/32 on [-1, 1]: p(0) = 3/32, p'(0) = 1/2
    ("sigmoid", 3, 0, 1),   # p(0) = 1/2 (the odd part is sigmoid - 1/2)
    ("identity", 1, 1, 1),
])
def test_fitted_surrogates_against_closed_forms(activation, degree, root, mult):
    s = fit_surrogate(activation, degree, (-1.0, 1.0))
    facts = surrogate_condensation(s)
    assert (facts["root_multiplicity"], facts["multiplicity"]) == (root, mult)
    assert facts["predicted_max_orientations"] == 2 * mult


def test_relu_surrogate_value_is_the_closed_form():
    s = fit_surrogate("relu", 2, (-1.0, 1.0))
    assert surrogate_condensation(s)["value_at_0"] == pytest.approx(3 / 32, rel=1e-12)


@pytest.mark.parametrize("coefficients,root,mult", [
    ([0.0, 0.0, 1.0], 2, 2),               # x^2: a double root, four orientations
    ([0.0, 0.0, 0.7, 0.0, -0.1], 2, 2),   # x tanh x's even surrogate type
    ([0.0, 0.0, 0.0, 2.0], 3, 3),         # x^3
    ([0.5, 0.0, 0.0, 1.0], 0, 3),         # 1/2 + x^3: no root at 0, multiplicity 3
    ([1e-15, 1.0, 0.0], 1, 1),            # rounding-level constant is zero
])
def test_multiplicities_of_polynomials(coefficients, root, mult):
    assert multiplicities(coefficients) == (root, mult)


def test_orientation_count():
    w = np.array([[1.0, 0.0], [2.0, 0.001], [-1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    assert orientation_count(w) == 3  # a direction, its opposite, another; the zero row has none


def test_reports_carry_the_prediction(tmp_path, capsys):
    from solver.cli.main import main
    from solver.init.modes import run_spec

    spec = make_spec((1, 3, 1), "tanh", 3, n_samples=5, seed=2, mode="start")
    out = run_spec(spec)
    layer = out["condensation"]["layers"][0]
    assert (layer["multiplicity"], layer["predicted_max_orientations"]) == (1, 2)
    assert len(out["condensation"]["candidates"]) == 1
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(make_spec((1, 1, 1), "tanh", 3, n_samples=4, seed=1).model_dump()))
    assert main(["critical", "--spec", str(path), "--quiet"]) == 0
    assert "at most 2 condensed orientations" in capsys.readouterr().out
