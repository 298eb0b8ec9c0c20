"""The network commands of ``lps``: ``system``, ``critical`` and ``init``.

``lps system --spec SPEC.json [--out FILE]``
    the gradient system of the spec's surrogate loss in PHCpack's format (variables in
    state_dict order, ``W{layer}_{row}_{col}``, ``b{layer}_{row}``), root counts on stderr;
``lps critical --spec SPEC.json [--json OUT|-]``
    every critical point (exact mode): the real ones per permutation orbit with loss,
    gradient norm, Hessian eigenvalues, index, kind and orbit size; root and solve counts;
``lps init --spec SPEC.json --out W.safetensors [--json META] [--mode exact]``
    the best candidate as safetensors (``"{k}.weight"``, ``"{k}.bias"``) and all candidates
    as JSON. Exact mode runs here; the other modes go to :mod:`solver.cli.init`.

A bad spec, an over-budget exact solve or an unwritable file gives one paragraph on
stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

EXIT_USAGE = 2


class _Usage(Exception):
    """A user-facing error: one paragraph on stderr, exit status 2."""


def add_network_commands(subparsers) -> None:
    """Register ``system``, ``critical`` and ``init`` on an argparse subparsers object."""
    p = subparsers.add_parser("system", help="gradient system of a layer spec in PHC format")
    p.add_argument("--spec", required=True, help="layer spec JSON file, or - for standard input")
    p.add_argument("--out", help="write the PHC text here (default: standard output)")
    p.add_argument("--structure", metavar="FILE", help="also write the network's set structure (PHCpack notation)")
    p.set_defaults(func=_guard(cmd_system))

    p = subparsers.add_parser("critical", help="all critical points of a layer spec's surrogate loss (exact mode)")
    p.add_argument("--spec", required=True, help="layer spec JSON file, or - for standard input")
    p.add_argument("--json", metavar="OUT", help="write the result as JSON to OUT, or - for standard output")
    p.add_argument("--backend", choices=("numba", "phcpy"), default="numba", help="path tracker")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_guard(cmd_critical))

    p = subparsers.add_parser("init", help="initial weights from a layer spec (exact, start, layerwise or auto)")
    p.add_argument("--spec", required=True, help="layer spec JSON file, or - for standard input")
    p.add_argument("--out", help="write the best candidate's weights here (safetensors)")
    p.add_argument("--json", metavar="META", help="write all candidates as JSON to META, or - for standard output")
    try:
        from solver.cli.init import add_init_options

        add_init_options(p)
    except ImportError:  # the scalable modes are not installed: exact only
        p.add_argument("--mode", choices=("exact",), default=None, help="initialisation mode (default: the spec's)")
        p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_guard(cmd_init))


def _guard(fn):
    """Turn user-facing errors into one paragraph on stderr and exit status 2."""

    def run(args: argparse.Namespace) -> int:
        from solver.networks.critical_points import ExactModeError
        from solver.networks.gradient_system import SystemTooLarge
        from solver.networks.structure import StructureError
        from solver.engine.system import InvalidSystem

        try:
            return int(fn(args) or 0)
        except (_Usage, ExactModeError, SystemTooLarge, StructureError, InvalidSystem) as exc:
            print(f"lps {args.command}: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return run


def read_spec(path: str):
    """Load and validate a spec file (``-``: standard input); :class:`_Usage` on errors."""
    from pydantic import ValidationError

    from solver.networks.spec import format_validation_error, load_spec

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise _Usage(f"cannot read spec {path}: {exc.strerror or exc}") from None
    try:
        json.loads(text)
    except ValueError as exc:
        raise _Usage(f"spec {path} is not valid JSON: {exc}") from None
    try:
        return load_spec(text)
    except ValidationError as exc:
        raise _Usage(f"{path}: {format_validation_error(exc)}") from None


def _write_text(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _Usage(f"cannot write {path}: {exc.strerror or exc}") from None


def cmd_system(args: argparse.Namespace) -> int:
    from solver.networks.critical_points import EXACT_MAX_PARAMETERS
    from solver.networks.gradient_system import network_loss
    from solver.networks.structure import lps_count_bounded, network_set_structure, verify_coverage

    spec = read_spec(args.spec)
    if spec.data.y is None:
        raise _Usage("data.y is required: the gradient system is that of the loss fitting f(x) to y")
    loss = network_loss(spec)
    system = loss.system
    _write_text(args.out or "-", system.to_phc())
    line = f"lps system: {spec.describe()}, {system.n_variables} unknowns, degrees {system.degrees.tolist()}, total degree {system.total_degree}"
    if spec.n_parameters <= EXACT_MAX_PARAMETERS:
        structure = network_set_structure(spec)
        verify_coverage(structure, system)
        count, status = lps_count_bounded(structure, cap=10**12)
        line += f", linear-product count {count if status == 'exact' else f'>= {count}'}"
        if args.structure:
            _write_text(args.structure, structure.describe(system.variables) + "\n")
    elif args.structure:
        raise _Usage(f"no set structure for networks with more than {EXACT_MAX_PARAMETERS} parameters")
    print(line, file=sys.stderr)
    return 0


def _progress(enabled: bool):
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(unit="path", file=sys.stderr, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return bar, update


def _run_exact(spec, backend: str, quiet: bool):
    from solver.networks.critical_points import find_critical_points

    bar, update = _progress(not quiet and sys.stderr.isatty())
    try:
        return find_critical_points(spec, backend=backend, progress=update)
    finally:
        if bar is not None:
            bar.close()


def _summary(result) -> str:
    c, rc, s = result.counts(), result.root_counts, result.solve_summary
    surrogates = {x.describe() for x in result.loss.surrogates if x.activation != "identity"}
    lines = [
        f"{result.spec.describe()}: {len(result.variables)} parameters, weight decay {result.spec.weight_decay:g}",
        *(f"  surrogate {d}" for d in sorted(surrogates)),
        f"  root counts: total degree {rc['total_degree']}, linear product {rc['linear_product']}, mixed volume {rc['mixed_volume']}",
        f"  paths {s['paths']}: {s['regular']} regular, {s['singular']} singular, {s['at_infinity']} at infinity, {s['failed']} failed ({s['seconds']:.3g} s)",
        f"  critical points: {c['finite']} finite, {c['real']} real in {c['real_orbits']} orbits, {c['complex']} complex",
    ]
    for k, p in enumerate(result.points):
        lines.append(
            f"  [{k}] {p.kind:10s} index {p.index}  loss {p.loss:.10g}  |grad| {p.grad_norm:.1e}  orbit {p.orbit_size}  "
            f"params {np.array2string(p.params, precision=6, max_line_width=10_000)}"
        )
    lines.append(f"  candidates: {result.candidates_note}")
    return "\n".join(lines) + "\n"


def cmd_critical(args: argparse.Namespace) -> int:
    spec = read_spec(args.spec)
    result = _run_exact(spec, args.backend, args.quiet)
    if args.json:
        _write_text(args.json, json.dumps(result.to_json(), indent=1) + "\n")
    if args.json != "-":
        sys.stdout.write(_summary(result))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    spec = read_spec(args.spec)
    mode = getattr(args, "mode", None) or spec.mode
    if mode != "exact":
        try:
            from solver.cli.init import cmd_init as cmd_init_modes
        except ImportError:
            raise _Usage(f"mode {mode} is not available in this build; use --mode exact") from None
        return cmd_init_modes(args)
    if not args.out and not args.json:
        raise _Usage("nothing to write: give --out WEIGHTS.safetensors and/or --json META")
    from solver.networks.weights_io import to_tensors, write_safetensors

    result = _run_exact(spec, "numba", getattr(args, "quiet", False))
    if not result.candidates:
        raise _Usage(
            f"exact mode found no real minimum or saddle to use as weights ({result.counts()['real']} real critical points); "
            "try another surrogate degree, weight decay or mode"
        )
    best = result.candidates[0]
    meta = result.to_json()
    meta["weights"] = {k: v.tolist() for k, v in to_tensors(spec, best.params).items()}
    if args.out:
        try:
            write_safetensors(
                args.out,
                spec,
                best.params,
                {"mode": "exact", "kind": best.kind, "loss": repr(best.loss), "spec_hash": spec.canonical_hash()},
            )
        except OSError as exc:
            raise _Usage(f"cannot write {args.out}: {exc.strerror or exc}") from None
        meta["weights_file"] = str(args.out)
    if args.json:
        _write_text(args.json, json.dumps(meta, indent=1) + "\n")
    if not getattr(args, "quiet", False):
        print(
            f"lps init: mode exact; best candidate: {best.kind}, loss {best.loss:.10g} ({result.candidates_note}); "
            f"{result.seconds:.3g} s",
            file=sys.stderr,
        )
    return 0

