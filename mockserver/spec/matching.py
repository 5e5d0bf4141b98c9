"""Path matching inside one OpenAPI document: which path item and operation serve a path.

Follows OpenAPI: a literal path item (``/api/tools/probe``) wins over a templated one
(``/api/tools/{name}``); ``HEAD`` is answered by ``GET``; a path parameter is one non-empty
segment, except a path item's ``x-greedy-path-parameter``, which takes the rest of the path
(slashes included, possibly nothing). Built once per document: a lookup costs a dict lookup for
a literal path, else a few regular expressions of the path items sharing its first segment and
its number of segments, whatever the number of operations. ``router.py`` puts the documents'
mounts in front of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

_ANY = "\x00"  # the index key of path items whose first segment is a parameter


class _Operation(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def keyless(self) -> bool: ...
    @property
    def path_item_extensions(self) -> Mapping[str, Any]: ...


_TEMPLATE_CACHE: dict[tuple[str, str | None], re.Pattern[str]] = {}


def template_regex(template: str, greedy: str | None = None) -> re.Pattern[str]:
    """``{param}`` matches one segment; the ``greedy`` one (``x-greedy-path-parameter``) the
    rest of the path, slashes included, or nothing."""
    key = (template, greedy)
    if key not in _TEMPLATE_CACHE:
        pattern = re.escape(template)
        if greedy:
            pattern = pattern.replace(re.escape("/{" + greedy + "}"), f"(?:/(?P<{greedy}>.*))?")
        _TEMPLATE_CACHE[key] = re.compile(re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", pattern))
    return _TEMPLATE_CACHE[key]


def _malformed_prefix(template: str) -> re.Pattern[str]:
    """What a malformed path of this path item starts with: the template up to its last literal
    segment followed by a parameter (``/api/agents/`` of ``/api/agents/{namespace}/{name}``,
    ``/_workspaces/<any>/_ingress/`` of ``/_workspaces/{workspace}/_ingress/{namespace}/{agent}/invoke``)."""
    segments = template.split("/")
    end = max(
        (i for i in range(1, len(segments)) if "{" in segments[i] and "{" not in segments[i - 1]),
        default=len(segments),
    )
    prefix = "/".join(segments[:end]) + "/"
    return re.compile(re.sub(r"\\{\w+\\}", "[^/]+", re.escape(prefix)))


def first_segment(path: str) -> str:
    parts = path.split("/", 2)
    return parts[1] if len(parts) > 1 else ""


@dataclass(frozen=True)
class PathItem:
    """One path template and its operations, by method."""

    template: str
    regex: re.Pattern[str]
    operations: Mapping[str, Any]  # method -> Operation
    allowed: tuple[str, ...]  # the documented methods, sorted (for ``Allow``)
    keyless: bool  # every operation takes no key (``security: []``)
    greedy: str | None

    def operation(self, method: str) -> Any:
        op = self.operations.get(method)
        if op is None and method == "HEAD":
            op = self.operations.get("GET")
        return op

    def params(self, path: str) -> dict[str, str] | None:
        if path == self.template:
            return {}
        matched = self.regex.fullmatch(path)
        if matched is None:
            return None
        params: dict[str, str] = matched.groupdict()
        if self.greedy is not None and params.get(self.greedy) is None:
            params[self.greedy] = ""  # the greedy parameter took nothing
        return params


class Match(NamedTuple):
    item: PathItem | None  # the path item serving the path (None: none does)
    operation: Any  # its operation for the method (None: a 405 when item is set)
    params: dict[str, str]


_MISS = Match(None, None, {})


class PathTable:
    """One document's path items, indexed for matching."""

    def __init__(self, operations: Iterable[_Operation]):
        by_template: dict[str, dict[str, _Operation]] = {}
        for op in operations:
            by_template.setdefault(op.path, {})[op.method] = op
        self.literal: dict[str, PathItem] = {}
        self.templated: dict[tuple[int, str], list[PathItem]] = {}  # (segments, first segment) -> items
        self.greedy: dict[str, list[PathItem]] = {}  # first segment -> items
        # x-malformed-path-error: (prefix, status, message), for paths under the prefix matching nothing
        self.malformed: list[tuple[re.Pattern[str], int, str]] = []
        keyed: set[str] = set()
        firsts: set[str] = set()
        for template, ops in by_template.items():
            extensions = next(iter(ops.values())).path_item_extensions
            greedy = extensions.get("x-greedy-path-parameter")
            keyless = all(op.keyless for op in ops.values())
            item = PathItem(template, template_regex(template, greedy), ops, tuple(sorted(ops)), keyless, greedy)
            first = first_segment(template)
            firsts.add(first)
            if not keyless:
                keyed.add(first)
            if "{" not in template:
                self.literal[template] = item
            elif greedy:
                self.greedy.setdefault(first, []).append(item)
            else:
                key = (template.count("/"), _ANY if first.startswith("{") else first)
                self.templated.setdefault(key, []).append(item)
            message = extensions.get("x-malformed-path-error")
            if message:
                status = int(extensions.get("x-malformed-path-status", 400))
                self.malformed.append((_malformed_prefix(template), status, message))
        for items in self.templated.values():
            items.sort(key=lambda item: item.template.count("{"))  # the most literal first
        self.keyless_firsts = frozenset(firsts - keyed)

    def lookup(self, method: str, path: str) -> Match:
        """The path item and operation serving ``method path``; for a documented path with an
        undocumented method, the most literal path item and no operation."""
        first: Match | None = None
        literal = self.literal.get(path)
        if literal is not None:
            op = literal.operation(method)
            if op is not None:
                return Match(literal, op, {})
            first = Match(literal, None, {})
        segment = first_segment(path)
        count = path.count("/")
        for items in (
            self.templated.get((count, segment)),
            self.templated.get((count, _ANY)),
            self.greedy.get(segment),
        ):
            if items:
                for item in items:
                    params = item.params(path)
                    if params is None:
                        continue
                    op = item.operation(method)
                    if op is not None:
                        return Match(item, op, params)
                    if first is None:
                        first = Match(item, None, params)
        return first or _MISS

    def malformed_answer(self, path: str) -> tuple[int, str] | None:
        """(status, message) for a path no item serves, under a prefix with x-malformed-path-error."""
        for prefix, status, message in self.malformed:
            matched = prefix.match(path)
            if matched and len(path) > matched.end():
                return status, message
        return None

    def keyless(self, path: str) -> bool:
        """Whether a path no item serves is in a part of the document that takes no key."""
        return first_segment(path) in self.keyless_firsts
