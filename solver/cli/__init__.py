"""The ``lps`` command line: :mod:`solver.cli.main` (parser, the one error handler and exit
codes), then one module per group of subcommands."""

from solver.cli.main import main

__all__ = ["main"]
