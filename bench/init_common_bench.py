"""Helpers shared by the init benchmarks: data sets, baseline initialisers, forward passes.

Baselines (all with zero biases, the setting of Lu et al. 2019's born-dead analysis):

* ``he``: ``torch.nn.init.kaiming_normal_`` (fan_in, ReLU gain), the PyTorch recipe;
* ``xavier``: ``torch.nn.init.xavier_normal_``;
* ``orthogonal``: ``torch.nn.init.orthogonal_`` with the ReLU gain sqrt(2);
* ``rai``: randomized asymmetric initialisation (Lu, Shin, Su, Karniadakis 2019, Sec. 5):
  for each neuron the vector ``[w, b]`` gets one uniformly chosen entry drawn from
  Beta(2, 1) (positive) and every other entry from N(0, sigma^2), sigma^2 = 0.36 / fan_in.
"""

from __future__ import annotations

import numpy as np
import torch

BASELINES = ("he", "xavier", "orthogonal", "rai")


def digits(n: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits (8x8, 1,797 images) scaled to [0, 1], labels; n random rows."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = d.data / 16.0, d.target.astype(np.int64)
    if n is not None:
        idx = np.random.default_rng(seed).choice(len(x), size=n, replace=False)
        x, y = x[idx], y[idx]
    return x, y


def baseline_weights(name: str, sizes: list[int], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weights (W, b) per layer for a baseline, drawn with torch's generator."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = torch.empty(n_out, n_in, dtype=torch.float64)
        b = torch.zeros(n_out, dtype=torch.float64)
        if name == "he":
            torch.nn.init.kaiming_normal_(W, nonlinearity="relu", generator=g)
        elif name == "xavier":
            torch.nn.init.xavier_normal_(W, generator=g)
        elif name == "orthogonal":
            torch.nn.init.orthogonal_(W, gain=float(np.sqrt(2.0)), generator=g)
        elif name == "rai":
            V = torch.randn(n_out, n_in + 1, dtype=torch.float64, generator=g) * float(np.sqrt(0.36 / n_in))
            j = torch.randint(0, n_in + 1, (n_out,), generator=g)
            # Beta(2, 1) through its inverse CDF (F(v) = v^2), so the seeded generator decides
            u = torch.rand(n_out, dtype=torch.float64, generator=g)
            V[torch.arange(n_out), j] = torch.sqrt(u)
            W, b = V[:, :n_in].clone(), V[:, n_in].clone()
        else:
            raise ValueError(name)
        out.append((W.numpy(), b.numpy()))
    return out


def hidden_preacts(weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> list[np.ndarray]:
    """Pre-activations of every hidden (ReLU) layer; the last layer is the output."""
    h, out = x, []
    for W, b in weights[:-1]:
        z = h @ W.T + (b if b is not None else 0.0)
        out.append(z)
        h = np.maximum(z, 0.0)
    return out


def dead_stats(preacts: list[np.ndarray]) -> tuple[bool, float]:
    """(born dead, fraction of dead neurons).

    Born dead: some hidden layer's output is the same vector for every input of the data
    (relative spread below 1e-12), so the network is a constant function. A neuron is dead
    when its pre-activation is <= 0 on every input.
    """
    born_dead = False
    dead = total = 0
    for z in preacts:
        h = np.maximum(z, 0.0)
        spread = float((h.max(axis=0) - h.min(axis=0)).max())
        if spread <= 1e-12 * max(1.0, float(np.abs(h).max())):
            born_dead = True
        dead += int((z <= 0).all(axis=0).sum())
        total += z.shape[1]
    return born_dead, dead / max(total, 1)
