"""Request rate limits: a token bucket per key, and one per client address for failed
authentications (429 with ``Retry-After``).

In memory, per web process: the buckets only need to hold within one server, and a
restart forgetting them is harmless. The table of buckets is bounded (oldest dropped), so
a flood of distinct addresses cannot grow it without end.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

#: most buckets kept per limiter
MAX_BUCKETS = 100_000


class RateLimiter:
    """``per_minute`` events per name, in bursts of up to ``per_minute``.

    Parameters
    ----------
    per_minute : int
    """

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _level(self, name: str, now: float) -> float:
        tokens, then = self._buckets.get(name, (self.capacity, now))
        return min(self.capacity, tokens + (now - then) * self.rate)

    def take(self, name: str) -> float | None:
        """Spend one token of ``name``; None when there was one, else the seconds until
        there is (the ``Retry-After``)."""
        now = time.monotonic()
        with self._lock:
            tokens = self._level(name, now)
            allowed = tokens >= 1.0
            self._buckets[name] = (tokens - 1.0 if allowed else tokens, now)
            self._buckets.move_to_end(name)
            while len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        return None if allowed else (1.0 - tokens) / self.rate

    def exhausted(self, name: str) -> float | None:
        """Like :meth:`take` without spending: the wait when ``name`` has no token left."""
        now = time.monotonic()
        with self._lock:
            tokens = self._level(name, now) if name in self._buckets else self.capacity
        return None if tokens >= 1.0 else (1.0 - tokens) / self.rate


def retry_after(seconds: float) -> dict[str, str]:
    """The ``Retry-After`` header (whole seconds, at least 1)."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
