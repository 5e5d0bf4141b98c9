"""Load generators: wrk when installed, else a pure-Python fallback."""

from __future__ import annotations

from .base import LoadGenerator, LoadResult, LoadSpec
from .pyload import PythonLoad
from .wrk import WrkLoad

__all__ = ["LoadGenerator", "LoadResult", "LoadSpec", "choose"]


def choose(preference: str = "auto") -> LoadGenerator:
    """``auto``: wrk if on PATH, else Python. ``wrk`` fails when wrk is missing."""
    if preference in ("auto", "wrk"):
        wrk = WrkLoad.find()
        if wrk is not None:
            return wrk
        if preference == "wrk":
            raise SystemExit("wrk is not installed (apt-get install wrk), use --loadgen python")
        print("wrk not found: using the pure-Python load generator (lower absolute numbers)", flush=True)
    return PythonLoad()
