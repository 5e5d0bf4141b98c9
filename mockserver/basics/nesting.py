"""How deep JSON may nest anywhere in the mock (request bodies, fixtures, state documents)."""

from __future__ import annotations

import json
from typing import Any

# Deepest JSON accepted anywhere (bodies, fixtures, state): deeper input could make recursive
# code (validation, copies, redaction) hit Python's recursion limit.
MAX_NESTING = 64


def nesting_problem(value: Any, what: str = "body", limit: int = MAX_NESTING) -> str | None:
    """``"<what> is nested too deeply (...)"`` naming where, when ``value`` nests deeper than
    ``limit``; None otherwise. Iterative, so hostile depth cannot overflow the stack here."""
    stack: list[tuple[Any, str, int]] = [(value, what, 0)]
    while stack:
        node, where, depth = stack.pop()
        if isinstance(node, dict):
            children = [(v, f"{where}.{k}", depth + 1) for k, v in node.items() if isinstance(v, (dict, list))]
        elif isinstance(node, list):
            children = []
            # list.__iter__: the items as held, so records kept as JSON bytes (run events, also
            # behind a decoding view) are decoded only when they have brackets enough to be deep.
            for i, v in enumerate(list.__iter__(node)):
                if type(v) is bytes:
                    if not may_nest_deeply(v, limit - depth - 1):
                        continue
                    v = json.loads(v)
                if isinstance(v, (dict, list)):
                    children.append((v, f"{where}[{i}]", depth + 1))
        else:
            continue
        if depth >= limit:
            return f"{what} is nested too deeply (more than {limit} levels at {where})"
        stack.extend(children)
    return None


def may_nest_deeply(raw: bytes | str, limit: int = MAX_NESTING) -> bool:
    """Cheap pre-check on raw JSON: fewer brackets than ``limit`` cannot nest deeper."""
    if isinstance(raw, str):
        return raw.count("{") + raw.count("[") > limit
    return raw.count(b"{") + raw.count(b"[") > limit
