"""Does a response match its document (openapi.yaml; mock-openapi.yaml for /_mock/ and the runtime path)? Shared by our tests, the pytest plugin and users."""

from __future__ import annotations

import json
from typing import Any

from .runtime.paths import is_runtime_path
from .spec import Spec, mock_spec_path

CONTROL_PREFIX = "/_mock/"


def response_problems(spec: Spec, method: str, path: str, status: int,
                      content_type: str | None, body: bytes, injected_fault: bool = False) -> list[str]:
    """Every way this response departs from the spec; empty when it conforms.

    Responses to paths the spec does not describe (unknown paths, wrong methods, malformed
    agent paths, auth failures before routing) must still be the documented error shape, and
    so must errors injected with /_mock/faults (marked by the ``X-Mock-Fault`` header), whose
    status is whatever the test asked for.
    """
    if path.startswith(CONTROL_PREFIX) or is_runtime_path(path):
        spec = Spec.load(mock_spec_path())  # the mock's own surface: the second document
    if injected_fault:
        return _error_shape_problems(method, path, status, content_type, body)
    op = spec.find(method, path)
    if op is not None and not (status == 404 and path.startswith(CONTROL_PREFIX) and "404" not in op.responses):
        return spec.response_errors(op, status, content_type or "", body)
    # (a 404 from a control route is the control API turned off: an unknown path, as below)
    if status < 400:
        return [f"{method} {path}: {status} from a path the spec does not describe"]
    return _error_shape_problems(method, path, status, content_type, body)


def _error_shape_problems(method: str, path: str, status: int, content_type: str | None,
                          body: bytes) -> list[str]:
    where = f"{method} {path} {status}"
    if (content_type or "").split(";")[0].strip() != "application/json":
        return [f"{where}: error content type is {content_type!r}, not application/json"]
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return [f"{where}: error body is not JSON"]
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), str):
        return [f"{where}: error body lacks a string 'error' field"]
    return []
