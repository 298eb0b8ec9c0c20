"""How long the scalable modes take, against ``torch.nn.init.kaiming_normal_`` in the same run.

* ``start`` on a 784-256-256-10 MLP with a 1,024-row sample (digits upsampled to 28x28, so
  the rows have the structure of image data: constant borders, correlated pixels);
* ``layerwise`` on a 64-128-128-10 MLP with digits (1,024 rows): 256 one-neuron systems
  solved by the engine; and, as the engine's own baseline in the same run, layerwise with
  the coefficient-parameter homotopy against one linear-product start per neuron.

The baseline is ``kaiming_normal_`` on every Linear of the same model (what the user
would otherwise call); times are medians of repeats, and the ratio ours / baseline is
printed. torch and BLAS use one thread, Numba the threads given (default 1).

    .venv/bin/python bench/init_scale.py [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="Numba threads for the engine")
    ap.add_argument("--out", default=str(RESULTS / "init_scale.json"))
    args = ap.parse_args(argv)
    os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    import torch
    import torch.nn as nn

    from init_common_bench import digits

    from solver.init.pytorch import init_

    torch.set_num_threads(1)
    x, y = digits(1024, seed=0)
    img = torch.tensor(x, dtype=torch.float32).reshape(-1, 1, 8, 8)
    x784 = torch.nn.functional.interpolate(img, size=(28, 28), mode="bilinear", align_corners=False).reshape(-1, 784)
    x64, labels = torch.tensor(x, dtype=torch.float32), torch.tensor(y)

    def kaiming(model):
        for m in model.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    cases = [
        ("start", "784-256-256-10", lambda: nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)), x784),
        ("layerwise", "64-128-128-10", lambda: nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10)), x64),
    ]
    # warm-up: Numba kernels load from their cache (or compile) once per process
    init_(nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1)), torch.linspace(-1, 1, 16)[:, None], torch.linspace(-1, 1, 16)[:, None] ** 2, mode="layerwise")
    rows = []
    for mode, name, factory, xs in cases:
        ours, base, reports = [], [], []
        for r in range(args.repeats):
            torch.manual_seed(r)
            model = factory()
            t0 = time.perf_counter()
            kaiming(model)
            base.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            rep = init_(model, xs, labels, mode=mode, seed=r)
            ours.append(time.perf_counter() - t0)
            reports.append(rep)
        row = {
            "mode": mode, "network": name, "rows": int(xs.shape[0]), "repeats": args.repeats,
            "ours_seconds": float(np.median(ours)), "kaiming_seconds": float(np.median(base)),
            "ratio": float(np.median(ours) / np.median(base)), "counts": reports[0].counts,
            "split_fraction": [l["split_fraction"] for l in reports[0].layers],
            "numba_threads": int(os.environ.get("NUMBA_NUM_THREADS", "0") or 0), "torch_threads": 1,
        }
        rows.append(row)
        print(f"{mode} {name}: {row['ours_seconds']:.3g} s vs kaiming_normal_ {row['kaiming_seconds'] * 1e3:.3g} ms "
              f"(ratio {row['ratio']:.3g}); {row['counts']}", file=sys.stderr, flush=True)
    # the engine's part of layerwise: the coefficient-parameter homotopy (one generic
    # neuron system, 33 paths per neuron) against one linear-product start per neuron
    # (57 paths, 24 diverging), interleaved in this run
    from solver.init.common import LayerDef
    from solver.init.layerwise import layerwise_init, solve_systems

    def per_neuron_starts(systems, seed=0, max_paths=100_000, family=None):
        return solve_systems(systems, seed=seed, max_paths=max_paths)  # ignores the family

    defs = [LayerDef(64, 128), LayerDef(128, 128), LayerDef(128, 10, "identity")]
    onehot = np.eye(10)[y]
    engine = {"parameter homotopy": [], "per-neuron linear-product starts": []}
    for r in range(args.repeats):
        for label, hook in (("parameter homotopy", None), ("per-neuron linear-product starts", per_neuron_starts)):
            t0 = time.perf_counter()
            res = layerwise_init(defs, x, onehot, seed=r, solver=hook)
            engine[label].append((time.perf_counter() - t0, res.counts["paths"]))
    base_s = float(np.median([t for t, _ in engine["per-neuron linear-product starts"]]))
    for label, runs in engine.items():
        row = {"mode": f"layerwise engine: {label}", "network": "64-128-128-10", "rows": int(x.shape[0]),
               "repeats": args.repeats, "seconds": float(np.median([t for t, _ in runs])), "paths": runs[0][1]}
        row["ratio_to_per_neuron_starts"] = row["seconds"] / base_s
        rows.append(row)
        print(f"{row['mode']}: {row['seconds']:.3g} s, {row['paths']} paths, "
              f"ratio to per-neuron starts {row['ratio_to_per_neuron_starts']:.2f}", file=sys.stderr, flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=1))
    print("| mode | network | rows | ours (s) | kaiming_normal_ (ms) | ratio | engine paths |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if "kaiming_seconds" in r:
            print(f"| {r['mode']} | {r['network']} | {r['rows']} | {r['ours_seconds']:.3g} | {r['kaiming_seconds'] * 1e3:.3g} | "
                  f"{r['ratio']:.3g} | {r['counts'].get('paths', 0)} |")
    print()
    print("| layerwise engine | network | seconds | paths | ratio to per-neuron starts |")
    print("|---|---|---|---|---|")
    for r in rows:
        if "ratio_to_per_neuron_starts" in r:
            print(f"| {r['mode'].split(': ')[1]} | {r['network']} | {r['seconds']:.3g} | {r['paths']} | {r['ratio_to_per_neuron_starts']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
