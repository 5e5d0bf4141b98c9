"""One clock for the whole mock: real time plus an offset tests can move forward."""

from __future__ import annotations

import math
import re
import threading
import time
from datetime import UTC, datetime

# The latest the clock may show: timestamps are RFC 3339 with a four-digit year, and expiries
# run up to MAX_DURATION_SECONDS past the clock, so the clock stops a century short of 9999.
MAX_CLOCK_SECONDS = datetime(9899, 1, 1, tzinfo=UTC).timestamp()


def clock_offset_problem(seconds: float, absolute: bool = False) -> str | None:
    """Why the clock cannot be ``seconds`` ahead of real time (or, ``absolute``, at ``seconds``
    since 1970); None when it can."""
    if not math.isfinite(seconds):
        return "must be a finite number"
    at = seconds if absolute else time.time() + seconds
    if seconds < 0 and not absolute:
        return "must not be negative (the clock only moves forward)"
    if not 0 <= at <= MAX_CLOCK_SECONDS:
        return "would put the clock outside 1970-01-01 .. 9899-01-01"
    return None


class Clock:
    def __init__(self, offset: float = 0.0):
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as the mock sees them."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move forward; ValueError (and no move) beyond what timestamps can represent."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            problem = clock_offset_problem(self._offset + seconds)
            if problem:
                raise ValueError(f"cannot advance the clock: it {problem}")
            self._offset += seconds
            return self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def reset(self) -> None:
        self.set_offset(0.0)

    def set_offset(self, seconds: float) -> None:
        """Used when state is restored: the restored clock may be ahead of real time."""
        with self._lock:
            self._offset = seconds


def iso(ts: float) -> str:
    """RFC 3339 in UTC with a ``Z``, second precision, as the vendor's examples show."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_DURATION_PART = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """``30m``, ``4h``, ``1d``, ``1h30m`` -> seconds. Raises ValueError on anything else."""
    parts = _DURATION_PART.findall(text or "")
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"invalid duration {text!r}")
    # No bound here: the spec's Duration pattern is the bound (each unit once, at most 6
    # digits: under 2,900 years, so an expiry time stays representable).
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
