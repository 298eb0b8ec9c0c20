"""Mode ``layerwise``: the one-neuron gradient systems, their critical points, whole nets."""

from __future__ import annotations

import numpy as np
import pytest

from solver.init.common import InitError, LayerDef
from solver.init.options import LayerwiseOptions
from solver.networks.surrogate import fit_surrogate
from solver.init.layerwise import layerwise_init, neuron_system, solve_systems

torch = pytest.importorskip("torch")


def _torch_loss(params, u, r, coef, lam):
    """The one-neuron surrogate loss in torch (an independent implementation)."""
    q = u.shape[1]
    a, w, b = params[0], params[1 : 1 + q], params[1 + q]
    z = u @ w + b
    p = sum(float(c) * z**k for k, c in enumerate(coef))
    return 0.5 * torch.mean((a * p - r) ** 2) + 0.5 * lam * torch.sum(params**2)


@pytest.mark.parametrize("q", [1, 2])
def test_neuron_system_is_autograd_gradient(q):
    rng = np.random.default_rng(q)
    u, r = rng.uniform(-1, 1, (40, q)), rng.normal(size=40)
    coef = fit_surrogate("relu", 2, (-1.0, 1.0)).coefficients
    system = neuron_system(u, r, coef, 0.05)
    ut, rt = torch.tensor(u), torch.tensor(r)
    for _ in range(3):
        x = rng.normal(size=q + 2)
        xt = torch.tensor(x, requires_grad=True)
        (g,) = torch.autograd.grad(_torch_loss(xt, ut, rt, coef, 0.05), xt)
        np.testing.assert_allclose(system(x.astype(complex)).real, g.numpy(), atol=1e-10)


def test_engine_critical_points_are_critical_and_classified():
    rng = np.random.default_rng(0)
    u = rng.uniform(-1, 1, (30, 1))
    r = np.abs(u[:, 0])
    r = r - r.mean()  # centred, as layerwise fits it: then the origin is critical
    coef = fit_surrogate("relu", 2, (-1.0, 1.0)).coefficients
    lam = 0.01
    system = neuron_system(u, r, coef, lam)
    (sol,) = solve_systems([system])
    real = sol["real"]
    assert sol["paths"] >= sol["solutions"] >= real.shape[0] >= 2
    # the origin is always a critical point (a silent neuron): it must be found
    assert np.min(np.linalg.norm(real, axis=1)) < 1e-8
    ut, rt = torch.tensor(u), torch.tensor(r)
    n_min = 0
    for x in real:
        xt = torch.tensor(x, requires_grad=True)
        (g,) = torch.autograd.grad(_torch_loss(xt, ut, rt, coef, lam), xt)
        assert np.abs(g.numpy()).max() < 1e-8
        H = torch.autograd.functional.hessian(lambda p: _torch_loss(p, ut, rt, coef, lam), torch.tensor(x))
        ours = system.jacobian(x.astype(complex)).real
        np.testing.assert_allclose(ours, H.numpy(), atol=1e-8)
        n_min += int(np.linalg.eigvalsh(H.numpy()).min() > 0)
    assert n_min >= 1  # a nonnegative loss has a global minimum among them


def test_deep_narrow_net_every_neuron_split():
    x = np.linspace(-1, 1, 128)[:, None]
    y = np.sin(3 * x)
    layers = [LayerDef(1, 3)] + [LayerDef(3, 3) for _ in range(8)] + [LayerDef(3, 1, "identity")]
    res = layerwise_init(layers, x, y, seed=0, options=LayerwiseOptions(weight_decay=0.01))
    h = x
    for k, l in enumerate(res.layers[:-1]):
        z = h @ l.weight.T + l.bias
        act = z > 0
        assert act.any(axis=0).all() and (~act).any(axis=0).all(), f"layer {k}"
        h = np.maximum(z, 0)
    assert res.counts["systems"] == 27 and res.counts["paths"] > 0
    # most neurons came from an exact minimum, not from the fallback
    assert res.counts["minima_used"] >= 0.5 * res.counts["systems"]


def test_fits_better_than_the_mean():
    x = np.linspace(-1, 1, 64)[:, None]
    y = np.abs(x)
    res = layerwise_init([LayerDef(1, 6), LayerDef(6, 1, "identity")], x, y, seed=1, options=LayerwiseOptions(weight_decay=0.001))
    h = np.maximum(x @ res.layers[0].weight.T + res.layers[0].bias, 0)
    pred = h @ res.layers[1].weight.T + res.layers[1].bias
    assert np.mean((pred - y) ** 2) < 0.2 * y.var()
    # reproducible with the seed
    res2 = layerwise_init([LayerDef(1, 6), LayerDef(6, 1, "identity")], x, y, seed=1, options=LayerwiseOptions(weight_decay=0.001))
    np.testing.assert_array_equal(res.layers[0].weight, res2.layers[0].weight)


def test_swappable_solver_hook_is_called_once_per_round():
    calls = []

    def counting(systems, seed=0, max_paths=100_000, family=None):
        calls.append(len(systems))
        return solve_systems(systems, seed=seed, max_paths=max_paths, family=family)

    x = np.linspace(-1, 1, 32)[:, None]
    layerwise_init([LayerDef(1, 5), LayerDef(5, 1, "identity")], x, x**2, solver=counting, options=LayerwiseOptions(batch=None))
    assert calls == [5]


def test_errors():
    x = np.zeros((5, 1))
    with pytest.raises(InitError, match="needs targets"):
        layerwise_init([LayerDef(1, 2), LayerDef(2, 1, "identity")], x, None)
    with pytest.raises(InitError, match="weight_decay > 0"):
        layerwise_init([LayerDef(1, 2), LayerDef(2, 1, "identity")], x, x, options=LayerwiseOptions(weight_decay=0.0))
