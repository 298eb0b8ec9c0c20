"""Compute the generic solutions of the families the package ships (issue 11, item 3).

Anyone can re-run it; the output is deterministic for a seed up to floating-point
rounding and thread scheduling. Per family it prints the method, seed, paths tracked,
the generic count, the orbits under the hidden-neuron permutations and the seconds, and
writes ``<key id>.npz`` into ``solver/networks/families/`` (or ``--out DIR``).

Methods: the linear-product start (Morgan and Sommese 1989; complete with probability
one) when it has at most ``--max-linear-product-paths`` paths, then monodromy loops as a
cross-check; monodromy from seed pairs otherwise (Duff, Hill, Jensen, Lee, Leykin,
Sommars, IMA J. Numer. Anal. 2019). See :mod:`solver.networks.family_store`.

Examples
--------
    python scripts/build_families.py                       # the default list
    python scripts/build_families.py 2-2-1.b11.d21 --method monodromy --out /tmp/fam
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Callable

from solver.networks.family import FamilyKey
from solver.networks.family_store import SHIPPED_DIRECTORY, compute_generic, save_generic

#: the small architectures users ask for first: hidden surrogates of degree 2, then 3
DEFAULT_KEYS = (
    "1-1-1.b11.d21",
    "2-1-1.b11.d21",
    "1-2-1.b11.d21",
    "3-1-1.b11.d21",
    "1-3-1.b11.d21",
    "2-2-1.b11.d21",
    "1-1-1-1.b111.d221",
    "1-1-1.b11.d31",
    "2-1-1.b11.d31",
    "3-1-1.b11.d31",
)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("keys", nargs="*", default=list(DEFAULT_KEYS), help="family ids such as 1-2-1.b11.d21 (default: the shipped list)")
    p.add_argument("--out", type=Path, default=SHIPPED_DIRECTORY, help="folder for the .npz files (default: the package's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--method", choices=("auto", "linear-product", "monodromy"), default="auto")
    p.add_argument("--max-linear-product-paths", type=int, default=20_000)
    p.add_argument("--stall-loops", type=int, default=5, help="monodromy stops after this many loops without news")
    p.add_argument("--progress", action="store_true", help="print the paths tracked as the solve goes (to stderr)")
    return p.parse_args(argv)


def _progress(name: str, t0: float) -> Callable[[int, int], None]:
    """A progress callback that prints one line per call (monodromy: one per loop)."""

    def show(done: int, total: int) -> None:
        print(f"  {name}: {done} paths of at most {total}, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)

    return show


def main(argv: list[str] | None = None) -> int:
    """Build every family named; returns the exit status (1 if one failed)."""
    args = _arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    status = 0
    print("family               method          seed    paths  generic  orbits  loops  seconds  file", flush=True)
    for text in args.keys:
        key = FamilyKey.parse(text)
        t0 = time.perf_counter()
        try:
            g = compute_generic(
                key,
                seed=args.seed,
                max_linear_product_paths=args.max_linear_product_paths,
                method=args.method,
                stall_loops=args.stall_loops,
                progress=_progress(key.id, t0) if args.progress else None,
            )
        except Exception as err:  # one family failing must not lose the others
            print(f"{key.id:20s} failed: {type(err).__name__}: {err}", flush=True)
            status = 1
            continue
        path = save_generic(g, args.out)
        c = g.counts
        print(
            f"{key.id:20s} {g.method:15s} {g.seed:4d} {c['paths']:8d} {c['finite']:8d} {c['orbits']:7d} {c['loops']:6d}"
            f" {time.perf_counter() - t0:8.1f}  {path}  {c}",
            flush=True,
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
