"""The one progress bar of the ``lps`` commands: a tqdm bar of tracked paths on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Progress = Callable[[int, int], None]


def wanted(quiet: bool) -> bool:
    """Whether to draw a bar: not asked to be quiet and stderr is a terminal."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress | None]:
    """A ``progress(done, total)`` callback drawing a bar, or None when ``enabled`` is false.

    The bar is closed (and erased) when the block ends, also on errors and interrupts.
    """
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(unit="path", file=sys.stderr, leave=False) as bar:

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield update
