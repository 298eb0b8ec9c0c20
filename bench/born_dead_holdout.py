"""Born dead on data the initialiser did not see: ``start`` fitted on 256 digits images,
judged on the other 1,541 (and He on the same held-out rows, for reference).

    .venv/bin/python bench/born_dead_holdout.py [--seeds 50]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from init_common_bench import baseline_weights, dead_stats, digits, hidden_preacts  # noqa: E402

from solver.init.common import LayerDef, one_hot  # noqa: E402
from solver.init.anchors import start_init  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50)
    args = ap.parse_args(argv)
    x, y = digits()
    idx = np.random.default_rng(0).permutation(len(x))
    fit, held = idx[:256], idx[256:]
    print("| width | depth | start: born dead (held out) | start: dead neurons (held out) | He: born dead (held out) |")
    print("|---|---|---|---|---|")
    for width in (2, 3, 4):
        for depth in (10, 20, 30):
            sizes = [64] + [width] * depth + [10]
            layers = [LayerDef(a, b) for a, b in zip(sizes[:-2], sizes[1:-1])] + [LayerDef(width, 10, "identity")]
            bd, fr, he = 0, [], 0
            for seed in range(args.seeds):
                res = start_init(layers, x[fit], one_hot(y[fit], 10), seed=seed)
                b, f = dead_stats(hidden_preacts([(l.weight, l.bias) for l in res.layers], x[held]))
                bd += b
                fr.append(f)
                he += dead_stats(hidden_preacts(baseline_weights("he", sizes, seed), x[held]))[0]
            print(f"| {width} | {depth} | {bd / args.seeds:.0%} | {np.mean(fr):.1%} | {he / args.seeds:.0%} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
