"""Run a mock on a real port in a background thread (for fixtures, tests and benchmarks)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask
from waitress.server import create_server

from ..web.app import MockServer, create_app


class LiveServer:
    """``with LiveServer() as live: requests.get(live.url + "/api/agents", ...)``."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        app: Flask | None = None,
        host: str = "127.0.0.1",
        threads: int = 8,
        **server_options: Any,
    ):
        """``app``: any WSGI app (default: a mock built from ``config``); ``server_options``:
        more of waitress' settings (``send_bytes=1`` sends each chunk at once, for streams)."""
        self.app = app or create_app(config)
        self._server = create_server(
            self.app, host=host, port=0, threads=threads, **{"ident": "runagents-mock", **server_options}
        )
        self.url = f"http://{host}:{self._server.effective_port}"
        self._thread = threading.Thread(target=self._server.run, name="runagents-mock", daemon=True)

    @property
    def mock(self) -> MockServer:
        """The app's MockServer: spec, platform, journal, faults."""
        server: MockServer = self.app.extensions["runagents_mock"]  # set by create_app
        return server

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop at once, even when clients keep keep-alive connections open.

        Waitress' loop only returns when nothing is left to serve, so let the worker threads
        finish, then close every connection, the listener and the wake-up pipe on the serving
        thread itself (waitress runs callables passed to its trigger there).
        """
        server = self._server
        if self._thread.is_alive():
            server.task_dispatcher.shutdown(timeout=1)
            closed = threading.Event()

            def close_everything() -> None:
                for dispatcher in list(server._map.values()):
                    # Connections clean up in handle_close; the listener and the pipe only close.
                    is_connection = dispatcher is not server and dispatcher is not server.trigger
                    dispatcher.handle_close() if is_connection else dispatcher.close()
                closed.set()

            try:
                server.trigger.pull_trigger(close_everything)
            except OSError:
                # The wake-up pipe is already closed (a rare waitress race, seen under load; see
                # Pylons/waitress#468): close from this thread; the loop ends with an empty map.
                close_everything()
            closed.wait(timeout=1)
            self._thread.join(timeout=5)
        else:
            server.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
