"""Servers for a test session: one per distinct configuration, started on first use."""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import Any

from .checker import ResponseChecker
from .handle import MockHandle


class ServerPool:
    """Starts a mock server per distinct configuration on first use; stops them all."""

    def __init__(self, strict: bool):
        self.strict = strict
        self._handles: dict[str, MockHandle] = {}

    def get(self, config: Mapping[str, Any] | None = None) -> MockHandle:
        key = repr(sorted((config or {}).items()))
        if key not in self._handles:
            self._handles[key] = self._start(config or {})
        return self._handles[key]

    def _start(self, config: Mapping[str, Any]) -> MockHandle:
        # Starting a server allocates much and frees little (modules, the parsed documents):
        # the cyclic collector's passes over it were a fifth of a session's start-up. So it is
        # paused, what the start made is moved to the oldest generation unscanned (freeze, then
        # unfreeze: the first request would otherwise pay a young collection of all of it), and
        # it runs again as before.
        collecting = gc.isenabled()
        gc.disable()
        try:
            from ..web.app import create_app
            from .live_server import LiveServer

            # The checker is the strict layer here: it must see what the mock answered, not the 500
            # that the app's own strict_responses check would put in its place.
            app = create_app({"strict_responses": False, **config})
            checker = ResponseChecker(app.extensions["runagents_mock"])
            checker.install(app)
            return MockHandle(LiveServer(app=app).start(), checker, strict=self.strict)
        finally:
            if not gc.get_freeze_count():  # never thaw what the session itself froze
                gc.freeze()
                gc.unfreeze()
            if collecting:
                gc.enable()

    def stop_all(self) -> None:
        for handle in self._handles.values():
            handle.close()
            handle.live.stop()
            if handle.live.mock.agent_runner is not None:  # its agent processes end with it
                handle.live.mock.agent_runner.stop_all()
        self._handles.clear()
