"""Reading and writing the files of the ``lps`` commands (``-`` is standard input or output).

Only the file side lives here: specs are validated by :func:`solver.networks.spec.load_spec`
(its ``ValidationError`` reaches the one handler in :mod:`solver.cli.main`), systems are
parsed by :mod:`solver.engine.formats.phc`. I/O failures become :class:`CommandError`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from solver.cli.errors import CommandError

if TYPE_CHECKING:  # pragma: no cover
    from solver.networks.spec import NetworkSpec


def read_text(path: str, what: str = "", max_chars: int | None = None) -> str:
    """The text of ``path`` (``-``: standard input); ``what`` names it in the error. With
    ``max_chars``, at most ``max_chars + 1`` characters are read (enough for the reader
    to refuse the text by its size without holding all of a huge file)."""
    size = -1 if max_chars is None else max_chars + 1
    try:
        if path == "-":
            return sys.stdin.read(size)
        with open(path, encoding="utf-8") as handle:
            return handle.read(size)
    except OSError as exc:
        raise CommandError(f"cannot read {what}{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise CommandError(f"cannot read {what}{path}: not UTF-8 text (byte {exc.start} of a block)") from None


@contextmanager
def writing(path: str) -> Iterator[None]:
    """Around a write to ``path``: an I/O failure becomes a :class:`CommandError`."""
    try:
        yield
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` (``-``: standard output)."""
    if path == "-":
        sys.stdout.write(text)
        return
    with writing(path):
        Path(path).write_text(text, encoding="utf-8")


def read_spec(path: str) -> "NetworkSpec":
    """The validated layer spec in ``path``; JSON syntax errors are named as such."""
    from solver.networks.spec import load_spec

    text = read_text(path, "spec ")
    try:
        json.loads(text)  # load_spec would report bad JSON as a field error of "spec"
    except ValueError as exc:
        raise CommandError(f"spec {path} is not valid JSON: {exc}") from None
    return load_spec(text)
