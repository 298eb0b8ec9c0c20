"""``lps init --spec SPEC.json --mode start|layerwise|auto|exact``: the scalable init modes on the CLI.

The ``init`` subcommand belongs to :mod:`solver.cli.network` (exact mode). This module gives
it what the other modes need:

* :func:`add_init_options` adds ``--mode``, ``--layerwise-budget``, ``--projection-dim``,
  ``--max-points`` and ``--quiet`` to an existing ``init`` parser (``--spec``, ``--out`` and
  ``--json`` are expected there);
* :func:`cmd_init` runs any mode through :func:`solver.init.modes.run_spec`, writes the
  weights (safetensors, ``"{k}.weight"`` / ``"{k}.bias"``, float32) and the JSON report;
* :func:`add_init_command` registers a complete ``init`` subcommand, for a parser that has
  none; ``python -m solver.cli.init --spec ...`` runs it standalone.

Bad input gives one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

EXIT_USAGE = 2


def add_init_options(p: argparse.ArgumentParser, with_mode: bool = True) -> None:
    """Options of the scalable modes on an ``init`` parser."""
    from solver.init.modes import DEFAULT_LAYERWISE_BUDGET, MODES

    if with_mode:
        p.add_argument("--mode", choices=MODES, default=None, help="override the spec's mode (default: the spec's, else auto)")
    p.add_argument(
        "--layerwise-budget", type=int, default=DEFAULT_LAYERWISE_BUDGET, dest="layerwise_budget",
        help="auto: largest layerwise work in engine paths (hidden neurons x paths per neuron)",
    )
    p.add_argument("--projection-dim", type=int, choices=(1, 2), default=1, dest="projection_dim", help="layerwise: dimension of each neuron's projection")
    p.add_argument("--max-points", type=int, default=None, dest="max_points", help="start: anchor points per neuron (default 32, lowered to d + 1 where a layer's inputs are locally d-dimensional)")
    p.add_argument("--quiet", action="store_true", help="no per-layer summary on stderr")


def add_init_command(sub) -> argparse.ArgumentParser:
    """Register ``init`` on an argparse subparsers object (when nobody else has)."""
    p = sub.add_parser("init", help="initial weights from a layer spec (exact, start, layerwise or auto)")
    p.add_argument("--spec", required=True, help="layer spec JSON file, or - for standard input")
    p.add_argument("--out", help="write the weights as safetensors here")
    p.add_argument("--json", metavar="META", help="write the result JSON to META, or - for standard output")
    add_init_options(p)
    p.set_defaults(func=cmd_init)
    return p


class _Usage(Exception):
    pass


def _read_spec(path: str):
    from pydantic import ValidationError

    from solver.networks.spec import format_validation_error, load_spec

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise _Usage(f"cannot read spec {path}: {exc.strerror or exc}") from None
    try:
        return load_spec(text)
    except ValidationError as exc:
        raise _Usage(format_validation_error(exc)) from None
    except ValueError as exc:
        raise _Usage(f"spec {path} is not valid JSON: {exc}") from None


def write_weights(path: str, weights: dict, metadata: dict | None = None) -> None:
    """Tensors ``"{k}.weight"``/``"{k}.bias"`` (nested lists or arrays) as float32 safetensors."""
    import numpy as np
    from safetensors.numpy import save_file

    tensors = {k: np.ascontiguousarray(np.asarray(v, dtype=np.float32)) for k, v in weights.items()}
    save_file(tensors, path, metadata={k: str(v) for k, v in (metadata or {}).items()})


def cmd_init(args: argparse.Namespace) -> int:
    """Run ``lps init`` for any mode; exit status 0, or 2 with one line on bad input."""
    from solver.init.common import InitError
    from solver.init.modes import DEFAULT_LAYERWISE_BUDGET, run_spec

    try:
        spec = _read_spec(args.spec)
        mode = getattr(args, "mode", None) or spec.mode
        options = {}
        if mode in ("auto",):
            options["layerwise_budget"] = getattr(args, "layerwise_budget", None) or DEFAULT_LAYERWISE_BUDGET
        if mode in ("auto", "layerwise"):
            options["projection_dim"] = getattr(args, "projection_dim", 1)
        if mode in ("auto", "start"):
            options["max_points"] = getattr(args, "max_points", None)
        result = run_spec(spec, mode=mode, **options)
        if not result.get("weights"):
            raise _Usage(f"mode {result['mode']} produced no weights (no real critical point to use)")
        if getattr(args, "out", None):
            try:
                write_weights(args.out, result["weights"], {"mode": result["mode"], "reason": result["reason"]})
            except OSError as exc:
                raise _Usage(f"cannot write {args.out}: {exc.strerror or exc}") from None
    except (_Usage, InitError) as exc:
        print(f"lps: {exc}", file=sys.stderr)
        return EXIT_USAGE
    meta = {k: v for k, v in result.items()}
    out_json = getattr(args, "json", None)
    if out_json == "-":
        json.dump(meta, sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif out_json:
        try:
            Path(out_json).write_text(json.dumps(meta, indent=1))
        except OSError as exc:
            print(f"lps: cannot write {out_json}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
    if not getattr(args, "quiet", False):
        print(f"lps init: mode {result['mode']} ({result['reason']}); {result['seconds']:.3g} s", file=sys.stderr)
        for k, l in enumerate(result["layers"]):
            print(
                f"  layer {k}: {l['neurons']} neurons, active {l['active_fraction']:.0%}, split {l['split_fraction']:.0%}, "
                f"dead {l['dead_fraction']:.0%} ({l.get('method', '')})",
                file=sys.stderr,
            )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone ``python -m solver.cli.init --spec ...`` (same options as ``lps init``)."""
    parser = argparse.ArgumentParser(prog="lps init", description="initial weights from a layer spec")
    parser.add_argument("--spec", required=True)
    parser.add_argument("--out")
    parser.add_argument("--json", metavar="META")
    add_init_options(parser)
    return cmd_init(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
