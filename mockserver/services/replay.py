"""Operations called in-process, as a client would call them: the body is validated against
the operation's schema, then its handler runs. Action plans (``/api/v1/actions/*``) use it to
run their steps; each workspace's platform holds one (``Platform.replay``)."""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from ..basics.errors import ApiError
from ..spec.document import ApiRequest, Spec


class OperationReplay:
    def __init__(self, spec: Spec, handlers: Mapping[str, Callable[..., Any]]):
        self.spec = spec
        self.handlers = handlers

    def parse(self, operation_id: str, body: Any) -> ApiRequest:
        """The request a client sending ``body`` would make; ApiError when it is invalid."""
        op = self.spec.operations[operation_id]
        return op.parse({}, {}, {}, json.dumps(body).encode())

    def call(self, platform: Any, operation_id: str, body: Any) -> tuple[int, Any]:
        request = self.parse(operation_id, body)
        status, payload, *_ = self.handlers[operation_id](platform, request)
        return status, payload

    def problem(self, operation_id: str, body: Any) -> str | None:
        try:
            self.parse(operation_id, body)
        except ApiError as exc:
            return exc.message
        return None
