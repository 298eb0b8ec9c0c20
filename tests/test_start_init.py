"""Mode ``start``: start solutions, split thresholds, spread, reproducibility, errors."""

from __future__ import annotations

import numpy as np
import pytest

from solver.init.common import InitError, LayerDef
from solver.init.options import StartOptions
from solver.networks.surrogate import fit_surrogate
from solver.init.anchors import local_dimension, place_thresholds, solve_anchors, start_init, start_layer


def _deep_narrow(width: int, depth: int, n_in: int = 1) -> list[LayerDef]:
    return [LayerDef(n_in, width)] + [LayerDef(width, width) for _ in range(depth - 2)] + [LayerDef(width, 1, "identity")]


def _forward_preacts(layers, x):
    """Independent forward pass: list of pre-activation arrays per layer."""
    h, out = x, []
    for l in layers:
        z = h @ l.weight.T + (l.bias if l.bias is not None else 0.0)
        out.append(z)
        h = np.maximum(z, 0.0)
    return out


def test_surrogate_closed_form_and_reference():
    # DESIGN.md: ReLU on [-1, 1], degree 2 is 3/32 + x/2 + 15x^2/32
    np.testing.assert_allclose(fit_surrogate("relu", 2, (-1.0, 1.0)).coefficients, [3 / 32, 1 / 2, 15 / 32], atol=1e-12)
    s = fit_surrogate("relu", 2, (-1.0, 1.0))
    # roots of 15x^2 + 16x + 3 = 0
    np.testing.assert_allclose(s.roots, np.sort(np.roots([15, 16, 3]).real), atol=1e-12)
    np.testing.assert_allclose(s.derivative_roots, [-16 / 30], atol=1e-12)
    for act in ("tanh", "gelu", "leaky_relu"):
        ref = fit_surrogate(act, 4, (-2.0, 3.0)).coefficients
        np.testing.assert_allclose(fit_surrogate(act, 4, (-2.0, 3.0)).coefficients, ref, atol=1e-9)


def test_anchor_solve_is_minimum_norm_solution():
    rng = np.random.default_rng(1)
    h = rng.normal(size=(10, 50))  # in_features > sample size
    rows = np.tile(np.arange(10), (3, 1))
    t = rng.normal(size=(3, 10))
    w, b = solve_anchors(h, rows, t, bias=True)
    A = np.hstack([h, np.ones((10, 1))])
    for i in range(3):
        np.testing.assert_allclose(A @ np.r_[w[i], b[i]], t[i], atol=1e-7)
        ref = np.linalg.pinv(A) @ t[i]  # independent minimum-norm solution
        np.testing.assert_allclose(np.r_[w[i], b[i]], ref, atol=1e-7)


def test_square_start_system_solution_interpolates_roots():
    rng = np.random.default_rng(2)
    h = rng.normal(size=(40, 3))
    rows = np.array([[0, 5, 9, 20]])
    sur = fit_surrogate("relu", 2, (-1.0, 1.0))
    t = sur.roots[[0, 1, 1, 0]][None, :]
    w, b = solve_anchors(h, rows, t)
    np.testing.assert_allclose(h[rows[0]] @ w[0] + b[0], t[0], atol=1e-8)
    # each anchor's pre-activation is a root of the surrogate
    np.testing.assert_allclose(sur(h[rows[0]] @ w[0] + b[0]), 0.0, atol=1e-8)


def test_thresholds_split_tied_projections():
    # most values tied at the top: anchoring at a random point would often leave the
    # neuron inactive everywhere (DESIGN.md); gaps between distinct values never do
    rng = np.random.default_rng(3)
    s = np.concatenate([np.full(200, 5.0), rng.uniform(0, 1, 20), np.full(30, 5.0 + 1e-13)])[:, None]
    s = np.repeat(s, 50, axis=1) * np.linspace(0.5, 2, 50)
    theta, scale, moved = place_thresholds(s, rng, 2.0)
    z = (s - theta) * scale
    assert moved.all()
    assert ((z > 0).any(axis=0) & (z <= 0).any(axis=0)).all()
    np.testing.assert_allclose(z.max(axis=0) - z.min(axis=0), 2.0, rtol=1e-9)


