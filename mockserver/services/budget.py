"""The byte budget of what clients store: tool, provider and agent records (with what /api/v1
adds to an agent: its policies and model configs), and run event data.

Counts are not enough: one 5 MiB body of ``[{},{},...]`` becomes over 100 MB of Python objects.
So each stored value is charged its JSON size plus ``CONTAINER_BYTES`` per object or list in it
(about what Python spends on an empty one), and a write that would pass ``limit`` is refused
with ``409 limit of N stored bytes reached`` before anything changes.

The limit is the process's, not each workspace's: every workspace's budget draws from one
``BytePool`` (docs/reliability.md, *Memory is bounded*).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Hashable
from typing import Any

from ..basics.errors import ApiError

CONTAINER_BYTES = 64


def stored_size(value: Any) -> int:
    """What keeping ``value`` costs, as charged against the budget."""
    if value is None:
        return 0
    return _text_size(json.dumps(value, separators=(",", ":")))


def _text_size(text: bytes | str) -> int:
    if isinstance(text, bytes):
        return len(text) + CONTAINER_BYTES * (text.count(b"{") + text.count(b"["))
    return len(text) + CONTAINER_BYTES * (text.count("{") + text.count("["))


_DATA_KEY = b',"data":'
_TIMESTAMP_KEY = b',"timestamp":'


def event_data_size(encoded: bytes) -> int:
    """``stored_size`` of a stored run event's ``data``, read off its JSON bytes: the mock
    encodes events with ``data`` right before the closing ``timestamp`` and no object before
    it, so the slice between the two is ``data`` as ``stored_size`` would encode it. An
    event in any other layout is decoded (correct, just slower)."""
    start = encoded.find(_DATA_KEY)
    if start < 0 and b'"data":' not in encoded:
        return 0
    end = encoded.rfind(_TIMESTAMP_KEY)
    if start < 0 or end < start or encoded.count(b"{", 0, start) != 1 or encoded.count(b'"', end) != 4:
        return stored_size(json.loads(encoded).get("data"))
    return _text_size(encoded[start + len(_DATA_KEY) : end])


class BytePool:
    """The process's byte budget: one limit shared by every workspace (``max_stored_bytes``).
    Workspaces draw from it first come, first served: a write is refused (409) when it would
    take the pool past the limit, whichever workspace holds the rest. Its own lock: the
    workspaces' platforms have a lock each."""

    def __init__(self, limit: int):
        self.limit = limit
        self.total = 0
        self._lock = threading.Lock()

    def refused(self) -> ApiError:
        return ApiError(409, f"limit of {self.limit} stored bytes reached")

    def take(self, growth: int, refuse: bool = True) -> None:
        """Add ``growth`` bytes (negative: give them back); with ``refuse``, 409 when a growth
        would pass the limit (nothing is taken then)."""
        with self._lock:
            if refuse and growth > 0 and self.total + growth > self.limit:
                raise self.refused()
            self.total += growth

    def check(self, size: int) -> None:
        if size and self.total + size > self.limit:
            raise self.refused()


class StoreBudget:
    """One workspace's charges per key (a record, or a run's event log), drawn from a
    ``BytePool``; callers hold the platform lock."""

    def __init__(self, pool: BytePool | int):
        self.pool = pool if isinstance(pool, BytePool) else BytePool(pool)
        self.total = 0  # this workspace's share
        self._sizes: dict[Hashable, int] = {}

    @property
    def limit(self) -> int:
        return self.pool.limit

    def charge(self, key: Hashable, value: Any, add: bool = False) -> None:
        """Set (or, with ``add``, grow) the charge of ``key``; ApiError 409 over the limit."""
        size = stored_size(value)
        old = self._sizes.get(key, 0)
        new = old + size if add else size
        self.pool.take(new - old)
        self._sizes[key] = new
        self.total += new - old

    def charge_all(self, sizes: dict[Hashable, int]) -> None:
        """Set the charges of several keys together, or of none (409) when they would pass the
        limit: for a write that stores several records at once."""
        growth = sum(size - self._sizes.get(key, 0) for key, size in sizes.items())
        self.pool.take(growth)
        for key, size in sizes.items():
            self.total += size - self._sizes.get(key, 0)
            self._sizes[key] = size

    def check(self, size: int) -> None:
        """Refuse (409) a write that will store up to ``size`` more; for writes that charge in
        several steps and must not fail half-way."""
        self.pool.check(size)

    def count(self, key: Hashable, size: int) -> None:
        """Record what is already stored (a loaded state), without refusing anything."""
        growth = size - self._sizes.get(key, 0)
        self.pool.take(growth, refuse=False)
        self.total += growth
        self._sizes[key] = size

    def release(self, key: Hashable) -> None:
        size = self._sizes.pop(key, 0)
        self.total -= size
        self.pool.take(-size, refuse=False)

    def clear(self) -> None:
        """Give every charge back (the workspace was reset, dropped or is being recounted)."""
        self.pool.take(-self.total, refuse=False)
        self.total = 0
        self._sizes = {}

    def detach(self) -> None:
        """The workspace was dropped: its bytes go back to the pool, and a request still
        finishing on it charges a pool of its own from now on."""
        self.clear()
        self.pool = BytePool(self.pool.limit)
