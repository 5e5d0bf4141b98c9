"""What domain code may ask of the API's operations, without reading the raw spec or calling
HTTP handlers itself: validate a body as a client's request, run an operation in-process, read
a schema's checks. Implemented once, in the HTTP layer (``web/invoker.py``); seeds
(``surface/seed.py``) and action plans (``services/actions/models.py``) use it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class OperationInvoker(Protocol):
    def parse(self, operation_id: str, body: Any, path: Mapping[str, str] | None = None) -> Any:
        """The parsed request a client sending ``body`` would make; ApiError when it is invalid."""
        ...

    def call(
        self, platform: Any, operation_id: str, body: Any, path: Mapping[str, str] | None = None
    ) -> tuple[int, Any]:
        """Run the operation on ``platform`` as a client's request would: (status, payload)."""
        ...

    def problem(self, operation_id: str, body: Any) -> str | None:
        """Why ``body`` is not a valid request of the operation, or None."""
        ...

    def schema_problem(self, schema: str, value: Any) -> str | None:
        """Why ``value`` does not fit ``components/schemas/<schema>``, or None."""
        ...

    def schema_extension(self, schema: str, key: str) -> Any:
        """A key of ``components/schemas/<schema>``: an ``x-`` extension (what action types
        call, error messages) or its ``properties``."""
        ...
