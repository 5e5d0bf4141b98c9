"""Does a response match its document? Shared by the mock's strict mode, our tests, the pytest
plugin, the validating proxy and users.

``response_issues`` checks against the document it is given (no document is swapped in by
path); ``served_response_problems`` first asks the router which served document answers the path
(``openapi.yaml``, ``openapi-v1.yaml`` under ``/api/v1``, ``mock-openapi.yaml`` for ``/_mock/``
and the runtime path)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .document import Operation, ResponseIssue, Spec
from .paths import is_page

if TYPE_CHECKING:
    from .surfaces import Surfaces

CONTROL_PREFIX = "/_mock/"
UNDOCUMENTED_PATH = "undocumented_path"  # the check name of a success from a path the spec lacks
ERROR_SHAPE = "error_shape_conformance"


def response_issues(
    spec: Spec,
    method: str,
    path: str,
    status: int,
    content_type: str | None,
    body: bytes | None,
    injected_fault: bool = False,
) -> list[ResponseIssue]:
    """Every way this response departs from ``spec``, each with its check and JSON path.

    Responses to paths the spec does not describe (unknown paths, wrong methods, malformed
    agent paths, auth failures before routing) must still be the documented error shape, and
    so must errors injected with /_mock/faults (marked by the ``X-Mock-Fault`` header), whose
    status is whatever the test asked for. ``body`` None: not at hand (too large to keep), so
    only the status and the content type are checked.
    """
    if is_page(path):  # not an API: the web pages
        return []
    op = None if injected_fault else spec.find(method, path)
    return operation_issues(spec, op, path, status, content_type, body, injected_fault)


def operation_issues(
    spec: Spec,
    op: Operation | None,
    path: str,
    status: int,
    content_type: str | None,
    body: bytes | None,
    injected_fault: bool = False,
) -> list[ResponseIssue]:
    """``response_issues`` for an answer whose operation is known (None: no operation answers it)."""
    if injected_fault:
        return _error_shape_issues(status, content_type, body)
    if op is not None and not (status == 404 and path.startswith(CONTROL_PREFIX) and "404" not in op.responses):
        return spec.response_issues(op, status, content_type or "", body)
    # (a 404 from a control route is the control API turned off: an unknown path, as below)
    if status < 400:
        return [ResponseIssue(UNDOCUMENTED_PATH, status, "", f"{status} from a path the spec does not describe")]
    return _error_shape_issues(status, content_type, body)


def response_problems(
    spec: Spec, method: str, path: str, status: int, content_type: str | None, body: bytes, injected_fault: bool = False
) -> list[str]:
    """``response_issues`` one line each; empty when the response conforms."""
    return [
        issue.describe(method, path)
        for issue in response_issues(spec, method, path, status, content_type, body, injected_fault)
    ]


def served_response_problems(
    surfaces: Surfaces,
    method: str,
    path: str,
    status: int,
    content_type: str | None,
    body: bytes,
    injected_fault: bool = False,
) -> list[str]:
    """``response_problems`` against the document the router says serves ``path``."""
    if is_page(path):
        return []
    route = surfaces.router.route(method, path)
    return [
        issue.describe(method, route.path)
        for issue in operation_issues(
            route.spec, None if injected_fault else route.operation, path, status, content_type, body, injected_fault
        )
    ]


def _error_shape_issues(status: int, content_type: str | None, body: bytes | None) -> list[ResponseIssue]:
    def issue(message: str, where: str = "") -> list[ResponseIssue]:
        return [ResponseIssue(ERROR_SHAPE, status, where, message)]

    if (content_type or "").split(";")[0].strip() != "application/json":
        return issue(f"error content type is {content_type!r}, not application/json")
    if body is None:
        return []
    try:
        payload: Any = json.loads(body)
    except (ValueError, RecursionError):
        return issue("error body is not JSON")
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), str):
        return issue("error body lacks a string 'error' field", "error")
    return []
