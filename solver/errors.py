"""The one base class of every lps-init domain error.

Each room raises its own subclass (``InvalidSystem`` in the engine, ``InitError`` in the
initialisation modes, ...). The CLI maps :class:`LpsError` to one line and an exit status
in one place (:mod:`solver.cli.main`); the service maps it to HTTP errors in one place
(:mod:`api.errors`). Anything else that escapes is a bug, never the user's fault.
"""

from __future__ import annotations


class LpsError(Exception):
    """A domain error whose message is meant for the user (one line, no traceback)."""
