"""``lps init``: initial weights from a layer spec, in any mode (exact, start, layerwise, auto).

``lps init --spec SPEC.json [--out W.safetensors] [--json META|-] [--mode MODE] [options]``
writes the weights as safetensors (float32 tensors ``"{k}.weight"``, ``"{k}.bias"``,
through :mod:`solver.networks.weights_io`) and the JSON report. Exact mode runs the
critical-point solve of :func:`solver.cli.network.run_exact` and hands out its best
candidate; the other modes run :func:`solver.init.modes.run_spec`. Errors are reported by
:func:`solver.cli.main.main`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from solver.cli.errors import CommandError
from solver.cli.files import read_spec, write_text, writing
from solver.cli.network import SPEC_HELP, run_exact
from solver.cli.solve import add_scheduler_option
from solver.networks.companion_facts import companion_facts, companion_lines

if TYPE_CHECKING:  # pragma: no cover
    from solver.networks.spec import NetworkSpec


def add_init_command(subparsers: "argparse._SubParsersAction") -> None:
    """Register ``init`` and all its options on the main parser's subparsers."""
    from solver.init.modes import DEFAULT_LAYERWISE_BUDGET, MODES

    p = subparsers.add_parser("init", help="initial weights from a layer spec (exact, start, layerwise or auto)")
    p.add_argument("--spec", required=True, help=SPEC_HELP)
    p.add_argument("--out", help="write the best candidate's weights here (safetensors)")
    p.add_argument("--json", metavar="META", help="write the result as JSON to META, or - for standard output")
    p.add_argument("--mode", choices=MODES, default=None, help="override the spec's mode (default: the spec's, else auto)")
    p.add_argument(
        "--layerwise-budget", type=int, default=DEFAULT_LAYERWISE_BUDGET, dest="layerwise_budget",
        help="auto: largest layerwise work in engine paths (hidden neurons x paths per neuron)",
    )
    p.add_argument("--projection-dim", type=int, choices=(1, 2), default=1, dest="projection_dim",
                   help="layerwise: dimension of each neuron's projection")
    p.add_argument("--max-points", type=int, default=None, dest="max_points",
                   help="start: anchor points per neuron (default 32, lowered to d + 1 where a layer's inputs are "
                        "locally d-dimensional)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary on stderr")
    add_scheduler_option(p)
    p.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    """Run ``lps init`` in the chosen mode (``--mode``, else the spec's)."""
    spec = read_spec(args.spec)
    if (args.mode or spec.mode) == "exact":
        return _init_exact(spec, args)
    return _init_modes(spec, args)


def _init_exact(spec: "NetworkSpec", args: argparse.Namespace) -> int:
    """Exact mode: every critical point, the best candidate as weights."""
    from solver.networks.weights_io import to_tensors, write_safetensors

    if not args.out and not args.json:
        raise CommandError("nothing to write: give --out WEIGHTS.safetensors and/or --json META")
    result = run_exact(spec, "numba", args.quiet, args.scheduler)
    if not result.candidates:
        raise CommandError(
            f"exact mode found no real minimum or saddle to use as weights ({result.counts()['real']} real critical points); "
            "try another surrogate degree, weight decay or mode"
        )
    best = result.candidates[0]
    facts = companion_facts(spec, [p.params for p in result.candidates])
    meta = {**result.to_json(), **facts}
    meta["weights"] = {k: v.tolist() for k, v in to_tensors(spec, best.params).items()}
    if args.out:
        metadata = {"mode": "exact", "kind": best.kind, "loss": repr(best.loss), "spec_hash": spec.canonical_hash()}
        with writing(args.out):
            write_safetensors(args.out, spec, best.params, metadata)
        meta["weights_file"] = str(args.out)
    if args.json:
        write_text(args.json, json.dumps(meta, indent=1) + "\n")
    if not args.quiet:
        print(
            f"lps init: mode exact; best candidate: {best.kind}, loss {best.loss:.10g} ({result.candidates_note}); "
            f"{result.seconds:.3g} s",
            file=sys.stderr,
        )
        for line in companion_lines(facts):
            print(line, file=sys.stderr)
    return 0


def _mode_options(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    """The command-line options that ``mode`` reads."""
    options: dict[str, Any] = {}
    if mode == "auto":
        options["layerwise_budget"] = args.layerwise_budget
    if mode in ("auto", "layerwise"):
        options["projection_dim"] = args.projection_dim
    if mode in ("auto", "start"):
        options["max_points"] = args.max_points
    return options


def _init_modes(spec: "NetworkSpec", args: argparse.Namespace) -> int:
    """The start, layerwise and auto modes through :func:`solver.init.modes.run_spec`."""
    from solver.init.modes import run_spec
    from solver.networks.weights_io import write_tensors

    mode = args.mode or spec.mode
    result = run_spec(spec, mode=mode, **_mode_options(mode, args))
    if not result.get("weights"):
        raise CommandError(f"mode {result['mode']} produced no weights (no real critical point to use)")
    if args.out:
        tensors = {k: np.asarray(v, dtype=np.float32) for k, v in result["weights"].items()}
        metadata = {"mode": result["mode"], "reason": result["reason"]}
        with writing(args.out):
            write_tensors(args.out, tensors, metadata)
    if args.json:
        write_text(args.json, json.dumps(result, indent=1) + "\n")
    if not args.quiet:
        print(f"lps init: mode {result['mode']} ({result['reason']}); {result['seconds']:.3g} s", file=sys.stderr)
        for k, layer in enumerate(result["layers"]):
            print(
                f"  layer {k}: {layer['neurons']} neurons, active {layer['active_fraction']:.0%}, "
                f"split {layer['split_fraction']:.0%}, dead {layer['dead_fraction']:.0%} ({layer.get('method', '')})",
                file=sys.stderr,
            )
        for line in companion_lines(result):
            print(line, file=sys.stderr)
    return 0

