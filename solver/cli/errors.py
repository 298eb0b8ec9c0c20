"""The one user-facing error of the ``lps`` command line.

:class:`CommandError` is what a command raises for bad input it finds itself (a file it
cannot read, nothing to write, no weights to hand out). It is an :class:`~solver.errors.LpsError`
like every domain error, so :func:`solver.cli.main.main` maps all of them in one place.
"""

from __future__ import annotations

from solver.errors import LpsError


class CommandError(LpsError):
    """Bad input found by a command: one line on stderr, exit status 2."""
