"""Deep linear networks in closed form (Ziyin, Li, Meng 2022) against two independent oracles:
our homotopy (exact mode by method="linear-product") on the architectures small enough to
solve, and PyTorch autograd (zero gradient, Hessian definiteness as claimed, the origin's
smallest eigenvalue)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from solver.networks.critical_points import find_critical_points
from solver.networks.linear_closed_form import closed_form_reason, linear_critical_points, origin_check
from solver.networks.spec import load_spec
from tests.network_specs import torch_loss as shared_torch_loss
from tests.point_sets import same_sets

torch = pytest.importorskip("torch")


def linear_spec(widths, biases, lam=0.05, seed=0, slope=1.0, n=6, **extra):
    """Identity layers; ``biases`` one flag per layer; targets a noisy linear function."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, widths[0]))
    y = slope * x.sum(axis=1, keepdims=True) + 0.3 + 0.1 * rng.normal(size=(n, widths[-1]))
    layers = [{"in_features": a, "out_features": b, "activation": "identity", "bias": f}
              for (a, b), f in zip(zip(widths, widths[1:]), biases)]
    return load_spec({"layers": layers, "data": {"x": x.tolist(), "y": y.tolist()}, "weight_decay": lam,
                      "mode": "exact", **extra})


def sign_orbit(spec, theta):
    """Every image of ``theta`` under sign flips of width-1 hidden neurons (written here,
    independently of the module): flip W_l's row (and b_l) and W_{l+1}'s column."""
    out = []
    L = len(spec.layers)
    for signs in itertools.product((1.0, -1.0), repeat=L - 1):
        parts, k, prev = [], 0, 1.0
        for l, layer in enumerate(spec.layers):
            s_out = signs[l] if l < L - 1 else 1.0
            n_w = layer.out_features * layer.in_features
            parts.append(theta[k:k + n_w] * s_out * prev)
            k += n_w
            if layer.bias:
                parts.append(theta[k:k + layer.out_features] * s_out)
                k += layer.out_features
            prev = s_out
        out.append(np.concatenate(parts))
    return np.unique(np.round(np.array(out), 12), axis=0)


def torch_loss(spec, theta):
    """The shared independent torch loss; identity layers have the surrogate p(x) = x."""
    return shared_torch_loss(spec, theta, spec.surrogates())


def torch_grad_hessian_eigs(spec, theta):
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    g = torch.autograd.grad(torch_loss(spec, t), t)[0].numpy()
    H = torch.autograd.functional.hessian(lambda u: torch_loss(spec, u), torch.tensor(theta, dtype=torch.float64))
    return g, np.linalg.eigvalsh(H.numpy())


@pytest.mark.parametrize("widths,biases", [
    ((1, 1, 1), (False, False)),
    ((1, 1, 1), (True, True)),
    ((2, 1, 1), (True, True)),
    ((1, 1, 1, 1), (False, False, False)),
    ((1, 1, 1, 1), (True, False, True)),
])
def test_closed_form_equals_the_homotopy(widths, biases):
    spec = linear_spec(widths, biases)
    assert closed_form_reason(spec) is None
    ours = linear_critical_points(spec)
    theirs = find_critical_points(spec, method="linear-product", mixed_volume=False)
    expanded = np.vstack([sign_orbit(spec, p.params) for p in ours.points])
    assert ours.n_real == theirs.n_real == len(expanded)
    assert same_sets(expanded, theirs.real_points, tol=1e-7)
    for p in ours.points:  # the homotopy's classification of the same point agrees
        match = [q for q in theirs.points if abs(q.loss - p.loss) <= 1e-9 * max(1.0, abs(p.loss))]
        assert match and all(q.kind == p.kind and q.index == p.index for q in match)


def test_deep_chain_finds_both_norm_roots():
    """Three weight layers, 1-D: phi(b) = 1 has two roots (a saddle and the minimum) when
    E[xy] is large enough; the origin is a strict local minimum (Ziyin et al.)."""
    spec = linear_spec((1, 1, 1, 1), (False, False, False), lam=0.05, slope=2.0)
    r = linear_critical_points(spec)
    assert len(r.roots) == 2
    kinds = sorted(p.kind for p in r.points)
    assert kinds == ["minimum", "minimum", "saddle"]
    assert r.origin.local_minimum and r.to_json()["linear_network"]["warning"]


