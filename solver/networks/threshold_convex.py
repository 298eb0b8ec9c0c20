"""Two-layer threshold networks trained globally by a convex (Lasso) program.

Ergen, Gulluk, Lacotte and Pilanci, "Globally Optimal Training of Neural Networks with
Threshold Activation Functions" (ICLR 2023, arXiv 2303.03382). A threshold unit
``1[w.x + b >= 0]`` only sees the data through its *arrangement pattern*, the 0/1 vector
``d = (1[w.x_j + b >= 0])_j``, and does not change when ``(w, b)`` is scaled, so weight decay
on ``(w, b)`` has infimum 0. Following the paper, each unit carries an amplitude ``s_i``
decayed together with its outer weight ``a_i``; at the balance ``|s_i| = |a_i|`` the decay
``lambda/2 (s_i^2 + a_i^2)`` is ``lambda |a_i s_i|``, and training over ``m`` units with
``m`` at least the optimum's support is the Lasso

    min_{z, c}  1/(2N) ||D z + c 1 - y||^2 + lambda ||z||_1 + lambda/2 c^2

over the columns ``D`` of all arrangement patterns (``c`` the output bias, decayed as in the
spec; absent without one). The network built from its solution has the hidden
hyperplanes of the chosen patterns and the outer weights ``z_i`` (the amplitude folded in),
and its loss in that parametrisation, ``1/(2N) ||f - y||^2 + lambda ||W_2||_1 + lambda/2
||b_2||^2`` by a forward pass with real steps, is the program's value.

Patterns: with one input they are **enumerated** (a threshold between each pair of
neighbouring distinct values, both orientations); with more inputs they are **sampled**
(random directions, every threshold along each); the result says which. The Lasso is solved
by exact coordinate descent (a Numba kernel) to a KKT residual below ``1e-10``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from solver.errors import LpsError
from solver.networks.activations import activate
from solver.networks.spec import NetworkSpec
from solver.networks.weights_io import flatten, unflatten

#: directions drawn for the sampled patterns (inputs of dimension 2 or more)
SAMPLED_DIRECTIONS = 256
#: coordinate descent stops when the KKT residual is below this, or after this many sweeps
KKT_TOLERANCE = 1e-10
MAX_SWEEPS = 200_000

REFERENCE = "Ergen, Gulluk, Lacotte, Pilanci, ICLR 2023 (arXiv 2303.03382)"


class ThresholdProgramError(LpsError, ValueError):
    """The spec is not a two-layer threshold network with one output."""


def convex_reason(spec: NetworkSpec) -> str | None:
    """None when the convex program covers ``spec``, else why not."""
    if len(spec.layers) != 2 or spec.layers[0].activation != "threshold" or spec.layers[1].activation != "identity":
        return "not a two-layer threshold network (threshold hidden layer, identity output)"
    if spec.layers[1].out_features != 1:
        return "the program is for one output"
    if spec.data.y is None:
        return "no targets"
    return None


@dataclass(frozen=True)
class Patterns:
    """Arrangement patterns as columns ``D`` (N, P) with a hyperplane ``(w, b)`` for each."""

    D: np.ndarray
    w: np.ndarray  # (P, n)
    b: np.ndarray  # (P,)
    how: str  # "enumerated" or "sampled"
    draws: int = 0


def _add(found: dict, x: np.ndarray, w: np.ndarray, b: float) -> None:
    d = (x @ w + b >= 0)
    if d.any():  # the all-zero pattern is a dead unit: no column
        found.setdefault(d.tobytes(), (d.astype(float), w, b))


def arrangement_patterns(x: np.ndarray, bias: bool, seed: int = 0, directions: int = SAMPLED_DIRECTIONS) -> Patterns:
    """All patterns of 1-D inputs; sampled ones along random directions otherwise."""
    n = x.shape[1]
    found: dict = {}
    if n == 1:
        u = np.unique(x[:, 0])
        cuts = np.r_[u[0] - 1.0, 0.5 * (u[1:] + u[:-1])] if bias else np.zeros(1)
        for t in cuts:
            for sign in (1.0, -1.0):  # x >= t and x <= t, t in the gaps (below all: all ones)
                _add(found, x, np.array([sign]), -sign * t)
        how, draws = "enumerated", 0
    else:
        rng = np.random.default_rng(seed)
        for _ in range(directions):
            w = rng.normal(size=n)
            w /= np.linalg.norm(w)
            s = np.unique(x @ w)
            cuts = np.r_[s[0] - 1.0, 0.5 * (s[1:] + s[:-1])] if bias else np.zeros(1)
            for t in cuts:
                _add(found, x, w, -t)
        how, draws = "sampled", directions
    cols = list(found.values())
    return Patterns(np.array([c[0] for c in cols]).T, np.array([c[1] for c in cols]), np.array([c[2] for c in cols]),
                    how, draws)


@dataclass(frozen=True)
class LassoSolution:
    z: np.ndarray
    c: float
    value: float
    kkt: float
    sweeps: int


def lasso_value(D: np.ndarray, y: np.ndarray, z: np.ndarray, c: float, lam: float) -> float:
    r = D @ z + c - y
    return float(0.5 * np.mean(r * r) + lam * np.abs(z).sum() + 0.5 * lam * c * c)


@njit(cache=True)
def _cd_sweeps(D, y, lam, intercept, z, c, sweeps, tolerance):
    """Coordinate descent sweeps (numerical kernel): each ``z_i`` by soft thresholding, then
    the bias; the KKT residual every ten sweeps. Returns ``(c, kkt, sweeps done)``."""
    N, P = D.shape
    col = np.zeros(P)
    for i in range(P):
        col[i] = (D[:, i] @ D[:, i]) / N
    r = y - D @ z - c
    kkt = np.inf
    done = 0
    for sweep in range(1, sweeps + 1):
        done = sweep
        for i in range(P):
            if col[i] == 0.0:
                continue
            rho = (D[:, i] @ r) / N + col[i] * z[i]
            new = np.sign(rho) * max(abs(rho) - lam, 0.0) / col[i]
            if new != z[i]:
                r -= D[:, i] * (new - z[i])
                z[i] = new
        if intercept:
            new_c = (r.sum() / N + c) / (1.0 + lam)
            r -= new_c - c
            c = new_c
        if sweep % 10 == 0 or sweep == 1:
            g = D.T @ r / N  # minus the smooth part's gradient
            kkt = abs(r.sum() / N - lam * c) if intercept else 0.0
            for i in range(P):
                dev = abs(g[i] - lam * np.sign(z[i])) if z[i] != 0.0 else abs(g[i]) - lam
                kkt = max(kkt, dev)
            if kkt <= tolerance:
                break
    return c, kkt, done


def solve_lasso(D: np.ndarray, y: np.ndarray, lam: float, intercept: bool) -> LassoSolution:
    """``min 1/(2N)||D z + c - y||^2 + lam ||z||_1 + lam/2 c^2`` by exact coordinate descent."""
    D = np.ascontiguousarray(D, dtype=np.float64)
    z = np.zeros(D.shape[1])
    c, kkt, sweeps = _cd_sweeps(D, np.asarray(y, dtype=np.float64), float(lam), bool(intercept), z, 0.0,
                                MAX_SWEEPS, KKT_TOLERANCE)
    return LassoSolution(z, float(c), lasso_value(D, y, z, c, lam), float(kkt), int(sweeps))


def threshold_loss(spec: NetworkSpec, theta: np.ndarray) -> float:
    """The two-layer threshold network's loss in the amplitude parametrisation (module
    docstring): ``1/(2N)||f - y||^2 + lambda ||W_2||_1 + lambda/2 ||b_2||^2``, real steps."""
    (W1, b1), (W2, b2) = unflatten(spec, np.asarray(theta, dtype=np.float64))
    x, y = spec.data.x_array(), spec.data.y_array()
    h = activate(x @ W1.T + (0.0 if b1 is None else b1), "threshold")
    r = h @ W2.T + (0.0 if b2 is None else b2) - y
    lam = spec.weight_decay
    return float(0.5 * np.mean(np.sum(r * r, axis=1)) + lam * np.abs(W2).sum() + 0.5 * lam * (0.0 if b2 is None else b2 @ b2))


@dataclass
class ThresholdCandidate:
    params: np.ndarray
    loss: float
    kind: str = "global minimum"

    def to_json(self) -> dict:
        return {"params": [float(v) for v in self.params], "loss": float(self.loss), "kind": self.kind}


@dataclass
class ThresholdConvexResult:
    """Exact mode for a two-layer threshold network: the Lasso's optimum as the candidate."""

    spec: NetworkSpec
    patterns: Patterns
    solution: LassoSolution
    candidates: list
    width_sufficient: bool
    support: int
    seconds: float
    candidates_note: str = ""
    variables: tuple = field(default_factory=tuple)

    def counts(self) -> dict:
        return {"patterns": int(self.patterns.D.shape[1]), "support": self.support, "real": len(self.candidates)}

    def to_json(self) -> dict:
        return {
            "network": self.spec.describe(), "spec_hash": self.spec.canonical_hash(), "mode": "exact",
            "variables": list(self.variables), "weight_decay": self.spec.weight_decay,
            "solve": {"method": "convex", "paths": 0, "seconds": float(self.seconds)},
            "threshold_program": {
                "reference": REFERENCE, "patterns": self.patterns.how, "n_patterns": int(self.patterns.D.shape[1]),
                "directions_drawn": int(self.patterns.draws), "program_value": float(self.solution.value),
                "kkt_residual": float(self.solution.kkt), "sweeps": int(self.solution.sweeps),
                "support": int(self.support), "hidden_width": int(self.spec.layers[0].out_features),
                "width_sufficient": bool(self.width_sufficient),
                "loss": "1/(2N)||f - y||^2 + lambda ||W_2||_1 + lambda/2 ||b_2||^2 (amplitude parametrisation)",
            },
            "counts": self.counts(),
            "candidates": [c.to_json() for c in self.candidates],
            "candidates_note": self.candidates_note,
            "seconds": float(self.seconds),
        }

    def summary_lines(self) -> list[str]:
        t = self.to_json()["threshold_program"]
        best = self.candidates[0]
        return [
            f"{self.spec.describe()}: {len(self.variables)} parameters, weight decay {self.spec.weight_decay:g}",
            f"  method: convex program of two-layer threshold networks (Ergen et al. 2023): Lasso over "
            f"{t['n_patterns']} arrangement patterns ({t['patterns']}), KKT residual {t['kkt_residual']:.1e}",
            f"  program value {t['program_value']:.10g}; network loss {best.loss:.10g}; support {t['support']} of "
            f"width {t['hidden_width']}" + ("" if self.width_sufficient else " (TOO NARROW: best refit on the largest weights)"),
            f"  candidate: params {np.array2string(best.params, precision=6, max_line_width=10_000)}",
            f"  candidates: {self.candidates_note}",
        ]


