"""Born-dead deep narrow ReLU networks: our start and layerwise modes against standard inits.

For widths 2, 3, 4 and depths (hidden ReLU layers) 5 to 30, on 1-D inputs (256 points
evenly spaced in [-1, 1], target sin(pi x)) and on scikit-learn's digits (256 random
images, 64 inputs, one-hot targets), over many seeds: the fraction of networks born dead
(some hidden layer constant on the data) and the mean fraction of dead neurons (inactive
on every input), for He, Xavier, orthogonal, RAI (bench/init_common_bench.py) and our
``start`` and ``layerwise`` modes.

    .venv/bin/python bench/born_dead.py --quick        # 20 seeds, layerwise on 2 seeds
    .venv/bin/python bench/born_dead.py                # 200 seeds, layerwise on 3 seeds (about 40 min on 2 busy cores)

Writes bench/results/born_dead.json and bench/results/born_dead_{1d,digits}.png and prints
a markdown table. Layerwise solves one small polynomial system per neuron with the engine,
so it runs on fewer seeds (said in the output).
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

from init_common_bench import BASELINES, baseline_weights, dead_stats, digits, hidden_preacts  # noqa: E402

from solver.init.common import LayerDef, one_hot  # noqa: E402
from solver.init.layerwise import layerwise_init  # noqa: E402
from solver.init.options import LayerwiseOptions  # noqa: E402
from solver.init.anchors import start_init  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def datasets() -> dict:
    x1 = np.linspace(-1, 1, 256)[:, None]
    xd, yd = digits(256, seed=0)
    return {"1d": (x1, np.sin(np.pi * x1)), "digits": (xd, one_hot(yd, 10))}


def sizes_for(n_in: int, width: int, depth: int, n_out: int) -> list[int]:
    return [n_in] + [width] * depth + [n_out]


def ours(mode: str, sizes: list[int], x, y, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    layers = [LayerDef(a, b) for a, b in zip(sizes[:-2], sizes[1:-1])] + [LayerDef(sizes[-2], sizes[-1], "identity")]
    if mode == "start":
        res = start_init(layers, x, y, seed=seed)
    else:
        res = layerwise_init(layers, x, y, seed=seed, options=LayerwiseOptions(weight_decay=0.01, batch=None))
    return [(l.weight, l.bias) for l in res.layers]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=None, help="seeds for the fast inits (default 200, quick 20)")
    ap.add_argument("--layerwise-seeds", type=int, default=None, help="default 3, quick 2")
    ap.add_argument("--depths", default=None, help="comma list (default 5,10,15,20,25,30; quick 5,10,20,30)")
    ap.add_argument("--datasets", default="1d,digits")
    ap.add_argument("--out", default=str(RESULTS / "born_dead.json"))
    args = ap.parse_args(argv)
    seeds = args.seeds or (20 if args.quick else 200)
    lw_seeds = args.layerwise_seeds if args.layerwise_seeds is not None else (2 if args.quick else 3)
    depths = [int(d) for d in (args.depths or ("5,10,20,30" if args.quick else "5,10,15,20,25,30")).split(",")]
    widths = [2, 3, 4]
    methods = list(BASELINES) + ["start", "layerwise"]
    data = datasets()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    t_all = time.perf_counter()
    for dname in args.datasets.split(","):
        x, y = data[dname]
        for width in widths:
            for depth in depths:
                sizes = sizes_for(x.shape[1], width, depth, y.shape[1])
                for method in methods:
                    n = lw_seeds if method == "layerwise" else seeds
                    if n == 0:
                        continue
                    t0 = time.perf_counter()
                    dead_nets, dead_frac = 0, []
                    for seed in range(n):
                        if method in BASELINES:
                            w = baseline_weights(method, sizes, seed)
                        else:
                            w = ours(method, sizes, x, y, seed)
                        bd, fr = dead_stats(hidden_preacts(w, x))
                        dead_nets += bd
                        dead_frac.append(fr)
                    row = {
                        "data": dname, "width": width, "depth": depth, "method": method, "seeds": n,
                        "born_dead": dead_nets / n, "dead_neurons": float(np.mean(dead_frac)),
                        "seconds_per_net": (time.perf_counter() - t0) / n,
                    }
                    results.append(row)
                    print(f"{dname:6s} w={width} d={depth:2d} {method:10s} seeds={n:3d} born dead {row['born_dead']:6.1%} "
                          f"dead neurons {row['dead_neurons']:6.1%} ({row['seconds_per_net']:.3g} s/net)", file=sys.stderr, flush=True)
    meta = {"seconds": time.perf_counter() - t_all, "numba_threads": os.environ.get("NUMBA_NUM_THREADS", "default"),
            "seeds": seeds, "layerwise_seeds": lw_seeds, "cores": os.cpu_count()}
    Path(args.out).write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    table(results)
    plots(results, args.datasets.split(","), widths, methods)
    return 0


def table(results: list[dict]) -> None:
    methods = list(dict.fromkeys(r["method"] for r in results))
    print("| data | width | depth | " + " | ".join(methods) + " |")
    print("|---|---|---|" + "---|" * len(methods))
    keys = list(dict.fromkeys((r["data"], r["width"], r["depth"]) for r in results))
    for k in keys:
        cells = []
        for m in methods:
            r = next((r for r in results if (r["data"], r["width"], r["depth"], r["method"]) == (*k, m)), None)
            cells.append("" if r is None else f"{r['born_dead']:.0%} ({r['dead_neurons']:.0%})")
        print(f"| {k[0]} | {k[1]} | {k[2]} | " + " | ".join(cells) + " |")
    print("\ncells: fraction of networks born dead (mean fraction of dead neurons)")


def plots(results: list[dict], dnames: list[str], widths: list[int], methods: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for dname in dnames:
        fig, axes = plt.subplots(1, len(widths), figsize=(4.2 * len(widths), 3.6), sharey=True)
        for ax, width in zip(axes, widths):
            for m in methods:
                rows = sorted((r for r in results if r["data"] == dname and r["width"] == width and r["method"] == m), key=lambda r: r["depth"])
                if rows:
                    ax.plot([r["depth"] for r in rows], [r["born_dead"] for r in rows], marker="o",
                            label=f"{m} ({rows[0]['seeds']} seeds)", lw=2.5 if m in ("start", "layerwise") else 1.2)
            ax.set_title(f"{dname}, width {width}")
            ax.set_xlabel("hidden layers")
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("fraction born dead")
        axes[-1].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(RESULTS / f"born_dead_{dname}.png", dpi=110)
        plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