@pytest.mark.parametrize("widths,biases", [
    ((3, 4, 1), (True, True)),
    ((2, 3, 3, 1), (True, False, True)),
    ((2, 2, 2, 2, 1), (False, False, False, False)),
])
def test_autograd_gradient_zero_and_hessian_as_claimed(widths, biases):
    """Hidden widths > 1: the families are manifolds (hidden rotations), so the Hessian has
    exactly orbit_dimension zero eigenvalues there; the rest have the claimed signs."""
    spec = linear_spec(widths, biases, lam=0.02, slope=1.5, n=8, seed=3)
    r = linear_critical_points(spec)
    dim = sum(w - 1 for w in widths[1:-1])
    assert r.to_json()["linear_network"]["orbit_dimension"] == dim
    assert any(p.kind == "minimum" for p in r.points)
    for p in r.points:
        g, ev = torch_grad_hessian_eigs(spec, p.params)
        assert np.linalg.norm(g) < 1e-10
        tol = 1e-7 * max(1.0, np.abs(ev).max())
        assert int((ev < -tol).sum()) == p.index
        np.testing.assert_allclose(np.sort(ev), np.sort(p.hessian_eigenvalues), atol=1e-8)
        if p.kind == "minimum":
            expected_zeros = 0 if np.abs(p.params[:-1]).max() < 1e-12 else dim
            assert int((np.abs(ev) <= tol).sum()) == expected_zeros
    best = r.candidates[0]
    # the global minimum: no other critical point is lower, and random points are not either
    rng = np.random.default_rng(0)
    for _ in range(50):
        theta = best.params + 0.3 * rng.normal(size=best.params.size)
        assert float(torch_loss(spec, torch.tensor(theta))) >= best.loss - 1e-12


@pytest.mark.parametrize("widths,biases,lam", [
    ((1, 1, 1), (True, True), 0.01),   # two layers, lambda below the coupling: a saddle
    ((1, 1, 1), (True, True), 5.0),    # ... above it: a local minimum
    ((2, 3, 2, 2), (True, True, True), 0.01),  # deep, every bias, several outputs
    ((2, 3, 2, 1), (False, False, False), 0.001),  # deep, no inner bias: always a minimum
])
def test_origin_check_against_autograd(widths, biases, lam):
    spec = linear_spec(widths, biases, lam=lam, slope=2.0)
    check = origin_check(spec)
    g, ev = torch_grad_hessian_eigs(spec, check.params)
    assert np.linalg.norm(g) < 1e-12
    assert ev.min() == pytest.approx(check.smallest_eigenvalue, abs=1e-10)
    assert check.local_minimum == bool(ev.min() > 0)


def test_auto_and_reports_warn_and_exact_runs_at_any_size(tmp_path, capsys):
    from solver.cli.main import main
    from solver.init.modes import run_spec

    spec = linear_spec((20, 64, 64, 1), (True, False, True), lam=0.01, n=40, mode="auto")
    out = run_spec(spec)
    assert out["mode"] == "exact" and "closed form" in out["reason"] and "WARNING" in out["reason"]
    assert out["linear_origin"]["local_minimum"] and out["linear_origin"]["warning"]
    assert out["exact"]["solve"]["method"] == "closed-form" and out["candidates"][0]["kind"] == "minimum"
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(linear_spec((1, 2, 2, 1), (False, False, False)).model_dump()))
    assert main(["critical", "--spec", str(path), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "closed form of deep linear networks" in text and "WARNING" in text


def test_outside_the_closed_form_the_homotopy_runs():
    spec = linear_spec((1, 1, 1, 1), (True, True, True))
    assert "inner layers" in closed_form_reason(spec)
    from solver.networks.critical_points import preferred_method

    assert preferred_method(spec) == "auto"