@pytest.mark.parametrize("width", [2, 3, 4])
def test_every_neuron_split_in_deep_narrow_net(width):
    x = np.linspace(-1, 1, 256)[:, None]
    for seed in range(5):
        layers = _deep_narrow(width, 10)
        res = start_init(layers, x, np.abs(x), seed=seed)
        zs = _forward_preacts(res.layers, x)
        for k, z in enumerate(zs[:-1]):
            active = z > 0
            assert active.any(axis=0).all(), f"seed {seed} layer {k}: a neuron is inactive on all data"
            assert (~active).any(axis=0).all(), f"seed {seed} layer {k}: a neuron is active on all data"
        # the last hidden layer still separates many inputs (no collapse of the features)
        h = np.maximum(zs[-2], 0)
        assert np.unique(np.round(h, 9), axis=0).shape[0] >= 20


def test_preactivation_spread_matches_interval_width():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 20))
    res = start_init([LayerDef(20, 30), LayerDef(30, 30), LayerDef(30, 2, "identity")], x, None, seed=1, options=StartOptions(interval=(-1.5, 1.5)))
    zs = _forward_preacts(res.layers, x)
    for z in zs[:2]:
        np.testing.assert_allclose(z.max(axis=0) - z.min(axis=0), 3.0, rtol=1e-8)


def test_output_layer_is_ridge_fit_with_targets():
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, size=(200, 2))
    y = np.sin(3 * x[:, :1]) + x[:, 1:] ** 2
    lam = 0.01
    res = start_init([LayerDef(2, 16), LayerDef(16, 1, "identity")], x, y, seed=0, options=StartOptions(weight_decay=lam))
    h = np.maximum(x @ res.layers[0].weight.T + res.layers[0].bias, 0)
    W, b = res.layers[1].weight, res.layers[1].bias
    # stationarity of 1/(2N)||hW^T + b - y||^2 + lam/2 ||W||^2 (autograd-free closed form)
    r = h @ W.T + b - y
    np.testing.assert_allclose(r.T @ h / len(x) + lam * W, 0, atol=1e-9)
    np.testing.assert_allclose(r.mean(axis=0), 0, atol=1e-9)
    assert np.mean(r**2) < 0.5 * y.var()


def test_reproducible_and_seed_dependent():
    x = np.random.default_rng(6).normal(size=(100, 5))
    layers = [LayerDef(5, 8), LayerDef(8, 3, "identity")]
    a = start_init(layers, x, seed=3).state_dict()
    b = start_init(layers, x, seed=3).state_dict()
    c = start_init(layers, x, seed=4).state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert any(not np.allclose(a[k], c[k]) for k in a)


def test_no_bias_layers_still_split():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(200, 4))
    layers = [LayerDef(4, 6, bias=False), LayerDef(6, 6, bias=False), LayerDef(6, 1, "identity", bias=False)]
    res = start_init(layers, x, seed=0)
    assert res.layers[0].bias is None
    zs = _forward_preacts(res.layers, x)
    for z in zs[:2]:
        assert ((z > 0).any(axis=0) & (z <= 0).any(axis=0)).all()


def test_bad_input_messages():
    x = np.zeros((10, 3))
    with pytest.raises(InitError, match="3 features but the first layer expects 2"):
        start_init([LayerDef(2, 4), LayerDef(4, 1, "identity")], x)
    with pytest.raises(InitError, match="does not match"):
        start_init([LayerDef(3, 4), LayerDef(5, 1, "identity")], x)
    with pytest.raises(InitError, match="NaN"):
        start_init([LayerDef(3, 4)], np.full((4, 3), np.nan))
    with pytest.raises(InitError, match="unknown activation"):
        start_init([LayerDef(3, 4, "softplus")], x)


def test_constant_inputs_do_not_crash_and_are_reported():
    x = np.ones((20, 2))
    li = start_layer(x, 3, fit_surrogate("relu", 2, (-1.0, 1.0)), np.random.default_rng(0))
    assert li.info["unsplit"] == 3  # nothing can split identical rows, and it says so


def test_run_spec_start_and_auto_reason():
    from solver.init.modes import run_spec

    x = np.linspace(-1, 1, 9)[:, None]
    spec = {
        "layers": [{"in_features": 1, "out_features": 4}, {"in_features": 4, "out_features": 1}],
        "data": {"x": x.tolist()},
        "mode": "auto",
    }
    out = run_spec(spec)
    assert out["mode"] == "start" and "no targets" in out["reason"]
    assert set(out["weights"]) == {"0.weight", "0.bias", "1.weight", "1.bias"}
    assert np.asarray(out["weights"]["0.weight"]).shape == (4, 1)


