"""``init_`` on PyTorch models, and ``auto``'s choice of mode."""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from solver.init.common import InitError, LayerDef  # noqa: E402
from solver.init.modes import choose_mode  # noqa: E402
from solver.init.pytorch import init_  # noqa: E402


def _mlp(dtype=torch.float32):
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)
    ).to(dtype)


def _cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 5))


def _data(n=120, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 4, generator=g) * 2 - 1
    labels = (x[:, 0] > 0).long() + (x[:, 1] > 0.3).long()
    return x, labels


def _weights(model):
    return [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))]


def _check_changed_and_kept(before, after):
    for mb, ma in zip(_weights(before), _weights(after)):
        assert ma.weight.shape == mb.weight.shape and ma.weight.dtype == mb.weight.dtype
        assert not torch.equal(ma.weight, mb.weight)
        if mb.bias is not None:
            assert ma.bias.shape == mb.bias.shape and ma.bias.dtype == mb.bias.dtype
            assert not torch.equal(ma.bias, mb.bias)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mlp_start_changes_every_layer_keeps_shapes_and_dtypes(dtype):
    x, y = _data()
    model = _mlp(dtype)
    before = copy.deepcopy(model)
    rep = init_(model, x, y, mode="start", seed=1)
    _check_changed_and_kept(before, model)
    assert rep.mode == "start" and len(rep.layers) == 3
    # the report's activity agrees with an independent forward pass through the model
    with torch.no_grad():
        h = model[1](model[0](x.to(dtype)))
        z2 = model[3](h)
    assert rep.layers[1]["split_fraction"] == pytest.approx(float(((z2 > 0).any(0) & (z2 <= 0).any(0)).double().mean()))
    assert rep.layers[0]["split_fraction"] == 1.0 and rep.layers[1]["split_fraction"] == 1.0


def test_integer_labels_are_one_hot_and_output_is_least_squares():
    x, y = _data()
    model = _mlp()
    init_(model, x, y, mode="start", seed=0, weight_decay=1e-3)
    model.eval()
    with torch.no_grad():
        h = model[4](model[3](model[1](model[0](x)))).double()
        out = model[5](h.float()).double()
    onehot = torch.nn.functional.one_hot(y, 3).double()
    r = out - onehot
    # stationarity of the ridge problem in the last layer's weights (float32 storage)
    grad = r.T @ h / len(x) + 1e-3 * model[5].weight.double()
    assert grad.abs().max() < 1e-4
    assert (out.argmax(1) == y).double().mean() > 0.6


def test_reproducible_with_seed():
    x, y = _data()
    a, b, c = _mlp(), _mlp(), _mlp()
    init_(a, x, y, mode="start", seed=5)
    init_(b, x, y, mode="start", seed=5)
    init_(c, x, y, mode="start", seed=6)
    for ma, mb, mc in zip(_weights(a), _weights(b), _weights(c)):
        assert torch.equal(ma.weight, mb.weight)
    assert not all(torch.equal(ma.weight, mc.weight) for ma, mc in zip(_weights(a), _weights(c)))


@pytest.mark.parametrize("mode", ["start", "layerwise"])
def test_cnn_conv_relu_pool_flatten_linear(mode):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(60, 1, 8, 8, generator=g)
    y = (x[:, 0, :4].mean((1, 2)) > x[:, 0, 4:].mean((1, 2))).long() + 2 * (x[:, 0, :, :4].mean((1, 2)) > 0.5).long()
    model = _cnn()
    before = copy.deepcopy(model)
    rep = init_(model, x, y, mode=mode, seed=0, max_patches=512)
    _check_changed_and_kept(before, model)
    # every filter is active on some patches and inactive on others (independent check)
    with torch.no_grad():
        z = model[0](x)
    per_filter = z.transpose(0, 1).reshape(4, -1)
    assert ((per_filter > 0).any(1) & (per_filter <= 0).any(1)).all()
    assert rep.layers[0]["kind"] == "Conv2d" and rep.layers[0]["split_fraction"] == 1.0


def test_conv1d():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(2, 3, 5, stride=2), nn.Tanh(), nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(3, 1))
    x = torch.randn(40, 2, 30)
    before = copy.deepcopy(model)
    rep = init_(model, x, x[:, 0].mean(1), mode="start", seed=0)
    _check_changed_and_kept(before, model)
    assert rep.layers[0]["activation"] == "tanh"


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Linear(4, 4)

    def forward(self, x):
        return x + self.f(x)


