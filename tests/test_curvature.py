"""Curvature per layer (Skorski, Temperoni, Theobald 2020): the power iteration on torch
Hessian-vector products against the eigenvalues of the dense Hessian from
torch.autograd.functional.hessian; the curvature rescaling of init_; the reports."""

from __future__ import annotations

import numpy as np
import pytest

from solver.networks.curvature import balance_gains, spec_curvature
from tests.network_specs import make_spec

torch = pytest.importorskip("torch")


def dense_data_hessian(spec, theta):
    """The data term's Hessian in the flat parameter vector, written independently."""
    x = torch.tensor(spec.data.x_array())
    y = torch.tensor(spec.data.y_array())
    acts = {"tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z, "sigmoid": torch.sigmoid}

    def data(t):
        h, k = x, 0
        for layer in spec.layers:
            o, i = layer.out_features, layer.in_features
            W = t[k:k + o * i].reshape(o, i)
            k += o * i
            h = h @ W.T
            if layer.bias:
                h = h + t[k:k + o]
                k += o
            h = acts[layer.activation](h)
        r = h - y
        return 0.5 * (r * r).sum(dim=1).mean()

    return torch.autograd.functional.hessian(data, torch.tensor(theta, dtype=torch.float64)).numpy()


def layer_slices(spec):
    out, k = [], 0
    for l in spec.layers:
        n = l.out_features * l.in_features + (l.out_features if l.bias else 0)
        out.append(slice(k, k + n))
        k += n
    return out


def torch_model(spec, theta):
    """The spec's network as a torch Sequential holding ``theta``."""
    mods, k = [], 0
    acts = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid}
    for layer in spec.layers:
        lin = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias).double()
        with torch.no_grad():
            n = layer.out_features * layer.in_features
            lin.weight.copy_(torch.tensor(theta[k:k + n]).reshape(lin.weight.shape))
            k += n
            if layer.bias:
                lin.bias.copy_(torch.tensor(theta[k:k + layer.out_features]))
                k += layer.out_features
        mods.append(lin)
        if layer.activation in acts:
            mods.append(acts[layer.activation]())
    return torch.nn.Sequential(*mods)


CASES = [((2, 3, 1), "tanh", 1), ((1, 4, 3, 2), "relu", 2), ((3, 2, 1), "sigmoid", 3)]


@pytest.mark.parametrize("widths,activation,seed", CASES)
def test_numpy_power_iteration_matches_dense_hessian(widths, activation, seed):
    """The reports' path: central differences of the backpropagated gradient."""
    spec = make_spec(widths, activation, 2, n_samples=7, seed=seed)
    theta = np.random.default_rng(seed).normal(size=spec.n_parameters)
    got = spec_curvature(spec, theta, iterations=3000, tolerance=1e-12)
    H = dense_data_hessian(spec, theta)
    for sl, layer in zip(layer_slices(spec), got["layers"]):
        expected = np.abs(np.linalg.eigvalsh(H[sl, sl])).max()
        assert layer["converged"]
        assert layer["spectral_norm"] == pytest.approx(expected, rel=1e-6)
    assert got["whole"]["spectral_norm"] == pytest.approx(np.abs(np.linalg.eigvalsh(H)).max(), rel=1e-6)


@pytest.mark.parametrize("widths,activation,seed", CASES)
def test_torch_power_iteration_matches_dense_hessian(widths, activation, seed):
    """init_'s path: torch Hessian-vector products on the model."""
    from solver.networks.curvature import module_curvature

    spec = make_spec(widths, activation, 2, n_samples=7, seed=seed)
    theta = np.random.default_rng(seed).normal(size=spec.n_parameters)
    model = torch_model(spec, theta)
    names = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    norms, whole = module_curvature(model, names, spec.data.x_array(), spec.data.y_array(),
                                    iterations=3000, tolerance=1e-13)
    H = dense_data_hessian(spec, theta)
    for sl, n in zip(layer_slices(spec), norms):
        assert n.converged and n.value == pytest.approx(np.abs(np.linalg.eigvalsh(H[sl, sl])).max(), rel=1e-8)
    assert whole.value == pytest.approx(np.abs(np.linalg.eigvalsh(H)).max(), rel=1e-8)


def test_balance_gains_equalise_norms_with_unit_product():
    rho = np.array([4.0, 0.25, 9.0, 1.0])
    g = balance_gains(rho)
    assert np.prod(g) == pytest.approx(1.0, rel=1e-12)
    scaled = rho / g**2
    np.testing.assert_allclose(scaled, np.full(4, np.exp(np.log(rho).mean())), rtol=1e-12)


@pytest.mark.parametrize("bias", [False, True])
def test_init_scale_curvature_keeps_a_relu_function_and_balances(bias):
    from solver.init.pytorch import init_

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8, bias=bias), torch.nn.ReLU(), torch.nn.Linear(8, 8, bias=bias),
                                torch.nn.ReLU(), torch.nn.Linear(8, 1, bias=bias)).double()
    x = torch.rand(64, 2, dtype=torch.float64) * 2 - 1
    y = (x[:, :1] * x[:, 1:]).abs()
    init_(model, x, y, mode="start", seed=0)
    with torch.no_grad():
        before = model(x).clone()
    rep = init_(model, x, y, mode="start", seed=0, scale="curvature")
    with torch.no_grad():
        np.testing.assert_allclose(model(x).numpy(), before.numpy(), rtol=1e-9, atol=1e-9)
    c = rep.curvature
    assert c["function_preserved"] and np.prod(c["gains"]) == pytest.approx(1.0, rel=1e-9)
    spread = lambda v: max(v) / min(v)  # noqa: E731
    if not bias:  # exactly 1/g^2: equal after
        assert spread(c["after"]) == pytest.approx(1.0, rel=1e-3)
    assert spread(c["after"]) < spread(c["before"])
    assert "curvature" in rep.to_json()


def test_every_mode_reports_curvature_per_candidate():
    from solver.init.modes import run_spec

    spec = make_spec((1, 2, 1), "relu", 2, n_samples=5, seed=4, mode="start")
    for mode in ("start", "exact"):
        out = run_spec(spec, mode=mode)
        per = out["curvature"]["candidates"]
        assert len(per) == max(1, len(out.get("candidates") or []))
        assert all(len(c["layers"]) == 2 and c["whole"]["spectral_norm"] >= 0 for c in per)
