"""A bounded pool for calls that wait on another server (a tool the proxy forwards to, an agent's
endpoint): at most ``slots`` calls at once and at most ``per_caller`` of them for one caller, each
on a daemon thread of its own, so a server that never answers holds only its slot.

A call that finds no free slot is refused at once (``PoolBusy``) instead of taking one of the
threads the rest of the mock is served on; the HTTP glue above turns that into a 503.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


class PoolBusy(Exception):
    """No slot free for this caller (its share or the whole pool is in use)."""


class BoundedPool:
    """``claim`` a slot, then ``start`` the work on it (or ``release`` it unused); ``submit``
    does both. A slot is given back when the work ends, before its result is set, so a caller
    told "done" finds its slot free."""

    def __init__(self, slots: int, per_caller: int):
        self.slots = slots
        self.per_caller = per_caller
        self._free = threading.Condition()
        self._busy: dict[str, int] = {}  # caller -> calls in flight

    def claim(self, caller: str, wait: float = 0.0) -> None:
        """Take one of ``caller``'s slots, waiting up to ``wait`` seconds for one; PoolBusy if none."""
        with self._free:
            if not self._free.wait_for(lambda: self._has_room(caller), timeout=wait):
                raise PoolBusy
            self._busy[caller] = self._busy.get(caller, 0) + 1

    def _has_room(self, caller: str) -> bool:
        return sum(self._busy.values()) < self.slots and self._busy.get(caller, 0) < self.per_caller

    def release(self, caller: str) -> None:
        with self._free:
            left = self._busy[caller] - 1
            if left:
                self._busy[caller] = left
            else:
                del self._busy[caller]
            self._free.notify_all()

    def start(self, caller: str, work: Callable[[], T]) -> Future[T]:
        """Run ``work`` on the slot ``caller`` claimed; the slot is released when it ends."""
        future: Future[T] = Future()

        def run() -> None:
            try:
                result = work()
            except BaseException as exc:
                self.release(caller)
                future.set_exception(exc)
            else:
                self.release(caller)
                future.set_result(result)

        threading.Thread(target=run, name="runagents-mock-call", daemon=True).start()
        return future

    def submit(self, caller: str, work: Callable[[], T]) -> Future[T]:
        """Claim a slot (PoolBusy when there is none) and start ``work`` on it."""
        self.claim(caller)
        return self.start(caller, work)

    def in_flight(self, caller: str | None = None) -> int:
        """Calls running now: ``caller``'s, or all."""
        with self._free:
            return self._busy.get(caller, 0) if caller is not None else sum(self._busy.values())
