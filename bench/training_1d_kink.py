"""Why does ``start`` lose to He on the wide 1-D regressions of ``bench/training.py``?

Same conventions as ``bench/training.py`` (1-32-32-1 ReLU MLP, 256 training points evenly
spaced in [-1, 1], 1,000 test points, full-batch Adam, MSE, ``torch.manual_seed(seed)``
before the model draw, our inits see the same row permutation), with extra targets and an
extra baseline:

* targets ``abs`` (|x|), ``abs_shift`` (|x - 0.3|), ``sin`` (sin 3x), ``sin_shift``
  (sin(3x + 0.5)): the shifted ones move the kink / the zero crossing away from x = 0;
* inits ``he`` (``kaiming_normal_``, zero biases: exactly ``training.he_``), ``he_bias``
  (the same ``kaiming_normal_`` weights, biases left at PyTorch's default
  U(-1/sqrt(fan_in), 1/sqrt(fan_in))), ``start`` and ``layerwise`` (``init_``);
* ``start_kN``: ``start`` with at most N anchor rows per neuron (``max_points=N``; the
  default is 32, so a second-layer neuron interpolates 32 random surrogate roots);
* several learning rates (``--lrs``).

With zero biases every first-layer neuron of He is ``relu(w x)``, and so is each deeper
layer: a zero-bias ReLU net is positively homogeneous, f(x) = a x for x > 0 and b x for
x < 0, at initialisation. |x| is in that two-parameter family (a = 1, b = -1); |x - 0.3|
and sin are not.

    .venv/bin/python bench/training_1d_kink.py --check      # same numbers as training.run (seed 0)
    .venv/bin/python bench/training_1d_kink.py              # 10 seeds, 4 targets, 4 inits, lr 3e-3
    .venv/bin/python bench/training_1d_kink.py --inits he,start_k2,start_k4,start_k8 \\
        --out bench/results/training_1d_kink_anchors.json
    .venv/bin/python bench/training_1d_kink.py --tasks sin,abs_shift --inits he,start,start_k2 \\
        --lrs 1e-3,1e-2 --out bench/results/training_1d_kink_lr.json
    .venv/bin/python bench/training_1d_kink.py --inits he,he_bias,start,start_k2,layerwise \\
        --combine bench/results/training_1d_kink.json,bench/results/training_1d_kink_anchors.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import training  # noqa: E402

from solver.init.pytorch import init_  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
FIGURES = Path(__file__).resolve().parent / "figures"

TARGETS = {
    "abs": lambda x: x.abs(),
    "abs_shift": lambda x: (x - 0.3).abs(),
    "sin": lambda x: torch.sin(3 * x),
    "sin_shift": lambda x: torch.sin(3 * x + 0.5),
}


def make_task(name: str):
    """(factory, x_train, y_train, x_test, y_test) with training.make_task's 1-D conventions."""
    f = TARGETS[name]
    x_tr = torch.linspace(-1, 1, 256).unsqueeze(1)
    x_te = torch.rand(1000, 1, generator=torch.Generator().manual_seed(123)) * 2 - 1

    def factory():
        return nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))

    return factory, x_tr, f(x_tr), x_te, f(x_te)


def he_weights_only_(model: nn.Module) -> None:
    """kaiming_normal_ weights (same draws as training.he_), default PyTorch biases kept."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")


def init_model(task: str, init: str, seed: int):
    factory, xtr, ytr, xte, yte = make_task(task)
    torch.manual_seed(seed)
    model = factory()
    if init == "he":
        training.he_(model)
    elif init == "he_bias":
        he_weights_only_(model)
    else:
        rows = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(seed))[: min(1024, len(xtr))]
        if init.startswith("start_k"):  # start with at most N anchors per neuron (default 32)
            init_(model, xtr[rows], ytr[rows], mode="start", seed=seed, max_points=int(init[len("start_k"):]))
        else:
            init_(model, xtr[rows], ytr[rows], mode=init, seed=seed)
    return model, xtr, ytr, xte, yte


def run(task: str, init: str, seed: int, steps: int, lr: float) -> dict:
    """One training run, the loop of training.run for a full-batch regression."""
    t0 = time.perf_counter()
    model, xtr, ytr, xte, yte = init_model(task, init, seed)
    init_seconds = time.perf_counter() - t0
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    curve = []
    for step in range(steps + 1):
        with torch.no_grad():
            if step % max(1, steps // 50) == 0 or step == steps:
                curve.append((step, float(F.mse_loss(model(xtr), ytr))))
        if step == steps:
            break
        opt.zero_grad()
        F.mse_loss(model(xtr), ytr).backward()
        opt.step()
    with torch.no_grad():
        test_loss = float(F.mse_loss(model(xte), yte))
        # kinks of the first layer (x where w x + b = 0) inside [-1, 1]: where they sit after training
        w, b = model[0].weight.squeeze(1), model[0].bias
        kinks = (-b / w)[(w.abs() > 0) & ((-b / w).abs() <= 1)].tolist()
    return {"task": task, "init": init, "seed": seed, "lr": lr, "steps": steps, "train_loss": curve[-1][1],
            "initial_train_loss": curve[0][1], "test_loss": test_loss, "init_seconds": init_seconds,
            "curve": curve, "first_layer_kinks": kinks}


def scales(task: str, init: str, seed: int) -> dict:
    """Parameter and activation scales at initialisation (before any step)."""
    model, xtr, ytr, *_ = init_model(task, init, seed)
    with torch.no_grad():
        h1 = torch.relu(model[0](xtr))
        z2 = model[2](h1)
        h2 = torch.relu(z2)
        return {"W1": float(model[0].weight.abs().mean()), "b1": float(model[0].bias.abs().mean()),
                "W2": float(model[2].weight.abs().mean()), "b2": float(model[2].bias.abs().mean()),
                "z2_spread": float((z2.max(0).values - z2.min(0).values).mean()),
                "h2_max": float(h2.max()), "W3": float(model[4].weight.norm()),
                # shape of the second-layer features along x (x sorted): total variation over
                # spread is 1 for a monotone neuron; sign changes count its kinks on the data
                "z2_tv_over_spread": float(((z2[1:] - z2[:-1]).abs().sum(0) / (z2.max(0).values - z2.min(0).values)).mean()),
                "z2_sign_changes": float(((z2[1:] > 0) != (z2[:-1] > 0)).sum(0).float().mean())}


def check() -> int:
    """Our loop must give training.run's numbers bit for bit on the shared tasks."""
    ok = True
    for task in ("abs", "sin"):
        for init in ("he", "start"):
            a = training.run(task, init, 0, 200, 3e-3)["test_loss"]
            b = run(task, init, 0, 200, 3e-3)["test_loss"]
            print(f"{task} {init}: training.run {a:.6g}, here {b:.6g}", "ok" if a == b else "DIFFERENT")
            ok &= a == b
    return 0 if ok else 1


