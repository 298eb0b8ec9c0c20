"""The network commands of ``lps`` that read a layer spec: ``system`` and ``critical``.

``lps system --spec SPEC.json [--out FILE] [--structure FILE]``
    the gradient system of the spec's surrogate loss in PHCpack's format (variables in
    state_dict order, ``W{layer}_{row}_{col}``, ``b{layer}_{row}``), root counts on stderr;
``lps critical --spec SPEC.json [--json OUT|-] [--backend numba|phcpy]``
    every critical point (exact mode): the real ones per permutation orbit with loss,
    gradient norm, Hessian eigenvalues, index, kind and orbit size; root and solve counts.

:func:`run_exact` (exact mode with the progress bar) is shared with ``lps init``
(:mod:`solver.cli.init`). Errors are reported by :func:`solver.cli.main.main`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

import numpy as np

from solver.cli.errors import CommandError
from solver.cli.files import read_spec, write_text
from solver.cli.progress import progress_bar, wanted
from solver.cli.solve import add_scheduler_option
from solver.engine.formats.phc import format_system
from solver.networks.companion_facts import companion_facts, companion_lines

if TYPE_CHECKING:  # pragma: no cover
    from solver.networks.critical_points import CriticalPointsResult
    from solver.networks.spec import NetworkSpec

SPEC_HELP = "layer spec JSON file, or - for standard input"


def add_network_commands(subparsers: "argparse._SubParsersAction") -> None:
    """Register ``system`` and ``critical`` on the main parser's subparsers."""
    p = subparsers.add_parser("system", help="gradient system of a layer spec in PHC format")
    p.add_argument("--spec", required=True, help=SPEC_HELP)
    p.add_argument("--out", help="write the PHC text here (default: standard output)")
    p.add_argument("--structure", metavar="FILE", help="also write the network's set structure (PHCpack notation)")
    p.set_defaults(func=cmd_system)

    p = subparsers.add_parser("critical", help="all critical points of a layer spec's surrogate loss (exact mode)")
    p.add_argument("--spec", required=True, help=SPEC_HELP)
    p.add_argument("--json", metavar="OUT", help="write the result as JSON to OUT, or - for standard output")
    p.add_argument("--backend", choices=("numba", "phcpy"), default="numba", help="path tracker")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_scheduler_option(p)
    p.set_defaults(func=cmd_critical)


def cmd_system(args: argparse.Namespace) -> int:
    """Write the gradient system (and the set structure); one line of counts on stderr."""
    from solver.networks.critical_points import EXACT_MAX_PARAMETERS
    from solver.networks.gradient_system import network_loss
    from solver.networks.structure import lps_count_bounded, network_set_structure, verify_coverage

    spec = read_spec(args.spec)
    if spec.data.y is None:
        raise CommandError("data.y is required: the gradient system is that of the loss fitting f(x) to y")
    system = network_loss(spec).system
    write_text(args.out or "-", format_system(system))
    line = (
        f"lps system: {spec.describe()}, {system.n_variables} unknowns, degrees {system.degrees.tolist()}, "
        f"total degree {system.total_degree}"
    )
    if spec.n_parameters <= EXACT_MAX_PARAMETERS:
        structure = network_set_structure(spec)
        verify_coverage(structure, system)
        count, status = lps_count_bounded(structure, cap=10**12)
        line += f", linear-product count {count if status == 'exact' else f'>= {count}'}"
        if args.structure:
            write_text(args.structure, structure.describe(system.variables) + "\n")
    elif args.structure:
        raise CommandError(f"no set structure for networks with more than {EXACT_MAX_PARAMETERS} parameters")
    print(line, file=sys.stderr)
    return 0


def run_exact(spec: "NetworkSpec", backend: str, quiet: bool, scheduler: str | None = None) -> "CriticalPointsResult":
    """Every critical point of the spec's surrogate loss, with a bar unless ``quiet``; the
    paths on the Dask cluster of ``scheduler`` when given."""
    from solver.engine.executors import using
    from solver.networks.critical_points import find_critical_points, preferred_method

    with using(scheduler), progress_bar(wanted(quiet)) as update:
        return find_critical_points(spec, backend=backend, progress=update, method=preferred_method(spec, backend))


def _method_line(s: dict) -> str:
    """How exact mode solved: the family (generic count, cache, completeness) or the start system."""
    if s.get("method") == "closed-form":
        return "  method: closed form of deep linear networks (Ziyin, Li, Meng 2022): no paths; real critical points only"
    if s.get("method") != "family":
        return f"  method: {s.get('method', 'linear-product')} start system"
    line = (f"  method: family {s['family']} ({s['generic_count']} generic solutions by {s['generic_method']}, "
            f"{'from the cache' if s['from_cache'] else 'computed now and stored'}), one path per orbit")
    if not s["complete"]:
        line += f"; INCOMPLETE: {s['incomplete_reason']}"
    return line


def summary(result: "CriticalPointsResult", facts: dict | None = None) -> str:
    """The human-readable report of ``lps critical``: counts, one line per point, then the
    companion papers' facts (``facts``, computed when not given)."""
    if hasattr(result, "summary_lines"):  # a result without paths (the threshold program)
        facts = facts if facts is not None else companion_facts(result.spec, [p.params for p in result.candidates])
        return "\n".join(result.summary_lines() + companion_lines(facts)) + "\n"
    c, rc, s = result.counts(), result.root_counts, result.solve_summary
    surrogates = {x.describe() for x in result.loss.surrogates if x.activation != "identity"}
    lines = [
        f"{result.spec.describe()}: {len(result.variables)} parameters, weight decay {result.spec.weight_decay:g}",
        *(f"  surrogate {d}" for d in sorted(surrogates)),
        "  root counts: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in rc.items() if k != "ratio"),
        _method_line(s),
        f"  paths {s['paths']}: {s['regular']} regular, {s['singular']} singular, {s['at_infinity']} at infinity, "
        f"{s['failed']} failed ({s['seconds']:.3g} s)",
        f"  critical points: {c['finite']} finite, {c['real']} real in {c['real_orbits']} orbits, {c['complex']} complex",
    ]
    for k, p in enumerate(result.points):
        lines.append(
            f"  [{k}] {p.kind:10s} index {p.index}  loss {p.loss:.10g}  |grad| {p.grad_norm:.1e}  orbit {p.orbit_size}  "
            f"params {np.array2string(p.params, precision=6, max_line_width=10_000)}"
        )
    lines.append(f"  candidates: {result.candidates_note}")
    lines += companion_lines(facts if facts is not None else companion_facts(result.spec, [p.params for p in result.candidates]))
    return "\n".join(lines) + "\n"


def cmd_critical(args: argparse.Namespace) -> int:
    """Find every critical point; the summary on stdout and/or the JSON result."""
    result = run_exact(read_spec(args.spec), args.backend, args.quiet, args.scheduler)
    facts = companion_facts(result.spec, [p.params for p in result.candidates])
    if args.json:
        write_text(args.json, json.dumps({**result.to_json(), **facts}, indent=1) + "\n")
    if args.json != "-":
        sys.stdout.write(summary(result, facts))
    return 0
