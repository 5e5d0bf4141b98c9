"""The one implementation of ``services.invoker.OperationInvoker``: an operation of one served
document, run in-process as a client's request would run (validated from the document, then its
handler)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ..basics.errors import ApiError
from ..spec.document import ApiRequest, Spec


class SpecInvoker:
    def __init__(self, spec: Spec, handlers: Mapping[str, Callable[..., Any]]):
        self.spec = spec
        self.handlers = handlers

    def parse(self, operation_id: str, body: Any, path: Mapping[str, str] | None = None) -> ApiRequest:
        op = self.spec.operations[operation_id]
        return op.parse(dict(path or {}), {}, {}, json.dumps(body).encode())

    def call(
        self, platform: Any, operation_id: str, body: Any, path: Mapping[str, str] | None = None
    ) -> tuple[int, Any]:
        request = self.parse(operation_id, body, path)
        status, payload, *_ = self.handlers[operation_id](platform, request)
        return status, payload

    def problem(self, operation_id: str, body: Any) -> str | None:
        try:
            self.parse(operation_id, body)
        except ApiError as exc:
            return exc.message
        return None

    def schema_problem(self, schema: str, value: Any) -> str | None:
        return self.spec.component_validator(schema).first_error(value)

    def schema_extension(self, schema: str, key: str) -> Any:
        return self.spec.document["components"]["schemas"][schema][key]