def table(results: list[dict]) -> None:
    print("| target | init | lr | seeds | initial train loss | final train loss | test loss (mean ± sd) | test loss median | wins vs he |")
    print("|---|---|---|---|---|---|---|---|---|")
    for lr in dict.fromkeys(r["lr"] for r in results):
        for task in dict.fromkeys(r["task"] for r in results):
            he = {r["seed"]: r["test_loss"] for r in results if r["task"] == task and r["lr"] == lr and r["init"] == "he"}
            for init in dict.fromkeys(r["init"] for r in results):
                rs = [r for r in results if r["task"] == task and r["lr"] == lr and r["init"] == init]
                if not rs:
                    continue
                t = [r["test_loss"] for r in rs]
                wins = "" if init == "he" or not he else f"{sum(r['test_loss'] < he[r['seed']] for r in rs if r['seed'] in he)}/{len(rs)}"
                print(f"| {task} | {init} | {lr:g} | {len(rs)} | {np.mean([r['initial_train_loss'] for r in rs]):.2g} | "
                      f"{np.mean([r['train_loss'] for r in rs]):.2g} ± {np.std([r['train_loss'] for r in rs]):.2g} | "
                      f"{np.mean(t):.2g} ± {np.std(t):.2g} | {np.median(t):.2g} | {wins} |")


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(dict.fromkeys((r["task"], r["lr"]) for r in results))
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.3), squeeze=False)
    for ax, (task, lr) in zip(axes.flat, keys):
        for init in dict.fromkeys(r["init"] for r in results):
            rs = [r for r in results if r["task"] == task and r["lr"] == lr and r["init"] == init]
            if not rs:
                continue
            steps = [s for s, _ in rs[0]["curve"]]
            c = np.array([[v for _, v in r["curve"]] for r in rs])
            ax.plot(steps, np.median(c, axis=0), label=f"{init} (median of {len(rs)})")
            ax.fill_between(steps, np.percentile(c, 10, axis=0), np.percentile(c, 90, axis=0), alpha=0.2)
        ax.set_yscale("log")
        ax.set_title(f"{task}, lr {lr:g}")
        ax.set_xlabel("Adam steps")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("train loss (10-90% band)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="abs,abs_shift,sin,sin_shift")
    ap.add_argument("--inits", default="he,he_bias,start,layerwise")
    ap.add_argument("--lrs", default="3e-3")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--check", action="store_true", help="compare with training.run on seed 0 and stop")
    ap.add_argument("--scales", action="store_true", help="print init scales (seeds 0-4) and stop")
    ap.add_argument("--out", default=str(RESULTS / "training_1d_kink.json"))
    ap.add_argument("--figure", default=None, help="PNG of the curves (default: next to --out)")
    ap.add_argument("--combine", default=None,
                    help="comma-separated result JSONs: print one table and plot --figure from them (no runs)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.combine:
        seen, results = set(), []
        for f in args.combine.split(","):
            for r in json.loads(Path(f).read_text())["results"]:
                key = (r["task"], r["init"], r["lr"], r["seed"])
                if key not in seen and r["task"] in args.tasks.split(",") and r["init"] in args.inits.split(","):
                    seen.add(key)
                    results.append(r)
        table(results)
        plot(results, Path(args.figure or FIGURES / "training_1d_kink.png"))
        return 0
    if args.check:
        return check()
    tasks, inits = args.tasks.split(","), args.inits.split(",")
    if args.scales:
        for task in tasks:
            for init in inits:
                s = [scales(task, init, seed) for seed in range(5)]
                print(task, init, {k: round(float(np.mean([d[k] for d in s])), 3) for k in s[0]})
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    for lr in (float(v) for v in args.lrs.split(",")):
        for task in tasks:
            for init in inits:
                for seed in range(args.seeds):
                    r = run(task, init, seed, args.steps, lr)
                    results.append(r)
                    print(f"{task:10s} {init:9s} lr {lr:g} seed {seed}: train {r['train_loss']:.4g} "
                          f"(init {r['initial_train_loss']:.4g}) test {r['test_loss']:.4g} [init {r['init_seconds']:.2g} s]",
                          file=sys.stderr, flush=True)
                Path(args.out).write_text(json.dumps({"seeds": args.seeds, "torch_threads": 1, "results": results}, indent=1))
    table(results)
    plot(results, Path(args.figure) if args.figure else Path(args.out).with_suffix(".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
