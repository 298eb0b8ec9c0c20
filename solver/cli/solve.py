"""``lps solve`` and ``lps demo``: the engine on the command line.

``lps solve FILE [FILE ...]`` solves systems in PHCpack's format (``-``: standard input)
and prints the solutions, or writes the results as JSON: one object for one file, a list
of them (each with its ``file``) for several, solved in one process so that the imports
and the compiled kernels are loaded once. ``lps demo`` solves a few known systems and
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
from solver.errors import LpsError

if TYPE_CHECKING:  # pragma: no cover
    from solver.engine.result import SolveResult

# below this many paths a solve takes a moment: no bar
PROGRESS_MIN_PATHS = 2000

SEVERAL_FILES = (
    "Several files are solved one after the other in one process (imports and compiled kernels "
    "are loaded once). The JSON is then a list, one object per file in the order given, each with "
    "its 'file'. A file that cannot be read, parsed or solved gets the entry {'file': ..., 'error': "
    "...} and the others are still solved and written; lps then names the failed files on stderr "
    "and exits with status 2."
)

# the demo's systems and their known numbers of finite solutions
DEMO_COUNTS = {"katsura-5": 32, "cyclic-5": 70, "noon-3": 21, "eco-6": 16}


def add_solve_commands(subparsers: "argparse._SubParsersAction") -> None:
    """Register ``solve`` and ``demo`` on the main parser's subparsers."""
    from solver.engine.solve import BACKENDS, DEFAULT_MAX_PATHS
    from solver.engine.start_systems.choice import STARTS

    p = subparsers.add_parser("solve", help="solve polynomial systems in PHCpack's format", epilog=SEVERAL_FILES)
    p.add_argument("files", nargs="+", metavar="FILE", help="PHC input file, or - for standard input (once)")
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
    """Solve each file's system; print the solutions and/or write the JSON result (one
    object for one file; for several, a list with an error entry for each file that failed,
    then a :class:`CommandError` naming them)."""
    if args.files.count("-") > 1:
        raise CommandError("standard input (-) can be read only once")
    if len(args.files) == 1:
        result = solve_file(args.files[0], args)
        if args.json:
            write_text(args.json, json.dumps(result.to_json(), indent=2) + "\n")
        _print(result, args)
        return 0
    entries, failed = [], []
    for name in args.files:
        try:
            result = solve_file(name, args)
        except LpsError as exc:  # one bad file: its error entry, the others still solved
            entries.append({"file": name, "error": str(exc)})
            failed.append(str(exc))
            continue
        entries.append({"file": name, **result.to_json()})
        _print(result, args, header=name)
    if args.json:
        write_text(args.json, json.dumps(entries, indent=2) + "\n")
    if failed:
        raise CommandError(f"{len(failed)} of {len(entries)} files failed: " + "; ".join(failed))
    return 0


def solve_file(name: str, args: argparse.Namespace) -> "SolveResult":
    """Read, parse and solve the system of file ``name`` with the options of ``args``;
    errors of the file name it."""
    from solver.engine.formats.phc import ParseLimits, PHCParseError, parse_system
    from solver.engine.solve import solve
    from solver.engine.system import InvalidSystem

    limits = ParseLimits()  # the service's defaults: the same text is refused the same way
    text = read_text(name, max_chars=limits.max_chars)
    try:
        system = parse_system(text, limits)
        show = wanted(args.quiet) and system.total_degree >= PROGRESS_MIN_PATHS
        with progress_bar(show) as update:
            return solve(
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
        raise CommandError(f"{name}: {exc}") from None  # name the file


def _print(result: "SolveResult", args: argparse.Namespace, header: str | None = None) -> None:
    """The summary (after ``header: `` when given) and, without ``--json``, the solutions;
    nothing when the JSON goes to standard output."""
    if args.json == "-":
        return
    print(result.summary() if header is None else f"{header}: {result.summary()}")
    if not args.json:
        print_solutions(result)


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