@pytest.mark.parametrize(
    "bad, name",
    [
        (nn.Sequential(nn.Linear(4, 4), nn.ReLU(), Residual(), nn.Linear(4, 1)), "module 2 (Residual)"),
        (nn.Sequential(nn.Linear(4, 4), nn.MultiheadAttention(4, 2), nn.Linear(4, 1)), "module 1 (MultiheadAttention)"),
        (nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)), "module 1 (BatchNorm1d)"),
    ],
)
def test_refuses_unknown_modules_naming_them_and_changes_nothing(bad, name):
    before = copy.deepcopy(bad)
    with pytest.raises(InitError) as exc:
        init_(bad, torch.randn(20, 4), mode="start")
    assert name in str(exc.value)
    for (k, a), (_, b) in zip(bad.state_dict().items(), before.state_dict().items()):
        assert torch.equal(a, b), k


def test_refuses_non_sequential_and_bad_data():
    with pytest.raises(InitError, match="nn.Sequential"):
        init_(nn.Linear(3, 2), torch.randn(5, 3))
    with pytest.raises(InitError, match="expects 4 features"):
        init_(_mlp(), torch.randn(10, 5), mode="start")
    with pytest.raises(InitError, match="layerwise mode needs targets"):
        init_(_mlp(), torch.randn(10, 4), mode="layerwise")
    with pytest.raises(InitError, match="add nn.Flatten"):
        init_(nn.Sequential(nn.Linear(8, 2)), torch.randn(10, 2, 8), mode="start")


def test_auto_picks_exact_for_1_2_1_and_says_so():
    from solver.networks.spec import load_spec

    x = np.linspace(-1, 1, 5)[:, None]
    spec = load_spec({"layers": [{"in_features": 1, "out_features": 2}, {"in_features": 2, "out_features": 1}],
                      "data": {"x": x.tolist(), "y": np.abs(x).tolist()}})
    choice = choose_mode(spec.layers, has_targets=True, spec=spec, max_paths=spec.max_paths)
    assert choice.mode == "exact"
    assert "exact" in choice.reason and str(choice.exact_paths) in choice.reason
    # the same count as the network's linear-product structure (independent call)
    from solver.engine.start_systems.set_structure import bezout_count
    from solver.networks.structure import network_set_structure

    # the shipped family's generic count (465 finite critical points, DESIGN.md), below the
    # network's linear-product count (independent call)
    from solver.networks.family import family_key
    from solver.networks.family_store import load_generic

    assert choice.exact_paths == len(load_generic(family_key(spec)).solutions) == 465
    assert choice.exact_paths < bezout_count(network_set_structure(spec)) <= spec.max_paths


def test_auto_never_picks_exact_without_weight_decay():
    # lambda = 0 leaves dead-neuron components of critical points (DESIGN.md): not isolated
    from solver.networks.spec import load_spec

    x = np.linspace(-1, 1, 5)[:, None]
    spec = load_spec({"layers": [{"in_features": 1, "out_features": 2}, {"in_features": 2, "out_features": 1}],
                      "data": {"x": x.tolist(), "y": np.abs(x).tolist()}, "weight_decay": 0.0, "mode": "auto"})
    choice = choose_mode(spec.layers, has_targets=True, spec=spec, max_paths=spec.max_paths)
    assert choice.mode != "exact" and choice.exact_paths is None
    assert "exact needs weight_decay > 0" in choice.reason


def test_auto_picks_start_for_784_256_10_and_says_so():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(300, 784, generator=g)
    y = torch.randint(0, 10, (300,), generator=g)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    rep = init_(model, x, y, mode="auto")
    assert rep.mode == "start"
    assert rep.reason.startswith("auto:") and "parameters > 12" in rep.reason and "budget" in rep.reason
    assert rep.layers[0]["split_fraction"] == 1.0


def test_init_auto_runs_exact_on_1_1_1_and_loads_the_best_candidate():
    # 1-1-1 (33 paths from its family) keeps this end-to-end check fast; the 1-2-1 choice is tested above
    from solver.networks.critical_points import run_exact
    from solver.networks.spec import load_spec

    x = torch.linspace(-1, 1, 5)[:, None]
    y = x.abs()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1))
    rep = init_(model, x, y, mode="auto", degree=2)
    # exact mode's work is the shipped family's generic count: 33 (DESIGN.md: one neuron, 33)
    assert rep.mode == "exact" and "33 generic solutions" in rep.reason
    # the loaded weights are the exact mode's best candidate, computed independently
    spec = load_spec({"layers": [{"in_features": 1, "out_features": 1}, {"in_features": 1, "out_features": 1}],
                      "surrogate": {"degree": 2}, "weight_decay": 0.01,
                      "data": {"x": x.double().tolist(), "y": y.double().tolist()}, "mode": "exact"})
    best = np.asarray(run_exact(spec).candidates[0].params)
    ours = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).double().numpy()
    np.testing.assert_allclose(ours, best, atol=1e-6)
