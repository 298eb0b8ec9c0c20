"""Which anchor rule should ``start`` use by default? He against ``start`` variants.

``start`` solves, per hidden neuron, ``w . h_j + b = r_j`` at up to ``max_points`` random
anchor rows (``solver/start_init.py``). With 32 anchors a second-layer neuron of a 1-D net
interpolates 32 random root values at 32 random points and oscillates along x
(bench/REPORT.md, section 3a). This script compares, with exactly the conventions of
``bench/training.py`` (its ``run`` is called; only the init call is mapped):

* ``he``: ``training.he_`` (kaiming_normal_, zero biases);
* ``start``: ``init_(..., mode="start")`` with whatever the default is now;
* ``start_kN``: ``start`` with a fixed cap ``max_points=N`` and no adaptation to the data's
  dimension (``adapt_to_dimension=False``; ``start_k32`` is the old default);
* ``start_one`` / ``start_oneN``: one root value per neuron (``levels="one"``: the
  neuron's level set passes through its anchors), cap 32 / cap N, no adaptation.

Tasks: those of ``bench/training.py`` plus ``abs_shift`` (|x - 0.3| on 1-32-32-1, from
``bench/training_1d_kink.py``). ``--shape`` prints the shape of the second-layer
features of the 1-D wide net at init (seeds 0-4): sign changes along sorted x per neuron,
mean |weight|. ``--born-dead`` runs the born-dead check of ``bench/born_dead.py``
(same data, nets and criterion) for the start variants only.

    .venv/bin/python bench/training_anchors.py --inits he,start_k32,start_k2,start_k4,start_one
    .venv/bin/python bench/training_anchors.py --shape --inits he,start_k32,start_k2,start_k4,start_one
    .venv/bin/python bench/training_anchors.py --born-dead --inits start_k2 --seeds 200
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

for _v in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import training  # noqa: E402
import training_1d_kink  # noqa: E402

import solver.init.anchors as start_init_mod  # noqa: E402
from solver.init.options import StartOptions  # noqa: E402
from solver.init.pytorch import init_ as _init_  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
TASKS = ("abs", "abs_shift", "sin", "digits-mlp", "digits-cnn", "digits-narrow", "abs-narrow", "sin-narrow")


def parse_init(name: str) -> tuple[str, dict]:
    """(mode, start options) of an init name."""
    if name.startswith("start_one"):
        rest = name[len("start_one"):]
        return "start", {"levels": "one", "adapt_to_dimension": False, **({"max_points": int(rest)} if rest else {})}
    if name.startswith("start_k"):
        return "start", {"max_points": int(name[len("start_k"):]), "adapt_to_dimension": False}
    return name, {}


@contextmanager
def start_options(layer_opts: dict):
    """Make ``init_``'s start layers use ``levels`` / ``adapt_to_dimension`` (not init_ arguments)."""
    if not layer_opts:
        yield
        return
    orig = start_init_mod.start_layer
    def patched(*args, options=StartOptions(), **kwargs):
        return orig(*args, options=dataclasses.replace(options, **layer_opts), **kwargs)

    start_init_mod.start_layer = patched
    try:
        yield
    finally:
        start_init_mod.start_layer = orig


def mapped_init_(model, x, y, mode: str, seed: int, **kw):
    """Stand-in for ``training.init_``: maps ``start_kN`` / ``start_one`` to init_ options."""
    base, opts = parse_init(mode)
    layer_opts = {k: opts.pop(k) for k in ("levels", "adapt_to_dimension") if k in opts}
    with start_options(layer_opts):
        return _init_(model, x, y, mode=base, seed=seed, **opts, **kw)


training.init_ = mapped_init_  # training.run looks init_ up in its module at call time


def make_task_ext(name: str):
    if name == "abs_shift":
        factory, xtr, ytr, xte, yte = training_1d_kink.make_task("abs_shift")
        return factory, xtr, ytr, xte, yte, False, True
    return _orig_make_task(name)


_orig_make_task = training.make_task
training.make_task = make_task_ext


def shape(task: str, init: str, seeds=range(5)) -> dict:
    """Second-layer features of the 1-D wide net at init, on the sorted training x."""
    sc, w2, tv = [], [], []
    for seed in seeds:
        factory, xtr, ytr, *_ = training.make_task(task)
        torch.manual_seed(seed)
        model = factory()
        if init == "he":
            training.he_(model)
        else:
            rows = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(seed))[: min(1024, len(xtr))]
            mapped_init_(model, xtr[rows], ytr[rows], mode=init, seed=seed)
        with torch.no_grad():
            z2 = model[2](torch.relu(model[0](xtr)))
        sc.append(float(((z2[1:] > 0) != (z2[:-1] > 0)).sum(0).float().mean()))
        spread = (z2.max(0).values - z2.min(0).values).clamp_min(1e-30)
        tv.append(float(((z2[1:] - z2[:-1]).abs().sum(0) / spread).mean()))
        w2.append(float(model[2].weight.detach().abs().mean()))
    return {"sign_changes": float(np.mean(sc)), "tv_over_spread": float(np.mean(tv)), "mean_abs_W2": float(np.mean(w2))}


