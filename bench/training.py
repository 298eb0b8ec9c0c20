"""Training from our initialisations against He: a fixed budget of Adam steps, many seeds.

Tasks (torch, one thread):

* ``digits-mlp``: 64-128-128-10 ReLU MLP on scikit-learn digits (1,347 train / 450 test),
  cross-entropy, minibatches of 128;
* ``digits-cnn``: Conv(1->16, 3x3)-ReLU-MaxPool-Conv(16->32, 3x3)-ReLU-MaxPool-Flatten-
  Linear(128->10) on the 8x8 images;
* ``digits-narrow``: 64-(8 x 10 hidden layers)-10 ReLU MLP (deep and narrow);
* ``abs`` and ``sin``: 1-32-32-1 ReLU MLP on y = |x| and y = sin(3x) (256 points in [-1, 1],
  full batch, MSE; test on 1,000 grid points);
* ``abs-narrow`` and ``sin-narrow``: 1-(3 x 10 hidden layers)-1 on the same data.

Inits: ``he`` (``kaiming_normal_`` fan_in/ReLU, zero biases: the PyTorch recipe for ReLU
nets), ``start`` and ``layerwise`` (``solver.init.pytorch.init_`` on the training rows, at
most 1,024). The same seed gives the same model draw and the same minibatch order under
every init. Reported: final train loss, test loss, test accuracy (classification), mean
and standard deviation over seeds; curves of the train loss as PNG.

    .venv/bin/python bench/training.py --quick          # 3 seeds, 150 steps, layerwise on 1-D tasks
    .venv/bin/python bench/training.py                  # 10 seeds, 400 steps (1-D: 1,000 steps)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from init_common_bench import digits  # noqa: E402

from solver.init.pytorch import init_  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
TASKS = ("digits-mlp", "digits-cnn", "digits-narrow", "abs", "sin", "abs-narrow", "sin-narrow")


def make_task(name: str):
    """(model factory, x_train, y_train, x_test, y_test, classification, full_batch)."""
    if name.startswith("digits"):
        x, y = digits()
        idx = np.random.default_rng(0).permutation(len(x))
        tr, te = idx[:1347], idx[1347:]
        xt = torch.tensor(x, dtype=torch.float32)
        yt = torch.tensor(y)
        if name == "digits-cnn":
            xt = xt.reshape(-1, 1, 8, 8)

            def factory():
                return nn.Sequential(
                    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
                )
        elif name == "digits-mlp":
            def factory():
                return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
        else:
            def factory():
                mods = [nn.Linear(64, 8), nn.ReLU()]
                for _ in range(9):
                    mods += [nn.Linear(8, 8), nn.ReLU()]
                return nn.Sequential(*mods, nn.Linear(8, 10))
        return factory, xt[tr], yt[tr], xt[te], yt[te], True, False
    f = (lambda x: x.abs()) if name.startswith("abs") else (lambda x: torch.sin(3 * x))
    x_tr = torch.linspace(-1, 1, 256).unsqueeze(1)
    x_te = torch.rand(1000, 1, generator=torch.Generator().manual_seed(123)) * 2 - 1
    if name.endswith("narrow"):
        def factory():
            mods = [nn.Linear(1, 3), nn.ReLU()]
            for _ in range(9):
                mods += [nn.Linear(3, 3), nn.ReLU()]
            return nn.Sequential(*mods, nn.Linear(3, 1))
    else:
        def factory():
            return nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
    return factory, x_tr, f(x_tr), x_te, f(x_te), False, True


def he_(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)


def run(task: str, init: str, seed: int, steps: int, lr: float) -> dict:
    factory, xtr, ytr, xte, yte, classification, full_batch = make_task(task)
    torch.manual_seed(seed)
    model = factory()
    t0 = time.perf_counter()
    if init == "he":
        he_(model)
        report = None
    else:
        n = min(1024, len(xtr))
        rows = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(seed))[:n]
        report = init_(model, xtr[rows], ytr[rows], mode=init, seed=seed)
    init_seconds = time.perf_counter() - t0
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    loss_fn = (lambda out, y: F.cross_entropy(out, y)) if classification else (lambda out, y: F.mse_loss(out, y))
    curve = []
    for step in range(steps + 1):
        with torch.no_grad():
            if step % max(1, steps // 50) == 0 or step == steps:
                curve.append((step, float(loss_fn(model(xtr), ytr))))
        if step == steps:
            break
        if full_batch:
            xb, yb = xtr, ytr
        else:
            idx = torch.randint(0, len(xtr), (128,), generator=g)
            xb, yb = xtr[idx], ytr[idx]
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
    with torch.no_grad():
        out = model(xte)
        test_loss = float(loss_fn(out, yte))
        acc = float((out.argmax(1) == yte).float().mean()) if classification else None
        init_train = curve[0][1]
    return {
        "task": task, "init": init, "seed": seed, "train_loss": curve[-1][1], "initial_train_loss": init_train,
        "test_loss": test_loss, "test_accuracy": acc, "init_seconds": init_seconds, "curve": curve,
        "mode_reason": report.reason if report else None,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=None, help="default 10, quick 3")
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--inits", default="he,start,layerwise")
    ap.add_argument("--layerwise-tasks", default="abs,sin,abs-narrow,sin-narrow,digits-narrow",
                    help="tasks on which layerwise runs (it solves a system per neuron)")
    ap.add_argument("--out", default=str(RESULTS / "training.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    seeds = args.seeds or (3 if args.quick else 10)
    results = []
    RESULTS.mkdir(parents=True, exist_ok=True)
    for task in args.tasks.split(","):
        one_d = not task.startswith("digits")
        steps = (300 if one_d else 150) if args.quick else (1000 if one_d else 400)
        lr = 3e-3 if one_d else 1e-3
        for init in args.inits.split(","):
            if init == "layerwise" and task not in args.layerwise_tasks.split(","):
                continue
            for seed in range(seeds):
                r = run(task, init, seed, steps, lr)
                results.append(r)
                print(f"{task:13s} {init:9s} seed {seed}: train {r['train_loss']:.4g} (init {r['initial_train_loss']:.4g}) "
                      f"test {r['test_loss']:.4g}" + (f" acc {r['test_accuracy']:.3f}" if r["test_accuracy"] is not None else "")
                      + f" [init {r['init_seconds']:.2g} s]", file=sys.stderr, flush=True)
            Path(args.out).write_text(json.dumps({"seeds": seeds, "torch_threads": 1, "results": results}, indent=1))
    table(results)
    plots(results)
    return 0


def _ms(v: list[float], fmt: str = ".4g") -> str:
    return f"{np.mean(v):{fmt}} ± {np.std(v):{fmt}}"


def table(results: list[dict]) -> None:
    print("| task | init | seeds | initial train loss | final train loss | test loss | test accuracy | init s |")
    print("|---|---|---|---|---|---|---|---|")
    for task in dict.fromkeys(r["task"] for r in results):
        for init in dict.fromkeys(r["init"] for r in results if r["task"] == task):
            rs = [r for r in results if r["task"] == task and r["init"] == init]
            acc = _ms([r["test_accuracy"] for r in rs], ".3f") if rs[0]["test_accuracy"] is not None else ""
            print(f"| {task} | {init} | {len(rs)} | {_ms([r['initial_train_loss'] for r in rs])} | {_ms([r['train_loss'] for r in rs])} | "
                  f"{_ms([r['test_loss'] for r in rs])} | {acc} | {np.mean([r['init_seconds'] for r in rs]):.2g} |")


def plots(results: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r["task"] for r in results))
    cols = min(4, len(tasks))
    rows = (len(tasks) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        for init in dict.fromkeys(r["init"] for r in results if r["task"] == task):
            rs = [r for r in results if r["task"] == task and r["init"] == init]
            steps = [s for s, _ in rs[0]["curve"]]
            c = np.array([[v for _, v in r["curve"]] for r in rs])
            med = np.median(c, axis=0)
            ax.plot(steps, med, label=f"{init} (median of {len(rs)})")
            ax.fill_between(steps, np.percentile(c, 10, axis=0), np.percentile(c, 90, axis=0), alpha=0.2)
        ax.set_yscale("log")
        ax.set_title(task)
        ax.set_xlabel("Adam steps")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    axes[0][0].set_ylabel("train loss (10-90% band)")
    fig.tight_layout()
    fig.savefig(RESULTS / "training_curves.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
