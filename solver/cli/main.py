"""The ``lps`` command line: the parser, the plug-in loader and the one error handler.

Each group of subcommands registers itself from its own module: ``solve`` and ``demo``
(:mod:`solver.cli.solve`), ``system`` and ``critical`` (:mod:`solver.cli.network`),
``init`` (:mod:`solver.cli.init`), and ``serve`` from the service (:mod:`api.cli_serve`,
skipped when the ``service`` extra is not installed). A run of one built-in command loads
only its group's module (:data:`GROUPS`), as pip loads only the command it runs: ``lps
solve`` imports neither the network room nor pydantic.
:func:`main` maps every error meant for the user to one message on stderr and an exit
status, in one table (:func:`exit_codes`), never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import os
import importlib
import sys
from typing import Sequence

from solver.errors import LpsError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: the built-in groups of subcommands: (their commands, the module and the function registering them)
GROUPS = (
    (("solve", "demo"), "solver.cli.solve", "add_solve_commands"),
    (("system", "critical"), "solver.cli.network", "add_network_commands"),
    (("init",), "solver.cli.init", "add_init_command"),
)


def exit_codes() -> dict[type[BaseException], int]:
    """The one exit-code table: what escapes a command -> exit status (argparse also exits 2).

    Built only when an error escapes: a spec's ``ValidationError`` comes from pydantic,
    which the commands that do not read specs never import.
    """
    from pydantic import ValidationError

    return {
        LpsError: EXIT_USAGE,  # CommandError and every domain error
        ValidationError: EXIT_USAGE,  # a spec that fails validation
        KeyboardInterrupt: EXIT_INTERRUPTED,
    }

# commands from optional parts: (module, function taking the subparsers object)
_PLUGINS = (("api.cli_serve", "add_serve_command"),)

# top-level modules of the optional extras (``service``); only their absence skips a plug-in
_OPTIONAL_MODULES = frozenset({"fastapi", "starlette", "uvicorn", "httpx", "prometheus_client", "pydantic_settings"})


def _is_missing_extra(exc: ModuleNotFoundError, module: str) -> bool:
    """Whether ``exc`` says an optional extra (or the plug-in module itself) is not installed."""
    name = exc.name or ""
    return name.split(".")[0] in _OPTIONAL_MODULES or module == name or module.startswith(name + ".")


def _load_plugins(subparsers: "argparse._SubParsersAction") -> None:
    """Let each installed optional part add its commands; a missing extra only skips it.

    Any other import error (a bug in our own code) propagates.
    """
    for module, function in _PLUGINS:
        try:
            register = getattr(importlib.import_module(module), function)
        except ModuleNotFoundError as exc:
            if _is_missing_extra(exc, module):
                continue
            raise
        register(subparsers)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``lps`` parser; each subcommand sets ``func`` to its handler.

    With ``command`` one of the built-in commands of :data:`GROUPS`, only its group is
    registered (its module alone is imported); otherwise every group and plug-in is.
    """
    parser = argparse.ArgumentParser(prog="lps", description="lps-init: homotopy continuation and LPS initial weights")
    sub = parser.add_subparsers(dest="command", required=True)
    known = any(command in names for names, _, _ in GROUPS)
    for names, module, function in GROUPS:
        if not known or command in names:
            getattr(importlib.import_module(module), function)(sub)
    if not known:
        _load_plugins(sub)
    return parser


def _message(exc: BaseException, args: argparse.Namespace) -> str:
    """The text after ``lps: `` for an error of :func:`exit_codes`."""
    from pydantic import ValidationError

    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, ValidationError):
        from solver.networks.spec import format_validation_error

        spec = getattr(args, "spec", None)
        return (f"{spec}: " if spec else "") + format_validation_error(exc)
    return str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``lps`` with ``argv`` (default: the process's arguments); the exit status.

    Run as the program (``argv`` None: the ``lps`` script, ``python -m solver.cli``), it
    freezes the garbage collector's objects once the command is done: the interpreter's
    final collections over the engine's and Numba's objects took a fifth of a small cold
    solve (bench/COLD_RESULTS.md); exit handlers and buffers are unaffected.
    """
    program = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and not argv[0].startswith("-") else None
    args = build_parser(command).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # `lps solve ... | head`: the reader left, nothing to report
        # point stdout at devnull so the interpreter's final flush does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except tuple(exit_codes()) as exc:  # evaluated only when an exception escapes
        print(f"lps: {_message(exc, args)}", file=sys.stderr)
        return next(code for kind, code in exit_codes().items() if isinstance(exc, kind))
    finally:
        if program:
            gc.freeze()  # the process ends next: nothing left for a collection to free


if __name__ == "__main__":
    sys.exit(main())