def threshold_program(spec: NetworkSpec) -> ThresholdConvexResult:
    """Solve the program and build the network (module docstring).

    Raises
    ------
    ThresholdProgramError
        When :func:`convex_reason` names a reason.
    """
    reason = convex_reason(spec)
    if reason is not None:
        raise ThresholdProgramError(f"the threshold convex program does not apply to {spec.describe()}: {reason}")
    t0 = time.perf_counter()
    x, y, lam = spec.data.x_array(), spec.data.y_array()[:, 0], spec.weight_decay
    hidden, out = spec.layers
    pats = arrangement_patterns(x, hidden.bias, seed=spec.seed)
    sol = solve_lasso(pats.D, y, lam, out.bias)
    support = np.flatnonzero(sol.z)
    m = hidden.out_features
    keep, note = support, f"the program's global optimum ({len(support)} active units of {m})"
    if len(support) > m:  # the width condition fails: the m largest, refit on them
        keep = support[np.argsort(-np.abs(sol.z[support]))[:m]]
        refit = solve_lasso(pats.D[:, keep], y, lam, out.bias)
        sol_used = LassoSolution(np.zeros_like(sol.z), refit.c, refit.value, refit.kkt, refit.sweeps)
        sol_used.z[keep] = refit.z
        note = f"the width {m} is below the optimum's support {len(support)}: the {m} largest units refit"
    else:
        sol_used = sol
    W1, b1 = np.zeros((m, hidden.in_features)), np.zeros(m) if hidden.bias else None
    W2, b2 = np.zeros((1, m)), np.array([sol_used.c]) if out.bias else None
    for k, p in enumerate(keep):
        W1[k], W2[0, k] = pats.w[p], sol_used.z[p]
        if b1 is not None:
            b1[k] = pats.b[p]
    for k in range(len(keep), m):  # spare units: a pattern's hyperplane, no outgoing weight
        W1[k] = pats.w[0]
        if b1 is not None:
            b1[k] = pats.b[0]
    theta = flatten([(W1, b1), (W2, b2)])
    cand = ThresholdCandidate(theta, threshold_loss(spec, theta))
    return ThresholdConvexResult(spec, pats, sol, [cand], len(support) <= m, len(support),
                                 time.perf_counter() - t0, note, tuple(spec.parameter_names()))
