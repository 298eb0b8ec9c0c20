"""The ``lps`` command line: :mod:`solver.cli.main` (parser, plug-in loader, the one error
handler and exit-code table), then one module per group of subcommands (:mod:`~solver.cli.solve`,
:mod:`~solver.cli.network`, :mod:`~solver.cli.init`) and their helpers (:mod:`~solver.cli.files`,
:mod:`~solver.cli.progress`, :mod:`~solver.cli.errors`)."""

from solver.cli.main import main

__all__ = ["main"]
