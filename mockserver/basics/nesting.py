"""How deep JSON may nest anywhere in the mock (request bodies, fixtures, state documents)."""

from __future__ import annotations

import json
from typing import Any

# Deepest JSON accepted anywhere (bodies, fixtures, state): deeper input could make recursive
# code (validation, copies, redaction) hit Python's recursion limit.
MAX_NESTING = 64
_NESTED = (dict, list)
_NESTED_OR_RAW = (dict, list, bytes)


def nesting_problem(value: Any, what: str = "body", limit: int = MAX_NESTING) -> str | None:
    """``"<what> is nested too deeply (...)"`` naming where, when ``value`` nests deeper than
    ``limit``; None otherwise.

    Iterative (hostile depth cannot overflow the stack here) and linear with a small constant:
    one frame per open container, holding the keys of its container children still to visit,
    and no path string until the one reported (a 4 MB body of ``[{},{},...]`` is a million
    containers: bench/README.md, *Nesting check*). Children are visited last first, so the
    container reported is the first too-deep one in that order, as it always was."""
    if not isinstance(value, _NESTED):
        return None
    if limit <= 0:
        return _problem(what, limit, [], [])
    if not _may_be_too_deep(value, limit):
        return None
    frames: list[tuple[Any, list[Any]]] = [(value, _children(value, 0, limit))]
    entered: list[Any] = []  # entered[i]: the key of frames[i + 1] in frames[i]
    while frames:
        node, keys = frames[-1]
        if not keys:
            frames.pop()
            if entered:
                entered.pop()
            continue
        key = keys.pop()
        if type(key) is tuple:  # (index, decoded JSON bytes)
            key, child = key
        else:
            child = list.__getitem__(node, key) if isinstance(node, list) else node[key]
        depth = len(frames)
        if depth >= limit:
            return _problem(what, limit, [node for node, _ in frames], [*entered, key])
        children = _children(child, depth, limit)
        if children:  # a container with none below it needs no frame
            entered.append(key)
            frames.append((child, children))
    return None


def _may_be_too_deep(value: dict[Any, Any] | list[Any], limit: int) -> bool:
    """The fast pass: level by level, keeping only the containers that could reach ``limit``
    (about 5x faster than the walk below, which then runs only to name the place). True when
    a container sits at depth ``limit``, or when JSON bytes are held (the walk decodes them)."""
    level: list[Any] = [value]
    for depth in range(1, limit + 1):
        children = (c for node in level for c in (node.values() if isinstance(node, dict) else list.__iter__(node)))
        if depth < limit:
            level = [c for c in children if c and isinstance(c, _NESTED_OR_RAW)]
        else:
            level = [c for c in children if isinstance(c, _NESTED_OR_RAW)]
        if not level:
            return False
        if bytes in map(type, level):
            return True
    return True


def _children(node: Any, depth: int, limit: int) -> list[Any]:
    """Keys of ``node``'s children that are containers (at ``depth`` + 1), in order. An empty
    child that cannot reach ``limit`` is left out: nothing below it can be too deep."""
    deep_enough = depth + 1 >= limit
    if isinstance(node, dict):
        if deep_enough:
            return [k for k, v in node.items() if isinstance(v, _NESTED)]
        return [k for k, v in node.items() if v and isinstance(v, _NESTED)]
    # list.__iter__: the items as held, so records kept as JSON bytes (run events, also behind a
    # decoding view) are decoded only when they have brackets enough to be deep.
    if bytes in map(type, list.__iter__(node)):
        keys = [i for i, v in enumerate(list.__iter__(node)) if isinstance(v, _NESTED_OR_RAW)]
        return [k for k in (_decoded(node, i, depth, limit) for i in keys) if k is not None]
    if deep_enough:
        return [i for i, v in enumerate(list.__iter__(node)) if isinstance(v, _NESTED)]
    return [i for i, v in enumerate(list.__iter__(node)) if v and isinstance(v, _NESTED)]


def _decoded(node: list[Any], index: int, depth: int, limit: int) -> Any:
    raw = list.__getitem__(node, index)
    if type(raw) is not bytes:
        return index
    if not may_nest_deeply(raw, limit - depth - 1):
        return None
    value = json.loads(raw)
    return (index, value) if isinstance(value, _NESTED) else None


def _problem(what: str, limit: int, parents: list[Any], keys: list[Any]) -> str:
    where = what + "".join(f"[{key}]" if isinstance(parent, list) else f".{key}" for parent, key in zip(parents, keys))
    return f"{what} is nested too deeply (more than {limit} levels at {where})"


def may_nest_deeply(raw: bytes | str, limit: int = MAX_NESTING) -> bool:
    """Cheap pre-check on raw JSON: fewer brackets than ``limit`` cannot nest deeper."""
    if isinstance(raw, str):
        return raw.count("{") + raw.count("[") > limit
    return raw.count(b"{") + raw.count(b"[") > limit
