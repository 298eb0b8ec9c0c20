"""Threshold activations and the convex program of two-layer threshold networks (Ergen,
Gulluk, Lacotte, Pilanci 2023): on data small enough to enumerate, the program's optimum
equals the best of an exhaustive search over hidden patterns and outer weights; the
returned network's loss equals the program's value."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from solver.networks.spec import load_spec
from solver.networks.threshold_convex import threshold_loss, threshold_program


def threshold_spec(x, y, width, lam=0.05, bias=True, mode="exact"):
    x = np.asarray(x, float).reshape(len(x), -1)
    return load_spec({
        "layers": [{"in_features": x.shape[1], "out_features": width, "activation": "threshold", "bias": bias},
                   {"in_features": width, "out_features": 1, "activation": "identity"}],
        "weight_decay": lam, "mode": mode,
        "data": {"x": x.tolist(), "y": np.asarray(y, float).reshape(-1, 1).tolist()},
    })


def patterns_1d(x):
    """Every nonempty set {x >= t} and {x <= t}, written here from the sorted values."""
    order = np.sort(np.unique(x))
    out = set()
    for t in order:
        out.add(tuple((x >= t).astype(int)))
        out.add(tuple((x <= t).astype(int)))
    return np.array(sorted(out), float).T  # (N, P)


def exhaustive(D, y, lam, width):
    """min over every support of at most ``width`` patterns and every sign vector of the
    stationary point of the smooth problem with those signs, kept when its signs agree."""
    N, P = D.shape
    best = 0.5 * np.mean((y - y.mean() / (1 + lam)) ** 2) + 0.5 * lam * (y.mean() / (1 + lam)) ** 2
    for k in range(1, min(width, P) + 1):
        for S in itertools.combinations(range(P), k):
            A = np.hstack([D[:, S], np.ones((N, 1))])
            G = A.T @ A / N + np.diag([0.0] * k + [lam])
            for signs in itertools.product((1.0, -1.0), repeat=k):
                rhs = A.T @ y / N - lam * np.r_[signs, 0.0]
                try:
                    sol = np.linalg.solve(G, rhs)
                except np.linalg.LinAlgError:
                    continue
                z, c = sol[:k], sol[k]
                if np.all(np.sign(z) == signs):
                    r = D[:, S] @ z + c - y
                    best = min(best, 0.5 * np.mean(r * r) + lam * np.abs(z).sum() + 0.5 * lam * c * c)
    return best


@pytest.mark.parametrize("x,y,lam", [
    ([-1.0, -0.3, 0.4, 1.0], [1.0, 0.0, 0.2, 1.0], 0.02),
    ([-1.0, -0.5, 0.0, 0.5, 1.0], [0.0, 1.0, -1.0, 1.0, 0.0], 0.05),
    ([0.1, 0.2, 0.7, 0.9], [2.0, -1.0, 0.5, 0.5], 0.1),
])
def test_program_equals_exhaustive_search_and_network_loss(x, y, lam):
    x, y = np.array(x), np.array(y)
    D = patterns_1d(x)
    width = D.shape[1]
    r = threshold_program(threshold_spec(x, y, width, lam))
    t = r.to_json()["threshold_program"]
    assert t["patterns"] == "enumerated" and t["n_patterns"] == D.shape[1]
    assert t["width_sufficient"] and t["kkt_residual"] < 1e-9
    assert t["program_value"] == pytest.approx(exhaustive(D, y, lam, width), rel=1e-9, abs=1e-12)
    best = r.candidates[0]
    assert best.loss == pytest.approx(t["program_value"], rel=1e-9, abs=1e-12)
    # the loss by a forward pass written here: steps, L1 on the outer weights, ridge on the bias
    W1, b1 = best.params[:width].reshape(width, 1), best.params[width:2 * width]
    W2, b2 = best.params[2 * width:3 * width], best.params[-1]
    f = ((x[:, None] @ W1.T + b1) >= 0).astype(float) @ W2 + b2
    mine = 0.5 * np.mean((f - y) ** 2) + lam * np.abs(W2).sum() + 0.5 * lam * b2**2
    assert mine == pytest.approx(best.loss, rel=1e-12, abs=1e-14)


def test_too_narrow_a_network_says_so_and_is_no_better():
    x, y = np.array([-1.0, -0.5, 0.0, 0.5, 1.0]), np.array([0.0, 1.0, -1.0, 1.0, 0.0])
    r = threshold_program(threshold_spec(x, y, 1, 0.01))
    t = r.to_json()["threshold_program"]
    assert not t["width_sufficient"] and t["support"] > 1
    assert r.candidates[0].loss >= t["program_value"] - 1e-12
    assert r.candidates[0].loss == pytest.approx(exhaustive(patterns_1d(x), y, 0.01, 1), rel=1e-9)


def test_two_inputs_sample_patterns():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (6, 2))
    y = (x[:, 0] > x[:, 1]).astype(float)
    r = threshold_program(threshold_spec(x, y, 20, 0.01))
    t = r.to_json()["threshold_program"]
    assert t["patterns"] == "sampled" and t["directions_drawn"] > 0
    assert r.candidates[0].loss == pytest.approx(t["program_value"], rel=1e-9)
    assert threshold_loss(r.spec, r.candidates[0].params) == pytest.approx(r.candidates[0].loss, rel=1e-12)


def test_reachable_from_auto_cli_and_other_modes(tmp_path, capsys):
    from solver.cli.main import main
    from solver.init.modes import run_spec
    from solver.networks.weights_io import read_safetensors

    x, y = [-1.0, -0.3, 0.4, 1.0], [1.0, 0.0, 0.2, 1.0]
    spec = threshold_spec(x, y, 6, 0.02, mode="auto")
    out = run_spec(spec)
    assert out["mode"] == "exact" and "convex program" in out["reason"]
    assert out["exact"]["threshold_program"]["width_sufficient"]
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec.model_dump()))
    assert main(["init", "--spec", str(path), "--mode", "exact", "--out", str(tmp_path / "w.safetensors"), "--quiet"]) == 0
    theta = read_safetensors(str(tmp_path / "w.safetensors"), spec)
    assert threshold_loss(spec, theta) == pytest.approx(out["candidates"][0]["loss"], rel=1e-6)
    assert main(["critical", "--spec", str(path), "--quiet"]) == 0
    assert "convex program of two-layer threshold networks" in capsys.readouterr().out
    start = run_spec(threshold_spec(x, y, 3, mode="start"))
    assert start["mode"] == "start" and start["weights"]
