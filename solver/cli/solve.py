"""``lps solve`` and ``lps demo``: the engine on the command line.

``lps solve FILE`` solves a system in PHCpack's format (``-``: standard input) and prints
the solutions, or writes the result as JSON; ``lps demo`` solves a few known systems and
compares the counts. Errors are :class:`~solver.errors.LpsError`\\ s, reported by
:func:`solver.cli.main.main`.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from solver.cli.errors import CommandError
from solver.cli.files import read_text, write_text
from solver.cli.progress import progress_bar, wanted

if TYPE_CHECKING:  # pragma: no cover
    from solver.engine.result import SolveResult

# below this many paths a solve takes a moment: no bar
PROGRESS_MIN_PATHS = 2000

# the demo's systems and their known numbers of finite solutions
DEMO_COUNTS = {"katsura-5": 32, "cyclic-5": 70, "noon-3": 21, "eco-6": 16}


def add_solve_commands(subparsers: "argparse._SubParsersAction") -> None:
    """Register ``solve`` and ``demo`` on the main parser's subparsers."""
    from solver.engine.solve import BACKENDS, DEFAULT_MAX_PATHS
    from solver.engine.start_systems.choice import STARTS

    p = subparsers.add_parser("solve", help="solve a polynomial system in PHCpack's format")
    p.add_argument("file", help="PHC input file, or - for standard input")
    p.add_argument("--start", choices=STARTS, default="auto")
    p.add_argument("--backend", choices=BACKENDS, default="numba")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-paths", type=int, default=DEFAULT_MAX_PATHS, dest="max_paths")
    p.add_argument("--preset", choices=("default", "fast", "conservative"), default="default", help="tracker options")
    p.add_argument("--threads", type=int, default=None, help="Numba threads (default: one per core)")
    p.add_argument("--json", metavar="OUT", help="write the result as JSON to OUT, or - for standard output")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--certify", action="store_true", help="prove each solution by the interval Krawczyk test")
    add_scheduler_option(p)
    p.set_defaults(func=cmd_solve)

    p = subparsers.add_parser("demo", help="solve a few known systems")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_demo)


def add_scheduler_option(p: argparse.ArgumentParser) -> None:
    """``--scheduler ADDRESS``: track the paths on a Dask cluster (:mod:`solver.engine.executors`)."""
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="track the paths on the Dask cluster of this scheduler (tcp://host:8786)")


def cmd_solve(args: argparse.Namespace) -> int:
    """Solve the file's system; print the solutions and/or write the JSON result."""
    from solver.engine.formats.phc import ParseLimits, PHCParseError, parse_system
    from solver.engine.solve import solve
    from solver.engine.system import InvalidSystem

    limits = ParseLimits()  # the service's defaults: the same text is refused the same way
    text = read_text(args.file, max_chars=limits.max_chars)
    try:
        system = parse_system(text, limits)
        show = wanted(args.quiet) and system.total_degree >= PROGRESS_MIN_PATHS
        with progress_bar(show) as update:
            result = solve(
                system,
                start=args.start,
                backend=args.backend,
                seed=args.seed,
                max_paths=args.max_paths,
                options=args.preset,
                progress=update,
                threads=args.threads,
                mixed_volume=True,
                certify=args.certify,
                scheduler=args.scheduler,
            )
    except (PHCParseError, InvalidSystem) as exc:
        raise CommandError(f"{args.file}: {exc}") from None  # name the file
    if args.json:
        write_text(args.json, json.dumps(result.to_json(), indent=2) + "\n")
    if args.json != "-":
        print(result.summary())
        if not args.json:
            print_solutions(result)
    return 0


def print_solutions(result: "SolveResult") -> None:
    """One line per distinct solution, then its values, one variable a line."""
    for k, sol in enumerate(result.solutions, 1):
        kind = "real" if sol.real else "complex"
        proof = "" if sol.certified is None else f", {_proof(sol)}"
        print(f"solution {k}: {sol.status.name.lower()}, {kind}, multiplicity {sol.multiplicity}, residual {sol.residual:.1e}{proof}")
        for name, v in zip(result.variables, sol.values):
            print(f"  {name} = {v.real:+.15g}" + ("" if sol.real else f" {v.imag:+.15g}i"))


def _proof(sol) -> str:
    if not sol.certified:
        return "not certified"
    return f"certified{' real' if sol.certified_real else ''} (box radius {sol.certified_radius:.1e})"


def cmd_demo(args: argparse.Namespace) -> int:
    """Solve a few named systems and print what was found against the known counts."""
    from solver.engine.examples import by_name
    from solver.engine.solve import solve

    print("lps-init demo: homotopy continuation on known systems (the first run compiles the Numba kernels)")
    for name, expected in DEMO_COUNTS.items():
        result = solve(by_name(name), seed=args.seed)
        print(f"{name:10s} expected {expected:3d}, found {len(result.solutions):3d} | {result.summary()}")
    return 0
