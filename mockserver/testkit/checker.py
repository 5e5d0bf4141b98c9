"""The plugin's conformance observer: every answer a test's mock sends is checked against
its OpenAPI document and remembered (for readable failure messages)."""

from __future__ import annotations

import collections
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.wrappers import Response

    from ..web.app import MockServer


class ResponseChecker:
    """WSGI middleware that checks each API response against the spec and logs each exchange.

    Problems are kept until the next reset; ``pytest_runtest_call`` reads them.
    """

    def __init__(self, server: MockServer, log_size: int = 200):
        self.server = server
        self._lock = threading.Lock()
        self.problems: list[str] = []
        self.documents: set[str] = set()  # the OpenAPI documents the problems break
        # "POST /runs -> 400 user_id is required", for failure messages.
        self.exchanges: collections.deque[str] = collections.deque(maxlen=log_size)

    def install(self, app: Flask) -> None:
        """Wrap the app's WSGI callable: every API answer is checked as it leaves the mock."""
        from werkzeug.wrappers import Response

        inner = app.wsgi_app

        def checked(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("PATH_INFO", "").startswith("/_mock/"):
                return inner(environ, start_response)
            response = Response.from_app(inner, environ, buffered=False)
            self.record(
                environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), response
            )
            return response(environ, start_response)

        app.wsgi_app = checked  # type: ignore[method-assign]

    def record(self, method: str, path: str, query: str, response: Response) -> None:
        from ..spec.conformance import served_response_problems
        from ..surface.faults import FAULT_HEADER

        # A streamed body (chat completion chunks) must not be consumed here, so its status
        # and content type are what is checked; its events are checked against the spec's
        # per-event schema by schemathesis (tests/test_builds_gateway_ingestion.py).
        body = b"" if response.mimetype == "text/event-stream" else response.get_data()
        problems = served_response_problems(
            self.server.surfaces,
            method,
            path,
            response.status_code,
            response.headers.get("Content-Type"),
            body,
            injected_fault=FAULT_HEADER in response.headers,
        )
        line = f"{method} {path}{'?' + query if query else ''} -> {response.status_code}"
        error = _error_text(body) if response.status_code >= 400 else None
        with self._lock:
            self.exchanges.append(f"{line} {error}" if error else line)
            self.problems.extend(problems)
            if problems:
                self.documents.add(self.server.surfaces.locate(path).surface.document)

    def clear(self) -> None:
        with self._lock:
            self.problems.clear()
            self.documents.clear()
            self.exchanges.clear()

    def report(self) -> str:
        """The problems as a readable list (repeats counted), or "" when there are none."""
        with self._lock:
            counts = collections.Counter(self.problems)
        if not counts:
            return ""
        lines = [f"  - {p}" + (f"  (x{n})" if n > 1 else "") for p, n in counts.items()]
        return (
            f"runagents-mock sent {sum(counts.values())} response(s) that do not match "
            f"{' or '.join(sorted(self.documents))}:\n" + "\n".join(lines)
        )


def _error_text(body: bytes) -> str | None:
    from ..basics.jsonhttp import json_or_none

    payload = json_or_none(body)
    return payload.get("error") if isinstance(payload, dict) and isinstance(payload.get("error"), str) else None
