"""What one served release of the API says about input that belongs to another.

An operation both documents describe (the same operationId, or one naming the other in
``x-replaces-operation``) serves the same resource on both surfaces. A body field or query
parameter that the other release's operation has and this release's lacks is that release's:
sent here, it is refused (400) rather than ignored, so a client pointed at the wrong surface
learns it at once instead of losing the field. The sets come from the two documents; the
messages from each document's root ``x-error-messages`` (``other-release-field``,
``other-release-query-parameter``) and the other document's ``info.x-release-name``.

Other spellings (``x-alias-of``: the vendor CLI's ``name``/``files``/``agent``) are client
forms, not release facts, so they never count as another release's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..basics.errors import ApiError
from .document import Operation, Spec

REPLACES = "x-replaces-operation"


def counterpart(op: Operation, other: Spec) -> Operation | None:
    """``op``'s operation in the other document: same operationId, or linked by ``x-replaces-operation``."""
    if op.operation_id in other.operations:
        return other.operations[op.operation_id]
    replaced = op.extensions.get(REPLACES)
    if replaced in other.operations:
        return other.operations[replaced]
    return next((o for o in other.operations.values() if o.extensions.get(REPLACES) == op.operation_id), None)


def foreign_inputs(own: Spec, other: Spec) -> dict[str, dict[tuple[str, str], str]]:
    """operationId (of ``own``) -> (``body`` or ``query``, name) -> the 400 message, for each
    input only the other release's version of that operation has."""
    templates: Mapping[str, str] = own.document.get("x-error-messages", {})
    release = other.document.get("info", {}).get("x-release-name")
    if not release or not templates:
        return {}
    found: dict[str, dict[tuple[str, str], str]] = {}
    for op in own.operations.values():
        theirs = counterpart(op, other)
        if theirs is None:
            continue
        inputs: dict[tuple[str, str], str] = {}
        if op.body_schema is not None:
            for name in sorted(theirs.body_fields - op.body_fields):
                inputs["body", name] = templates["other-release-field"].format(field=name, release=release)
        for name in sorted(theirs.query_names - op.query_names):
            inputs["query", name] = templates["other-release-query-parameter"].format(parameter=name, release=release)
        if inputs:
            found[op.operation_id] = inputs
    return found


def refuse_foreign(foreign: Mapping[tuple[str, str], str], query: Mapping[str, Any], body: Any) -> None:
    """Raise the 400 for the first input of ``foreign`` the request carries (body fields first)."""
    for (where, name), message in foreign.items():
        if (where == "body" and isinstance(body, dict) and name in body) or (where == "query" and name in query):
            raise ApiError(400, message)