def born_dead(inits: list[str], seeds: int, depths=(5, 10, 20, 30)) -> list[dict]:
    """bench/born_dead.py's check (same data, nets, criterion) for start variants."""
    import born_dead as bd
    from init_common_bench import dead_stats, hidden_preacts

    from solver.init.common import LayerDef

    rows = []
    for dname, (x, y) in bd.datasets().items():
        for width in (2, 3, 4):
            for depth in depths:
                sizes = bd.sizes_for(x.shape[1], width, depth, y.shape[1])
                layers = [LayerDef(a, b) for a, b in zip(sizes[:-2], sizes[1:-1])] + [LayerDef(sizes[-2], sizes[-1], "identity")]
                for init in inits:
                    _, opts = parse_init(init)
                    dead, frac = 0, []
                    for seed in range(seeds):
                        layer_opts = {k: opts[k] for k in ("levels", "adapt_to_dimension") if k in opts}
                        kw = {"options": StartOptions(max_points=opts["max_points"])} if "max_points" in opts else {}
                        with start_options(layer_opts):
                            res = start_init_mod.start_init(layers, x, y, seed=seed, **kw)
                        b, f = dead_stats(hidden_preacts([(l.weight, l.bias) for l in res.layers], x))
                        dead += b
                        frac.append(f)
                    rows.append({"data": dname, "width": width, "depth": depth, "init": init, "seeds": seeds,
                                 "born_dead": dead / seeds, "dead_neurons": float(np.mean(frac))})
                    print(f"{dname} w={width} d={depth} {init}: born dead {dead / seeds:.1%}, dead neurons {np.mean(frac):.2%}",
                          file=sys.stderr, flush=True)
    return rows


def table(results: list[dict]) -> None:
    print("| task | init | seeds | initial train loss | final train loss | test loss mean ± sd | test loss median | test acc | wins vs he |")
    print("|---|---|---|---|---|---|---|---|---|")
    for task in dict.fromkeys(r["task"] for r in results):
        he = {r["seed"]: r["test_loss"] for r in results if r["task"] == task and r["init"] == "he"}
        for init in dict.fromkeys(r["init"] for r in results if r["task"] == task):
            rs = [r for r in results if r["task"] == task and r["init"] == init]
            t = [r["test_loss"] for r in rs]
            acc = f"{np.mean([r['test_accuracy'] for r in rs]):.3f} ± {np.std([r['test_accuracy'] for r in rs]):.3f}" \
                if rs[0]["test_accuracy"] is not None else ""
            wins = "" if init == "he" or not he else f"{sum(r['test_loss'] < he[r['seed']] for r in rs if r['seed'] in he)}/{len(rs)}"
            print(f"| {task} | {init} | {len(rs)} | {np.mean([r['initial_train_loss'] for r in rs]):.3g} | "
                  f"{np.mean([r['train_loss'] for r in rs]):.3g} ± {np.std([r['train_loss'] for r in rs]):.2g} | "
                  f"{np.mean(t):.3g} ± {np.std(t):.2g} | {np.median(t):.3g} | {acc} | {wins} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--inits", default="he,start_k32,start_k2,start_k4,start_one")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--shape", action="store_true", help="second-layer feature shape on abs/sin at init, then stop")
    ap.add_argument("--born-dead", action="store_true", help="born-dead check of the start variants, then stop")
    ap.add_argument("--out", default=str(RESULTS / "training_anchors.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    inits = args.inits.split(",")
    if args.shape:
        for task in ("sin", "abs_shift"):
            for init in inits:
                print(task, init, {k: round(v, 3) for k, v in shape(task, init).items()})
        return 0
    if args.born_dead:
        t0 = time.perf_counter()
        rows = born_dead([i for i in inits if i != "he"], args.seeds)
        RESULTS.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"seeds": args.seeds, "rows": rows, "seconds": time.perf_counter() - t0}, indent=1))
        worst = max(rows, key=lambda r: (r["born_dead"], r["dead_neurons"]))
        print(f"{len(rows)} settings x {args.seeds} seeds: max born dead {worst['born_dead']:.1%}, "
              f"max dead neurons {max(r['dead_neurons'] for r in rows):.2%}")
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    for task in args.tasks.split(","):
        one_d = not task.startswith("digits")
        steps, lr = (1000, 3e-3) if one_d else (400, 1e-3)
        for init in inits:
            for seed in range(args.seeds):
                r = training.run(task, init, seed, steps, lr)
                results.append(r)
                print(f"{task:13s} {init:10s} seed {seed}: train {r['train_loss']:.4g} (init {r['initial_train_loss']:.4g}) "
                      f"test {r['test_loss']:.4g}" + (f" acc {r['test_accuracy']:.3f}" if r["test_accuracy"] is not None else "")
                      + f" [init {r['init_seconds']:.2g} s]", file=sys.stderr, flush=True)
            Path(args.out).write_text(json.dumps({"seeds": args.seeds, "torch_threads": 1, "results": results}, indent=1))
    table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
