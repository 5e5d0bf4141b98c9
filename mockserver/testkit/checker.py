"""The plugin's conformance observer: every answer a test's mock sends is checked against
its OpenAPI document and remembered (for readable failure messages)."""

from __future__ import annotations

import collections
import threading
from typing import TYPE_CHECKING

from ..spec.conformance import CONTROL_PREFIX

if TYPE_CHECKING:
    from flask import Flask

    from ..web.app import MockServer


class ResponseChecker:
    """Checks each answer of a mock against its document and logs each exchange: an observer of
    the mock's request pipeline (``web/dispatch.py``), which routes the request and checks the
    answer once, against the operation that answered it.

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
        """Observe every answer of the app's mock as it leaves the pipeline."""
        pipeline = self.server.pipeline
        assert pipeline is not None, "an app built by create_app"
        pipeline.observers.append(self.observe)

    def observe(
        self,
        method: str,
        path: str,
        query: str,
        status: int,
        content_type: str,
        body: bytes | None,
        injected_fault: bool,
        problems: list[str],
    ) -> None:
        """One answer and its problems. The control API's own answers are not the test's: left out.
        A streamed body (chat completion chunks, a state export) is not at hand: its status and
        content type are what is checked; SSE events are checked against the spec's per-event
        schema by schemathesis (tests/test_builds_gateway_ingestion.py)."""
        if path.startswith(CONTROL_PREFIX):
            return
        line = f"{method} {path}{'?' + query if query else ''} -> {status}"
        error = _error_text(body) if status >= 400 and body is not None else None
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
