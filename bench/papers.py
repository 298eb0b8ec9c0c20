"""What the four companion papers add (issue 15), measured: one section per item.

1. ``linear``: the closed form of deep linear networks (Ziyin, Li, Meng 2022) against our
   homotopy (method="linear-product") on small identity nets: equal real critical points,
   time ratio; the closed form on a 20-64-64-1 net; the origin test across weight decays.
2. ``curvature``: per-layer Hessian block norms (Skorski, Temperoni, Theobald 2020) at He,
   ``start`` and ``start`` + ``scale="curvature"`` on training tasks of bench/REPORT.md
   (1-32-32-1 ReLU on |x| and sin 3x, the 64-128-128-10 digits MLP), and the train loss
   after Adam (the digits: cross-entropy and test accuracy).
3. ``condensation``: a 1-50-1 tanh net (multiplicity 1: at most 2 orientations, Zhou et al.
   2022) trained from a small initialisation and from ``start``; distinct first-layer
   input-weight orientations after the initial stage.
4. ``threshold``: the convex program of two-layer threshold nets (Ergen et al. 2023) against
   an exhaustive search (equal optimum, time ratio) and against random hidden layers with an
   exact outer fit.

    .venv/bin/python bench/papers.py                  # all four, a few minutes
    .venv/bin/python bench/papers.py --sections linear,threshold

Torch and Numba run on one thread; times are reported as ratios.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from solver.networks.spec import load_spec  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SECTIONS = ("linear", "curvature", "condensation", "threshold")


def _timed(f, repeats: int = 3):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return out, best


# -- 1 ---------------------------------------------------------------------------------------
def linear_spec(widths, biases, lam, seed=0, n=8):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, widths[0]))
    y = x.sum(axis=1, keepdims=True) + 0.3 + 0.1 * rng.normal(size=(n, 1))
    layers = [{"in_features": a, "out_features": b, "activation": "identity", "bias": f}
              for (a, b), f in zip(zip(widths, widths[1:]), biases)]
    return load_spec({"layers": layers, "data": {"x": x.tolist(), "y": y.tolist()}, "weight_decay": lam, "mode": "exact"})


def bench_linear() -> dict:
    from solver.networks.critical_points import find_critical_points
    from solver.networks.linear_closed_form import linear_critical_points, origin_check

    rows = []
    find_critical_points(linear_spec((1, 1, 1), (False, False), 0.05), method="linear-product", mixed_volume=False)
    for widths, biases in [((1, 1, 1), (False, False)), ((1, 1, 1), (True, True)), ((2, 1, 1), (True, True)),
                           ((1, 1, 1, 1), (False, False, False)), ((1, 1, 1, 1), (True, False, True)),
                           ((1, 2, 1), (False, False))]:
        spec = linear_spec(widths, biases, 0.05)
        ours, t_ours = _timed(lambda: linear_critical_points(spec))
        hom, t_hom = _timed(lambda: find_critical_points(spec, method="linear-product", mixed_volume=False), 1)
        rows.append({"net": "-".join(map(str, widths)), "bias": "".join("b" if b else "-" for b in biases),
                     "closed_form_real": ours.n_real, "closed_form_families": len(ours.points),
                     "homotopy_real": hom.n_real, "homotopy_paths": hom.solve_summary.get("paths"),
                     "ratio_homotopy_over_closed": t_hom / t_ours})
    big = linear_spec((20, 64, 64, 1), (True, False, True), 0.01, n=200)
    res, t_big = _timed(lambda: linear_critical_points(big), 1)
    origin = []
    for depth_widths in [(1, 1, 1), (1, 1, 1, 1)]:
        for lam in (0.01, 0.1, 0.5, 1.0, 2.0):
            c = origin_check(linear_spec(depth_widths, (False,) * (len(depth_widths) - 1), lam))
            origin.append({"net": "-".join(map(str, depth_widths)), "lambda": lam, "coupling": c.coupling,
                           "local_minimum": c.local_minimum})
    return {"rows": rows, "big": {"net": "20-64-64-1", "parameters": big.n_parameters, "seconds": t_big,
                                  "families": len(res.points), "kinds": [p.kind for p in res.points]},
            "origin": origin}


# -- 2 ---------------------------------------------------------------------------------------
def bench_curvature(seeds: int, steps: int, tasks=("abs", "sin")) -> dict:
    import torch
    import torch.nn.functional as F

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from training import he_, make_task

    from solver.init.pytorch import init_
    from solver.networks.curvature import module_curvature

    torch.set_num_threads(1)
    out = []
    for task in tasks:
        factory, xtr, ytr, xte, yte, classification, _ = make_task(task)
        # classification: the curvature of the MSE to one-hot targets (what the init solves fit),
        # training by cross-entropy on minibatches of 128 as in bench/training.py
        rows = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(0))[:1024]
        xs, ys = xtr[rows], ytr[rows]
        target = F.one_hot(ys, 10).double().numpy() if classification else ys.numpy()
        loss_fn = F.cross_entropy if classification else F.mse_loss
        for init in ("he", "start", "start+curvature"):
            for seed in range(seeds):
                torch.manual_seed(seed)
                model = factory()
                if init == "he":
                    he_(model)
                else:
                    init_(model, xs, ys, mode="start", seed=seed, scale="curvature" if init.endswith("curvature") else None)
                names = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
                norms, whole = module_curvature(model, names, xs, target, iterations=100, tolerance=1e-5)
                vals = [n.value for n in norms]
                opt = torch.optim.Adam(model.parameters(), lr=1e-3)
                g = torch.Generator().manual_seed(seed)
                for _ in range(steps):
                    idx = torch.randint(0, len(xtr), (128,), generator=g) if classification else slice(None)
                    opt.zero_grad()
                    loss_fn(model(xtr[idx]), ytr[idx]).backward()
                    opt.step()
                with torch.no_grad():
                    train, out_te = float(loss_fn(model(xtr), ytr)), model(xte)
                    test = float((out_te.argmax(1) == yte).float().mean()) if classification else float(loss_fn(out_te, yte))
                out.append({"task": task, "init": init, "seed": seed, "norms": vals, "whole": whole.value,
                            "spread": max(vals) / max(min(vals), 1e-300), "train": train, "test": test})
    return {"runs": out, "steps": steps, "seeds": seeds}


# -- 3 ---------------------------------------------------------------------------------------
def bench_condensation(seeds: int, steps: int) -> dict:
    import torch
    import torch.nn.functional as F

    from solver.init.pytorch import init_
    from solver.networks.condensation import orientation_count, surrogate_condensation
    from solver.networks.surrogate import fit_surrogate

    torch.set_num_threads(1)
    m = 50
    x = torch.linspace(-1, 1, 64, dtype=torch.float64).unsqueeze(1)
    y = torch.sin(3 * x) + 0.5 * x
    pred = surrogate_condensation(fit_surrogate("tanh", 3, (-2.0, 2.0)))["predicted_max_orientations"]
    out = []
    for init in ("small", "start"):
        for seed in range(seeds):
            torch.manual_seed(seed)
            model = torch.nn.Sequential(torch.nn.Linear(1, m), torch.nn.Tanh(), torch.nn.Linear(m, 1)).double()
            if init == "small":  # Zhou et al.'s small scale: N(0, (m^-2)^2) on every weight and bias
                with torch.no_grad():
                    for p in model.parameters():
                        p.normal_(0.0, m ** -2.0)
            else:
                init_(model, x, y, mode="start", seed=seed, degree=3, interval=(-2.0, 2.0))

            def count():
                w = torch.cat([model[0].weight, model[0].bias[:, None]], dim=1).detach().numpy()
                return orientation_count(w)

            start_count = count()
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            for _ in range(steps):
                opt.zero_grad()
                F.mse_loss(model(x), y).backward()
                opt.step()
            with torch.no_grad():
                loss = float(F.mse_loss(model(x), y))
            out.append({"init": init, "seed": seed, "orientations_at_init": start_count, "orientations_after": count(),
                        "loss_after": loss})
    return {"runs": out, "predicted_max": pred, "width": m, "steps": steps}


# -- 4 ---------------------------------------------------------------------------------------
def _exhaustive(D, y, lam, width):
    N, P = D.shape
    c0 = y.mean() / (1 + lam)
    best = 0.5 * np.mean((y - c0) ** 2) + 0.5 * lam * c0**2
    for k in range(1, min(width, P) + 1):
        for S in itertools.combinations(range(P), k):
            A = np.hstack([D[:, S], np.ones((N, 1))])
            G = A.T @ A / N + np.diag([0.0] * k + [lam])
            for signs in itertools.product((1.0, -1.0), repeat=k):
                try:
                    sol = np.linalg.solve(G, A.T @ y / N - lam * np.r_[signs, 0.0])
                except np.linalg.LinAlgError:
                    continue
                z, c = sol[:k], sol[k]
                if np.all(np.sign(z) == signs):
                    r = D[:, S] @ z + c - y
                    best = min(best, 0.5 * np.mean(r * r) + lam * np.abs(z).sum() + 0.5 * lam * c * c)
    return best


def bench_threshold() -> dict:
    from solver.networks.threshold_convex import arrangement_patterns, solve_lasso, threshold_program

    rows = []
    for n in (4, 5, 6):
        rng = np.random.default_rng(n)
        x = np.sort(rng.uniform(-1, 1, n))
        y = np.sin(3 * x) + 0.1 * rng.normal(size=n)
        spec = load_spec({"layers": [{"in_features": 1, "out_features": 16, "activation": "threshold"},
                                     {"in_features": 16, "out_features": 1, "activation": "identity"}],
                          "weight_decay": 0.02, "mode": "exact", "data": {"x": x[:, None].tolist(), "y": y[:, None].tolist()}})
        res, t_prog = _timed(lambda: threshold_program(spec))
        D = arrangement_patterns(x[:, None], True).D
        ex, t_ex = _timed(lambda: _exhaustive(D, y, 0.02, 16), 1)
        rows.append({"points": n, "patterns": D.shape[1], "program": res.solution.value, "exhaustive": ex,
                     "network_loss": res.candidates[0].loss, "ratio_exhaustive_over_program": t_ex / t_prog})
    # larger data: the program against random hidden layers with the same Lasso outer fit
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, (40, 2))
    y = np.sign(x[:, 0] * x[:, 1]) + 0.1 * rng.normal(size=40)
    width, lam = 32, 0.01
    spec = load_spec({"layers": [{"in_features": 2, "out_features": width, "activation": "threshold"},
                                 {"in_features": width, "out_features": 1, "activation": "identity"}],
                      "weight_decay": lam, "mode": "exact", "data": {"x": x.tolist(), "y": y[:, None].tolist()}})
    res, t_prog = _timed(lambda: threshold_program(spec), 1)
    random_best = np.inf
    for s in range(200):
        r = np.random.default_rng(1000 + s)
        W, b = r.normal(size=(width, 2)), r.uniform(-1, 1, width)
        D = ((x @ W.T + b) >= 0).astype(float)
        random_best = min(random_best, solve_lasso(D, y, lam, True).value)
    t = res.to_json()["threshold_program"]
    return {"tiny": rows, "sampled": {"points": 40, "width": width, "patterns": t["n_patterns"], "how": t["patterns"],
                                      "program": t["program_value"], "support": t["support"],
                                      "width_sufficient": t["width_sufficient"], "network_loss": res.candidates[0].loss,
                                      "best_of_200_random_hidden_layers": random_best, "seconds": t_prog}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sections", default=",".join(SECTIONS))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--tasks", default="abs,sin,digits-mlp", help="curvature: tasks of bench/training.py")
    ap.add_argument("--out", default=str(RESULTS / "papers.json"))
    args = ap.parse_args(argv)
    out = {}
    for name in args.sections.split(","):
        t0 = time.perf_counter()
        if name == "linear":
            out[name] = bench_linear()
        elif name == "curvature":
            out[name] = bench_curvature(args.seeds, args.steps, tuple(args.tasks.split(",")))
        elif name == "condensation":
            out[name] = bench_condensation(args.seeds, args.steps)
        elif name == "threshold":
            out[name] = bench_threshold()
        else:
            raise SystemExit(f"unknown section {name!r}; choose from {', '.join(SECTIONS)}")
        print(f"{name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1, default=float))
    print(json.dumps(out, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
