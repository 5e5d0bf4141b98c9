"""Put the run's name prefix (``contract-test-``) on every name a request sends.

Everything a run creates must be recognisable, and cleanup deletes by that prefix, so names
are rewritten right before each request is sent. That is later than schemathesis' ``map_body``
hook, on purpose: the hook never sees the spec's explicit examples (``stripe-api``...), and
link-filled values arrive after generation. Values that already carry the prefix (they came
back from an earlier response through a link) are left alone.

Names are also reduced to lowercase letters, digits and dashes (at most 63 characters, like
the Kubernetes names the platform stores): a name with a ``/`` in it can be created but not
addressed in a URL, so it could never be deleted again.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase  # Case[the OpenAPI operation]

# Top-level request-body fields that name a resource the request creates or refers to.
# Referred-to names get the prefix too, so a test agent is never attached to a real tool.
NAME_FIELDS = ("name", "agent_name", "agent_id", "subject", "tool_id", "identity_provider")
# Body fields holding lists of names, and lists of objects with a ``name``.
NAME_LIST_FIELDS = ("required_tools", "policies")
NAMED_OBJECT_LIST_FIELDS = ("tools_to_create",)
# Path parameters naming an existing resource; on writes (DELETE /api/tools/{name}, ...) a
# generated name must never hit a real resource.
NAME_PATH_PARAMETERS = ("name",)

MAX_NAME_LENGTH = 63
_NOT_NAME_CHARACTER = re.compile(r"[^a-z0-9-]+")


def prefixed(value: str, prefix: str) -> str:
    """``prefix`` + a tidy form of ``value``; unchanged if it already starts with ``prefix``."""
    if value.startswith(prefix):
        return value
    tidy = _NOT_NAME_CHARACTER.sub("-", value.lower()).strip("-") or "x"
    return (prefix + tidy)[:MAX_NAME_LENGTH].rstrip("-")


def _prefixed_body(body: Any, prefix: str) -> Any:
    if not isinstance(body, dict):
        return body
    new = dict(body)
    for key in NAME_FIELDS:
        if isinstance(new.get(key), str):
            new[key] = prefixed(new[key], prefix)
    for key in NAME_LIST_FIELDS:
        if isinstance(new.get(key), list):
            new[key] = [prefixed(v, prefix) if isinstance(v, str) else v for v in new[key]]
    for key in NAMED_OBJECT_LIST_FIELDS:
        if isinstance(new.get(key), list):
            new[key] = [
                {**item, "name": prefixed(item["name"], prefix)}
                if isinstance(item, dict) and isinstance(item.get("name"), str)
                else item
                for item in new[key]
            ]
    return new


def _body_is_invalid_on_purpose(case: OpenApiCase) -> bool:
    """A negative case whose body breaks the spec: tidying its names could make it valid."""
    from schemathesis.core.parameters import ParameterLocation

    meta = getattr(case, "meta", None)
    component = meta.components.get(ParameterLocation.BODY) if meta is not None else None
    return component is not None and component.mode.is_negative


def apply_name_prefix(case: OpenApiCase, prefix: str) -> None:
    """Rewrite ``case`` in place so every name it sends carries ``prefix``.

    A body that is invalid on purpose is sent as generated: a conforming server refuses it,
    so it creates nothing, and rewriting it could turn it valid and hide that refusal.
    """
    if not _body_is_invalid_on_purpose(case):
        body = _prefixed_body(case.body, prefix)
        if body != case.body:
            case.body = body  # assignment (not mutation) lets schemathesis revalidate the case
    if case.method.upper() != "GET" and case.path_parameters:
        params = {
            key: prefixed(value, prefix) if key in NAME_PATH_PARAMETERS and isinstance(value, str) else value
            for key, value in case.path_parameters.items()
        }
        if params != case.path_parameters:
            case.path_parameters = params