def test_lps_init_cli_start_mode(tmp_path, capsys):
    import json

    from safetensors.numpy import load_file

    from solver.cli.main import main

    x = np.linspace(-1, 1, 16)[:, None]
    spec = {
        "layers": [{"in_features": 1, "out_features": 5}, {"in_features": 5, "out_features": 5}, {"in_features": 5, "out_features": 1}],
        "data": {"x": x.tolist(), "y": np.abs(x).tolist()},
    }
    sp, w, m = tmp_path / "spec.json", tmp_path / "w.safetensors", tmp_path / "meta.json"
    sp.write_text(json.dumps(spec))
    assert main(["init", "--spec", str(sp), "--mode", "start", "--out", str(w), "--json", str(m), "--quiet"]) == 0
    tensors = load_file(str(w))
    assert {k: v.shape for k, v in tensors.items()} == {
        "0.weight": (5, 1), "0.bias": (5,), "1.weight": (5, 5), "1.bias": (5,), "2.weight": (1, 5), "2.bias": (1,)
    }
    meta = json.loads(m.read_text())
    assert meta["mode"] == "start" and meta["layers"][0]["split_fraction"] == 1.0
    np.testing.assert_allclose(tensors["1.weight"], np.asarray(meta["weights"]["1.weight"], dtype=np.float32))
    # a bad spec: one line naming the field, exit status 2
    spec["layers"][1]["in_features"] = 4
    sp.write_text(json.dumps(spec))
    capsys.readouterr()
    assert main(["init", "--spec", str(sp), "--mode", "start"]) == 2
    err = capsys.readouterr().err
    assert "layers[1].in_features" in err and "Traceback" not in err


def test_local_dimension_of_curves_planes_and_full_rank_data():
    rng = np.random.default_rng(8)
    x = np.linspace(-1, 1, 256)[:, None]
    assert local_dimension(x) == 1
    # ReLU features of 1-D data: a piecewise-linear curve in 32 dimensions
    h = np.maximum(x @ rng.normal(size=(1, 32)) + rng.uniform(-1, 1, 32), 0)
    assert local_dimension(h) == 1
    # a plane embedded linearly in 30 dimensions
    assert local_dimension(rng.uniform(-1, 1, (500, 2)) @ rng.normal(size=(2, 30))) == 2
    # full-rank data: no low dimension to report, the cap is left alone
    assert local_dimension(rng.normal(size=(500, 20))) is None


def _second_layer_sign_changes(**options) -> float:
    """Mean sign changes along sorted x of the second-layer pre-activations of 1-32-32-1."""
    x = np.linspace(-1, 1, 256)[:, None]
    counts = []
    for seed in range(5):
        res = start_init([LayerDef(1, 32), LayerDef(32, 32), LayerDef(32, 1, "identity")], x, np.sin(3 * x), seed=seed, options=StartOptions(**options))
        z2 = _forward_preacts(res.layers, x)[1]
        counts.append(((z2[1:] > 0) != (z2[:-1] > 0)).sum(axis=0).mean())
    return float(np.mean(counts))


def test_second_layer_of_wide_1d_net_does_not_oscillate():
    # bench/REPORT.md 3a: with 32 anchors a second-layer neuron interpolates random roots
    # at 32 random x and crosses zero ~7 times on the data (He: 0.5); on 1-D data the
    # default caps the anchors at d + 1 = 2
    old = _second_layer_sign_changes(max_points=32, adapt_to_dimension=False)
    new = _second_layer_sign_changes()
    assert old > 4.0  # the old default fails the bound below
    assert new <= 2.0
    res = start_init([LayerDef(1, 32), LayerDef(32, 32), LayerDef(32, 1, "identity")], np.linspace(-1, 1, 256)[:, None], seed=0)
    assert res.layers[1].info["local_dimension"] == 1 and res.layers[1].info["anchors_per_neuron"] == 2


def test_high_dimensional_inputs_keep_the_anchor_cap():
    x = np.random.default_rng(9).normal(size=(300, 64))
    res = start_init([LayerDef(64, 16), LayerDef(16, 3, "identity")], x, seed=0)
    assert res.layers[0].info["local_dimension"] is None
    assert res.layers[0].info["anchors_per_neuron"] == 32


def test_one_level_per_neuron_puts_anchors_on_a_level_set():
    rng = np.random.default_rng(10)
    h = rng.normal(size=(200, 12))
    sur = fit_surrogate("relu", 2, (-1.0, 1.0))
    li = start_layer(h, 6, sur, np.random.default_rng(0), cover=False, options=StartOptions(levels="one"))
    assert li.info["anchors_per_neuron"] == 12  # n + 1 - 1: one fewer than the unknowns
    z = h @ li.weight.T + li.bias
    assert ((z > 0).any(axis=0) & (z <= 0).any(axis=0)).all()
    with pytest.raises(InitError, match="levels"):
        start_layer(h, 2, sur, rng, options=StartOptions(levels="two"))
