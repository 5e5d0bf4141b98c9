"""``python -m bench.nesting [--repeat N]``: the nesting check on 4 MB wide bodies (issue 23 item 10).

Every JSON body with more brackets than the nesting limit goes through
``basics.nesting.nesting_problem`` on the thread that serves it (on granian: the event loop),
so its cost per container is what one hostile client can make every other client wait. This
times it, and the JSON decode before it for scale, on the shapes that cost the most per byte.
The test suite checks only what it answers (tests/unit/test_nesting.py); speed is measured here.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial

from mockserver.basics.nesting import nesting_problem

BODY_BYTES = 4 * 1024 * 1024


def _wide(item: bytes) -> bytes:
    """``[item,item,...]`` of about BODY_BYTES."""
    return b"[" + b",".join([item] * (BODY_BYTES // (len(item) + 1))) + b"]"


SHAPES: dict[str, Callable[[], bytes]] = {
    "[{},{},...]": lambda: _wide(b"{}"),
    '[{"a":[1]},...]': lambda: _wide(b'{"a":[1]}'),
    "[[[[[[[[1]]]]]]]],...]": lambda: _wide(b"[" * 8 + b"1" + b"]" * 8),
    "wide, then 65 deep (refused)": lambda: _wide(b"{}")[:-1] + b"," + b"[" * 65 + b"]" * 65 + b"]",
}


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.nesting", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="runs per shape; the best CPU time is reported")
    args = parser.parse_args(argv)
    print(f"| body ({BODY_BYTES // 1024 // 1024} MB) | json.loads, ms | nesting_problem, ms | answer |")
    print("|---|---|---|---|")
    for name, make in SHAPES.items():
        raw = make()
        value = json.loads(raw)
        decode = _best(partial(json.loads, raw), args.repeat)
        check = _best(partial(nesting_problem, value, "request body"), args.repeat)
        answer = nesting_problem(value, "request body") or "accepted"
        print(f"| `{name}` | {decode * 1000:.0f} | {check * 1000:.0f} | {answer} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
