"""The rate limiter (``--rate-limit``, ``/_mock/rate-limit``): requests per key per minute."""

from __future__ import annotations

import collections
import math
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..basics.clock import Clock


class RateLimiter:
    """At most ``per_minute`` requests per API key in any 60 s of the mock's clock.

    The table is bounded: at ``MAX_KEYS`` keys, keys with no hit in the last minute are
    dropped, and if none can be, further new keys share one bucket. So a client that sends a
    new key with every request (possible when any key is accepted) neither grows memory nor
    escapes the limit for long.
    """

    MAX_KEYS = 10_000
    _SHARED = "\x00other keys"

    def __init__(self, per_minute: int | None, clock: Clock):
        self.per_minute = per_minute
        self.clock = clock
        self._hits: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> int | None:
        """None when allowed; otherwise the seconds to wait."""
        if not self.per_minute:
            return None
        now = self.clock.now()
        with self._lock:
            if key not in self._hits and len(self._hits) >= self.MAX_KEYS:
                self._hits = {k: h for k, h in self._hits.items() if h and h[-1] > now - 60}
                if len(self._hits) >= self.MAX_KEYS:
                    key = self._SHARED
            hits = self._hits.setdefault(key, collections.deque())
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1, math.ceil(hits[0] + 60 - now))
            hits.append(now)
            return None

    def set_limit(self, per_minute: int | None) -> None:
        with self._lock:
            self.per_minute = per_minute
            self._hits.clear()
