"""The ``lps`` command line.

``lps solve FILE`` solves a system in PHCpack's format; ``lps demo`` solves a few example
systems. The network commands (``system``, ``critical``, ``init``) and ``serve`` register
themselves from their own modules. Bad input gives one clear line on stderr and exit
status 2, never a traceback.
"""

from __future__ import annotations

from solver.errors import LpsError

import argparse
import importlib
import json
import sys
from typing import Sequence

EXIT_USAGE = 2

# modules that add subcommands: (module, function taking the subparsers object)
_PLUGINS = (("solver.cli.network", "add_network_commands"), ("api.cli_serve", "add_serve_command"))


class CommandError(LpsError):
    """A user-facing error: printed as one line, exit status 2."""


def _progress_bar(total: int, enabled: bool):
    """A tqdm bar on stderr for long solves; None when off or short."""
    if not enabled or total < 2000:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="path", file=sys.stderr, leave=False)

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return bar, update


def cmd_solve(args: argparse.Namespace) -> int:
    from solver.engine.formats.phc import PHCParseError, parse_system
    from solver.engine.solve import solve
    from solver.engine.system import InvalidSystem

    try:
        text = sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read()
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        system = parse_system(text)
    except PHCParseError as exc:
        raise CommandError(f"{args.file}: {exc}") from None
    bar = None
    try:
        bar, update = _progress_bar(system.total_degree, not args.quiet and sys.stderr.isatty())
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
        )
    except InvalidSystem as exc:
        raise CommandError(f"{args.file}: {exc}") from None
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        payload = json.dumps(result.to_json(), indent=2)
        if args.json == "-":
            print(payload)
        else:
            with open(args.json, "w", encoding="utf-8") as fh:
                fh.write(payload + "\n")
    if args.json != "-":
        print(result.summary())
        if not args.json:
            _print_solutions(result)
    return 0


def _print_solutions(result) -> None:
    names = result.variables
    for k, sol in enumerate(result.solutions, 1):
        kind = "real" if sol.real else "complex"
        print(f"solution {k}: {sol.status.name.lower()}, {kind}, multiplicity {sol.multiplicity}, residual {sol.residual:.1e}")
        for name, v in zip(names, sol.values):
            print(f"  {name} = {v.real:+.15g}" + ("" if sol.real else f" {v.imag:+.15g}i"))


def cmd_demo(args: argparse.Namespace) -> int:
    """Solve a few named systems and print what was found against the known counts."""
    from solver.engine.examples import by_name
    from solver.engine.solve import solve

    known = {"katsura-5": 32, "cyclic-5": 70, "noon-3": 21, "eco-6": 16}
    print("lps-init demo: homotopy continuation on known systems (the first run compiles the Numba kernels)")
    for name, expected in known.items():
        result = solve(by_name(name), seed=args.seed)
        print(f"{name:10s} expected {expected:3d}, found {len(result.solutions):3d} | {result.summary()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from solver.engine.solve import BACKENDS, DEFAULT_MAX_PATHS, STARTS

    parser = argparse.ArgumentParser(prog="lps", description="lps-init: homotopy continuation and LPS initial weights")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("solve", help="solve a polynomial system in PHCpack's format")
    p.add_argument("file", help="PHC input file, or - for standard input")
    p.add_argument("--start", choices=STARTS, default="auto")
    p.add_argument("--backend", choices=BACKENDS, default="numba")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-paths", type=int, default=DEFAULT_MAX_PATHS, dest="max_paths")
    p.add_argument("--preset", choices=("default", "fast", "conservative"), default="default", help="tracker options")
    p.add_argument("--threads", type=int, default=None, help="Numba threads (default: one per core)")
    p.add_argument("--json", metavar="OUT", help="write the result as JSON to OUT, or - for standard output")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_solve)

    p = sub.add_parser("demo", help="solve a few known systems")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_demo)

    for module, function in _PLUGINS:
        try:
            getattr(importlib.import_module(module), function)(sub)
        except (ImportError, AttributeError):
            continue  # optional part not installed (e.g. the service extra)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"lps: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("lps: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
